"""Precision, recall, density and coverage (`kwgan.metrics.manifold`) against numbers worked
out by hand on tiny point sets, and against a brute-force copy of the reference code
(clovaai's `prdc.compute_prdc`) on random sets with the distance blocks forced small.
Pure NumPy: the same on every backend, and fast."""

import numpy as np
import pytest

from kwgan.errors import ConfigError, DataError
from kwgan.metrics import manifold
from kwgan.metrics.manifold import density_coverage, knn_radii, prdc, precision_recall


def line(*points: float) -> np.ndarray:
    """Points on a line as [N, 1] features."""
    return np.array(points, dtype=np.float64)[:, None]


# Reals at 0, 1, 2, 10 and fakes at 0.5, 2.5, 5, 20 on a line. A ball holds a point when the
# distance is strictly below its radius (prdc's `<`).
REAL, FAKE = line(0, 1, 2, 10), line(0.5, 2.5, 5, 20)


def test_radii_by_hand():
    # k-th nearest neighbour other than the point itself.
    # k = 1: 0→1 (at 1), 1→1, 2→1, 10→8 (at 2).
    np.testing.assert_array_equal(knn_radii(REAL, 1), [1, 1, 1, 8])
    # k = 2: 0: {1, 2, 10} → 2; 1: {1, 1, 9} → 1 (a tie, counted twice); 2: {1, 2, 8} → 2;
    # 10: {8, 9, 10} → 9.
    np.testing.assert_array_equal(knn_radii(REAL, 2), [2, 1, 2, 9])
    # k = 3 is the farthest other point.
    np.testing.assert_array_equal(knn_radii(REAL, 3), [10, 9, 8, 10])


def test_k1_by_hand():
    # Real radii (k = 1): 0→1, 1→1, 2→1, 10→8. Fake radii: 0.5→2 (to 2.5), 2.5→2, 5→2.5,
    # 20→15 (to 5).
    # Precision, fakes in some real ball: 0.5 (0.5 from 0 < 1), 2.5 (0.5 from 2 < 1),
    # 5 (5 from 10 < 8); 20 is 10 from 10, not < 8: 3/4.
    # Recall, reals in some fake ball: 0, 1 (0.5 from 0.5 < 2), 2 (0.5 from 2.5 < 2), and
    # 10, 10 from 20 < 15: the outlier fake's big ball brings recall to 4/4.
    assert precision_recall(REAL, FAKE, k=1) == (0.75, 1.0)
    # Density, real balls holding each fake: 0.5 in B(0, 1) and B(1, 1) → 2;
    # 2.5 in B(2, 1) (0.5) and B(10, 8) (7.5) → 2; 5 in B(10, 8) → 1; 20 in none → 0.
    # (2 + 2 + 1 + 0) / (k·M = 4) = 1.25: above 1 where fakes crowd dense reals.
    # Coverage, real balls holding a fake: 0 (0.5), 1 (0.5), 2 (0.5), 10 (5 < 8): 4/4.
    assert density_coverage(REAL, FAKE, k=1) == (1.25, 1.0)


def test_k2_by_hand():
    # Real radii (k = 2): 0→2, 1→1, 2→2, 10→9. Fake radii: 0.5 {2, 4.5, 19.5} → 4.5;
    # 2.5 {2, 2.5, 17.5} → 2.5; 5 {2.5, 4.5, 15} → 4.5; 20 {15, 17.5, 19.5} → 17.5.
    # Precision: 0.5 in B(0, 2); 2.5 in B(2, 2); 5 in B(10, 9); 20 (10 from 10) in none: 3/4.
    # Recall: 0, 1 within 4.5 of 0.5; 2 within 2.5 of 2.5; 10 is 5 from 5 (not < 4.5) but
    # 10 from 20 (< 17.5): 4/4.
    # Density: 0.5 in B(0, 2), B(1, 1), B(2, 2) → 3; 2.5 in B(2, 2) and B(10, 9) (7.5) → 2,
    # not B(1, 1) (1.5) nor B(0, 2) (2.5); 5 in B(10, 9) → 1; 20 → 0. 6 / (2·4) = 0.75.
    # Coverage: every real ball holds a fake (0.5, 0.5, 0.5, 5 < 9): 4/4.
    assert prdc(REAL, FAKE, precision_recall_k=2, density_coverage_k=2) == {
        "precision": 0.75,
        "recall": 1.0,
        "density": 0.75,
        "coverage": 1.0,
    }


def test_2d_by_hand_recall_versus_coverage():
    # Reals at the corners of a 2 × 2 square: every k = 1 radius is 2 (the sides; the
    # diagonal is 2√2). Fakes: two near the corner (0, 0), one outlier at (9, 9).
    real = np.array([[0, 0], [2, 0], [0, 2], [2, 2]], dtype=np.float64)
    fake = np.array([[0, 0.5], [0.5, 0], [9, 9]])
    # Fake radii (k = 1): (0, 0.5) and (0.5, 0) are √0.5 apart; (9, 9) is √153.25 from both.
    # Precision: (0, 0.5) and (0.5, 0) lie 0.5 from (0, 0) < 2; (9, 9) is √98 from (2, 2): 2/3.
    # Recall: (0, 0) is 0.5 < √0.5 from (0, 0.5); (2, 0), (0, 2) are √130 and (2, 2) is √98
    # from (9, 9), all < √153.25: 4/4, though the samples sit at one corner.
    assert precision_recall(real, fake, k=1) == (pytest.approx(2 / 3), 1.0)
    # Density: (0, 0.5) in B((0,0), 2) (0.5) and B((0,2), 2) (1.5), not B((2,0), 2) (√4.25)
    # nor B((2,2), 2) (2.5) → 2; (0.5, 0) likewise in B((0,0)), B((2,0)) → 2; (9, 9) → 0.
    # 4 / (1·3) = 4/3.
    # Coverage: (0, 0), (2, 0), (0, 2) hold a fake (0.5, 1.5, 1.5 < 2); (2, 2)'s nearest fake
    # is 2.5 away: 3/4. Coverage sees the missing corner that recall, fooled by the outlier's
    # ball, does not (Naeem et al. 2020, §3).
    density, coverage = density_coverage(real, fake, k=1)
    assert density == pytest.approx(4 / 3) and coverage == 0.75


def test_a_point_on_a_ball_boundary_is_outside():
    # Reals at 0, 1, 2 all have k = 1 radius 1; a fake at 3 is exactly 1 from 2. prdc compares
    # with `<`, so it is outside (the precision/recall paper's ≤ would count it).
    assert precision_recall(line(0, 1, 2), line(3, 3.5), k=1) == (0.0, 0.0)
    assert density_coverage(line(0, 1, 2), line(3, 3.5), k=1) == (0.0, 0.0)


def test_identical_sets_score_one():
    x = np.random.default_rng(0).normal(size=(60, 8))
    result = prdc(x, x.copy(), block_rows=7)
    assert result["precision"] == result["recall"] == result["coverage"] == 1.0
    # Each ball holds its centre and the k − 1 nearer neighbours (the k-th lies on the
    # boundary), so density is 1 up to rounding of boundary distances.
    assert result["density"] == pytest.approx(1.0, abs=0.05)


def test_disjoint_sets_score_zero():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(40, 4)), rng.normal(size=(30, 4)) + 100
    assert prdc(real, fake) == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def reference_prdc(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict:
    """prdc's `compute_prdc`, with full matrices of direct differences, and one k per pair
    of metrics: radii as `get_kth_value(distances, k + 1)` over rows that include the
    point's own zero distance, strict `<` throughout."""

    def distances(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))

    def radii(a, k):
        return np.sort(distances(a, a), axis=1)[:, k]

    d = distances(real, fake)
    real_pr, fake_pr, real_dc = radii(real, k_pr), radii(fake, k_pr), radii(real, k_dc)
    return {
        "precision": (d < real_pr[:, None]).any(axis=0).mean(),
        "recall": (d < fake_pr[None, :]).any(axis=1).mean(),
        "density": (1.0 / k_dc) * (d < real_dc[:, None]).sum(axis=0).mean(),
        "coverage": (d.min(axis=1) < real_dc).mean(),
    }


@pytest.mark.parametrize("block_rows", [1, 4, None])
def test_matches_a_brute_force_reference(block_rows):
    rng = np.random.default_rng(2)
    # Overlapping but different clouds, so none of the numbers is trivially 0 or 1.
    real = rng.normal(size=(53, 6)).astype(np.float32)
    fake = (rng.normal(size=(41, 6)) * 1.3 + 0.4).astype(np.float32)
    r64, f64 = real.astype(np.float64), fake.astype(np.float64)
    expected = reference_prdc(r64, f64, k_pr=3, k_dc=5)
    got = prdc(real, fake, block_rows=block_rows)
    assert got == pytest.approx(expected, rel=1e-12)
    assert 0 < min(got.values()) and max(got["precision"], got["recall"]) < 1
    assert precision_recall(real, fake, block_rows=block_rows) == (
        got["precision"],
        got["recall"],
    )
    assert density_coverage(real, fake, block_rows=block_rows) == pytest.approx(
        (got["density"], got["coverage"]), rel=1e-12
    )
    radii = manifold.real_radii(real, block_rows=block_rows)
    for k in (3, 5):
        expected_radii = np.sort(np.linalg.norm(r64[:, None] - r64[None], axis=-1), axis=1)[:, k]
        np.testing.assert_allclose(radii[k], expected_radii, rtol=1e-12)
        np.testing.assert_allclose(knn_radii(real, k, block_rows=block_rows), radii[k])
    # Radii computed once and passed in give the same numbers.
    assert prdc(real, fake, real_radii=radii, block_rows=block_rows) == got


def test_default_blocks_bound_memory(monkeypatch):
    # A block holds at most BLOCK_ELEMENTS distances: 10 here, so 53 × 41 sets take many.
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(53, 3)), rng.normal(size=(41, 3))
    whole = prdc(real, fake)
    shapes = []
    distances = manifold._distances
    monkeypatch.setattr(manifold, "BLOCK_ELEMENTS", 100)
    monkeypatch.setattr(
        manifold,
        "_distances",
        lambda x, y, y_sq: shapes.append(len(x) * len(y)) or distances(x, y, y_sq),
    )
    assert prdc(real, fake) == pytest.approx(whole, rel=1e-12)
    assert max(shapes) <= 100


def test_bad_input_gets_one_clear_error():
    x = np.zeros((10, 4))
    with pytest.raises(DataError, match=r"\[N, d\] array of features, got shape \(10,\)"):
        prdc(np.zeros(10), x)
    with pytest.raises(DataError, match="different feature sizes: 4 and 3"):
        prdc(x, np.zeros((10, 3)))
    bad = np.ones((10, 4))
    bad[7, 2] = np.nan
    with pytest.raises(
        DataError, match=r"fake_features has non-finite .* 1 of 10 rows \(first: row 7\)"
    ):
        prdc(x, bad)
    with pytest.raises(DataError, match="k = 5 needs more than 5 real features .* got 5"):
        density_coverage(np.ones((5, 4)), x)
    with pytest.raises(DataError, match="k = 3 needs more than 3 fake features .* got 3"):
        precision_recall(x, np.ones((3, 4)))
    with pytest.raises(ConfigError, match="k must be a positive integer, got 0"):
        precision_recall(x, x, k=0)
    with pytest.raises(ConfigError, match="k must be a positive integer, got True"):
        knn_radii(x, True)
    with pytest.raises(DataError, match=r"real_radii\[3\] has shape \(9,\), not \(10,\)"):
        prdc(x, x, real_radii={3: np.ones(9)})
    # Density and coverage need no fake neighbours: one sample is enough. 1.5 lies in
    # B(1, 1) and B(2, 1): density 2 / (1·1); two of the three real balls covered.
    assert density_coverage(line(0, 1, 2), line(1.5), k=1) == (2.0, 2 / 3)
