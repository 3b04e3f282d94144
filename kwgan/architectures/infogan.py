"""compare_gan's InfoGAN-style networks for 28×28 grayscale (Lucic et al. 2018).

"Are GANs Created Equal? A Large-Scale Study" (Lucic et al. 2018, arXiv:1711.10337) compares
every GAN loss on one fixed pair of networks for MNIST and Fashion-MNIST, the InfoGAN
(Chen et al. 2016) architecture, as its code base google/compare_gan v1 defines it
(https://github.com/google/compare_gan, `AbstractGAN.generator` / `discriminator`). Holding the
networks fixed is what makes its FID comparison across losses meaningful, so kwgan offers the
same pair for the same comparison. With width `dim` = 64:

- critic: Conv 4×4 s2, dim → lrelu(0.2) → Conv 4×4 s2, 2·dim → [norm] → lrelu → Flatten →
  Dense 16·dim → [norm] → lrelu → Dense 1. compare_gan ends in a sigmoid for its GAN losses;
  a critic score is unbounded, so it is left out (the dcgan objective applies the sigmoid in
  its loss).
- generator: Dense 16·dim → BN → relu → Dense (s/4)²·2·dim → BN → relu → reshape →
  Deconv 4×4 s2, dim → BN → relu → Deconv 4×4 s2, channels → tanh. compare_gan's sigmoid
  output is for data in [0, 1]; kwgan's images live in [−1, 1], hence tanh.

Every conv and dense layer has a bias, as compare_gan's `conv2d` / `linear` / `deconv2d` do,
and their kernels are drawn as there: N(0, 0.02) (truncated for the critic's convs). Batch norm
in compare_gan's discriminator is switched off under a gradient penalty, which is ill-defined
per example with it (`registry._none_under_gp` applies that rule). Both builders take
`data_format` (see `layout.py`); images are (H, W, C) outside the networks in both.
"""

from __future__ import annotations

import keras

from kwgan.architectures.layers import normalize
from kwgan.architectures.layout import feature_map, from_nhwc, resolve, to_nhwc
from kwgan.errors import ConfigError

SIZES = (28, 32)
"""Image sizes the two stride-2 stages reach from a (size/4)² map: 7×7 (compare_gan) and 8×8."""


def _check_size(image_size: int, arch: str) -> None:
    """compare_gan defines the pair for 28×28 only; 32×32 is the same net from an 8×8 map."""
    if image_size not in SIZES:
        raise ConfigError(
            f"{arch} is defined for image_size 28 (and 32); got {image_size}. Use another "
            "architecture (kwgan.architectures.NAMES) for other sizes."
        )


def _stride_2(
    layer: type, filters: int, init: keras.initializers.Initializer, data_format: str, name: str
) -> keras.layers.Layer:
    """The 4×4 stride-2 'same' convolution (or deconvolution) both networks are made of."""
    return layer(
        filters,
        4,
        strides=2,
        padding="same",
        kernel_initializer=init,
        data_format=data_format,
        name=name,
    )


def infogan_generator(
    *,
    image_size: int = 28,
    channels: int = 1,
    latent_dim: int = 64,
    dim: int = 64,
    norm: str | None = "batch",
    data_format: str | None = None,
) -> keras.Model:
    """compare_gan's generator: noise (latent_dim,) → image (size, size, channels) in [−1, 1].

    `norm` ("batch", None) follows each hidden layer; compare_gan always uses batch norm.
    6,642,241 parameters at the defaults (28×28×1, latent 64, dim 64).
    """
    _check_size(image_size, "infogan generator")
    data_format = resolve(data_format)
    start = image_size // 4
    init = keras.initializers.RandomNormal(stddev=0.02)

    def deconv(filters: int, name: str) -> keras.layers.Layer:
        return _stride_2(keras.layers.Conv2DTranspose, filters, init, data_format, name)

    def norm_relu(x: keras.KerasTensor, n: int) -> keras.KerasTensor:
        x = normalize(x, norm, name=f"norm{n}", data_format=data_format)
        return keras.layers.ReLU(name=f"act{n}")(x)

    noise = keras.Input((latent_dim,), name="noise")
    x = norm_relu(keras.layers.Dense(16 * dim, kernel_initializer=init, name="fc1")(noise), 1)
    x = keras.layers.Dense(start * start * 2 * dim, kernel_initializer=init, name="fc2")(x)
    x = feature_map(norm_relu(x, 2), start, 2 * dim, data_format, name="reshape")
    x = norm_relu(deconv(dim, name="deconv3")(x), 3)
    x = keras.layers.Activation("tanh", name="output")(deconv(channels, name="deconv4")(x))
    return keras.Model(noise, to_nhwc(x, data_format), name="generator")


def infogan_critic(
    *,
    image_size: int = 28,
    channels: int = 1,
    dim: int = 64,
    norm: str | None = "batch",
    data_format: str | None = None,
) -> keras.Model:
    """compare_gan's discriminator without the sigmoid: image → unbounded score (1,).

    `norm` follows the second conv and the hidden dense layer, as compare_gan's
    `discriminator_batchnorm` does. 6,559,169 parameters at the defaults (6,556,865 with
    norm None).
    """
    _check_size(image_size, "infogan critic")
    data_format = resolve(data_format)
    conv_init = keras.initializers.TruncatedNormal(stddev=0.02)
    dense_init = keras.initializers.RandomNormal(stddev=0.02)

    def conv(filters: int, name: str) -> keras.layers.Layer:
        return _stride_2(keras.layers.Conv2D, filters, conv_init, data_format, name)

    def norm_lrelu(x: keras.KerasTensor, n: int) -> keras.KerasTensor:
        x = normalize(x, norm, name=f"norm{n}", data_format=data_format)
        return keras.layers.LeakyReLU(0.2, name=f"act{n}")(x)

    images = keras.Input((image_size, image_size, channels), name="images")
    x = conv(dim, name="conv1")(from_nhwc(images, data_format, name="nchw"))
    x = keras.layers.LeakyReLU(0.2, name="act1")(x)
    x = norm_lrelu(conv(2 * dim, name="conv2")(x), 2)
    x = keras.layers.Flatten(data_format=data_format, name="flatten")(x)
    x = norm_lrelu(keras.layers.Dense(16 * dim, kernel_initializer=dense_init, name="fc3")(x), 3)
    score = keras.layers.Dense(1, kernel_initializer=dense_init, name="score")(x)
    return keras.Model(images, score, name="critic")
