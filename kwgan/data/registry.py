"""The image datasets kwgan reads, and what is known about each before a file is opened.

This table is the one place a dataset's facts live: its default channel count, its pixel
range, whether it has labels and a held-out test split, where it is stored, and whether its
resized images fit in memory. The readers (`kwgan.data.sources`), both front ends
(`kwgan.data.images`, `kwgan.data.arrays`) and the experiment scripts ask `dataset_info()`
rather than keeping their own lists of names.
"""

from __future__ import annotations

import dataclasses

from kwgan.errors import ConfigError, check_positive_int


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """The facts about one image dataset (`kwgan.data.dataset_info(name)`).

    Attributes:
        name: the name `images()` and `image_array()` take.
        channels: what models get unless `channels=` says otherwise: 1 for the grayscale
            scans (MNIST, Fashion-MNIST, digits), 3 for photographs.
        max_value: the raw pixel value that maps to +1 (255 for 8-bit images, 16 for the
            digits' 0…16 ink counts).
        labeled: has class labels, so `with_labels=True` (conditional models) works.
        tfds: stored by tensorflow-datasets, which names its splits ("train",
            "train[:10%]", ...); the others have the single split "train".
        idx: also readable from the original idx files (`kwgan.data.idx`), with NumPy alone.
        has_test_split: has a held-out "test" split, the real images FID and KID are
            measured against, as Lucic et al. (2018) do.
        fits_in_memory: small enough (at most 60 000 images of at most 32×32 before
            resizing) that holding the resized split in memory (`images(..., cache=True)`)
            pays: otherwise every epoch re-decodes and re-resizes the whole set. `images()`
            still caches only when asked.
    """

    name: str
    channels: int
    max_value: float
    labeled: bool
    tfds: bool
    idx: bool = False
    has_test_split: bool = False
    fits_in_memory: bool = False

    @property
    def needs_tensorflow(self) -> bool:
        """Only TensorFlow (through tensorflow-datasets) can read it. The others are read
        with NumPy and Pillow by `image_array()`; `images()` needs TensorFlow for all."""
        return self.tfds and not self.idx


_DATASETS = {
    info.name: info
    for info in (
        DatasetInfo("lsun/bedroom", channels=3, max_value=255.0, labeled=False, tfds=True),
        DatasetInfo(
            "cifar10",
            channels=3,
            max_value=255.0,
            labeled=True,
            tfds=True,
            has_test_split=True,
            fits_in_memory=True,
        ),
        DatasetInfo(
            "mnist",
            channels=1,
            max_value=255.0,
            labeled=True,
            tfds=True,
            idx=True,
            has_test_split=True,
            fits_in_memory=True,
        ),
        DatasetInfo(
            "fashion_mnist",
            channels=1,
            max_value=255.0,
            labeled=True,
            tfds=True,
            idx=True,
            has_test_split=True,
            fits_in_memory=True,
        ),
        DatasetInfo("folder", channels=3, max_value=255.0, labeled=False, tfds=False),
        DatasetInfo(
            "digits", channels=1, max_value=16.0, labeled=True, tfds=False, fits_in_memory=True
        ),
    )
}
IMAGE_DATASETS: tuple[str, ...] = tuple(_DATASETS)


def dataset_info(name: str) -> DatasetInfo:
    """The facts about image dataset `name`, one of `IMAGE_DATASETS`.

    Example: `dataset_info("mnist").channels == 1`, and
    `[n for n in IMAGE_DATASETS if dataset_info(n).has_test_split]` are the datasets FID is
    measured on.

    Raises:
        kwgan.errors.ConfigError: an unknown name; the message lists the valid ones.
    """
    if name not in _DATASETS:
        raise ConfigError(
            f"Unknown image dataset {name!r}; choose one of {', '.join(IMAGE_DATASETS)}."
        )
    return _DATASETS[name]


def check_arguments(
    name: str, image_size: int, channels: int | None, with_labels: bool, split: str
) -> tuple[DatasetInfo, int]:
    """Checks the arguments both front ends share. Returns the dataset's facts and the
    channel count the model gets.

    This runs before any file or TensorFlow is touched, so a typo costs nothing.
    """
    info = dataset_info(name)
    check_positive_int(image_size, "image_size")
    if channels not in (None, 1, 3):
        raise ConfigError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}.")
    if with_labels and not info.labeled:
        labeled = [n for n, other in _DATASETS.items() if other.labeled]
        raise ConfigError(
            f"{name!r} has no labels; with_labels=True works for {', '.join(labeled)}."
        )
    if not info.tfds and split != "train":
        raise ConfigError(f"{name!r} has a single split, 'train'; got split={split!r}.")
    return info, channels or info.channels
