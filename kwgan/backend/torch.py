"""The PyTorch training step: eager, with `torch.autograd.grad`.

The penalty's input gradient is taken with `create_graph=True` so the critic's weight
gradient can flow through it (double backward) — which is also why this step must never run
under `torch.compile` (aot_autograd cannot double-backward; `GAN.compile` refuses it).
Gradients are taken with `autograd.grad` on exactly the variables being updated, so nothing
accumulates in `.grad` between the critic's and the generator's updates.

The step reads two booleans on the host before it applies an update — whether the batch
passed the data checks and whether a generator iteration is due — in the one device sync a
step takes anyway. A batch that failed the checks is applied to nothing, and the
`forward_state` its critic iteration changed (noise seed, batch-norm statistics) is put
back from a copy taken at the start of the step: a few small tensors.
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
        forward_state = self.forward_state()
        before = [v.value.clone() for v in forward_state]  # updated in place below
        variables = self.critic.trainable_variables
        logs, grads = self._critic_gradients(real, labels, batch_size, variables)
        due, cycle_step = self.schedule_step(
            self.critic_cycle_step.value, self.generator_iterations.value
        )
        clean, due = torch.stack([self.batch_is_clean(data_logs), due]).tolist()
        if clean:
            with torch.no_grad():
                self.critic_optimizer.apply(grads, variables)
            self.critic_cycle_step.assign(cycle_step)
            if due:
                self._generator_iteration(batch_size)
            self.optimizer.iterations.assign_add(1)
        else:
            for variable, value in zip(forward_state, before, strict=True):
                variable.assign(value)
        return self.step_logs(
            logs, data_logs, self.last_generator_loss.value, self.generator_iterations.value
        )

    def _critic_gradients(self, real, labels, batch_size, variables):
        """The critic iteration's logs and its loss's gradients for `variables` (the
        critic's trainable ones), not yet applied."""
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
        grads = _gradients(loss, variables)
        return {k: v.detach() for k, v in logs.items()}, grads

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
        with torch.no_grad():
            self.update_average()
        self.last_generator_loss.assign(loss.detach())
