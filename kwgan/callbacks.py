"""Callbacks that think in generator iterations, the unit both papers count in.

`fit` steps are critic iterations (one real batch each); the critic schedule decides when a
generator iteration happens. `GeneratorIterationCallback` replays that schedule in Python
— it is deterministic — so callbacks learn about generator iterations without reading
model variables every batch (which, on JAX, would force a state sync per step).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np


def _scalar(x) -> float:
    return float(np.asarray(keras.ops.convert_to_numpy(x)))


class GeneratorIterationCallback(keras.callbacks.Callback):
    """Base class: calls `on_generator_iteration_end(iteration, logs)` after each one."""

    def on_train_begin(self, logs=None):
        gan = self.model
        self.generator_iteration = int(_scalar(gan.generator_iterations))
        self._cycle_step = int(_scalar(gan.critic_cycle_step))
        # Kept aside: on JAX every `self.model` access syncs the whole training state.
        self._schedule = gan.schedule

    def on_train_batch_end(self, batch, logs=None):
        self._cycle_step += 1
        if self._cycle_step >= self._schedule.steps_before(self.generator_iteration):
            self._cycle_step = 0
            self.generator_iteration += 1
            self.on_generator_iteration_end(self.generator_iteration, logs or {})

    def on_generator_iteration_end(self, iteration: int, logs: dict) -> None:
        """Override: `iteration` generator iterations are now complete."""


class StopAtGeneratorIteration(GeneratorIterationCallback):
    """Stops `fit` once the generator has had `iterations` iterations in total."""

    def __init__(self, iterations: int):
        super().__init__()
        self.iterations = int(iterations)

    def on_generator_iteration_end(self, iteration, logs):
        if iteration >= self.iterations:
            self.model.stop_training = True


class LossHistory(GeneratorIterationCallback):
    """Records the logs of the critic step that closes each generator iteration.

    `history[name]` is a list with one value per generator iteration and `iterations`
    the matching generator-iteration numbers — the per-iteration curves the WGAN paper
    plots (after a median filter), which Keras's per-epoch `History` cannot give.
    """

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if not hasattr(self, "history"):
            self.iterations: list[int] = []
            self.history: dict[str, list[float]] = {}

    def on_generator_iteration_end(self, iteration, logs):
        self.iterations.append(iteration)
        for name, value in logs.items():
            self.history.setdefault(name, []).append(_scalar(value))


class EvaluateEvery(GeneratorIterationCallback):
    """Runs `evaluate(model, iteration) -> dict` every `every` generator iterations.

    Results accumulate in `results` (a list of dicts, each with its `iteration`) and are
    also evaluated once at the end of training if the last iteration was not a multiple.
    """

    def __init__(self, every: int, evaluate: Callable[[keras.Model, int], dict]):
        super().__init__()
        if every <= 0:
            raise ValueError(f"every must be positive, got {every}.")
        self.every = int(every)
        self.evaluate = evaluate
        self.results: list[dict] = []

    def _run(self, iteration: int) -> None:
        self.results.append({"iteration": iteration, **self.evaluate(self.model, iteration)})

    def on_generator_iteration_end(self, iteration, logs):
        if iteration % self.every == 0:
            self._run(iteration)

    def on_train_end(self, logs=None):
        if not self.results or self.results[-1]["iteration"] != self.generator_iteration:
            self._run(self.generator_iteration)


__all__ = [
    "EvaluateEvery",
    "GeneratorIterationCallback",
    "LossHistory",
    "StopAtGeneratorIteration",
]
