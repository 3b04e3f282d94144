"""Presets: named configs that override only what differs from a config's defaults.

A preset is a function of keyword overrides returning a config, so the command line of a
preset script passes exactly the flags the user gave (`kwgan.cli.config_from_flags`) and the
preset decides the rest — also defaults that depend on another field, as the digits
quickstart's optimizer settings depend on the objective.
"""

from __future__ import annotations

from typing import Any

from kwgan.experiment.images import ImageConfig

# The quickstart: WGAN-GP on scikit-learn's bundled digits upscaled to 32×32, with the CIFAR
# DCGAN of the WGAN-GP reference (`gan_cifar.py`), λ = 10 and Adam β = (0.5, 0.9) as there,
# sized for ten minutes on two CPU cores: generator width 32, critic width 16, batch 32, and
# two time-scale updates (Heusel et al. 2017) instead of five critic iterations per generator
# iteration. The README's "Digits" section lists every configuration measured on the way.
DIGITS = {
    "dataset": "digits",
    "image_size": 32,
    "arch": "cifar-dcgan",
    "generator_dim": 32,
    "critic_dim": 16,
    "batch_size": 32,
    "lr": 2e-4,  # gan_cifar_resnet.py; gan_cifar.py and gan_mnist.py use 1e-4
    "critic_lr": 4e-4,
    "critic_steps": 2,
    "beta1": 0.5,  # gan_cifar.py / gan_mnist.py: β = (0.5, 0.9)
    "steps": 10_000,
    "sample_every": 500,
    # The quickstart's numbers (README "Digits") were measured in float32: pinned, so that
    # `make demo` reproduces them on hardware where `auto` would mean bfloat16.
    "precision": "float32",
    "out": "runs/digits",
    "export": "saved_models/digits",
}
# The optimizer and critic-schedule defaults are WGAN-GP's; the other objectives keep their
# papers' unless given.
WGAN_GP_ONLY = ("lr", "critic_lr", "critic_steps")


def digits(**overrides: Any) -> ImageConfig:
    """The digits quickstart (`experiments/digits.py`, `make demo`) with `overrides`."""
    settings = dict(DIGITS)
    if overrides.get("objective", "wgan-gp") != "wgan-gp":
        for name in WGAN_GP_ONLY:
            del settings[name]
    return ImageConfig(**{**settings, **overrides})
