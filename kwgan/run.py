"""An experiment's output directory: one writer at a time, one configuration, resumable.

`Run` is what `experiments/*.py` open before they train (mimicry's trainer does the same
with its log directory, `torch_mimicry/training/trainer.py`):

* its own directory: an existing one is a kwgan run directory only if it holds `run.json`,
  and one that holds anything else of the user's (their own `metrics.json`, a folder of
  photos) is refused before anything is written into it, since the run would overwrite
  and mix into what it did not write. A new or empty directory is taken, and so is one
  holding only what a run leaves before its record exists (the lock; a sweep's `log.txt`);
* a lock (`.kwgan.lock`, held with `flock`, so a killed run never leaves it stuck): a second
  run on the same directory is refused, naming the first one's PID;
* `run.json`: every flag of the run. Once the run has trained something a rerun would go on
  from (a checkpoint, or a finished invocation), rerunning into the directory resumes it
  only with the same flags (the target iteration count may grow, and flags that change no
  result, such as a time budget, may differ); any other difference is refused in one line
  naming the flags. A run that stopped before its first checkpoint (flags that fail while
  the GAN is built, a kill in the first interval) binds nothing: the next one starts
  afresh with its own flags, as it would have to anyway;
* whether the run finished: `run.json` says so only after every final output is written,
  so a run killed while writing them resumes and writes them again.

A data-parallel run over several processes (`kwgan.distribute`) is one run: only the process
that writes its files (`kwgan.distribute.is_chief`) takes the lock and writes `run.json` and
the checkpoints; every process reads the record and checks the flags alike, restores the
same checkpoint from the shared directory (`train` refuses to start if they find different
ones), and so decides alike whether there is anything left to train.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import keras

from kwgan import checkpoint
from kwgan.callbacks.guards import StopAtGeneratorIteration
from kwgan.callbacks.progress import GeneratorProgbar
from kwgan.distribute import agree, chief_only
from kwgan.errors import OutputExistsError, ResumeError, RunLockedError
from kwgan.io import check_directory, write_json

RECORD_FILE = "run.json"
LOCK_FILE = ".kwgan.lock"
# A run's printed output, which a sweep keeps in the run's directory from before the run
# opens it (`kwgan.experiment.sweeps`).
LOG_FILE = "log.txt"


class Run:
    """The output directory of one experiment run (a context manager holding its lock).

    Args:
        directory: the run's output directory (created if missing).
        config: every flag of the run, JSON-serialisable.
        target: the name of the flag counting what the run trains towards (`--steps`).
        free: flags that may differ between invocations (they change no result).
        target_may_grow: whether a larger target continues the run; not where the target
            shapes the training itself (a learning rate decaying to 0 at `--steps`).
        data: what the run reads, by role (`{"train": kwgan.data.describe(...)}`): recorded
            in `run.json`, and a resume whose data has another `digest` is refused, naming
            both sources (a free `--data_dir` may move the data, not swap it).
        holds_runs: whether the directory is a sweep's, whose runs are its subdirectories
            (`kwgan.experiment.sweeps`): a directory holding only kwgan runs (each with its
            own record) is then taken before its first invocation, so that runs trained
            alone can be collected into a new sweep.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        config: Mapping[str, Any],
        target: str = "steps",
        free: Iterable[str] = (),
        target_may_grow: bool = True,
        data: Mapping[str, Mapping[str, Any]] | None = None,
        defaults: Mapping[str, Any] | None = None,
        holds_runs: bool = False,
    ):
        self.directory = os.fspath(directory)
        self.holds_runs = holds_runs
        self.config = dict(config)
        self.target = target
        self.free = frozenset(free) | ({target} if target_may_grow else set())
        self._lock = None
        self.record: dict | None = None
        self.data = None if data is None else {k: dict(v) for k, v in data.items()}
        # What a record written before a config field existed holds for it: a run of an
        # older kwgan resumes under a newer one where the new field keeps its default.
        self.defaults = dict(defaults or {})

    def __enter__(self) -> Run:
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise ResumeError(f"Output path {self.directory} exists and is not a directory.")
        check_directory(self.directory, "out")
        self._check_owned()
        self._acquire()
        try:
            self.record = self._read_record()
            if self.record is not None and not self._binds(self.record):
                self.record = None  # it trained nothing: a new run starts, with its flags
            if self.record is not None:
                self._check_config(self.record["config"])
                self._check_data(self.record.get("data") or {})
            if not self.already_complete():
                self._write_record({"complete": False, **self._done()})
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._release()

    @property
    def previous(self) -> dict:
        """The last invocation's record: `{"complete": bool, "generator_iterations": int}`
        where it finished; empty for a new run."""
        return dict(self.record or {})

    def already_complete(self) -> bool:
        """Whether a previous invocation finished exactly the target asked for now."""
        done = self.previous.get("generator_iterations")
        return bool(self.previous.get("complete")) and done == self.config[self.target]

    @property
    def complete_message(self) -> str:
        """What a script says when `already_complete()`: nothing to do, and how to go on."""
        return (
            f"{self.directory} already holds this finished run ({self.config[self.target]} "
            f"generator iterations); pass a larger --{self.target} to continue it."
        )

    def complete(self, generator_iterations: int) -> None:
        """Marks the run finished; call after every final output is written."""
        self._write_record({"complete": True, "generator_iterations": generator_iterations})

    @chief_only
    def _write_record(self, state: dict) -> None:
        data = {"data": self.data} if self.data is not None else {}
        write_json(self._path(RECORD_FILE), {"config": self.config, **data, **state})

    def _done(self) -> dict:
        """What a previous invocation finished, kept until this one finishes too."""
        if self.record and self.record.get("complete"):
            return {"generator_iterations": self.record["generator_iterations"]}
        return {}

    def _path(self, *names: str) -> str:
        return os.path.join(self.directory, *names)

    def _read_record(self) -> dict | None:
        path = self._path(RECORD_FILE)
        if not os.path.exists(path):
            return None
        try:
            with open(path) as f:
                record = json.load(f)
        except (OSError, ValueError):
            record = None
        if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
            raise ResumeError(
                f"{path} is not a kwgan run record (damaged or written by something else); "
                "move it away, or choose another --out."
            )
        return record

    def _check_owned(self) -> None:
        """Refuses an existing directory that is not a kwgan run's (no record) and holds
        something a run did not leave there (a sweep's: something not a kwgan run); before
        the lock file is created in it."""
        if not os.path.isdir(self.directory) or os.path.exists(self._path(RECORD_FILE)):
            return
        own = (LOCK_FILE, LOG_FILE)
        hidden_record = f".{RECORD_FILE}."  # write_json's temporary, if a kill left one
        others = sorted(
            name
            for name in os.listdir(self.directory)
            if name not in own
            and not name.startswith(hidden_record)
            and not (self.holds_runs and os.path.isfile(self._path(name, RECORD_FILE)))
        )
        if others:
            more = f" and {len(others) - 1} more" if len(others) > 1 else ""
            raise OutputExistsError(
                f"{self.directory} holds {others[0]!r}{more} but no {RECORD_FILE}, so it is "
                "not a kwgan run directory; refusing to write into it (kwgan never "
                "overwrites what it did not write). Choose a new or empty --out, or move "
                "its contents away."
            )

    def _binds(self, record: Mapping[str, Any]) -> bool:
        """Whether a previous invocation trained something a rerun would continue, so that
        its flags bind this one: it finished (the record keeps its generator iterations
        until this one finishes too), or it left a checkpoint."""
        if record.get("complete") or "generator_iterations" in record:
            return True
        return checkpoint.latest_fit_steps(self._path(CHECKPOINTS)) is not None

    def _check_config(self, previous: Mapping[str, Any]) -> None:
        keys = sorted((set(previous) | set(self.config)) - self.free)
        recorded = {k: previous.get(k, self.defaults.get(k)) for k in keys}
        differing = [k for k in keys if recorded[k] != self.config.get(k)]
        if differing:
            changes = ", ".join(
                f"--{k} {recorded[k]!r} → {self.config.get(k)!r}" for k in differing
            )
            raise ResumeError(
                f"{self.directory} holds a run with other flags ({changes}); resuming would "
                "mix two configurations. Rerun with the recorded flags (see "
                f"{RECORD_FILE}), or choose another --out."
            )
        if self.previous.get("complete"):
            self.check_target(self.previous["generator_iterations"])

    def _check_data(self, previous: Mapping[str, Mapping[str, Any]]) -> None:
        """Refuses a resume that reads other data than the run was trained on."""
        for role in sorted(set(previous) & set(self.data or {})):
            old, new = previous[role], self.data[role]
            if old.get("digest") != new.get("digest"):
                raise ResumeError(
                    f"{self.directory} was trained on other {role} data ({_data(old)} → "
                    f"{_data(new)}); resuming would train one run on two datasets. Pass the "
                    f"data it was trained on (the 'data' in {RECORD_FILE}), or choose another "
                    "--out."
                )

    def check_target(self, done: int) -> None:
        """Refuses a target below the `done` generator iterations already trained."""
        wanted = self.config[self.target]
        if wanted < done:
            raise ResumeError(
                f"{self.directory} already holds {done} generator iterations, more than "
                f"--{self.target} {wanted}; pass --{self.target} >= {done}, or choose "
                "another --out."
            )

    @chief_only
    def _acquire(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        fd = os.open(self._path(LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            with open(self._path(LOCK_FILE)) as f:
                pid = f.read().strip() or "unknown"
            raise RunLockedError(
                f"{self.directory} is in use by another kwgan run (PID {pid}); wait for it "
                "to finish, or choose another --out."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock = fd

    def _release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None


def _data(description: Mapping[str, Any]) -> str:
    """A data description's source and size, as a resume error names them."""
    d = description
    return f"{d.get('source')}: {d.get('files')} files, {d.get('bytes')} bytes"


CHECKPOINTS = "checkpoints"


def train(
    run: Run,
    gan: keras.Model,
    dataset: Callable[[int], Any],
    callbacks: Sequence[keras.callbacks.Callback] = (),
    stateful: Mapping[str, keras.callbacks.Callback] | None = None,
    checkpoint_every: int = 500,
    progress: bool = True,
) -> None:
    """Trains `gan` (compiled) up to the run's target generator iterations, resuming.

    Restores the newest checkpoint of the run (the GAN and the `stateful` callbacks, name →
    callback with `get_state`/`set_state`), builds the data with `dataset(start_batch)` at
    the global batch where the checkpoint left off, and fits with a checkpoint every
    `checkpoint_every` fit steps and at the end, so that a kill at any instant followed by a
    rerun ends exactly where the uninterrupted run ends. Returns at once when the
    checkpoint already holds the target. `progress` shows a bar in generator iterations.
    Over several processes every one calls it, and a `ResumeError` stops them all if they
    find different checkpoints (a directory they do not share).
    """
    directory = os.path.join(run.directory, CHECKPOINTS)
    stateful = dict(stateful or {})
    found = checkpoint.latest_fit_steps(directory)
    if not agree(-1 if found is None else found):
        raise ResumeError(
            "The processes of this run found different checkpoints to resume from (this one: "
            f"{'none' if found is None else f'{found} fit steps'}); each must read the same "
            f"{directory}, on a filesystem they all share."
        )
    checkpoint.restore(directory, gan, stateful)
    done = checkpoint.generator_iterations(gan)
    run.check_target(done)
    target = run.config[run.target]
    if done >= target:
        return
    data = dataset(checkpoint.fit_steps(gan))
    # Keras re-creates a tf.data iterator every epoch unless steps_per_epoch is set, and
    # the resumable streams are infinite; PyDatasets keep their own epochs.
    steps_per_epoch = None if isinstance(data, keras.utils.PyDataset) else 1000
    gan.fit(
        data,
        epochs=10**9,
        steps_per_epoch=steps_per_epoch,
        # kwgan's pipelines order their batches themselves; Keras would also permute a
        # PyDataset's batches within each of its epochs, with Python's global RNG, so a
        # resumed run would see them in another order.
        shuffle=False,
        verbose=0,
        callbacks=[
            StopAtGeneratorIteration(target),
            *([GeneratorProgbar(target)] if progress else []),
            *callbacks,
            checkpoint.Checkpoint(directory, checkpoint_every, stateful),  # last: after them
        ],
    )
