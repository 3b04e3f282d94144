"""The JAX training step: pure, stateless, jitted by Keras.

Keras hands `train_step` the model's state as four lists of arrays (trainable,
non-trainable, optimizer and metrics variables) and expects them back updated. This step
looks each network's slice up by variable identity (`_State`), runs the networks with
`stateless_call`, takes the penalty's input gradient with `jax.vjp` inside the
`jax.value_and_grad` of the critic loss (double backward), and applies each network's own
sub-optimizer with `stateless_apply` on its slice of the `MultiOptimizer` state — so both
optimizers' moments and iteration counters really advance (a second optimizer kept outside
`self.optimizer` would be silently reset every step). The noise seed is threaded through
the state too, via a `StatelessScope`. The generator iteration runs under `jax.lax.cond`.

A batch that fails the data checks leaves the state as it came in: every array the critic
iteration replaced (weights, optimizer moments, noise seed, batch statistics) is selected
between its new and its incoming value right after that iteration, where XLA fuses the
select into the update that produces it (a select of the whole state at the end of the
step compiled to one more kernel per array on the CPU); the generator iteration runs only
when due *and* clean (and with it the generator average's update, part of the state like
the counters), and the counters advance by a select. No host sync is added.
"""

import jax
import jax.numpy as jnp
import keras

from kwgan import penalties
from kwgan.trainer import Trainer


class _State(dict):
    """Current values of Keras variables, keyed by the variables' identity."""

    def get_all(self, variables):
        return [self[id(v)] for v in variables]

    def put_all(self, variables, values):
        for v, value in zip(variables, values, strict=True):
            self[id(v)] = value

    def keep_updates_if(self, condition, before: dict) -> None:
        """Puts back `before`'s value of every array replaced since, unless `condition`."""
        for key, value in self.items():
            if value is not before[key]:
                self[key] = jnp.where(condition, value, before[key])


class GANTrainer(Trainer):
    def make_train_function(self, force=False):
        """Keras's train function, made to leave the model usable when a step fails.

        During a JAX epoch Keras moves the variables' values into the jitted state and
        only writes them back at the end, so an error raised while tracing the first step
        (bad input, say) would leave every variable empty. Writing the incoming state back
        before re-raising lets the user fix the input and call `fit` again.
        """
        super().make_train_function(force)
        train_function = self.train_function
        if getattr(train_function, "restores_on_error", False):
            return train_function

        def restoring_train_function(state, data):
            try:
                return train_function(state, data)
            except Exception:
                variables = (
                    self.trainable_variables,
                    self.non_trainable_variables,
                    self.optimizer.variables,
                )
                # The state's fourth group, the metrics variables, is not the model's.
                for group, values in zip(variables, state[:3], strict=True):
                    for variable, value in zip(group, values, strict=True):
                        variable.assign(value)
                raise

        restoring_train_function.restores_on_error = True
        self.train_function = restoring_train_function
        return restoring_train_function

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_values, metrics_values = state
        values = _State()
        values.put_all(self.trainable_variables, trainable)
        values.put_all(self.non_trainable_variables, non_trainable)
        values.put_all(self.optimizer.variables, optimizer_values)

        real, labels, data_logs = self.real_batch(data)
        clean = self.batch_is_clean(data_logs)
        before = dict(values)
        logs = self._critic_iteration(values, real, labels, real.shape[0])
        values.keep_updates_if(clean, before)
        due, cycle_step = self.schedule_step(
            values[id(self.critic_cycle_step)], values[id(self.generator_iterations)]
        )
        values[id(self.critic_cycle_step)] = jnp.where(
            clean, cycle_step, values[id(self.critic_cycle_step)]
        )
        # Through `cond` as a list in the variables' order: a dict keyed by `id` would be
        # flattened in address order, so each process would trace a differently ordered
        # computation, never found in JAX's persistent compilation cache.
        touched = self._generator_iteration_variables()
        values.put_all(
            touched,
            jax.lax.cond(
                jnp.logical_and(due, clean),
                lambda s: self._generator_iteration(touched, s, real.shape[0]),
                lambda s: s,
                values.get_all(touched),
            ),
        )
        iterations = values[id(self.optimizer.iterations)]
        values[id(self.optimizer.iterations)] = iterations + clean.astype(iterations.dtype)
        logs = self.step_logs(
            logs,
            data_logs,
            values[id(self.last_generator_loss)],
            values[id(self.generator_iterations)],
        )
        state = (
            values.get_all(self.trainable_variables),
            values.get_all(self.non_trainable_variables),
            values.get_all(self.optimizer.variables),
            metrics_values,
        )
        return logs, state

    def _draw(self, values, sample):
        """Runs a random draw with the seed state taken from, and written back to, `values`."""
        seed = self.seed_generator.state
        with keras.StatelessScope(state_mapping=[(seed, values[id(seed)])]) as scope:
            out = sample()
            values[id(seed)] = scope.get_current_value(seed)
        return out

    def _critic_iteration(self, values, real, labels, batch_size):
        g = self.generator
        z = self._draw(values, lambda: self.noise(batch_size))
        fake, g_non_trainable = g.stateless_call(
            values.get_all(g.trainable_variables),
            values.get_all(g.non_trainable_variables),
            self.generator_inputs(z, labels),
            training=True,
        )
        values.put_all(g.non_trainable_variables, g_non_trainable)
        fake = jax.lax.stop_gradient(fake)
        alpha = None
        if self.gp_weight:
            alpha = self._draw(values, lambda: self.interpolation_weights(batch_size))

        def loss_fn(trainable, non_trainable):
            def call(x, non_trainable, labels=labels):
                return self.critic.stateless_call(
                    trainable, non_trainable, self.critic_inputs(x, labels), training=True
                )

            def scores(x):
                output, new_non_trainable = call(x, non_trainable)
                return self.scores(output), new_non_trainable

            if self.fuses_critic_calls:  # a critic without state: nothing to thread
                real_output, fake_output = self.critic_outputs(
                    lambda x, labels: call(x, non_trainable, labels)[0], real, fake, labels
                )
            else:
                real_output, non_trainable = call(real, non_trainable)
                fake_output, non_trainable = call(fake, non_trainable)
            input_gradients = None
            if alpha is not None:
                x_hat = penalties.interpolate(real, fake, alpha)
                x_hat_scores, vjp, non_trainable = jax.vjp(scores, x_hat, has_aux=True)
                (input_gradients,) = vjp(jnp.ones_like(x_hat_scores))
            loss, logs = self.critic_loss(real_output, fake_output, input_gradients, labels)
            return loss, (logs, non_trainable)

        c, opt = self.critic, self.critic_optimizer
        trainable = values.get_all(c.trainable_variables)
        (_, (logs, non_trainable)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable, values.get_all(c.non_trainable_variables)
        )
        trainable, opt_values = opt.stateless_apply(values.get_all(opt.variables), grads, trainable)
        values.put_all(c.trainable_variables, trainable)
        values.put_all(c.non_trainable_variables, non_trainable)
        values.put_all(opt.variables, opt_values)
        return logs

    def _generator_iteration_variables(self):
        # A generator without weights (fixed_generator) gives the MultiOptimizer no variable
        # to route to its optimizer, so that optimizer's variables are not in the jitted state;
        # nothing touches them then anyway.
        g_opt = self.generator_optimizer.variables if self.trains_generator else []
        return [
            *self.generator.variables,
            *self.critic.variables,
            *g_opt,
            self.seed_generator.state,
            self.generator_iterations,
            self.last_generator_loss,
            *self.average_variables,
        ]

    def _generator_iteration(self, variables, current, batch_size):
        """The generator iteration on `variables`' `current` values; returns them updated."""
        values = _State()
        values.put_all(variables, current)
        loss = jnp.zeros((), "float32")
        if self.trains_generator:
            g, c, opt = self.generator, self.critic, self.generator_optimizer
            z, labels = self._draw(
                values, lambda: (self.noise(batch_size), self.fake_labels(batch_size))
            )

            def loss_fn(trainable, g_non_trainable, c_non_trainable):
                fake, g_non_trainable = g.stateless_call(
                    trainable, g_non_trainable, self.generator_inputs(z, labels), training=True
                )
                output, c_non_trainable = c.stateless_call(
                    values.get_all(c.trainable_variables),
                    c_non_trainable,
                    self.critic_inputs(fake, labels),
                    training=True,
                )
                return self.generator_loss(output, labels), (g_non_trainable, c_non_trainable)

            trainable = values.get_all(g.trainable_variables)
            (loss, (g_non_trainable, c_non_trainable)), grads = jax.value_and_grad(
                loss_fn, has_aux=True
            )(
                trainable,
                values.get_all(g.non_trainable_variables),
                values.get_all(c.non_trainable_variables),
            )
            trainable, opt_values = opt.stateless_apply(
                values.get_all(opt.variables), grads, trainable
            )
            values.put_all(g.trainable_variables, trainable)
            values.put_all(g.non_trainable_variables, g_non_trainable)
            values.put_all(c.non_trainable_variables, c_non_trainable)
            values.put_all(opt.variables, opt_values)
        values[id(self.generator_iterations)] = values[id(self.generator_iterations)] + 1
        values[id(self.last_generator_loss)] = loss.astype("float32")
        averages = self.average_variables
        updated = self.averaged_values(
            values.get_all(averages),
            values.get_all(self.averaged_sources),
            values[id(self.generator_iterations)],
        )
        values.put_all(averages, updated)
        return values.get_all(variables)
