"""Atomic file output.

Every artefact kwgan writes (plots, sample arrays, metrics, SavedModels) goes through
`atomic_path`, so an interrupted run never leaves a half-written file behind under the final
name: readers either see the previous complete file or the new complete one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str = "") -> Iterator[str]:
    """Yields a temporary path beside `path`; renames it onto `path` only on success.

    `suffix` lets writers that infer the format from the file name (matplotlib, Pillow,
    `numpy.save`) see the right extension on the temporary name. Works for files and for
    directories (a SavedModel is a directory).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=f".tmp{suffix}", dir=directory
    )
    os.close(fd)
    os.remove(tmp)  # writers create it themselves (a file or a directory)
    try:
        yield tmp
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.remove(tmp)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Writes `obj` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write("\n")
