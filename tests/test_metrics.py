"""Tests for kwgan.metrics: exact W1, mode statistics and the digits classifier metrics."""

import ast
import functools
import pathlib

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from sklearn.datasets import load_digits

from kwgan.data import centers, image_array, sample, stddev
from kwgan.metrics import (
    classifier_score,
    digits_report,
    exact_w1,
    frechet_distance,
    mode_stats,
    real_digits,
    real_frechet_floor,
    to_digits8,
    w1_floor,
)
from kwgan.metrics.digits import _frechet

# --- exact_w1 ---------------------------------------------------------------------------


def test_w1_identical_sets_in_any_order_is_zero():
    x = np.random.default_rng(0).normal(size=(50, 3))
    assert exact_w1(x, x) == 0.0
    assert exact_w1(x, x[::-1]) == pytest.approx(0.0, abs=1e-12)


def test_w1_of_a_shifted_set_is_the_shift_length():
    x = np.random.default_rng(1).normal(size=(40, 2))
    v = np.array([0.3, -0.4])
    assert exact_w1(x, x + v) == pytest.approx(0.5, rel=1e-12)


def test_w1_finds_the_non_identity_matching():
    x = np.array([[0.0, 0.0], [10.0, 0.0]])
    y = np.array([[10.0, 1.0], [0.0, 1.0]])  # in order, each match would cost sqrt(101)
    assert exact_w1(x, y) == pytest.approx(1.0, rel=1e-12)


def test_w1_matches_scipy_in_one_dimension():
    rng = np.random.default_rng(2)
    for _ in range(3):
        x, y = rng.normal(size=60), rng.exponential(size=60)
        expected = scipy.stats.wasserstein_distance(x, y)
        assert exact_w1(x[:, None], y[:, None]) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.zeros((3, 2)), np.zeros((4, 2)), "same size"),
        (np.zeros((3, 2)), np.zeros((3, 3)), "same size"),
        (np.zeros(3), np.zeros(3), r"\[n, d\]"),
        (np.zeros((3, 2)), np.array([[0.0, 0.0], [np.nan, 0.0], [1.0, 1.0]]), "NaN"),
        (np.zeros((0, 2)), np.zeros((0, 2)), "empty"),
    ],
)
def test_w1_rejects_bad_inputs(x, y, message):
    with pytest.raises(ValueError, match=message):
        exact_w1(x, y)


def test_w1_floor_averages_pairs_of_independent_samples():
    sampler = functools.partial(sample, "8gaussians")
    floor = w1_floor(sampler, 200, seed_pairs=((1, 2), (3, 4)))
    expected = np.mean(
        [exact_w1(sampler(200, 1), sampler(200, 2)), exact_w1(sampler(200, 3), sampler(200, 4))]
    )
    assert floor == pytest.approx(expected)
    assert 0.0 < floor < 0.5
    with pytest.raises(ValueError, match="itself"):
        w1_floor(sampler, 10, seed_pairs=((1, 1),))


# --- mode_stats -------------------------------------------------------------------------

CENTERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])


def test_mode_stats_on_hand_made_samples():
    samples = np.array(
        [[0.0, 0.0]] * 5  # five on centre 0
        + [[1.02, 0.0], [1.0, -0.02], [0.98, 0.0]]  # three within 3 std of centre 1
        + [[0.0, 1.04]]  # nearest to centre 2 but 4 std away: low quality
        + [[0.5, 0.5]]  # between modes
    )
    stats = mode_stats(samples, CENTERS, std=0.01)
    assert stats["mode_counts"] == [5, 3, 0]
    assert stats["modes_covered"] == 2
    assert stats["num_modes"] == 3
    assert stats["high_quality_fraction"] == pytest.approx(0.8)
    assert stats["min_count"] == 1
    # A 5-std radius takes in the point at 4 std; min_share=1.2 (1.2 * 10/3 -> 4) drops centre 1.
    assert mode_stats(samples, CENTERS, std=0.01, n_std=5)["mode_counts"] == [5, 3, 1]
    strict = mode_stats(samples, CENTERS, std=0.01, min_share=1.2)
    assert (strict["min_count"], strict["modes_covered"]) == (4, 1)


@pytest.mark.parametrize("name", ["8gaussians", "25gaussians"])
def test_mode_stats_of_real_data(name):
    stats = mode_stats(sample(name, 2000, seed=0), centers(name), stddev(name))
    assert stats["modes_covered"] == len(centers(name))
    # 2-D Rayleigh radius: P(r <= 3 std) = 1 - exp(-4.5) = 0.989.
    assert stats["high_quality_fraction"] == pytest.approx(1 - np.exp(-4.5), abs=0.01)


def test_mode_stats_rejects_bad_inputs():
    with pytest.raises(ValueError, match="centers"):
        mode_stats(np.zeros((4, 2)), np.zeros((3, 3)), std=0.1)
    with pytest.raises(ValueError, match="NaN"):
        mode_stats(np.full((4, 2), np.nan), CENTERS, std=0.1)
    with pytest.raises(ValueError, match="std > 0"):
        mode_stats(np.zeros((4, 2)), CENTERS, std=0.0)


# --- digits -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def heldout():
    return real_digits("heldout")


def test_real_digits_score_high_and_noise_and_repeats_low(heldout):
    real, _ = classifier_score(heldout)
    noise, _ = classifier_score(np.random.default_rng(0).uniform(-1, 1, heldout.shape))
    repeated, repeated_std = classifier_score(np.repeat(heldout[:1], len(heldout), axis=0))
    assert real > 9.0
    assert noise < 2.5
    assert repeated == pytest.approx(1.0, abs=1e-9)
    assert repeated_std == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_small_for_real_large_for_noise(heldout):
    noise = np.random.default_rng(0).uniform(-1, 1, heldout.shape)
    assert frechet_distance(heldout, heldout) == pytest.approx(0.0, abs=1e-6)
    assert real_frechet_floor() < 1.0
    assert frechet_distance(heldout, noise) > 100.0
    assert frechet_distance(noise, heldout) == pytest.approx(
        frechet_distance(heldout, noise), rel=1e-6
    )


def test_frechet_matches_the_sqrtm_formula():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6)) + 0.5
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(ca @ cb).real
    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca + cb - 2 * root)
    assert _frechet(a, b) == pytest.approx(expected, rel=1e-8)


def test_resolution_and_channels_do_not_change_the_scores(heldout):
    big = np.kron(heldout, np.ones((1, 4, 4, 1), np.float32))  # 32x32, exact block averages
    np.testing.assert_allclose(to_digits8(big), to_digits8(heldout), atol=1e-5)
    assert classifier_score(big)[0] == pytest.approx(classifier_score(heldout)[0], rel=1e-6)
    assert frechet_distance(big, heldout) == pytest.approx(0.0, abs=1e-4)
    rgb = np.repeat(heldout, 3, axis=-1)
    assert classifier_score(rgb)[0] == pytest.approx(classifier_score(heldout)[0], rel=1e-9)
    np.testing.assert_allclose(to_digits8(heldout[..., 0]), to_digits8(heldout))


def test_area_resize_of_odd_sizes_preserves_mean_and_constants():
    rng = np.random.default_rng(4)
    image = rng.uniform(-1, 1, (1, 28, 28, 1))
    assert to_digits8(image).mean() == pytest.approx((image.mean() + 1) * 8, rel=1e-12)
    np.testing.assert_allclose(to_digits8(np.full((2, 13, 28), 0.5)), 12.0)


@pytest.mark.parametrize(
    "images, message",
    [
        (np.full((2, 8, 8, 1), 255.0), r"\[-1, 1\]"),
        (np.zeros((2, 1, 28, 28)), "channels"),
        (np.full((2, 8, 8, 1), np.nan), "NaN"),
        (np.zeros((8, 8)), "batch"),
    ],
)
def test_to_digits8_rejects_bad_inputs(images, message):
    with pytest.raises(ValueError, match=message):
        to_digits8(images)


def test_digits_report_puts_images_beside_real_and_noise(heldout):
    report = digits_report(heldout)
    assert report["n"] == len(heldout)
    assert report["score"] == pytest.approx(report["real_score"])
    assert report["fd"] == pytest.approx(0.0, abs=1e-6)
    assert report["real_fd"] == pytest.approx(real_frechet_floor())
    assert report["noise_score"] < 2.5 and report["noise_fd"] > 100.0
    assert report["classifier_accuracy"] > 0.95
    assert all(isinstance(v, (int, float)) for v in report.values())
    with pytest.raises(ValueError, match="splits"):
        digits_report(heldout[:5])


@pytest.mark.backend_neutral  # NumPy and scikit-learn only
def test_shipped_classifier_is_the_fit_the_code_describes(monkeypatch):
    """The digits score reads the classifier kwgan ships; fitting it as `fit_reference`
    does gives the same split and the same predictions (to BLAS rounding across CPUs)."""
    from kwgan.metrics import digits

    fitted, shipped = digits.fit_reference(), digits._reference()
    np.testing.assert_array_equal(fitted.train_index, shipped.train_index)
    np.testing.assert_array_equal(fitted.heldout_index, shipped.heldout_index)
    assert shipped.heldout_accuracy == pytest.approx(873 / 899)
    assert fitted.heldout_accuracy == pytest.approx(shipped.heldout_accuracy, abs=1.5 / 899)
    shipped_probabilities = digits._probabilities(shipped.digits)
    monkeypatch.setattr(digits, "_reference", lambda: fitted)
    fitted_probabilities = digits._probabilities(shipped.digits)
    np.testing.assert_allclose(fitted_probabilities, shipped_probabilities, atol=1e-5)


def test_label_accuracy_of_true_and_shifted_labels():
    """The held-out digits with their own labels score the classifier's held-out accuracy;
    with every label shifted by one, almost nothing matches."""
    from sklearn.datasets import load_digits

    from kwgan.metrics import label_accuracy
    from kwgan.metrics.digits import _reference

    labels = load_digits().target[_reference().heldout_index]
    heldout = real_digits("heldout")
    accuracy = label_accuracy(heldout, labels)
    assert accuracy == pytest.approx(_reference().heldout_accuracy)
    assert label_accuracy(heldout, (labels + 1) % 10) < 0.05
    report = digits_report(heldout, labels=labels)
    assert report["label_accuracy"] == pytest.approx(accuracy)
    with pytest.raises(ValueError, match="labels for"):
        label_accuracy(heldout, labels[:-1])


def test_real_reference_follows_the_training_format():
    clean = load_digits().images[..., None] / 8.0 - 1.0  # all 1797, in load_digits() order
    assert real_frechet_floor(clean) == pytest.approx(real_frechet_floor())
    big = np.kron(clean, np.ones((1, 4, 4, 1)))  # exact block upsampling changes nothing
    assert real_frechet_floor(big) == pytest.approx(real_frechet_floor(), rel=1e-6)
    # Bilinear upsampling blurs, and a generator trained on blurred digits is judged by that.
    blurred = image_array("digits", image_size=16)
    report = digits_report(blurred[:900], real=blurred)
    assert report["real_fd"] == pytest.approx(real_frechet_floor(blurred))
    assert report["real_fd"] > 2 * real_frechet_floor()
    assert report["real_score"] > 8.5
    with pytest.raises(ValueError, match="order"):
        real_frechet_floor(clean[np.random.default_rng(0).permutation(len(clean))])
    with pytest.raises(ValueError, match="1797"):
        real_frechet_floor(clean[:100])


def test_metrics_modules_need_no_deep_learning_framework():
    """Scores are NumPy/SciPy, usable anywhere; only the FID Inception network, which is a
    Keras model, needs a backend."""
    banned = {"keras", "tensorflow", "jax", "torch"}
    for path in pathlib.Path(__file__).parents[1].glob("kwgan/metrics/*.py"):
        if path.name == "inception.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & banned, f"{path.name} imports {roots & banned}"
