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
per example with it (`registry._none_under_gp` applies that rule).
"""

from __future__ import annotations

import keras

from kwgan.architectures.layers import normalize
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


def infogan_generator(
    *,
    image_size: int = 28,
    channels: int = 1,
    latent_dim: int = 64,
    dim: int = 64,
    norm: str | None = "batch",
) -> keras.Model:
    """compare_gan's generator: noise (latent_dim,) → image (size, size, channels) in [−1, 1].

    `norm` ("batch", None) follows each hidden layer; compare_gan always uses batch norm.
    6,642,241 parameters at the defaults (28×28×1, latent 64, dim 64).
    """
    _check_size(image_size, "infogan generator")
    start = image_size // 4
    init = keras.initializers.RandomNormal(stddev=0.02)
    noise = keras.Input((latent_dim,), name="noise")
    x = keras.layers.Dense(16 * dim, kernel_initializer=init, name="fc1")(noise)
    x = keras.layers.ReLU(name="act1")(normalize(x, norm, name="norm1"))
    x = keras.layers.Dense(start * start * 2 * dim, kernel_initializer=init, name="fc2")(x)
    x = keras.layers.ReLU(name="act2")(normalize(x, norm, name="norm2"))
    x = keras.layers.Reshape((start, start, 2 * dim), name="reshape")(x)
    x = keras.layers.Conv2DTranspose(
        dim, 4, strides=2, padding="same", kernel_initializer=init, name="deconv3"
    )(x)
    x = keras.layers.ReLU(name="act3")(normalize(x, norm, name="norm3"))
    x = keras.layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", kernel_initializer=init, name="deconv4"
    )(x)
    images = keras.layers.Activation("tanh", name="output")(x)
    return keras.Model(noise, images, name="generator")


def infogan_critic(
    *, image_size: int = 28, channels: int = 1, dim: int = 64, norm: str | None = "batch"
) -> keras.Model:
    """compare_gan's discriminator without the sigmoid: image → unbounded score (1,).

    `norm` follows the second conv and the hidden dense layer, as compare_gan's
    `discriminator_batchnorm` does. 6,559,169 parameters at the defaults (6,556,865 with
    norm None).
    """
    _check_size(image_size, "infogan critic")
    conv_init = keras.initializers.TruncatedNormal(stddev=0.02)
    dense_init = keras.initializers.RandomNormal(stddev=0.02)
    images = keras.Input((image_size, image_size, channels), name="images")
    x = keras.layers.Conv2D(
        dim, 4, strides=2, padding="same", kernel_initializer=conv_init, name="conv1"
    )(images)
    x = keras.layers.LeakyReLU(0.2, name="act1")(x)
    x = keras.layers.Conv2D(
        2 * dim, 4, strides=2, padding="same", kernel_initializer=conv_init, name="conv2"
    )(x)
    x = keras.layers.LeakyReLU(0.2, name="act2")(normalize(x, norm, name="norm2"))
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(16 * dim, kernel_initializer=dense_init, name="fc3")(x)
    x = keras.layers.LeakyReLU(0.2, name="act3")(normalize(x, norm, name="norm3"))
    score = keras.layers.Dense(1, kernel_initializer=dense_init, name="score")(x)
    return keras.Model(images, score, name="critic")
