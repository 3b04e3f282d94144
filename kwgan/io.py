"""Atomic file output that never deletes what the user had.

Every artefact kwgan writes (plots, sample arrays, metrics, SavedModels) goes through
`atomic_path`, so an interrupted run never leaves a half-written file behind under the final
name: readers either see the previous complete file or the new complete one.

Replacing is where outputs lose data, so the rules are strict. A directory is never replaced,
since a mistyped `--out` must not wipe a folder of photos, unless the writer's `replaceable`
predicate recognises it as an artefact of its own (a previous SavedModel export), and then
only after the new one is complete. A regular file or a symlink at the output path is
replaced (a link itself, never what it points to) where the caller says so (`overwrite`,
the default): a library caller that names a file names it as the output, and a run writes
its files inside its own run directory. A path typed on a command line (`python -m
kwgan.sample --npy notes.txt`) may name a file kwgan never wrote and cannot tell from one it
did, so writers there pass `overwrite=False`, which refuses any existing entry that
`replaceable` does not recognise, unless the user asked to overwrite it.

`check_directory` checks a directory a run will write into (`--out`, `--tensorboard`) the
same way, before the run starts rather than at its first write.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from kwgan.errors import ConfigError, OutputExistsError

Replaceable = Callable[[str], bool]


def check_output(
    path: str | os.PathLike,
    *,
    replaceable: Replaceable | None = None,
    overwrite: bool = True,
) -> None:
    """Raises `OutputExistsError` if `atomic_path(path, replaceable=..., overwrite=...)`
    would refuse `path`.

    Public so that a script can refuse a bad output path before it spends minutes computing
    what it would write there.
    """
    path = os.fspath(path)
    if not os.path.lexists(path):
        return
    directory = _is_real_dir(path)
    if (overwrite and not directory) or (replaceable is not None and replaceable(path)):
        return
    if directory:
        raise OutputExistsError(
            f"Output path {path!r} is an existing directory that kwgan did not write; "
            "refusing to replace it (kwgan never deletes what it did not write). Write to a "
            "path that does not exist yet, or move the directory away."
        )
    raise OutputExistsError(
        f"Output path {path!r} already exists and kwgan cannot tell that it wrote it; "
        "refusing to replace it (kwgan never deletes what it did not write). Write to a "
        "path that does not exist yet, or move the file away."
    )


def check_directory(path: str | os.PathLike, flag: str) -> None:
    """Raises `ConfigError` if a run could not create or write the directory `path` (given
    as `--flag`): a file is there, or the nearest existing folder on the way to it is a
    file or not writable. Checked before a run starts, so that a bad path is one line
    instead of a traceback at the run's first write."""
    path = os.path.abspath(path)
    existing = path
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        where = "" if existing == path else f" ({existing} on the way to it is a file)"
        raise ConfigError(
            f"--{flag} {path} is not a directory{where}; pass a directory, new or existing."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"--{flag} {path} cannot be written ({existing} is not writable for this user); "
            f"pass a --{flag} you may write to."
        )


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike,
    *,
    suffix: str = "",
    replaceable: Replaceable | None = None,
    overwrite: bool = True,
) -> Iterator[str]:
    """Yields a temporary path beside `path`; moves it onto `path` only on success.

    `suffix` lets writers that infer the format from the file name (matplotlib, Pillow,
    `numpy.save`) see the right extension on the temporary name. The writer may create a
    file or a directory there (a SavedModel is a directory).

    What is already at `path` is checked before the writer runs and again before the move:
    a file or symlink is replaced, unless `overwrite` is false; a directory raises
    `OutputExistsError` and is left untouched unless `replaceable(path)` is true, as a
    writer's predicate says only of a directory it wrote itself. Such a directory is renamed
    aside, the new output renamed into place, and only then the old one deleted, so a failure
    in between restores it. With `overwrite=False` an existing file or symlink is refused the
    same way, unless `replaceable(path)`. On any error the temporary output is removed and
    `path` keeps what it had.
    """
    path = os.fspath(path)
    target = os.path.abspath(path)  # also drops a trailing slash, which rename rejects
    check_output(path, replaceable=replaceable, overwrite=overwrite)
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    tmp = _unused_name(target, f".tmp{suffix}")
    try:
        yield tmp
        # It may have appeared meanwhile.
        check_output(path, replaceable=replaceable, overwrite=overwrite)
        if os.path.lexists(target) and (os.path.isdir(tmp) or _is_real_dir(target)):
            _swap(tmp, target)
        else:
            os.replace(tmp, target)  # atomic, and replaces a symlink itself
    finally:
        with contextlib.suppress(OSError):  # never mask the error that got us here
            _remove(tmp)


def _unused_name(target: str, suffix: str) -> str:
    """A hidden, currently unused name beside `target` (the same file system, so renames
    between the two are atomic); nothing is left at it."""
    fd, name = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=suffix, dir=os.path.dirname(target)
    )
    os.close(fd)
    os.remove(name)
    return name


def _swap(new: str, target: str) -> None:
    """Replaces `target` by `new` where one rename cannot (a directory is involved): the old
    entry goes aside first and is restored if the second rename fails."""
    aside = _unused_name(target, ".old")
    os.rename(target, aside)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(aside, target)
        raise
    _remove(aside)


def _is_real_dir(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _remove(path: str) -> None:
    """Deletes one of atomic_path's own hidden names: a symlink is unlinked, never followed."""
    if _is_real_dir(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Writes `obj` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")
