"""`GAN`: a `keras.Model` that trains a generator against a critic with `fit`.

This module holds the model-level concerns: construction and validation of the two networks,
`compile` with the papers' defaults, `fit`'s guard, sampling and serialisation. The training
step is split the way Keras splits its own: its backend-neutral pieces (batches, noise,
losses, logs, the critic schedule) in `kwgan.trainer.Trainer`, and the gradient plumbing
(the penalty's input gradient, applying two optimizers, threading state and seeds through a
jitted step) in one small file per backend under `kwgan/backend/`, mixed in as Keras mixes
in its trainers.

One `train_step` is one *critic* iteration on one fresh real batch, followed — when the
schedule says so — by one generator iteration (`kwgan/trainer.py` has the step's
backend-neutral pieces). `generator_iterations` counts what the papers count.

Conditional models follow the CIFAR-10 ResNet of the WGAN-GP reference (`gan_cifar_resnet.py`):
a generator taking `[noise, labels]` (conditional batch norm), trained on `(images, labels)`
batches, against a critic that either returns `[score, class_logits]` (an AC-GAN head) or
takes `[images, labels]`. The critic's fakes are generated with the real batch's labels;
the generator iteration draws uniform labels. With an AC-GAN head the critic adds
`acgan_weight` × the cross-entropy of its logits on the real images, and the generator
`acgan_generator_weight` × that on its fakes (1 and 0.1 in the reference).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import keras
import numpy as np
from keras import ops

from kwgan import averaging, batch_norm, distribute, penalties
from kwgan import objectives as objectives_lib
from kwgan.backend import GANTrainer
from kwgan.callbacks.guards import EMPTY_DATA, TerminateOnNonFinite
from kwgan.constraints import clip_critic
from kwgan.errors import ConfigError, DataError
from kwgan.schedule import CriticSchedule

_UNSET: Any = object()


@keras.saving.register_keras_serializable(package="kwgan")
class GAN(GANTrainer, keras.Model):
    """A generator and a critic trained adversarially.

    Args:
        generator: a Keras model mapping noise `[batch, latent_dim]` to samples.
        critic: a Keras model mapping samples to one unbounded score per sample,
            `[batch, 1]` (no sigmoid, also for `dcgan`: its loss works on logits).
        latent_dim: size of the noise vector; inferred from `generator.input_shape`
            when the generator is a functional model.
        seed: seed of the noise and interpolation draws (`None`: random).
        num_classes: number of classes of a conditional model; inferred from an AC-GAN
            head, needed otherwise when the generator takes `[noise, labels]`.
        average: keep an exponential moving average of the generator's weights, updated
            after every generator iteration (`kwgan.GeneratorAverage(decay, start,
            ramp_up)`; a float is the decay with the default start). When there is one,
            `generate`, and with it `SampleGrid`, the FID/KID evaluators and
            `kwgan.export.export_generator(gan, ...)`, sample from the average;
            `averaged=False` gives the raw generator. `None` (the default): no average.

    Example:

    ```python
    gan = kwgan.GAN(kwgan.architectures.toy_generator(), kwgan.architectures.toy_critic())
    gan.compile("wgan-gp")
    gan.fit(kwgan.data.toy("8gaussians"), epochs=10)
    ```
    """

    def __init__(
        self,
        generator: keras.Model,
        critic: keras.Model,
        latent_dim: int | None = None,
        seed: int | None = None,
        num_classes: int | None = None,
        average: averaging.GeneratorAverage | float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for role, net in (("generator", generator), ("critic", critic)):
            if not isinstance(net, keras.layers.Layer):
                raise TypeError(f"{role} must be a Keras model or layer, got {type(net).__name__}.")
        self.generator = generator
        self.critic = critic
        self.conditional = _count_inputs(generator) == 2
        self.critic_takes_labels = _count_inputs(critic) == 2
        self.latent_dim = _infer_latent_dim(generator, latent_dim)
        self.seed = seed
        self.data_shape, self.acgan, self.num_classes = _check_networks(
            generator,
            critic,
            self.latent_dim,
            num_classes,
            self.conditional,
            self.critic_takes_labels,
        )
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.generator_iterations = self._state_variable("generator_iterations", "int32")
        self.critic_cycle_step = self._state_variable("critic_cycle_step", "int32")
        self.last_generator_loss = self._state_variable("last_generator_loss", "float32")
        self._averaging = self._create_average(average)
        self._sampling_copies = _SamplingCopies()
        self.built = True

    def _state_variable(self, name: str, dtype: str) -> keras.Variable:
        """A zero-initialised scalar of the training state (counters, the last generator
        loss), saved with the model and threaded through the jitted step on JAX."""
        return self.add_weight(
            shape=(), dtype=dtype, initializer="zeros", trainable=False, name=name
        )

    def _create_average(self, average) -> _Averaging | None:
        """The generator average's float32 variables, one per averaged generator variable,
        starting at the generator's values. They are the GAN's own (non-trainable)
        variables, after the counters, so they are saved with it and, on JAX, threaded
        through the jitted step like the counters."""
        if average is None:
            return None
        if isinstance(average, (int, float)) and not isinstance(average, bool):
            average = averaging.GeneratorAverage(decay=average)
        if not isinstance(average, averaging.GeneratorAverage):
            raise ConfigError(
                f"average must be a kwgan.GeneratorAverage, a decay or None, got {average!r}."
            )
        sources = averaging.averaged_variables(self.generator)
        if not sources and not self.generator.built:
            raise ConfigError(
                "average needs a built generator (its variables exist); build it first, "
                "e.g. by calling it on an input, or use a functional model."
            )
        variables = []
        for source in sources:
            variable = self.add_weight(
                shape=tuple(source.shape),
                dtype="float32",
                initializer="zeros",
                trainable=False,
                name="generator_average",
            )
            # A copy: on JAX a float32 cast is the same buffer, and the jitted step donates
            # every state buffer once.
            variable.assign(ops.copy(ops.cast(source, "float32")))
            variables.append(variable)
        return _Averaging(average, sources, variables)

    @property
    def average(self) -> averaging.GeneratorAverage | None:
        """How the generator's weights are averaged (`None`: they are not)."""
        return None if self._averaging is None else self._averaging.config

    @property
    def average_variables(self) -> list:
        """The float32 average of each `averaging.averaged_variables(generator)` variable, in
        that order (empty without an average)."""
        return [] if self._averaging is None else list(self._averaging.variables)

    @property
    def averaged_sources(self) -> list:
        """The generator variables the average follows (`averaging.averaged_variables`,
        found once when the GAN is built), in `average_variables`' order."""
        return [] if self._averaging is None else list(self._averaging.sources)

    def averaged_generator(self) -> keras.Model:
        """A generator model holding the current average: a copy of the generator built
        once from its config, given the average's values on every call (and the generator's
        own values of any variable not averaged, such as a seed's state). The copy is not
        trained or saved with the GAN; export it or predict with it."""
        if self._averaging is None:
            raise ConfigError(
                "This GAN keeps no generator average; construct it with "
                "kwgan.GAN(..., average=kwgan.GeneratorAverage(decay, start))."
            )
        held = self._averaging
        if held.copy is None:
            held.copy = averaging.copy_generator(self.generator)
        values = {id(s): a for s, a in zip(held.sources, held.variables, strict=True)}
        averaging.assign_average(held.copy, self.generator, values)
        return held.copy

    def sampling_generator(
        self,
        averaged: bool | None = None,
        statistics: str | batch_norm.StandingStatistics = "moving",
    ) -> keras.Model:
        """The generator that samples come from: the average (`averaged_generator`) when the
        GAN keeps one and `averaged` is not False, else the raw generator; `averaged=True`
        insists on the average.

        `statistics` says which batch-norm statistics it samples with (`kwgan.batch_norm`):
        `"moving"` (the default) returns that generator itself; `"batch"` a copy of it that
        normalises each batch by its own statistics (`BatchStatisticsGenerator`), as the
        references sample; `"standing"` or a `kwgan.StandingStatistics` a copy with
        statistics recomputed for its weights (BigGAN's standing statistics). Either copy is
        the GAN's one copy for that kind, refilled on every call; the GAN's own variables,
        the average's included, are never changed."""
        statistics = batch_norm.get(statistics)
        if averaged is None:
            averaged = self._averaging is not None
        source = self.averaged_generator() if averaged else self.generator
        if statistics == "moving":
            return source
        copies = self._sampling_copies
        if statistics == "batch":
            if copies.batch is None:
                copy = averaging.copy_generator(self.generator)
                copies.batch = batch_norm.BatchStatisticsGenerator(copy, name=f"{copy.name}_batch")
            averaging.assign_average(copies.batch.generator, source, {})
            return copies.batch
        if copies.standing is None:
            copies.standing = averaging.copy_generator(self.generator)
        averaging.assign_average(copies.standing, source, {})
        inputs = statistics.inputs(self.latent_dim, self.num_classes)
        return batch_norm.accumulate_standing_statistics(copies.standing, inputs)

    # -- compile -----------------------------------------------------------------------

    def compile(
        self,
        objective: str | objectives_lib.Objective = "wgan-gp",
        *,
        generator_optimizer: str | keras.optimizers.Optimizer | None = None,
        critic_optimizer: str | keras.optimizers.Optimizer | None = None,
        critic_steps: int | None = None,
        warmup: bool | None = None,
        schedule: CriticSchedule | None = None,
        gp_weight: float | None = None,
        penalty: str = "two-sided",
        clip_value: float | None = _UNSET,
        acgan_weight: float = 1.0,
        acgan_generator_weight: float = 0.1,
        jit_compile: bool | str = "auto",
        terminate_on_nan: bool = True,
        fuse_critic_calls: bool | None = None,
        **kwargs,
    ) -> None:
        """Chooses the objective; every default is the papers' and every one overridable.

        Args:
            objective: `"wgan"`, `"wgan-gp"`, `"dcgan"` or `"lsgan"` (see
                `kwgan.objectives` for each one's losses and defaults).
            generator_optimizer, critic_optimizer: optimizers (instances or names);
                default to the objective's (e.g. Adam(1e-4, β=(0, 0.9)) for `wgan-gp`).
            critic_steps: critic iterations per generator iteration (n_critic).
            warmup: the WGAN repo's 100-critic-iteration warm-up (first 25 generator
                iterations and every 500th); on by default for `wgan` only.
            schedule: a full `CriticSchedule`, instead of `critic_steps`/`warmup`.
            gp_weight: λ of the gradient penalty (10 for `wgan-gp`, else 0).
            penalty: `"two-sided"` (the paper) or `"one-sided"` (its Appendix C).
            clip_value: weight-clipping box for every critic variable (0.01 for `wgan`);
                `None` disables clipping.
            acgan_weight, acgan_generator_weight: weights of the AC-GAN head's
                cross-entropy in the critic's and the generator's loss (the reference's
                `ACGAN_SCALE` = 1 and `ACGAN_SCALE_G` = 0.1); unused without the head.
            jit_compile: as in `keras.Model.compile`. On torch a gradient penalty needs
                double backward, which `torch.compile` cannot do, so it must stay off.
            terminate_on_nan: `fit` stops at the first NaN or infinite loss with a
                `kwgan.errors.NonFiniteLossError` (`kwgan.callbacks.TerminateOnNonFinite`),
                so a diverged run never trains on, checkpoints or exports NaN weights. It
                reads each step's losses on the host (one device sync per step). A batch
                with NaN or infinite values (or labels outside the classes) raises
                `DataError` either way, and its step changes nothing in the model.
            fuse_critic_calls: score the real and the fake batch in one critic call on
                their concatenation (`None`: whenever the critic has no non-trainable
                variables, i.e. no batch statistics; `False`: always two calls). The same
                losses and gradients up to float rounding, fewer dispatches per step.
            **kwargs: to `keras.Model.compile`, e.g. `steps_per_execution=k`, which runs k
                steps per call on TensorFlow and JAX (callbacks still see every generator
                iteration, via the logged counter); Keras refuses k > 1 on torch.
        """
        objective = objectives_lib.get(objective)
        gp_weight = objective.gp_weight if gp_weight is None else float(gp_weight)
        clip_value = objective.clip_value if clip_value is _UNSET else clip_value
        _check_regularisers(objective, gp_weight, penalty, clip_value)
        _check_finite(acgan_weight=acgan_weight, acgan_generator_weight=acgan_generator_weight)
        if schedule is None:
            schedule = objective.schedule(critic_steps, warmup)
        elif critic_steps is not None or warmup is not None:
            raise ConfigError("Pass either `schedule` or `critic_steps`/`warmup`, not both.")
        distribute.check_compile(kwargs.get("steps_per_execution", 1))
        if gp_weight and jit_compile is True and keras.backend.backend() == "torch":
            raise ConfigError(
                "jit_compile=True uses torch.compile, which cannot differentiate twice, "
                "and the gradient penalty needs a double backward. Use jit_compile=False "
                "(the default on torch)."
            )
        default_g, default_d = objective.optimizers()
        g_opt = keras.optimizers.get(generator_optimizer or default_g)
        d_opt = keras.optimizers.get(critic_optimizer or default_d)
        if g_opt is d_opt:
            raise ConfigError("The generator and the critic need two optimizer instances.")

        self.objective = objective
        self.schedule = schedule
        self.gp_weight = gp_weight
        self.penalty = penalty
        self.clip_value = clip_value
        self.acgan_weight = float(acgan_weight)
        self.acgan_generator_weight = float(acgan_generator_weight)
        self._jit_compile_arg = jit_compile
        self.terminate_on_nan = bool(terminate_on_nan)
        if fuse_critic_calls and self.critic.non_trainable_variables:
            raise ConfigError(
                "fuse_critic_calls=True needs a critic without non-trainable variables: "
                "this one has state updated by its calls (e.g. batch-norm statistics), "
                "which one call on real and fake together would change. Leave it None."
            )
        self.fuse_critic_calls = fuse_critic_calls
        clip_critic(self.critic, clip_value)
        critic_ids = {id(v) for v in self.critic.trainable_variables}
        optimizer = keras.optimizers.MultiOptimizer(
            lambda v: d_opt if id(v) in critic_ids else g_opt
        )
        # Both optimizers travel in `self.optimizer`: on JAX only its variables are part
        # of the jitted state (`keras/src/backend/jax/trainer.py` threads no other
        # optimizer), and checkpoints save it whole.
        # No automatic loss scaling: it would wrap the MultiOptimizer, whose sub-optimizers
        # this class applies directly. The penalty is computed in float32 (penalties.py),
        # which is what makes bfloat16 policies safe; float16 would need scaling per tape.
        super().compile(
            optimizer=optimizer, jit_compile=jit_compile, auto_scale_loss=False, **kwargs
        )
        self._generator_optimizer, self._critic_optimizer = g_opt, d_opt
        optimizer.build(self.trainable_variables)
        for opt, net in ((g_opt, self.generator), (d_opt, self.critic)):
            if not opt.built:
                opt.build(net.trainable_variables)

    @property
    def generator_optimizer(self) -> keras.optimizers.Optimizer:
        return self._generator_optimizer

    @property
    def critic_optimizer(self) -> keras.optimizers.Optimizer:
        return self._critic_optimizer

    @property
    def trains_generator(self) -> bool:
        """False for a generator without weights (the paper's fixed-generator Fig. 1a)."""
        return bool(self.generator.trainable_variables)

    def steps_for(self, generator_iterations: int) -> int:
        """`fit` steps (critic iterations, one real batch each) that train exactly
        `generator_iterations` more generator iterations from where this model stands."""
        if generator_iterations < 0:
            raise ConfigError(f"generator_iterations must be >= 0, got {generator_iterations}.")
        if generator_iterations == 0:
            return 0
        done = int(ops.convert_to_numpy(self.generator_iterations))
        in_cycle = int(ops.convert_to_numpy(self.critic_cycle_step))
        # The current cycle takes at least one more step, also when a recompiled schedule
        # asks for fewer critic steps than the cycle has already had.
        first = max(self.schedule.steps_before(done) - in_cycle, 1)
        return first + self.schedule.total_critic_steps(generator_iterations - 1, start=done + 1)

    def fit(self, *args, **kwargs):
        """`keras.Model.fit`, refusing an empty dataset and, unless compiled with
        `terminate_on_nan=False`, stopping at the first non-finite loss.

        The guard goes first among the callbacks, so a NaN step raises before any other
        callback (a checkpoint, a sample grid) sees the diverged model.
        """
        arguments = inspect.signature(keras.Model.fit).bind(self, *args, **kwargs).arguments
        del arguments["self"]
        _check_not_empty(arguments.get("x"))
        callbacks = list(arguments.get("callbacks") or [])
        guard = TerminateOnNonFinite(check_losses=self.terminate_on_nan)
        arguments["callbacks"] = [guard, *callbacks]
        try:
            return super().fit(**arguments)
        except UnboundLocalError:
            # Keras's JAX loop reads the last step's logs after an epoch without steps.
            if guard.batches_seen:
                raise
            raise DataError(EMPTY_DATA) from None

    def class_cycle(self, n: int) -> np.ndarray | None:
        """`generate`'s default labels for `n` samples: the classes in turn (0, 1, …, 0,
        1, …), so every class is equally represented; `None` for an unconditional model."""
        if self.num_classes is None:
            return None
        return (np.arange(n) % self.num_classes).astype("int32")

    def generate(
        self,
        noise,
        labels=None,
        batch_size: int = 256,
        averaged: bool | None = None,
        statistics: str | batch_norm.StandingStatistics = "moving",
    ) -> np.ndarray:
        """float32 NumPy samples for `noise` [n, latent_dim], in inference mode with the
        moving batch-norm statistics unless `statistics` says otherwise (`"batch"`: each
        batch of `batch_size` rows normalised by its own statistics, the last by its
        remainder's — data-parallel JAX pads that one with copies of the first row, which
        it then counts; `"standing"` or a `kwgan.StandingStatistics`: recomputed ones; see
        `sampling_generator`). A conditional model takes `labels` [n] too; left out they
        are `class_cycle(n)`. A GAN with a generator average samples from the average
        unless `averaged=False`."""
        noise = np.asarray(noise, "float32")
        if noise.ndim != 2 or noise.shape[1] != self.latent_dim:
            raise ConfigError(f"noise must have shape (n, {self.latent_dim}), got {noise.shape}.")
        if self.num_classes is None:
            if labels is not None:
                raise ConfigError("This GAN is unconditional; it takes no labels.")
            inputs = noise
        else:
            if labels is None:
                labels = self.class_cycle(len(noise))
            labels = np.asarray(labels).astype("int32").reshape(-1)
            if (
                labels.shape != (len(noise),)
                or labels.min() < 0
                or labels.max() >= self.num_classes
            ):
                raise ConfigError(
                    f"labels must be {len(noise)} class ids in [0, {self.num_classes}), got "
                    f"shape {labels.shape} with range [{labels.min()}, {labels.max()}]."
                )
            inputs = [noise, labels]
        generator = self.sampling_generator(averaged, statistics)
        return np.asarray(distribute.predict(generator, inputs, batch_size), "float32")

    # -- serialisation ------------------------------------------------------------------

    def _own_saved_variables(self) -> list:
        # The noise seed's state is not a layer variable, so Keras would not checkpoint
        # it; saving it makes a resumed run draw exactly the noise it would have drawn.
        # The generator average's variables come after the counters, so a GAN without
        # one saves (and loads) exactly the variables it did before averaging existed.
        return [
            *self._trainable_variables,
            *self._non_trainable_variables,
            self.seed_generator.state,
        ]

    def save_own_variables(self, store) -> None:
        for i, variable in enumerate(self._own_saved_variables()):
            store[f"{i}"] = variable

    def load_own_variables(self, store) -> None:
        variables = self._own_saved_variables()
        if len(store.keys()) != len(variables):
            averages = len(self.average_variables)
            raise ConfigError(
                f"The checkpoint holds {len(store.keys())} GAN-level variables, expected "
                f"{len(variables)} (counters, last generator loss, noise seed, and "
                f"{averages} of the generator average): it was written by a GAN "
                f"{'without' if averages else 'with'} a generator average (or not by "
                "kwgan.GAN); build the GAN as that one was (GAN(..., average=...))."
            )
        for i, variable in enumerate(variables):
            variable.assign(store[f"{i}"])

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "critic": keras.saving.serialize_keras_object(self.critic),
            "latent_dim": self.latent_dim,
            "seed": self.seed,
            "num_classes": self.num_classes,
            "average": keras.saving.serialize_keras_object(self.average),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> GAN:
        config = dict(config)
        for key in ("generator", "critic", "average"):
            if config.get(key) is not None:  # no "average" in files from before averaging
                config[key] = keras.saving.deserialize_keras_object(
                    config[key], custom_objects=custom_objects
                )
        return cls(**config)

    def get_compile_config(self) -> dict | None:
        if not self.compiled:
            return None
        return {
            "objective": self.objective.name,
            "generator_optimizer": keras.saving.serialize_keras_object(self.generator_optimizer),
            "critic_optimizer": keras.saving.serialize_keras_object(self.critic_optimizer),
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "gp_weight": self.gp_weight,
            "penalty": self.penalty,
            "clip_value": self.clip_value,
            "acgan_weight": self.acgan_weight,
            "acgan_generator_weight": self.acgan_generator_weight,
            "jit_compile": self._jit_compile_arg,
            "terminate_on_nan": self.terminate_on_nan,
            "fuse_critic_calls": self.fuse_critic_calls,
        }

    def compile_from_config(self, config: dict) -> None:
        config = dict(config)
        for key in ("generator_optimizer", "critic_optimizer", "schedule"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)


class _SamplingCopies:
    """The copies of the generator that sample with batch or standing batch-norm
    statistics (`GAN.sampling_generator`), built on first use. A plain object, so that
    Keras does not track them as the GAN's own: they are neither trained nor saved."""

    def __init__(self):
        self.batch: batch_norm.BatchStatisticsGenerator | None = None
        self.standing: keras.Model | None = None


class _Averaging:
    """A GAN's generator average: its config, the generator variables it averages, their
    float32 averages, and the copy of the generator that samples from them. A plain
    object, so that Keras does not track the lists or the copy as the GAN's own."""

    def __init__(self, config: averaging.GeneratorAverage, sources: list, variables: list):
        self.config, self.sources, self.variables = config, sources, variables
        self.copy: keras.Model | None = None


def _count_inputs(model: keras.layers.Layer) -> int:
    """How many inputs a functional model takes (1 for models that do not say)."""
    try:
        return len(model.inputs)
    except (AttributeError, TypeError, ValueError):
        return 1


def _infer_latent_dim(generator: keras.Model, latent_dim: int | None) -> int:
    try:
        inferred = generator.inputs[0].shape[-1]
    except (AttributeError, IndexError, TypeError, ValueError):
        try:
            inferred = generator.input_shape[-1]
        except (AttributeError, ValueError):
            inferred = None
    if latent_dim is None:
        if inferred is None:
            raise ConfigError(
                "Cannot infer latent_dim from the generator; pass GAN(..., latent_dim=N)."
            )
        return int(inferred)
    if inferred is not None and inferred != latent_dim:
        raise ConfigError(
            f"latent_dim={latent_dim} but the generator takes inputs of size {inferred}."
        )
    if latent_dim <= 0:
        raise ConfigError(f"latent_dim must be positive, got {latent_dim}.")
    return int(latent_dim)


def _check_networks(
    generator: keras.Model,
    critic: keras.Model,
    latent_dim: int,
    num_classes: int | None,
    conditional: bool,
    critic_takes_labels: bool,
) -> tuple[tuple, bool, int | None]:
    """Traces both nets symbolically (with a labels input where they take one); returns
    (sample shape without batch, whether the critic has an AC-GAN head, number of classes
    or None)."""
    labels = keras.KerasTensor((None,), dtype="int32")
    noise = keras.KerasTensor((None, latent_dim))
    fake = generator.compute_output_spec([noise, labels] if conditional else noise)
    if isinstance(fake, (list, tuple, dict)):
        raise ConfigError("The generator must return a single tensor of samples.")
    try:
        output = critic.compute_output_spec([fake, labels] if critic_takes_labels else fake)
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"The generator's samples do not fit the critic: the generator "
            f"{generator.name!r} produces {tuple(fake.shape)} (batch first) and the critic "
            f"{critic.name!r} rejects them ({' '.join(str(error).split())[:300]}). Build "
            "both networks for the same sample shape (image_size, channels)."
        ) from None
    acgan = isinstance(output, (list, tuple)) and len(output) == 2
    scores = output[0] if acgan else output
    if isinstance(scores, (list, tuple, dict)) or tuple(scores.shape[1:]) not in ((1,), ()):
        shape = getattr(scores, "shape", type(scores).__name__)
        raise ConfigError(
            "The critic must return one score per sample, shape (batch, 1) (or "
            "[scores, class_logits] with an AC-GAN head); for generator samples of shape "
            f"{tuple(fake.shape)} it returns {shape}. End it with a Dense(1) (no sigmoid)."
        )
    return (
        tuple(fake.shape[1:]),
        acgan,
        _check_classes(
            conditional, critic_takes_labels, acgan and int(output[1].shape[-1]), num_classes
        ),
    )


def _check_classes(conditional: bool, critic_takes_labels: bool, head_classes, num_classes):
    """The number of classes of a conditional model; None for an unconditional one."""
    if not conditional:
        if critic_takes_labels or head_classes or num_classes is not None:
            raise ConfigError(
                "The critic is conditional (it takes labels, has an AC-GAN head, or "
                "num_classes was given) but the generator takes noise only; build the "
                "generator with a labels input, e.g. build('cifar-resnet', conditional=True)."
            )
        return None
    if not (critic_takes_labels or head_classes):
        raise ConfigError(
            "The generator takes [noise, labels] but the critic never sees the labels, so "
            "nothing would teach the generator to follow them: give the critic an AC-GAN "
            "head (build(..., acgan=True)) or a labels input."
        )
    if head_classes and num_classes is not None and head_classes != num_classes:
        raise ConfigError(
            f"num_classes={num_classes} but the critic's AC-GAN head has {head_classes} logits."
        )
    num_classes = head_classes or num_classes
    if not num_classes or num_classes < 2:
        raise ConfigError(
            "A conditional GAN needs num_classes >= 2: pass GAN(..., num_classes=N) (it is "
            "inferred only from an AC-GAN head)."
        )
    return int(num_classes)


def _check_regularisers(
    objective: objectives_lib.Objective, gp_weight: float, penalty: str, clip_value
) -> None:
    if penalty not in penalties.PENALTIES:
        raise ConfigError(
            f"Unknown penalty {penalty!r}; choose one of {', '.join(penalties.PENALTIES)}."
        )
    _check_finite(gp_weight=gp_weight, clip_value=clip_value)
    if gp_weight < 0:
        raise ConfigError(f"gp_weight must be non-negative, got {gp_weight}.")
    if clip_value is not None and clip_value <= 0:
        raise ConfigError(f"clip_value must be positive or None, got {clip_value}.")
    if gp_weight and clip_value is not None:
        hint = (
            "use objective='wgan-gp' for the penalty"
            if objective.name == "wgan"
            else "pass clip_value=None, or gp_weight=0 to clip instead"
        )
        raise ConfigError(
            f"Both a gradient penalty (gp_weight={gp_weight}) and weight clipping "
            f"(clip_value={clip_value}) were requested; the penalty replaces clipping "
            f"(Gulrajani et al. 2017, §3): {hint}."
        )


def _check_finite(**values) -> None:
    """Refuses NaN and infinite hyperparameters, which `< 0` checks let through."""
    for name, value in values.items():
        if value is not None and not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value}.")


def _check_not_empty(x) -> None:
    """Refuses data that is empty before `fit` starts: Keras would train silently on
    TensorFlow and fail inside its own loop on JAX. Python generators are checked when
    their first epoch ends (`TerminateOnNonFinite`)."""
    if isinstance(x, keras.utils.PyDataset):
        size = x.num_batches
    elif hasattr(x, "cardinality"):  # tf.data.Dataset
        size = int(x.cardinality())
        size = None if size < 0 else size  # infinite or unknown
    elif hasattr(x, "shape") and hasattr(x, "__len__"):
        size = len(x)
    else:
        return
    if size == 0:
        raise DataError(EMPTY_DATA)
