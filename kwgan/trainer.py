"""`Trainer`: the backend-neutral half of a GAN training step, and the interface the
backends implement.

This is to `kwgan/backend/*.py` what `keras/src/trainers/trainer.py` is to
`keras/src/backend/*/trainer.py`: everything a step computes the same way on every backend
lives here — validating a real batch, drawing noise, labels and interpolation weights, the
networks' inputs, the losses and logs, the critic schedule — and each backend's
`GANTrainer(Trainer)` implements only `train_step`, in that backend's idiom: how gradients
are taken (the penalty's input gradient is a double backward), how the two optimizers are
applied and how state and seeds are threaded.

One `train_step` is one *critic* iteration on one fresh real batch, followed — when the
schedule says the critic has had its `n_critic` iterations — by one generator iteration on
fresh noise. So every critic iteration sees new data, as in both reference implementations
(the keras.io example reuses one batch n times), and `fit`'s steps count real batches, like
the WGAN repo's epochs. The step logs the model's own `generator_iterations` counter, which
is what every callback counting generator iterations reads.

A step on a batch that fails the data checks (NaN or infinite values, labels outside the
classes) changes nothing — no weight, optimizer variable, counter or noise seed — since
`TerminateOnNonFinite` raises on it: reporting alone would leave NaN in the critic, and the
user's next `fit` on clean data would diverge at once. Each backend makes the step's
updates conditional on `batch_is_clean` inside the step (a select or a `cond` in the
compiled step, a branch on torch), without a host sync of its own, and puts back the
`forward_state` that the step's draws and forward passes changed.

A `Trainer` is mixed into `kwgan.GAN`, which provides the attributes this class reads: the
networks (`generator`, `critic`), their shapes and inputs (`latent_dim`, `data_shape`,
`conditional`, `critic_takes_labels`, `acgan`, `num_classes`), the noise `seed_generator`,
the compiled `objective`, `schedule`, `gp_weight`, `penalty`, AC-GAN weights and
`fuse_critic_calls`, the counters `generator_iterations`, `critic_cycle_step` and
`last_generator_loss`, and the generator average (`average`, `average_variables`,
`averaged_sources`).

The generator average (`kwgan.averaging`) is updated at the end of every generator
iteration, inside the step on every backend: on JAX it is part of the jitted state like the
counters (a Python-side copy, updated by a callback, would see the values of the step's
start, or none at all during a JAX epoch), and a step that refuses its batch runs no
generator iteration, so it leaves the average as it was.
"""

from __future__ import annotations

import keras
from keras import ops

from kwgan import objectives, penalties
from kwgan.errors import DataError


class Trainer:
    """The backend-neutral pieces of a training step; `train_step` is each backend's."""

    def train_step(self, *args, **kwargs):
        """One critic iteration (and a generator iteration when due), in the backend's idiom;
        implemented by `kwgan/backend/<backend>.py`."""
        raise NotImplementedError

    def real_batch(self, data):
        """`(samples, labels, data_logs)` of a batch, validated against the networks; labels
        are int32 of shape (batch,) for a conditional model and `None` otherwise, and
        `data_logs` counts the batch's NaN/Inf values and, for a conditional model, its
        labels outside [0, num_classes)."""
        labels = None
        if isinstance(data, (tuple, list)):
            data, labels = data[0], (data[1] if len(data) > 1 else None)
        if isinstance(data, dict):
            raise DataError(
                "GAN.fit expects batches of samples (or (samples, labels) tuples), "
                f"got a dict with keys {sorted(data)}."
            )
        shape = tuple(data.shape[1:])
        if len(shape) != len(self.data_shape) or any(
            d is not None and e is not None and d != e
            for d, e in zip(shape, self.data_shape, strict=True)
        ):
            raise DataError(
                f"Real batches have sample shape {shape} but the generator produces "
                f"{self.data_shape}: resize the data or build the generator for this shape."
            )
        dtype = keras.backend.standardize_dtype(data.dtype)
        if "float" not in dtype:
            raise DataError(
                f"Real batches must be floating point (e.g. images scaled to [-1, 1]); "
                f"got dtype {dtype}. Convert with `x.astype('float32') / 127.5 - 1`."
            )
        labels, data_logs = self._real_labels(labels)
        # Counted, not trusted to propagate: TensorFlow's oneDNN ReLU maps NaN to 0, so NaN
        # pixels could train silently. `TerminateOnNonFinite` raises on the count.
        data_logs["non_finite_inputs"] = ops.sum(
            ops.cast(ops.logical_not(ops.isfinite(data)), "int32")
        )
        return ops.cast(data, self.compute_dtype), labels, data_logs

    def batch_is_clean(self, data_logs: dict):
        """Whether a batch passed the data checks of `real_batch` (a boolean scalar): a
        step applies its updates only then, as `TerminateOnNonFinite` raises on any other."""
        bad = data_logs["non_finite_inputs"]
        if "label_errors" in data_logs:
            bad = bad + data_logs["label_errors"]
        return ops.equal(bad, 0)

    def forward_state(self) -> list:
        """The variables a step changes outside its optimizers — the noise seed its draws
        advance, the networks' non-trainable variables that their training-mode calls
        update (batch-norm statistics) — which a step on a refused batch puts back."""
        variables = (
            self.seed_generator.state,
            *self.generator.non_trainable_variables,
            *self.critic.non_trainable_variables,
        )
        return list({id(v): v for v in variables}.values())

    def averaged_values(self, averages: list, generator_values: list, generator_iteration):
        """The generator average after generator iteration `generator_iteration` (the
        counter once that iteration is done), from its current values and the values of
        `averaged_sources` after the iteration's update; pure, for
        the JAX step. Empty without an average."""
        if self.average is None:
            return []
        return self.average.updated(averages, generator_values, generator_iteration)

    def update_average(self) -> None:
        """Updates the generator average's variables in place after a generator iteration
        (TensorFlow, torch; a no-op without an average)."""
        if self.average is None:
            return
        averages = self.average_variables
        new = self.averaged_values(
            [a.value for a in averages],
            [s.value for s in self.averaged_sources],
            self.generator_iterations.value,
        )
        for variable, value in zip(averages, new, strict=True):
            variable.assign(value)

    def _real_labels(self, labels):
        """Validated int32 labels and `{"label_errors": count}` of those outside
        [0, num_classes). Those are replaced by 0 so that no backend fails obscurely (or, on
        JAX, trains silently on garbage); `TerminateOnNonFinite` raises on the count."""
        if self.num_classes is None:
            return None, {}
        if labels is None:
            raise DataError(
                "This GAN is conditional (its generator takes [noise, labels]), so it trains "
                "on (images, labels) batches; got images only. Load labelled data, e.g. "
                "kwgan.data.images('mnist', with_labels=True)."
            )
        dtype = keras.backend.standardize_dtype(labels.dtype)
        if (
            "int" not in dtype
            or len(labels.shape) > 2
            or (len(labels.shape) == 2 and labels.shape[1] != 1)
        ):
            raise DataError(
                f"Labels must be integer class ids of shape (batch,) or (batch, 1); got "
                f"dtype {dtype} and shape {tuple(labels.shape)}."
            )
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        valid = ops.logical_and(labels >= 0, labels < self.num_classes)
        errors = ops.sum(ops.cast(ops.logical_not(valid), "int32"))
        return ops.where(valid, labels, 0), {"label_errors": errors}

    def noise(self, batch_size):
        """Fresh generator input, N(0, I)."""
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def fake_labels(self, batch_size):
        """Uniform class ids for a generator iteration (`None` when unconditional)."""
        if self.num_classes is None:
            return None
        return keras.random.randint(
            (batch_size,), 0, self.num_classes, dtype="int32", seed=self.seed_generator
        )

    def generator_inputs(self, noise, labels):
        return [noise, labels] if self.conditional else noise

    def critic_inputs(self, samples, labels):
        return [samples, labels] if self.critic_takes_labels else samples

    def call_critic(self, samples, labels, training: bool = True):
        """The critic's output for `samples` (with `labels` where it takes them), for the
        backends that call it statefully (TensorFlow, torch)."""
        return self.critic(self.critic_inputs(samples, labels), training=training)

    @property
    def fuses_critic_calls(self) -> bool:
        """Whether the real and the fake batch go through the critic in one call.

        One call on the concatenated batch does the same arithmetic as two (every layer of
        such a critic is per-sample) with half the layer dispatches, which is what bounds a
        step at small batch sizes on a GPU. It is only the same model for a critic without
        state updated by its calls: batch norm's statistics would be taken over real and
        fake together (the DCGAN reference normalises each batch apart), and spectral
        norm's power iteration would advance once instead of twice. So any non-trainable
        variable in the critic keeps the two calls. The penalty's call on x̂ stays apart:
        its input gradient is needed for x̂ alone.
        """
        return self.fuse_critic_calls is not False and not self.critic.non_trainable_variables

    def critic_outputs(self, call, real, fake, labels):
        """`(real output, fake output)` of `call(samples, labels)`, in one call on the
        concatenated batch where `fuses_critic_calls`, else in two."""
        if not self.fuses_critic_calls:
            return call(real, labels), call(fake, labels)
        both_labels = None if labels is None else ops.concatenate([labels, labels], axis=0)
        both = call(ops.concatenate([real, ops.cast(fake, real.dtype)], axis=0), both_labels)
        n = ops.shape(real)[0]
        return (
            keras.tree.map_structure(lambda t: t[:n], both),
            keras.tree.map_structure(lambda t: t[n:], both),
        )

    def scores(self, critic_output):
        """The critic's scores, without an AC-GAN head's class logits."""
        return critic_output[0] if self.acgan else critic_output

    def interpolation_weights(self, batch_size):
        return penalties.interpolation_weights(
            batch_size, len(self.data_shape) + 1, seed=self.seed_generator
        )

    def critic_loss(self, real_output, fake_output, input_gradients=None, labels=None):
        """The critic's total loss and its logs; `input_gradients` is ∇D(x̂) if penalised,
        `labels` the real batch's classes (for an AC-GAN head)."""
        real_scores = ops.cast(self.scores(real_output), "float32")
        fake_scores = ops.cast(self.scores(fake_output), "float32")
        loss = self.objective.critic_loss(real_scores, fake_scores)
        logs = self.objective.logs(real_scores, fake_scores)
        if input_gradients is not None:
            gp = penalties.gradient_penalty(input_gradients, self.penalty)
            loss = loss + self.gp_weight * gp
            logs["gp"] = gp
        if self.acgan:
            logits = ops.cast(real_output[1], "float32")
            ac_loss = objectives.acgan_loss(labels, logits)
            loss = loss + self.acgan_weight * ac_loss
            logs["ac_loss"] = ac_loss
            logs["ac_accuracy"] = objectives.acgan_accuracy(labels, logits)
        return loss, {"d_loss": loss, **logs}

    def generator_loss(self, fake_output, labels=None):
        """The generator's loss; `labels` are the classes its fakes were asked for."""
        loss = self.objective.generator_loss(ops.cast(self.scores(fake_output), "float32"))
        if self.acgan:
            logits = ops.cast(fake_output[1], "float32")
            loss = loss + self.acgan_generator_weight * objectives.acgan_loss(labels, logits)
        return loss

    def step_logs(self, critic_logs: dict, data_logs: dict, generator_loss, generator_iterations):
        """Everything a step returns to `fit`: the critic's logs, the last generator loss, the
        data checks, and the model's own generator-iteration counter, which is how every
        callback counts generator iterations (also when `steps_per_execution` > 1)."""
        return {
            **critic_logs,
            "g_loss": generator_loss,
            **data_logs,
            "generator_iterations": generator_iterations,
        }

    def schedule_step(self, cycle_step, generator_iteration):
        """After one critic iteration: (is a generator iteration due?, new cycle step)."""
        cycle_step = cycle_step + 1
        due = cycle_step >= self.schedule.critic_steps_at(generator_iteration)
        return due, ops.where(due, 0, cycle_step)
