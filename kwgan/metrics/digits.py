"""Sample quality for generated handwritten digits, judged by a small digits classifier.

The papers score CIFAR samples with the Inception network (WGAN-GP paper §5.3, Table 3).
That network is neither offline nor CPU-cheap, so kwgan scores digits the same way with a
stand-in it can always build: an MLP trained on scikit-learn's bundled 8×8 digits
(`load_digits`, 1797 images). Half of them, stratified, train the classifier; the other
half is held out as the "real" reference, so real digits are scored by a classifier that
never saw them, just as generated ones are.

* `classifier_score` is the Inception Score protocol with this classifier: exp(E_x KL(p(y|x)
  ‖ p(y))), mean ± std over contiguous splits. It rewards confident and diverse class
  predictions; 10 classes cap it at 10, and a split of m images caps it a little lower
  (p(y) of a finite split is not exactly uniform).
* `frechet_distance` is FID's formula in the classifier's last hidden layer (64 ReLU units).
  It also sees within-class variety and style, which the score cannot.

Any resolution works: images are area-averaged to 8×8, exactly matching the 4×4-block pixel
counts the bundled digits were made with. The digits there fill the frame vertically (they
were height-normalised to 32×32 before counting), so images framed otherwise must be cropped
first: MNIST-style 28×28 with a 4-pixel margin needs `images[:, 4:24, 4:24]`, or real MNIST
digits themselves score near noise.

Resolution still matters to the numbers, because upsampling the training digits is not
undone by area averaging: the training half of `image_array("digits", image_size=32)`
(bilinear) lies at Fréchet distance ≈ 8.3 from the clean held-out digits, against ≈ 0.4 for
the clean 8×8 training half. A generator trained at 32×32 can do no better than its training
data, so pass that data as `real=` to `digits_report` / `real_frechet_floor`, and the real
row shows the floor it is actually judged against.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from kwgan.data.images import LUMA
from kwgan.errors import ConfigError, DataError

_SIDE = 8
_MAX_PIXEL = 16.0  # the bundled digits count "on" pixels per 4×4 block: 0..16
_RANGE_TOLERANCE = 1e-3


def _area_matrix(n_in: int, n_out: int = _SIDE) -> np.ndarray:
    """[n_out, n_in] weights averaging each output pixel over the input pixels it covers.

    For n_in a multiple of n_out this is plain block averaging; otherwise input pixels that
    straddle an output boundary are split by overlap, so no size is special-cased.
    """
    edges_in = np.arange(n_in + 1, dtype=np.float64)
    edges_out = np.linspace(0.0, n_in, n_out + 1)
    overlap = np.minimum(edges_out[1:, None], edges_in[None, 1:]) - np.maximum(
        edges_out[:-1, None], edges_in[None, :-1]
    )
    return np.clip(overlap, 0.0, None) / (n_in / n_out)


def to_digits8(images: ArrayLike) -> np.ndarray:
    """Maps images to the classifier's input: [N, 64] float64 on the digits' 0..16 scale.

    Args:
      images: [N, H, W, C] (C = 1, or 3 taken to luma) or [N, H, W], channels last,
        values in [−1, 1] with −1 the background, as a tanh generator emits them.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4:
        if x.shape[-1] not in (1, 3):
            raise DataError(
                f"Expected channels-last images with 1 or 3 channels, got shape {x.shape}."
            )
        x = x[..., 0] if x.shape[-1] == 1 else x @ np.asarray(LUMA)
    if x.ndim != 3 or x.shape[0] == 0:
        raise DataError(
            f"Expected a non-empty batch [N, H, W, C] or [N, H, W], got shape {x.shape}."
        )
    if not np.all(np.isfinite(x)):
        raise DataError("images contain NaN or infinite values.")
    if x.min() < -1 - _RANGE_TOLERANCE or x.max() > 1 + _RANGE_TOLERANCE:
        raise DataError(
            f"images must lie in [-1, 1], got values in [{x.min():.3g}, {x.max():.3g}]; "
            "rescale (e.g. x / 127.5 - 1 for uint8) or clip first."
        )
    x = np.clip(x, -1.0, 1.0)
    rows, cols = _area_matrix(x.shape[1]), _area_matrix(x.shape[2])
    small = np.einsum("ih,nhw,jw->nij", rows, x, cols)
    return ((small + 1.0) * (_MAX_PIXEL / 2.0)).reshape(len(x), _SIDE * _SIDE)


CLASSIFIER_FILE = os.path.join(os.path.dirname(__file__), "digits_classifier.npz")
"""The fitted classifier's weights and the split, shipped with kwgan (`fit_reference`
writes it: `python -m kwgan.metrics.digits`)."""


@dataclasses.dataclass(frozen=True)
class _Reference:
    coefs: tuple[np.ndarray, ...]  # the MLP's weight matrices, input to output
    intercepts: tuple[np.ndarray, ...]  # ... and its biases
    train_index: np.ndarray  # positions in load_digits() order of the classifier's half
    heldout_index: np.ndarray  # ... and of the half it never sees
    digits: np.ndarray  # [1797, 64], 0..16, in load_digits() order
    heldout_accuracy: float

    @property
    def train(self) -> np.ndarray:
        return self.digits[self.train_index]

    @property
    def heldout(self) -> np.ndarray:
        return self.digits[self.heldout_index]


def _bundled_digits() -> Any:
    # Imported here, not at the top: kwgan trains without scikit-learn (accelerator machines).
    from sklearn.datasets import load_digits

    return load_digits()


def fit_reference() -> _Reference:
    """Fits the classifier on its stratified half of the bundled digits (~5-40 s on one
    core, hence shipped rather than fitted in every process; a test checks the shipped
    weights are this fit's).

    Trained to convergence with almost no weight decay: the score rewards confident
    predictions, and a softer classifier would compress every score towards 1. BLAS is held
    to one thread: the matrices are tiny, and on a shared 2-core machine threaded BLAS made
    the fit 5-10x slower.
    """
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    digits = _bundled_digits()
    train_index, heldout_index = train_test_split(
        np.arange(len(digits.target)), test_size=0.5, stratify=digits.target, random_state=0
    )
    x_train, y_train = digits.data[train_index], digits.target[train_index]
    x_heldout, y_heldout = digits.data[heldout_index], digits.target[heldout_index]
    classifier = MLPClassifier(
        hidden_layer_sizes=(128, 64),
        alpha=1e-4,
        max_iter=2000,
        tol=1e-6,
        n_iter_no_change=50,
        random_state=0,
    )
    with threadpool_limits(1, user_api="blas"):
        classifier.fit(x_train / _MAX_PIXEL, y_train)
    accuracy = float(classifier.score(x_heldout / _MAX_PIXEL, y_heldout))
    return _Reference(
        tuple(classifier.coefs_),
        tuple(classifier.intercepts_),
        train_index,
        heldout_index,
        digits.data,
        accuracy,
    )


def write_reference(reference: _Reference, path: str = CLASSIFIER_FILE) -> None:
    """Writes `reference`'s weights and split to `path` (atomically)."""
    from kwgan.io import atomic_path

    arrays = {f"coef_{i}": c for i, c in enumerate(reference.coefs)}
    arrays.update({f"intercept_{i}": b for i, b in enumerate(reference.intercepts)})
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(
            tmp,
            **arrays,
            train_index=reference.train_index,
            heldout_index=reference.heldout_index,
            heldout_accuracy=reference.heldout_accuracy,
        )


@functools.lru_cache(maxsize=1)
def _reference() -> _Reference:
    """The shipped classifier (`CLASSIFIER_FILE`), read once per process."""
    with np.load(CLASSIFIER_FILE) as f:
        layers = sum(1 for name in f.files if name.startswith("coef_"))
        return _Reference(
            tuple(f[f"coef_{i}"] for i in range(layers)),
            tuple(f[f"intercept_{i}"] for i in range(layers)),
            f["train_index"],
            f["heldout_index"],
            _bundled_digits().data,
            float(f["heldout_accuracy"]),
        )


def _hidden(h: np.ndarray, reference: _Reference) -> np.ndarray:
    """The hidden layers' ReLU activations, as scikit-learn's `MLPClassifier` computes them."""
    for weights, bias in zip(reference.coefs[:-1], reference.intercepts[:-1], strict=True):
        h = np.maximum(h @ weights + bias, 0.0)
    return h


def _probabilities(x: np.ndarray) -> np.ndarray:
    """p(y|x): the softmax of the output layer, as `MLPClassifier.predict_proba`."""
    reference = _reference()
    logits = _hidden(x / _MAX_PIXEL, reference) @ reference.coefs[-1] + reference.intercepts[-1]
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def _features(x: np.ndarray) -> np.ndarray:
    """Activations of the classifier's last hidden layer (what FID takes from pool_3)."""
    return _hidden(x / _MAX_PIXEL, _reference())


def _score(probabilities: np.ndarray, splits: int) -> tuple[float, float]:
    if splits < 1 or len(probabilities) < splits:
        raise DataError(
            f"Need 1 <= splits <= number of images, got splits={splits} for "
            f"{len(probabilities)} images."
        )
    # Imported here, not at the top: kwgan trains without SciPy (accelerator machines).
    from scipy.special import rel_entr

    scores = []
    for part in np.array_split(probabilities, splits):
        # rel_entr is exactly 0 where p(y|x) = 0, so no epsilon is needed in the logs.
        kl = rel_entr(part, part.mean(axis=0)).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def _psd_sqrt(c: np.ndarray) -> np.ndarray:
    eigenvalues, eigenvectors = np.linalg.eigh(c)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def _frechet(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets.

    tr sqrt(C_a C_b) is computed as tr sqrt(S C_b S) with S = C_a^½: the same eigenvalues,
    but the matrix is symmetric PSD, so `eigh` gives them with none of the spurious
    imaginary parts `sqrtm` produces on the non-symmetric product. ReLU features with dead
    units make both covariances singular, which this handles without warnings.
    """
    for name, f in (("images_a", features_a), ("images_b", features_b)):
        if len(f) < 2:
            raise DataError(f"{name} needs at least 2 images to fit a covariance.")
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    root_a = _psd_sqrt(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_sqrt = np.sqrt(np.clip(cross, 0.0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
    return float(max(distance - 2.0 * trace_sqrt, 0.0))


def real_digits(split: Literal["train", "heldout"] = "heldout") -> np.ndarray:
    """The classifier's training or held-out digits as float32 [N, 8, 8, 1] in [−1, 1]."""
    if split not in ("train", "heldout"):
        raise ConfigError(f"split must be 'train' or 'heldout', got {split!r}.")
    x = getattr(_reference(), split)
    return (x / (_MAX_PIXEL / 2.0) - 1.0).reshape(-1, _SIDE, _SIDE, 1).astype(np.float32)


def classifier_score(images: ArrayLike, splits: int = 10) -> tuple[float, float]:
    """Inception-Score-style (mean, std) over `splits` contiguous splits of `images`.

    Held-out real digits (899 images, 10 splits) score about 9.4; a single repeated image
    scores exactly 1. Compare scores only at equal image counts and splits. As in the
    reference code the splits are not shuffled, so shuffle class-ordered sets (e.g. from a
    conditional generator) first, or each split sees few classes.
    """
    return _score(_probabilities(to_digits8(images)), splits)


def label_accuracy(images: ArrayLike, labels: ArrayLike) -> float:
    """How often the classifier reads each image as the digit it was generated for — the
    measure of a conditional generator's obedience (the classifier's own held-out accuracy,
    `digits_report(...)["classifier_accuracy"]`, is the ceiling real digits reach)."""
    labels = np.asarray(labels).reshape(-1)
    x = to_digits8(images)
    if len(labels) != len(x):
        raise DataError(f"{len(labels)} labels for {len(x)} images.")
    return float(np.mean(_probabilities(x).argmax(axis=1) == labels))


def frechet_distance(images_a: ArrayLike, images_b: ArrayLike) -> float:
    """Fréchet distance between two image sets in the classifier's last hidden layer.

    Like FID it is biased upwards by small samples; compare values at similar counts.
    """
    return _frechet(_features(to_digits8(images_a)), _features(to_digits8(images_b)))


def _real_halves(real: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's training and held-out halves of the real digits, as `real` shows them.

    `real` is all 1797 bundled digits in `load_digits()` order, in whatever format the
    generator was trained on (e.g. `kwgan.data.image_array("digits", image_size=32)`);
    `None` means the digits themselves at 8×8.
    """
    reference = _reference()
    if real is None:
        return reference.train, reference.heldout
    x = to_digits8(real)
    if len(x) != len(reference.digits):
        raise DataError(
            f"real must hold all {len(reference.digits)} bundled digits in load_digits() "
            f"order, got {len(x)} images."
        )
    # Imported here, not at the top: kwgan trains without SciPy (accelerator machines).
    from scipy.spatial.distance import cdist

    # A resized copy stays nearest to its own original; a shuffled one almost never does.
    self_nearest = np.mean(cdist(x, reference.digits).argmin(axis=1) == np.arange(len(x)))
    if self_nearest < 0.5:
        raise DataError(
            "real does not follow load_digits() order (only "
            f"{self_nearest:.0%} of its images are nearest to the digit at their index); pass "
            "the unshuffled dataset, e.g. kwgan.data.image_array('digits', image_size=...)."
        )
    return x[reference.train_index], x[reference.heldout_index]


def real_frechet_floor(real: ArrayLike | None = None) -> float:
    """Fréchet distance from the training half of the real digits to the clean held-out half.

    What a perfect generator of `real` (see `digits_report`) reaches with 898 images, since
    generated images are compared with the same clean held-out half. Generated sets of at
    least that many images are at no disadvantage against it (smaller sets are biased up).
    """
    train, _ = _real_halves(real)
    return _frechet(_features(train), _features(_reference().heldout))


def digits_report(
    images: ArrayLike,
    real: ArrayLike | None = None,
    splits: int = 10,
    labels: ArrayLike | None = None,
) -> dict[str, Any]:
    """Score and Fréchet distance of `images`, beside real digits and uniform noise.

    Every Fréchet distance is to the clean 8×8 held-out digits. The real row is the score of
    the held-out half of `real` (the generator's training data: all 1797 digits in
    `load_digits()` order, at its resolution; `None` for the 8×8 digits themselves) and
    `real_frechet_floor(real)`. The noise row is uniform noise in [−1, 1] of the same shape
    as `images`, so the same count and resolution: area averaging turns high-resolution
    noise into a flat grey that scores ≈ 1. With the `labels` a conditional generator was
    asked for, adds `label_accuracy`. Returns a JSON-ready dict.
    """
    x = to_digits8(images)
    noise = to_digits8(np.random.default_rng(0).uniform(-1.0, 1.0, size=np.shape(images)))
    real_train, real_heldout = _real_halves(real)
    heldout_features = _features(_reference().heldout)
    score, score_std = _score(_probabilities(x), splits)
    real_score, real_score_std = _score(_probabilities(real_heldout), splits)
    noise_score, noise_score_std = _score(_probabilities(noise), splits)
    extra = {} if labels is None else {"label_accuracy": label_accuracy(images, labels)}
    return {
        **extra,
        "n": len(x),
        "score": score,
        "score_std": score_std,
        "fd": _frechet(_features(x), heldout_features),
        "real_score": real_score,
        "real_score_std": real_score_std,
        "real_fd": _frechet(_features(real_train), heldout_features),
        "noise_score": noise_score,
        "noise_score_std": noise_score_std,
        "noise_fd": _frechet(_features(noise), heldout_features),
        "classifier_accuracy": _reference().heldout_accuracy,
    }


if __name__ == "__main__":
    # Refits the shipped classifier (after a change to `fit_reference`).
    write_reference(fit_reference())
    print(f"wrote {CLASSIFIER_FILE}")
