"""Raw pixels to what a model sees: resized and cropped, in [-1, 1], with the channels asked for.

Every image dataset reaches a model the way the WGAN repo feeds its critic: the short side
resized to `image_size` and the centre square cropped (`kwgan.data.resize`), float32 NHWC
in [-1, 1] to match a tanh generator. `model_pixels` does the scaling and channel conversion
on NumPy arrays and TF tensors alike; `to_model` is the whole map as a tf.data map.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from kwgan.data.registry import DatasetInfo
from kwgan.data.resize import resize_and_crop_tf

LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2, as Pillow's convert("L") and TF's rgb_to_grayscale


def model_pixels(image: Any, info: DatasetInfo, channels: int) -> Any:
    """Maps raw pixels in [0, info.max_value] to [-1, 1] and converts to `channels` channels.

    This uses only slicing and arithmetic, so it runs unchanged on NumPy arrays and on TF
    tensors. Gray becomes RGB by repetition, and RGB becomes gray by ITU-R 601-2 luma.
    """
    image = image * (2.0 / info.max_value) - 1.0
    if image.shape[-1] == channels:
        return image
    if channels == 3:
        return image * np.ones(3, np.float32)
    return sum(weight * image[..., c : c + 1] for c, weight in enumerate(LUMA))


def to_model(
    info: DatasetInfo, image_size: int, channels: int, with_labels: bool
) -> Callable[[dict[str, Any]], Any]:
    """The tf.data map from a raw example (`{"image": ..., "label": ...}`) to what a model
    gets: the image resized, cropped and scaled, or an `(image, int32 label)` pair."""
    import tensorflow as tf

    def example_to_model(example: dict[str, Any]) -> Any:
        image = resize_and_crop_tf(example["image"], image_size)
        image = tf.clip_by_value(model_pixels(image, info, channels), -1.0, 1.0)
        return (image, tf.cast(example["label"], tf.int32)) if with_labels else image

    return example_to_model
