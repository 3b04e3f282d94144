"""Which numeric precision a run trains in: float32, bfloat16 mixed precision, or `auto`.

`mixed_bfloat16` (Keras's dtype policy: float32 variables, bfloat16 computation) runs the
matrix products on hardware that multiplies bfloat16 natively — the AMX tiles and
AVX-512 BF16 units of recent Xeon CPUs (`amx_bf16`, `avx512_bf16` in /proc/cpuinfo) and the
tensor cores of GPUs from NVIDIA's Ampere generation on (compute capability 8.0) — several
times faster than float32. kwgan keeps the gradient penalty and the losses in float32
(`kwgan.penalties`), which is what makes bfloat16 safe for WGAN-GP without loss scaling.
`auto` picks `mixed_bfloat16` where such hardware is present and `float32` elsewhere; a run
records the policy it resolved to, so a resume on other hardware is refused rather than
silently switching precision halfway.

The library's own default stays the user's Keras dtype policy: only the experiments take a
`precision`, applied while their models are built (`policy`).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator

import keras

from kwgan.errors import ConfigError

PRECISIONS = ("float32", "mixed_bfloat16", "auto")
CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def _cpu_flags(path: str = "/proc/cpuinfo") -> set[str]:
    """The CPU's feature flags (Linux); empty where /proc/cpuinfo is not there."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _gpu_bfloat16() -> bool:
    """Whether the backend's first accelerator has bfloat16 tensor cores."""
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        capability = getattr(device, "compute_capability", None)  # CUDA devices only
        return device.platform == "gpu" and capability is not None and float(capability) >= 8
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        details = tf.config.experimental.get_device_details(gpus[0]) if gpus else {}
        return details.get("compute_capability", (0, 0)) >= (8, 0)
    return False


# The backends that reach a CPU's bfloat16 units, through oneDNN. XLA:CPU converts bfloat16
# to float32 around its kernels: JAX's bfloat16 step runs at its float32 speed on a CPU with
# `avx512_bf16` (README, Speed), so there `auto` would lose precision for nothing.
CPU_BFLOAT16_BACKENDS = ("tensorflow", "torch")


@functools.cache
def _detected() -> bool:
    cpu_units = bool(_cpu_flags() & set(CPU_FLAGS))
    return _gpu_bfloat16() or (cpu_units and keras.backend.backend() in CPU_BFLOAT16_BACKENDS)


def native_bfloat16() -> bool:
    """Whether this machine multiplies bfloat16 natively where the backend computes: a GPU
    with bfloat16 tensor cores, else a CPU with AMX or AVX-512 BF16 units on a backend that
    uses them (TensorFlow and torch; not JAX's XLA:CPU).

    `KWGAN_NATIVE_BFLOAT16=0|1` overrides the detection (for tests, and for a machine
    whose detection is wrong)."""
    forced = os.environ.get("KWGAN_NATIVE_BFLOAT16")
    if forced in ("0", "1"):
        return forced == "1"
    return _detected()


def resolve(precision: str) -> str:
    """The Keras dtype policy `precision` means on this machine (`auto` resolved)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "auto":
        return "mixed_bfloat16" if native_bfloat16() else "float32"
    return precision


@contextlib.contextmanager
def policy(precision: str) -> Iterator[str]:
    """Sets Keras's global dtype policy to `resolve(precision)` for the models built inside
    (layers take the policy when they are created), then restores the user's."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(resolve(precision))
    try:
        yield keras.config.dtype_policy().name
    finally:
        keras.config.set_dtype_policy(previous)
