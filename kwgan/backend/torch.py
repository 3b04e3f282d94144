"""The PyTorch training step: eager, with `torch.autograd.grad`.

The penalty's input gradient is taken with `create_graph=True` so the critic's weight
gradient can flow through it (double backward) — which is also why this step must never run
under `torch.compile` (aot_autograd cannot double-backward; `GAN.compile` refuses it).
Gradients are taken with `autograd.grad` on exactly the variables being updated, so nothing
accumulates in `.grad` between the critic's and the generator's updates.
"""

import torch

from kwgan import penalties


def _gradients(loss, variables):
    values = [v.value for v in variables]
    grads = torch.autograd.grad(loss, values, allow_unused=True)
    return [torch.zeros_like(v) if g is None else g for g, v in zip(grads, values)]


class GANTrainer:
    def train_step(self, data):
        real = self.real_batch(data)
        batch_size = real.shape[0]
        logs = self._critic_iteration(real, batch_size)
        due, cycle_step = self.schedule_step(
            self.critic_cycle_step.value, self.generator_iterations.value
        )
        self.critic_cycle_step.assign(cycle_step)
        if bool(due):
            self._generator_iteration(batch_size)
        self.optimizer.iterations.assign_add(1)
        return {**logs, "g_loss": self.last_generator_loss.value}

    def _critic_iteration(self, real, batch_size):
        with torch.no_grad():
            fake = self.generator(self.noise(batch_size), training=True)
        real_scores = self.critic(real, training=True)
        fake_scores = self.critic(fake, training=True)
        input_gradients = None
        if self.gp_weight:
            alpha = self.interpolation_weights(batch_size)
            x_hat = penalties.interpolate(real, fake, alpha).detach().requires_grad_(True)
            scores = self.critic(x_hat, training=True).float()
            (input_gradients,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
        loss, logs = self.critic_loss(real_scores, fake_scores, input_gradients)
        variables = self.critic.trainable_variables
        grads = _gradients(loss, variables)
        with torch.no_grad():
            self.critic_optimizer.apply(grads, variables)
        return {k: v.detach() for k, v in logs.items()}

    def _generator_iteration(self, batch_size):
        loss = torch.zeros(())
        if self.trains_generator:
            fake = self.generator(self.noise(batch_size), training=True)
            loss = self.generator_loss(self.critic(fake, training=True))
            variables = self.generator.trainable_variables
            grads = _gradients(loss, variables)
            with torch.no_grad():
                self.generator_optimizer.apply(grads, variables)
        self.generator_iterations.assign_add(1)
        self.last_generator_loss.assign(loss.detach())
