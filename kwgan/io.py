"""Atomic file output that never deletes what the user had.

Every artefact kwgan writes (plots, sample arrays, metrics, SavedModels) goes through
`atomic_path`, so an interrupted run never leaves a half-written file behind under the final
name: readers either see the previous complete file or the new complete one.

Replacing is where outputs lose data, so the rules are strict. A regular file or a symlink at
the output path is replaced (a link itself, never what it points to): the user named that
file as the output. A directory is never replaced, since a mistyped `--out` must not wipe a
folder of photos, unless the writer's `replaceable` predicate recognises it as an artefact of
its own (a previous SavedModel export), and then only after the new one is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from kwgan.errors import OutputExistsError

Replaceable = Callable[[str], bool]


def check_output(path: str | os.PathLike, *, replaceable: Replaceable | None = None) -> None:
    """Raises `OutputExistsError` if `atomic_path(path, replaceable=...)` would refuse `path`.

    Public so that a script can refuse a bad output path before it spends minutes computing
    what it would write there.
    """
    path = os.fspath(path)
    if not os.path.isdir(path) or os.path.islink(path):
        return
    if replaceable is not None and replaceable(path):
        return
    raise OutputExistsError(
        f"Output path {path!r} is an existing directory that kwgan did not write; refusing "
        "to replace it (kwgan never deletes what it did not write). Write to a path that "
        "does not exist yet (or to a file, which is overwritten), or move the directory away."
    )


@contextlib.contextmanager
def atomic_path(
    path: str | os.PathLike, *, suffix: str = "", replaceable: Replaceable | None = None
) -> Iterator[str]:
    """Yields a temporary path beside `path`; moves it onto `path` only on success.

    `suffix` lets writers that infer the format from the file name (matplotlib, Pillow,
    `numpy.save`) see the right extension on the temporary name. The writer may create a
    file or a directory there (a SavedModel is a directory).

    What is already at `path` is checked before the writer runs and again before the move:
    a file or symlink is replaced; a directory raises `OutputExistsError` and is left
    untouched unless `replaceable(path)` is true, as a writer's predicate says only of a
    directory it wrote itself. Such a directory is renamed aside, the new output renamed into
    place, and only then the old one deleted, so a failure in between restores it. On any
    error the temporary output is removed and `path` keeps what it had.
    """
    path = os.fspath(path)
    target = os.path.abspath(path)  # also drops a trailing slash, which rename rejects
    check_output(path, replaceable=replaceable)
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    tmp = _unused_name(target, f".tmp{suffix}")
    try:
        yield tmp
        check_output(path, replaceable=replaceable)  # it may have appeared meanwhile
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
