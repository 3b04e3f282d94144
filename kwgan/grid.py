"""Tiling generator samples into one image, for eyeballing training progress.

Generators in kwgan emit NHWC float images in [−1, 1] (tanh output); `image_grid` maps them to
uint8 and lays them out row-major on a square-ish canvas with 1-px separators, the way
torchvision's `make_grid` does, so grids from this library look like the papers' figures.
The module needs only NumPy and Pillow: the `SampleGrid` callback and the sample CLI use it on
any backend, and the CLI without Keras.

A grid is only useful if it can be opened again, so one over Pillow's decompression-bomb
guard (`PIL.Image.MAX_IMAGE_PIXELS`, beyond which `Image.open` refuses a file) is refused
before it is drawn, and so is a file name whose suffix names no image format (`FORMATS`):
`grid.jpg` is written as a JPEG, never as PNG bytes under a name that says otherwise.
`check_grid` lets a caller find all that out before generating the samples.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from kwgan.errors import ConfigError
from kwgan.io import atomic_path

_PADDING = 1

# The formats a grid is written in, by file suffix: the common ones Pillow writes from grey
# and RGB images alike (WebP only where Pillow was built with it).
FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".gif": "GIF",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
# Lossy formats at their best: a grid's blocks of nearest-neighbour pixels are what the
# generator drew, not a photograph.
_SAVE_OPTIONS = {"JPEG": {"quality": 95}, "WEBP": {"lossless": True}}


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Maps [−1, 1] floats to uint8 [0, 255], clipping anything outside.

    NaNs become −1 (black) rather than raising: a diverged generator's samples are exactly
    what a grid callback must still be able to show.
    """
    x = np.clip(np.nan_to_num(np.asarray(images, np.float32), nan=-1.0), -1.0, 1.0)
    return np.round((x + 1.0) * 127.5).astype(np.uint8)


def _grid_shape(n: int, nrow: int | None) -> tuple[int, int]:
    """(rows, columns); `nrow` is images per row, as in torchvision, default ⌈√n⌉."""
    columns = math.ceil(math.sqrt(n)) if nrow is None else nrow
    if columns <= 0:
        raise ConfigError(f"nrow must be positive, got {nrow}.")
    columns = min(columns, n)
    return math.ceil(n / columns), columns


def grid_format(path: str | os.PathLike) -> str:
    """The Pillow format `save_grid` writes at `path`, named by its suffix (`FORMATS`,
    case-insensitive); a `ConfigError` for a suffix that names none this Pillow writes."""
    # Imported here, not at the top: kwgan trains without Pillow (accelerator machines).
    from PIL import Image

    Image.init()  # registers every plugin's writer, so Image.SAVE is complete
    suffix = os.path.splitext(os.fspath(path))[1]
    writable = {s: f for s, f in FORMATS.items() if f in Image.SAVE}
    if suffix.lower() not in writable:
        raise ConfigError(
            f"Cannot write a grid image to {os.fspath(path)!r}: its suffix "
            f"{suffix or '(none)'!r} names no image format kwgan writes; end the name with "
            f"one of {', '.join(writable)}."
        )
    return writable[suffix.lower()]


def check_grid(
    n: int,
    image_shape: Sequence[int | None],
    nrow: int | None = None,
    scale: int = 1,
    *,
    path: str | os.PathLike | None = None,
) -> None:
    """Raises `ConfigError` if `save_grid` would refuse `n` images of `image_shape` (H, W, C)
    (at `path`, where given).

    Cheap, so the sample CLI calls it with the exported shape before generating anything:
    samples that are not images, a non-positive `n`, `nrow` or `scale`, a grid over
    `PIL.Image.MAX_IMAGE_PIXELS`, and a `path` whose suffix names no format (`grid_format`).
    Unknown (None) height or width skip the size check, which `save_grid` repeats on the
    real images.
    """
    # Imported here, not at the top: kwgan trains without Pillow (accelerator machines).
    from PIL import Image

    if path is not None:
        grid_format(path)
    _check_image_shape(image_shape)
    if n <= 0:
        raise ConfigError(f"A grid needs at least one image, got {n}.")
    if scale < 1:
        raise ConfigError(f"scale must be a positive integer, got {scale}.")
    rows, columns = _grid_shape(n, nrow)
    height, width, _ = image_shape
    limit = Image.MAX_IMAGE_PIXELS  # read now: callers may raise it, or set None for no limit
    if height is None or width is None or limit is None:
        return
    grid_width = (columns * (width + _PADDING) + _PADDING) * scale
    grid_height = (rows * (height + _PADDING) + _PADDING) * scale
    if grid_width * grid_height > limit:
        raise ConfigError(
            f"A grid of {n} images of {height}x{width} at scale {scale} would be "
            f"{grid_width}x{grid_height} = {grid_width * grid_height:,} pixels, over Pillow's "
            f"limit of {limit:,} (PIL.Image.MAX_IMAGE_PIXELS, past which Image.open refuses "
            "the file as a decompression bomb). Draw fewer samples (--n), use a smaller "
            "--scale, or write only the raw arrays with --npy."
        )


def _check_image_shape(shape: Sequence[int | None]) -> None:
    """Refuses per-sample shapes that are not H×W images with 1 or 3 channels."""
    shape = tuple(shape)
    if len(shape) != 3:
        what = "points" if len(shape) == 1 else "arrays"
        raise ConfigError(
            f"The samples are {what} of shape {shape}, not images (height, width, channels), "
            "so no grid can be drawn; write them as raw arrays with --npy instead."
        )
    if shape[-1] not in (1, 3):
        raise ConfigError(
            f"The samples have shape {shape}: {shape[-1]} channels, but a grid image needs 1 "
            "(grey) or 3 (RGB); write them as raw arrays with --npy instead."
        )


def image_grid(
    images: np.ndarray, nrow: int | None = None, *, pad_value: float = 1.0
) -> np.ndarray:
    """Tiles NHWC images in [−1, 1] (C = 1 or 3) into one uint8 [H', W', C] image.

    Images are placed row-major, `nrow` per row (default: a square-ish ⌈√N⌉), with a 1-px
    border around and between them, so the canvas is `rows·(H+1)+1` by `cols·(W+1)+1`.
    `pad_value` (in the images' [−1, 1] units) fills the border and any empty cells of the
    last row; the default white keeps separators visible on MNIST-style black backgrounds.
    """
    images = np.asarray(images)
    _check_image_shape(images.shape[1:])
    n, height, width, channels = images.shape
    if n == 0:
        raise ConfigError("image_grid needs at least one image.")
    rows, columns = _grid_shape(n, nrow)
    step_h, step_w = height + _PADDING, width + _PADDING
    canvas = np.full(
        (rows * step_h + _PADDING, columns * step_w + _PADDING, channels),
        to_uint8(pad_value),
        dtype=np.uint8,
    )
    for i, image in enumerate(to_uint8(images)):
        top = (i // columns) * step_h + _PADDING
        left = (i % columns) * step_w + _PADDING
        canvas[top : top + height, left : left + width] = image
    return canvas


def save_grid(
    images: np.ndarray,
    path: str | os.PathLike,
    nrow: int | None = None,
    scale: int = 1,
    *,
    overwrite: bool = True,
) -> None:
    """Writes `image_grid(images, nrow)` atomically, in the format `path`'s suffix names
    (`grid_format`: PNG for `.png`, JPEG for `.jpg`, ...).

    `scale` upsamples by an integer factor with nearest-neighbour interpolation: 8×8 or
    32×32 digits are unreadable at native size, and nearest keeps each generated pixel a
    crisp block instead of blurring what the generator actually produced. `overwrite=False`
    refuses a file already at `path` (`kwgan.io.atomic_path`); a directory is never replaced.
    """
    # Imported here, not at the top: kwgan trains without Pillow (accelerator machines).
    from PIL import Image

    images = np.asarray(images)
    check_grid(len(images), images.shape[1:], nrow, scale, path=path)
    image_format = grid_format(path)
    grid = image_grid(images, nrow)
    image = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    suffix = os.path.splitext(os.fspath(path))[1]
    with atomic_path(path, suffix=suffix, overwrite=overwrite) as tmp:
        image.save(tmp, format=image_format, **_SAVE_OPTIONS.get(image_format, {}))
