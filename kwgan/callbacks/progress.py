"""Callbacks that show or time a run's progress: a progress display in generator
iterations, fit for a terminal and for a log file, and a stopwatch that survives a resume."""

from __future__ import annotations

import math
import sys
import time

import keras

from kwgan.callbacks.base import GeneratorIterationCallback, curves, scalar
from kwgan.errors import check_positive_int


def _on_terminal() -> bool:
    """Whether `sys.stdout`, as it is now, is a terminal (a stream without `isatty` is not)."""
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def _format(value: float) -> str:
    """A loss as Keras's `Progbar` shows one: 4 decimals, or 4 significant digits in
    scientific notation when it is that small."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


class GeneratorProgbar(GeneratorIterationCallback):
    """Progress in generator iterations (use with `fit(..., verbose=0)`).

    Keras's own bar counts `fit` steps, i.e. critic iterations, which with a warm-up
    schedule run 20× faster at some points than at others; this one counts what the papers
    count, up to the absolute iteration `total` (so a resumed run starts part-way), and
    shows the logs of the critic step that closed each iteration.

    On a terminal it is Keras's `Progbar`, redrawn in place. Elsewhere (`make demo > log`,
    a pipe, a batch job) a redraw overwrites nothing: Keras's bar appends a whole new copy
    of itself at every update, up to 20 a second, some 100 KB for the demo's first 300
    iterations. There it writes plain lines instead, every `every` generator iterations, at
    `total` and at the last iteration of each `fit`, each with the iteration out of
    `total`, the time since this `fit` began (h:mm:ss) and the losses of the step that
    closed the iteration, e.g.

        generator iteration  100/10000 - 0:00:07 - d_loss: -1.5021 - g_loss: 0.3154 - ...

    `every` defaults to 1 % of `total`, so a run's log has about a hundred lines whatever
    its length (about 11 KB for `make demo`'s 10 000), but at most 100, so that a long run
    (the WGAN-GP reference's `gan_64x64.py` trains 200 000) still reports often enough to
    watch, every 100 iterations rather than every 2 000. It counts iterations, not seconds,
    so the lines fall at the same iterations in every run, resumed or not, and two runs'
    logs line up. `verbose` = 0 silences both displays.
    """

    def __init__(self, total: int, verbose: int = 1, every: int | None = None):
        super().__init__()
        self.total = int(total)
        self.verbose = verbose
        if every is None:
            every = max(1, min(100, math.ceil(self.total / 100)))
        self.every = check_positive_int(every, "every")

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._lines = bool(self.verbose) and not _on_terminal()
        if self._lines:
            self._begin = time.monotonic()
            self._written, self._logs = self.generator_iteration, {}
            return
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
        if self._lines:
            self._logs = logs
            if iteration % self.every == 0 or iteration == self.total:
                self._write(iteration)
            return
        values = [(name, scalar(value)) for name, value in curves(logs).items()]
        self._bar.update(min(iteration, self.total), values=values)

    def on_train_end(self, logs=None):
        if self._lines and self.generator_iteration > self._written:
            self._write(self.generator_iteration)

    def _write(self, iteration: int) -> None:
        """One plain line for `iteration`, with the latest logs, written out at once."""
        self._written = iteration
        seconds = int(time.monotonic() - self._begin)
        clock = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        losses = "".join(
            f" - {name}: {_format(scalar(value))}" for name, value in curves(self._logs).items()
        )
        width = len(str(self.total))
        print(
            f"generator iteration {iteration:{width}d}/{self.total} - {clock}{losses}", flush=True
        )


class Stopwatch(keras.callbacks.Callback):
    """Seconds spent in `fit` (`seconds`), summed over a run's invocations when a
    checkpoint keeps its state: a resumed run reports its whole training time.

    Also the steady-state cost of a generator iteration
    (`steady_seconds_per_generator_iteration`): the time from the end of each `fit`'s first
    step — which includes tracing and compiling — to its last, per generator iteration in
    that span. It times the experiment's whole loop (its data, callbacks and evaluations),
    so `benchmarks/speed.py` can hold it beside the bare `fit` of the same networks.

    `get_state` counts the running `fit` up to its latest step, as `seconds` does: a
    checkpoint taken mid-`fit` (at a step that may turn out to be the run's last, if the
    process is killed before `fit` ends) holds the time up to that step, and a run resumed
    from it adds only what it trains afterwards.
    """

    def __init__(self):
        super().__init__()
        self.seconds = 0.0
        self.steady_seconds = 0.0
        self.steady_iterations = 0
        self._first = self._last = None

    def on_train_begin(self, logs=None):
        self._begin, self._before = time.monotonic(), self.seconds
        self._first = self._last = None

    def on_train_batch_end(self, batch, logs=None):
        now = time.monotonic()
        self.seconds = self._before + now - self._begin
        if logs and "generator_iterations" in logs:
            mark = (now, int(scalar(logs["generator_iterations"])))
            self._first = self._first or mark
            self._last = mark

    def on_train_end(self, logs=None):
        self.steady_seconds, self.steady_iterations = self._steady()
        self._first = self._last = None

    def _steady(self) -> tuple[float, int]:
        """(steady seconds, their generator iterations) up to the latest step, the running
        `fit`'s span included."""
        if self._first is None:
            return self.steady_seconds, self.steady_iterations
        return (
            self.steady_seconds + self._last[0] - self._first[0],
            self.steady_iterations + self._last[1] - self._first[1],
        )

    @property
    def steady_seconds_per_generator_iteration(self) -> float | None:
        seconds, iterations = self._steady()
        if not iterations:
            return None
        return seconds / iterations

    def get_state(self) -> dict:
        seconds, iterations = self._steady()
        return {
            "seconds": self.seconds,
            "steady_seconds": seconds,
            "steady_iterations": iterations,
        }

    def set_state(self, state: dict) -> None:
        self.seconds = float(state["seconds"])
        # Checkpoints written before the steady-state timing have only "seconds".
        self.steady_seconds = float(state.get("steady_seconds", 0.0))
        self.steady_iterations = int(state.get("steady_iterations", 0))
        self._first = self._last = None
