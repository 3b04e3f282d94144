"""This machine's measured matrix throughput in float32 and bfloat16: the limit beside a row.

A CPU with AMX tiles (`amx_bf16` in /proc/cpuinfo) multiplies bfloat16 matrices several
times faster than float32 ones, but only through the libraries' oneDNN kernels that use the
tiles. This measures, per library and dtype, a square matrix product and a convolution of
the InfoGAN critic's second layer (4×4, stride 2, 64 → 128 channels on 14×14 maps, the
largest convolution of the Fashion-MNIST network) and prints one JSON line each, in
TFLOP/s. `benchmarks/speed.py` runs it in the same invocation as its rows and divides each
row's TFLOP/s by the best measured here for the row's precision.

    python benchmarks/peak.py [--libraries torch,tensorflow] [--size 2048]
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable

from absl import app, flags

LIBRARIES = ("torch", "tensorflow", "jax")
DTYPES = ("float32", "bfloat16")
CONV = {"batch": 256, "size": 14, "in": 64, "out": 128, "kernel": 4, "stride": 2}

flags.DEFINE_list("libraries", list(LIBRARIES), "Libraries to measure (skipped if missing).")
flags.DEFINE_integer("size", 2048, "Side of the square matrices.")
flags.DEFINE_float("seconds", 1.0, "Timed seconds per measurement (after one warm-up call).")
FLAGS = flags.FLAGS


def conv_flop() -> float:
    """Multiply-adds ×2 of the convolution `CONV` (same padding: output side size/stride)."""
    out_side = CONV["size"] // CONV["stride"]
    return 2.0 * CONV["batch"] * out_side**2 * CONV["out"] * CONV["in"] * CONV["kernel"] ** 2


def rate(run: Callable[[], None], flop: float) -> float:
    """TFLOP/s of `run` (which must wait for its result), timed for about --seconds.

    At least one timed call: XLA:CPU's bfloat16 kernels are emulated, and a 2048² product
    takes tens of seconds there.
    """
    run()  # warm-up: kernel selection, JIT compilation
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < FLAGS.seconds or not calls:
        run()
        calls += 1
    return flop * calls / (time.perf_counter() - start) / 1e12


def torch_ops(dtype: str) -> dict[str, Callable[[], None]]:
    import torch

    torch.manual_seed(0)
    kind = getattr(torch, dtype)
    n = FLAGS.size
    a, b = torch.randn(n, n, dtype=kind), torch.randn(n, n, dtype=kind)
    x = torch.randn(CONV["batch"], CONV["in"], CONV["size"], CONV["size"], dtype=kind)
    w = torch.randn(CONV["out"], CONV["in"], CONV["kernel"], CONV["kernel"], dtype=kind)
    stride = CONV["stride"]
    return {
        "matmul": lambda: torch.mm(a, b),
        "conv": lambda: torch.nn.functional.conv2d(x, w, stride=stride, padding=1),
    }


def tensorflow_ops(dtype: str) -> dict[str, Callable[[], None]]:
    import tensorflow as tf

    kind = getattr(tf, dtype)
    n = FLAGS.size
    a = tf.cast(tf.random.normal((n, n), seed=0), kind)
    b = tf.cast(tf.random.normal((n, n), seed=1), kind)
    x = tf.cast(tf.random.normal((CONV["batch"], CONV["size"], CONV["size"], CONV["in"])), kind)
    w = tf.cast(tf.random.normal((CONV["kernel"], CONV["kernel"], CONV["in"], CONV["out"])), kind)
    stride = CONV["stride"]
    return {
        "matmul": lambda: tf.matmul(a, b).numpy(),
        "conv": lambda: tf.nn.conv2d(x, w, stride, "SAME").numpy(),
    }


def jax_ops(dtype: str) -> dict[str, Callable[[], None]]:
    import jax
    import jax.numpy as jnp

    kind = getattr(jnp, dtype)
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    n = FLAGS.size
    a, b = (jax.random.normal(k, (n, n)).astype(kind) for k in keys[:2])
    x = jax.random.normal(keys[2], (CONV["batch"], CONV["size"], CONV["size"], CONV["in"]))
    w = jax.random.normal(keys[3], (CONV["kernel"], CONV["kernel"], CONV["in"], CONV["out"]))
    x, w = x.astype(kind), w.astype(kind)
    stride = (CONV["stride"],) * 2
    dims = ("NHWC", "HWIO", "NHWC")
    matmul = jax.jit(jnp.matmul)
    conv = jax.jit(
        lambda x, w: jax.lax.conv_general_dilated(x, w, stride, "SAME", dimension_numbers=dims)
    )
    return {
        "matmul": lambda: matmul(a, b).block_until_ready(),
        "conv": lambda: conv(x, w).block_until_ready(),
    }


OPS = {"torch": torch_ops, "tensorflow": tensorflow_ops, "jax": jax_ops}


def measure(library: str, dtype: str) -> list[dict]:
    """One row per op of `library` in `dtype`."""
    flop = {"matmul": 2.0 * FLAGS.size**3, "conv": conv_flop()}
    return [
        {"library": library, "dtype": dtype, "op": op, "tflop_per_s": rate(run, flop[op])}
        for op, run in OPS[library](dtype).items()
    ]


def main(argv: list[str]) -> None:
    del argv  # flags only
    unknown = set(FLAGS.libraries) - set(LIBRARIES)
    if unknown:
        raise app.UsageError(f"Unknown libraries {sorted(unknown)}; choose from {LIBRARIES}.")
    for library in FLAGS.libraries:
        if importlib.util.find_spec(library) is None:
            continue
        for dtype in DTYPES:
            for row in measure(library, dtype):
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    app.run(main)
