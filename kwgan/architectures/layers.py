"""Custom layers for the reference architectures, written with `keras.ops` only.

Each layer reproduces one tflib op or helper from the WGAN-GP reference code
(`igul222/improved_wgan_training`). Each works in either layout (`data_format`, see
`layout.py`), with parameters of the same shapes in both:

- `ChannelLayerNorm`: `tflib.ops.layernorm.Layernorm(name, [1,2,3], x)`. Statistics over
  (H, W, C) per example, but scale and offset per *channel*. Keras's
  `LayerNormalization(axis=[1, 2, 3])` would give them the shape (H, W, C), which changes both
  the parameter count and what the layer can express.
- `ConditionalBatchNorm`: `tflib.ops.cond_batchnorm.Batchnorm`. Batch statistics shared by all
  classes, with a per-class scale and offset looked up by label.
- `GatedActivation`: `pixcnn_gated_nonlinearity(x[:, ::2], x[:, 1::2])` from `gan_64x64.py`.
- `SubpixelConv2D`, `UpsampleConv2D`, `ConvMeanPool`, `MeanPoolConv`: the resampling
  convolutions of `gan_64x64.py` and `gan_cifar_resnet.py`.

`normalize` picks the normalisation layer that an architecture's `Normalize(...)` call would
use. All layers are registered under the package name "kwgan", so models that use them save to
and load from `.keras` files.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kwgan.architectures.layout import channel_axis, resolve
from kwgan.errors import ConfigError

NORMS = ("batch", "layer", None)
"""Normalisation kinds accepted by `normalize` and by the builders' `norm` arguments."""

# ε of every norm here: tflib's fused and non-fused batch norm and its layer norm
# (tflib/ops/layernorm.py), and PyTorch's BatchNorm2d.
NORM_EPSILON = 1e-5
BN_MOMENTUM = 0.9  # PyTorch's running-average rate 0.1. The references never read these stats.

_register = keras.saving.register_keras_serializable(package="kwgan")


def _upcast(x: Any) -> Any:
    """Computes normalisation statistics in float32 at least, as Keras's own norms do."""
    return ops.cast(x, keras.backend.result_type(x.dtype, "float32"))


class _ChannelLayer(keras.layers.Layer):
    """A layer that needs to know its input's channel axis: `data_format`.

    None takes Keras's `image_data_format()`, as Keras's own layers do, which also keeps
    `.keras` files saved before these layers had the argument loading as channels_last.
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format or keras.config.image_data_format()

    @property
    def channel_axis(self) -> int:
        return channel_axis(self.data_format)

    def _per_channel(self, x: Any, batch: int = 1) -> list[int]:
        """The shape that broadcasts (batch, C) values along the channel axis of `x`."""
        shape = [1] * len(x.shape)
        shape[0] = batch
        shape[self.channel_axis] = x.shape[self.channel_axis]
        return shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


@_register
class ChannelLayerNorm(_ChannelLayer):
    """Layer norm over all non-batch axes, with a scale and offset per channel.

    y = (x − mean) / sqrt(var + ε) · γ[c] + β[c], where the mean and variance of each example
    are taken over (H, W, C), or over the features of a 2-D input. This is the layer norm that
    the WGAN-GP critics use in place of batch norm (`tflib.ops.layernorm.Layernorm` with
    `norm_axes=[1,2,3]`). It has ε = 1e-5, and γ, β of shape (C,), C on the `data_format`
    channel axis.
    """

    def __init__(
        self,
        epsilon: float = NORM_EPSILON,
        gamma_initializer: Any = "ones",
        beta_initializer: Any = "zeros",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.gamma_initializer = keras.initializers.get(gamma_initializer)
        self.beta_initializer = keras.initializers.get(beta_initializer)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = input_shape[self.channel_axis]
        self.gamma = self.add_weight(
            name="gamma", shape=(channels,), initializer=self.gamma_initializer
        )
        self.beta = self.add_weight(
            name="beta", shape=(channels,), initializer=self.beta_initializer
        )

    def call(self, inputs: Any) -> Any:
        x = _upcast(inputs)
        axes = tuple(range(1, len(x.shape)))
        mean, variance = ops.moments(x, axes=axes, keepdims=True)
        gamma = ops.reshape(ops.cast(self.gamma, x.dtype), self._per_channel(x))
        beta = ops.reshape(ops.cast(self.beta, x.dtype), self._per_channel(x))
        outputs = (x - mean) * ops.rsqrt(variance + self.epsilon) * gamma + beta
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
            "beta_initializer": keras.initializers.serialize(self.beta_initializer),
        }


@_register
class ConditionalBatchNorm(_ChannelLayer):
    """Batch norm with a scale and offset per class (Dumoulin et al., 2016).

    Called on `[x, labels]`, where labels are integer class ids of shape (B,) or (B, 1). The
    mean and variance are taken over every axis but the channel axis (of `data_format`) and
    are shared by all classes; γ and β are rows of (num_classes, C) tables, initialised to 1
    and 0. This is `tflib.ops.cond_batchnorm.Batchnorm`, used by the conditional CIFAR-10
    ResNet generator.

    As in `keras.layers.BatchNormalization`, `training=True` normalises with batch statistics
    and updates moving averages; `training=False` normalises with the moving averages. The
    reference always uses batch statistics, so call the generator with `training=True` to
    reproduce it.
    """

    def __init__(
        self,
        num_classes: int,
        momentum: float = BN_MOMENTUM,
        epsilon: float = NORM_EPSILON,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.momentum = momentum
        self.epsilon = epsilon

    def build(self, input_shape: list[tuple[int | None, ...]]) -> None:
        channels = input_shape[0][self.channel_axis]
        self.gamma = self.add_weight(
            name="gamma", shape=(self.num_classes, channels), initializer="ones"
        )
        self.beta = self.add_weight(
            name="beta", shape=(self.num_classes, channels), initializer="zeros"
        )
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=(channels,), initializer="zeros", trainable=False
        )
        self.moving_variance = self.add_weight(
            name="moving_variance", shape=(channels,), initializer="ones", trainable=False
        )

    def call(self, inputs: list[Any], training: bool | None = None) -> Any:
        x, labels = inputs
        x = _upcast(x)
        if training and self.trainable:
            axis = self.channel_axis % len(x.shape)
            mean, variance = ops.moments(x, axes=[a for a in range(len(x.shape)) if a != axis])
            m = self.momentum
            self.moving_mean.assign(self.moving_mean * m + ops.cast(mean, "float32") * (1 - m))
            self.moving_variance.assign(
                self.moving_variance * m + ops.cast(variance, "float32") * (1 - m)
            )
        else:
            mean = self.moving_mean
            variance = self.moving_variance
        mean = ops.reshape(ops.cast(mean, x.dtype), self._per_channel(x))
        variance = ops.reshape(ops.cast(variance, x.dtype), self._per_channel(x))
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        per_example = self._per_channel(x, batch=-1)
        gamma = ops.reshape(ops.take(ops.cast(self.gamma, x.dtype), labels, axis=0), per_example)
        beta = ops.reshape(ops.take(ops.cast(self.beta, x.dtype), labels, axis=0), per_example)
        outputs = (x - mean) * ops.rsqrt(variance + self.epsilon) * gamma + beta
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape: list[tuple[int | None, ...]]) -> tuple:
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
        }


@_register
class GatedActivation(_ChannelLayer):
    """sigmoid(a) · tanh(b), with a the even and b the odd channels: 2C channels in, C out.

    `pixcnn_gated_nonlinearity(x[:, ::2], x[:, 1::2])` of the WGAN-GP paper's "gated
    multiplicative nonlinearities" architecture (`MultiplicativeDCGANGenerator` and
    `MultiplicativeDCGANDiscriminator` in `gan_64x64.py`).
    """

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if input_shape[self.channel_axis] % 2:
            raise ConfigError(
                "GatedActivation needs an even number of channels; got "
                f"{input_shape[self.channel_axis]}."
            )

    def call(self, inputs: Any) -> Any:
        return ops.sigmoid(self._channels(inputs, 0)) * ops.tanh(self._channels(inputs, 1))

    def _channels(self, x: Any, start: int) -> Any:
        """Every other channel of `x`, from `start`."""
        index = [slice(None)] * len(x.shape)
        index[self.channel_axis] = slice(start, None, 2)
        return x[tuple(index)]

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        shape = list(input_shape)
        shape[self.channel_axis] //= 2
        return tuple(shape)


def _scale_spatial(shape: tuple[int | None, ...], factor: float, data_format: str) -> tuple:
    spatial = slice(1, 3) if data_format == "channels_last" else slice(2, 4)
    shape = list(shape)
    shape[spatial] = [None if s is None else int(s * factor) for s in shape[spatial]]
    return tuple(shape)


def _mean_pool(x: Any, data_format: str) -> Any:
    """Mean of the four stride-2 sub-grids: tflib's `add_n([x[::2,::2], …]) / 4`."""
    return ops.average_pool(x, 2, strides=2, padding="valid", data_format=data_format)


class _ResamplingConv2D(keras.layers.Conv2D):
    """A stride-1 'same' Conv2D with a fixed resampling step before or after it."""

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        padding: str = "same",
        **kwargs: Any,
    ) -> None:
        if padding != "same":
            raise ConfigError(f"{type(self).__name__} only supports padding='same'.")
        super().__init__(filters, kernel_size, strides=1, padding=padding, **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["strides"]
        return config


@_register
class ConvMeanPool(_ResamplingConv2D):
    """Conv2D ('same', stride 1), then 2×2 mean pooling: `ConvMeanPool` of the references."""

    def call(self, inputs: Any) -> Any:
        return _mean_pool(super().call(inputs), self.data_format)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        return _scale_spatial(super().compute_output_shape(input_shape), 0.5, self.data_format)


@_register
class MeanPoolConv(_ResamplingConv2D):
    """2×2 mean pooling, then Conv2D ('same', stride 1): `MeanPoolConv` of the references."""

    def call(self, inputs: Any) -> Any:
        return super().call(_mean_pool(inputs, self.data_format))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        pooled = _scale_spatial(input_shape, 0.5, self.data_format)
        return super().compute_output_shape(pooled)


@_register
class UpsampleConv2D(_ResamplingConv2D):
    """Nearest-neighbour ×2 upsampling, then Conv2D ('same', stride 1).

    `UpsampleConv` of the references: four copies of x concatenated on channels, then
    `depth_to_space(2)`, which is nearest-neighbour upsampling.
    """

    def call(self, inputs: Any) -> Any:
        h, w = (1, 2) if self.data_format == "channels_last" else (2, 3)
        upsampled = ops.repeat(ops.repeat(inputs, 2, axis=h), 2, axis=w)
        return super().call(upsampled)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        upsampled = _scale_spatial(input_shape, 2, self.data_format)
        return super().compute_output_shape(upsampled)


@_register
class SubpixelConv2D(_ResamplingConv2D):
    """Conv2D to 4·filters channels, then `depth_to_space(2)`: `SubpixelConv2D` of gan_64x64.

    `filters` is the number of channels after the shuffle. The channel order of the shuffle is
    TensorFlow's (`keras.ops.depth_to_space`), as in the reference, in both layouts.
    """

    def __init__(self, filters: int, kernel_size: int | tuple[int, int], **kwargs: Any) -> None:
        super().__init__(4 * filters, kernel_size, **kwargs)

    def call(self, inputs: Any) -> Any:
        return _depth_to_space(super().call(inputs), self.data_format)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        shape = list(_scale_spatial(super().compute_output_shape(input_shape), 2, self.data_format))
        channel = -1 if self.data_format == "channels_last" else 1
        shape[channel] //= 4
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters // 4}


def _depth_to_space(x: Any, data_format: str) -> Any:
    """TensorFlow's `depth_to_space(x, 2)`: channel (2i + j)·C + c moves to offset (i, j).

    Keras's channels_first version follows PyTorch's `pixel_shuffle` order (4c + 2i + j)
    instead, which would give `SubpixelConv2D` a different kernel in each layout.
    """
    if data_format == "channels_last":
        return ops.depth_to_space(x, 2)
    _, depth, height, width = x.shape
    x = ops.reshape(x, (-1, 2, 2, depth // 4, height, width))
    x = ops.transpose(x, (0, 3, 4, 1, 5, 2))
    return ops.reshape(x, (-1, depth // 4, 2 * height, 2 * width))


def normalize(
    x: Any,
    kind: str | None,
    *,
    name: str,
    labels: Any = None,
    num_classes: int | None = None,
    gamma_initializer: Any = "ones",
    data_format: str | None = None,
) -> Any:
    """Applies the normalisation `kind` to the symbolic tensor `x`, laid out in `data_format`
    (None: `layout.default_data_format()`), or a (batch, features) tensor.

    "batch": `BatchNormalization` (ε 1e-5), or `ConditionalBatchNorm` when `labels` is given.
    "layer": `ChannelLayerNorm`, per example over (H, W, C) with a per-channel scale and offset.
    None: no normalisation; returns `x` unchanged.
    """
    if kind not in NORMS:
        raise ConfigError(f"Unknown normalisation {kind!r}; expected one of {NORMS}.")
    if kind is None:
        return x
    data_format = resolve(data_format)
    if labels is not None:
        if kind != "batch":
            raise ConfigError(f"Conditional normalisation is batch norm only; got {kind!r}.")
        return ConditionalBatchNorm(num_classes, data_format=data_format, name=name)([x, labels])
    if kind == "layer":
        return ChannelLayerNorm(
            gamma_initializer=gamma_initializer, data_format=data_format, name=name
        )(x)
    return keras.layers.BatchNormalization(
        axis=channel_axis(data_format),
        momentum=BN_MOMENTUM,
        epsilon=NORM_EPSILON,
        gamma_initializer=gamma_initializer,
        name=name,
    )(x)


@_register
def smooth_elu(x: Any) -> Any:
    """softplus(2x + 2) / 2 − 1: the WGAN-GP paper's smooth stand-in for ELU (Appendix D).

    The gradient penalty differentiates the critic twice, and the paper could not train ELU
    (whose second derivative jumps at 0) with it. Like ELU this tends to x for large x and to
    −1 for very negative x, but it is smooth everywhere. It is Table 1's third nonlinearity.
    """
    return ops.softplus(2.0 * x + 2.0) / 2.0 - 1.0


def activation(kind: str, *, name: str, data_format: str | None = None) -> keras.layers.Layer:
    """The references' nonlinearities as layers: relu, leaky_relu (slope 0.2), tanh, gated,
    and smooth_elu (`smooth_elu`, of Table 1's random architectures). `data_format` (None:
    `layout.default_data_format()`) tells a gated layer where the channels are."""
    if kind == "relu":
        return keras.layers.ReLU(name=name)
    if kind == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=0.2, name=name)
    if kind == "gated":
        return GatedActivation(data_format=resolve(data_format), name=name)
    if kind in ("tanh", "sigmoid"):
        return keras.layers.Activation(kind, name=name)
    if kind == "smooth_elu":
        return keras.layers.Activation(smooth_elu, name=name)
    raise ConfigError(
        f"Unknown activation {kind!r}; expected relu, leaky_relu, tanh, sigmoid, gated or "
        "smooth_elu."
    )
