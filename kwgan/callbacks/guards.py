"""Callbacks that stop `fit`: at a non-finite step or bad data (raising), at a number of
generator iterations, or after a wall-time budget (cleanly).

`kwgan.gan` imports this module alone for the guard `GAN.fit` puts first, so it must stay
free of the picture side (`kwgan.grid`, `kwgan.plots`).
"""

from __future__ import annotations

import time

import keras
import numpy as np

from kwgan.callbacks.base import GeneratorIterationCallback, curves, scalar
from kwgan.errors import DataError, NonFiniteLossError

EMPTY_DATA = (
    "The training data yielded no batch, so nothing was trained: check that the dataset "
    "is not empty (a filter that drops everything, a split with fewer examples than the "
    "batch size)."
)


class TerminateOnNonFinite(GeneratorIterationCallback):
    """Raises at the first step whose losses are NaN or infinite, or whose batch held NaN
    or infinite values or labels outside the model's classes (`GAN.fit` adds it first).

    Raising, rather than setting `stop_training` as Keras's `TerminateOnNaN` does, keeps
    every later callback from seeing the diverged model: no checkpoint, grid or export of
    NaN weights is written, and the last checkpoint stays the last good state. It also
    refuses data that ended its first epoch without a single batch.

    The step refused for its batch has changed nothing — it guards its own updates
    (`kwgan.trainer.Trainer.batch_is_clean`) — so after the `DataError` the model is as it
    was, and `fit` on clean data goes on from there. A step with a non-finite loss is
    applied as computed, on purpose: the update that ruins a model usually has a finite
    loss (a learning rate too large makes finite but huge weights, and only the next
    step's forward pass overflows), so withholding non-finite updates would keep weights
    that are already diverged, at the price of a conditional update of both networks in
    every step. What recovers such a run is the last checkpoint, which this guard keeps.
    """

    def __init__(self, check_losses: bool = True):
        super().__init__()
        self.check_losses = check_losses
        self.batches_seen = 0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.batches_seen += 1
        if scalar(logs.get("non_finite_inputs", 0)):
            raise DataError(
                f"A batch at generator iteration {self.generator_iteration + 1} holds "
                f"{int(scalar(logs['non_finite_inputs']))} NaN or infinite values and was not "
                "trained on; clean the data (e.g. np.nan_to_num, or drop the damaged "
                "examples) and call fit again."
            )
        errors = logs.get("label_errors")
        if errors is not None and scalar(errors):
            raise DataError(
                f"A batch at generator iteration {self.generator_iteration + 1} has "
                f"{int(scalar(errors))} labels outside [0, {self._num_classes}) and was not "
                "trained on: labels must be class ids 0 … num_classes − 1."
            )
        if self.check_losses:
            bad = [n for n, v in curves(logs).items() if not np.isfinite(scalar(v))]
            if bad:
                values = ", ".join(f"{n} = {scalar(logs[n])}" for n in bad)
                raise NonFiniteLossError(
                    f"Training diverged at generator iteration {self.generator_iteration + 1}"
                    f": {values}. Nothing was saved from this step, and the model in memory "
                    "is diverged: resume from the last checkpoint, with a smaller learning "
                    "rate if it was too large."
                )
        super().on_train_batch_end(batch, logs)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._num_classes = self.model.num_classes

    def on_epoch_end(self, epoch, logs=None):
        if not self.batches_seen:
            raise DataError(EMPTY_DATA)


class StopAtGeneratorIteration(GeneratorIterationCallback):
    """Stops `fit` once the generator has had `iterations` iterations in total."""

    def __init__(self, iterations: int):
        super().__init__()
        self.iterations = int(iterations)

    def on_generator_iteration_end(self, iteration, logs):
        if iteration >= self.iterations:
            self.model.stop_training = True


class TimeLimit(keras.callbacks.Callback):
    """Stops `fit` cleanly once `seconds` of wall time have passed, so a time-budgeted run
    still reaches `on_train_end` (final evaluation, plots, saved outputs)."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = float(seconds)

    def on_train_begin(self, logs=None):
        self._deadline = time.monotonic() + self.seconds

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() > self._deadline:
            # `_model`, not `model`: on JAX the property syncs the whole training state.
            self._model.stop_training = True
