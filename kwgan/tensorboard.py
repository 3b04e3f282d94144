"""TensorBoard logs in generator iterations, the unit the papers plot against.

Keras's own `keras.callbacks.TensorBoard` steps by `fit` step (critic iteration) or epoch,
so its curves stretch and squeeze with the critic schedule; `TensorBoard` here logs each
generator iteration's losses at step = that iteration, and takes sample grids and any
scalar (an evaluation, a FID) at the iteration they belong to. Event files are written by
TensorFlow's `tf.summary` where TensorFlow and TensorBoard are installed (TensorFlow alone
no longer brings TensorBoard, and its `tf.summary.scalar` then raises), and by the small
`tensorboardX` otherwise, on any backend; kwgan never writes the event format itself.

A resumed run appends to the same directory from its checkpoint's iteration on, so
iterations trained after the last checkpoint of a killed run appear twice, the later
value last, which is the one TensorBoard shows.

In a data-parallel run over several processes only the one that writes the run's files
(`kwgan.distribute.is_chief`) opens an event file; in the others, logging does nothing.
"""

from __future__ import annotations

import importlib.util
import itertools
import numbers
import os
from collections.abc import Callable, Mapping

import keras
import numpy as np

from kwgan.callbacks.base import GeneratorIterationCallback, curves, scalar
from kwgan.distribute import chief_only
from kwgan.errors import ConfigError, TensorFlowMissingError, check_positive_int


class TensorBoard(GeneratorIterationCallback):
    """Logs the per-generator-iteration losses every `every` iterations under `log_dir`.

    Scalar tags are the log names (`d_loss`, `g_loss`, `w_estimate`, ...) without the
    diagnostics. `scalars` and `image` log more at any step, also from other callbacks; the
    writer opens at the first write and is closed at the end of training (a later write
    opens a new event file in the same directory, which TensorBoard reads as one run).
    """

    def __init__(self, log_dir: str | os.PathLike, every: int = 1):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.every = check_positive_int(every, "every")
        self._writer: _Writer | None = None

    @chief_only
    def _log(self, write: Callable[[_Writer], None], flush: bool = True) -> None:
        """`write(writer)` on the event-file writer, opened at the first write; then, unless
        told not to, written out at once."""
        if self._writer is None:
            self._writer = _Writer(self.log_dir)
        write(self._writer)
        if flush:
            self._writer.flush()

    def on_generator_iteration_end(self, iteration: int, logs: dict) -> None:
        if iteration % self.every == 0:
            values = {k: scalar(v) for k, v in curves(logs).items()}
            self._log(lambda writer: writer.scalars(values, iteration), flush=False)

    def scalars(self, values: Mapping[str, float], step: int) -> None:
        """Logs each `tag: value` at generator iteration `step`, written out at once."""
        values = {tag: float(value) for tag, value in values.items()}
        self._log(lambda writer: writer.scalars(values, step))

    def image(self, tag: str, image: np.ndarray, step: int) -> None:
        """Logs a uint8 image `[H, W]` or `[H, W, C]` (C = 1, 3 or 4), such as a sample grid
        from `kwgan.grid.image_grid`, at generator iteration `step`."""
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[..., None]
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
            raise ConfigError(
                f"TensorBoard.image takes a uint8 [H, W] or [H, W, 1|3|4] image, got "
                f"{image.dtype} of shape {image.shape}; kwgan.grid.image_grid makes one."
            )
        self._log(lambda writer: writer.image(tag, image, step))

    def logged(
        self, evaluate: Callable[[keras.Model, int], dict], prefix: str = "eval/"
    ) -> Callable[[keras.Model, int], dict]:
        """`evaluate(model, iteration) -> dict` (as `kwgan.callbacks.EvaluateEvery` takes it)
        that also logs its numeric results as `prefix + name` scalars at `iteration`."""

        def evaluate_and_log(model: keras.Model, iteration: int) -> dict:
            result = evaluate(model, iteration)
            real = {k: v for k, v in result.items() if isinstance(v, numbers.Real)}
            self.scalars({prefix + k: v for k, v in real.items()}, iteration)
            return result

        return evaluate_and_log

    def on_train_end(self, logs=None) -> None:
        # Closed, not only flushed: with tf.summary, the last iteration's unflushed scalars
        # were sometimes (about one run in five, TF 2.21) missing from the file after
        # `flush()` until the writer was destroyed; closing delivers them every time.
        self.close()

    def close(self) -> None:
        """Flushes and closes the event file; a later write opens a new one."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None


_opened = itertools.count()


class _Writer:
    """One event-file writer: `tf.summary` if TensorFlow and TensorBoard are installed,
    else tensorboardX.

    Both name the file `events.out.tfevents.<seconds>.<host>`, so a second writer opened in
    the same second in the same directory (a write after `close`, a resumed run) would
    truncate the first one's file; a suffix of the process id and a per-process count
    keeps every writer's file its own.
    """

    def __init__(self, log_dir: str):
        suffix = f".{os.getpid()}.{next(_opened)}"
        if all(importlib.util.find_spec(m) is not None for m in ("tensorflow", "tensorboard")):
            import tensorflow as tf

            writer = tf.summary.create_file_writer(log_dir, filename_suffix=suffix)
            self._tf, self._writer = tf, writer
            return
        try:
            from tensorboardX import SummaryWriter
        except ImportError as error:
            raise TensorFlowMissingError(
                "kwgan.tensorboard.TensorBoard writes event files with tensorboardX (or "
                "TensorFlow with TensorBoard): pip install tensorboardX."
            ) from error
        self._tf, self._writer = None, SummaryWriter(log_dir, filename_suffix=suffix)

    def scalars(self, values: dict[str, float], step: int) -> None:
        if self._tf is None:
            for tag, value in values.items():
                self._writer.add_scalar(tag, value, step)
            return
        with self._writer.as_default(step=step):
            for tag, value in values.items():
                self._tf.summary.scalar(tag, value)

    def image(self, tag: str, image: np.ndarray, step: int) -> None:
        if self._tf is None:
            self._writer.add_image(tag, image, step, dataformats="HWC")
            return
        with self._writer.as_default(step=step):
            self._tf.summary.image(tag, image[None])

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
