"""Checkpoints that survive a kill at any instant, and the callback that writes them.

A checkpoint is a directory `ckpt-<fit step>.<n>` holding the whole GAN (`gan.weights.h5`:
both networks, both optimizers' moments and counters, the noise seed, the generator's
weight average where it keeps one) and `state.json`
(the fit step and generator iteration it was taken at, and the state of the callbacks
that keep history, such as `LossHistory` and `EvaluateEvery`). It is written under a hidden
temporary name, flushed to disk, and renamed into place in one step, so at any instant
the directory holds the previous complete checkpoint, the new complete one, or both; only
once the new one is in place is the previous one removed. A killed writer leaves at most a
hidden temporary directory, which the next save removes.

Resuming exactly needs one more thing, the data position: every kwgan pipeline can start
at a given global batch (`start_batch=`), and one fit step consumes one batch, so
`fit_steps(gan)` after `restore` is where the data must resume.

Data-parallel over several processes (`kwgan.distribute`), every process holds the same
state, and only the one that writes the run's files saves it (`save` is `chief_only`); every
process restores from the shared directory, once they agree on the checkpoint to restore
(`latest_fit_steps`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping

import keras

from kwgan.distribute import chief_only
from kwgan.errors import ResumeError, check_positive_int

WEIGHTS_FILE = "gan.weights.h5"
STATE_FILE = "state.json"
_NAME = re.compile(r"^ckpt-(\d{9,})\.(\d+)$")  # fit step, then a count of saves at that step


def fit_steps(gan: keras.Model) -> int:
    """Fit steps (critic iterations, one real batch each) the GAN has trained."""
    return int(keras.ops.convert_to_numpy(gan.optimizer.iterations))


def generator_iterations(gan: keras.Model) -> int:
    return int(keras.ops.convert_to_numpy(gan.generator_iterations))


def latest(directory: str | os.PathLike) -> str | None:
    """The newest complete checkpoint under `directory`, or None."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return None
    found = _checkpoints(directory)
    return os.path.join(directory, found[max(found)]) if found else None


def latest_fit_steps(directory: str | os.PathLike) -> int | None:
    """The fit step of the newest complete checkpoint under `directory` (None if there is
    none), read from its name: what the processes of a data-parallel run must agree on
    before any of them restores, as loading weights into variables that span processes is
    a computation all of them join."""
    path = latest(directory)
    return None if path is None else int(_NAME.match(os.path.basename(path)).group(1))


@chief_only
def save(directory: str | os.PathLike, gan: keras.Model, callbacks: Mapping = ()) -> str:
    """Writes a checkpoint of `gan` and of `callbacks` (name → callback with `get_state`);
    returns its path. Older checkpoints are removed once it is in place. In a process that
    writes no files (`kwgan.distribute.is_chief`) it does nothing and returns None."""
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    step = fit_steps(gan)
    # Saving the same step again (the final save after a periodic one) takes a new name:
    # replacing a complete checkpoint in place would leave a moment with none.
    count = 1 + max((n for s, n in _checkpoints(directory) if s == step), default=-1)
    name = f"ckpt-{step:09d}.{count}"
    final = os.path.join(directory, name)
    tmp = tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        gan.save_weights(os.path.join(tmp, WEIGHTS_FILE))
        state = {
            "fit_steps": step,
            "generator_iterations": generator_iterations(gan),
            "callbacks": {name: cb.get_state() for name, cb in dict(callbacks).items()},
        }
        with open(os.path.join(tmp, STATE_FILE), "w") as f:
            json.dump(state, f)
        _fsync_tree(tmp)
        os.rename(tmp, final)
        _fsync(directory)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    _remove_all_but(directory, final)
    return final


def restore(directory: str | os.PathLike, gan: keras.Model, callbacks: Mapping = ()) -> dict | None:
    """Loads the newest checkpoint under `directory` into a compiled `gan` and the
    `callbacks` (name → callback with `set_state`); returns its state, or None if there is
    no checkpoint (a fresh start)."""
    path = latest(directory)
    if path is None:
        return None
    try:
        with open(os.path.join(path, STATE_FILE)) as f:
            state = json.load(f)
        gan.load_weights(os.path.join(path, WEIGHTS_FILE))
    except (OSError, ValueError, KeyError) as error:
        raise ResumeError(
            f"Checkpoint {path} cannot be read ({' '.join(str(error).split())[:200]}); it was "
            "changed after kwgan wrote it, or written by another model. Move it away to "
            "start this run afresh."
        ) from None
    for name, callback in dict(callbacks).items():
        if name in state["callbacks"]:
            callback.set_state(state["callbacks"][name])
    return state


class Checkpoint(keras.callbacks.Callback):
    """Saves a checkpoint every `every` fit steps and when training ends (at the step that
    stops training, only then: after every other callback's `on_train_end`).

    Args:
        directory: where checkpoints go (only the newest is kept).
        every: fit steps (critic iterations) between checkpoints.
        callbacks: name → callback whose `get_state()` each checkpoint stores, restored by
            `restore(directory, gan, callbacks)` before the next `fit`.

    With `TerminateOnNonFinite` (on by default in `GAN.fit`) a diverged step raises before
    this callback runs, so a checkpoint never holds NaN weights.
    """

    def __init__(self, directory: str | os.PathLike, every: int, callbacks: Mapping = ()):
        super().__init__()
        self.every = check_positive_int(every, "every")
        self.directory, self.callbacks = os.fspath(directory), callbacks

    def on_train_begin(self, logs=None):
        self._step = fit_steps(self.model)

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        # At the step that stops `fit` (the target reached, the time spent) the save waits
        # for `on_train_end`, after every other callback's end of training (the last
        # evaluation, the stopwatch's total): a checkpoint taken here would hold the final
        # weights without them, and a run killed just after it would resume with nothing
        # left to train and those results missing. (`_model`: on JAX the `model` property
        # syncs the whole training state.)
        if self._step % self.every == 0 and not self._model.stop_training:
            save(self.directory, self.model, self.callbacks)

    def on_train_end(self, logs=None):
        save(self.directory, self.model, self.callbacks)


def _checkpoints(directory: str) -> dict[tuple[int, int], str]:
    """(fit step, save count) → name of each complete checkpoint in `directory`."""
    matches = (_NAME.match(name) for name in os.listdir(directory))
    return {(int(m.group(1)), int(m.group(2))): m.group(0) for m in matches if m}


def _remove_all_but(directory: str, keep: str) -> None:
    """Removes every other complete checkpoint and stale temporary ones (a killed save's)."""
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        ours = _NAME.match(name) or (name.startswith(".ckpt-") and name.endswith(".tmp"))
        if ours and path != keep and os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(directory: str) -> None:
    """Flushes a checkpoint's files and the directory itself, so the rename that publishes
    it can never reach the disk before its contents (a power cut, not just a kill)."""
    for name in os.listdir(directory):
        _fsync(os.path.join(directory, name))
    _fsync(directory)
