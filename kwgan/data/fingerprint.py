"""What a run reads, described cheaply enough to check on every invocation.

`describe(name, split=..., data_dir=...)` finds the files an image dataset's split is read
from, by the same search the readers use (`kwgan.data.sources`), and returns where they are,
how many there are, their total size, the number of examples where the files say so
cheaply, and a digest. The experiments record it in `run.json` (`kwgan.run.Run`'s `data`)
and refuse to resume a run whose digest changed, so `--data_dir` may move the data (it is a
free flag) but not swap it: one run trained on two datasets would be silently wrong.

The digest is of the files' names (relative to the source), sizes and first and last
`SAMPLE_BYTES` bytes, not of whole files, so describing LSUN-sized folders stays cheap: two
datasets of equal names and sizes (a 60 000-image idx file of another dataset) differ in
their sampled bytes, but a same-size edit inside a file escapes it. A tensorflow-datasets
source is a versioned, deterministic build: its digest is the dataset's name, version and
split, so a download finished between two invocations changes nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Mapping, Sequence
from typing import Any

from kwgan.data.folder import image_files
from kwgan.data.idx import idx_count
from kwgan.data.registry import dataset_info
from kwgan.data.sources import idx_source
from kwgan.data.tfds import require
from kwgan.errors import ConfigError

SAMPLE_BYTES = 4096
_DIGITS_CSV = ("datasets", "data", "digits.csv.gz")  # inside scikit-learn, what load_digits reads
_DIGITS_COUNT = 1797


def describe(
    name: str,
    *,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    download: bool = False,
) -> dict[str, Any]:
    """Where image dataset `name`'s `split` is read from, as a JSON-ready dict.

    Keys: `dataset`, `split`, `source` (the directory or file read: the idx files' folder,
    the image folder, scikit-learn's digits file, a tensorflow-datasets build), `files` and
    `bytes` (what is read there), `examples` (the images in the split, or None where only
    reading them would tell) and `digest` (see the module docstring). The arguments mean
    what they mean in `kwgan.data.images`.

    Example: `describe("folder", data_dir="~/pictures")["files"]` is the number of images
    `images("folder", data_dir="~/pictures", ...)` trains on.

    Raises the errors reading the data would raise, where the search finds nothing (or,
    for idx files, only part of a split), before anything is read.
    """
    info = dataset_info(name)
    if not info.tfds and split != "train":
        raise ConfigError(f"{name!r} has a single split, 'train'; got split={split!r}.")
    if name == "digits":
        return _digits_description()
    if name == "folder":
        files = image_files(data_dir)
        root = os.path.abspath(os.fspath(data_dir))
        return _files_description(name, split, root, files, examples=len(files))
    files = idx_source(info, split, data_dir, download)
    if files is not None:
        examples = idx_count(files[0]) if len(files) == 2 else None
        source = os.path.abspath(os.path.dirname(files[0]) if len(files) == 2 else files[0])
        return _files_description(name, split, source, files, examples=examples)
    return _tfds_description(name, split, data_dir)


def summary(data: Mapping[str, Mapping[str, Any]]) -> str:
    """One line saying what each description in `data` (`describe`'s, by role) reads, e.g.
    "Data: train: fashion_mnist from /usr/share/datasets/fashion-mnist (60000 examples,
    2 files, 47.1 MB)"."""
    parts = []
    for role, d in data.items():
        sizes = [f"{d['files']} file{'' if d['files'] == 1 else 's'}", _size(d["bytes"])]
        if d.get("examples") is not None:
            sizes.insert(0, f"{d['examples']} examples")
        parts.append(f"{role}: {d['dataset']} from {d['source']} ({', '.join(sizes)})")
    return "Data: " + "; ".join(parts)


def _size(count: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


def _files_description(
    name: str, split: str, source: str, files: Sequence[str], examples: int | None
) -> dict[str, Any]:
    digest = hashlib.blake2b(digest_size=16)
    total = 0
    for path in files:
        size = os.path.getsize(path)
        total += size
        relative = os.path.relpath(path, source) if os.path.isdir(source) else ""
        digest.update(f"{relative}\0{size}\0".encode())
        digest.update(_sampled_bytes(path, size))
    return {
        "dataset": name,
        "split": split,
        "source": source,
        "files": len(files),
        "bytes": total,
        "examples": examples,
        "digest": digest.hexdigest(),
    }


def _sampled_bytes(path: str, size: int) -> bytes:
    """The first and last `SAMPLE_BYTES` bytes of a file (all of it when that is less)."""
    with open(path, "rb") as f:
        if size <= 2 * SAMPLE_BYTES:
            return f.read()
        head = f.read(SAMPLE_BYTES)
        f.seek(size - SAMPLE_BYTES)
        return head + f.read()


def _digits_description() -> dict[str, Any]:
    """scikit-learn's digits file, found without importing scikit-learn."""
    split = "train"
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(list(spec.submodule_search_locations)[0], *_DIGITS_CSV)
        if os.path.isfile(path):
            return _files_description("digits", split, path, [path], examples=_DIGITS_COUNT)
    return {
        "dataset": "digits",
        "split": split,
        "source": "scikit-learn's load_digits",
        "files": 0,
        "bytes": 0,
        "examples": _DIGITS_COUNT,
        "digest": hashlib.blake2b(b"sklearn digits", digest_size=16).hexdigest(),
    }


def _tfds_description(name: str, split: str, data_dir: str | os.PathLike | None) -> dict[str, Any]:
    """A tensorflow-datasets build: its directory, the split's files where prepared, and a
    digest of name, version and split."""
    tfds = require("tensorflow_datasets", f"Reading {name!r}")
    builder = tfds.builder(name, data_dir=None if data_dir is None else os.fspath(data_dir))
    root = os.fspath(builder.data_path)
    prefix = f"{builder.name}-{split.split('[')[0]}."
    files = sorted(
        os.path.join(root, f)
        for f in (os.listdir(root) if os.path.isdir(root) else ())
        if f.startswith(prefix)
    )
    try:
        examples = builder.info.splits[split].num_examples
    except (KeyError, ValueError):  # not prepared yet (download=True), or a bad split name
        examples = None
    identity = f"tensorflow-datasets {name} {builder.version} {split}"
    return {
        "dataset": name,
        "split": split,
        "source": root,
        "files": len(files),
        "bytes": sum(os.path.getsize(f) for f in files),
        "examples": examples,
        "digest": hashlib.blake2b(identity.encode(), digest_size=16).hexdigest(),
    }
