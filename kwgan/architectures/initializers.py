"""The references' weight initialisations as Keras initialisers.

tflib (WGAN-GP code) draws every weight from U(±√3·σ), with σ set per op:

| op | σ |
|---|---|
| Linear, default / 'glorot' | √(2 / (fan_in + fan_out)), i.e. `GlorotUniform` |
| Linear, 'he' | √(2 / fan_in), i.e. `HeUniform` |
| Conv2D, he_init (default) | √(4 / (fan_in + fan_out)), fan_in = in·k², fan_out = out·k²/stride² |
| Conv2D, he_init=False | √(2 / (fan_in + fan_out)), same fans |
| Deconv2D (stride 2) | as Conv2D, with fan_in = in·k² / 4, fan_out = out·k² |
| any op after `set_weights_stdev(0.02)` | 0.02; the 64×64 DCGAN models use this |

Keras's fans ignore the stride and swap in/out for transposed kernels, so the conv σ is computed
here from the channel counts rather than expressed as a `VarianceScaling`. Biases start at zero
(Keras's default).

The WGAN repo (PyTorch) initialises Conv/ConvTranspose weights from N(0, 0.02) and BatchNorm γ
from N(1, 0.02) (`weights_init` in main.py). Its Linear layers keep PyTorch's default, U(±1/√fan_in)
for both weight and bias.
"""

from __future__ import annotations

import math

import keras

SCHEMES = ("tflib", "dcgan")
"""'tflib': tflib's per-op defaults. 'dcgan': U(±√3·0.02) everywhere (`set_weights_stdev(0.02)`)."""

DCGAN_STDDEV = 0.02


def uniform(stddev: float) -> keras.initializers.Initializer:
    """U(±√3·stddev): tflib's `uniform(stdev, size)`."""
    limit = math.sqrt(3.0) * stddev
    return keras.initializers.RandomUniform(-limit, limit)


def _check(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown initialisation scheme {scheme!r}; expected one of {SCHEMES}.")


def tflib_dense(scheme: str, *, he: bool = False) -> keras.initializers.Initializer:
    """`tflib.ops.linear.Linear`: Glorot (the default) or He ('he'), both uniform."""
    _check(scheme)
    if scheme == "dcgan":
        return uniform(DCGAN_STDDEV)
    return keras.initializers.HeUniform() if he else keras.initializers.GlorotUniform()


def tflib_conv(
    scheme: str,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    *,
    stride: int = 1,
    he: bool = True,
    transposed: bool = False,
) -> keras.initializers.Initializer:
    """`tflib.ops.conv2d.Conv2D` (or `deconv2d.Deconv2D` when `transposed`, always stride 2)."""
    _check(scheme)
    if scheme == "dcgan":
        return uniform(DCGAN_STDDEV)
    area = kernel_size**2
    if transposed:
        fan_in, fan_out = in_channels * area / 4, out_channels * area
    else:
        fan_in, fan_out = in_channels * area, out_channels * area / stride**2
    return uniform(math.sqrt((4.0 if he else 2.0) / (fan_in + fan_out)))


def torch_conv() -> keras.initializers.Initializer:
    """N(0, 0.02): the WGAN repo's `weights_init` for Conv2d and ConvTranspose2d."""
    return keras.initializers.RandomNormal(0.0, 0.02)


def torch_batchnorm_gamma() -> keras.initializers.Initializer:
    """N(1, 0.02): the WGAN repo's `weights_init` for BatchNorm weights."""
    return keras.initializers.RandomNormal(1.0, 0.02)


def torch_linear(fan_in: int) -> keras.initializers.Initializer:
    """U(±1/√fan_in): PyTorch's default `nn.Linear` init of both the weight and the bias."""
    limit = 1.0 / math.sqrt(fan_in)
    return keras.initializers.RandomUniform(-limit, limit)
