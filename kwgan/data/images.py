"""Image datasets for GAN training: LSUN bedrooms, CIFAR-10, (Fashion-)MNIST, a folder, digits.

Every dataset reaches a model the way the WGAN repo feeds its critic: the short side resized to
`image_size` and the centre square cropped (`kwgan.data.resize`), float32 NHWC in [-1, 1] to
match a tanh generator (`kwgan.data.pixels`). Two front ends read the same sources through the
same transform:

* `images()` (this module) returns a `tf.data.Dataset` of fixed-size batches. Keras `fit`
  accepts it on every backend, but it needs TensorFlow.
* `image_array()` returns NumPy arrays, and `ImageBatches` is a `keras.utils.PyDataset` over
  them (`kwgan.data.arrays`), for JAX or PyTorch installs without TensorFlow. `digits`,
  `folder` and idx files are read with Pillow there. The tensorflow-datasets sources still
  need TensorFlow to read their files.

Both front ends drop the last incomplete batch. A fixed batch shape keeps the gradient
penalty's per-example α static, so XLA and `jax.jit` compile the training step once.

Resuming: batch `g` of `ImageBatches(..., start_batch=p)` and of `images(..., start_batch=p)`
depends only on the arguments, `seed` and `g`, and both start at batch `p`. A run restored
from a checkpoint after `p` batches therefore sees exactly the batches the uninterrupted run
would have seen, whatever epoch boundaries and process restarts lay in between.

Data parallelism over several processes (`kwgan.distribute`): with `shard=(i, n)` both front
ends yield process `i`'s rows of every global batch, the `i`-th of `n` equal slices, so the
`n` processes together train on exactly the batches one process would (`start_batch` still
counts global batches). Streams read by index fetch and decode only those rows; the others
read the whole global batch in every process and keep their slice.

Where each piece lives:

* `kwgan.data.registry`: the datasets and their facts (`dataset_info`, `IMAGE_DATASETS`).
* `kwgan.data.sources`: where a dataset's examples come from (memory, idx files, `digits`),
  read by `kwgan.data.tfds` (tensorflow-datasets, never downloaded unless `download=True`)
  and `kwgan.data.folder` (image files, checked for damage before training starts).
* `kwgan.data.resize` and `kwgan.data.pixels`: the transform to what a model sees.
* `kwgan.data.streams`: the resumable, sharded tf.data streams; `kwgan.data.batches`: the
  `start_batch` and `shard` checks every pipeline shares.
* `kwgan.data.arrays`: `image_array` and `ImageBatches`.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from kwgan.data.arrays import ImageBatches, image_array
from kwgan.data.batches import check_start_batch, shard_rows, too_few_examples
from kwgan.data.pixels import LUMA, to_model
from kwgan.data.registry import IMAGE_DATASETS, check_arguments
from kwgan.data.sources import in_memory, model_examples
from kwgan.data.streams import SHUFFLE_BUFFER, sliced, split_by_data, stream
from kwgan.data.tfds import require
from kwgan.errors import ConfigError, check_positive_int

if TYPE_CHECKING:
    import tensorflow as tf

# The NumPy front end and the facts, importable from here as before the split.
__all__ = ["IMAGE_DATASETS", "LUMA", "ImageBatches", "image_array", "images"]


def images(
    name: str,
    *,
    image_size: int,
    batch_size: int,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    channels: int | None = None,
    with_labels: bool = False,
    shuffle: bool = True,
    cache: bool | str | os.PathLike = False,
    download: bool = False,
    seed: int = 0,
    start_batch: int | None = None,
    shard: tuple[int, int] | None = None,
) -> tf.data.Dataset:
    """A `tf.data.Dataset` of `[batch_size, image_size, image_size, channels]` float32 batches.

    With `start_batch=None` the dataset is finite: one pass over the split, reshuffled every
    time it is iterated, so each Keras epoch is one data epoch.

    With an int `start_batch` it is an infinite stream that begins at global batch
    `start_batch`, and batch `g` of it is a function of the arguments, `seed` and `g` only:
    `images(..., start_batch=p)` yields exactly what `images(..., start_batch=0)` yields after
    its first `p` batches. Pass the number of batches a checkpointed run has consumed to resume
    it on the data it would have seen. Each data epoch holds `n // batch_size` whole batches
    (no batch straddles two epochs) in which no example appears twice, in an order fixed by
    `(seed, epoch)`. Resuming costs O(1) for sources with random access: `digits`, idx files
    (`mnist`, `fashion_mnist`), `folder` (a list of files) and any source with `cache=True`
    (held in memory). tensorflow-datasets sources without `cache=True` (`lsun/bedroom`;
    `mnist`, `fashion_mnist` and `cifar10` with a file cache or none) are read in order, so
    resuming one re-reads its current epoch up to the resume point.
    Keras needs `fit(..., steps_per_epoch=N)` for an infinite dataset; it then keeps one
    iterator across its epochs, so the stream continues where the last Keras epoch stopped.

    Args:
        name: one of `IMAGE_DATASETS`.
        image_size: side of the square images the model sees.
        batch_size: examples per batch. The last incomplete batch is dropped.
        split: a tensorflow-datasets split such as "train", "test" or "train[:10%]".
            `digits` and `folder` have only "train"; idx files only "train" and "test".
        data_dir: where tensorflow-datasets keeps prepared data (default `$TFDS_DATA_DIR` or
            `~/tensorflow_datasets`), and for `mnist`/`fashion_mnist` the first place their
            idx files are looked for. For `folder`, the folder of images itself, which is
            read recursively and whose every file is checked once, here, with Pillow.
        channels: 1 (grayscale) or 3 (RGB). Defaults to `dataset_info(name).channels`: 1 for
            (fashion_)mnist and digits, 3 otherwise.
        with_labels: yield `(images, int32 labels)` for conditional models (cifar10, mnist,
            fashion_mnist, digits).
        shuffle: shuffle file order and examples, differently every epoch. Sources read in
            order mix examples within blocks of 10 000 (within shuffled file order) in a
            stream, through a buffer of 10 000 otherwise.
        cache: True caches the resized examples in memory, which pays for the datasets
            whose `dataset_info(name).fits_in_memory`. A path caches them to files with
            that prefix, which LSUN needs: 3 M × 64×64×3 float32 ≈ 150 GB. A stream
            (`start_batch` set) of `digits`, idx files or `folder` reads by index and takes
            no path.
        download: let tensorflow-datasets download and prepare a missing dataset (`digits`
            and `folder` are always local); it also skips the idx files.
        seed: seed for the file and example shuffles.
        start_batch: None for the finite dataset; an int >= 0 for the infinite stream that
            begins at that global batch.
        shard: `(index, count)`: yield only process `index`'s `batch_size // count` rows of
            every global batch of `batch_size` (`kwgan.distribute.process_shard()`); None for
            whole batches. `batch_size` must divide by `count`.

    Raises:
        kwgan.errors.ConfigError: an unknown name (the message lists `IMAGE_DATASETS`) or
            another argument that cannot work; checked before any file is read.
        FileNotFoundError: the dataset is not prepared under `data_dir` (nor, for
            `mnist`/`fashion_mnist`, its idx files anywhere) and `download` is False. The
            message says how to get it.
        ImportError: TensorFlow or tensorflow-datasets is not installed.
        kwgan.errors.DataError: the split has fewer than `batch_size` examples, or a file of
            a `folder` is damaged.
    """
    info, channels = check_arguments(name, image_size, channels, with_labels, split)
    check_positive_int(batch_size, "batch_size")
    rows = shard_rows(shard, batch_size)
    if start_batch is not None:
        check_start_batch(start_batch)
    tf = require("tensorflow", f"kwgan.data.images({name!r}) builds a tf.data pipeline and")
    memory = in_memory(info, split, data_dir, download)
    if start_batch is not None:
        if (memory is not None or not info.tfds) and cache not in (True, False):
            raise ConfigError(
                f"A stream of {name!r} (start_batch set) reads examples by index and has no "
                "file cache; pass cache=True to hold the resized images in memory, or "
                "cache=False."
            )
    examples = functools.partial(
        model_examples,
        info,
        image_size,
        channels,
        with_labels,
        split=split,
        data_dir=data_dir,
        download=download,
        seed=seed,
        memory=memory,
    )
    if start_batch is not None:
        batches = stream(
            name,
            to_model(info, image_size, channels, with_labels),
            examples,
            memory,
            split=split,
            data_dir=data_dir,
            batch_size=batch_size,
            shuffle=shuffle,
            cache=cache,
            seed=seed,
            start_batch=int(start_batch),
            rows=rows,
        )
        return split_by_data(batches).prefetch(tf.data.AUTOTUNE)
    dataset = examples(shuffle=shuffle)
    if cache is not False:
        dataset = dataset.cache("" if cache is True else os.fspath(cache))
    if shuffle:
        dataset = dataset.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if int(dataset.cardinality()) == 0:
        raise too_few_examples(name, split, batch_size)
    return sliced(dataset, rows, batch_size).prefetch(tf.data.AUTOTUNE)
