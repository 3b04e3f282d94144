"""`GAN`: a `keras.Model` that trains a generator against a critic with `fit`.

Everything that does not depend on the backend lives here: construction and validation of
the two networks, `compile` with the papers' defaults, the critic schedule, the losses and
logs, noise, serialisation. The gradient plumbing (the penalty's input gradient, applying
two optimizers, threading state and seeds through a jitted step) sits in one small file per
backend under `kwgan/backend/`, mixed in the way Keras mixes in its own trainers.

One `train_step` is one *critic* iteration on one fresh real batch, followed — when the
schedule says the critic has had its `n_critic` iterations — by one generator iteration on
fresh noise. So every critic iteration sees new data, as in both reference implementations
(the keras.io example reuses one batch n times), and `fit`'s steps count real batches, like
the WGAN repo's epochs. `generator_iterations` counts what the papers count.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kwgan import objectives as objectives_lib
from kwgan import penalties
from kwgan.backend import GANTrainer
from kwgan.constraints import clip_critic
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
        **kwargs,
    ):
        super().__init__(**kwargs)
        for role, net in (("generator", generator), ("critic", critic)):
            if not isinstance(net, keras.layers.Layer):
                raise TypeError(
                    f"{role} must be a Keras model or layer, got {type(net).__name__}."
                )
        self.generator = generator
        self.critic = critic
        self.latent_dim = _infer_latent_dim(generator, latent_dim)
        self.seed = seed
        self.data_shape = _check_networks(generator, critic, self.latent_dim)
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")
        self.generator_iterations = self._counter("generator_iterations", "int32")
        self.critic_cycle_step = self._counter("critic_cycle_step", "int32")
        self.last_generator_loss = self._counter("last_generator_loss", "float32")
        self.built = True

    def _counter(self, name: str, dtype: str) -> keras.Variable:
        return self.add_weight(
            shape=(), dtype=dtype, initializer="zeros", trainable=False, name=name
        )

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
        jit_compile: bool | str = "auto",
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
            jit_compile: as in `keras.Model.compile`. On torch a gradient penalty needs
                double backward, which `torch.compile` cannot do, so it must stay off.
        """
        objective = objectives_lib.get(objective)
        gp_weight = objective.gp_weight if gp_weight is None else float(gp_weight)
        clip_value = objective.clip_value if clip_value is _UNSET else clip_value
        _check_regularisers(objective, gp_weight, penalty, clip_value)
        if schedule is None:
            steps = objective.critic_steps if critic_steps is None else critic_steps
            warm = objective.warmup if warmup is None else warmup
            schedule = CriticSchedule(steps, warmup_steps=100 if warm else 0)
        elif critic_steps is not None or warmup is not None:
            raise ValueError("Pass either `schedule` or `critic_steps`/`warmup`, not both.")
        if gp_weight and jit_compile is True and keras.backend.backend() == "torch":
            raise ValueError(
                "jit_compile=True uses torch.compile, which cannot differentiate twice, "
                "and the gradient penalty needs a double backward. Use jit_compile=False "
                "(the default on torch)."
            )
        default_g, default_d = objective.optimizers()
        g_opt = keras.optimizers.get(generator_optimizer or default_g)
        d_opt = keras.optimizers.get(critic_optimizer or default_d)
        if g_opt is d_opt:
            raise ValueError("The generator and the critic need two optimizer instances.")

        self.objective = objective
        self.schedule = schedule
        self.gp_weight = gp_weight
        self.penalty = penalty
        self.clip_value = clip_value
        self._jit_compile_arg = jit_compile
        clip_critic(self.critic, clip_value)
        critic_ids = {id(v) for v in self.critic.trainable_variables}
        optimizer = keras.optimizers.MultiOptimizer(
            lambda v: d_opt if id(v) in critic_ids else g_opt
        )
        # Both optimizers travel in `self.optimizer`: on JAX only its variables are part
        # of the jitted state (keras3-gan-notes B.1), and checkpoints save it whole.
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
            raise ValueError(f"generator_iterations must be >= 0, got {generator_iterations}.")
        if generator_iterations == 0:
            return 0
        done = int(ops.convert_to_numpy(self.generator_iterations))
        in_cycle = int(ops.convert_to_numpy(self.critic_cycle_step))
        # The current cycle takes at least one more step, also when a recompiled schedule
        # asks for fewer critic steps than the cycle has already had.
        first = max(self.schedule.steps_before(done) - in_cycle, 1)
        return first + self.schedule.total_critic_steps(generator_iterations - 1, start=done + 1)

    # -- pieces of a training step shared by every backend ----------------------------

    def real_batch(self, data):
        """The real samples of a batch, validated against the generator's output."""
        if isinstance(data, (tuple, list)):
            data = data[0]
        if isinstance(data, dict):
            raise ValueError(
                "GAN.fit expects batches of samples (or (samples, labels) tuples), "
                f"got a dict with keys {sorted(data)}."
            )
        shape = tuple(data.shape[1:])
        if len(shape) != len(self.data_shape) or any(
            d is not None and e is not None and d != e for d, e in zip(shape, self.data_shape)
        ):
            raise ValueError(
                f"Real batches have sample shape {shape} but the generator produces "
                f"{self.data_shape}: resize the data or build the generator for this shape."
            )
        dtype = keras.backend.standardize_dtype(data.dtype)
        if "float" not in dtype:
            raise ValueError(
                f"Real batches must be floating point (e.g. images scaled to [-1, 1]); "
                f"got dtype {dtype}. Convert with `x.astype('float32') / 127.5 - 1`."
            )
        return ops.cast(data, self.compute_dtype)

    def noise(self, batch_size):
        """Fresh generator input, N(0, I)."""
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def interpolation_weights(self, batch_size):
        return penalties.interpolation_weights(
            batch_size, len(self.data_shape) + 1, seed=self.seed_generator
        )

    def critic_loss(self, real_scores, fake_scores, input_gradients=None):
        """The critic's total loss and its logs; `input_gradients` is ∇D(x̂) if penalised."""
        real_scores = ops.cast(real_scores, "float32")
        fake_scores = ops.cast(fake_scores, "float32")
        loss = self.objective.critic_loss(real_scores, fake_scores)
        logs = {}
        if self.objective.name.startswith("wgan"):
            logs["w_estimate"] = ops.mean(real_scores) - ops.mean(fake_scores)
        if input_gradients is not None:
            gp = penalties.gradient_penalty(input_gradients, self.penalty)
            loss = loss + self.gp_weight * gp
            logs["gp"] = gp
        return loss, {"d_loss": loss, **logs}

    def generator_loss(self, fake_scores):
        return self.objective.generator_loss(ops.cast(fake_scores, "float32"))

    def schedule_step(self, cycle_step, generator_iteration):
        """After one critic iteration: (is a generator iteration due?, new cycle step)."""
        cycle_step = cycle_step + 1
        due = cycle_step >= self.schedule.critic_steps_at(generator_iteration)
        return due, ops.where(due, 0, cycle_step)

    # -- serialisation ------------------------------------------------------------------

    def _own_saved_variables(self) -> list:
        # The noise seed's state is not a layer variable, so Keras would not checkpoint
        # it; saving it makes a resumed run draw exactly the noise it would have drawn.
        return [*self._trainable_variables, *self._non_trainable_variables, self.seed_generator.state]

    def save_own_variables(self, store) -> None:
        for i, variable in enumerate(self._own_saved_variables()):
            store[f"{i}"] = variable

    def load_own_variables(self, store) -> None:
        variables = self._own_saved_variables()
        if len(store.keys()) != len(variables):
            raise ValueError(
                f"The checkpoint holds {len(store.keys())} GAN-level variables, expected "
                f"{len(variables)} (counters, last generator loss, noise seed): it was not "
                "written by this version of kwgan.GAN."
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
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects=None) -> "GAN":
        config = dict(config)
        for key in ("generator", "critic"):
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
            "jit_compile": self._jit_compile_arg,
        }

    def compile_from_config(self, config: dict) -> None:
        config = dict(config)
        for key in ("generator_optimizer", "critic_optimizer", "schedule"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)


def _infer_latent_dim(generator: keras.Model, latent_dim: int | None) -> int:
    try:
        inferred = generator.input_shape[-1]
    except (AttributeError, ValueError):
        inferred = None
    if latent_dim is None:
        if inferred is None:
            raise ValueError(
                "Cannot infer latent_dim from the generator; pass GAN(..., latent_dim=N)."
            )
        return int(inferred)
    if inferred is not None and inferred != latent_dim:
        raise ValueError(
            f"latent_dim={latent_dim} but the generator takes inputs of size {inferred}."
        )
    if latent_dim <= 0:
        raise ValueError(f"latent_dim must be positive, got {latent_dim}.")
    return int(latent_dim)


def _check_networks(generator: keras.Model, critic: keras.Model, latent_dim: int) -> tuple:
    """Traces both nets symbolically; returns the sample shape (without batch)."""
    fake = generator.compute_output_spec(keras.KerasTensor((None, latent_dim)))
    if isinstance(fake, (list, tuple, dict)):
        raise ValueError("The generator must return a single tensor of samples.")
    scores = critic.compute_output_spec(keras.KerasTensor(fake.shape))
    if isinstance(scores, (list, tuple, dict)) or tuple(scores.shape[1:]) not in ((1,), ()):
        shape = getattr(scores, "shape", type(scores).__name__)
        raise ValueError(
            "The critic must return one score per sample, shape (batch, 1); for "
            f"generator samples of shape {tuple(fake.shape)} it returns {shape}. End it "
            "with a Dense(1) (no sigmoid)."
        )
    return tuple(fake.shape[1:])


def _check_regularisers(
    objective: objectives_lib.Objective, gp_weight: float, penalty: str, clip_value
) -> None:
    if penalty not in penalties.PENALTIES:
        raise ValueError(
            f"Unknown penalty {penalty!r}; choose one of {', '.join(penalties.PENALTIES)}."
        )
    if gp_weight < 0:
        raise ValueError(f"gp_weight must be non-negative, got {gp_weight}.")
    if clip_value is not None and clip_value <= 0:
        raise ValueError(f"clip_value must be positive or None, got {clip_value}.")
    if gp_weight and clip_value is not None:
        hint = (
            "use objective='wgan-gp' for the penalty"
            if objective.name == "wgan"
            else "pass clip_value=None, or gp_weight=0 to clip instead"
        )
        raise ValueError(
            f"Both a gradient penalty (gp_weight={gp_weight}) and weight clipping "
            f"(clip_value={clip_value}) were requested; the penalty replaces clipping "
            f"(Gulrajani et al. 2017, §3): {hint}."
        )
