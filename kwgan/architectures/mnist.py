"""The WGAN-GP code's MNIST networks (gan_mnist.py), 28×28×1 by default.

The DCGAN skeleton of `dcgan.py` with 3 stages, tflib's default initialisation and width
DIM = 64: z → Linear → 4×4×4·dim → Deconv 5×5 s2 to 8×8, cropped to 7×7 → 14×14 → 28×28; the
critic convs 28 → 14 → 7 → 4. Batch norm appears only in the `wgan` (weight clipping) mode, in
both networks; wgan-gp and dcgan use none.

Output nonlinearity: the reference ends in a sigmoid because its data is in [0, 1]. kwgan's
image pipelines scale data to [−1, 1], where a sigmoid generator can never reach the negative
half, so the default here is tanh; `output_activation="sigmoid"` reproduces the reference for
[0, 1] data.
"""

from __future__ import annotations

import keras

from kwgan.architectures.dcgan import conv_critic, conv_generator

OUTPUT_ACTIVATIONS = ("tanh", "sigmoid")


def mnist_generator(
    *,
    image_size: int = 28,
    channels: int = 1,
    latent_dim: int = 128,
    dim: int = 64,
    norm: str | None = None,
    output_activation: str = "tanh",
    data_format: str | None = None,
) -> keras.Model:
    """gan_mnist.py `Generator`; `norm="batch"` is its `wgan`-mode variant."""
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ValueError(
            f"output_activation must be one of {OUTPUT_ACTIVATIONS}; got {output_activation!r}."
        )
    return conv_generator(
        image_size=image_size,
        channels=channels,
        latent_dim=latent_dim,
        dim=dim,
        norm=norm,
        init="tflib",
        dense_norm=True,
        output_activation=output_activation,
        arch="gan_mnist Generator",
        data_format=data_format,
    )


def mnist_critic(
    *,
    image_size: int = 28,
    channels: int = 1,
    dim: int = 64,
    norm: str | None = None,
    data_format: str | None = None,
) -> keras.Model:
    """gan_mnist.py `Discriminator`; `norm="batch"` is its `wgan`-mode variant."""
    return conv_critic(
        image_size=image_size,
        channels=channels,
        dim=dim,
        norm=norm,
        init="tflib",
        arch="gan_mnist Discriminator",
        data_format=data_format,
    )
