"""DCGAN-style networks of the WGAN-GP paper's 64×64 experiments (`gan_64x64.py`).

The paper's LSUN robustness study (§5.2, Fig. 2) trains a DCGAN baseline and variants of it.
Most of the variants share one skeleton, so `conv_generator` and `conv_critic` build that
skeleton, and the public builders set its options the way each reference function does:

| builder | reference function |
|---|---|
| `dcgan_generator`, `dcgan_critic` | `DCGANGenerator`, `DCGANDiscriminator` (bn, nonlinearity) |
| `crippled_dcgan_generator` | `WGANPaper_CrippledDCGANGenerator`: no BN, constant width |
| `gated_dcgan_generator`, `gated_dcgan_critic` | `MultiplicativeDCGANGenerator`/`Discriminator` |
| `fc_generator` | `FCGenerator`: 4 × 512 ReLU MLP, tanh output |

The CIFAR-10 and MNIST DCGANs (`cifar.py`, `mnist.py`) reuse the same skeleton.

Skeleton, for a 64×64 image and width `dim`:
- generator: z → Linear → 4×4×8·dim → [norm] → act → 4 × (Deconv 5×5 stride 2), halving the
  width each time (8, 4, 2, 1 ·dim, then `channels`), each hidden one followed by [norm] → act;
  output nonlinearity (tanh).
- critic: 4 × (Conv 5×5 stride 2) widening dim, 2, 4, 8 ·dim, each followed by [norm] (not on
  the first) → act; flatten → Linear → 1 score.

Other sizes get one stage per halving down to 4×4 (see `sizes.halving_plan`), so the width at
4×4 is dim·2^(stages−1), as in the reference at 64×64 (8·dim) and at 32×32 (`gan_cifar.py`,
4·dim). A generator deconv that overshoots its target size is cropped, as in `gan_mnist.py`.

Every builder but the MLP `fc_generator` takes `data_format` ("channels_last",
"channels_first", or None for `layout.default_data_format()`): the layout of the feature maps
inside the network. Images are (H, W, C) at the network's edges in both.
"""

from __future__ import annotations

import keras

from kwgan.architectures.initializers import tflib_conv, tflib_dense
from kwgan.architectures.layers import activation as activation_layer
from kwgan.architectures.layers import normalize
from kwgan.architectures.layout import feature_map, from_nhwc, num_channels, resolve, to_nhwc
from kwgan.architectures.sizes import halving_plan


def conv_generator(
    *,
    image_size: int,
    channels: int,
    latent_dim: int,
    dim: int,
    norm: str | None,
    activation: str = "relu",
    init: str = "dcgan",
    constant_width: bool = False,
    dense_norm: bool = False,
    output_activation: str = "tanh",
    kernel_size: int = 5,
    arch: str = "DCGANGenerator",
    data_format: str | None = None,
) -> keras.Model:
    """The DCGAN-style generator skeleton; z (latent_dim,) → image (H, W, channels).

    `norm`: "batch", "layer" or None. `activation`: relu, leaky_relu, tanh or gated (a gated
    layer produces twice the channels and `GatedActivation` halves them again). `init`: "dcgan"
    (U(±√3·0.02)) or "tflib" (tflib's defaults). `constant_width`: every hidden layer has `dim`
    channels instead of the halving pyramid. `dense_norm`: normalise the Linear output per
    feature before reshaping it (tflib's BN over axis [0] in gan_cifar.py and gan_mnist.py)
    instead of per channel after it. `arch` names the network in size errors.
    """
    data_format = resolve(data_format)
    sizes = halving_plan(image_size, arch=arch)
    stages = len(sizes) - 1
    widths = [dim if constant_width else dim * 2 ** (stages - 1 - i) for i in range(stages)]
    gate = 2 if activation == "gated" else 1

    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(
        4 * 4 * widths[0] * gate, kernel_initializer=tflib_dense(init), name="input"
    )(z)
    if dense_norm:
        x = normalize(x, norm, name="norm1", data_format=data_format)
    x = feature_map(x, 4, widths[0] * gate, data_format, name="reshape")
    if not dense_norm:
        x = normalize(x, norm, name="norm1", data_format=data_format)
    x = activation_layer(activation, name="act1", data_format=data_format)(x)

    for i in range(stages):
        last = i == stages - 1
        filters = channels if last else widths[i + 1] * gate
        x = keras.layers.Conv2DTranspose(
            filters,
            kernel_size,
            strides=2,
            padding="same",
            kernel_initializer=tflib_conv(
                init, num_channels(x, data_format), filters, kernel_size, transposed=True
            ),
            data_format=data_format,
            name=f"deconv{i + 2}",
        )(x)
        if not last:
            x = normalize(x, norm, name=f"norm{i + 2}", data_format=data_format)
            x = activation_layer(activation, name=f"act{i + 2}", data_format=data_format)(x)
        x = crop(x, 2 * sizes[stages - i], sizes[stages - 1 - i], data_format, name=f"crop{i + 2}")
    x = activation_layer(output_activation, name="output")(x)
    return keras.Model(z, to_nhwc(x, data_format), name="generator")


def crop(
    x: keras.KerasTensor, size: int, target: int, data_format: str, *, name: str
) -> keras.KerasTensor:
    """The size×size map `x` cropped to target×target at its bottom and right, as gan_mnist.py
    slices its 8×8 deconv output to 7×7; `x` itself if it has the target size."""
    excess = size - target
    if not excess:
        return x
    cropping = ((0, excess), (0, excess))
    return keras.layers.Cropping2D(cropping, data_format=data_format, name=name)(x)


def conv_critic(
    *,
    image_size: int,
    channels: int,
    dim: int,
    norm: str | None,
    activation: str = "leaky_relu",
    init: str = "dcgan",
    kernel_size: int = 5,
    arch: str = "DCGANDiscriminator",
    data_format: str | None = None,
) -> keras.Model:
    """The DCGAN-style critic skeleton; image (H, W, channels) → score (1,), no sigmoid.

    There is no normalisation after the first conv, as in every reference critic. The
    arguments are those of `conv_generator`.
    """
    data_format = resolve(data_format)
    sizes = halving_plan(image_size, arch=arch)
    gate = 2 if activation == "gated" else 1

    images = keras.Input((image_size, image_size, channels), name="images")
    x = from_nhwc(images, data_format, name="nchw")
    for i in range(len(sizes) - 1):
        filters = dim * 2**i * gate
        x = keras.layers.Conv2D(
            filters,
            kernel_size,
            strides=2,
            padding="same",
            kernel_initializer=tflib_conv(
                init, num_channels(x, data_format), filters, kernel_size, stride=2
            ),
            data_format=data_format,
            name=f"conv{i + 1}",
        )(x)
        if i:
            x = normalize(x, norm, name=f"norm{i + 1}", data_format=data_format)
        x = activation_layer(activation, name=f"act{i + 1}", data_format=data_format)(x)
    x = keras.layers.Flatten(data_format=data_format, name="flatten")(x)
    score = keras.layers.Dense(1, kernel_initializer=tflib_dense(init), name="score")(x)
    return keras.Model(images, score, name="critic")


def dcgan_generator(
    *,
    image_size: int = 64,
    channels: int = 3,
    latent_dim: int = 128,
    dim: int = 64,
    norm: str | None = "batch",
    activation: str = "relu",
    data_format: str | None = None,
) -> keras.Model:
    """`DCGANGenerator(bn, nonlinearity)` of gan_64x64.py, all weights U(±√3·0.02).

    The paper's baseline (norm "batch", relu), "no normalization" (norm None) and "tanh
    nonlinearities everywhere" (activation "tanh") generators. At 64×64, dim 64 and latent 128
    it has 5,364,739 parameters.
    """
    return conv_generator(
        image_size=image_size,
        channels=channels,
        latent_dim=latent_dim,
        dim=dim,
        norm=norm,
        activation=activation,
        init="dcgan",
        arch="DCGANGenerator",
        data_format=data_format,
    )


def dcgan_critic(
    *,
    image_size: int = 64,
    channels: int = 3,
    dim: int = 64,
    norm: str | None = "layer",
    activation: str = "leaky_relu",
    data_format: str | None = None,
) -> keras.Model:
    """`DCGANDiscriminator(bn, nonlinearity)` of gan_64x64.py, all weights U(±√3·0.02).

    Its `Normalize` is layer norm under wgan-gp and batch norm otherwise; both have a γ and β
    per channel, so at 64×64×3 and dim 64 the critic has 4,316,545 parameters either way
    (4,314,753 with norm None).
    """
    return conv_critic(
        image_size=image_size,
        channels=channels,
        dim=dim,
        norm=norm,
        activation=activation,
        init="dcgan",
        arch="DCGANDiscriminator",
        data_format=data_format,
    )


def crippled_dcgan_generator(
    *,
    image_size: int = 64,
    channels: int = 3,
    latent_dim: int = 128,
    dim: int = 64,
    data_format: str | None = None,
) -> keras.Model:
    """`WGANPaper_CrippledDCGANGenerator`: no normalisation and `dim` filters in every layer.

    The WGAN paper's Fig. 6 generator ("a bit more than an order of magnitude" fewer parameters
    than the DCGAN generator: 444,291 against 5,364,739 at 64×64). The WGAN repo has no such
    option, so this follows the WGAN-GP code, with tflib's default initialisation.
    """
    return conv_generator(
        image_size=image_size,
        channels=channels,
        latent_dim=latent_dim,
        dim=dim,
        norm=None,
        init="tflib",
        constant_width=True,
        arch="WGANPaper_CrippledDCGANGenerator",
        data_format=data_format,
    )


def gated_dcgan_generator(
    *,
    image_size: int = 64,
    channels: int = 3,
    latent_dim: int = 128,
    dim: int = 64,
    norm: str | None = "batch",
    data_format: str | None = None,
) -> keras.Model:
    """`MultiplicativeDCGANGenerator`: DCGAN with gated units sigmoid(a)·tanh(b).

    Every hidden layer produces twice its width, is normalised, then gated. Unlike the plain
    DCGAN it keeps tflib's default (He) initialisation.
    """
    return conv_generator(
        image_size=image_size,
        channels=channels,
        latent_dim=latent_dim,
        dim=dim,
        norm=norm,
        activation="gated",
        init="tflib",
        arch="MultiplicativeDCGANGenerator",
        data_format=data_format,
    )


def gated_dcgan_critic(
    *,
    image_size: int = 64,
    channels: int = 3,
    dim: int = 64,
    norm: str | None = "layer",
    data_format: str | None = None,
) -> keras.Model:
    """`MultiplicativeDCGANDiscriminator`: the DCGAN critic with gated units, tflib init."""
    return conv_critic(
        image_size=image_size,
        channels=channels,
        dim=dim,
        norm=norm,
        activation="gated",
        init="tflib",
        arch="MultiplicativeDCGANDiscriminator",
        data_format=data_format,
    )


def fc_generator(
    *,
    image_size: int = 64,
    channels: int = 3,
    latent_dim: int = 128,
    dim: int = 512,
    depth: int = 4,
) -> keras.Model:
    """`FCGenerator`: `depth` ReLU layers of `dim` units (He init), Linear (Glorot), tanh.

    The WGAN-GP paper's "512-dim 4-layer ReLU MLP generator". It differs from the WGAN repo's
    `MLP_G` (`wgan_repo.wgan_mlp_generator`), which has 3 hidden layers and no output tanh.
    """
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i in range(depth):
        x = keras.layers.Dense(
            dim, activation="relu", kernel_initializer="he_uniform", name=f"relu{i + 1}"
        )(x)
    x = keras.layers.Dense(
        image_size * image_size * channels,
        activation="tanh",
        kernel_initializer="glorot_uniform",
        name="output",
    )(x)
    outputs = keras.layers.Reshape((image_size, image_size, channels), name="image")(x)
    return keras.Model(z, outputs, name="generator")
