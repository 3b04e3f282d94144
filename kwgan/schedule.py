"""How many critic iterations precede each generator iteration.

The WGAN repo (main.py lines 163-166, the one addition its README says is missing from the
paper) trains the critic for 100 iterations before each of the first 25 generator
iterations and before every 500th, so the critic starts, and regularly returns, near its
optimum; otherwise it uses `critic_steps` (5). `CriticSchedule` reproduces that, with the
warm-up switchable off for the other objectives.

The rule is written once, in `critic_steps_at`, with `keras.ops`: the compiled train step
evaluates it on the generator-iteration counter (a tensor there), and `steps_before` and
`total_critic_steps`, which size `fit` in generator iterations, evaluate it eagerly on an
array of iteration numbers.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from kwgan.errors import ConfigError, check_positive_int


@keras.saving.register_keras_serializable(package="kwgan")
class CriticSchedule:
    """Critic iterations per generator iteration.

    Args:
        critic_steps: the regular number (the papers' n_critic).
        warmup_steps: critic iterations during warm-up; `0` disables the warm-up.
        warmup_iterations: the first this-many generator iterations are warm-up ones.
        warmup_every: every generator iteration divisible by this is a warm-up one too.
    """

    def __init__(
        self,
        critic_steps: int = 5,
        warmup_steps: int = 0,
        warmup_iterations: int = 25,
        warmup_every: int = 500,
    ):
        check_positive_int(critic_steps, "critic_steps")
        check_positive_int(warmup_iterations, "warmup_iterations")
        check_positive_int(warmup_every, "warmup_every")
        if int(warmup_steps) != warmup_steps or warmup_steps < 0:
            raise ConfigError(f"warmup_steps must be a non-negative integer, got {warmup_steps!r}.")
        self.critic_steps = int(critic_steps)
        self.warmup_steps = int(warmup_steps)
        self.warmup_iterations = int(warmup_iterations)
        self.warmup_every = int(warmup_every)

    @classmethod
    def wgan(cls, critic_steps: int = 5) -> CriticSchedule:
        """The WGAN repo's schedule: 100 critic iterations for g < 25 and g % 500 == 0."""
        return cls(critic_steps, warmup_steps=100)

    def _is_warmup(self, generator_iteration):
        return ops.logical_or(
            generator_iteration < self.warmup_iterations,
            generator_iteration % self.warmup_every == 0,
        )

    def critic_steps_at(self, generator_iteration):
        """Critic iterations before generator iteration `generator_iteration` (a tensor, or
        an array of iterations)."""
        steps = ops.full_like(generator_iteration, self.critic_steps, "int32")
        if not self.warmup_steps:
            return steps
        return ops.where(self._is_warmup(generator_iteration), self.warmup_steps, steps)

    def steps_before(self, generator_iteration: int) -> int:
        """`critic_steps_at` for one generator iteration, as a Python int."""
        return self.total_critic_steps(1, start=generator_iteration)

    def total_critic_steps(self, generator_iterations: int, start: int = 0) -> int:
        """Critic iterations (= `fit` steps) that train generator iterations [start, start + n)."""
        if generator_iterations <= 0:
            return 0
        iterations = np.arange(start, start + generator_iterations, dtype="int64")
        return int(ops.convert_to_numpy(ops.sum(self.critic_steps_at(iterations))))

    def get_config(self) -> dict:
        return {
            "critic_steps": self.critic_steps,
            "warmup_steps": self.warmup_steps,
            "warmup_iterations": self.warmup_iterations,
            "warmup_every": self.warmup_every,
        }

    @classmethod
    def from_config(cls, config: dict) -> CriticSchedule:
        return cls(**config)
