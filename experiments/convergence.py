"""WGAN-GP Fig. 3: quality against generator iterations and wall-clock seconds.

Trains one network, `gan_cifar.py`'s (`--arch cifar-dcgan`), as the paper's §5.3 compares
four ways, each with its reference settings (`gan_cifar.py`'s modes, which trained the
paper's curves; it has no warm-up for `wgan`):

* `wgan_clip_rmsprop`: WGAN with weight clipping, RMSProp 5e-5;
* `wgan-gp_rmsprop`: WGAN-GP with RMSProp at the same learning rate (`--optimizer rmsprop`);
* `wgan-gp_adam`: WGAN-GP with Adam 1e-4, β = (0.5, 0.9);
* `dcgan`: the standard GAN (−log D), Adam 2e-4, β1 = 0.5.

Quality is the digits classifier's score of 1000 samples every --eval_every generator
iterations (the paper: the Inception score on CIFAR-10); seconds are training seconds,
without the scoring. The paper's claims: with the same optimizer the penalty converges
faster and better than clipping, Adam improves it further, and DCGAN is faster in
wall-clock time but less stable.

    python experiments/convergence.py --out runs/convergence  # 200 000 iterations, 32×32
    python experiments/convergence.py --image_size 16 --steps 2000 --eval_every 50 --dim 16 \
        --thresholds 2,4,6 --out runs/convergence  # the README's reduced run

Writes into --out: one `lsun.py` run per configuration, convergence.png (score against
iterations and seconds), convergence.json and convergence.md (the iterations and seconds
each run took to first reach each --thresholds score, its final and best score, and its
largest fall below its best score so far: how stable it is). Rerunning with the same --out
resumes the run a killed sweep was in and skips the finished ones.
"""

from __future__ import annotations

import os
import sys

from absl import flags

import sweep

flags.DEFINE_integer("dim", 128, "Width of both networks (gan_cifar.py DIM).")
flags.DEFINE_list(
    "thresholds", ["3", "5", "7"], "Scores Q of the table's 'iterations and seconds to reach Q'."
)
flags.DEFINE_string("out", "runs/convergence", "Output directory (a rerun resumes it).")
FLAGS = flags.FLAGS

# gan_cifar.py's run: ITERS = 200000, the Inception score every 1000 iterations.
DEFAULTS = {"steps": 200_000, "eval_every": 1000}
# WGAN-GP §5.3's four runs, as lsun.py flags on top of --arch cifar-dcgan.
RUNS = {
    "wgan_clip_rmsprop": ["--objective=wgan", "--nowarmup"],
    "wgan-gp_rmsprop": ["--objective=wgan-gp", "--optimizer=rmsprop", "--lr=5e-5"],
    "wgan-gp_adam": ["--objective=wgan-gp", "--beta1=0.5"],
    "dcgan": ["--objective=dcgan"],
}


def thresholds() -> list[float]:
    import kwgan

    try:
        return [float(q) for q in FLAGS.thresholds]
    except ValueError:
        raise kwgan.errors.ConfigError(
            f"--thresholds takes scores, such as 3,5,7, not {','.join(FLAGS.thresholds)}."
        ) from None


def first_reaching(iterations, seconds, scores, q: float) -> dict | None:
    """The first evaluation whose score is at least `q`, as its iteration and seconds."""
    for iteration, second, score in zip(iterations, seconds, scores, strict=True):
        if score >= q:
            return {"iteration": iteration, "seconds": second}
    return None


def summarise(metrics: dict, qs: list[float]) -> dict:
    """A run's row of the table, with its curve."""
    import numpy as np

    iterations, scores = sweep.evaluation_series(metrics, "score")
    seconds = sweep.training_seconds(metrics)
    return {
        "config": metrics["config"],
        "reached": {str(q): first_reaching(iterations, seconds, scores, q) for q in qs},
        "final_score": scores[-1],
        "best_score": max(scores),
        "largest_fall": float(np.max(np.maximum.accumulate(scores) - scores)),
        "seconds_per_generator_iteration": seconds[-1] / max(iterations[-1], 1),
        "curve": {"iteration": iterations, "seconds": seconds, "score": scores},
    }


def table(summary: dict, qs: list[float]) -> str:
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


def main(argv):
    del argv
    import kwgan
    from kwgan.io import atomic_path, write_json

    qs = thresholds()
    config = sweep.config(sys.modules[__name__])
    runs = {
        name: ["--arch=cifar-dcgan", f"--dim={FLAGS.dim}", *args] for name, args in RUNS.items()
    }
    # The thresholds only read the finished runs.
    with kwgan.run.Run(FLAGS.out, config, free=(*sweep.FREE_FLAGS, "thresholds")) as run:
        metrics = sweep.train_all(FLAGS.out, runs)
        summary = {name: summarise(m, qs) for name, m in metrics.items()}
        kwgan.plots.quality_over_time(
            {name: tuple(s["curve"].values()) for name, s in summary.items()},
            os.path.join(FLAGS.out, "convergence.png"),
            quality_label="digits classifier score",
        )
        write_json(os.path.join(FLAGS.out, "convergence.json"), {"config": config, **summary})
        with atomic_path(os.path.join(FLAGS.out, "convergence.md")) as tmp, open(tmp, "w") as f:
            f.write(table(summary, qs))
        run.complete(FLAGS.steps)
    print(table(summary, qs))


if __name__ == "__main__":
    from kwgan.cli import run

    for name, value in DEFAULTS.items():
        flags.FLAGS.set_default(name, value)
    run(main)
