"""Per-backend training steps, selected once at import time as Keras selects its trainers.

Each module defines `GANTrainer`, a subclass of `kwgan.trainer.Trainer` implementing its
`train_step` in that backend's idiom. They share one interface, the backend-neutral pieces
of `Trainer` (`real_batch`, `noise`, `interpolation_weights`, `critic_loss`,
`generator_loss`, `schedule_step`, `step_logs`), and differ only in how gradients are taken
and state is updated.
"""

import keras

_BACKEND = keras.backend.backend()

if _BACKEND == "tensorflow":
    from kwgan.backend.tensorflow import GANTrainer
elif _BACKEND == "jax":
    from kwgan.backend.jax import GANTrainer
elif _BACKEND == "torch":
    from kwgan.backend.torch import GANTrainer
else:
    raise ImportError(
        f"kwgan supports the tensorflow, jax and torch Keras backends, not {_BACKEND!r}. "
        "Set KERAS_BACKEND to one of them."
    )

__all__ = ["GANTrainer"]
