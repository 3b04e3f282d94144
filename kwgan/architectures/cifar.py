"""The WGAN-GP code's CIFAR-10 networks, 32×32 by default.

| builder | reference |
|---|---|
| `cifar_dcgan_generator`, `_critic` | gan_cifar.py `Generator`, `Discriminator` |
| `cifar_resnet_generator`, `_critic` | gan_cifar_resnet.py `Generator`, `Discriminator` |

The DCGAN pair is the DCGAN skeleton of `dcgan.py` with tflib's default initialisation, BN on
the Linear output per feature (axis [0]), and no critic normalisation under wgan-gp (batch norm
in the other modes).

The ResNet is the Table 3 model: 7.86 Inception score unconditional, 8.42 with AC-GAN. With
`conditional=True` the generator takes `[z, labels]` and every residual-block norm is a
`ConditionalBatchNorm` (the output norm stays unconditional, as in the reference). With
`acgan=True` the critic returns `[score, class_logits]`. The reference script defaults to
both, i.e. the supervised model; here both default to off so that the pair follows the
library's (z → image, image → score) convention. Parameter counts at 32×32×3, dim 128:
generator 1,204,483 (1,218,307 conditional), critic 1,053,825 (1,055,115 with the AC-GAN head).
Every builder takes `data_format` (see `layout.py`); images are (H, W, C) outside in both.
"""

from __future__ import annotations

import keras

from kwgan.architectures.dcgan import conv_critic, conv_generator
from kwgan.architectures.initializers import tflib_conv, tflib_dense
from kwgan.architectures.layers import ConvMeanPool, MeanPoolConv, normalize
from kwgan.architectures.layout import feature_map, from_nhwc, resolve, to_nhwc
from kwgan.architectures.resnet import residual_block
from kwgan.architectures.sizes import doubling_stages


def cifar_dcgan_generator(
    *,
    image_size: int = 32,
    channels: int = 3,
    latent_dim: int = 128,
    dim: int = 128,
    norm: str | None = "batch",
    data_format: str | None = None,
) -> keras.Model:
    """gan_cifar.py `Generator`: z → Linear → BN → ReLU → 4×4×4·dim → Deconv 5×5 s2 (2·dim,
    dim, channels) with BN and ReLU between → tanh. The script uses DIM 128 and remarks that 64
    overfits less."""
    return conv_generator(
        image_size=image_size,
        channels=channels,
        latent_dim=latent_dim,
        dim=dim,
        norm=norm,
        init="tflib",
        dense_norm=True,
        arch="gan_cifar Generator",
        data_format=data_format,
    )


def cifar_dcgan_critic(
    *,
    image_size: int = 32,
    channels: int = 3,
    dim: int = 128,
    norm: str | None = None,
    data_format: str | None = None,
) -> keras.Model:
    """gan_cifar.py `Discriminator`: Conv 5×5 s2 (dim, 2·dim, 4·dim) with LeakyReLU(0.2),
    normalised from the second conv on (batch norm unless the mode is wgan-gp) → Linear → 1."""
    return conv_critic(
        image_size=image_size,
        channels=channels,
        dim=dim,
        norm=norm,
        init="tflib",
        arch="gan_cifar Discriminator",
        data_format=data_format,
    )


def cifar_resnet_generator(
    *,
    image_size: int = 32,
    channels: int = 3,
    latent_dim: int = 128,
    dim: int = 128,
    norm: str | None = "batch",
    conditional: bool = False,
    num_classes: int = 10,
    data_format: str | None = None,
) -> keras.Model:
    """gan_cifar_resnet.py `Generator`: z → Linear → 4×4×dim → 3 up blocks of width dim →
    BN → ReLU → Conv 3×3 (Glorot) → tanh. Inputs `[z, labels]` when `conditional`."""
    data_format = resolve(data_format)
    stages = doubling_stages(image_size, arch="gan_cifar_resnet Generator")
    z = keras.Input((latent_dim,), name="z")
    labels = keras.Input((), dtype="int32", name="labels") if conditional else None
    x = keras.layers.Dense(16 * dim, kernel_initializer=tflib_dense("tflib"), name="input")(z)
    x = feature_map(x, 4, dim, data_format, name="reshape")
    for i in range(stages):
        x = residual_block(
            x,
            dim,
            "up",
            norm=norm,
            labels=labels,
            num_classes=num_classes,
            conv1_bias=True,
            name=f"res{i + 1}",
            data_format=data_format,
        )
    x = normalize(x, norm, name="output_norm", data_format=data_format)
    x = keras.layers.ReLU(name="output_relu")(x)
    x = keras.layers.Conv2D(
        channels,
        3,
        padding="same",
        kernel_initializer=tflib_conv("tflib", dim, channels, 3, he=False),
        data_format=data_format,
        name="output_conv",
    )(x)
    x = keras.layers.Activation("tanh", name="output")(x)
    inputs = [z, labels] if conditional else z
    return keras.Model(inputs, to_nhwc(x, data_format), name="generator")


def cifar_resnet_critic(
    *,
    image_size: int = 32,
    channels: int = 3,
    dim: int = 128,
    norm: str | None = None,
    acgan: bool = False,
    num_classes: int = 10,
    data_format: str | None = None,
) -> keras.Model:
    """gan_cifar_resnet.py `Discriminator`: `OptimizedResBlockDisc1` (32→16) → down block (→8)
    → 2 blocks → ReLU → mean over H, W → Linear → 1, plus Linear → `num_classes` logits when
    `acgan`. Larger images get more down blocks until 8×8. No normalisation by default
    (`NORMALIZATION_D = False`)."""
    data_format = resolve(data_format)
    stages = doubling_stages(image_size, arch="gan_cifar_resnet Discriminator")
    images = keras.Input((image_size, image_size, channels), name="images")
    x = from_nhwc(images, data_format, name="nchw")

    # OptimizedResBlockDisc1: no pre-activation, and a mean-pool-first shortcut.
    shortcut = MeanPoolConv(
        dim,
        1,
        kernel_initializer=tflib_conv("tflib", channels, dim, 1, he=False),
        data_format=data_format,
        name="res1_shortcut",
    )(x)
    x = keras.layers.Conv2D(
        dim,
        3,
        padding="same",
        kernel_initializer=tflib_conv("tflib", channels, dim, 3),
        data_format=data_format,
        name="res1_conv1",
    )(x)
    x = keras.layers.ReLU(name="res1_relu")(x)
    x = ConvMeanPool(
        dim,
        3,
        kernel_initializer=tflib_conv("tflib", dim, dim, 3),
        data_format=data_format,
        name="res1_conv2",
    )(x)
    x = keras.layers.Add(name="res1_add")([shortcut, x])

    blocks = ["down"] * max(stages - 2, 0) + [None, None]
    for i, resample in enumerate(blocks):
        x = residual_block(
            x,
            dim,
            resample,
            norm=norm,
            conv1_bias=True,
            down_shortcut=ConvMeanPool,
            name=f"res{i + 2}",
            data_format=data_format,
        )
    x = keras.layers.ReLU(name="relu")(x)
    features = keras.layers.GlobalAveragePooling2D(data_format=data_format, name="mean")(x)
    score = keras.layers.Dense(1, kernel_initializer=tflib_dense("tflib"), name="score")(features)
    if not acgan:
        return keras.Model(images, score, name="critic")
    logits = keras.layers.Dense(
        num_classes, kernel_initializer=tflib_dense("tflib"), name="class_logits"
    )(features)
    return keras.Model(images, [score, logits], name="critic")
