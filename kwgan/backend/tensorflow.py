"""The TensorFlow training step: nested `GradientTape`s inside Keras's `tf.function`.

The penalty's input gradient comes from an inner tape that watches x̂; the outer tape
differentiates the penalised loss with respect to the critic's weights (double backward).
The generator iteration runs under `tf.cond`, so one traced step serves critic-only and
critic-plus-generator iterations alike.
"""

import tensorflow as tf

from kwgan import penalties


class GANTrainer:
    def train_step(self, data):
        real = self.real_batch(data)
        batch_size = tf.shape(real)[0]
        logs = self._critic_iteration(real, batch_size)
        due, cycle_step = self.schedule_step(
            self.critic_cycle_step.value, self.generator_iterations.value
        )
        self.critic_cycle_step.assign(cycle_step)
        g_loss = tf.cond(
            due,
            lambda: self._generator_iteration(batch_size),
            lambda: tf.identity(self.last_generator_loss.value),
        )
        self.optimizer.iterations.assign_add(1)
        return {**logs, "g_loss": g_loss}

    def _critic_iteration(self, real, batch_size):
        fake = self.generator(self.noise(batch_size), training=True)
        alpha = self.interpolation_weights(batch_size) if self.gp_weight else None
        variables = self.critic.trainable_variables
        with tf.GradientTape() as tape:
            real_scores = self.critic(real, training=True)
            fake_scores = self.critic(fake, training=True)
            input_gradients = None
            if alpha is not None:
                x_hat = penalties.interpolate(real, fake, alpha)
                with tf.GradientTape() as inner:
                    inner.watch(x_hat)
                    scores = tf.cast(self.critic(x_hat, training=True), "float32")
                input_gradients = inner.gradient(scores, x_hat)
            loss, logs = self.critic_loss(real_scores, fake_scores, input_gradients)
        self.critic_optimizer.apply(tape.gradient(loss, variables), variables)
        return logs

    def _generator_iteration(self, batch_size):
        if self.trains_generator:
            variables = self.generator.trainable_variables
            with tf.GradientTape() as tape:
                fake = self.generator(self.noise(batch_size), training=True)
                loss = self.generator_loss(self.critic(fake, training=True))
            self.generator_optimizer.apply(tape.gradient(loss, variables), variables)
        else:
            loss = tf.zeros((), "float32")
        self.generator_iterations.assign_add(1)
        self.last_generator_loss.assign(loss)
        return tf.identity(loss)
