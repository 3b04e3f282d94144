"""Image datasets for GAN training: LSUN bedrooms, CIFAR-10, MNIST, a folder of images, digits.

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

`digits` is scikit-learn's bundled 8×8 scans (1797 images, values 0…16). It is always on
disk, which makes it the offline default. The tensorflow-datasets sources are never
downloaded unless `download=True`. LSUN bedrooms alone is a 46 GB download.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from kwgan.data.resize import resize_and_crop, resize_and_crop_tf

if TYPE_CHECKING:
    import tensorflow as tf

_SHUFFLE_BUFFER = 10_000  # examples; 64×64×3 float32 makes this ≈ 0.5 GB for LSUN
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2, as Pillow's convert("L") and TF's rgb_to_grayscale
_PACKAGE_NAMES = {"tensorflow": "TensorFlow", "tensorflow_datasets": "tensorflow-datasets"}


@dataclasses.dataclass(frozen=True)
class _Source:
    channels: int  # what models get unless `channels=` says otherwise
    max_value: float  # the raw pixel value that maps to +1
    labeled: bool
    tfds: bool  # stored by tensorflow-datasets, so reading it needs TensorFlow


_SOURCES = {
    "lsun/bedroom": _Source(channels=3, max_value=255.0, labeled=False, tfds=True),
    "cifar10": _Source(channels=3, max_value=255.0, labeled=True, tfds=True),
    "mnist": _Source(channels=1, max_value=255.0, labeled=True, tfds=True),
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
) -> tf.data.Dataset:
    """A `tf.data.Dataset` of `[batch_size, image_size, image_size, channels]` float32 batches.

    Args:
        name: one of `IMAGE_DATASETS`.
        image_size: side of the square images the model sees.
        batch_size: examples per batch. The last incomplete batch is dropped.
        split: a tensorflow-datasets split such as "train", "test" or "train[:10%]".
            `digits` and `folder` have only "train".
        data_dir: where tensorflow-datasets keeps prepared data (default `$TFDS_DATA_DIR` or
            `~/tensorflow_datasets`). For `folder`, the folder of images itself, which is
            read recursively.
        channels: 1 (grayscale) or 3 (RGB). Defaults to 1 for mnist and digits, 3 otherwise.
        with_labels: yield `(images, int32 labels)` for conditional models (cifar10, mnist,
            digits).
        shuffle: shuffle file order and examples (buffer of 10 000), reshuffled every epoch.
        cache: True caches the resized examples in memory. A path caches them to files with
            that prefix, which LSUN needs: 3 M × 64×64×3 float32 ≈ 150 GB.
        download: let tensorflow-datasets download and prepare a missing dataset (`digits`
            and `folder` are always local).
        seed: seed for the file and example shuffles.

    Raises:
        FileNotFoundError: the dataset is not prepared under `data_dir` and `download` is
            False. The message says how to get it.
        ImportError: TensorFlow or tensorflow-datasets is not installed.
    """
    source, channels = _resolve(name, image_size, channels, with_labels, split)
    _check_positive_int(batch_size, "batch_size")
    tf = _require("tensorflow", f"kwgan.data.images({name!r}) builds a tf.data pipeline and")
    dataset = _model_examples(
        name,
        source,
        image_size,
        channels,
        with_labels,
        split=split,
        data_dir=data_dir,
        shuffle=shuffle,
        download=download,
        seed=seed,
    )
    if cache is not False:
        dataset = dataset.cache("" if cache is True else os.fspath(cache))
    if shuffle:
        dataset = dataset.shuffle(_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=True)
    if int(dataset.cardinality()) == 0:
        raise ValueError(
            f"Split {split!r} of {name!r} has fewer than batch_size={batch_size} examples, "
            "so no complete batch remains."
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


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
    `images()`. `digits` and `folder` are read and resized with Pillow, so they need no
    TensorFlow. The tensorflow-datasets sources are read through TensorFlow and held in memory:
    take a slice of LSUN (`split="train[:50000]"`), not all 3 M images.
    """
    source, channels = _resolve(name, image_size, channels, with_labels, split)
    if source.tfds:
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
        )
        return _collect(examples)
    if name == "digits":
        raw, labels = _digits()
    else:
        raw, labels = map(_read_image, _image_files(data_dir)), None
    pixels = np.stack(
        [
            np.clip(_model_pixels(resize_and_crop(image, image_size), source, channels), -1.0, 1.0)
            for image in raw
        ]
    )
    return (pixels, labels) if with_labels else pixels


class ImageBatches(keras.utils.PyDataset):
    """Fixed-size batches of in-memory images (and labels) for `fit`, without TensorFlow.

    This is the PyDataset counterpart of `images()`. The order is reshuffled every epoch from
    `(seed, epoch)`, so runs are reproducible, and the last incomplete batch is dropped.
    Extra keyword arguments (`workers`, `use_multiprocessing`, `max_queue_size`) go to
    `keras.utils.PyDataset`.

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
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        _check_positive_int(batch_size, "batch_size")
        if len(images) < batch_size:
            raise ValueError(
                f"{len(images)} images make no complete batch of batch_size={batch_size}."
            )
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"{len(labels)} labels for {len(images)} images.")
        self.images = images
        self.labels = labels
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0
        self._order = self._epoch_order()

    def _epoch_order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.images))
        return np.random.default_rng((self.seed, self.epoch)).permutation(len(self.images))

    def __len__(self) -> int:
        return len(self.images) // self.batch_size

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._epoch_order()

    def __getitem__(self, index: int) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        if not 0 <= index < len(self):
            raise IndexError(f"Batch {index} out of range for {len(self)} batches.")
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        if self.labels is None:
            return self.images[rows]
        return self.images[rows], self.labels[rows]


def _resolve(
    name: str, image_size: int, channels: int | None, with_labels: bool, split: str
) -> tuple[_Source, int]:
    """Checks the arguments both front ends share. Returns the source and its channel count.

    This runs before any file or TensorFlow is touched, so a typo costs nothing.
    """
    if name not in _SOURCES:
        raise ValueError(
            f"Unknown image dataset {name!r}; choose one of {', '.join(IMAGE_DATASETS)}."
        )
    source = _SOURCES[name]
    _check_positive_int(image_size, "image_size")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}.")
    if with_labels and not source.labeled:
        labeled = [n for n, s in _SOURCES.items() if s.labeled]
        raise ValueError(
            f"{name!r} has no labels; with_labels=True works for {', '.join(labeled)}."
        )
    if not source.tfds and split != "train":
        raise ValueError(f"{name!r} has a single split, 'train'; got split={split!r}.")
    return source, channels or source.channels


def _check_positive_int(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{what} must be a positive integer, got {value!r}.")


def _require(module: str, why: str) -> ModuleType:
    """Imports TensorFlow or tensorflow-datasets on first use, so that `import kwgan.data`
    and the Pillow path work on JAX or PyTorch installs without TensorFlow."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{why} needs {_PACKAGE_NAMES[module]}: pip install 'kwgan[tensorflow]'. "
            "Without TensorFlow, use image_array('digits' or 'folder', ...) with ImageBatches."
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
    return sum(weight * image[..., c : c + 1] for c, weight in enumerate(_LUMA))


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
) -> tf.data.Dataset:
    """Unbatched tf.data examples, resized, cropped and scaled. `images()` and `image_array()`
    share these. Each is an image, or an `(image, int32 label)` pair."""
    why = (
        f"The {name!r} dataset is stored by tensorflow-datasets, so reading it"
        if source.tfds
        else f"Reading {name!r} with tf.data"
    )
    tf = _require("tensorflow", why)
    if source.tfds:
        raw = _tfds_examples(name, split, data_dir, shuffle, download, seed)
    elif name == "digits":
        digit_images, digit_labels = _digits()
        raw = tf.data.Dataset.from_tensor_slices({"image": digit_images, "label": digit_labels})
    else:
        raw = _folder_examples(data_dir, shuffle, seed)

    def to_model(example: dict[str, Any]) -> Any:
        image = resize_and_crop_tf(example["image"], image_size)
        image = tf.clip_by_value(_model_pixels(image, source, channels), -1.0, 1.0)
        return (image, tf.cast(example["label"], tf.int32)) if with_labels else image

    return raw.map(to_model, num_parallel_calls=tf.data.AUTOTUNE)


def _tfds_examples(
    name: str,
    split: str,
    data_dir: str | os.PathLike | None,
    shuffle: bool,
    download: bool,
    seed: int,
) -> tf.data.Dataset:
    """Reads a prepared tensorflow-datasets split.

    tensorflow-datasets reports a missing dataset with a bare AssertionError from deep inside
    `as_dataset`. When the data directory is indeed empty, that becomes a FileNotFoundError
    that says how to get the data.
    """
    tfds = _require("tensorflow_datasets", f"Reading {name!r}")
    builder = tfds.builder(name, data_dir=None if data_dir is None else os.fspath(data_dir))
    if download:
        builder.download_and_prepare()
    try:
        return builder.as_dataset(
            split=split, shuffle_files=shuffle, read_config=tfds.ReadConfig(shuffle_seed=seed)
        )
    except AssertionError:
        if builder.data_path.exists():
            raise
        message = _not_prepared_message(name, os.fspath(builder.data_dir_root))
        raise FileNotFoundError(message) from None


def _not_prepared_message(name: str, root: str) -> str:
    message = (
        f"Image dataset {name!r} is not prepared in data_dir={root!r}, and kwgan downloads "
        "only when asked. Pass download=True to let tensorflow-datasets download and prepare "
        f"it there, or run `tfds build {name} --data_dir={root}` yourself. If it is prepared "
        "elsewhere, pass that directory as data_dir."
    )
    if name.startswith("lsun/"):
        message += " LSUN is a 46 GB download, and building it needs `pip install tensorflow-io`."
    return message


def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digit scans as `[1797, 8, 8, 1]` float32 in 0…16, and their
    int32 labels."""
    digits = load_digits()
    return digits.images[..., None].astype(np.float32), digits.target.astype(np.int32)


def _image_files(folder: str | os.PathLike | None) -> list[str]:
    """All .png/.jpg/.jpeg files under `folder`, recursively, in sorted order, so that both
    front ends see the same images in the same order."""
    if folder is None:
        raise ValueError("The 'folder' dataset reads data_dir: pass data_dir='path/to/images'.")
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Image folder {folder!r} for dataset 'folder' does not exist.")
    files = sorted(
        os.path.join(directory, file)
        for directory, _, file_names in os.walk(folder)
        for file in file_names
        if file.lower().endswith(_IMAGE_SUFFIXES)
    )
    if not files:
        raise FileNotFoundError(
            f"No {'/'.join(_IMAGE_SUFFIXES)} images under {folder!r} (dataset 'folder', "
            "searched recursively)."
        )
    return files


def _read_image(path: str) -> np.ndarray:
    """An image file as float32 RGB `[H, W, 3]` in 0…255. The alpha channel is dropped, as
    TensorFlow's decoder drops it."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32)


def _folder_examples(folder: str | os.PathLike | None, shuffle: bool, seed: int) -> tf.data.Dataset:
    """Decoded images of a folder, read in parallel. The shuffle runs over file names,
    before decoding, because names are cheap to hold and pixels are not."""
    import tensorflow as tf

    files = _image_files(folder)
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    return dataset.map(_decode_file, num_parallel_calls=tf.data.AUTOTUNE)


def _decode_file(path: tf.Tensor) -> dict[str, tf.Tensor]:
    """A PNG or JPEG file as uint8 RGB `[H, W, 3]`. Like Pillow's convert("RGB"), it repeats
    gray and drops alpha."""
    import tensorflow as tf

    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    return {"image": image}


def _collect(dataset: tf.data.Dataset) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Concatenates a finite tf.data dataset of images (or `(image, label)` pairs) into arrays."""
    batches = list(dataset.batch(1024).as_numpy_iterator())
    if not batches:
        raise ValueError("The requested split has no examples.")
    if isinstance(batches[0], tuple):
        return tuple(np.concatenate(column) for column in zip(*batches, strict=True))
    return np.concatenate(batches)
