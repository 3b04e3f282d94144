"""WGAN Figs. 3, 4 and 8: the WGAN critic's loss tracks sample quality; a GAN's does not.

Trains the WGAN paper's three networks (§4.2) as WGAN and as the standard GAN (`dcgan`, the
−log D trick): (a) the DCGAN generator with the DCGAN critic, (b) the 4-layer 512-unit ReLU
MLP generator with the DCGAN critic, (c) an MLP generator with an MLP critic — the WGAN repo's
`models/dcgan.py` and `models/mlp.py`, here `--arch wgan-dcgan`, `wgan-mlp-g`, `wgan-mlp`.
Each run scores 1000 samples every --eval_every generator iterations with the digits
classifier. The figure puts each curve, median-filtered with a kernel of 101 as the WGAN
README's `medfilt(-Loss_D, 101)`, beside that score:

* WGAN: the critic's estimate of W, −critic loss = E D(x) − E D(G(z)) (Fig. 3);
* GAN: the discriminator's Jensen–Shannon estimate log 2 − critic loss (Fig. 4);
* GAN: the generator's loss, −log D(G(z)) (Fig. 8).

The paper's claim: the first falls as quality rises, the others do not. loss_meaning.json
holds Spearman's ρ of each median-filtered curve, read at the evaluations, with the score
(higher is better) and the Fréchet distance to held-out digits (lower is better).

    python experiments/loss_meaning.py --out runs/loss_meaning
    python experiments/loss_meaning.py --image_size 16 --steps 1600 --eval_every 40 --dim 16 \
        --mlp_dim 256 --out runs/loss_meaning  # the README's reduced run

Writes into --out: one `lsun.py` run per configuration (`wgan_wgan-dcgan/`, …),
loss_meaning.png, loss_meaning.json and loss_meaning.md. Rerunning with the same --out
resumes the run a killed sweep was in and skips the finished ones.
"""

from __future__ import annotations

import os
import sys

from absl import flags

import sweep

flags.DEFINE_integer("dim", 64, "Width of the DCGAN networks (WGAN repo --ngf/--ndf).")
flags.DEFINE_integer("mlp_dim", 512, "Hidden width of the MLPs (WGAN repo README: --ngf 512).")
flags.DEFINE_string("out", "runs/loss_meaning", "Output directory (a rerun resumes it).")
FLAGS = flags.FLAGS

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


def widths(arch: str) -> list[str]:
    """The `lsun.py` width flags of `arch`: --dim for convolutional networks, --mlp_dim for
    MLPs."""
    generator = FLAGS.mlp_dim if arch in ("wgan-mlp-g", "wgan-mlp") else FLAGS.dim
    critic = FLAGS.mlp_dim if arch == "wgan-mlp" else FLAGS.dim
    return [f"--generator_dim={generator}", f"--critic_dim={critic}"]


def runs() -> dict[str, list[str]]:
    """Every configuration: each architecture under each objective."""
    return {
        f"{objective}_{arch}": [f"--arch={arch}", f"--objective={objective}", *widths(arch)]
        for arch in ARCHS
        for objective in CURVES
    }


def correlations(metrics: dict) -> list[dict]:
    """Each of a run's curves with its Spearman ρ against the score and the Fréchet
    distance at the evaluations."""
    import kwgan

    logs = metrics["logs"]
    objective = metrics["config"]["objective"]
    rows = []
    for curve, label in CURVES[objective].items():
        row = {"curve": curve, "label": label}
        for quality in ("score", "fd"):
            at, values = sweep.evaluation_series(metrics, quality)
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
    import kwgan

    panels = []
    for arch, title in ARCHS.items():
        for objective, curves in CURVES.items():
            m = metrics[f"{objective}_{arch}"]
            at, score = sweep.evaluation_series(m, "score")
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


def main(argv):
    del argv
    import kwgan
    from kwgan.io import atomic_path, write_json

    config = sweep.config(sys.modules[__name__])
    # A finished sweep's runs are left alone; its figure and numbers are written again.
    with kwgan.run.Run(FLAGS.out, config, free=sweep.FREE_FLAGS) as run:
        metrics = sweep.train_all(FLAGS.out, runs())
        summary = summarise(metrics)
        plot(metrics, os.path.join(FLAGS.out, "loss_meaning.png"))
        write_json(os.path.join(FLAGS.out, "loss_meaning.json"), {"config": config, **summary})
        with atomic_path(os.path.join(FLAGS.out, "loss_meaning.md")) as tmp, open(tmp, "w") as f:
            f.write(table(summary))
        run.complete(FLAGS.steps)
    print(table(summary))


if __name__ == "__main__":
    from kwgan.cli import run

    run(main)
