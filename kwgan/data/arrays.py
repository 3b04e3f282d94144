"""The NumPy front end: a whole split as arrays (`image_array`), and `ImageBatches`, a
`keras.utils.PyDataset` of fixed-size batches over them, for JAX or PyTorch without TensorFlow.

`digits`, `folder` and idx files are read and resized with Pillow here (`kwgan.data.resize`),
through the same transform as the tf.data front end (`kwgan.data.images`), so both give the
same pixels up to float rounding. `ImageBatches` resumes and shards exactly as `images()`
streams do (`kwgan.data.batches`): batch `g` depends only on the arguments, `seed` and `g`.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import numpy as np

from kwgan.data.batches import check_start_batch, shard_rows
from kwgan.data.folder import image_files, read_image
from kwgan.data.pixels import model_pixels
from kwgan.data.registry import check_arguments
from kwgan.data.resize import resize_and_crop
from kwgan.data.sources import collect, in_memory, model_examples
from kwgan.errors import DataError, check_positive_int


def image_array(
    name: str,
    *,
    image_size: int,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    channels: int | None = None,
    with_labels: bool = False,
    download: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The whole split as float32 `[N, image_size, image_size, channels]` in [-1, 1].

    With `with_labels`, returns `(images, int32 labels)`. The arguments mean what they mean in
    `images()`. `digits`, `folder` and idx files (`mnist`, `fashion_mnist` where
    tensorflow-datasets does not have them) are read and resized with Pillow, so they need
    no TensorFlow. The tensorflow-datasets sources are read through TensorFlow and held in
    memory: take a slice of LSUN (`split="train[:50000]"`), not all 3 M images.
    """
    info, channels = check_arguments(name, image_size, channels, with_labels, split)
    memory = in_memory(info, split, data_dir, download)
    if memory is None and info.tfds:
        examples = model_examples(
            info,
            image_size,
            channels,
            with_labels,
            split=split,
            data_dir=data_dir,
            shuffle=False,
            download=download,
            seed=0,
            memory=None,
        )
        return collect(examples)
    if memory is None:
        raw, labels = map(read_image, image_files(data_dir)), None
    else:
        raw, labels = memory
    pixels = np.stack(
        [
            np.clip(model_pixels(resize_and_crop(image, image_size), info, channels), -1.0, 1.0)
            for image in raw
        ]
    )
    return (pixels, labels) if with_labels else pixels


class ImageBatches(keras.utils.PyDataset):
    """Fixed-size batches of in-memory images (and labels) for `fit`, without TensorFlow.

    This is the PyDataset counterpart of `images()`. Item `index` of Keras epoch `epoch` is
    global batch `g = start_batch + epoch * len(self) + index`, which is batch `g % len(self)`
    of data epoch `g // len(self)`, whose order is a permutation drawn from `(seed, data
    epoch)`. So runs are reproducible, and a run restored after `p` batches resumes on the
    batches it would have seen with `start_batch=p`. The last incomplete batch is dropped.
    With `shard=(index, count)` each item is process `index`'s rows of the global batch (see
    `images()`), `batch_size` staying the global batch size.
    Labels are checked here, once, in NumPy: integer class indices of shape (N,) or (N, 1),
    non-negative and, with `num_classes`, below it. Extra keyword arguments (`workers`,
    `use_multiprocessing`, `max_queue_size`) go to `keras.utils.PyDataset`.

    Example: `ImageBatches(image_array("digits", image_size=32), batch_size=64)`.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray | None = None,
        *,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        start_batch: int = 0,
        num_classes: int | None = None,
        shard: tuple[int, int] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        check_positive_int(batch_size, "batch_size")
        self._rows = shard_rows(shard, batch_size)  # (first row, row count) of each batch
        check_start_batch(start_batch)
        if num_classes is not None:
            check_positive_int(num_classes, "num_classes")
        if len(images) < batch_size:
            raise DataError(
                f"{len(images)} images make no complete batch of batch_size={batch_size}; "
                "pass more images or a smaller batch_size."
            )
        self.images = images
        self.labels = None if labels is None else _checked_labels(labels, len(images), num_classes)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.start_batch = int(start_batch)
        self.epoch = 0
        self._order = (-1, np.arange(0))  # (data epoch, its order), replaced as one tuple

    def _epoch_order(self, data_epoch: int) -> np.ndarray:
        """The row order of a data epoch. The last one is kept, as one tuple that worker
        threads replace atomically, because consecutive batches share it."""
        cached_epoch, order = self._order
        if cached_epoch != data_epoch:
            if self.shuffle:
                order = np.random.default_rng((self.seed, data_epoch)).permutation(len(self.images))
            else:
                order = np.arange(len(self.images))
            self._order = (data_epoch, order)
        return order

    def __len__(self) -> int:
        return len(self.images) // self.batch_size

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def __getitem__(self, index: int) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"Batch {index} out of range for {len(self)} batches.")
        data_epoch, position = divmod(self.start_batch + self.epoch * len(self) + index, len(self))
        first = position * self.batch_size + self._rows[0]
        rows = self._epoch_order(data_epoch)[first : first + self._rows[1]]
        if self.labels is None:
            return self.images[rows]
        return self.images[rows], self.labels[rows]


def _checked_labels(labels: Any, count: int, num_classes: int | None) -> np.ndarray:
    """`labels` as an array, if they are `count` class indices a conditional model can use.

    Checked once at construction, so that a float, one-hot or negative label fails here with
    its fix instead of as a shape error or a silent wrong gather inside a compiled step.
    """
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"labels must be integer class indices, got dtype {labels.dtype}; convert them "
            "with labels.astype('int32')."
        )
    if labels.ndim not in (1, 2) or (labels.ndim == 2 and labels.shape[1] != 1):
        raise DataError(
            f"labels must have shape (N,) or (N, 1), got {labels.shape}; for one-hot labels "
            "pass labels.argmax(axis=-1)."
        )
    if len(labels) != count:
        raise DataError(f"{len(labels)} labels for {count} images; pass one label per image.")
    if labels.min() < 0:
        raise DataError(
            f"labels must be class indices >= 0, got {labels.min()}; map the classes to "
            "0 … num_classes - 1."
        )
    if num_classes is not None and labels.max() >= num_classes:
        raise DataError(
            f"label {labels.max()} is out of range for num_classes={num_classes}; classes "
            f"must be 0 … {num_classes - 1}."
        )
    return labels
