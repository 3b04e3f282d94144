"""Residual networks of the WGAN-GP code: the 64×64 "good" ResNet and the 101-layer ResNet.

| builder | reference (gan_64x64.py) |
|---|---|
| `residual_block` | `ResidualBlock`: pre-activation, two 3×3 convs (also used by `cifar.py`) |
| `bottleneck_block` | `BottleneckResidualBlock`: 1×1 → 3×3 → 1×1, branch scaled by 0.3 |
| `good_generator`, `good_critic` | `GoodGenerator`, `GoodDiscriminator` (the script's default) |
| `resnet101_generator`, `resnet101_critic` | `ResnetGenerator`, `ResnetDiscriminator` (§5.2) |

Initialisation follows tflib: He-style convs, Glorot (`he_init=False`) shortcut convs and
Linear layers, zero biases. Sizes other than 64×64 get one residual stage per ×2 (see
`sizes.doubling_stages`), keeping the reference's widths at each resolution counted from 4×4.
Every function takes `data_format` (see `layout.py`); images are (H, W, C) outside in both.
"""

from __future__ import annotations

import functools
from typing import Any

import keras

from kwgan.architectures.initializers import tflib_conv, tflib_dense
from kwgan.architectures.layers import (
    ConvMeanPool,
    MeanPoolConv,
    SubpixelConv2D,
    UpsampleConv2D,
    normalize,
)
from kwgan.architectures.layout import feature_map, from_nhwc, num_channels, resolve, to_nhwc
from kwgan.architectures.sizes import doubling_stages

RESAMPLES = ("up", "down", None)


def _check_resample(resample: str | None) -> None:
    if resample not in RESAMPLES:
        raise ValueError(f"resample must be one of {RESAMPLES}; got {resample!r}.")


def residual_block(
    x: Any,
    filters: int,
    resample: str | None,
    *,
    norm: str | None,
    name: str,
    labels: Any = None,
    num_classes: int | None = None,
    conv1_bias: bool = False,
    down_shortcut: type[keras.layers.Conv2D] = MeanPoolConv,
    data_format: str | None = None,
) -> Any:
    """Pre-activation block: shortcut(x) + conv2(relu(norm(conv1(relu(norm(x)))))).

    | resample | conv1 (3×3) | conv2 (3×3) | shortcut (1×1, Glorot) |
    |---|---|---|---|
    | "up" | `UpsampleConv2D` in→out | Conv out→out | `UpsampleConv2D` |
    | "down" | Conv in→in | `ConvMeanPool` in→out | `down_shortcut` |
    | None | Conv in→out | Conv out→out | identity if in = out, else Conv |

    `ResidualBlock` of gan_64x64.py has no conv1 bias and a `MeanPoolConv` shortcut; the one in
    gan_cifar_resnet.py has a conv1 bias and a `ConvMeanPool` shortcut. Without resampling, the
    two scripts differ only when in ≠ out, which neither uses; this follows gan_cifar_resnet.py.
    With `labels`, the norms are conditional batch norms (`num_classes` rows), as in the
    conditional CIFAR generator. `x` is laid out in `data_format`.
    """
    _check_resample(resample)
    data_format = resolve(data_format)
    in_channels = num_channels(x, data_format)

    def he(conv: type[keras.layers.Conv2D], out: int, **kwargs: Any) -> keras.layers.Layer:
        return conv(
            out,
            3,
            padding="same",
            kernel_initializer=tflib_conv("tflib", in_channels, out, 3),
            data_format=data_format,
            **kwargs,
        )

    def glorot(conv: type[keras.layers.Conv2D]) -> keras.layers.Layer:
        return conv(
            filters,
            1,
            kernel_initializer=tflib_conv("tflib", in_channels, filters, 1, he=False),
            data_format=data_format,
            name=f"{name}_shortcut",
        )

    def norm_relu(y: Any, n: int) -> Any:
        y = normalize(
            y,
            norm,
            name=f"{name}_norm{n}",
            labels=labels,
            num_classes=num_classes,
            data_format=data_format,
        )
        return keras.layers.ReLU(name=f"{name}_relu{n}")(y)

    if resample == "up":
        shortcut = glorot(UpsampleConv2D)(x)
        conv1 = he(UpsampleConv2D, filters, use_bias=conv1_bias, name=f"{name}_conv1")
        conv2_in, conv2 = filters, keras.layers.Conv2D
    elif resample == "down":
        shortcut = glorot(down_shortcut)(x)
        conv1 = he(keras.layers.Conv2D, in_channels, use_bias=conv1_bias, name=f"{name}_conv1")
        conv2_in, conv2 = in_channels, ConvMeanPool
    else:
        shortcut = x if in_channels == filters else glorot(keras.layers.Conv2D)(x)
        conv1 = he(keras.layers.Conv2D, filters, use_bias=conv1_bias, name=f"{name}_conv1")
        conv2_in, conv2 = filters, keras.layers.Conv2D

    y = conv1(norm_relu(x, 1))
    y = conv2(
        filters,
        3,
        padding="same",
        kernel_initializer=tflib_conv("tflib", conv2_in, filters, 3),
        data_format=data_format,
        name=f"{name}_conv2",
    )(norm_relu(y, 2))
    return keras.layers.Add(name=f"{name}_add")([shortcut, y])


def bottleneck_block(
    x: Any,
    filters: int,
    resample: str | None,
    *,
    norm: str | None,
    name: str,
    data_format: str | None = None,
) -> Any:
    """`BottleneckResidualBlock`: shortcut(x) + 0.3·branch(x), where the branch is
    relu → conv1 → relu → conv1b → relu → conv2 → norm.

    conv1 is 1×1 in→in/2, conv1b 3×3 in/2→out/2 (stride-2 conv for "down", stride-2 deconv for
    "up"), conv2 1×1 out/2→out without bias. The shortcut is a 1×1 Glorot conv, stride 2 for
    "down", `SubpixelConv2D` for "up", and the identity when nothing changes. The only norm is
    the one at the end of the branch. `x` is laid out in `data_format`.
    """
    _check_resample(resample)
    data_format = resolve(data_format)
    in_channels = num_channels(x, data_format)
    inner_in, inner_out = in_channels // 2, filters // 2
    conv = functools.partial(keras.layers.Conv2D, data_format=data_format)

    def glorot(out: int, stride: int = 1) -> keras.initializers.Initializer:
        return tflib_conv("tflib", in_channels, out, 1, stride=stride, he=False)

    if resample == "down":
        shortcut = conv(
            filters,
            1,
            strides=2,
            padding="same",
            kernel_initializer=glorot(filters, stride=2),
            name=f"{name}_shortcut",
        )(x)
        conv1b = conv(
            inner_out,
            3,
            strides=2,
            padding="same",
            kernel_initializer=tflib_conv("tflib", inner_in, inner_out, 3, stride=2),
            name=f"{name}_conv1b",
        )
    elif resample == "up":
        shortcut = SubpixelConv2D(
            filters,
            1,
            kernel_initializer=glorot(4 * filters),
            data_format=data_format,
            name=f"{name}_shortcut",
        )(x)
        conv1b = keras.layers.Conv2DTranspose(
            inner_out,
            3,
            strides=2,
            padding="same",
            kernel_initializer=tflib_conv("tflib", inner_in, inner_out, 3, transposed=True),
            data_format=data_format,
            name=f"{name}_conv1b",
        )
    else:
        shortcut = x
        if in_channels != filters:
            shortcut = conv(
                filters, 1, kernel_initializer=glorot(filters), name=f"{name}_shortcut"
            )(x)
        conv1b = conv(
            inner_out,
            3,
            padding="same",
            kernel_initializer=tflib_conv("tflib", inner_in, inner_out, 3),
            name=f"{name}_conv1b",
        )

    y = keras.layers.ReLU(name=f"{name}_relu1")(x)
    y = conv(
        inner_in,
        1,
        kernel_initializer=tflib_conv("tflib", in_channels, inner_in, 1),
        name=f"{name}_conv1",
    )(y)
    y = keras.layers.ReLU(name=f"{name}_relu2")(y)
    y = conv1b(y)
    y = keras.layers.ReLU(name=f"{name}_relu3")(y)
    y = conv(
        filters,
        1,
        use_bias=False,
        kernel_initializer=tflib_conv("tflib", inner_out, filters, 1),
        name=f"{name}_conv2",
    )(y)
    y = normalize(y, norm, name=f"{name}_norm", data_format=data_format)
    y = keras.layers.Rescaling(0.3, name=f"{name}_scale")(y)
    return keras.layers.Add(name=f"{name}_add")([shortcut, y])


def good_generator(
    *,
    image_size: int = 64,
    channels: int = 3,
    latent_dim: int = 128,
    dim: int = 64,
    norm: str | None = "batch",
    data_format: str | None = None,
) -> keras.Model:
    """`GoodGenerator`: z → Linear → 4×4×8·dim → 4 up blocks (8, 4, 2, 1 ·dim) → BN → ReLU →
    Conv 3×3 → tanh. The generator that gan_64x64.py trains by default."""
    data_format = resolve(data_format)
    stages = doubling_stages(image_size, arch="GoodGenerator")
    widths = [dim * 2 ** (stages - 1 - i) for i in range(stages)]

    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(16 * widths[0], kernel_initializer=tflib_dense("tflib"), name="input")(z)
    x = feature_map(x, 4, widths[0], data_format, name="reshape")
    for i, width in enumerate(widths):
        x = residual_block(x, width, "up", norm=norm, name=f"res{i + 1}", data_format=data_format)
    x = normalize(x, norm, name="output_norm", data_format=data_format)
    x = keras.layers.ReLU(name="output_relu")(x)
    x = keras.layers.Conv2D(
        channels,
        3,
        padding="same",
        kernel_initializer=tflib_conv("tflib", widths[-1], channels, 3),
        data_format=data_format,
        name="output_conv",
    )(x)
    x = keras.layers.Activation("tanh", name="output")(x)
    return keras.Model(z, to_nhwc(x, data_format), name="generator")


def good_critic(
    *,
    image_size: int = 64,
    channels: int = 3,
    dim: int = 64,
    norm: str | None = "layer",
    data_format: str | None = None,
) -> keras.Model:
    """`GoodDiscriminator`: Conv 3×3 to dim → 4 down blocks (2, 4, 8, 8 ·dim) → Linear → 1.

    No nonlinearity before the final Linear, as in the reference.
    """
    data_format = resolve(data_format)
    stages = doubling_stages(image_size, arch="GoodDiscriminator")
    images = keras.Input((image_size, image_size, channels), name="images")
    x = keras.layers.Conv2D(
        dim,
        3,
        padding="same",
        kernel_initializer=tflib_conv("tflib", channels, dim, 3, he=False),
        data_format=data_format,
        name="input_conv",
    )(from_nhwc(images, data_format, name="nchw"))
    for i in range(stages):
        width = dim * 2 ** min(i + 1, stages - 1)
        x = residual_block(x, width, "down", norm=norm, name=f"res{i + 1}", data_format=data_format)
    x = keras.layers.Flatten(data_format=data_format, name="flatten")(x)
    score = keras.layers.Dense(1, kernel_initializer=tflib_dense("tflib"), name="score")(x)
    return keras.Model(images, score, name="critic")


def _check_bottleneck_dim(dim: int) -> None:
    if dim < 4:
        raise ValueError(
            f"The 101-layer ResNet halves dim/2 inside its blocks; need dim ≥ 4, got {dim}."
        )


def resnet101_generator(
    *,
    image_size: int = 64,
    channels: int = 3,
    latent_dim: int = 128,
    dim: int = 64,
    norm: str | None = "batch",
    data_format: str | None = None,
) -> keras.Model:
    """`ResnetGenerator`: 33 bottleneck blocks, 101 conv layers at 64×64.

    z → Linear → 4×4×8·dim → (6 blocks, up block) at 4, 8, 16 and 32 px, halving the width
    (8, 4, 2, 1 ·dim, then dim/2) → 5 blocks at 64 px → Conv 1×1 → tanh(x / 5).
    """
    data_format = resolve(data_format)
    stages = doubling_stages(image_size, arch="ResnetGenerator")
    _check_bottleneck_dim(dim)
    widths = [dim * 2 ** (stages - 1 - s) for s in range(stages)] + [dim // 2]
    block = functools.partial(bottleneck_block, norm=norm, data_format=data_format)

    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(16 * widths[0], kernel_initializer=tflib_dense("tflib"), name="input")(z)
    x = feature_map(x, 4, widths[0], data_format, name="reshape")
    for s in range(stages):
        size = 4 * 2**s
        for i in range(6):
            x = block(x, widths[s], None, name=f"res{size}_{i}")
        x = block(x, widths[s + 1], "up", name=f"up{s + 1}")
    for i in range(5):
        x = block(x, widths[-1], None, name=f"res{image_size}_{i}")
    x = keras.layers.Conv2D(
        channels,
        1,
        kernel_initializer=tflib_conv("tflib", widths[-1], channels, 1, he=False),
        data_format=data_format,
        name="output_conv",
    )(x)
    x = keras.layers.Rescaling(0.2, name="output_scale")(x)
    x = keras.layers.Activation("tanh", name="output")(x)
    return keras.Model(z, to_nhwc(x, data_format), name="generator")


def resnet101_critic(
    *,
    image_size: int = 64,
    channels: int = 3,
    dim: int = 64,
    norm: str | None = "layer",
    data_format: str | None = None,
) -> keras.Model:
    """`ResnetDiscriminator`: Conv 1×1 to dim/2 → 5 blocks at 64 px → (down block, 6 blocks)
    at 32, 16, 8 and 4 px, doubling the width (1, 2, 4, 8 ·dim) → Linear → score / 5."""
    data_format = resolve(data_format)
    stages = doubling_stages(image_size, arch="ResnetDiscriminator")
    _check_bottleneck_dim(dim)
    block = functools.partial(bottleneck_block, norm=norm, data_format=data_format)
    images = keras.Input((image_size, image_size, channels), name="images")
    x = keras.layers.Conv2D(
        dim // 2,
        1,
        kernel_initializer=tflib_conv("tflib", channels, dim // 2, 1, he=False),
        data_format=data_format,
        name="input_conv",
    )(from_nhwc(images, data_format, name="nchw"))
    for i in range(5):
        x = block(x, dim // 2, None, name=f"res{image_size}_{i}")
    for s in range(stages):
        size, width = image_size // 2 ** (s + 1), dim * 2**s
        x = block(x, width, "down", name=f"down{s + 1}")
        for i in range(6):
            x = block(x, width, None, name=f"res{size}_{i}")
    x = keras.layers.Flatten(data_format=data_format, name="flatten")(x)
    x = keras.layers.Dense(1, kernel_initializer=tflib_dense("tflib"), name="linear")(x)
    score = keras.layers.Rescaling(0.2, name="score")(x)
    return keras.Model(images, score, name="critic")
