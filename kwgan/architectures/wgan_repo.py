"""The WGAN repo's networks (`martinarjovsky/WassersteinGAN`, models/dcgan.py and mlp.py).

| builder | reference class |
|---|---|
| `wgan_dcgan_generator` | `DCGAN_G`; `norm=None` gives `DCGAN_G_nobn` (the `--noBN` flag) |
| `wgan_dcgan_critic` | `DCGAN_D` (`DCGAN_D_nobn` with `norm=None`, unused by main.py) |
| `wgan_mlp_generator` | `MLP_G` (`--mlp_G`): 3 ReLU layers, linear output, no tanh |
| `wgan_mlp_critic` | `MLP_D` (`--mlp_D`) |

Faithful to the PyTorch code: 4×4 kernels, no conv bias, conv weights N(0, 0.02), BatchNorm γ
N(1, 0.02) and β 0 (`weights_init`), PyTorch's default init for the Linear layers, and the
`n_extra_layers` 3×3 conv layers. Parameter counts at 64×64×3, nz 100, ngf = ndf = 64:
DCGAN_G 3,576,704 (3,574,784 without BN), DCGAN_D 2,765,568; MLP_G (ngf 512) 6,880,768,
MLP_D (ndf 512) 6,817,793.

Two deliberate differences: the critic returns one score per example, (B, 1), where the
reference returns the batch mean; and images are NHWC, so MLP_G's output units are reshaped to
(H, W, C) rather than (C, H, W), a permutation of the same layer. The DCGAN pair takes
`data_format` (see `layout.py`) and keeps NHWC images at its edges in both layouts; the MLPs
have no feature maps to lay out.
"""

from __future__ import annotations

import functools

import keras

from kwgan.architectures.initializers import torch_batchnorm_gamma, torch_conv, torch_linear
from kwgan.architectures.layers import normalize
from kwgan.architectures.layout import feature_map, from_nhwc, resolve, to_nhwc
from kwgan.architectures.sizes import doubling_stages


def _conv(
    filters: int, kernel_size: int, strides: int, padding: str, name: str, data_format: str
) -> keras.layers.Layer:
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        use_bias=False,
        kernel_initializer=torch_conv(),
        data_format=data_format,
        name=name,
    )


def _deconv(
    filters: int, strides: int, padding: str, name: str, data_format: str
) -> keras.layers.Layer:
    return keras.layers.Conv2DTranspose(
        filters,
        4,
        strides=strides,
        padding=padding,
        use_bias=False,
        kernel_initializer=torch_conv(),
        data_format=data_format,
        name=name,
    )


def _norm(x, norm: str | None, name: str, data_format: str):
    """BN (or its layer-norm stand-in) with γ ~ N(1, 0.02), as `weights_init` sets BatchNorm."""
    return normalize(
        x, norm, name=name, gamma_initializer=torch_batchnorm_gamma(), data_format=data_format
    )


def wgan_dcgan_generator(
    *,
    image_size: int = 64,
    channels: int = 3,
    latent_dim: int = 100,
    dim: int = 64,
    n_extra_layers: int = 0,
    norm: str | None = "batch",
    data_format: str | None = None,
) -> keras.Model:
    """`DCGAN_G(isize, nz, nc, ngf, ngpu, n_extra_layers)`; `DCGAN_G_nobn` with norm None.

    z → ConvT 4×4 (1×1 → 4×4) to ngf·isize/8 channels → BN → ReLU → ConvT 4×4 stride 2
    halving the channels up to isize/2 → `n_extra_layers` × (Conv 3×3, BN, ReLU) → ConvT 4×4
    stride 2 to `channels` → tanh. PyTorch's padding 1 on the stride-2 4×4 convs equals 'same'.
    """
    stages = doubling_stages(image_size, arch="DCGAN_G", smallest=16)
    data_format = resolve(data_format)
    deconv = functools.partial(_deconv, data_format=data_format)
    width = dim // 2 * 2**stages

    def norm_relu(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
        x = _norm(x, norm, name=f"{name}_norm", data_format=data_format)
        return keras.layers.ReLU(name=f"{name}_relu")(x)

    z = keras.Input((latent_dim,), name="z")
    x = feature_map(z, 1, latent_dim, data_format, name="reshape")
    x = norm_relu(deconv(width, 1, "valid", name="initial_convt")(x), "initial")
    size = 4
    while size < image_size // 2:
        width //= 2
        size *= 2
        x = norm_relu(deconv(width, 2, "same", name=f"pyramid{size}_convt")(x), f"pyramid{size}")
    for t in range(n_extra_layers):
        x = _conv(width, 3, 1, "same", name=f"extra{t}_conv", data_format=data_format)(x)
        x = norm_relu(x, f"extra{t}")
    x = deconv(channels, 2, "same", name="final_convt")(x)
    x = keras.layers.Activation("tanh", name="output")(x)
    return keras.Model(z, to_nhwc(x, data_format), name="generator")


def wgan_dcgan_critic(
    *,
    image_size: int = 64,
    channels: int = 3,
    dim: int = 64,
    n_extra_layers: int = 0,
    norm: str | None = "batch",
    data_format: str | None = None,
) -> keras.Model:
    """`DCGAN_D(isize, nz, nc, ndf, ngpu, n_extra_layers)`; `DCGAN_D_nobn` with norm None.

    Conv 4×4 stride 2 to ndf → LeakyReLU(0.2) (no norm on the first layer) →
    `n_extra_layers` × (Conv 3×3, norm, LeakyReLU) → Conv 4×4 stride 2 doubling the channels
    down to 4×4, each with norm and LeakyReLU → Conv 4×4 valid to 1 → one score, no sigmoid.
    The repo has no gradient penalty; for WGAN-GP, `norm="layer"` swaps BN for the per-channel
    layer norm, as the WGAN-GP paper does, without changing the parameter count.
    """
    doubling_stages(image_size, arch="DCGAN_D", smallest=16)
    data_format = resolve(data_format)
    conv = functools.partial(_conv, data_format=data_format)

    def norm_lrelu(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
        x = _norm(x, norm, name=f"{name}_norm", data_format=data_format)
        return keras.layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)

    images = keras.Input((image_size, image_size, channels), name="images")
    x = conv(dim, 4, 2, "same", name="initial_conv")(from_nhwc(images, data_format, name="nchw"))
    x = keras.layers.LeakyReLU(0.2, name="initial_lrelu")(x)
    width, size = dim, image_size // 2
    for t in range(n_extra_layers):
        x = norm_lrelu(conv(width, 3, 1, "same", name=f"extra{t}_conv")(x), f"extra{t}")
    while size > 4:
        width *= 2
        size //= 2
        x = norm_lrelu(conv(width, 4, 2, "same", name=f"pyramid{size}_conv")(x), f"pyramid{size}")
    x = conv(1, 4, 1, "valid", name="final_conv")(x)
    score = keras.layers.Flatten(data_format=data_format, name="score")(x)
    return keras.Model(images, score, name="critic")


def _torch_dense(units: int, fan_in: int, name: str, activation: str | None = None):
    return keras.layers.Dense(
        units,
        activation=activation,
        kernel_initializer=torch_linear(fan_in),
        bias_initializer=torch_linear(fan_in),
        name=name,
    )


def wgan_mlp_generator(
    *, image_size: int = 64, channels: int = 3, latent_dim: int = 100, dim: int = 512
) -> keras.Model:
    """`MLP_G`: Linear(nz→ngf), ReLU, 2 × (Linear(ngf→ngf), ReLU), Linear(ngf→C·H·W).

    No output nonlinearity, as in the reference (its git history never had a tanh). The repo's
    README trains it with `--ngf 512`.
    """
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i in range(3):
        x = _torch_dense(dim, x.shape[-1], name=f"relu{i + 1}", activation="relu")(x)
    x = _torch_dense(image_size * image_size * channels, dim, name="output")(x)
    outputs = keras.layers.Reshape((image_size, image_size, channels), name="image")(x)
    return keras.Model(z, outputs, name="generator")


def wgan_mlp_critic(*, image_size: int = 64, channels: int = 3, dim: int = 512) -> keras.Model:
    """`MLP_D`: Linear(C·H·W→ndf), ReLU, 2 × (Linear(ndf→ndf), ReLU), Linear(ndf→1)."""
    images = keras.Input((image_size, image_size, channels), name="images")
    x = keras.layers.Flatten(name="flatten")(images)
    for i in range(3):
        x = _torch_dense(dim, x.shape[-1], name=f"relu{i + 1}", activation="relu")(x)
    score = _torch_dense(1, dim, name="score")(x)
    return keras.Model(images, score, name="critic")
