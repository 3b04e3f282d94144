"""The `folder` dataset: every .png/.jpg/.jpeg under a directory, decoded by Pillow or TensorFlow.

Both decoders give the same float32 RGB `[H, W, 3]` in 0…255 (gray repeated, alpha dropped):
`read_image` (Pillow) for `image_array()` without TensorFlow, `decode_file` inside tf.data
pipelines. 16-bit PNGs are scaled from their full 0…65535 range by both.

Damaged files fail early: `check_image_files` decodes every file once, in threads, when a
tf.data pipeline is built, so a corrupt or truncated image is a `kwgan.errors.DataError`
naming the file before training starts rather than a crash hours into it.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from kwgan.errors import ConfigError, DataError, DataNotFoundError

if TYPE_CHECKING:
    import tensorflow as tf
    from PIL import Image

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_TF_FORMATS = ("PNG", "JPEG", "GIF", "BMP")  # what tf.io.decode_image reads
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L")  # Pillow's modes for 16-bit gray PNGs
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHECK_THREADS = 8  # decoding releases the GIL, so threads check a folder in parallel


def image_files(folder: str | os.PathLike | None) -> list[str]:
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


def read_image(path: str) -> np.ndarray:
    """An image file as float32 RGB `[H, W, 3]` in 0…255. The alpha channel is dropped, as
    TensorFlow's decoder drops it. A 16-bit gray PNG (which Pillow opens as 0…65535 integers
    and would clip to white in convert("RGB")) is divided by 257, as `decode_file` does."""
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


def check_image_files(files: list[str]) -> None:
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


def folder_examples(folder: str | os.PathLike | None, shuffle: bool, seed: int) -> tf.data.Dataset:
    """Decoded images of a folder, read in parallel, after checking every file once. The
    shuffle runs over file names, before decoding, because names are cheap to hold and pixels
    are not."""
    import tensorflow as tf

    files = image_files(folder)
    check_image_files(files)
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    return dataset.map(decode_file, num_parallel_calls=tf.data.AUTOTUNE)


def decode_file(path: tf.Tensor) -> dict[str, tf.Tensor]:
    """A PNG or JPEG file as float32 RGB `[H, W, 3]` in 0…255. Like Pillow's convert("RGB"),
    it repeats gray and drops alpha.

    A 16-bit PNG (bit depth 16 in byte 24 of the file, inside its IHDR chunk) is decoded at
    16 bits and divided by 257, so 65535 maps to 255 as in `read_image`. Every other file
    is decoded at 8 bits and keeps its exact integer values. (Decoding all files as float
    would scale both depths but turn 8-bit values into inexact `v / 255 * 255`.) The header
    is read without bounds checks because `check_image_files` has decoded every file.
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
