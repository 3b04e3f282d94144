"""Callbacks that record training: the per-iteration loss curves, and evaluations every so
many generator iterations (any function of the model, or the critic's estimate on held-out
images), with `get_state` / `set_state` so a checkpoint keeps them across a resumed run."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import keras
import numpy as np

from kwgan.callbacks.base import GeneratorIterationCallback, curves, scalar
from kwgan.distribute import chief_only, predict
from kwgan.errors import ConfigError, DataError, check_positive_int
from kwgan.io import atomic_path


class LossHistory(GeneratorIterationCallback):
    """Records the logs of the critic step that closes each generator iteration.

    `history[name]` is a list with one value per generator iteration and `iterations`
    the matching generator-iteration numbers — the per-iteration curves the WGAN paper
    plots (after a median filter), which Keras's per-epoch `History` cannot give. Both
    exist from the start, empty until a generator iteration ends, and grow over every
    `fit` (a resumed run's from its checkpoint's state), so a run that had nothing left to
    train still reads them.
    """

    def __init__(self):
        super().__init__()
        self.iterations: list[int] = []
        self.history: dict[str, list[float]] = {}

    def on_generator_iteration_end(self, iteration, logs):
        self.iterations.append(iteration)
        for name, value in curves(logs).items():
            self.history.setdefault(name, []).append(scalar(value))

    def get_state(self) -> dict:
        """What a checkpoint keeps, so a resumed run's curves start at iteration 1."""
        return {"iterations": list(self.iterations), "history": dict(self.history)}

    def set_state(self, state: dict) -> None:
        self.iterations = list(state["iterations"])
        self.history = {name: list(values) for name, values in state["history"].items()}


class EvaluateEvery(GeneratorIterationCallback):
    """Runs `evaluate(model, iteration) -> dict` every `every` generator iterations.

    Results accumulate in `results` (a list of dicts, each with its `iteration`) and are
    also evaluated once at the end of training if the last iteration was not a multiple.
    With `log_path` they are also kept as JSON lines there after every evaluation, so a
    long run shows its progress and keeps its evaluations if it is stopped.
    """

    def __init__(
        self,
        every: int,
        evaluate: Callable[[keras.Model, int], dict],
        log_path: str | os.PathLike | None = None,
    ):
        super().__init__()
        self.every = check_positive_int(every, "every")
        self.evaluate = evaluate
        self.log_path = log_path
        self.results: list[dict] = []

    def _run(self, iteration: int) -> None:
        self.results.append({"iteration": iteration, **self.evaluate(self.model, iteration)})
        if self.log_path is not None:
            self._write_log()

    @chief_only
    def _write_log(self) -> None:
        # Rewritten whole, atomically: a resumed run's log holds exactly its results.
        lines = "".join(json.dumps(result) + "\n" for result in self.results)
        with atomic_path(self.log_path) as tmp, open(tmp, "w") as f:
            f.write(lines)

    def on_generator_iteration_end(self, iteration, logs):
        if iteration % self.every == 0:
            self._run(iteration)

    def on_train_end(self, logs=None):
        if not self.results or self.results[-1]["iteration"] != self.generator_iteration:
            self._run(self.generator_iteration)

    def get_state(self) -> dict:
        return {"results": list(self.results)}

    def set_state(self, state: dict) -> None:
        self.results = list(state["results"])


class ValidationEstimate(EvaluateEvery):
    """The critic's Wasserstein estimate on held-out images beside the same on training
    images, every `every` generator iterations: the WGAN-GP paper's overfitting check (§5.6,
    Fig. 5b; `gan_mnist.py` logs a "dev disc cost" every 100 iterations).

    Each evaluation records `w_train` = mean D(x) − mean D(G(z)) over a fixed sample of the
    training images and `w_validation`, the same over the validation images, against the
    same fixed fakes, so their difference is the critic's mean score gap between images it
    trained on and images it never saw: a critic that generalises scores both alike, one
    that memorises its training set scores it higher. These are the WGAN estimates without
    the penalty term (the paper plots the negative critic loss, which includes it).

    The training sample has as many images as the validation set (all of them if there are
    fewer), drawn once from `seed`, and the noise is drawn from `seed` as well, in NumPy:
    the evaluation reads the networks in inference mode and touches no variable and no
    random stream of training, so adding it leaves the trained weights unchanged. Results
    accumulate in `results` (and `log_path`) as in `EvaluateEvery`, and `get_state` /
    `set_state` keep them across a resumed run. Unconditional GANs only.
    """

    def __init__(
        self,
        train: np.ndarray,
        validation: np.ndarray,
        every: int = 100,
        batch_size: int = 256,
        seed: int = 0,
        log_path: str | os.PathLike | None = None,
    ):
        super().__init__(every, self._estimate, log_path)
        self.batch_size = check_positive_int(batch_size, "batch_size")
        self.validation = np.asarray(validation, "float32")
        train = np.asarray(train, "float32")
        if not len(self.validation) or not len(train):
            raise DataError(
                "ValidationEstimate needs at least one training and one validation image."
            )
        rng = np.random.default_rng(seed)
        if len(train) > len(self.validation):
            train = train[np.sort(rng.choice(len(train), len(self.validation), replace=False))]
        self.train = train
        self._rng_seed = seed

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.model.num_classes is not None:
            raise ConfigError(
                "ValidationEstimate scores unconditional GANs only; this one is conditional."
            )
        rng = np.random.default_rng((self._rng_seed, 1))  # not the training-sample stream
        self.noise = rng.normal(size=(len(self.validation), self.model.latent_dim))

    def _mean_score(self, model: keras.Model, images: np.ndarray) -> float:
        return float(np.mean(predict(model.critic, images, self.batch_size)))

    def _estimate(self, model: keras.Model, iteration: int) -> dict:
        # The raw generator: the one the critic trains against, whose gap this measures.
        fakes = model.generate(self.noise, batch_size=self.batch_size, averaged=False)
        fake = self._mean_score(model, fakes)
        return {
            "w_train": self._mean_score(model, self.train) - fake,
            "w_validation": self._mean_score(model, self.validation) - fake,
        }
