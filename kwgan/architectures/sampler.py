"""Random architectures from the WGAN-GP paper's Table 1, for its robustness Tables 2 and 5.

The paper (§5.1, Appendix B) samples 200 (generator, critic) pairs from the space `SPACE`
and trains each under the standard GAN objective and under WGAN-GP. It publishes no code
for this experiment, so the networks here are kwgan's design, stated in full:

* Both networks are the DCGAN skeleton of `dcgan.conv_generator` / `conv_critic` (stride-2
  5×5 (de)convolutions between the image and 4×4, widths doubling towards 4×4, a Linear
  layer at the 4×4 end). That skeleton has one layer per halving plus the Linear layer: 4 at
  32×32, Table 1's smallest depth, and there at depth 4 the networks have exactly the
  parameters of `dcgan_generator` / `dcgan_critic`.
* The rest of the depth is stride-1 3×3 convolutions (the WGAN repo's `n_extra_layers`
  idea), split evenly over the resolution stages, any remainder going to the stages nearest
  4×4 (`extra_layers`). Each keeps its stage's width, so every stage costs about the same.
* The sampled nonlinearity follows every hidden layer; the generator ends in tanh, the
  critic in a Linear score (no sigmoid; the dcgan objective takes logits).
* "BN" normalises every hidden layer but the critic's first, as in the references. In the
  critic it is batch norm under the GAN objective and layer norm under WGAN-GP ("BN (D;
  layer norm for WGAN-GP)", Table 1).
* "Base filters" is the width at the image end, doubling per stage towards 4×4, as in the
  DCGAN. Weights start from tflib's defaults (He-style for convolutions), which keep the signal's
  scale through 20 layers better than the DCGAN's fixed σ = 0.02.

A description is plain JSON: `{"generator": {...}, "critic": {...}}`, each with one value
per key of `SPACE`. `sample(seed, index)` draws architecture `index` of a seed on its own, so
the first 20 of 200 architectures are the 20 a reduced run draws.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from kwgan import objectives
from kwgan.architectures.dcgan import crop
from kwgan.architectures.initializers import tflib_conv, tflib_dense
from kwgan.architectures.layers import activation, normalize
from kwgan.architectures.layout import feature_map, from_nhwc, resolve, to_nhwc
from kwgan.architectures.sizes import halving_plan
from kwgan.errors import ConfigError, check_positive_int

SPACE: dict[str, tuple] = {
    "nonlinearity": ("relu", "leaky_relu", "smooth_elu", "tanh"),
    "depth": (4, 8, 12, 20),
    "batch_norm": (True, False),
    "base_filters": (32, 64, 128),
}
"""Table 1 of the WGAN-GP paper: the options of each setting, the same for G and D."""

NETWORKS = ("generator", "critic")

REFERENCE: dict[str, dict[str, Any]] = {
    "generator": {"nonlinearity": "relu", "depth": 4, "batch_norm": True, "base_filters": 64},
    "critic": {"nonlinearity": "leaky_relu", "depth": 4, "batch_norm": True, "base_filters": 64},
}
"""The DCGAN of the space (Radford et al.): the "reference DCGAN" of Table 5's caption."""

RESAMPLING_KERNEL = 5  # the DCGAN's stride-2 (de)convolutions
EXTRA_KERNEL = 3  # the stride-1 convolutions that make a network deeper
INIT = "tflib"


def sample(seed: int, index: int) -> dict[str, dict[str, Any]]:
    """Architecture `index` of `seed`: every setting drawn uniformly from `SPACE`.

    Each (seed, index) has its own random stream, so a description never depends on how many
    architectures are drawn or in which order.
    """
    rng = np.random.default_rng([seed, index])
    return {
        network: {key: options[rng.integers(len(options))] for key, options in SPACE.items()}
        for network in NETWORKS
    }


def check(description: Any) -> dict[str, dict[str, Any]]:
    """`description` if it is a point of `SPACE` (e.g. read back from JSON), else ConfigError."""
    if not isinstance(description, dict) or set(description) != set(NETWORKS):
        raise ConfigError(f"An architecture description has keys {NETWORKS}; got {description!r}.")
    for network, settings in description.items():
        if not isinstance(settings, dict) or set(settings) != set(SPACE):
            raise ConfigError(f"The {network} needs the settings {tuple(SPACE)}; got {settings!r}.")
        for key, value in settings.items():
            if value not in SPACE[key] or isinstance(value, bool) != (key == "batch_norm"):
                raise ConfigError(
                    f"{network} {key} {value!r} is not in Table 1's options {SPACE[key]}."
                )
    return description


def extra_layers(depth: int, stages: int, *, network: str = "network") -> list[int]:
    """How many stride-1 convolutions each resolution stage gets, from the 4×4 stage out.

    A network of `stages` stride-2 stages has `stages + 1` layers without any (the Linear
    layer counts), so `depth` below that cannot be built at this image size.
    """
    extra = depth - (stages + 1)
    if extra < 0:
        raise ConfigError(
            f"A {network} of depth {depth} is too shallow for {stages} stride-2 stages "
            f"(it needs at least {stages + 1} layers); use a smaller image size."
        )
    return [extra // stages + (i < extra % stages) for i in range(stages)]


def _conv(
    filters: int,
    in_channels: int,
    kernel: int,
    n: int,
    data_format: str,
    *,
    stride: int = 1,
    transposed: bool = False,
) -> keras.layers.Layer:
    """Layer `n`: a 'same' (transposed) convolution with tflib's default initialisation."""
    layer = keras.layers.Conv2DTranspose if transposed else keras.layers.Conv2D
    init = tflib_conv(INIT, in_channels, filters, kernel, stride=stride, transposed=transposed)
    return layer(
        filters,
        kernel,
        strides=stride,
        padding="same",
        kernel_initializer=init,
        data_format=data_format,
        name=f"layer{n}",
    )


def _hidden(x: Any, n: int, nonlinearity: str, norm: str | None, data_format: str) -> Any:
    """What follows hidden layer `n`: [norm] → nonlinearity."""
    x = normalize(x, norm, name=f"norm{n}", data_format=data_format)
    return activation(nonlinearity, name=f"act{n}", data_format=data_format)(x)


def generator(
    settings: dict[str, Any],
    *,
    image_size: int = 32,
    channels: int = 3,
    latent_dim: int = 128,
    data_format: str | None = None,
) -> keras.Model:
    """The sampled generator: z (latent_dim,) → image (image_size, image_size, channels).

    Linear → 4×4 → for each stage: its extra 3×3 convolutions, then a 5×5 stride-2 deconv
    halving the width (the last one to `channels`, cropped where it overshoots) → tanh.
    `data_format` is the layout inside the network (see `layout.py`).
    """
    data_format = resolve(data_format)
    sizes = halving_plan(image_size, arch="The sampled generator")
    stages = len(sizes) - 1
    extras = extra_layers(settings["depth"], stages, network="generator")
    act, norm = settings["nonlinearity"], "batch" if settings["batch_norm"] else None
    widths = [settings["base_filters"] * 2 ** (stages - 1 - i) for i in range(stages)]

    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(4 * 4 * widths[0], kernel_initializer=tflib_dense(INIT), name="layer1")(
        z
    )
    x = _hidden(
        feature_map(x, 4, widths[0], data_format, name="reshape"), 1, act, norm, data_format
    )
    n = 1
    for i in range(stages):
        for _ in range(extras[i]):
            n += 1
            x = _conv(widths[i], widths[i], EXTRA_KERNEL, n, data_format)(x)
            x = _hidden(x, n, act, norm, data_format)
        n += 1
        last = i == stages - 1
        filters = channels if last else widths[i + 1]
        x = _conv(filters, widths[i], RESAMPLING_KERNEL, n, data_format, stride=2, transposed=True)(
            x
        )
        x = crop(x, 2 * sizes[stages - i], sizes[stages - 1 - i], data_format, name=f"crop{n}")
        if not last:
            x = _hidden(x, n, act, norm, data_format)
    x = activation("tanh", name="output")(x)
    return keras.Model(z, to_nhwc(x, data_format), name="generator")


def critic(
    settings: dict[str, Any],
    *,
    objective: str | objectives.Objective,
    image_size: int = 32,
    channels: int = 3,
    data_format: str | None = None,
) -> keras.Model:
    """The sampled critic: image → score (1,), no sigmoid.

    For each stage: a 5×5 stride-2 conv doubling the width (from `base_filters`), then its
    extra 3×3 convolutions → Linear. "BN" is layer norm under a gradient penalty.
    `data_format` is the layout inside the network (see `layout.py`).
    """
    data_format = resolve(data_format)
    sizes = halving_plan(image_size, arch="The sampled critic")
    stages = len(sizes) - 1
    extras = extra_layers(settings["depth"], stages, network="critic")[::-1]
    act = settings["nonlinearity"]
    norm = None
    if settings["batch_norm"]:
        norm = "layer" if objectives.get(objective).gp_weight else "batch"

    images = keras.Input((image_size, image_size, channels), name="images")
    x, n, width = from_nhwc(images, data_format, name="nchw"), 0, channels
    for i in range(stages):
        n += 1
        filters = settings["base_filters"] * 2**i
        x = _conv(filters, width, RESAMPLING_KERNEL, n, data_format, stride=2)(x)
        x = _hidden(x, n, act, norm if n > 1 else None, data_format)
        width = filters
        for _ in range(extras[i]):
            n += 1
            x = _hidden(
                _conv(width, width, EXTRA_KERNEL, n, data_format)(x), n, act, norm, data_format
            )
    x = keras.layers.Flatten(data_format=data_format, name="flatten")(x)
    score = keras.layers.Dense(1, kernel_initializer=tflib_dense(INIT), name=f"layer{n + 1}")(x)
    return keras.Model(images, score, name="critic")


def build(
    description: dict[str, dict[str, Any]],
    *,
    objective: str | objectives.Objective,
    image_size: int = 32,
    channels: int = 3,
    latent_dim: int = 128,
    width_divisor: int = 1,
    data_format: str | None = None,
) -> tuple[keras.Model, keras.Model]:
    """The (generator, critic) pair of `description` for training under `objective`.

    `width_divisor` divides both base filter counts: a CPU-sized version of the space that
    keeps its depths, nonlinearities and normalisations. `data_format` as in
    `kwgan.architectures.build`.
    """
    description = check(description)
    g, c = (
        {**description[n], "base_filters": _divided(description[n], width_divisor)}
        for n in NETWORKS
    )
    shape = {"image_size": image_size, "channels": channels, "data_format": data_format}
    return (
        generator(g, latent_dim=latent_dim, **shape),
        critic(c, objective=objective, **shape),
    )


def _divided(settings: dict[str, Any], divisor: int) -> int:
    if check_positive_int(divisor, "width_divisor") and settings["base_filters"] % divisor:
        raise ConfigError(
            f"width_divisor must divide every base filter count {SPACE['base_filters']}; "
            f"got {divisor}."
        )
    return settings["base_filters"] // divisor
