"""Callbacks that think in generator iterations, the unit both papers count in.

`fit` steps are critic iterations (one real batch each); the critic schedule decides when a
generator iteration happens. Every step logs the model's own `generator_iterations`
counter, and `GeneratorIterationCallback` reads it from the logs — one definition of the
count, right also when `steps_per_execution` > 1 hands callbacks one batch end per several
steps — without touching the model's variables, which on JAX would sync the whole training
state every step. Reading the logged scalar does wait for the step to finish; `GAN.fit`'s
NaN guard reads every step's logs anyway (`benchmarks/speed.py --workloads toy
--noterminate_on_nan` measures that read: about 1% on the JAX CPU toy benchmark).

The callbacks that write files write them only in the process that writes a data-parallel
run's files (`kwgan.distribute.chief_only`); what they write (samples, evaluations) every
process computes, as generating is a computation over all the run's devices.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

import keras
import numpy as np

from kwgan.distribute import chief_only, predict
from kwgan.errors import ConfigError, DataError, NonFiniteLossError, check_positive_int
from kwgan.grid import save_grid
from kwgan.io import atomic_path
from kwgan.plots import w_estimate_curve

EMPTY_DATA = (
    "The training data yielded no batch, so nothing was trained: check that the dataset "
    "is not empty (a filter that drops everything, a split with fewer examples than the "
    "batch size)."
)
# Logged by the training step for the callbacks, not curves to record or show.
DIAGNOSTICS = ("label_errors", "non_finite_inputs", "generator_iterations")


def _scalar(x) -> float:
    return float(np.asarray(keras.ops.convert_to_numpy(x)))


def _curves(logs: dict) -> dict:
    return {name: value for name, value in logs.items() if name not in DIAGNOSTICS}


class GeneratorIterationCallback(keras.callbacks.Callback):
    """Base class: calls `on_generator_iteration_end(iteration, logs)` after each one.

    With `steps_per_execution` = k, Keras reports one batch end per k steps, which may close
    several generator iterations: each gets its call, with the logs of the last step.
    """

    def on_train_begin(self, logs=None):
        self.generator_iteration = int(_scalar(self.model.generator_iterations))

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        done = int(_scalar(logs["generator_iterations"]))
        while self.generator_iteration < done:
            self.generator_iteration += 1
            self.on_generator_iteration_end(self.generator_iteration, logs)

    def on_generator_iteration_end(self, iteration: int, logs: dict) -> None:
        """Override: `iteration` generator iterations are now complete."""


class TerminateOnNonFinite(GeneratorIterationCallback):
    """Raises at the first step whose losses are NaN or infinite, or whose batch held NaN
    or infinite values or labels outside the model's classes (`GAN.fit` adds it first).

    Raising, rather than setting `stop_training` as Keras's `TerminateOnNaN` does, keeps
    every later callback from seeing the diverged model: no checkpoint, grid or export of
    NaN weights is written, and the last checkpoint stays the last good state. It also
    refuses data that ended its first epoch without a single batch.
    """

    def __init__(self, check_losses: bool = True):
        super().__init__()
        self.check_losses = check_losses
        self.batches_seen = 0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.batches_seen += 1
        if _scalar(logs.get("non_finite_inputs", 0)):
            raise DataError(
                f"A batch at generator iteration {self.generator_iteration + 1} holds "
                f"{int(_scalar(logs['non_finite_inputs']))} NaN or infinite values; clean the "
                "data (e.g. np.nan_to_num, or drop the damaged examples) before training."
            )
        errors = logs.get("label_errors")
        if errors is not None and _scalar(errors):
            raise DataError(
                f"A batch at generator iteration {self.generator_iteration + 1} has "
                f"{int(_scalar(errors))} labels outside [0, {self._num_classes}): labels "
                "must be class ids 0 … num_classes − 1."
            )
        if self.check_losses:
            bad = [n for n, v in _curves(logs).items() if not np.isfinite(_scalar(v))]
            if bad:
                values = ", ".join(f"{n} = {_scalar(logs[n])}" for n in bad)
                raise NonFiniteLossError(
                    f"Training diverged at generator iteration {self.generator_iteration + 1}"
                    f": {values}. Nothing was saved from this step. Look for NaN/Inf in the "
                    "data, a learning rate too large, or a penalty weight that is not finite."
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


class Stopwatch(keras.callbacks.Callback):
    """Seconds spent in `fit` (`seconds`), summed over a run's invocations when a
    checkpoint keeps its state: a resumed run reports its whole training time.

    Also the steady-state cost of a generator iteration
    (`steady_seconds_per_generator_iteration`): the time from the end of each `fit`'s first
    step — which includes tracing and compiling — to its last, per generator iteration in
    that span. It times the experiment's whole loop (its data, callbacks and evaluations),
    so `benchmarks/speed.py` can hold it beside the bare `fit` of the same networks.
    """

    def __init__(self):
        super().__init__()
        self.seconds = 0.0
        self.steady_seconds = 0.0
        self.steady_iterations = 0

    def on_train_begin(self, logs=None):
        self._begin, self._before = time.monotonic(), self.seconds
        self._first = self._last = None

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        self.seconds = self._before + now - self._begin
        if logs and "generator_iterations" in logs:
            mark = (now, int(_scalar(logs["generator_iterations"])))
            self._first = self._first or mark
            self._last = mark

    def on_train_end(self, logs=None):
        if self._first is not None:
            self.steady_seconds += self._last[0] - self._first[0]
            self.steady_iterations += self._last[1] - self._first[1]

    @property
    def steady_seconds_per_generator_iteration(self) -> float | None:
        if not self.steady_iterations:
            return None
        return self.steady_seconds / self.steady_iterations

    def get_state(self) -> dict:
        return {
            "seconds": self.seconds,
            "steady_seconds": self.steady_seconds,
            "steady_iterations": self.steady_iterations,
        }

    def set_state(self, state: dict) -> None:
        self.seconds = float(state["seconds"])
        # Checkpoints written before the steady-state timing have only "seconds".
        self.steady_seconds = float(state.get("steady_seconds", 0.0))
        self.steady_iterations = int(state.get("steady_iterations", 0))


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
        for name, value in _curves(logs).items():
            self.history.setdefault(name, []).append(_scalar(value))

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
        fake = self._mean_score(model, model.generate(self.noise, batch_size=self.batch_size))
        return {
            "w_train": self._mean_score(model, self.train) - fake,
            "w_validation": self._mean_score(model, self.validation) - fake,
        }


class GeneratorProgbar(GeneratorIterationCallback):
    """A progress bar in generator iterations (use with `fit(..., verbose=0)`).

    Keras's own bar counts `fit` steps, i.e. critic iterations, which with a warm-up
    schedule run 20× faster at some points than at others; this one counts what the papers
    count, up to the absolute iteration `total` (so a resumed run starts part-way), and
    shows the logs of the critic step that closed each iteration.
    """

    def __init__(self, total: int, verbose: int = 1):
        super().__init__()
        self.total = int(total)
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._bar = keras.utils.Progbar(
            self.total,
            verbose=self.verbose,
            unit_name="generator iteration",
            stateful_metrics=[
                "d_loss",
                "g_loss",
                "w_estimate",
                "js_estimate",
                "gp",
                "ac_loss",
                "ac_accuracy",
            ],
        )
        if self.generator_iteration:
            self._bar.update(min(self.generator_iteration, self.total))

    def on_generator_iteration_end(self, iteration, logs):
        values = [(name, _scalar(value)) for name, value in _curves(logs).items()]
        self._bar.update(min(iteration, self.total), values=values)


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
