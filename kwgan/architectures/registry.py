"""Named (generator, critic) pairs from the two reference code bases, and `build`.

Each name is one pairing that a reference script trains. Every argument of `build` left at
None takes that script's value, so `build(name)` reproduces the reference network and anything
can be overridden. The normalisation of each network follows the objective the way its
reference script does (see `Architecture.generator_norm` / `critic_norm`).

| name | reference | default size, latent, G/D width |
|---|---|---|
| dcgan | gan_64x64.py DCGANGenerator + DCGANDiscriminator (Fig. 2 baseline) | 64×64×3, 128, 64/64 |
| crippled-dcgan | WGANPaper_CrippledDCGANGenerator + DCGANDiscriminator | 64×64×3, 128, 64/64 |
| fc-dcgan | FCGenerator (4 × 512 ReLU MLP) + DCGANDiscriminator | 64×64×3, 128, 512/64 |
| dcgan-no-norm | DCGANGenerator(bn=False) + DCGANDiscriminator(bn=False) | 64×64×3, 128, 64/64 |
| gated-dcgan | MultiplicativeDCGAN{Generator,Discriminator}: gated units | 64×64×3, 128, 64/64 |
| tanh-dcgan | DCGANGenerator + DCGANDiscriminator with nonlinearity=tanh | 64×64×3, 128, 64/64 |
| resnet101 | ResnetGenerator + ResnetDiscriminator (bottleneck blocks) | 64×64×3, 128, 64/64 |
| good-resnet | GoodGenerator + GoodDiscriminator (gan_64x64.py's default) | 64×64×3, 128, 64/64 |
| wgan-dcgan | WGAN repo DCGAN_G + DCGAN_D | 64×64×3, 100, 64/64 |
| wgan-dcgan-nobn | WGAN repo DCGAN_G_nobn + DCGAN_D (`--noBN`) | 64×64×3, 100, 64/64 |
| wgan-mlp-g | WGAN repo MLP_G + DCGAN_D (`--mlp_G`) | 64×64×3, 100, 512/64 |
| wgan-mlp | WGAN repo MLP_G + MLP_D (`--mlp_G --mlp_D`) | 64×64×3, 100, 512/512 |
| cifar-dcgan | gan_cifar.py Generator + Discriminator | 32×32×3, 128, 128/128 |
| cifar-resnet | gan_cifar_resnet.py Generator + Discriminator | 32×32×3, 128, 128/128 |
| mnist-dcgan | gan_mnist.py Generator + Discriminator | 28×28×1, 128, 64/64 |
| infogan | compare_gan v1 (Lucic et al. 2018) InfoGAN-style G + D | 28×28×1, 64, 64/64 |
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any

import keras

from kwgan import objectives
from kwgan.architectures.cifar import (
    cifar_dcgan_critic,
    cifar_dcgan_generator,
    cifar_resnet_critic,
    cifar_resnet_generator,
)
from kwgan.architectures.dcgan import (
    crippled_dcgan_generator,
    dcgan_critic,
    dcgan_generator,
    fc_generator,
    gated_dcgan_critic,
    gated_dcgan_generator,
)
from kwgan.architectures.infogan import infogan_critic, infogan_generator
from kwgan.architectures.layout import resolve
from kwgan.architectures.mnist import mnist_critic, mnist_generator
from kwgan.architectures.resnet import (
    good_critic,
    good_generator,
    resnet101_critic,
    resnet101_generator,
)
from kwgan.architectures.wgan_repo import (
    wgan_dcgan_critic,
    wgan_dcgan_generator,
    wgan_mlp_critic,
    wgan_mlp_generator,
)
from kwgan.errors import check_positive_int

AUTO = "auto"
"""Default of `build`'s `generator_norm`/`critic_norm`: follow the reference for the objective."""

NormRule = Callable[[objectives.Objective], "str | None"]


def _batch(objective: objectives.Objective) -> str:
    """Batch norm in every mode: the generators of the WGAN-GP and WGAN code."""
    return "batch"


def _none(objective: objectives.Objective) -> None:
    """No normalisation in any mode."""
    return None


def _layer_under_gp(objective: objectives.Objective) -> str:
    """gan_64x64.py `Normalize`: layer norm in the critic under wgan-gp, batch norm otherwise.

    Also used for the WGAN repo's DCGAN_D, which always has BN but predates the gradient
    penalty: BN makes the per-example penalty ill-defined, and the WGAN-GP paper replaces it by
    layer norm.
    """
    return "layer" if objective.gp_weight else "batch"


def _none_under_gp(objective: objectives.Objective) -> str | None:
    """gan_cifar.py: no critic norm under wgan-gp, batch norm in the wgan and dcgan modes.

    Also compare_gan's InfoGAN discriminator, whose batch norm is off under a gradient penalty.
    """
    return None if objective.gp_weight else "batch"


def _batch_under_clipping(objective: objectives.Objective) -> str | None:
    """gan_mnist.py: batch norm in both networks in the wgan mode only."""
    return "batch" if objective.clip_value is not None else None


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One named pair. The norm rules map an objective to "batch", "layer" or None; a rule of
    None means that network has no normalisation to choose."""

    name: str
    reference: str
    generator: Callable[..., keras.Model]
    critic: Callable[..., keras.Model]
    image_size: int = 64
    channels: int = 3
    latent_dim: int = 128
    generator_dim: int = 64
    critic_dim: int = 64
    generator_norm: NormRule | None = None
    critic_norm: NormRule | None = None


_ARCHITECTURES = (
    Architecture(
        "dcgan",
        "gan_64x64.py DCGANGenerator + DCGANDiscriminator",
        dcgan_generator,
        dcgan_critic,
        generator_norm=_batch,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "crippled-dcgan",
        "gan_64x64.py WGANPaper_CrippledDCGANGenerator + DCGANDiscriminator",
        crippled_dcgan_generator,
        dcgan_critic,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "fc-dcgan",
        "gan_64x64.py FCGenerator + DCGANDiscriminator",
        fc_generator,
        dcgan_critic,
        generator_dim=512,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "dcgan-no-norm",
        "gan_64x64.py DCGANGenerator(bn=False) + DCGANDiscriminator(bn=False)",
        dcgan_generator,
        dcgan_critic,
        generator_norm=_none,
        critic_norm=_none,
    ),
    Architecture(
        "gated-dcgan",
        "gan_64x64.py MultiplicativeDCGANGenerator + MultiplicativeDCGANDiscriminator",
        gated_dcgan_generator,
        gated_dcgan_critic,
        generator_norm=_batch,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "tanh-dcgan",
        "gan_64x64.py DCGANGenerator + DCGANDiscriminator, nonlinearity=tf.tanh",
        functools.partial(dcgan_generator, activation="tanh"),
        functools.partial(dcgan_critic, activation="tanh"),
        generator_norm=_batch,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "resnet101",
        "gan_64x64.py ResnetGenerator + ResnetDiscriminator",
        resnet101_generator,
        resnet101_critic,
        generator_norm=_batch,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "good-resnet",
        "gan_64x64.py GoodGenerator + GoodDiscriminator",
        good_generator,
        good_critic,
        generator_norm=_batch,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "wgan-dcgan",
        "WassersteinGAN models/dcgan.py DCGAN_G + DCGAN_D",
        wgan_dcgan_generator,
        wgan_dcgan_critic,
        latent_dim=100,
        generator_norm=_batch,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "wgan-dcgan-nobn",
        "WassersteinGAN models/dcgan.py DCGAN_G_nobn + DCGAN_D (--noBN)",
        wgan_dcgan_generator,
        wgan_dcgan_critic,
        latent_dim=100,
        generator_norm=_none,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "wgan-mlp-g",
        "WassersteinGAN models/mlp.py MLP_G + models/dcgan.py DCGAN_D (--mlp_G)",
        wgan_mlp_generator,
        wgan_dcgan_critic,
        latent_dim=100,
        generator_dim=512,
        critic_norm=_layer_under_gp,
    ),
    Architecture(
        "wgan-mlp",
        "WassersteinGAN models/mlp.py MLP_G + MLP_D (--mlp_G --mlp_D)",
        wgan_mlp_generator,
        wgan_mlp_critic,
        latent_dim=100,
        generator_dim=512,
        critic_dim=512,
    ),
    Architecture(
        "cifar-dcgan",
        "gan_cifar.py Generator + Discriminator",
        cifar_dcgan_generator,
        cifar_dcgan_critic,
        image_size=32,
        generator_dim=128,
        critic_dim=128,
        generator_norm=_batch,
        critic_norm=_none_under_gp,
    ),
    Architecture(
        "cifar-resnet",
        "gan_cifar_resnet.py Generator + Discriminator",
        cifar_resnet_generator,
        cifar_resnet_critic,
        image_size=32,
        generator_dim=128,
        critic_dim=128,
        generator_norm=_batch,
        critic_norm=_none,
    ),
    Architecture(
        "mnist-dcgan",
        "gan_mnist.py Generator + Discriminator",
        mnist_generator,
        mnist_critic,
        image_size=28,
        channels=1,
        generator_norm=_batch_under_clipping,
        critic_norm=_batch_under_clipping,
    ),
    Architecture(
        "infogan",
        "compare_gan v1 AbstractGAN generator + discriminator (InfoGAN-style)",
        infogan_generator,
        infogan_critic,
        image_size=28,
        channels=1,
        latent_dim=64,
        generator_norm=_batch,
        critic_norm=_none_under_gp,
    ),
)

_BY_NAME = {arch.name: arch for arch in _ARCHITECTURES}
NAMES: tuple[str, ...] = tuple(_BY_NAME)
"""Every name `build` accepts."""

# Set by `build` itself; options may not override them.
_RESERVED = frozenset({"image_size", "channels", "latent_dim", "dim", "norm", "data_format"})


def get(name: str) -> Architecture:
    """The registry entry for `name`, with its reference defaults."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"Unknown architecture {name!r}; choose one of: {', '.join(NAMES)}."
        ) from None


def _norm(
    rule: NormRule | None, override: str | None, objective: objectives.Objective, which: str
) -> dict:
    if override == AUTO:
        return {} if rule is None else {"norm": rule(objective)}
    if rule is None:
        raise ValueError(f"This architecture's {which} has no normalisation to choose.")
    return {"norm": override}


def build(
    name: str,
    *,
    image_size: int | None = None,
    channels: int | None = None,
    latent_dim: int | None = None,
    objective: str | objectives.Objective = "wgan-gp",
    dim: int | None = None,
    generator_dim: int | None = None,
    critic_dim: int | None = None,
    generator_norm: str | None = AUTO,
    critic_norm: str | None = AUTO,
    data_format: str | None = None,
    **options: Any,
) -> tuple[keras.Model, keras.Model]:
    """Builds the (generator, critic) pair `name` (one of `NAMES`).

    The generator maps float32 noise (latent_dim,) to an image (H, W, C) (or takes
    `[z, labels]` when conditional); the critic maps an image to an unbounded score (B, 1)
    (or `[score, class_logits]` with an AC-GAN head). Both are functional `keras.Model`s named
    "generator" and "critic".

    Args left at None take the reference's value (see the module table). `dim` sets the base
    width of both networks; `generator_dim` / `critic_dim` override it for one of them.
    `objective` (wgan, wgan-gp, dcgan, lsgan) chooses each network's normalisation as its
    reference script does; `generator_norm` / `critic_norm` ("batch", "layer" or None) override
    that choice. `options` go to whichever builder accepts them, e.g. `n_extra_layers` (WGAN
    repo DCGAN), `conditional` / `acgan` / `num_classes` (cifar-resnet), `output_activation`
    (mnist-dcgan), `activation` (DCGAN).

    `data_format` is the layout of the feature maps inside the networks: "channels_last",
    "channels_first", or None for `default_data_format()` (channels_first on torch). Images
    are (H, W, C) at the networks' edges either way, and both layouts have the same weights.
    MLP networks have no feature maps and ignore it.

    Raises ValueError for an unknown name, objective, normalisation or data_format, a size that
    is not a positive integer, an image size the architecture cannot produce, or channels_first
    on a TensorFlow without a GPU; TypeError for an option neither builder takes.
    """
    arch = get(name)
    objective = objectives.get(objective)
    sizes = dict(
        image_size=image_size,
        channels=channels,
        latent_dim=latent_dim,
        dim=dim,
        generator_dim=generator_dim,
        critic_dim=critic_dim,
    )
    for size, value in sizes.items():
        # A zero latent size builds (a generator of its biases alone: every sample alike),
        # and TensorFlow's oneDNN aborts the process on it; refuse it here, by name.
        if value is not None:
            check_positive_int(value, size)
    shape = {
        "image_size": arch.image_size if image_size is None else image_size,
        "channels": arch.channels if channels is None else channels,
    }
    g_kwargs = {
        **shape,
        "latent_dim": arch.latent_dim if latent_dim is None else latent_dim,
        "dim": _first(generator_dim, dim, arch.generator_dim),
        **_norm(arch.generator_norm, generator_norm, objective, "generator"),
    }
    c_kwargs = {
        **shape,
        "dim": _first(critic_dim, dim, arch.critic_dim),
        **_norm(arch.critic_norm, critic_norm, objective, "critic"),
    }
    data_format = resolve(data_format)
    for builder, kwargs in ((arch.generator, g_kwargs), (arch.critic, c_kwargs)):
        if "data_format" in inspect.signature(builder).parameters:
            kwargs["data_format"] = data_format
    g_params = set(inspect.signature(arch.generator).parameters) - _RESERVED
    c_params = set(inspect.signature(arch.critic).parameters) - _RESERVED
    for key, value in options.items():
        if key not in g_params | c_params:
            accepted = ", ".join(sorted(g_params | c_params)) or "none"
            raise TypeError(f"{name} has no option {key!r}; its options are: {accepted}.")
        if key in g_params:
            g_kwargs[key] = value
        if key in c_params:
            c_kwargs[key] = value
    return arch.generator(**g_kwargs), arch.critic(**c_kwargs)


def _first(*values: int | None) -> int:
    return next(v for v in values if v is not None)
