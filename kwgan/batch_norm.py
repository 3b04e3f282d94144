"""Which batch-norm statistics a generator samples with: moving, batch or standing.

A generator with batch normalisation trains on the statistics of each batch, and can sample
with any of three:

- `"moving"`: the moving averages its training kept (Keras's inference mode, what
  `GAN.generate` has always used). An averaged generator's moving statistics are the
  average of the raw generator's (`kwgan.averaging` averages every float variable), which
  are not the statistics its averaged weights produce.
- `"batch"`: each batch's own statistics, as in training — what the WGAN and WGAN-GP
  references sample with (tflib's `Batchnorm` always normalises by the batch, and the WGAN
  repo never calls `netG.eval()`). A sample then depends on the batch it is drawn in.
- `"standing"`: statistics recomputed for the weights as they are, from generator forward
  passes in training mode on fresh noise — BigGAN's "standing statistics"
  (`BigGAN-PyTorch/utils.py`, `accumulate_standing_stats`, with `layers.py`'s `myBN`): the
  mean over the batches of each batch's mean, and the mean of each batch's variance.

`StandingStatistics(batches, batch_size, seed)` says how many batches of which size and
which NumPy noise, so the result is deterministic. The statistics are averaged directly
rather than through the layers' momentum: each pass runs with momentum 0, which makes a
layer's moving statistics exactly that batch's (Keras's `BatchNormalization` and kwgan's
`ConditionalBatchNorm` both update `moving ← m · moving + (1 − m) · batch`), they are read
back after each pass and averaged in float64. Setting m = i / (i + 1) before pass i would
give the same cumulative average, but rounded in float32 once per pass. The variance is
the layers' own: the biased (divide-by-n) variance of the batch, as `keras.ops.moments`
and BigGAN's `manual_bn` compute it. Averaging per-batch variances, as BigGAN does, gives
what training-mode layers see on average, not the variance of all the samples pooled
(it leaves out the spread of the batch means and is (B − 1)/B of it in expectation).

Every pass runs the whole generator in training mode, so a later layer's statistics are
taken on inputs that earlier layers normalised by the batch, as in BigGAN. Layers whose
`trainable` is False keep their moving statistics: Keras runs a frozen batch norm in
inference mode, in training mode too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import keras
import numpy as np

from kwgan import averaging
from kwgan.errors import ConfigError

STATISTICS = ("moving", "batch", "standing")
"""The statistics a generator can sample with (`GAN.generate(..., statistics=...)`)."""


@keras.saving.register_keras_serializable(package="kwgan")
class StandingStatistics:
    """How standing batch-norm statistics are computed (`statistics="standing"` uses the
    defaults).

    Args:
        batches: generator forward passes averaged over (BigGAN's
            `num_standing_accumulations`, 16 by default there and here).
        batch_size: samples per pass. The statistics depend on it (a batch's variance is
            (B − 1)/B of the samples' in expectation), so give the batch size the generator
            trained with; 64, the default, is the WGAN and WGAN-GP references'.
        seed: seed of the NumPy generator that draws each pass's noise, N(0, 1) as in
            training (and a conditional generator's labels, uniform over the classes as in
            BigGAN), so the same weights always get the same statistics.
    """

    def __init__(self, batches: int = 16, batch_size: int = 64, seed: int = 0):
        for name, value, least in (("batches", batches, 1), ("batch_size", batch_size, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigError(f"{name} must be an integer ≥ {least}, got {value!r}.")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
        self.batches, self.batch_size, self.seed = batches, batch_size, seed

    def inputs(self, latent_dim: int, num_classes: int | None = None) -> Iterator:
        """The generator inputs of each pass: noise [batch_size, latent_dim] (float32), and
        for a conditional generator `[noise, labels]` with int32 labels."""
        rng = np.random.default_rng(self.seed)
        for _ in range(self.batches):
            noise = rng.standard_normal((self.batch_size, latent_dim)).astype("float32")
            if num_classes is None:
                yield noise
            else:
                yield [noise, rng.integers(0, num_classes, self.batch_size).astype("int32")]

    def get_config(self) -> dict:
        return {"batches": self.batches, "batch_size": self.batch_size, "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict) -> StandingStatistics:
        return cls(**config)

    def __eq__(self, other) -> bool:
        return isinstance(other, StandingStatistics) and self.get_config() == other.get_config()

    def __hash__(self) -> int:
        return hash(tuple(self.get_config().items()))

    def __repr__(self) -> str:
        return (
            f"StandingStatistics(batches={self.batches}, batch_size={self.batch_size}, "
            f"seed={self.seed})"
        )


def get(statistics) -> str | StandingStatistics:
    """`statistics` as `"moving"`, `"batch"` or a `StandingStatistics` (`"standing"`: the
    default one); anything else raises `ConfigError`."""
    if isinstance(statistics, StandingStatistics):
        return statistics
    if statistics == "standing":
        return StandingStatistics()
    if statistics in ("moving", "batch"):
        return statistics
    raise ConfigError(
        f"statistics must be one of {STATISTICS} or a kwgan.StandingStatistics, got {statistics!r}."
    )


def batch_norm_layers(model: keras.layers.Layer) -> list:
    """Every layer of `model`, nested ones included, that keeps moving batch statistics:
    Keras's `BatchNormalization`, kwgan's `ConditionalBatchNorm`, and any layer that, like
    them, has `moving_mean`, `moving_variance` and a `momentum` it reads when called."""
    return [
        layer
        for layer in model._flatten_layers(include_self=True, recursive=True)
        if all(
            getattr(layer, name, None) is not None
            for name in ("moving_mean", "moving_variance", "momentum")
        )
    ]


def accumulate_standing_statistics(generator: keras.Model, batches: Iterable) -> keras.Model:
    """Replaces the moving statistics of `generator`'s (trainable) batch-norm layers, in
    place, by their standing statistics over `batches` (generator inputs, one pass each):
    the mean of the passes' batch means and of their batch variances. Pass a copy of a
    generator whose statistics must stay (`standing_generator` makes one). A generator
    without batch norm is returned unchanged, without a pass. Returns `generator`."""
    layers = [layer for layer in batch_norm_layers(generator) if layer.trainable]
    if not layers:
        return generator
    renorm = [layer.name for layer in layers if getattr(layer, "renorm", False)]
    if renorm:
        raise ConfigError(
            f"Batch renormalisation layers {renorm} keep other statistics; standing "
            "statistics are computed for plain batch norm only."
        )
    momenta = [layer.momentum for layer in layers]
    sums = [[np.zeros(layer.moving_mean.shape, "float64") for _ in "mv"] for layer in layers]
    passes = 0
    try:
        for layer in layers:
            layer.momentum = 0.0  # moving ← batch statistics, exactly
        for inputs in batches:
            generator(inputs, training=True)
            for (mean, variance), layer in zip(sums, layers, strict=True):
                mean += keras.ops.convert_to_numpy(layer.moving_mean)
                variance += keras.ops.convert_to_numpy(layer.moving_variance)
            passes += 1
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    if passes == 0:
        raise ConfigError("Standing statistics need at least one batch of generator inputs.")
    for (mean, variance), layer in zip(sums, layers, strict=True):
        layer.moving_mean.assign((mean / passes).astype(layer.moving_mean.dtype))
        layer.moving_variance.assign((variance / passes).astype(layer.moving_variance.dtype))
    return generator


def standing_generator(
    generator: keras.Model,
    latent_dim: int,
    num_classes: int | None = None,
    standing: StandingStatistics | None = None,
) -> keras.Model:
    """A copy of `generator` (its own variables; `generator` is left as it was) with
    standing batch-norm statistics computed as `standing` says (default
    `StandingStatistics()`). A conditional generator takes `[noise, labels]`; give its
    `num_classes`. `kwgan.GAN.sampling_generator(statistics="standing")` does this for a
    GAN's raw or averaged generator."""
    standing = StandingStatistics() if standing is None else standing
    copy = averaging.copy_generator(generator)
    averaging.assign_average(copy, generator, {})
    return accumulate_standing_statistics(copy, standing.inputs(latent_dim, num_classes))


@keras.saving.register_keras_serializable(package="kwgan")
class BatchStatisticsGenerator(keras.Model):
    """`generator` normalised by each batch's own statistics: it is called in training mode
    whatever mode this model is called in, so `predict` gives what the references sample.
    A training-mode call also moves the wrapped generator's moving statistics, so wrap a
    copy (`GAN.sampling_generator(statistics="batch")` does) — the samples themselves never
    depend on them."""

    def __init__(self, generator: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator

    def call(self, inputs, training=None):
        return self.generator(inputs, training=True)

    def compute_output_shape(self, input_shape):
        return self.generator.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> BatchStatisticsGenerator:
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(
            config["generator"], custom_objects=custom_objects
        )
        return cls(**config)
