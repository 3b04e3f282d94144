"""Which image sizes each family of architectures can produce, with errors that say so."""

from __future__ import annotations

from kwgan.errors import ConfigError, check_positive_int


def halving_plan(image_size: int, *, arch: str) -> list[int]:
    """Spatial sizes from `image_size` down to 4 in stride-2 'same' steps, which round up.

    The DCGAN-style networks of the WGAN-GP code run stride-2 'same' convs from the image down
    to 4×4, and their generators mirror that with stride-2 deconvs, cropping when a deconv
    overshoots (gan_mnist.py crops 8×8 to 7×7 on the way to 28×28). So they work at every size
    that reaches exactly 4 by halving and rounding up: 8, 16, 32, 64, but also 7, 13–14, 25–28.
    Returns e.g. [28, 14, 7, 4] or [64, 32, 16, 8, 4].
    """
    check_positive_int(image_size, "image_size")
    sizes = [image_size]
    while sizes[-1] > 4:
        sizes.append(-(-sizes[-1] // 2))
    if len(sizes) < 2 or sizes[-1] != 4:
        raise ConfigError(
            f"{arch} needs an image size that halves (rounding up) to exactly 4, e.g. 8, 14, 16, "
            f"28, 32, 64 or 128; got {image_size}."
        )
    return sizes


def doubling_stages(image_size: int, *, arch: str, smallest: int = 8) -> int:
    """How many ×2 stages lead from 4×4 to `image_size`, which must be `smallest`·2^k.

    The residual networks upsample by exactly 2 per block and mean-pool by exactly 2, so they
    need a power of two times 4. The WGAN repo's DCGAN needs a power of two from 16 on: it
    asserts `isize % 16 == 0`, but its generator's `while tisize != isize` loop only ends for
    powers of two (48 would loop forever), and its critic's final 4×4 conv needs a 4×4 map.
    """
    check_positive_int(image_size, "image_size")
    stages, size = 0, 4
    while size < image_size:
        size, stages = size * 2, stages + 1
    if size != image_size or image_size < smallest:
        examples = ", ".join(str(smallest * 2**i) for i in range(4))
        raise ConfigError(
            f"{arch} needs image_size = {smallest}·2^k ({examples}, …); got {image_size}."
        )
    return stages
