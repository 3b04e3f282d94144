"""The base of kwgan's callbacks: generator iterations read from the logs, and the helpers
that read logged values.

`fit` steps are critic iterations (one real batch each); the critic schedule decides when a
generator iteration happens. Every step logs the model's own `generator_iterations`
counter, and `GeneratorIterationCallback` reads it from the logs — one definition of the
count, right also when `steps_per_execution` > 1 hands callbacks one batch end per several
steps — without touching the model's variables, which on JAX would sync the whole training
state every step. Reading the logged scalar does wait for the step to finish; `GAN.fit`'s
NaN guard reads every step's logs anyway (`benchmarks/speed.py --workloads toy
--noterminate_on_nan` measures that read: about 1% on the JAX CPU toy benchmark).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

# Logged by the training step for the callbacks, not curves to record or show.
DIAGNOSTICS = ("label_errors", "non_finite_inputs", "generator_iterations")


def scalar(x: Any) -> float:
    """A logged value — a backend tensor, a NumPy scalar or a float — as a Python float.

    Keras hands callbacks the step's logs as tensors of the backend (a `jax.Array`, a
    `torch.Tensor`, ...); `keras.ops.convert_to_numpy` reads any of them.
    """
    return float(np.asarray(keras.ops.convert_to_numpy(x)))


def curves(logs: dict) -> dict:
    """The step's logs without the `DIAGNOSTICS`: the losses and estimates (`d_loss`,
    `g_loss`, `w_estimate`, ...) that callbacks record, show or check, as logged."""
    return {name: value for name, value in logs.items() if name not in DIAGNOSTICS}


class GeneratorIterationCallback(keras.callbacks.Callback):
    """Base class: calls `on_generator_iteration_end(iteration, logs)` after each one.

    With `steps_per_execution` = k, Keras reports one batch end per k steps, which may close
    several generator iterations: each gets its call, with the logs of the last step.
    """

    def on_train_begin(self, logs=None):
        self.generator_iteration = int(scalar(self.model.generator_iterations))

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        done = int(scalar(logs["generator_iterations"]))
        while self.generator_iteration < done:
            self.generator_iteration += 1
            self.on_generator_iteration_end(self.generator_iteration, logs)

    def on_generator_iteration_end(self, iteration: int, logs: dict) -> None:
        """Override: `iteration` generator iterations are now complete."""
