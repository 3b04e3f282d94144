"""Layout and pixel values of `kwgan.grid` (NumPy and Pillow only, no backend work)."""

import os

import numpy as np
import pytest
from PIL import Image

from kwgan.errors import ConfigError, OutputExistsError
from kwgan.grid import check_grid, image_grid, save_grid, to_uint8

WHITE = 255


def _constant_images(values, size=2, channels=1):
    """One size×size image per value, every pixel equal to it."""
    return np.stack([np.full((size, size, channels), v, np.float32) for v in values])


def test_to_uint8_maps_range_clips_and_blackens_nan():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, -3.0, 7.0, np.nan], np.float32)
    np.testing.assert_array_equal(to_uint8(x), [0, 64, 128, 191, 255, 0, 255, 0])


def test_four_2x2_images_tile_into_7x7_with_white_separators():
    grid = image_grid(_constant_images([-1.0, -0.5, 0.0, 0.5]))
    assert grid.shape == (7, 7, 1) and grid.dtype == np.uint8
    # Row-major: image i's top-left pixel is at (1 + 3·(i // 2), 1 + 3·(i % 2)).
    np.testing.assert_array_equal(grid[1:3, 1:3], 0)
    np.testing.assert_array_equal(grid[1:3, 4:6], 64)
    np.testing.assert_array_equal(grid[4:6, 1:3], 128)
    np.testing.assert_array_equal(grid[4:6, 4:6], 191)
    for line in (0, 3, 6):
        np.testing.assert_array_equal(grid[line], WHITE)
        np.testing.assert_array_equal(grid[:, line], WHITE)


def test_nrow_sets_images_per_row():
    grid = image_grid(_constant_images([-1.0] * 4), nrow=4)
    assert grid.shape == (4, 13, 1)
    np.testing.assert_array_equal(grid[1:3, 10:12], 0)


def test_default_layout_is_square_ish_and_fills_empty_cells_with_padding():
    images = np.full((5, 3, 2, 3), -1.0, np.float32)  # non-square RGB images
    grid = image_grid(images)  # ⌈√5⌉ = 3 per row → 2 rows, one empty cell
    assert grid.shape == (2 * 4 + 1, 3 * 3 + 1, 3)
    np.testing.assert_array_equal(grid[5:8, 7:9], WHITE)  # the empty sixth cell
    np.testing.assert_array_equal(grid[5:8, 4:6], 0)  # the fifth image


def test_nrow_larger_than_batch_does_not_leave_empty_columns():
    assert image_grid(_constant_images([0.0, 0.0]), nrow=8).shape == (4, 7, 1)


@pytest.mark.parametrize(
    "images, nrow",
    [
        (np.zeros((4, 2, 2)), None),  # no channel axis
        (np.zeros((4, 2, 2, 2)), None),  # two channels
        (np.zeros((0, 2, 2, 1)), None),  # nothing to tile
        (np.zeros((4, 2, 2, 1)), 0),
    ],
)
def test_image_grid_rejects_bad_input(images, nrow):
    with pytest.raises(ValueError):
        image_grid(images, nrow)


@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB")])
def test_save_grid_writes_upscaled_png_atomically(tmp_path, channels, mode):
    images = _constant_images([-1.0, -0.5, 0.0, 0.5], channels=channels)
    path = tmp_path / "grid.png"
    save_grid(images, path, scale=3)
    with Image.open(path) as png:
        assert png.format == "PNG" and png.mode == mode and png.size == (21, 21)
        pixels = np.asarray(png).reshape(21, 21, channels)
    expected = image_grid(images).repeat(3, axis=0).repeat(3, axis=1)
    np.testing.assert_array_equal(pixels, expected)
    assert os.listdir(tmp_path) == ["grid.png"]  # no temporary file left behind


def test_save_grid_rejects_non_positive_scale(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        save_grid(_constant_images([0.0]), tmp_path / "grid.png", scale=0)
    assert not os.listdir(tmp_path)


def test_save_grid_refuses_a_png_pillow_would_not_open(tmp_path, monkeypatch):
    images = _constant_images([0.0] * 4)  # a 7×7 grid, 21×21 = 441 pixels at scale 3
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 440)
    with pytest.raises(ConfigError, match=r"21x21 = 441 pixels.*limit of 440.*--scale.*--npy"):
        save_grid(images, tmp_path / "grid.png", scale=3)
    assert not os.listdir(tmp_path)  # refused before anything was written
    with pytest.raises(ConfigError, match="4 images of 2x2"):
        check_grid(4, (2, 2, 1), scale=3)  # what the sample CLI asks before generating

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 441)  # at the limit Pillow still opens it
    save_grid(images, tmp_path / "grid.png", scale=3)
    with Image.open(tmp_path / "grid.png") as png:
        assert png.size == (21, 21)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # the user turned the guard off
    check_grid(10**6, (32, 32, 3), scale=8)
    check_grid(10**6, (None, None, 3), scale=8)  # unknown size: save_grid checks later


@pytest.mark.parametrize(
    "shape, match",
    [((2,), r"points of shape \(2,\), not images"), ((4, 4, 2), "2 channels")],
)
def test_check_grid_names_samples_that_are_not_images(shape, match):
    with pytest.raises(ConfigError, match=match):
        check_grid(4, shape)


@pytest.mark.parametrize("n, nrow, scale", [(0, None, 1), (4, 0, 1), (4, None, 0)])
def test_check_grid_rejects_non_positive_sizes(n, nrow, scale):
    with pytest.raises(ConfigError):
        check_grid(n, (2, 2, 1), nrow, scale)


@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    "name, image_format, exact",
    [
        ("grid.jpg", "JPEG", False),
        ("grid.JPEG", "JPEG", False),
        ("grid.webp", "WEBP", True),
        ("grid.bmp", "BMP", True),
        ("grid.tiff", "TIFF", True),
    ],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_save_grid_writes_the_format_its_suffix_names(
    tmp_path, name, image_format, exact, channels
):
    Image.init()  # every plugin's writer, so that Image.SAVE is complete
    if image_format not in Image.SAVE:
        pytest.skip(f"this Pillow writes no {image_format}")
    images = _constant_images([-1.0, -0.5, 0.0, 0.5], channels=channels)
    save_grid(images, tmp_path / name, scale=3)
    with Image.open(tmp_path / name) as image:
        assert image.format == image_format and image.size == (21, 21)
        pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    expected = image_grid(images).repeat(3, axis=0).repeat(3, axis=1).reshape(pixels.shape)
    # JPEG is lossy, but at quality 95 flat 3x3 blocks come back within a few levels.
    tolerance = 0 if exact else 8
    assert np.abs(pixels.astype(int) - expected).max() <= tolerance
    assert os.listdir(tmp_path) == [name]


@pytest.mark.backend_neutral
@pytest.mark.parametrize("name", ["grid.txt", "grid", "grid.npy"])
def test_a_suffix_that_names_no_image_format_is_refused_before_writing(tmp_path, name):
    images = _constant_images([0.0] * 4)
    with pytest.raises(ConfigError, match=rf"{name}.*names no image format.*\.png, \.jpg"):
        save_grid(images, tmp_path / name)
    with pytest.raises(ConfigError, match="names no image format"):
        check_grid(4, (2, 2, 1), path=tmp_path / name)  # what the sample CLI asks first
    assert os.listdir(tmp_path) == []


@pytest.mark.backend_neutral
def test_save_grid_without_overwrite_keeps_an_existing_file(tmp_path):
    (tmp_path / "grid.png").write_bytes(b"the user's picture")
    with pytest.raises(OutputExistsError, match="grid.png.*already exists"):
        save_grid(_constant_images([0.0]), tmp_path / "grid.png", overwrite=False)
    assert (tmp_path / "grid.png").read_bytes() == b"the user's picture"
    assert os.listdir(tmp_path) == ["grid.png"]
