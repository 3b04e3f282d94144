"""The WGAN-GP gradient penalty, written once in `keras.ops`.

Only the gradient of the critic with respect to its input differs between backends
(a nested `GradientTape`, `jax.vjp`, `torch.autograd.grad(create_graph=True)`); the
interpolation and the penalty itself live here. Following the reference
(`gan_64x64.py`): one α ~ U[0, 1] per sample, x̂ = x + α(x̃ − x), the norm of ∇D(x̂) over
all non-batch axes, and λ·mean((‖∇D(x̂)‖ − 1)²); the one-sided variant of Appendix C
penalises only norms above 1. The norm is `sqrt(sum g² + ε)`: plain `sqrt` has an infinite
derivative at 0 and turns a zero input-gradient into NaN weights (keras-io #624).
"""

from __future__ import annotations

import keras
from keras import ops

EPSILON = 1e-12
PENALTIES = ("two-sided", "one-sided")


def interpolation_weights(batch_size, rank: int, seed):
    """One α ~ U[0, 1] per sample, shaped [B, 1, …, 1] to broadcast over a sample."""
    return keras.random.uniform((batch_size,) + (1,) * (rank - 1), seed=seed)


def interpolate(real, fake, alpha):
    """Points on the straight lines between paired real and generated samples."""
    real = ops.cast(real, "float32")
    return real + alpha * (ops.cast(fake, "float32") - real)


def gradient_norm(gradients):
    """Per-sample L2 norm over every non-batch axis, finite-gradient at 0."""
    gradients = ops.cast(gradients, "float32")
    axes = tuple(range(1, len(gradients.shape)))
    return ops.sqrt(ops.sum(ops.square(gradients), axis=axes) + EPSILON)


def gradient_penalty(gradients, kind: str = "two-sided"):
    """mean((‖g‖ − 1)²) (two-sided) or mean(max(0, ‖g‖ − 1)²) (one-sided), unweighted."""
    excess = gradient_norm(gradients) - 1.0
    if kind == "one-sided":
        excess = ops.relu(excess)
    return ops.mean(ops.square(excess))
