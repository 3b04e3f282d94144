"""Does quality hold in bfloat16? The same runs in float32 and `mixed_bfloat16`.

`mixed_bfloat16` keeps float32 variables and computes in bfloat16, whose 8-bit mantissa
rounds every product to ~3 significant digits. WGAN-GP differentiates through its critic
twice (the penalty, WGAN-GP §4 eq. 3), and its W estimate is a difference of two large
means (WGAN §4, Fig. 3): the places where rounding would show first. kwgan keeps the
penalty and the losses in float32 (`kwgan.penalties`, `kwgan.objectives`). This study
measures whether that is enough: one recipe (`kwgan.experiment.recipes.RECIPES`, the
paper's WGAN-GP by default) trained in both precisions from the same seeds, without a
generator average (the training itself is compared), with KID of `kid_samples` samples
against the test split every `kid_every` generator iterations from the same noise, and the
critic's gradient penalty and W estimate at every iteration.

Writes into `out`: one image run per precision and seed (`float32_seed0`, …, its printed
output in its log.txt), precision_study.json and precision_study.md (per run: KID at each
evaluation, the final FID, precision and recall, the penalty and W estimate over the last
tenth of training, whether every logged value stayed finite, seconds per iteration; per
seed: bfloat16's KID minus float32's, in units of their combined standard deviation) and
precision_study.png (KID, W estimate and penalty over generator iterations). On hardware
without bfloat16 units (`kwgan.precision.native_bfloat16`) bfloat16 is emulated and slower
than float32: the numbers still hold, the seconds do not.
"""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np

import kwgan
from kwgan.errors import ConfigError
from kwgan.experiment import images, sweeps
from kwgan.experiment.config import option, out_option
from kwgan.experiment.recipes import RECIPES

PRECISIONS = ("float32", "mixed_bfloat16")
LOGGED = ("d_loss", "g_loss", "gp", "w_estimate")  # each checked finite; gp, W summarised
TAIL = 0.1  # the penalty and W estimate are averaged over this last fraction of training


@dataclasses.dataclass(frozen=True)
class PrecisionStudyConfig(sweeps.ScoredSweepConfig):
    """The study; the defaults are the paper's WGAN-GP on the study's Fashion-MNIST network,
    2 000 generator iterations, two seeds, KID of 2 000 samples every 500 iterations."""

    recipe: str = option("wgan-gp", "Recipe trained in both precisions.", choices=tuple(RECIPES))
    kid_every: int = option(
        500, "Score kid_samples samples every this many generator iterations.", minimum=1
    )
    seeds: tuple[int, ...] = sweeps.seeds_option((0, 1))
    out: str = out_option("runs/precision_study")

    def validate(self) -> None:
        sweeps.check_seeds(self.seeds)
        if RECIPES[self.recipe].get("objective") != "wgan-gp":
            raise ConfigError(
                f"recipe {self.recipe!r} has no gradient penalty; the study compares a "
                "WGAN-GP recipe's penalty and W estimate: one of "
                f"{', '.join(n for n, r in RECIPES.items() if r['objective'] == 'wgan-gp')}."
            )
        runs(self)  # each run's ImageConfig checks itself


def run_name(precision: str, seed: int) -> str:
    return f"{precision}_seed{seed}"


def runs(config: PrecisionStudyConfig) -> dict[str, images.ImageConfig]:
    """Each precision and seed's image run, by name, seed by seed."""
    return {
        run_name(precision, seed): images.ImageConfig(
            **config.shared(),
            **RECIPES[config.recipe],
            fid_every=config.kid_every,
            seed=seed,
            precision=precision,
        )
        for seed in config.seeds
        for precision in PRECISIONS
    }


def tail_mean(values: list[float]) -> float:
    """The mean over the last `TAIL` of `values` (at least one)."""
    return float(np.mean(values[-max(1, math.ceil(TAIL * len(values))) :]))


def summarise(metrics: dict) -> dict:
    """A run's row: KID at each evaluation, its final scores, its critic's numbers."""
    logs, final = metrics["logs"], metrics["fid"]
    return {
        "config": metrics["config"],
        "kid_curve": {
            "iteration": [e["iteration"] for e in metrics["fid_evaluations"]],
            "kid": [e["kid"] for e in metrics["fid_evaluations"]],
        },
        "final": {k: final[k] for k in ("fid", "kid", "precision", "recall")},
        "gp": tail_mean(logs["gp"]),
        "w_estimate": tail_mean(logs["w_estimate"]),
        "finite": all(bool(np.isfinite(logs[key]).all()) for key in LOGGED),
        "seconds_per_generator_iteration": metrics["steady_seconds_per_generator_iteration"],
    }


def kid_gap(summary: dict, seed: int) -> dict:
    """bfloat16's final KID minus float32's for `seed`, and that difference over the two
    KIDs' combined standard deviation (over KID's subsets): within ~2 is noise."""
    (f32, f32_std), (bf16, bf16_std) = (
        summary[run_name(p, seed)]["final"]["kid"] for p in PRECISIONS
    )
    difference = bf16 - f32
    return {"difference": difference, "in_stds": difference / math.hypot(f32_std, bf16_std)}


def table(summary: dict, seeds: tuple[int, ...]) -> str:
    """precision_study.md: a row per run, then bfloat16's KID gap per seed."""
    first = next(iter(summary.values()))
    points = " | ".join(f"KID @ {i}" for i in first["kid_curve"]["iteration"])
    lines = [
        f"| run | {points} | FID | precision | recall | penalty (last 10 %) "
        "| W estimate (last 10 %) | finite | s / iteration |",
        "|---|" + "---|" * (len(first["kid_curve"]["iteration"]) + 7),
    ]
    for name, s in summary.items():
        kids = " | ".join(f"{kid:.4f} ± {std:.4f}" for kid, std in s["kid_curve"]["kid"])
        f = s["final"]
        seconds = s["seconds_per_generator_iteration"]
        lines.append(
            f"| {name} | {kids} | {f['fid']:.2f} | {f['precision']:.3f} | {f['recall']:.3f} | "
            f"{s['gp']:.4f} | {s['w_estimate']:.3f} | {'yes' if s['finite'] else 'NO'} | "
            f"{'—' if seconds is None else f'{seconds:.2f}'} |"
        )
    lines.append("")
    for seed in seeds:
        gap = kid_gap(summary, seed)
        lines.append(
            f"seed {seed}: bfloat16 KID − float32 KID = {gap['difference']:+.4f} "
            f"({gap['in_stds']:+.1f} combined standard deviations)"
        )
    return "\n".join(lines) + "\n"


def plot(summary: dict, metrics: dict[str, dict], path: str) -> None:
    """precision_study.png: KID (left), the W estimate and the penalty (median filter 101)
    over generator iterations; a colour per precision, a line style per seed."""
    fig, axes = kwgan.plots.pyplot().subplots(1, 3, figsize=(15, 3.8))
    for name, s in summary.items():
        colour = f"C{PRECISIONS.index(s['config']['precision'])}"
        style = ("-", "--", ":", "-.")[list(summary).index(name) // len(PRECISIONS) % 4]
        curve = s["kid_curve"]
        kids = [kid for kid, _ in curve["kid"]]
        axes[0].plot(curve["iteration"], kids, "o" + style, ms=3, color=colour, label=name)
        logs = metrics[name]["logs"]
        for ax, key in zip(axes[1:], ("w_estimate", "gp"), strict=True):
            smooth = kwgan.plots.median_filter(logs[key])
            ax.plot(logs["iterations"], smooth, style, color=colour, lw=1, label=name)
    titles = ("KID against the test split", "W estimate (median filter 101)", "gradient penalty")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xlabel("generator iterations")
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    kwgan.plots.save_figure(fig, path)


def write_outputs(config: PrecisionStudyConfig, metrics: dict[str, dict]) -> str:
    """precision_study.png, .json and .md; returns the table."""
    summary = {name: summarise(m) for name, m in metrics.items()}
    plot(summary, metrics, os.path.join(config.out, "precision_study.png"))
    gaps = {f"seed{seed}": kid_gap(summary, seed) for seed in config.seeds}
    numbers = {**summary, "kid_gap": gaps}
    return sweeps.write_summary(config, "precision_study", numbers, table(summary, config.seeds))


def run(config: PrecisionStudyConfig) -> dict[str, dict]:
    """Trains each precision and seed into `config.out` (resuming a killed study) and
    writes the comparison; returns each run's metrics.json. The test split is checked
    first (`check_test_split`)."""
    config.check_test_split()
    return sweeps.run_sweep(config, runs(config), lambda m: write_outputs(config, m))
