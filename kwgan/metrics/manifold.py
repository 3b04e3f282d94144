"""Precision, recall, density and coverage: fidelity and diversity apart, from k-NN balls.

FID and KID fold two failures into one number: samples unlike any real image (fidelity) and
real images no sample resembles (diversity). These metrics estimate each set's support in a
feature space as a union of balls, one around every point with the distance to its k-th
nearest neighbour as radius, and count who falls in whose:

* Improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall
  Metric for Assessing Generative Models", §2): precision is the fraction of generated
  features inside the real manifold (fidelity), recall the fraction of real features inside
  the generated manifold (diversity). The paper's k = 3 is the default.
* Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
  Generative Models", §3), which answer precision's and recall's weak points, both built from
  the real balls alone: density = (1/kM) Σ_j Σ_i 1[Y_j ∈ B(X_i, NND_k(X_i))] counts how many
  real balls hold each of the M samples, so a sample held only by a real outlier's large
  ball counts 1/k, not 1 as in precision (density is about 1 for identical distributions
  and can exceed 1);
  coverage = (1/N) Σ_i 1[∃ j: Y_j ∈ B(X_i, NND_k(X_i))] is the fraction of the N real balls
  holding a sample, so a generated outlier cannot inflate it as it inflates recall. The
  paper's k = 5 is the default.

The numbers are those of the reference code, `compute_prdc` in clovaai's prdc package
(`prdc/prdc.py`, which StudioGAN copies as `src/metrics/prdc.py`): Euclidean distances; the
k-NN radius is the (k + 1)-th smallest distance in a row that includes the point's own zero
distance, i.e. the k-th nearest neighbour other than the point itself; and a point is inside
a ball when its distance is strictly less than the radius (`<`, as prdc compares; the
precision/recall paper writes ≤, which differs only on exact ties). StudioGAN uses one k (5)
for all four; here precision/recall keep their paper's k = 3.

Memory stays bounded for any set size: distances are computed in row blocks of at most
`BLOCK_ELEMENTS` entries (a full 10 000 × 10 000 matrix would be 800 MB in float64), as
‖x‖² + ‖y‖² − 2 x·y in float64 so that the expansion does not cancel away close distances.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from kwgan.errors import DataError, check_positive_int

PRECISION_RECALL_K = 3  # Kynkäänniemi et al. 2019, §2 and its code's default
DENSITY_COVERAGE_K = 5  # Naeem et al. 2020, §3 (its recommended k for 10 000 samples)
BLOCK_ELEMENTS = 2**22  # distances per block: 32 MiB of float64, whatever the set sizes


def _checked(features: ArrayLike, name: str) -> np.ndarray:
    """`features` as float64 [N, d] with N ≥ 1 and every entry finite, else a `DataError`."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0 or x.shape[1] == 0:
        raise DataError(f"{name} must be an [N, d] array of features, got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        rows = np.flatnonzero(~np.isfinite(x).all(axis=1))
        raise DataError(
            f"{name} has non-finite values (NaN or inf) in {len(rows)} of {len(x)} rows "
            f"(first: row {rows[0]}); the generator or the feature network diverged."
        )
    return x


def _checked_pair(real: ArrayLike, fake: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, y = _checked(real, "real_features"), _checked(fake, "fake_features")
    if x.shape[1] != y.shape[1]:
        raise DataError(
            f"real_features and fake_features have different feature sizes: {x.shape[1]} "
            f"and {y.shape[1]}; both must come from the same network layer."
        )
    return x, y


def _checked_k(k: object, count: int, name: str) -> int:
    """`k` if the set of `count` points has a k-th nearest neighbour besides each point."""
    k = check_positive_int(k, "k")
    if k >= count:
        raise DataError(
            f"k = {k} needs more than {k} {name} (each point's k-th nearest neighbour "
            f"other than itself), got {count}; pass fewer neighbours or more samples."
        )
    return k


def _blocks(rows: int, columns: int, block_rows: int | None) -> Iterator[slice]:
    """Row slices of at most `block_rows` rows (by default, `BLOCK_ELEMENTS` per block)."""
    if block_rows is None:
        block_rows = max(1, BLOCK_ELEMENTS // max(columns, 1))
    block_rows = check_positive_int(block_rows, "block_rows")
    for start in range(0, rows, block_rows):
        yield slice(start, min(start + block_rows, rows))


def _distances(x: np.ndarray, y: np.ndarray, y_sq: np.ndarray) -> np.ndarray:
    """Euclidean distances [len(x), len(y)] from float64 squared norms (`y_sq` = ‖y‖²),
    clipped at zero where rounding makes a squared distance negative (as scikit-learn's
    `euclidean_distances`, which prdc calls, does)."""
    sq = np.einsum("ij,ij->i", x, x)[:, None] + y_sq[None, :] - 2.0 * (x @ y.T)
    return np.sqrt(np.maximum(sq, 0.0, out=sq), out=sq)


def _radii(x: np.ndarray, ks: Sequence[int], block_rows: int | None) -> np.ndarray:
    """[len(ks), N]: each point's distance to its k-th nearest neighbour other than itself,
    for every k in one pass over the distances. As prdc's `compute_nearest_neighbour_distances`:
    the (k + 1)-th smallest of a row that includes the point's own distance, set to exactly
    zero (as scikit-learn does for a set against itself) so that rounding cannot rank it
    behind a duplicate."""
    sq = np.einsum("ij,ij->i", x, x)
    out = np.empty((len(ks), len(x)))
    for rows in _blocks(len(x), len(x), block_rows):
        d = _distances(x[rows], x, sq)
        d[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = 0.0
        d.partition(sorted(set(ks)), axis=1)
        out[:, rows] = d[:, list(ks)].T
    return out


def knn_radii(features: ArrayLike, k: int, *, block_rows: int | None = None) -> np.ndarray:
    """Each feature's distance to its k-th nearest neighbour in the same set, itself
    excluded ([N] float64): the radii of the balls whose union estimates the set's support
    (Kynkäänniemi et al. 2019, §2; Naeem et al. 2020, NND_k). Pass them as `real_radii` to
    `prdc` (or use `real_radii`) to measure several sample sets against one real set
    without recomputing them."""
    x = _checked(features, "features")
    return _radii(x, [_checked_k(k, len(x), "features")], block_rows)[0]


def real_radii(
    real_features: ArrayLike,
    *,
    precision_recall_k: int = PRECISION_RECALL_K,
    density_coverage_k: int = DENSITY_COVERAGE_K,
    block_rows: int | None = None,
) -> dict[int, np.ndarray]:
    """`knn_radii` of the real set for both of `prdc`'s k, from one pass over its
    distances: what an evaluator keeps beside the real statistics, as `prdc`'s `real_radii`."""
    x = _checked(real_features, "real_features")
    ks = sorted(
        {_checked_k(k, len(x), "real features") for k in (precision_recall_k, density_coverage_k)}
    )
    return dict(zip(ks, _radii(x, ks, block_rows), strict=True))


def _counts(
    x: np.ndarray,
    y: np.ndarray,
    *,
    pr_radii: tuple[np.ndarray, np.ndarray] | None,
    dc_radii: np.ndarray | None,
    block_rows: int | None,
) -> dict[str, np.ndarray]:
    """One pass over the real-to-fake distances, in row blocks of reals: who lies in whose
    ball, for precision/recall (`pr_radii` = real and fake k-NN radii) and density/coverage
    (`dc_radii` = real k-NN radii), each where its radii are given."""
    y_sq = np.einsum("ij,ij->i", y, y)
    out = {}
    if pr_radii is not None:
        real_pr, fake_pr = pr_radii
        out["fake_in_real"] = np.zeros(len(y), dtype=bool)  # Y_j inside some real ball
        out["real_in_fake"] = np.empty(len(x), dtype=bool)  # X_i inside some fake ball
    if dc_radii is not None:
        out["balls_holding"] = np.zeros(len(y), dtype=np.int64)  # real balls holding Y_j
        out["covered"] = np.empty(len(x), dtype=bool)  # real ball i holds some Y_j
    for rows in _blocks(len(x), len(y), block_rows):
        d = _distances(x[rows], y, y_sq)
        if pr_radii is not None:
            out["fake_in_real"] |= (d < real_pr[rows, None]).any(axis=0)
            out["real_in_fake"][rows] = (d < fake_pr[None, :]).any(axis=1)
        if dc_radii is not None:
            out["balls_holding"] += (d < dc_radii[rows, None]).sum(axis=0)
            out["covered"][rows] = d.min(axis=1) < dc_radii[rows]
    return out


def precision_recall(
    real_features: ArrayLike,
    fake_features: ArrayLike,
    k: int = PRECISION_RECALL_K,
    *,
    block_rows: int | None = None,
) -> tuple[float, float]:
    """Improved (precision, recall) of Kynkäänniemi et al. 2019 (§2) with k neighbours:
    the fraction of fakes within some real feature's k-NN radius (fidelity), and of reals
    within some fake feature's (diversity). Both sets need more than k points."""
    x, y = _checked_pair(real_features, fake_features)
    k = _checked_k(k, len(x), "real features")
    _checked_k(k, len(y), "fake features")
    radii = (_radii(x, [k], block_rows)[0], _radii(y, [k], block_rows)[0])
    counts = _counts(x, y, pr_radii=radii, dc_radii=None, block_rows=block_rows)
    return float(counts["fake_in_real"].mean()), float(counts["real_in_fake"].mean())


def density_coverage(
    real_features: ArrayLike,
    fake_features: ArrayLike,
    k: int = DENSITY_COVERAGE_K,
    *,
    block_rows: int | None = None,
) -> tuple[float, float]:
    """(density, coverage) of Naeem et al. 2020 (§3) with k neighbours, both from the real
    k-NN balls only: the number of real balls holding a fake, averaged over fakes and
    divided by k (fidelity), and the fraction of real balls holding at least one fake
    (diversity). The real set needs more than k points; the fake set, one."""
    x, y = _checked_pair(real_features, fake_features)
    k = _checked_k(k, len(x), "real features")
    radii = _radii(x, [k], block_rows)[0]
    counts = _counts(x, y, pr_radii=None, dc_radii=radii, block_rows=block_rows)
    return float(1.0 / k * counts["balls_holding"].mean()), float(counts["covered"].mean())


def prdc(
    real_features: ArrayLike,
    fake_features: ArrayLike,
    *,
    precision_recall_k: int = PRECISION_RECALL_K,
    density_coverage_k: int = DENSITY_COVERAGE_K,
    real_radii: Mapping[int, np.ndarray] | None = None,
    block_rows: int | None = None,
) -> dict[str, float]:
    """`precision`, `recall` (`precision_recall`), `density` and `coverage`
    (`density_coverage`) of `fake_features` [M, d] against `real_features` [N, d], with one
    pass over each distance matrix instead of one per function.

    `real_radii` maps k to `knn_radii(real_features, k)` computed before, for either k (the
    real set is the same at every evaluation); those missing are computed here. Only values
    at the same set sizes and k compare: a radius shrinks as its set grows.
    """
    x, y = _checked_pair(real_features, fake_features)
    pr_k = _checked_k(precision_recall_k, len(x), "real features")
    _checked_k(pr_k, len(y), "fake features")
    dc_k = _checked_k(density_coverage_k, len(x), "real features")
    radii = {}
    for k, r in (real_radii or {}).items():
        r = np.asarray(r, dtype=np.float64)
        if r.shape != (len(x),):
            raise DataError(
                f"real_radii[{k}] has shape {r.shape}, not ({len(x)},): the radii of "
                "another real set?"
            )
        radii[k] = r
    missing = sorted({pr_k, dc_k} - radii.keys())
    if missing:
        radii.update(zip(missing, _radii(x, missing, block_rows), strict=True))
    fake_pr = _radii(y, [pr_k], block_rows)[0]
    counts = _counts(
        x, y, pr_radii=(radii[pr_k], fake_pr), dc_radii=radii[dc_k], block_rows=block_rows
    )
    return {
        "precision": float(counts["fake_in_real"].mean()),
        "recall": float(counts["real_in_fake"].mean()),
        "density": float(1.0 / dc_k * counts["balls_holding"].mean()),
        "coverage": float(counts["covered"].mean()),
    }
