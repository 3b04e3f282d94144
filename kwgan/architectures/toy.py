"""The MLPs of the WGAN-GP reference's `gan_toy.py`: 3 × 512 ReLU, no normalisation.

Hidden layers use He-uniform initialisation (tflib's 'he' Linear); the generator's output
layer is Glorot-uniform and linear. Parameter counts match the reference: generator
527,874, critic 527,361 (for 2-D data and a 2-D latent).
"""

from __future__ import annotations

import keras
import numpy as np


def _mlp(input_dim: int, output_dim: int, dim: int, depth: int, name: str) -> keras.Model:
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


@keras.saving.register_keras_serializable(package="kwgan")
class NoisyTarget(keras.layers.Layer):
    """The WGAN-GP paper's fixed "generator" of Fig. 1a: real data + N(0, I) noise.

    Takes z of size `data_dim + 1`: the first `data_dim` entries are the Gaussian noise, the
    last picks a point of a bank of target samples (through the normal CDF, so a standard
    normal entry picks uniformly). The output is distributed as target + N(0, I) and is a
    pure function of z, so it trains under `GAN` like any generator — with no trainable
    weights, which makes `GAN` train the critic alone.
    """

    def __init__(self, bank, noise_std: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.bank_size, self.data_dim = int(len(bank)), int(bank.shape[1])
        self.noise_std = float(noise_std)
        self.bank = self.add_weight(
            shape=(self.bank_size, self.data_dim),
            initializer=keras.initializers.Constant(bank),
            trainable=False,
            name="bank",
        )

    def call(self, z):
        uniform = 0.5 * (1.0 + keras.ops.erf(z[:, -1] / 2.0**0.5))
        index = keras.ops.clip(
            keras.ops.cast(uniform * self.bank_size, "int32"), 0, self.bank_size - 1
        )
        return keras.ops.take(self.bank, index, axis=0) + self.noise_std * z[:, : self.data_dim]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.data_dim)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "bank": keras.ops.convert_to_numpy(self.bank).tolist(),
            "noise_std": self.noise_std,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["bank"] = np.asarray(config["bank"], "float32")
        return cls(**config)


def fixed_generator(bank, noise_std: float = 1.0) -> keras.Model:
    """z [B, data_dim + 1] → target sample + N(0, noise_std² I) (see `NoisyTarget`)."""
    z = keras.Input((bank.shape[1] + 1,), name="generator_input")
    return keras.Model(z, NoisyTarget(bank, noise_std, name="noisy_target")(z), name="generator")
