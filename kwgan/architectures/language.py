"""The 1-D convolutional ResNets of the WGAN-GP character language model (§5.5).

`Generator` and `Discriminator` of the reference's `gan_language.py`, channels-last:

* generator: z [B, 128] → Linear → [B, 32, dim] → 5 residual blocks → 1×1 conv to the
  vocabulary → softmax over characters. There is no sampling step: the critic sees the
  softmax output itself, a point inside the simplex, against one-hot real text; samples
  are read off by argmax.
* critic: one-hot [B, 32, V] → 1×1 conv to dim → 5 residual blocks → flatten → Linear → 1.
* residual block (`ResBlock`): x + 0.3 · conv(relu(conv(relu(x)))), kernel 5, 'same'
  padding, biases, no normalisation.

The paper's width is `dim=512`. Weights follow tflib: convolutions U(±√3·σ) with
σ = √(4 / (fan_in + fan_out)), fan_in = in·k, fan_out = out·k (`tflib/ops/conv1d.py`, He
init), Linear layers Glorot-uniform, biases zero. The reference's NCW reshape and flatten
order the Linear units differently from channels-last; that permutes i.i.d. weights, so
the networks and their initial distribution are the same.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from kwgan.architectures.initializers import uniform

RESIDUAL_SCALE = 0.3  # gan_language.py's ResBlock: inputs + 0.3 * output
KERNEL_SIZE = 5
BLOCKS = 5


def _conv(in_channels: int, out_channels: int, kernel_size: int, name: str) -> keras.layers.Layer:
    """`tflib.ops.conv1d.Conv1D` with its default He initialisation."""
    fans = (in_channels + out_channels) * kernel_size
    return keras.layers.Conv1D(
        out_channels,
        kernel_size,
        padding="same",
        kernel_initializer=uniform(math.sqrt(4.0 / fans)),
        name=name,
    )


def residual_block_1d(x: Any, name: str) -> Any:
    """`ResBlock`: x + 0.3 · conv2(relu(conv1(relu(x)))), both convs dim → dim, kernel 5."""
    dim = x.shape[-1]
    y = keras.layers.ReLU(name=f"{name}_relu1")(x)
    y = _conv(dim, dim, KERNEL_SIZE, f"{name}_conv1")(y)
    y = keras.layers.ReLU(name=f"{name}_relu2")(y)
    y = _conv(dim, dim, KERNEL_SIZE, f"{name}_conv2")(y)
    y = keras.layers.Rescaling(RESIDUAL_SCALE, name=f"{name}_scale")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def language_generator(
    vocab_size: int,
    seq_len: int = 32,
    dim: int = 512,
    latent_dim: int = 128,
    blocks: int = BLOCKS,
) -> keras.Model:
    """z [B, latent_dim] → character distributions [B, seq_len, vocab_size] (softmax)."""
    z = keras.Input((latent_dim,), name="generator_input")
    x = keras.layers.Dense(
        seq_len * dim, kernel_initializer="glorot_uniform", name="generator_linear"
    )(z)
    x = keras.layers.Reshape((seq_len, dim), name="generator_reshape")(x)
    for i in range(blocks):
        x = residual_block_1d(x, f"generator_block{i + 1}")
    x = _conv(dim, vocab_size, 1, "generator_output")(x)
    x = keras.layers.Softmax(axis=-1, name="generator_softmax")(x)
    return keras.Model(z, x, name="generator")


def language_critic(
    vocab_size: int, seq_len: int = 32, dim: int = 512, blocks: int = BLOCKS
) -> keras.Model:
    """One-hot (or softmax) text [B, seq_len, vocab_size] → one unbounded score [B, 1]."""
    text = keras.Input((seq_len, vocab_size), name="critic_input")
    x = _conv(vocab_size, dim, 1, "critic_input_conv")(text)
    for i in range(blocks):
        x = residual_block_1d(x, f"critic_block{i + 1}")
    x = keras.layers.Flatten(name="critic_flatten")(x)
    score = keras.layers.Dense(1, kernel_initializer="glorot_uniform", name="critic_output")(x)
    return keras.Model(text, score, name="critic")
