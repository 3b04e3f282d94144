"""One recipe at the study's full budget from several seeds: a row as the field reports it.

Lucic et al. 2018 ("Are GANs Created Equal?", Table 2) and Zhang & Khoreva 2019
("Progressive Augmentation of GANs", Table 2) give each Fashion-MNIST model's FID as a mean
± standard deviation over restarts, so a single run is not a row beside theirs. This trains
one recipe (`kwgan.experiment.recipes.RECIPES`; the search's winner by default) at the
study's budget — `--arch infogan`, batch 64, 15 625 generator iterations — from each seed,
with a generator average, and scores 10 000 samples of the averaged and of the raw
generator against the test split (FID, KID, precision, recall, density, coverage; one run
gives both rows), with a curve of `fid_every_samples` samples every `fid_every` iterations.

Writes into `out`: one image run per seed (`<recipe>_seed<k>`, its printed output in its
log.txt), seeds.json and seeds.md (each seed's scores, averaged and raw, with its training
time and speed, then the mean ± standard deviation over the seeds) and seeds.png (FID and
KID over generator iterations for each seed, and samples of the seed with the lowest
averaged FID).
A rerun resumes the seed a killed run was in and leaves the finished ones alone; each
seed's run is an ordinary `experiments/lsun.py` run, so a run trained by lsun.py with the
same flags, moved to `out/<recipe>_seed<k>`, is collected rather than trained again.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

import kwgan
from kwgan.experiment import images, recipes, sweeps
from kwgan.experiment.config import option, out_option
from kwgan.experiment.recipes import RECIPES, SCORES

GENERATORS = ("averaged", "raw")  # a row's two generators (metrics.json's fid, fid_raw)
DECIMALS = {"fid": 2, "kid": 4}  # the others (precision, recall, ...): 3
SAMPLES_SHOWN = 64  # of the best seed, in seeds.png


@dataclasses.dataclass(frozen=True)
class SeedsConfig(sweeps.ScoredSweepConfig):
    """The runs; the defaults are the recipe search's winner at the study's budget and
    protocol (15 625 generator iterations, 10 000 samples against the test split), three
    seeds, the average as in the search, a curve of 2 000 samples every 3 125 iterations."""

    recipe: str = option(
        "ns-gan_2critic", "Recipe trained from every seed.", choices=tuple(RECIPES)
    )
    # Free: each seed's run records and guards its own results; the list only says which
    # runs to train and summarise, so a later rerun may add a seed to a finished set.
    seeds: tuple[int, ...] = sweeps.seeds_option((0, 1, 2), free=True)
    steps: int = sweeps.default("steps", 15625, sweeps.ScoredSweepConfig)
    kid_samples: int = option(
        10000,
        "Samples of each generator scored after training (FID, KID, precision, recall, "
        "density, coverage), as the study's FID of 10 000.",
        minimum=6,
    )
    ema_decay: float = sweeps.ema_decay_option()
    ema_start: int = sweeps.ema_start_option()
    fid_every: int | None = option(
        3125, "Also score during training every this many generator iterations.", minimum=1
    )
    fid_every_samples: int | None = option(
        2000, "Samples scored at each fid_every evaluation.", minimum=6
    )
    precision: str = option(
        "auto", "Numeric precision of every seed.", choices=kwgan.precision.PRECISIONS
    )
    out: str = out_option("runs/seeds")

    def validate(self) -> None:
        sweeps.check_seeds(self.seeds)
        runs(self)  # each seed's ImageConfig checks itself


def run_name(recipe: str, seed: int) -> str:
    return f"{recipe}_seed{seed}"


def runs(config: SeedsConfig) -> dict[str, images.ImageConfig]:
    """Each seed's image run, by name, in the order of `config.seeds`."""
    shared = {
        **config.shared(),
        **RECIPES[config.recipe],
        "ema_decay": config.ema_decay,
        "ema_start": config.ema_start,
        "fid_every": config.fid_every,
        "fid_every_samples": config.fid_every_samples,
        "precision": config.precision,
    }
    return {
        run_name(config.recipe, seed): images.ImageConfig(**shared, seed=seed)
        for seed in config.seeds
    }


def summarise(metrics: dict) -> dict:
    """A seed's row: both generators' final scores and its speed (the recipe search's row,
    `recipes.summarise`), with its FID curve and training time."""
    evaluations = metrics.get("fid_evaluations", [])
    return {
        **recipes.summarise(metrics),
        "fid_curve": {
            "iteration": [e["iteration"] for e in evaluations],
            "fid": [score(e, "fid") for e in evaluations],
            "kid": [score(e, "kid") for e in evaluations],
            "samples": evaluations[0]["fid_samples"] if evaluations else None,
        },
        "generator_iterations": metrics["generator_iterations"],
        "seconds": metrics["seconds"],
    }


def score(scores: dict, key: str) -> float:
    """A generator's `key` score: KID's mean over subsets (stored as [mean, std]), or the
    number itself."""
    return scores[key][0] if key == "kid" else scores[key]


def mean_and_std(summary: dict[str, dict]) -> dict:
    """Each score's mean and standard deviation over the seeds, per generator (the sample
    standard deviation, ddof = 1, as restarts are reported; `None` from one seed). KID
    averages its means; its per-run standard deviation over subsets is not the seeds'."""
    rows = list(summary.values())
    result = {}
    for generator in GENERATORS:
        result[generator] = {}
        for key in SCORES:
            values = [score(row[generator], key) for row in rows]
            std = float(np.std(values, ddof=1)) if len(values) > 1 else None
            result[generator][key] = {"mean": float(np.mean(values)), "std": std}
    return result


def table(summary: dict[str, dict], aggregate: dict) -> str:
    """seeds.md: per seed and generator a row, then the mean ± std rows."""
    header = " | ".join(SCORES)
    lines = [
        f"| run | generator | {header} | wall time | iterations / s |",
        "|---|---|" + "---|" * (len(SCORES) + 2),
    ]
    for name, s in summary.items():
        for generator in GENERATORS:
            g = s[generator]
            scores = " | ".join(
                f"{g[k][0]:.4f} ± {g[k][1]:.4f}" if k == "kid" else _number(k, g[k]) for k in SCORES
            )
            steady = s["seconds_per_generator_iteration"]
            lines.append(
                f"| {name} | {generator} | {scores} | {s['seconds'] / 3600:.2f} h | "
                f"{'—' if steady is None else f'{1 / steady:.2f}'} |"
            )
    for generator in GENERATORS:
        a = aggregate[generator]
        scores = " | ".join(_mean_std(k, a[k]) for k in SCORES)
        seeds = f"{len(summary)} seed{'s' if len(summary) > 1 else ''}"
        lines.append(f"| mean ± std ({seeds}) | {generator} | {scores} | | |")
    return "\n".join(lines) + "\n"


def _number(key: str, value: float) -> str:
    return f"{value:.{DECIMALS.get(key, 3)}f}"


def _mean_std(key: str, stats: dict) -> str:
    if stats["std"] is None:
        return _number(key, stats["mean"])
    return f"{_number(key, stats['mean'])} ± {_number(key, stats['std'])}"


def best(summary: dict[str, dict]) -> str:
    """The seed whose averaged generator has the lowest FID."""
    return min(summary, key=lambda name: summary[name]["averaged"]["fid"])


def plot(config: SeedsConfig, summary: dict[str, dict], path: str) -> None:
    """seeds.png: FID and KID of the averaged generator over generator iterations, a line
    per seed with its final score of `kid_samples` samples as a cross (FID's bias falls
    with the sample count, KID has none, so only KID's cross continues its line), and
    samples of the best seed's averaged generator (its samples.npy)."""
    plt = kwgan.plots.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), width_ratios=(1, 1, 1.05))
    points = next(iter(summary.values()))["fid_curve"]["samples"]
    for ax, key, label in zip(axes[:2], ("fid", "kid"), ("FID", "KID"), strict=True):
        for name, s in summary.items():
            c, final = s["fid_curve"], score(s["averaged"], key)
            (line,) = ax.plot(c["iteration"], c[key], "o-", ms=3, label=name)
            ax.plot([s["generator_iterations"]], [final], "x", ms=8, color=line.get_color())
        ax.set_title(
            f"{label} of the averaged generator ({points} samples; ×: {config.kid_samples})",
            fontsize=9,
        )
        ax.set_xlabel("generator iterations")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    name = best(summary)
    shown = np.load(os.path.join(config.out, name, "samples.npy"))[:SAMPLES_SHOWN]
    grid = kwgan.grid.image_grid(shown)
    axes[2].imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray")
    axes[2].set_axis_off()
    axes[2].set_title(
        f"{name}, averaged generator: FID {summary[name]['averaged']['fid']:.2f}", fontsize=9
    )
    fig.tight_layout()
    kwgan.plots.save_figure(fig, path)


def write_outputs(config: SeedsConfig, metrics: dict[str, dict]) -> str:
    """seeds.png, seeds.json and seeds.md; returns the table."""
    summary = {name: summarise(m) for name, m in metrics.items()}
    aggregate = mean_and_std(summary)
    plot(config, summary, os.path.join(config.out, "seeds.png"))
    numbers = {**summary, "mean_and_std": aggregate, "best": best(summary)}
    return sweeps.write_summary(config, "seeds", numbers, table(summary, aggregate))


def run(config: SeedsConfig) -> dict[str, dict]:
    """Trains each seed into `config.out` (resuming a killed run, leaving finished ones
    alone) and writes the row's numbers and figure; returns each seed's metrics.json.
    The test split is checked first (`check_test_split`)."""
    config.check_test_split()
    return sweeps.run_sweep(config, runs(config), lambda m: write_outputs(config, m))
