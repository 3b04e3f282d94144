"""tensorflow-datasets sources (LSUN bedrooms, CIFAR-10, (Fashion-)MNIST), and TensorFlow
imported on first use.

`import kwgan.data` works without TensorFlow: `require` imports it, or tensorflow-datasets,
only where a pipeline needs it, and otherwise says how to install it or which reader works
without it. The datasets are never downloaded unless asked (`download=True`): LSUN bedrooms
alone is a 46 GB download.
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from kwgan.errors import DataNotFoundError, TensorFlowMissingError

if TYPE_CHECKING:
    import tensorflow as tf

_PACKAGE_NAMES = {"tensorflow": "TensorFlow", "tensorflow_datasets": "tensorflow-datasets"}


def require(module: str, why: str) -> ModuleType:
    """Imports `module`, "tensorflow" or "tensorflow_datasets", on first use, so that
    `import kwgan.data` and the Pillow path work on JAX or PyTorch installs without
    TensorFlow. Without it, a `TensorFlowMissingError` that starts with `why`."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise TensorFlowMissingError(
            f"{why} needs {_PACKAGE_NAMES[module]}: pip install 'kwgan[tensorflow]'. "
            "Without TensorFlow, use image_array('digits', 'folder', or 'mnist' or "
            "'fashion_mnist' from idx files, ...) with ImageBatches."
        ) from error


def tfds_examples(
    name: str,
    split: str,
    data_dir: str | os.PathLike | None,
    shuffle: bool,
    download: bool,
    seed: int,
    *,
    stream: bool = False,
) -> tf.data.Dataset:
    """Reads a prepared tensorflow-datasets split.

    For a stream the file order must be the same in every process: files are shuffled by a
    NumPy permutation drawn from `seed` (tensorflow-datasets' own `shuffle_seed` feeds
    `Dataset.shuffle`, which also draws from TensorFlow's global seed), and read
    deterministically, which tensorflow-datasets does when it does not shuffle files itself.

    tensorflow-datasets reports a missing dataset with a bare AssertionError from deep inside
    `as_dataset`. When the data directory is indeed empty, that becomes a FileNotFoundError
    that says how to get the data.
    """
    tfds = require("tensorflow_datasets", f"Reading {name!r}")
    builder = tfds.builder(name, data_dir=None if data_dir is None else os.fspath(data_dir))
    if download:
        builder.download_and_prepare()
    if stream:
        file_order = functools.partial(_permuted, seed=seed) if shuffle else None
        read_config = tfds.ReadConfig(experimental_interleave_sort_fn=file_order)
        shuffle_files = False
    else:
        read_config, shuffle_files = tfds.ReadConfig(shuffle_seed=seed), shuffle
    try:
        return builder.as_dataset(split=split, shuffle_files=shuffle_files, read_config=read_config)
    except AssertionError:
        if builder.data_path.exists():
            raise
        message = _not_prepared_message(name, os.fspath(builder.data_dir_root))
        raise DataNotFoundError(message) from None


def _permuted(items: list[Any], seed: int) -> list[Any]:
    return [items[i] for i in np.random.default_rng(seed).permutation(len(items))]


def _not_prepared_message(name: str, root: str) -> str:
    message = (
        f"Image dataset {name!r} is not prepared in data_dir={root!r}, and kwgan downloads "
        "only when asked. Pass download=True (--download on the command line) to let "
        "tensorflow-datasets download and prepare it there, or run "
        f"`tfds build {name} --data_dir={root}` yourself. If it is prepared elsewhere, pass "
        "that directory as data_dir (--data_dir)."
    )
    if name.startswith("lsun/"):
        message += " LSUN is a 46 GB download, and building it needs `pip install tensorflow-io`."
    return message
