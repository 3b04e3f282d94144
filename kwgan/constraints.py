"""Weight clipping, the WGAN paper's way of keeping the critic K-Lipschitz.

Keras has no clip constraint (MaxNorm, MinMaxNorm, NonNeg and UnitNorm only), and layer
arguments such as `kernel_constraint` leave biases and normalisation parameters free. The
WGAN reference clamps *every* critic parameter, so `clip_critic` attaches a `WeightClip` to
every trainable critic variable: Keras optimizers apply `variable.constraint` right after
each update on all three backends (inside `stateless_apply` on JAX too), which is exactly
the paper's "clip after each gradient update".
"""

from __future__ import annotations

import keras
from keras import ops

from kwgan.errors import ConfigError


@keras.saving.register_keras_serializable(package="kwgan")
class WeightClip(keras.constraints.Constraint):
    """Clips every entry of a variable to `[-clip_value, clip_value]`."""

    def __init__(self, clip_value: float = 0.01):
        if clip_value <= 0:
            raise ConfigError(f"clip_value must be positive, got {clip_value}.")
        self.clip_value = float(clip_value)

    def __call__(self, w):
        return ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self) -> dict:
        return {"clip_value": self.clip_value}


def clip_critic(critic: keras.Model, clip_value: float | None) -> None:
    """Attaches `WeightClip(clip_value)` to every trainable variable of `critic`.

    `clip_value=None` removes the clips this function attached earlier (so recompiling a
    model from `wgan` to `wgan-gp` really stops clipping) and leaves user constraints alone.
    """
    for variable in critic.trainable_variables:
        if clip_value is not None:
            variable.constraint = WeightClip(clip_value)
        elif isinstance(variable.constraint, WeightClip):
            variable.constraint = None
