"""WGAN Figs. 3, 4 and 8: the WGAN critic's loss tracks sample quality; a GAN's does not.

The WGAN paper's three networks (§4.2) trained as WGAN and as the standard GAN (`dcgan`,
the −log D trick): (a) the DCGAN generator with the DCGAN critic, (b) the 4-layer 512-unit
ReLU MLP generator with the DCGAN critic, (c) an MLP generator with an MLP critic — the WGAN
repo's `models/dcgan.py` and `models/mlp.py`, here `wgan-dcgan`, `wgan-mlp-g`, `wgan-mlp`.
Each run is scored by the digits classifier every `eval_every` generator iterations. The
figure puts each curve, median-filtered with a kernel of 101 as the WGAN README's
`medfilt(-Loss_D, 101)`, beside that score:

* WGAN: the critic's estimate of W, −critic loss = E D(x) − E D(G(z)) (Fig. 3);
* GAN: the discriminator's Jensen–Shannon estimate log 2 − critic loss (Fig. 4);
* GAN: the generator's loss, −log D(G(z)) (Fig. 8).

The paper's claim: the first falls as quality rises, the others do not. loss_meaning.json
holds Spearman's ρ of each median-filtered curve, read at the evaluations, with the score
(higher is better) and the Fréchet distance to held-out digits (lower is better).
`experiments/loss_meaning.py` is this module's command line.
"""

from __future__ import annotations

import dataclasses
import os

import kwgan
from kwgan.experiment import sweeps
from kwgan.experiment.config import option
from kwgan.experiment.images import ImageConfig

# The WGAN paper's §4.2 networks, by their kwgan names.
ARCHS = {
    "wgan-dcgan": "(a) DCGAN generator, DCGAN critic",
    "wgan-mlp-g": "(b) ReLU-MLP generator, DCGAN critic",
    "wgan-mlp": "(c) MLP generator, MLP critic",
}
# Each objective's curves: the log it is read from and how the figure labels it.
CURVES = {
    "wgan": {"w_estimate": "WGAN: −critic loss (W estimate)"},
    "dcgan": {
        "js_estimate": "GAN: log 2 − D loss (JS estimate)",
        "g_loss": "GAN: generator loss −log D(G(z))",
    },
}


@dataclasses.dataclass(frozen=True)
class LossMeaningConfig(sweeps.SweepConfig):
    """WGAN Figs. 3, 4 and 8's sweep, at the WGAN repo's widths."""

    out: str = sweeps.default("out", "runs/loss_meaning")
    dim: int = option(64, "Width of the DCGAN networks (WGAN repo --ngf/--ndf).", minimum=1)
    mlp_dim: int = option(512, "Hidden width of the MLPs (WGAN repo README: --ngf 512).", minimum=1)


def widths(config: LossMeaningConfig, arch: str) -> dict[str, int]:
    """The widths of `arch`'s networks: `dim` for convolutional ones, `mlp_dim` for MLPs."""
    generator = config.mlp_dim if arch in ("wgan-mlp-g", "wgan-mlp") else config.dim
    critic = config.mlp_dim if arch == "wgan-mlp" else config.dim
    return {"generator_dim": generator, "critic_dim": critic}


def runs(config: LossMeaningConfig) -> dict[str, ImageConfig]:
    """Every run of the figure: each architecture under each objective."""
    return {
        f"{objective}_{arch}": ImageConfig(
            **config.shared(), arch=arch, objective=objective, **widths(config, arch)
        )
        for arch in ARCHS
        for objective in CURVES
    }


def correlations(metrics: dict) -> list[dict]:
    """Each of a run's curves with its Spearman ρ against the score and the Fréchet
    distance at the evaluations."""
    logs = metrics["logs"]
    objective = metrics["config"]["objective"]
    rows = []
    for curve, label in CURVES[objective].items():
        row = {"curve": curve, "label": label}
        for quality in ("score", "fd"):
            at, values = sweeps.evaluation_series(metrics, quality)
            row[f"spearman_vs_{quality}"] = kwgan.plots.rank_correlation(
                logs["iterations"], logs[curve], at, values
            )
        rows.append(row)
    return rows


def summarise(metrics: dict[str, dict]) -> dict:
    """loss_meaning.json's content: per run, its curves' correlations and final quality."""
    summary = {}
    for name, m in metrics.items():
        last = m["evaluations"][-1]
        summary[name] = {
            "arch": m["config"]["arch"],
            "objective": m["config"]["objective"],
            "generator_iterations": m["generator_iterations"],
            "seconds": m["seconds"],
            "final_score": last["score"],
            "final_fd": last["fd"],
            "curves": correlations(m),
        }
    return summary


def plot(metrics: dict[str, dict], path: str) -> None:
    """One row per architecture: the WGAN W estimate, the GAN JS estimate and the GAN
    generator loss, each beside the score."""
    panels = []
    for arch, title in ARCHS.items():
        for objective, curves in CURVES.items():
            m = metrics[f"{objective}_{arch}"]
            at, score = sweeps.evaluation_series(m, "score")
            for curve, label in curves.items():
                logs = m["logs"]
                panels.append(
                    kwgan.plots.CurvePanel(title, label, logs["iterations"], logs[curve], at, score)
                )
    kwgan.plots.curves_beside_quality(
        panels, path, quality_label="digits classifier score", columns=3
    )


def table(summary: dict) -> str:
    """loss_meaning.md: ρ of every curve with the quality measures."""

    def number(x):
        return "—" if x is None else f"{x:+.2f}"

    lines = [
        "| networks | curve | ρ with score (↑ better) | ρ with Fréchet (↓ better) | final score |",
        "|---|---|---|---|---|",
    ]
    for run in summary.values():
        for c in run["curves"]:
            lines.append(
                f"| {ARCHS[run['arch']]} | {c['label']} | {number(c['spearman_vs_score'])} | "
                f"{number(c['spearman_vs_fd'])} | {run['final_score']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def write_outputs(config: LossMeaningConfig, metrics: dict[str, dict]) -> str:
    """loss_meaning.png, loss_meaning.json and loss_meaning.md; returns the table."""
    summary = summarise(metrics)
    plot(metrics, os.path.join(config.out, "loss_meaning.png"))
    return sweeps.write_summary(config, "loss_meaning", summary, table(summary))


def run(config: LossMeaningConfig) -> dict[str, dict]:
    """Trains the six runs into `config.out` (resuming a killed sweep) and writes the
    figure, its numbers and its table; returns each run's metrics.json."""
    return sweeps.run_sweep(config, runs(config), lambda m: write_outputs(config, m))
