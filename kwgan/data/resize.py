"""Short side to `size`, then the centre square: the WGAN repo's `Scale(size)` + `CenterCrop(size)`.

Every image dataset in kwgan goes through this one transform, so LSUN bedrooms, CIFAR-10,
MNIST, an image folder and the sklearn digits all reach a model the same way. It exists twice
only because of where it runs: `resize_and_crop_tf` inside tf.data pipelines, and
`resize_and_crop` (Pillow) on machines without TensorFlow. Both take their geometry from
`crop_box` and both resample bilinearly with antialiasing (a triangle filter widened by the
downscale factor, which is what Pillow's BILINEAR does and what torchvision's `Scale` used), so
the two paths give the same pixels up to float rounding. The resizer matters: an aliasing
downscale visibly changes FID (StudioGAN's "clean resize" study).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf


def crop_box(
    height: Any, width: Any, size: int, minimum: Callable[[Any, Any], Any] = min
) -> tuple[Any, Any, Any, Any]:
    """`(resized_height, resized_width, top, left)` for a short-side resize plus centre crop.

    As in torchvision's `Scale`, the short side becomes exactly `size` and the long side is
    truncated (`long * size // short`, in exact integer arithmetic); the crop offset rounds
    down, as `tf.image.resize_with_crop_or_pad` does. Only operators are used, plus `minimum`,
    so the same formula runs on Python ints (`min`) and on the int32 shape tensors of a
    tf.data map (`tf.minimum`).
    """
    short = minimum(height, width)
    resized_height = height * size // short
    resized_width = width * size // short
    return resized_height, resized_width, (resized_height - size) // 2, (resized_width - size) // 2


def resize_and_crop(image: np.ndarray, size: int) -> np.ndarray:
    """Resizes an `[H, W, C]` image so its short side is `size`, then crops the centre square.

    Each channel is resampled as a 32-bit float image (Pillow mode "F"), so pixel values are
    never rounded to uint8 on the way; the result is float32 `[size, size, C]`.
    """
    # Imported here, not at the top: kwgan trains without Pillow (accelerator machines).
    from PIL import Image

    height, width = image.shape[:2]
    resized_height, resized_width, top, left = crop_box(height, width, size)
    channels = [
        Image.fromarray(np.ascontiguousarray(image[..., c], dtype=np.float32))
        .resize((resized_width, resized_height), Image.Resampling.BILINEAR)
        .crop((left, top, left + size, top + size))
        for c in range(image.shape[-1])
    ]
    return np.stack([np.asarray(channel) for channel in channels], axis=-1)


def resize_and_crop_tf(image: tf.Tensor, size: int) -> tf.Tensor:
    """`resize_and_crop` in TensorFlow ops, for one `[H, W, C]` image tensor of any size.

    The result has the static shape `[size, size, C]`, so batches have a fully known shape and
    jit-compiled training steps are traced once.
    """
    import tensorflow as tf

    shape = tf.shape(image)
    resized_height, resized_width, top, left = crop_box(
        shape[0], shape[1], size, minimum=tf.minimum
    )
    resized = tf.image.resize(
        image, tf.stack([resized_height, resized_width]), method="bilinear", antialias=True
    )
    cropped = resized[top : top + size, left : left + size]
    return tf.ensure_shape(cropped, [size, size, image.shape[-1]])
