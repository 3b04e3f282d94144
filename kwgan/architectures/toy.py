"""The MLPs of the WGAN-GP reference's `gan_toy.py`: 3 × 512 ReLU, no normalisation.

Hidden layers use He-uniform initialisation (tflib's 'he' Linear); the generator's output
layer is Glorot-uniform and linear. Parameter counts match the reference: generator
527,874, critic 527,361 (for 2-D data and a 2-D latent).
"""

from __future__ import annotations

import keras


def _mlp(
    input_dim: int, output_dim: int, dim: int, depth: int, name: str
) -> keras.Model:
    inputs = keras.Input((input_dim,), name=f"{name}_input")
    x = inputs
    for i in range(depth):
        x = keras.layers.Dense(
            dim, activation="relu", kernel_initializer="he_uniform", name=f"{name}_relu{i}"
        )(x)
    outputs = keras.layers.Dense(
        output_dim, kernel_initializer="glorot_uniform", name=f"{name}_out"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def toy_generator(
    latent_dim: int = 2, data_dim: int = 2, dim: int = 512, depth: int = 3
) -> keras.Model:
    """z [B, latent_dim] → x [B, data_dim]; linear output."""
    return _mlp(latent_dim, data_dim, dim, depth, name="generator")


def toy_critic(data_dim: int = 2, dim: int = 512, depth: int = 3) -> keras.Model:
    """x [B, data_dim] → one unbounded score per sample [B, 1]."""
    return _mlp(data_dim, 1, dim, depth, name="critic")
