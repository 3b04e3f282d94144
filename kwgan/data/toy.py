"""The WGAN-GP paper's 2-D toy distributions, exactly as `gan_toy.py` defines them.

* `8gaussians`: eight centres on a circle of radius 2, N(0, 0.02²) noise, the whole
  batch then divided by 1.414 (effective radius ≈ 1.414, std ≈ 0.0141); fresh every batch.
* `25gaussians`: a fixed set of 100 000 points (4000 copies of the 5×5 grid −4…4 step 2,
  N(0, 0.05²) noise), shuffled once, divided by 2.828, read in order in batches; the last
  incomplete batch of each pass is dropped, as in the reference.
* `swissroll`: `make_swiss_roll(noise=0.25)` columns [0, 2], divided by 7.5; fresh every batch.

`toy()` returns a `keras.utils.PyDataset`, so it feeds `fit` on every backend without
TensorFlow. Batch `i` of a stream depends only on `(seed, i)`, which makes runs
reproducible and lets an interrupted `fit` resume on exactly the batches it would have seen:
`toy(..., start_batch=p)` starts at batch `p` of the stream, so a run restored after `p`
batches continues where it stopped, whatever epoch boundaries lay in between.
"""

from __future__ import annotations

import keras
import numpy as np

from kwgan.data.batches import check_start_batch
from kwgan.errors import ConfigError, check_positive_int

NAMES = ("8gaussians", "25gaussians", "swissroll")
MIXTURES = ("8gaussians", "25gaussians")  # the ones with mode centres (`centers`, `stddev`)
_25G_POINTS = 100_000


def _check_name(name: str) -> None:
    if name not in NAMES:
        raise ConfigError(f"Unknown toy dataset {name!r}; choose one of {', '.join(NAMES)}.")


def centers(name: str) -> np.ndarray:
    """Mode centres of a Gaussian-mixture toy dataset, in data coordinates, [K, 2]."""
    _check_name(name)
    if name == "8gaussians":
        s = 1.0 / np.sqrt(2.0)
        unit = [(1, 0), (-1, 0), (0, 1), (0, -1), (s, s), (s, -s), (-s, s), (-s, -s)]
        return (2.0 * np.asarray(unit) / 1.414).astype(np.float32)
    if name == "25gaussians":
        grid = np.asarray([(x, y) for x in range(-2, 3) for y in range(-2, 3)], float)
        return (2.0 * grid / 2.828).astype(np.float32)
    raise ConfigError(
        f"{name!r} is not a Gaussian mixture; it has no mode centres. Choose one of "
        f"{', '.join(MIXTURES)}."
    )


def stddev(name: str) -> float:
    """Per-coordinate standard deviation of each mixture component, in data coordinates."""
    _check_name(name)
    if name == "8gaussians":
        return 0.02 / 1.414
    if name == "25gaussians":
        return 0.05 / 2.828
    raise ConfigError(
        f"{name!r} is not a Gaussian mixture; it has no component stddev. Choose one of "
        f"{', '.join(MIXTURES)}."
    )


def _25gaussians_points(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grid = 2.0 * np.asarray([(x, y) for x in range(-2, 3) for y in range(-2, 3)], float)
    points = np.tile(grid, (_25G_POINTS // 25, 1))
    points = points + rng.normal(0.0, 0.05, size=points.shape)
    rng.shuffle(points)
    return (points / 2.828).astype(np.float32)


def sample(name: str, n: int, seed: int = 0) -> np.ndarray:
    """Draws `n` independent points of a toy distribution as float32 [n, 2].

    For `25gaussians` this samples the underlying mixture directly (not the fixed
    training set), which is what a fair two-sample distance needs.
    """
    _check_name(name)
    rng = np.random.default_rng(seed)
    if name == "swissroll":
        # Imported here, not at the top: kwgan trains without scikit-learn (accelerator machines).
        from sklearn.datasets import make_swiss_roll

        points = make_swiss_roll(n_samples=n, noise=0.25, random_state=seed)[0]
        return (points[:, [0, 2]] / 7.5).astype(np.float32)
    c = centers(name)
    idx = rng.integers(0, len(c), size=n)
    return (c[idx] + rng.normal(0.0, stddev(name), size=(n, 2))).astype(np.float32)


class ToyDataset(keras.utils.PyDataset):
    """An endless stream of toy batches, `steps_per_epoch` batches per epoch.

    Item `index` of Keras epoch `epoch` is batch `start_batch + epoch * steps_per_epoch + index`
    of the stream. Pass the number of batches a checkpointed run has consumed as `start_batch`
    to resume it on the batches it would have seen.
    """

    def __init__(
        self,
        name: str,
        batch_size: int = 256,
        steps_per_epoch: int = 1000,
        seed: int = 0,
        *,
        start_batch: int = 0,
    ):
        super().__init__()
        _check_name(name)
        check_positive_int(batch_size, "batch_size")
        check_positive_int(steps_per_epoch, "steps_per_epoch")
        check_start_batch(start_batch)
        self.name = name
        self.batch_size = batch_size
        self.steps_per_epoch = steps_per_epoch
        self.seed = seed
        self.start_batch = int(start_batch)
        self.epoch = 0
        self._fixed = _25gaussians_points(seed) if name == "25gaussians" else None

    def __len__(self) -> int:
        return self.steps_per_epoch

    def on_epoch_end(self) -> None:
        self.epoch += 1

    def batch(self, index: int) -> np.ndarray:
        """Batch number `index` of the whole stream (not of the epoch)."""
        if self._fixed is not None:
            per_pass = len(self._fixed) // self.batch_size
            start = (index % per_pass) * self.batch_size
            return self._fixed[start : start + self.batch_size]
        return sample(self.name, self.batch_size, seed=hash((self.seed, index)) % 2**32)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.batch(self.start_batch + self.epoch * self.steps_per_epoch + index)


def toy(
    name: str,
    batch_size: int = 256,
    steps_per_epoch: int = 1000,
    seed: int = 0,
    *,
    start_batch: int = 0,
) -> ToyDataset:
    """A toy dataset ready for `GAN.fit` (see the module docstring for the definitions).

    `start_batch` is the number of batches a resumed run has already consumed.
    """
    return ToyDataset(
        name,
        batch_size=batch_size,
        steps_per_epoch=steps_per_epoch,
        seed=seed,
        start_batch=start_batch,
    )
