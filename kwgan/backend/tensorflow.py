"""The TensorFlow training step: nested `GradientTape`s inside Keras's `tf.function`.

The penalty's input gradient comes from an inner tape that watches x̂; the outer tape
differentiates the penalised loss with respect to the critic's weights (double backward).
The generator iteration runs under `tf.cond`, so one traced step serves critic-only and
critic-plus-generator iterations alike.
"""

import tensorflow as tf

from kwgan import penalties
from kwgan.trainer import Trainer


class GANTrainer(Trainer):
    def train_step(self, data):
        real, labels, data_logs = self.real_batch(data)
        batch_size = tf.shape(real)[0]
        logs = self._critic_iteration(real, labels, batch_size)
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
        return self.step_logs(logs, data_logs, g_loss, self.generator_iterations.value)

    def _critic_iteration(self, real, labels, batch_size):
        noise = self.generator_inputs(self.noise(batch_size), labels)
        fake = self.generator(noise, training=True)
        alpha = self.interpolation_weights(batch_size) if self.gp_weight else None
        variables = self.critic.trainable_variables
        with tf.GradientTape() as tape:
            real_output = self.call_critic(real, labels)
            fake_output = self.call_critic(fake, labels)
            input_gradients = None
            if alpha is not None:
                x_hat = penalties.interpolate(real, fake, alpha)
                with tf.GradientTape() as inner:
                    inner.watch(x_hat)
                    scores = tf.cast(self.scores(self.call_critic(x_hat, labels)), "float32")
                input_gradients = inner.gradient(scores, x_hat)
            loss, logs = self.critic_loss(real_output, fake_output, input_gradients, labels)
        self.critic_optimizer.apply(tape.gradient(loss, variables), variables)
        return logs

    def _generator_iteration(self, batch_size):
        if self.trains_generator:
            variables = self.generator.trainable_variables
            labels = self.fake_labels(batch_size)
            with tf.GradientTape() as tape:
                noise = self.generator_inputs(self.noise(batch_size), labels)
                fake = self.generator(noise, training=True)
                loss = self.generator_loss(self.call_critic(fake, labels), labels)
            self.generator_optimizer.apply(tape.gradient(loss, variables), variables)
        else:
            loss = tf.zeros((), "float32")
        self.generator_iterations.assign_add(1)
        self.last_generator_loss.assign(loss)
        return tf.identity(loss)
