"""FID and KID in the Inception network's pool_3 features (`kwgan.metrics.inception`).

* FID (Heusel et al. 2017): the Fréchet distance between Gaussians fitted to two feature
  sets, ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½), computed as the pytorch-fid reference does
  (https://github.com/mseitzer/pytorch-fid, `calculate_frechet_distance`). It is biased
  upwards by small samples, so only values at equal sample counts compare (50 000 is usual).
  Below d + 1 samples of d features (2049 for Inception's 2048) a covariance is singular
  and the bias is large: `fid` and `fid_score` warn there, but still compute, so that tests
  and quick looks can afford a handful of images.
* KID (Bińkowski et al. 2018, "Demystifying MMD GANs"): the unbiased MMD² with the kernel
  k(x, y) = (x·y / d + 1)³, averaged over random subsets. Unbiased, so it is comparable
  across sample sizes and can be slightly negative for two samples of one distribution.

The real side of a comparison is the same every time, so `real_statistics` caches its
mean, covariance and features per (dataset, split, image size, data digest) under the
cache directory; the features also serve precision, recall, density and coverage
(`kwgan.metrics.manifold`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings

import numpy as np
from numpy.typing import ArrayLike

from kwgan.data import describe, image_array
from kwgan.errors import ConfigError, DataError, check_positive_int
from kwgan.io import atomic_path
from kwgan.metrics import inception


@dataclasses.dataclass(frozen=True)
class RealStatistics:
    """A reference image set as FID and KID need it: feature mean, covariance, features."""

    mu: np.ndarray
    sigma: np.ndarray
    features: np.ndarray

    @classmethod
    def from_features(cls, features: ArrayLike) -> RealStatistics:
        x = _checked_features(features, "features")
        return cls(x.mean(axis=0), np.cov(x, rowvar=False), x)


def _checked_features(features: ArrayLike, name: str) -> np.ndarray:
    """`features` as float64 [N, d] with N ≥ 2 (a covariance needs two), else a `DataError`."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2 or not np.all(np.isfinite(x)):
        raise DataError(f"{name} must be a finite [N >= 2, d] array, got shape {x.shape}.")
    return x


def frechet_distance_from_stats(
    mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike, eps: float = 1e-6
) -> float:
    """The Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    When Σ₁Σ₂ is near singular (fewer samples than dimensions) `sqrtm` can fail to give a
    finite result; then eps·I is added to both covariances, as pytorch-fid does. Imaginary
    parts from rounding are dropped; large ones mean the statistics are broken.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, np.float64))
    d = len(mu1)
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise DataError(
            f"Mismatched statistics: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / "
            f"{sigma2.shape}; both sides need mean [d] and covariance [d, d]."
        )
    # Imported here, not at the top: kwgan trains without SciPy (accelerator machines).
    import scipy.linalg

    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.all(np.isfinite(covmean)):
        offset = np.eye(d) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise DataError("The covariances' product has no real square root; FID is undefined.")
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def fid(features_a: ArrayLike, features_b: ArrayLike) -> float:
    """FID between two [N, d] feature sets (e.g. `inception.features` of two image sets);
    warns where either set is too small for a nonsingular covariance (N <= d)."""
    a = RealStatistics.from_features(features_a)
    b = RealStatistics.from_features(features_b)
    return _frechet_distance(a, b)


def _frechet_distance(a: RealStatistics, b: RealStatistics) -> float:
    """The FID of two sets' statistics, with a warning where either has at most as many
    samples as features: its covariance (of rank N − 1 at most) is then singular, and FID
    is biased far upwards (the TTUR reference code, bioinf-jku/TTUR, recommends at least
    10 000 samples)."""
    counts, dim = (len(a.features), len(b.features)), len(a.mu)
    if min(counts) <= dim:
        warnings.warn(
            f"FID of {counts[0]} against {counts[1]} samples, fewer than the {dim + 1} its "
            f"{dim} features need for a nonsingular covariance: it is biased upwards and "
            "compares only with FIDs at the same sample counts (10 000 is usual; KID is "
            "unbiased).",
            stacklevel=3,
        )
        return _low_rank_frechet_distance(a, b)
    return frechet_distance_from_stats(a.mu, a.sigma, b.mu, b.sigma)


def _low_rank_frechet_distance(a: RealStatistics, b: RealStatistics) -> float:
    """The Fréchet distance of two sets of at most d samples, from their features.

    With centred features A [n_a, d] and B [n_b, d], Σ_a Σ_b = AᵀA BᵀB / c (c = (n_a − 1)
    (n_b − 1)) has the nonzero eigenvalues of A Bᵀ (A Bᵀ)ᵀ / c, so tr √(Σ_a Σ_b) is the sum
    of the singular values of A Bᵀ over √c: exact, and an SVD of an n_a × n_b matrix instead
    of `sqrtm` of a singular d × d one (16 s at d = 2048 on a 2-core CPU, and inaccurate
    there: scipy warns that the matrix is singular)."""
    centred_a, centred_b = a.features - a.mu, b.features - b.mu
    scale = np.sqrt((len(centred_a) - 1) * (len(centred_b) - 1))
    trace_covmean = np.linalg.svd(centred_a @ centred_b.T, compute_uv=False).sum() / scale
    diff = a.mu - b.mu
    return float(diff @ diff + np.trace(a.sigma) + np.trace(b.sigma) - 2 * trace_covmean)


def kid(
    features_a: ArrayLike,
    features_b: ArrayLike,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """KID: (mean, std) over `subsets` random subsets of the unbiased polynomial-kernel MMD².

    Each subset draws min(subset_size, N_a, N_b) rows from each side without replacement,
    as the reference implementation does (https://github.com/mbinkowski/MMD-GAN,
    `polynomial_mmd_averages`); `seed` makes the draw reproducible.
    """
    a = _checked_features(features_a, "features_a")
    b = _checked_features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise DataError(f"Feature sizes differ: {a.shape[1]} and {b.shape[1]}.")
    subsets = check_positive_int(subsets, "subsets")
    if check_positive_int(subset_size, "subset_size") < 2:
        raise ConfigError(
            f"subset_size must be at least 2 for an unbiased MMD², got {subset_size}."
        )
    m = min(subset_size, len(a), len(b))
    rng = np.random.default_rng(seed)
    d = a.shape[1]
    values = np.empty(subsets)
    for i in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        k_xx, k_yy, k_xy = ((p @ q.T / d + 1) ** 3 for p, q in ((x, x), (y, y), (x, y)))
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values[i] = within - 2 * k_xy.mean()
    return float(values.mean()), float(values.std())


def real_statistics(
    dataset: str,
    *,
    image_size: int,
    split: str = "train",
    data_dir: str | os.PathLike | None = None,
    batch_size: int = 50,
    verbose: bool = False,
    weights_path: str | os.PathLike | None = None,
) -> RealStatistics:
    """The Inception statistics of a dataset split as `kwgan.data.image_array` reads it.

    Computed once and cached in `<cache dir>/fid_stats_<dataset>_<split>_<size>_<digest>.npz`,
    written atomically. The digest is the data's (`kwgan.data.describe`), so a cache is
    never read for other files than it was computed from: a `data_dir` whose images were
    added or replaced, or Debian's Fashion-MNIST where a `data_dir` copy was used before.
    """
    image_size = check_positive_int(image_size, "image_size")
    digest = describe(dataset, split=split, data_dir=data_dir)["digest"]
    key = f"{dataset}_{split}_{image_size}_{digest[:12]}"
    path = os.path.join(inception.cache_dir(), "fid_stats_" + re.sub(r"[^\w.-]", "-", key) + ".npz")
    if os.path.isfile(path):
        with np.load(path) as data:
            # Every field or none: the features (KID, precision/recall/density/coverage)
            # are needed as much as the moments, so a file without them is measured again.
            if {"mu", "sigma", "features"} <= set(data.files):
                return RealStatistics(data["mu"], data["sigma"], data["features"])
    images = image_array(dataset, image_size=image_size, split=split, data_dir=data_dir)
    feats = inception.features(
        images, batch_size=batch_size, verbose=verbose, weights_path=weights_path
    )
    stats = RealStatistics.from_features(feats)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, mu=stats.mu, sigma=stats.sigma, features=feats)
    return stats


def _statistics(
    images: ArrayLike | RealStatistics,
    batch_size: int,
    verbose: bool,
    weights_path: str | os.PathLike | None,
) -> RealStatistics:
    """`images`' statistics, or `images` itself if already computed."""
    if isinstance(images, RealStatistics):
        return images
    feats = inception.features(
        images, batch_size=batch_size, verbose=verbose, weights_path=weights_path
    )
    return RealStatistics.from_features(feats)


def fid_score(
    images_a: ArrayLike | RealStatistics,
    images_b: ArrayLike | RealStatistics,
    *,
    batch_size: int = 50,
    verbose: bool = False,
    weights_path: str | os.PathLike | None = None,
) -> float:
    """FID between two [N, H, W, C] image arrays in [−1, 1], or precomputed `RealStatistics`.

    Images outside [−1, 1] are refused and [0, 1]-looking ones warned about
    (`inception.check_pixels`); sets of at most 2048 images get a warning (see `fid`).
    """
    a = _statistics(images_a, batch_size, verbose, weights_path)
    b = _statistics(images_b, batch_size, verbose, weights_path)
    return _frechet_distance(a, b)


def kid_score(
    images_a: ArrayLike | RealStatistics,
    images_b: ArrayLike | RealStatistics,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
    batch_size: int = 50,
    verbose: bool = False,
    weights_path: str | os.PathLike | None = None,
) -> tuple[float, float]:
    """KID (mean, std) between two image arrays in [−1, 1], or precomputed `RealStatistics`."""
    a = _statistics(images_a, batch_size, verbose, weights_path)
    b = _statistics(images_b, batch_size, verbose, weights_path)
    return kid(a.features, b.features, subsets=subsets, subset_size=subset_size, seed=seed)
