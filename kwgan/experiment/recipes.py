"""A small recipe search at reduced length, ranked by KID, before full-budget runs.

Lucic et al. 2018 ("Are GANs Created Equal?", §5) found that a model's best FID on
Fashion-MNIST depends more on its hyperparameters than on its loss, and chose each model's
row from a search of 100 settings. This is the honest small version of that search for one
network (`--arch infogan`, the study's): a handful of recipes from the papers, each trained
for the same reduced number of generator iterations with a generator average, and ranked by
KID of `kid_samples` samples against the test split (KID is unbiased at any sample count,
where FID's bias depends on it; Bińkowski et al. 2018, §3). The winner is then run at full
length with several seeds (`experiments/lsun.py`); the ranking at reduced length is only
evidence for that choice, and the table says how many recipes were tried.

The recipes (`RECIPES`), each `ImageConfig` fields on top of the shared ones:

* `ns-gan`: the non-saturating GAN with its DCGAN optimizer, Adam 2e-4, β1 = 0.5;
* `ns-gan_ttur`: the same with two time-scales, critic 4e-4, generator 1e-4 (Heusel et al.
  2017, "GANs trained by a two time-scale update rule"; SAGAN's 4e-4 / 1e-4);
* `ns-gan_beta0`: Adam β1 = 0, as WGAN-GP and SAGAN train;
* `ns-gan_2critic`: two critic steps per generator step;
* `wgan-gp`: WGAN-GP with the paper's settings (5 critic steps, Adam 1e-4, β = (0, 0.9),
  λ = 10): its Algorithm 1;
* `wgan-gp_ttur`: one critic step at 3e-4, the generator at 1e-4 (TTUR's WGAN-GP rates);
* `wgan-gp_ttur_one-sided`: the same with the one-sided penalty (WGAN-GP Appendix C);
* `lsgan_adam`: LSGAN with Adam 2e-4, β1 = 0.5 (Mao et al. 2017 train with Adam; kwgan's
  default LSGAN is the WGAN paper's RMSProp 1e-4 comparison).

Writes into `out`: one image run per recipe (its printed output in its log.txt),
recipes.json and recipes.md (the recipes ranked by the averaged generator's KID, with FID,
precision, recall, density, coverage, the raw generator's FID and KID, and seconds per
generator iteration) and recipes.png (samples of each recipe, best first). A rerun resumes
the recipe a killed sweep was in and leaves the finished ones alone.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

import kwgan
from kwgan.errors import ConfigError
from kwgan.experiment import images, sweeps
from kwgan.experiment.config import option, out_option, seed_option

RECIPES: dict[str, dict[str, Any]] = {
    "ns-gan": {"objective": "dcgan"},
    "ns-gan_ttur": {"objective": "dcgan", "lr": 1e-4, "critic_lr": 4e-4},
    "wgan-gp_ttur": {"objective": "wgan-gp", "critic_steps": 1, "lr": 1e-4, "critic_lr": 3e-4},
    "wgan-gp_ttur_one-sided": {
        "objective": "wgan-gp",
        "critic_steps": 1,
        "lr": 1e-4,
        "critic_lr": 3e-4,
        "penalty": "one-sided",
    },
    "wgan-gp": {"objective": "wgan-gp"},
    "ns-gan_beta0": {"objective": "dcgan", "beta1": 0.0},
    "lsgan_adam": {"objective": "lsgan", "optimizer": "adam", "lr": 2e-4, "beta1": 0.5},
    "ns-gan_2critic": {"objective": "dcgan", "critic_steps": 2},
}  # in the order they train: the full-budget rows' objectives and their likeliest rivals first
SAMPLES_SHOWN = 10  # per recipe in recipes.png
# The final scores of each generator, averaged and raw, that a row reports.
SCORES = ("fid", "kid", "precision", "recall", "density", "coverage")


@dataclasses.dataclass(frozen=True)
class RecipesConfig(sweeps.ScoredSweepConfig):
    """The search; the defaults are the study's network and data at 2 000 generator
    iterations (13 % of its 15 625), KID of 2 000 samples."""

    ema_decay: float = sweeps.ema_decay_option()
    ema_start: int = sweeps.ema_start_option()
    seed: int = seed_option("Seed of every recipe.")
    precision: str = option(
        "float32", "Numeric precision of every recipe.", choices=kwgan.precision.PRECISIONS
    )
    recipes: tuple[str, ...] = option(
        tuple(RECIPES), "Recipes to train, in this order.", choices=tuple(RECIPES)
    )
    out: str = out_option("runs/recipes")

    def validate(self) -> None:
        if not self.recipes:
            raise ConfigError(f"recipes needs at least one of: {', '.join(RECIPES)}.")
        if len(set(self.recipes)) < len(self.recipes):
            raise ConfigError(f"recipes names one recipe twice: {', '.join(self.recipes)}.")
        runs(self)  # each recipe's ImageConfig checks itself


def runs(config: RecipesConfig) -> dict[str, images.ImageConfig]:
    """Each recipe's image run, by name."""
    shared = {
        **config.shared(),
        "ema_decay": config.ema_decay,
        "ema_start": config.ema_start,
        "seed": config.seed,
        "precision": config.precision,
    }
    return {name: images.ImageConfig(**shared, **RECIPES[name]) for name in config.recipes}


def summarise(metrics: dict) -> dict:
    """A recipe's row: the averaged and the raw generator's scores, and its speed."""
    averaged, raw = metrics["fid"], metrics["fid_raw"]
    return {
        "config": metrics["config"],
        "averaged": {k: averaged[k] for k in SCORES},
        "raw": {k: raw[k] for k in SCORES},
        "samples": averaged["fid_samples"],
        "seconds_per_generator_iteration": metrics["steady_seconds_per_generator_iteration"],
    }


def ranked(summary: dict[str, dict]) -> list[str]:
    """The recipes, the lowest averaged KID first."""
    return sorted(summary, key=lambda name: summary[name]["averaged"]["kid"][0])


def table(summary: dict[str, dict]) -> str:
    """recipes.md: one row per recipe, best first."""
    lines = [
        "| rank | recipe | KID ± std | FID | precision | recall | density | coverage "
        "| raw KID | raw FID | s / iteration |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rank, name in enumerate(ranked(summary), start=1):
        s = summary[name]
        a, r = s["averaged"], s["raw"]
        lines.append(
            f"| {rank} | {name} | {a['kid'][0]:.4f} ± {a['kid'][1]:.4f} | {a['fid']:.2f} | "
            f"{a['precision']:.3f} | {a['recall']:.3f} | {a['density']:.3f} | "
            f"{a['coverage']:.3f} | {r['kid'][0]:.4f} | {r['fid']:.2f} | "
            f"{_seconds(s['seconds_per_generator_iteration'])} |"
        )
    return "\n".join(lines) + "\n"


def _seconds(value: float | None) -> str:
    """Seconds per iteration, or a dash where a run was too short for a steady rate."""
    return "—" if value is None else f"{value:.2f}"


def plot(config: RecipesConfig, summary: dict[str, dict], path: str) -> None:
    """recipes.png: the first samples of each recipe's averaged generator, one row per
    recipe, best first (each run's samples.npy, drawn from the same noise)."""
    plt = kwgan.plots.pyplot()
    names = ranked(summary)
    fig, axes = plt.subplots(len(names), 1, figsize=(SAMPLES_SHOWN, 1.25 * len(names)))
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        samples = np.load(os.path.join(config.out, name, "samples.npy"))[:SAMPLES_SHOWN]
        grid = kwgan.grid.image_grid(samples, nrow=SAMPLES_SHOWN)
        ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray")
        ax.set_axis_off()
        kid = summary[name]["averaged"]["kid"][0]
        ax.set_title(f"{name}: KID {kid:.4f}", fontsize=9, loc="left")
    kwgan.plots.save_figure(fig, path)


def write_outputs(config: RecipesConfig, metrics: dict[str, dict]) -> str:
    """recipes.png, recipes.json and recipes.md; returns the table."""
    summary = {name: summarise(m) for name, m in metrics.items()}
    plot(config, summary, os.path.join(config.out, "recipes.png"))
    numbers = {**summary, "ranking": ranked(summary)}
    return sweeps.write_summary(config, "recipes", numbers, table(summary))


def run(config: RecipesConfig) -> dict[str, dict]:
    """Trains each recipe into `config.out` (resuming a killed search) and writes the
    ranking, its numbers and its samples; returns each recipe's metrics.json.

    The test split is checked first (`check_test_split`)."""
    config.check_test_split()
    return sweeps.run_sweep(config, runs(config), lambda m: write_outputs(config, m))
