"""The TensorFlow training step: nested `GradientTape`s inside Keras's `tf.function`.

The penalty's input gradient comes from an inner tape that watches x̂; the outer tape
differentiates the penalised loss with respect to the critic's weights (double backward).
The generator iteration runs under `tf.cond`, so one traced step serves critic-only and
critic-plus-generator iterations alike.

Under a `tf.distribute` strategy (`MirroredStrategy`, `MultiWorkerMirroredStrategy`; the GAN
built and compiled in `strategy.scope()`), Keras runs `train_step` once per replica, each on
its shard of the global batch, and the same step trains data-parallel, to the weights one
device trains on the same global batches (up to the order of float sums; layers that mix
samples, such as batch norm, see per-replica batches):

- The generator's `optimizer.apply` all-reduces gradients and updates mirrored variables
  through `ReplicaContext.merge_call` (keras/src/backend/tensorflow/optimizer.py,
  `_backend_update_step`), which MirroredStrategy refuses inside a `tf.cond` branch
  ("merge_call called while defining a new graph"). So the replicas `merge_call` first, and
  in cross-replica context the `tf.cond` runs the generator iteration on every replica with
  `strategy.run`, whose replicas may synchronise again; tf.keras 2's `LossScaleOptimizer`
  applies gradients conditionally the same way. Every replica takes the same branch, as
  `due` derives from mirrored counters.
- Keras's TF optimizer SUM-all-reduces gradients (`_all_reduce_sum_gradients`), so each
  replica differentiates its losses (means over its rows, the penalty's included) times its
  share of the global batch: 1 / `num_replicas_in_sync` for even shards, its rows / all rows
  when the last batch splits unevenly. Summed, that is the gradient of the global loss.
- Keras averages the replicas' logs (`reduce_per_replica`); the step all-reduces them first,
  weighted the same way (counts summed), so d_loss, g_loss, w_estimate, … are the global
  batch's, as on one device.
- The noise seed's state is mirrored, so replicas drawing their own rows would draw the same
  noise. Each draws for the global batch and keeps its rows: the draws differ across
  replicas, stay deterministic, and match row for row what one device draws.

A batch that fails the data checks (counted over the global batch, so alike on every
replica) updates nothing. One `tf.cond` on it follows the critic's forward passes: a clean
batch's branch applies the critic's update, the other puts back the `forward_state` those
passes and the draws changed (noise seed, batch-norm statistics), read at the start of the
step. Under `tf.distribute` that `cond` runs in cross-replica context, for the reason
above, as Keras's `LossScaleOptimizer` skips a non-finite step
(keras/src/optimizers/loss_scale_optimizer.py, `_tf_apply`). The generator iteration is
due only for a clean batch (and with it the generator average's update, at its end), and
the counters advance by a select.
"""

from typing import NamedTuple

import tensorflow as tf

from kwgan import penalties
from kwgan.trainer import Trainer

_SUM = tf.distribute.ReduceOp.SUM


class _Shard(NamedTuple):
    """The rows of the global batch that this replica holds: `[start, start + size)` of
    `total`. Outside `tf.distribute` (or on one replica) `start` and `total` are None: the
    replica holds the whole batch and nothing is rescaled, sliced or all-reduced."""

    size: tf.Tensor
    total: tf.Tensor | None = None
    start: tf.Tensor | None = None


def _shard_of(batch_size: tf.Tensor) -> _Shard:
    """This replica's `_Shard`, from one all-reduce of every replica's batch size (shards
    differ when the last global batch does not split evenly)."""
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync
    if replicas == 1:
        return _Shard(batch_size)
    replica = context.replica_id_in_sync_group
    own_size = tf.one_hot(replica, replicas, dtype=batch_size.dtype) * batch_size
    sizes = context.all_reduce(_SUM, own_size)
    return _Shard(batch_size, tf.reduce_sum(sizes), tf.reduce_sum(sizes[:replica]))


def _share(value: tf.Tensor, shard: _Shard) -> tf.Tensor:
    """A mean over this replica's rows × the replica's share of the global batch: summed over
    replicas (as Keras's TF optimizer sums gradients), the mean over the global batch. A
    replica left without rows (a last global batch smaller than the replicas) adds 0, not
    its means' NaN."""
    if shard.start is None:
        return value
    return tf.math.multiply_no_nan(value, tf.cast(shard.size / shard.total, value.dtype))


def _sum_over_replicas(value: tf.Tensor, shard: _Shard) -> tf.Tensor:
    """`value` summed over the replicas, on every replica."""
    if shard.start is None:
        return value
    return tf.distribute.get_replica_context().all_reduce(_SUM, value)


def _sum_logs_over_replicas(logs: dict, shard: _Shard) -> dict:
    """Scalar logs of one dtype summed over the replicas, in one all-reduce of their stack:
    MirroredStrategy cannot batch-reduce several int32 tensors (its `_batch_reduce_to`
    picks a new `ReductionToOneDevice` for each, then refuses the mix)."""
    if shard.start is None or not logs:
        return logs
    total = _sum_over_replicas(tf.stack(list(logs.values())), shard)
    return dict(zip(logs, tf.unstack(total), strict=True))


def _batched_for_multi_worker(logs: dict) -> dict:
    """The step's logs, each with a leading axis of one when training on several workers:
    Keras reduces a multi-worker step's logs with `strategy.reduce("MEAN", value, axis=0)`
    (`reduce_per_replica`, keras/src/backend/tensorflow/trainer.py), which fails on scalars
    (tensorflow/tensorflow#72388, plain Keras models too); on one-element vectors it is the
    mean of the replicas' values, which the step has already made equal."""
    strategy = tf.distribute.get_strategy()
    # The condition of Keras's branch (`_collective_all_reduce_multi_worker`).
    if not (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and strategy.extended._in_multi_worker_mode()
    ):
        return logs
    return {name: tf.reshape(value, (1,)) for name, value in logs.items()}


def _branch_on_replicas(condition: tf.Tensor, if_true, if_false, args: tuple) -> None:
    """`if_true(*args)` when `condition` (alike on every replica), else `if_false(*args)`:
    functions that update variables. Under `tf.distribute` the `tf.cond` runs in
    cross-replica context, each branch on every replica (`strategy.run`), where it may
    all-reduce and update mirrored variables; `args` pass through `merge_call`, so each
    replica's branch gets its own."""
    if not tf.distribute.has_strategy():
        tf.cond(condition, lambda: _done(if_true(*args)), lambda: _done(if_false(*args)))
        return

    def cross_replica(strategy, condition, args):
        def on_every_replica(branch):
            return lambda: _done(strategy.run(branch, args=args))

        condition = strategy.experimental_local_results(condition)[0]
        tf.cond(condition, on_every_replica(if_true), on_every_replica(if_false))

    tf.distribute.get_replica_context().merge_call(cross_replica, args=(condition, args))


def _done(_) -> tf.Tensor:
    """What a `tf.cond` branch that only updates variables returns (both must return alike)."""
    return tf.constant(True)


def _assign_all(variables: list, values: list) -> None:
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def _rows(draw, shard: _Shard):
    """`draw(n)` (noise, labels, interpolation weights) for this replica's rows: its own
    rows of a draw for the global batch, as the replicas share the seed's state."""
    if shard.start is None:
        return draw(shard.size)
    drawn = draw(shard.total)
    return None if drawn is None else drawn[shard.start : shard.start + shard.size]


class GANTrainer(Trainer):
    def train_step(self, data):
        real, labels, data_logs = self.real_batch(data)
        shard = _shard_of(tf.shape(real)[0])
        data_logs = _sum_logs_over_replicas(data_logs, shard)  # counts, int32
        clean = self.batch_is_clean(data_logs)
        logs = self._critic_iteration(real, labels, shard, clean)
        due, cycle_step = self.schedule_step(
            self.critic_cycle_step.value, self.generator_iterations.value
        )
        self.critic_cycle_step.assign(tf.where(clean, cycle_step, self.critic_cycle_step.value))
        g_loss = self._generator_iteration_if_due(tf.logical_and(due, clean), shard)
        iterations = self.optimizer.iterations
        iterations.assign_add(tf.cast(clean, iterations.dtype))
        # Keras averages the replicas' logs (`reduce_per_replica`); these are already the
        # global batch's on every replica, whatever the shard sizes.
        shares = {name: _share(value, shard) for name, value in logs.items()}
        logs = _sum_logs_over_replicas(shares, shard)
        logs = self.step_logs(logs, data_logs, g_loss, self.generator_iterations.value)
        return _batched_for_multi_worker(logs)

    def _generator_iteration_if_due(self, due, shard):
        """The generator iteration under `tf.cond`, taken in cross-replica context under
        `tf.distribute` (see the module docstring)."""
        if not tf.distribute.has_strategy():
            return tf.cond(due, lambda: self._generator_iteration(shard), self._last_g_loss)
        return tf.distribute.get_replica_context().merge_call(
            self._cross_replica_generator_iteration, args=(due, shard)
        )

    def _cross_replica_generator_iteration(self, strategy, due, shard):
        """`merge_call`'s function: when due (alike on every replica, as it derives from
        mirrored counters), the generator iteration on every replica via `strategy.run`,
        whose replicas may all-reduce and update mirrored variables inside the `tf.cond`."""

        def iterate():
            losses = strategy.run(self._generator_iteration, args=(shard,))
            return strategy.experimental_local_results(losses)[0]

        return tf.cond(strategy.experimental_local_results(due)[0], iterate, self._last_g_loss)

    def _last_g_loss(self):
        return tf.identity(self.last_generator_loss.value)

    def _critic_iteration(self, real, labels, shard, clean):
        """The critic iteration's logs; its update is applied only for a `clean` batch,
        and for any other the `forward_state` it changed is put back."""
        forward_state = self.forward_state()
        before = [tf.identity(v.value) for v in forward_state]  # reads now, not variables
        noise = self.generator_inputs(_rows(self.noise, shard), labels)
        fake = self.generator(noise, training=True)
        alpha = _rows(self.interpolation_weights, shard) if self.gp_weight else None
        variables = self.critic.trainable_variables
        with tf.GradientTape() as tape:
            real_output, fake_output = self.critic_outputs(self.call_critic, real, fake, labels)
            input_gradients = None
            if alpha is not None:
                x_hat = penalties.interpolate(real, fake, alpha)
                with tf.GradientTape() as inner:
                    inner.watch(x_hat)
                    scores = tf.cast(self.scores(self.call_critic(x_hat, labels)), "float32")
                input_gradients = inner.gradient(scores, x_hat)
            loss, logs = self.critic_loss(real_output, fake_output, input_gradients, labels)
            loss = _share(loss, shard)
        _branch_on_replicas(
            clean,
            lambda grads, before: self.critic_optimizer.apply(grads, variables),
            lambda grads, before: _assign_all(forward_state, before),
            args=(tape.gradient(loss, variables), before),
        )
        return logs

    def _generator_iteration(self, shard):
        if self.trains_generator:
            variables = self.generator.trainable_variables
            labels = _rows(self.fake_labels, shard)
            with tf.GradientTape() as tape:
                noise = self.generator_inputs(_rows(self.noise, shard), labels)
                fake = self.generator(noise, training=True)
                loss = _share(self.generator_loss(self.call_critic(fake, labels), labels), shard)
            self.generator_optimizer.apply(tape.gradient(loss, variables), variables)
            loss = _sum_over_replicas(loss, shard)
        else:
            loss = tf.zeros((), "float32")
        self.generator_iterations.assign_add(1)
        self.update_average()
        self.last_generator_loss.assign(loss)
        return tf.identity(loss)
