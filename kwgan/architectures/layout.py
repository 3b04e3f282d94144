"""Where the channels go inside kwgan's image networks: NHWC at their edges, either inside.

Keras's torch backend runs every channels_last convolution by transposing its input to NCHW
(a contiguous copy), padding it explicitly for 'same', and transposing the result back
(`keras/src/backend/torch/nn.py`, `_transpose_spatial_inputs`), because torch's kernels are
NCHW. A network built with `data_format="channels_first"` keeps its feature maps in NCHW and
skips those copies. Images stay NHWC everywhere outside the networks (data pipelines,
`GAN.generate`, evaluators, exports), so a channels_first critic transposes its input once
(`FromNHWC`) and a channels_first generator its output once (`ToNHWC`).

The weights are the same in both layouts: Keras's conv kernels have one shape in either, the
norms have per-channel parameters, and where a Dense layer meets a feature map the element
order is the channels_last one (`Flatten(data_format=...)`, `feature_map`). So
`set_weights(get_weights())` between the two builds of an architecture gives the same
function, and `to_channels_last` turns a channels_first network into one that TensorFlow's
CPU kernels, which are NHWC only, can run.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from kwgan.errors import ConfigError

DATA_FORMATS = ("channels_last", "channels_first")
"""The layouts every image architecture accepts as `data_format`."""

_register = keras.saving.register_keras_serializable(package="kwgan")


def default_data_format() -> str:
    """The layout the architectures compute in when `data_format` is None, per backend.

    "channels_first" on torch, whose convolutions are NCHW: channels_last costs two copies of
    every feature map per convolution there. "channels_last" on TensorFlow, whose CPU
    convolutions support NHWC only, and on JAX, where XLA compiles either layout and
    channels_last, the layout of kwgan's images, needs no transposes at the network edges.
    """
    return "channels_first" if keras.backend.backend() == "torch" else "channels_last"


def resolve(data_format: str | None) -> str:
    """`data_format`, or `default_data_format()` for None; a `ConfigError` for an unknown
    layout or for channels_first on a TensorFlow without a GPU, which could not run it."""
    if data_format is None:
        return default_data_format()
    if data_format not in DATA_FORMATS:
        raise ConfigError(f"Unknown data_format {data_format!r}; expected one of {DATA_FORMATS}.")
    if data_format == "channels_first" and _tensorflow_on_cpu():
        raise ConfigError(
            "TensorFlow's CPU convolutions support channels_last (NHWC) only; build with "
            "data_format='channels_last' (or None, the default on TensorFlow), or use the "
            "torch or JAX backend for channels_first."
        )
    return data_format


def _tensorflow_on_cpu() -> bool:
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")


def channel_axis(data_format: str) -> int:
    """The channel axis of a feature map in `data_format`; also right for (batch, features)
    tensors, whose axis 1 is their last."""
    return 1 if data_format == "channels_first" else -1


def num_channels(x: Any, data_format: str) -> int:
    """The number of channels of the feature map `x`."""
    return int(x.shape[channel_axis(data_format)])


class _Transpose(keras.layers.Layer):
    """Moves the channel axis between NHWC and `data_format`.

    A layer of its own rather than a `keras.layers.Permute`, so that its `data_format` marks
    it as the layout's: `to_channels_last` switches it, with every other layer, to
    channels_last, where it is a no-op.
    """

    permutation: tuple[int, int, int, int]

    def __init__(self, data_format: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs: Any) -> Any:
        if self.data_format == "channels_last":
            return inputs
        return ops.transpose(inputs, self.permutation)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        if self.data_format == "channels_last":
            return tuple(input_shape)
        return tuple(input_shape[i] for i in self.permutation)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


@_register
class FromNHWC(_Transpose):
    """An NHWC image into the network's `data_format`: NCHW for channels_first."""

    permutation = (0, 3, 1, 2)


@_register
class ToNHWC(_Transpose):
    """A feature map in `data_format` back to NHWC: the generator's last layer."""

    permutation = (0, 2, 3, 1)


def from_nhwc(x: Any, data_format: str, *, name: str) -> Any:
    """`x` (NHWC) in `data_format`; adds a `FromNHWC` layer only where there is a transpose."""
    return x if data_format == "channels_last" else FromNHWC(data_format, name=name)(x)


def to_nhwc(x: Any, data_format: str, *, name: str = "nhwc") -> Any:
    """`x` (in `data_format`) as NHWC; adds a `ToNHWC` layer only where there is a transpose."""
    return x if data_format == "channels_last" else ToNHWC(data_format, name=name)(x)


def feature_map(x: Any, size: int, channels: int, data_format: str, *, name: str) -> Any:
    """The features `x` (batch, size·size·channels) as a size×size map in `data_format`.

    Reshaped in channels_last order first, so that the Dense layer before it has the same
    kernel in both layouts.
    """
    x = keras.layers.Reshape((size, size, channels), name=name)(x)
    return from_nhwc(x, data_format, name=f"{name}_nchw")


def to_channels_last(model: keras.Model) -> keras.Model:
    """A channels_last copy of the functional (or Sequential) `model` with the same weights,
    or `model` itself when none of its layers is channels_first.

    For networks built by `kwgan.architectures`: the SavedModel export uses it, since
    TensorFlow serves on CPUs too, whose convolutions are NHWC only. Every layer with a
    `data_format` switches to channels_last, which makes `FromNHWC` / `ToNHWC` no-ops, and
    every batch norm over feature maps normalises the last axis, where the channels go.
    """
    if not any(getattr(layer, "data_format", None) == "channels_first" for layer in model.layers):
        return model
    config = model.get_config()
    for layer in config["layers"]:
        if "data_format" in layer["config"]:
            layer["config"]["data_format"] = "channels_last"
        if layer["class_name"] == "BatchNormalization" and _rank(layer) > 2:
            layer["config"]["axis"] = -1
        layer.pop("build_config", None)  # channels_first shapes; the copy builds on its inputs
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _rank(layer: dict[str, Any]) -> int:
    """The input rank of a serialised layer (its build config holds the input shape)."""
    return len(layer["build_config"]["input_shape"])
