"""Callbacks that draw: sample grids from fixed noise, and the Wasserstein-estimate curve.

The only callbacks that need `kwgan.grid` (Pillow) and `kwgan.plots` (matplotlib, SciPy),
kept apart so that training imports neither.
"""

from __future__ import annotations

import os

import numpy as np

from kwgan.callbacks.base import GeneratorIterationCallback
from kwgan.callbacks.evaluation import LossHistory
from kwgan.distribute import chief_only
from kwgan.errors import check_positive_int
from kwgan.grid import save_grid
from kwgan.plots import w_estimate_curve


class SampleGrid(GeneratorIterationCallback):
    """Writes a PNG grid of samples from a *fixed* set of noise vectors.

    Fixed noise (unlike the keras.io example, which draws new noise every time) makes
    successive grids comparable, so progress is watchable. Writes
    `samples_{iteration:07d}.png` every `every` generator iterations and `samples.png`
    (the latest) each time and at the end of training. A conditional model's grid has
    one column per class.
    """

    def __init__(
        self, directory: str, every: int = 500, n: int = 64, seed: int = 0, scale: int = 2
    ):
        super().__init__()
        check_positive_int(every, "every")
        check_positive_int(n, "n")
        self.directory, self.every, self.n, self.seed, self.scale = directory, every, n, seed, scale

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        # A conditional model gets one column per class (labels cycle along each row).
        self.nrow = self.model.num_classes
        n = self.n if self.nrow is None else -(-self.n // self.nrow) * self.nrow
        rng = np.random.default_rng(self.seed)
        self.noise = rng.normal(size=(n, self.model.latent_dim)).astype("float32")

    def write(self, iteration: int) -> None:
        self._save(self.model.generate(self.noise), iteration)

    @chief_only
    def _save(self, images: np.ndarray, iteration: int) -> None:
        os.makedirs(self.directory, exist_ok=True)
        for name in (f"samples_{iteration:07d}.png", "samples.png"):
            save_grid(images, os.path.join(self.directory, name), nrow=self.nrow, scale=self.scale)

    def on_generator_iteration_end(self, iteration, logs):
        if iteration % self.every == 0:
            self.write(iteration)

    def on_train_end(self, logs=None):
        self.write(self.generator_iteration)


class WEstimateCurve(LossHistory):
    """Plots the median-filtered Wasserstein estimate to `path` every `every` iterations
    and at the end (the WGAN paper's Fig. 3 curve, for image runs)."""

    def __init__(self, path: str, every: int = 1000, title: str = ""):
        super().__init__()
        self.path, self.every, self.title = path, every, title

    @chief_only
    def plot(self) -> None:
        if self.history.get("w_estimate"):
            w_estimate_curve(
                self.iterations, self.history["w_estimate"], self.path, title=self.title
            )

    def on_generator_iteration_end(self, iteration, logs):
        super().on_generator_iteration_end(iteration, logs)
        if iteration % self.every == 0:
            self.plot()

    def on_train_end(self, logs=None):
        self.plot()
