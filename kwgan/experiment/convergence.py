"""WGAN-GP Fig. 3: quality against generator iterations and wall-clock seconds.

One network, `gan_cifar.py`'s (`cifar-dcgan`), trained the four ways the paper's §5.3
compares, each with its reference settings (`gan_cifar.py`'s modes, which trained the
paper's curves; it has no warm-up for `wgan`): WGAN with weight clipping and RMSProp 5e-5;
WGAN-GP with RMSProp at the same learning rate; WGAN-GP with Adam 1e-4, β = (0.5, 0.9); the
standard GAN (−log D) with Adam 2e-4, β1 = 0.5. Quality is the digits classifier's score
(the paper: the Inception score on CIFAR-10); seconds are training seconds, without the
scoring (`sweeps.training_seconds`). The paper's claims: with the same optimizer the penalty
converges faster and better than clipping, Adam improves it further, and DCGAN is faster in
wall-clock time but less stable — hence the table's iterations and seconds to first reach
each threshold score, and each run's largest fall below its best score so far.
`experiments/convergence.py` is this module's command line.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

import kwgan
from kwgan.experiment import sweeps
from kwgan.experiment.config import option
from kwgan.experiment.images import ImageConfig

# WGAN-GP §5.3's four runs, as ImageConfig fields on top of gan_cifar.py's network.
RUNS = {
    "wgan_clip_rmsprop": {"objective": "wgan", "warmup": False},
    "wgan-gp_rmsprop": {"objective": "wgan-gp", "optimizer": "rmsprop", "lr": 5e-5},
    "wgan-gp_adam": {"objective": "wgan-gp", "beta1": 0.5},
    "dcgan": {"objective": "dcgan"},
}


@dataclasses.dataclass(frozen=True)
class ConvergenceConfig(sweeps.SweepConfig):
    """WGAN-GP Fig. 3's sweep; the defaults are gan_cifar.py's run (ITERS = 200000, the
    Inception score every 1000 iterations)."""

    steps: int = sweeps.default("steps", 200_000)
    eval_every: int = sweeps.default("eval_every", 1000)
    out: str = sweeps.default("out", "runs/convergence")
    dim: int = option(128, "Width of both networks (gan_cifar.py DIM).", minimum=1)
    # Free: the thresholds only read the finished runs.
    thresholds: tuple[float, ...] = option(
        (3.0, 5.0, 7.0),
        "Scores Q of the table's 'iterations and seconds to reach Q'.",
        free=True,
    )


def runs(config: ConvergenceConfig) -> dict[str, ImageConfig]:
    """The four runs of the figure, by name."""
    return {
        name: ImageConfig(**config.shared(), arch="cifar-dcgan", dim=config.dim, **fields)
        for name, fields in RUNS.items()
    }


def first_reaching(iterations, seconds, scores, q: float) -> dict | None:
    """The first evaluation whose score is at least `q`, as its iteration and seconds."""
    for iteration, second, score in zip(iterations, seconds, scores, strict=True):
        if score >= q:
            return {"iteration": iteration, "seconds": second}
    return None


def summarise(metrics: dict, qs: tuple[float, ...]) -> dict:
    """A run's row of the table, with its curve."""
    iterations, scores = sweeps.evaluation_series(metrics, "score")
    seconds = sweeps.training_seconds(metrics)
    return {
        "config": metrics["config"],
        "reached": {str(q): first_reaching(iterations, seconds, scores, q) for q in qs},
        "final_score": scores[-1],
        "best_score": max(scores),
        "largest_fall": float(np.max(np.maximum.accumulate(scores) - scores)),
        "seconds_per_generator_iteration": seconds[-1] / max(iterations[-1], 1),
        "curve": {"iteration": iterations, "seconds": seconds, "score": scores},
    }


def table(summary: dict, qs: tuple[float, ...]) -> str:
    """convergence.md: iterations and seconds to reach each Q, and how the runs end."""

    def reached(r):
        return "—" if r is None else f"{r['iteration']} it / {r['seconds']:.0f} s"

    header = " | ".join(f"score ≥ {q:g}" for q in qs)
    lines = [
        f"| run | {header} | final | best | largest fall | s / iteration |",
        "|---|" + "---|" * (len(qs) + 4),
    ]
    for name, s in summary.items():
        cells = " | ".join(reached(s["reached"][str(q)]) for q in qs)
        lines.append(
            f"| {name} | {cells} | {s['final_score']:.2f} | {s['best_score']:.2f} | "
            f"{s['largest_fall']:.2f} | {s['seconds_per_generator_iteration']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def write_outputs(config: ConvergenceConfig, metrics: dict[str, dict]) -> str:
    """convergence.png, convergence.json and convergence.md; returns the table."""
    qs = config.thresholds
    summary = {name: summarise(m, qs) for name, m in metrics.items()}
    kwgan.plots.quality_over_time(
        {name: tuple(s["curve"].values()) for name, s in summary.items()},
        os.path.join(config.out, "convergence.png"),
        quality_label="digits classifier score",
    )
    return sweeps.write_summary(config, "convergence", summary, table(summary, qs))


def run(config: ConvergenceConfig) -> dict[str, dict]:
    """Trains the four runs into `config.out` (resuming a killed sweep) and writes the
    figure, its numbers and its table; returns each run's metrics.json."""
    return sweeps.run_sweep(config, runs(config), lambda m: write_outputs(config, m))
