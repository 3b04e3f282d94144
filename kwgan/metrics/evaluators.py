"""Evaluators: a trained GAN in, a dict of numbers out, the same during and after training.

An evaluator is any callable `evaluate(gan, iteration) -> dict` with a `name` (the key
its results go under in `metrics.json`). `kwgan.callbacks.EvaluateEvery` runs one every
few generator iterations and the experiments' final outputs run the same one at the end,
so a number mid-run and the final number are measured alike: same noise, same sample count,
same reference set. Adding a metric to the experiments means adding an evaluator here.

Each draws its noise from its own seeded NumPy generator, never from the GAN's or Keras's
RNG, so evaluating leaves training untouched (a run with or without evaluations trains the
same weights) and a resumed run evaluates the same samples as an uninterrupted one.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from kwgan.errors import DataError

if TYPE_CHECKING:
    from kwgan.gan import GAN

GENERATE_BATCH = 250  # bounds activation memory while generating evaluation samples


class Evaluator(Protocol):
    """What `EvaluateEvery` and the final outputs call."""

    name: str

    def __call__(self, gan: GAN, iteration: int) -> dict[str, Any]: ...


def as_shown(samples: np.ndarray) -> np.ndarray:
    """Samples clipped to [−1, 1], as an image shows them: the WGAN repo's MLP generator
    ends in a linear layer, not tanh (`models/mlp.py`, `MLP_G`), and its sample sheets are
    clamped when saved (`vutils.save_image`)."""
    return np.clip(samples, -1.0, 1.0)


def noise(seed: int | tuple[int, ...], count: int, latent_dim: int) -> np.ndarray:
    """`count` standard-normal latent vectors from `seed` alone (float64, as drawn)."""
    return np.random.default_rng(seed).normal(size=(count, latent_dim))


class DigitsScore:
    """The digits classifier's score and Fréchet distance (to held-out digits) of 1000
    samples, plus how often a conditional generator's samples show their label
    (`kwgan.metrics.digits`): the digits' stand-in for the Inception Score and FID."""

    name = "evaluations"
    noise_offset = 2  # the noise comes from the run's seed + 2, apart from its other streams

    def __init__(self, seed: int, count: int = 1000):
        self.seed, self.count = seed, count

    def __call__(self, gan: GAN, iteration: int) -> dict[str, Any]:
        from kwgan.metrics import digits

        labels = gan.class_cycle(self.count)
        z = noise(self.seed + self.noise_offset, self.count, gan.latent_dim)
        samples = gan.generate(z, labels=labels, batch_size=GENERATE_BATCH)
        samples = as_shown(samples)
        score, _ = digits.classifier_score(samples)
        result = {"score": score, "fd": digits.frechet_distance(samples, digits.real_digits())}
        if labels is not None:
            result["label_accuracy"] = digits.label_accuracy(samples, labels)
        return result


def check_fid_sizes(
    samples: int, real_images: int, where: str, setting: str = "fid_samples"
) -> None:
    """Refuses FID of `samples` generated images against fewer real ones (`where` names the
    real set, `setting` what the user set the sample count with).

    FID's bias grows as either set shrinks, so a number compares only with numbers measured
    at the same two counts. The references measure against at least as many real images
    as samples: compare_gan (Lucic et al. 2018) scores 10 000 samples against the 10 000
    test images, TTUR against statistics of the whole training set. A smaller real set
    turns that around, its own sampling noise dominating the distance. Sets too small for
    a nonsingular covariance (up to 2048 images) still run, with a warning
    (`kwgan.metrics.fid_kid`), so that tests can afford a tiny FID.
    """
    if real_images < samples:
        raise DataError(
            f"FID of {samples} samples needs at least as many real images, but {where} has "
            f"{real_images}; pass {setting} <= {real_images}, or a test split with at "
            f"least {samples} images."
        )


class FrechetInception:
    """FID and KID (Heusel et al. 2017; Bińkowski et al. 2018) of `samples` samples against
    a dataset's test split, as compare_gan (Lucic et al. 2018) compares objectives, and
    beside them precision, recall, density and coverage in the same features
    (`kwgan.metrics.manifold`), which tell fidelity and diversity apart where FID mixes
    them. The samples' Inception features are computed once for all; the real statistics
    and the real k-NN radii once per evaluator (the statistics also cached on disk by
    `real_statistics` at the dataset's own channels). Each result holds both set sizes
    beside the numbers (`fid_samples`, `real_images`); a test split with fewer images than
    `samples` is refused (`check_fid_sizes`)."""

    name = "fid_evaluations"
    noise_offset = 3  # the noise comes from the run's seed + 3; KID's subsets from the seed

    def __init__(
        self,
        dataset: str,
        *,
        image_size: int,
        samples: int,
        seed: int,
        channels: int | None = None,
        data_dir: str | None = None,
        setting: str = "fid_samples",
    ):
        self.dataset, self.image_size, self.samples = dataset, image_size, samples
        self.seed, self.channels, self.data_dir = seed, channels, data_dir
        self.setting = setting  # what a refusal of `samples` tells the user to change

    @functools.cached_property
    def real(self):
        """The test split's Inception statistics at the run's image size (computed from the
        converted images when `channels` differs from the dataset's own)."""
        from kwgan.data import image_array
        from kwgan.metrics import fid_kid, inception

        if self.channels is None:
            real = fid_kid.real_statistics(
                self.dataset, image_size=self.image_size, split="test", data_dir=self.data_dir
            )
        else:
            images = image_array(
                self.dataset,
                split="test",
                image_size=self.image_size,
                channels=self.channels,
                data_dir=self.data_dir,
            )
            real = fid_kid.RealStatistics.from_features(inception.features(images))
        where = f"the test split of {self.dataset!r}"
        check_fid_sizes(self.samples, len(real.features), where, self.setting)
        return real

    @functools.cached_property
    def real_radii(self) -> dict[int, np.ndarray]:
        """The test split's k-NN radii for precision/recall and density/coverage: one pass
        over its N × N feature distances, the same at every evaluation."""
        from kwgan.metrics import manifold

        return manifold.real_radii(self.real.features)

    def __call__(self, gan: GAN, iteration: int) -> dict[str, Any]:
        return self.score(gan)

    def score(
        self, gan: GAN, *, averaged: bool | None = None, statistics: Any = "moving"
    ) -> dict[str, Any]:
        """The numbers of `gan`'s samples drawn as `gan.generate(averaged=...,
        statistics=...)` draws them (by default, as `generate` does): one evaluator scores
        several ways of sampling one GAN against one real set, from the same noise."""
        z = noise(self.seed + self.noise_offset, self.samples, gan.latent_dim)
        samples = gan.generate(
            z,
            labels=gan.class_cycle(len(z)),
            batch_size=GENERATE_BATCH,
            averaged=averaged,
            statistics=statistics,
        )
        return self.score_samples(samples)

    def score_samples(self, samples: np.ndarray) -> dict[str, Any]:
        """The numbers of `samples` (NHWC in [-1, 1]) drawn by any means: a SavedModel's
        samples (`kwgan.score`) are scored exactly as a training run scores its GAN's."""
        from kwgan.metrics import fid_kid, inception, manifold

        fake = fid_kid.RealStatistics.from_features(inception.features(samples))
        return {
            "fid": fid_kid.fid_score(fake, self.real),
            "kid": list(fid_kid.kid_score(fake, self.real, seed=self.seed)),
            **manifold.prdc(self.real.features, fake.features, real_radii=self.real_radii),
            "fid_samples": len(samples),
            "real_images": len(self.real.features),
        }


class ExactW1:
    """The exact Wasserstein-1 distance (optimal transport, `kwgan.metrics.exact_w1`)
    between `samples` generated points and as many target points, and on a Gaussian
    mixture the modes covered and the fraction of samples within 3σ of a centre
    (`kwgan.metrics.mode_stats`): the 2-D problems' quality (WGAN-GP Fig. 1, §4) measured
    rather than eyeballed. The target sample is drawn once, from the run's seed + 1."""

    name = "evaluations"
    target_offset = 1
    noise_offset = 2  # the noise comes from the run's seed + 2, apart from its other streams

    def __init__(self, dataset: str, samples: int, seed: int):
        from kwgan.data import sample
        from kwgan.data.toy import MIXTURES

        self.dataset, self.samples, self.seed = dataset, samples, seed
        self.target = sample(dataset, samples, seed=seed + self.target_offset)
        self.mixture = dataset in MIXTURES  # has mode centres to count

    def __call__(self, gan: GAN, iteration: int) -> dict[str, Any]:
        from kwgan.data import centers, stddev
        from kwgan.metrics import exact_w1, mode_stats

        z = noise(self.seed + self.noise_offset, self.samples, gan.latent_dim)
        # All points in one batch: a small MLP on 2-D noise.
        fake = np.asarray(gan.generator.predict(z.astype("float32"), batch_size=len(z), verbose=0))
        result = {"w1": exact_w1(fake, self.target)}
        if self.mixture:
            stats = mode_stats(fake, centers(self.dataset), stddev(self.dataset))
            result["modes_covered"] = stats["modes_covered"]
            result["high_quality_fraction"] = stats["high_quality_fraction"]
        return result


class NgramDivergence:
    """The Jensen–Shannon divergences (bits) between the character n-grams (n = 1 … 4) of
    `samples` generated lines, decoded by argmax, and the whole corpus' (`codes`), as
    `gan_language.py` scores its language model (WGAN-GP §5.5; `kwgan.metrics.ngrams`).

    The noise is drawn from (seed, iteration), so a resumed run generates the same lines.
    `on_samples(iteration, codes)`, where given, receives each evaluation's generated
    character codes `[samples, seq_len]` (the experiment writes them as text).
    """

    name = "evaluations"

    def __init__(
        self,
        codes: np.ndarray,
        *,
        samples: int,
        seed: int,
        batch_size: int,
        on_samples: Callable[[int, np.ndarray], None] | None = None,
    ):
        from kwgan.metrics import ngrams

        self.samples, self.seed, self.batch_size = samples, seed, batch_size
        self.on_samples = on_samples
        self.corpus = ngrams.ngram_models(codes)

    def __call__(self, gan: GAN, iteration: int) -> dict[str, Any]:
        from kwgan.metrics import ngrams

        z = noise((self.seed, iteration), self.samples, gan.latent_dim).astype("float32")
        codes = gan.generate(z, batch_size=self.batch_size).argmax(axis=-1)
        result = ngrams.js_divergences(codes, self.corpus)
        if self.on_samples is not None:
            self.on_samples(iteration, codes)
        return result


class Timed:
    """An evaluator whose results also hold the run's training `seconds` when it began
    (a `Stopwatch`'s, so summed over resumed invocations) and its own `eval_seconds`: the
    wall-clock axis of WGAN-GP Fig. 3 is the seconds minus the earlier evaluations'."""

    def __init__(self, evaluate: Evaluator, stopwatch: Any):
        self.evaluate, self.stopwatch = evaluate, stopwatch
        self.name = getattr(evaluate, "name", "evaluations")

    def __call__(self, gan: GAN, iteration: int) -> dict[str, Any]:
        import time

        seconds, start = self.stopwatch.seconds, time.monotonic()
        result = self.evaluate(gan, iteration)
        return {**result, "seconds": seconds, "eval_seconds": time.monotonic() - start}


class Printed:
    """An evaluator whose every result is also printed as a JSON line (with its
    iteration), so a long run's log shows its quality as it goes."""

    def __init__(self, evaluate: Callable[[GAN, int], dict[str, Any]]):
        self.evaluate = evaluate
        self.name = getattr(evaluate, "name", "evaluations")

    def __call__(self, gan: GAN, iteration: int) -> dict[str, Any]:
        result = self.evaluate(gan, iteration)
        print(json.dumps({"iteration": iteration, **result}), flush=True)
        return result
