"""The PyTorch training step: eager, with `torch.autograd.grad`.

The penalty's input gradient is taken with `create_graph=True` so the critic's weight
gradient can flow through it (double backward) — which is also why this step must never run
under `torch.compile` (aot_autograd cannot double-backward; `GAN.compile` refuses it).
Gradients are taken with `autograd.grad` on exactly the variables being updated, so nothing
accumulates in `.grad` between the critic's and the generator's updates.
"""

import torch

from kwgan import penalties
from kwgan.trainer import Trainer


def _gradients(loss, variables):
    values = [v.value for v in variables]
    grads = torch.autograd.grad(loss, values, allow_unused=True)
    return [torch.zeros_like(v) if g is None else g for g, v in zip(grads, values, strict=True)]


class GANTrainer(Trainer):
    def train_step(self, data):
        real, labels, data_logs = self.real_batch(data)
        batch_size = real.shape[0]
        logs = self._critic_iteration(real, labels, batch_size)
        due, cycle_step = self.schedule_step(
            self.critic_cycle_step.value, self.generator_iterations.value
        )
        self.critic_cycle_step.assign(cycle_step)
        if bool(due):
            self._generator_iteration(batch_size)
        self.optimizer.iterations.assign_add(1)
        return self.step_logs(
            logs, data_logs, self.last_generator_loss.value, self.generator_iterations.value
        )

    def _critic_iteration(self, real, labels, batch_size):
        with torch.no_grad():
            noise = self.generator_inputs(self.noise(batch_size), labels)
            fake = self.generator(noise, training=True)
        real_output, fake_output = self.critic_outputs(self.call_critic, real, fake, labels)
        input_gradients = None
        if self.gp_weight:
            alpha = self.interpolation_weights(batch_size)
            x_hat = penalties.interpolate(real, fake, alpha).detach().requires_grad_(True)
            scores = self.scores(self.call_critic(x_hat, labels)).float()
            (input_gradients,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
        loss, logs = self.critic_loss(real_output, fake_output, input_gradients, labels)
        variables = self.critic.trainable_variables
        grads = _gradients(loss, variables)
        with torch.no_grad():
            self.critic_optimizer.apply(grads, variables)
        return {k: v.detach() for k, v in logs.items()}

    def _generator_iteration(self, batch_size):
        loss = torch.zeros(())
        if self.trains_generator:
            labels = self.fake_labels(batch_size)
            fake = self.generator(
                self.generator_inputs(self.noise(batch_size), labels), training=True
            )
            loss = self.generator_loss(self.call_critic(fake, labels), labels)
            variables = self.generator.trainable_variables
            grads = _gradients(loss, variables)
            with torch.no_grad():
                self.generator_optimizer.apply(grads, variables)
        self.generator_iterations.assign_add(1)
        self.last_generator_loss.assign(loss.detach())
