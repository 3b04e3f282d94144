"""Image pipelines: the resize/crop against hand-computed numbers, each dataset's shapes and
range, agreement of the tf.data and Pillow paths, and the errors a user meets first.

The tensorflow-datasets sources run under `tfds.testing.mock_data`. Its images have random
sizes from 5 to 49 px and are not square, so they exercise both upscaling and cropping.
Tests that need TensorFlow skip themselves on machines without it. Run this module under
every Keras backend (KERAS_BACKEND=tensorflow, jax, torch).
"""

import importlib.util

import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from kwgan.data import IMAGE_DATASETS, ImageBatches, image_array, images
from kwgan.data.resize import crop_box, resize_and_crop
from scripts import ok, run_code


def _tfds():
    pytest.importorskip("tensorflow")
    return pytest.importorskip("tensorflow_datasets")


def _batches(dataset) -> list:
    return list(dataset.as_numpy_iterator())


def _resize_tf(image: np.ndarray, size: int) -> np.ndarray:
    pytest.importorskip("tensorflow")
    from kwgan.data.resize import resize_and_crop_tf

    return resize_and_crop_tf(image, size).numpy()


def _columns(height: int, width: int) -> np.ndarray:
    """An `[height, width, 1]` image whose column j holds the value j."""
    return np.tile(np.arange(width, dtype=np.float32), (height, 1))[..., None]


# --- resize and centre crop ------------------------------------------------------------


def test_crop_box_scales_short_side_and_centres():
    assert crop_box(4, 8, 4) == (4, 8, 0, 2)
    assert crop_box(48, 32, 32) == (48, 32, 8, 0)
    # 17 * 64 / 5 = 217.6 is truncated, as torchvision's Scale does; (217 - 64) // 2 = 76.
    assert crop_box(5, 17, 64) == (64, 217, 0, 76)


@pytest.fixture(params=["pillow", "tensorflow"])
def resize(request):
    return resize_and_crop if request.param == "pillow" else _resize_tf


def test_crop_keeps_middle_columns(resize):
    out = resize(_columns(4, 8), 4)
    assert out.shape == (4, 4, 1) and out.dtype == np.float32
    np.testing.assert_array_equal(out[..., 0], np.tile([2.0, 3.0, 4.0, 5.0], (4, 1)))


def test_crop_keeps_middle_rows_of_tall_image(resize):
    out = resize(_columns(4, 8).transpose(1, 0, 2), 4)
    np.testing.assert_array_equal(out[..., 0], np.tile([[2.0], [3.0], [4.0], [5.0]], (1, 4)))


def test_antialiased_downscale(resize):
    # 4×8 → 2×4: the triangle filter is 2 px wide, so output column 1 (centre x = 3) weighs
    # columns 1, 2, 3, 4 by 1/4, 3/4, 3/4, 1/4 → 2.5, and column 2 → 4.5. The crop keeps those.
    out = resize(_columns(4, 8), 2)
    np.testing.assert_allclose(out[..., 0], [[2.5, 4.5], [2.5, 4.5]], atol=1e-5)


def test_bilinear_upscale(resize):
    # 2×4 → 4×8: output column j samples x = (j + 0.5) / 2 - 0.5; the crop keeps j = 2…5.
    out = resize(_columns(2, 4), 4)
    np.testing.assert_allclose(out[..., 0], np.tile([0.75, 1.25, 1.75, 2.25], (4, 1)), atol=1e-5)


@pytest.mark.parametrize("shape, size", [((100, 150, 3), 32), ((5, 49, 3), 64), ((41, 23, 1), 16)])
def test_pillow_and_tensorflow_resizers_agree(shape, size):
    image = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    np.testing.assert_allclose(_resize_tf(image, size), resize_and_crop(image, size), atol=1e-2)


# --- argument checks (no TensorFlow needed) ------------------------------------------


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as error:
        image_array("imagenet", image_size=32)
    for name in IMAGE_DATASETS:
        assert name in str(error.value)


@pytest.mark.parametrize("size", [0, -8, 2.5, True, "64"])
def test_bad_image_size(size):
    with pytest.raises(ValueError, match="image_size"):
        image_array("digits", image_size=size)


@pytest.mark.parametrize("batch_size", [0, -1, 1.5])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        images("digits", image_size=8, batch_size=batch_size)
    with pytest.raises(ValueError, match="batch_size"):
        ImageBatches(np.zeros((8, 2, 2, 1), np.float32), batch_size=batch_size)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="digits", channels=2), "channels"),
        (dict(name="lsun/bedroom", with_labels=True), "no labels"),
        (dict(name="folder", with_labels=True), "no labels"),
        (dict(name="digits", split="test"), "single split"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        image_array(image_size=8, **kwargs)


# --- digits ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits32():
    return image_array("digits", image_size=32, with_labels=True)


def test_digits_array(digits32):
    pixels, labels = digits32
    assert pixels.shape == (1797, 32, 32, 1) and pixels.dtype == np.float32
    assert pixels.min() == -1.0 and pixels.max() == 1.0
    np.testing.assert_array_equal(labels, load_digits().target)


def test_digits_values_map_0_to_minus_1_and_16_to_1():
    raw = load_digits().images
    pixels = image_array("digits", image_size=8)[..., 0]  # 8 px: no resampling
    np.testing.assert_array_equal(pixels[raw == 0], -1.0)
    np.testing.assert_array_equal(pixels[raw == 16], 1.0)
    np.testing.assert_allclose(pixels, raw / 8.0 - 1.0, atol=1e-6)


def test_digits_as_rgb_repeats_gray():
    pixels = image_array("digits", image_size=8, channels=3)
    assert pixels.shape == (1797, 8, 8, 3)
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 2])


def test_digits_tf_pipeline_matches_arrays(digits32):
    pytest.importorskip("tensorflow")
    dataset = images("digits", image_size=32, batch_size=1797, with_labels=True, shuffle=False)
    ((batch, labels),) = _batches(dataset)
    assert batch.shape == (1797, 32, 32, 1) and batch.dtype == np.float32
    np.testing.assert_allclose(batch, digits32[0], atol=1e-4)
    np.testing.assert_array_equal(labels, digits32[1])


def test_tf_pipeline_drops_remainder_and_shuffles_by_seed():
    pytest.importorskip("tensorflow")

    def all_batches(seed):
        return _batches(images("digits", image_size=8, batch_size=500, seed=seed))

    batches = all_batches(0)
    assert [b.shape for b in batches] == [(500, 8, 8, 1)] * 3  # 1797 = 3 × 500 + 297
    np.testing.assert_array_equal(batches[0], all_batches(0)[0])
    assert not np.array_equal(batches[0], all_batches(1)[0])


def test_tf_pipeline_file_cache(tmp_path):
    pytest.importorskip("tensorflow")
    dataset = images("digits", image_size=8, batch_size=512, shuffle=False, cache=tmp_path / "c")
    first, second = _batches(dataset), _batches(dataset)
    np.testing.assert_array_equal(np.stack(first), np.stack(second))
    assert any(p.name.startswith("c.") for p in tmp_path.iterdir())


def test_tf_pipeline_needs_one_full_batch():
    pytest.importorskip("tensorflow")
    with pytest.raises(ValueError, match="fewer than batch_size"):
        images("digits", image_size=8, batch_size=2000)


# --- ImageBatches --------------------------------------------------------------------


def _numbered(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose pixels all hold their own index, and labels equal to that index."""
    return np.arange(n, dtype=np.float32)[:, None, None, None] * np.ones((1, 2, 2, 1)), np.arange(n)


def test_image_batches_drop_remainder_and_keep_labels_aligned():
    pixels, labels = _numbered(10)
    batches = ImageBatches(pixels, labels, batch_size=4, seed=3)
    assert len(batches) == 2
    for index in range(len(batches)):
        x, y = batches[index]
        assert x.shape == (4, 2, 2, 1)
        np.testing.assert_array_equal(x[:, 0, 0, 0], y)
    with pytest.raises(IndexError):
        batches[2]


def test_image_batches_reshuffle_each_epoch_reproducibly():
    pixels, _ = _numbered(12)

    def epochs(dataset, count):
        orders = []
        for _ in range(count):
            orders.append(np.concatenate([dataset[i][:, 0, 0, 0] for i in range(len(dataset))]))
            dataset.on_epoch_end()
        return orders

    first, second = epochs(ImageBatches(pixels, batch_size=4, seed=1), 2)
    assert sorted(first) == list(range(12)) and not np.array_equal(first, second)
    np.testing.assert_array_equal(first, epochs(ImageBatches(pixels, batch_size=4, seed=1), 1)[0])
    (in_order,) = epochs(ImageBatches(pixels, batch_size=4, shuffle=False), 1)
    np.testing.assert_array_equal(in_order, np.arange(12))


def test_image_batches_needs_one_full_batch():
    with pytest.raises(ValueError, match="no complete batch"):
        ImageBatches(np.zeros((3, 2, 2, 1), np.float32), batch_size=4)


@pytest.mark.parametrize("front_end", ["ImageBatches", "tf.data"])
def test_fit_consumes_both_front_ends(front_end):
    """Both front ends feed `fit` on the current Keras backend."""
    if front_end == "ImageBatches":
        data = ImageBatches(*image_array("digits", image_size=8, with_labels=True), batch_size=512)
    else:
        pytest.importorskip("tensorflow")
        data = images("digits", image_size=8, batch_size=512, with_labels=True)
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.compile(
        optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(data, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# --- folder --------------------------------------------------------------------------

_CONSTANT_RGB = (255, 0, 51)  # → 1, -1, -0.6


@pytest.fixture
def image_folder(tmp_path):
    """Three images of different sizes and modes in nested folders, plus a non-image file."""
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    Image.new("RGB", (20, 12), _CONSTANT_RGB).save(tmp_path / "a.png")
    gradient = np.tile(np.linspace(0, 255, 10, dtype=np.uint8), (30, 1))
    Image.fromarray(gradient, mode="L").save(tmp_path / "sub" / "b.png")
    noise = np.random.default_rng(0).integers(0, 256, (16, 16, 4), dtype=np.uint8)
    Image.fromarray(noise, mode="RGBA").save(tmp_path / "sub" / "deeper" / "c.PNG")
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_folder_array(image_folder):
    pixels = image_array("folder", data_dir=image_folder, image_size=8)
    assert pixels.shape == (3, 8, 8, 3) and pixels.dtype == np.float32
    assert pixels.min() >= -1.0 and pixels.max() <= 1.0
    np.testing.assert_allclose(pixels[0], np.broadcast_to([1.0, -1.0, -0.6], (8, 8, 3)), atol=1e-6)
    np.testing.assert_array_equal(pixels[1, ..., 0], pixels[1, ..., 1])  # gray PNG → R = G


def test_folder_grayscale_uses_luma(image_folder):
    pixels = image_array("folder", data_dir=image_folder, image_size=8, channels=1)
    assert pixels.shape == (3, 8, 8, 1)
    np.testing.assert_allclose(pixels[0], 0.299 * 1.0 + 0.587 * -1.0 + 0.114 * -0.6, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_folder_tf_pipeline_matches_arrays(image_folder, channels):
    pytest.importorskip("tensorflow")
    kwargs = dict(data_dir=image_folder, image_size=8, channels=channels)
    (batch,) = _batches(images("folder", batch_size=3, shuffle=False, **kwargs))
    np.testing.assert_allclose(batch, image_array("folder", **kwargs), atol=1e-4)


def test_folder_errors_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="No .*images under") as error:
        image_array("folder", data_dir=tmp_path, image_size=8)
    assert str(tmp_path) in str(error.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        image_array("folder", data_dir=tmp_path / "missing", image_size=8)
    with pytest.raises(ValueError, match="data_dir"):
        image_array("folder", image_size=8)


# --- tensorflow-datasets sources, mocked -----------------------------------------------


@pytest.mark.parametrize(
    "name, size, channels", [("lsun/bedroom", 64, 3), ("cifar10", 32, 3), ("mnist", 32, 1)]
)
def test_tfds_pipelines_on_mock_data(tmp_path, name, size, channels):
    tfds = _tfds()
    with tfds.testing.mock_data(num_examples=10):
        batches = _batches(images(name, image_size=size, batch_size=4, data_dir=tmp_path))
        pixels = image_array(name, image_size=size, data_dir=tmp_path)
    assert len(batches) == 2  # 10 examples → 2 full batches of 4
    for batch in batches:
        assert batch.shape == (4, size, size, channels) and batch.dtype == np.float32
        assert batch.min() >= -1.0 and batch.max() <= 1.0
    assert pixels.shape == (10, size, size, channels) and pixels.dtype == np.float32


def test_mnist_labels_and_rgb_override_on_mock_data(tmp_path):
    tfds = _tfds()
    with tfds.testing.mock_data(num_examples=8):
        dataset = images(
            "mnist", image_size=32, batch_size=4, data_dir=tmp_path, channels=3, with_labels=True
        )
        (x, y), _ = _batches(dataset)
    assert x.shape == (4, 32, 32, 3) and y.shape == (4,) and y.dtype == np.int32
    np.testing.assert_array_equal(x[..., 0], x[..., 2])


@pytest.mark.parametrize("name", ["mnist", "lsun/bedroom"])
def test_missing_dataset_says_how_to_get_it_and_never_downloads(tmp_path, monkeypatch, name):
    tfds = _tfds()

    def no_download(*args, **kwargs):
        raise AssertionError("download_and_prepare must not run without download=True")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", no_download)
    for load in (images, image_array):
        kwargs = dict(batch_size=4) if load is images else {}
        with pytest.raises(FileNotFoundError) as error:
            load(name, image_size=32, data_dir=tmp_path, **kwargs)
        message = str(error.value)
        assert repr(name) in message and str(tmp_path) in message
        assert "download=True" in message and f"tfds build {name}" in message


def test_download_true_prepares_before_reading(tmp_path, monkeypatch):
    tfds = _tfds()
    prepared = []
    with tfds.testing.mock_data(num_examples=4):
        monkeypatch.setattr(
            tfds.core.DatasetBuilder, "download_and_prepare", lambda b: prepared.append(b.name)
        )
        images("mnist", image_size=8, batch_size=4, data_dir=tmp_path, download=True)
    assert prepared == ["mnist"]


# --- without TensorFlow ------------------------------------------------------------------


def test_digits_and_folder_work_without_tensorflow(image_folder):
    """A subprocess that cannot import TensorFlow still imports kwgan.data and reads digits
    and folders. The TensorFlow-only entry points fail with an ImportError saying what to
    install."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        backend = next((b for b in ("jax", "torch") if importlib.util.find_spec(b)), None)
    if backend is None:
        pytest.skip("needs a Keras backend other than TensorFlow")
    script = f"""
        import sys
        sys.modules["tensorflow"] = sys.modules["tensorflow_datasets"] = None  # unimportable
        from kwgan.data import ImageBatches, image_array, images

        x, y = image_array("digits", image_size=16, with_labels=True)
        assert x.shape == (1797, 16, 16, 1) and len(ImageBatches(x, y, batch_size=100)) == 17
        assert image_array("folder", data_dir={str(image_folder)!r}, image_size=8).shape[0] == 3
        for call in (lambda: image_array("mnist", image_size=32),
                     lambda: images("digits", image_size=32, batch_size=8)):
            try:
                call()
                raise SystemExit("expected ImportError")
            except ImportError as error:
                assert "pip install 'kwgan[tensorflow]'" in str(error), error
        """
    ok(run_code(script, env={"KERAS_BACKEND": backend}))
