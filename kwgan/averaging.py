"""Generator weight averaging: an exponential moving average (EMA) of the generator's weights,
sampled from instead of the last iterate.

GAN training oscillates around its equilibrium rather than settling at it, and an average of
the generator's recent weights sits closer to it than any one iterate: Yazıcı et al. 2019
("The Unusual Effectiveness of Averaging in GAN Training", ICLR) measure better Inception
and FID scores from an EMA of the generator, and BigGAN (`BigGAN-PyTorch/utils.py`, class
`ema`), StudioGAN (`src/utils/ema.py`, `g_ema_decay` 0.9999) and StyleGAN2-ADA
(`training/training_loop.py`, `ema_kimg` with `ema_rampup`) all sample from one.

After every *generator* iteration t (1, 2, …: the model's `generator_iterations` once the
iteration is done) each averaged value a of a generator variable w becomes

    a ← w + β_t (a − w),   i.e.   a ← β_t a + (1 − β_t) w,

with β_t = 0 while t ≤ `start` (the average *is* the weights; BigGAN's `start_itr` and
StudioGAN's `ema_start`, which begin averaging at that iteration rather than after it) and
`decay` after, capped by the ramp-up when one is given. The start matters: an average at
β = 0.9999 started from the initial weights still holds β^t of them after t iterations, 21 %
after 15 625, so an average begun at the first iteration samples partly from the untrained
network for most of a typical run. Starting the average later (or ramping the decay up,
as StyleGAN2-ADA does) averages trained weights only.

Every floating-point variable of the generator is averaged — the trainable weights and the
non-trainable ones, such as batch normalisation's moving mean and variance — and the average
is kept in float32 whatever the dtype policy, so that bfloat16 weights' rounding does not
swamp the (1 − β) w increments. Batch-norm statistics averaged alongside the weights are
only one choice: statistics recomputed for the averaged weights ("standing" statistics, as
BigGAN's `accumulate_standing_stats`) and each batch's own are the others, which
`kwgan.batch_norm` computes on copies of the averaged generator
(`GAN.sampling_generator(statistics=...)`). Keras's optimizer `use_ema` is
not this: it averages the trainable variables only, and is swapped into the model rather
than kept beside it.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from kwgan.errors import ConfigError


@keras.saving.register_keras_serializable(package="kwgan")
class GeneratorAverage:
    """How a `GAN` averages its generator's weights (pass it as `GAN(..., average=...)`).

    Args:
        decay: β, the weight of the previous average at each generator iteration once the
            average has started; the average's half-life is ln 0.5 / ln β generator
            iterations (693 at 0.999, 6 931 at 0.9999).
        start: generator iterations during which the average simply follows the weights;
            averaging begins with iteration `start + 1` (BigGAN's `start_itr` and
            StudioGAN's `ema_start`, 1 000 in its configs, name the iteration it begins
            with). 0 averages from the first iteration on, starting from the initial
            weights.
        ramp_up: StyleGAN2-ADA's `ema_rampup`: the half-life is at most `ramp_up` × t after
            t generator iterations (0.05 in its CIFAR-10 configuration), so early averages
            forget the initial weights quickly; `None` (the default) keeps β constant.
    """

    def __init__(self, decay: float = 0.999, start: int = 1000, ramp_up: float | None = None):
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 < decay < 1:
            raise ConfigError(f"decay must be a number in (0, 1), got {decay!r}.")
        if isinstance(start, bool) or int(start) != start or start < 0:
            raise ConfigError(f"start must be a non-negative integer, got {start!r}.")
        if ramp_up is not None and (
            isinstance(ramp_up, bool) or not math.isfinite(ramp_up) or ramp_up <= 0
        ):
            raise ConfigError(f"ramp_up must be a positive number or None, got {ramp_up!r}.")
        self.decay = float(decay)
        self.start = int(start)
        self.ramp_up = None if ramp_up is None else float(ramp_up)

    @property
    def half_life(self) -> float:
        """Generator iterations after which an average's weight halves, at full decay."""
        return math.log(0.5) / math.log(self.decay)

    def decay_at(self, iteration):
        """β_t after generator iteration `iteration` (1-based; a tensor or an int): 0 up to
        `start`, else `decay`, capped at 0.5^(1 / (ramp_up × t)) with a ramp-up."""
        t = ops.cast(iteration, "float32")
        decay = ops.cast(ops.where(t > self.start, self.decay, 0.0), "float32")
        if self.ramp_up is not None:
            ramped = ops.power(0.5, 1.0 / ops.maximum(self.ramp_up * t, 1e-8))
            decay = ops.minimum(decay, ramped)
        return decay

    def updated(self, averages: list, weights: list, iteration) -> list:
        """The averages after generator iteration `iteration` (pure `keras.ops`, so each
        backend's step runs it on variables or on traced values alike): `w + β (a − w)`,
        which is the weights exactly (cast to float32) while β = 0."""
        decay = self.decay_at(iteration)
        new = []
        for average, weight in zip(averages, weights, strict=True):
            weight = ops.cast(weight, "float32")
            new.append(weight + decay * (average - weight))
        return new

    def get_config(self) -> dict:
        return {"decay": self.decay, "start": self.start, "ramp_up": self.ramp_up}

    @classmethod
    def from_config(cls, config: dict) -> GeneratorAverage:
        return cls(**config)

    def __repr__(self) -> str:
        ramp = "" if self.ramp_up is None else f", ramp_up={self.ramp_up}"
        return f"GeneratorAverage(decay={self.decay}, start={self.start}{ramp})"


def averaged_variables(generator: keras.Model) -> list:
    """The generator variables that an average covers: every floating-point one, trainable
    or not (an integer variable, such as a seed generator's state, is copied as it is)."""
    return [v for v in generator.variables if "float" in keras.backend.standardize_dtype(v.dtype)]


def copy_generator(generator: keras.Model) -> keras.Model:
    """A new generator of the same architecture (its own variables), to hold an average.

    Built from the generator's config (`keras.models.clone_model`), so it saves, exports and
    predicts like the generator itself; raises `ConfigError` for a generator whose copy
    does not have the same variables (a subclassed model that cannot be rebuilt from its
    config).
    """
    copy = keras.models.clone_model(generator)
    if not copy.built and getattr(generator, "inputs", None):
        copy(generator.inputs)
    original = [tuple(v.shape) for v in generator.variables]
    if [tuple(v.shape) for v in copy.variables] != original:
        raise ConfigError(
            f"Generator {generator.name!r} cannot be copied from its config "
            "(keras.models.clone_model gives other variables), so its average cannot be "
            "sampled: build it as a functional or Sequential model, or a subclass whose "
            "get_config rebuilds it."
        )
    return copy


def assign_average(copy: keras.Model, generator: keras.Model, averages: dict) -> None:
    """Gives `copy` (from `copy_generator`) the averaged values `averages` (id of a generator
    variable → its average) and the generator's own value of every variable not averaged."""
    for target, source in zip(copy.variables, generator.variables, strict=True):
        value = averages.get(id(source), source)
        # A copy: on JAX a cast to the same dtype is the same buffer, which the GAN's next
        # jitted step donates (deletes).
        target.assign(ops.copy(ops.cast(value, target.dtype)))
