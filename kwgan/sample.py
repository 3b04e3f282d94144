"""Sample an exported generator into an image grid (and optionally raw arrays).

    python -m kwgan.sample saved_models/digits --n 64 --out grid.png [--seed 0] [--npy x.npy]

A conditional generator's grid has one column per class (labels cycle 0, 1, …), or shows
one class with `--label K`.

This is the serving side of `kwgan.export`: the model is loaded with plain
`tf.saved_model.load` and called through its `serve` signature, never through Keras, so it
exercises the SavedModel exactly as a deployment would. Noise is drawn with
NumPy's seeded generator, so the same `--seed` gives the same samples on any machine,
independent of TensorFlow's RNG.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from absl import app, flags

from kwgan.export import SIGNATURE, load_metadata, require_tensorflow
from kwgan.grid import save_grid
from kwgan.io import atomic_path

_CHUNK = 256  # bounds activation memory when drawing many samples for --npy


def generate(
    path: str | os.PathLike, n: int, seed: int = 0, label: int | None = None
) -> np.ndarray:
    """Draws `n` float32 samples [n, H, W, C] from the kwgan SavedModel at `path`.

    Noise is N(0, I) of the metadata's latent dim from `numpy.random.default_rng(seed)`.
    A conditional generator draws class `label`, or cycles through its classes if None.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, got {n}.")
    info = load_metadata(path)
    latent_dim = int(info["latent_dim"])
    labels = _labels(info, n, label)
    require_tensorflow()
    import tensorflow as tf

    # Keep the loaded object referenced: a bare `load(...).serve` loses its variables to GC.
    model = tf.saved_model.load(os.fspath(path))
    serve = getattr(model, SIGNATURE)
    noise = np.random.default_rng(seed).standard_normal((n, latent_dim), dtype=np.float32)
    chunks = []
    for i in range(0, n, _CHUNK):
        inputs = [tf.constant(noise[i : i + _CHUNK])]
        if labels is not None:
            inputs.append(tf.constant(labels[i : i + _CHUNK]))
        chunks.append(serve(*inputs).numpy())
    return np.concatenate(chunks)


def _labels(info: dict, n: int, label: int | None) -> np.ndarray | None:
    """The int32 labels of a conditional export (None for an unconditional one)."""
    if not info.get("conditional"):
        if label is not None:
            raise ValueError("This generator is unconditional; --label does not apply.")
        return None
    classes = int(info["num_classes"])
    if label is None:
        return (np.arange(n) % classes).astype("int32")
    if not 0 <= label < classes:
        raise ValueError(f"label must be in [0, {classes}), got {label}.")
    return np.full((n,), label, "int32")


def _define_flags() -> None:
    """Defined only when run as a CLI, so importing `generate` never clashes with the
    importer's own absl flags (experiments define `--seed` too)."""
    flags.DEFINE_integer("n", 64, "Number of samples.", lower_bound=1)
    flags.DEFINE_string("out", None, "Where to write the PNG grid.", required=True)
    flags.DEFINE_integer("seed", 0, "Seed of the N(0, I) noise.")
    flags.DEFINE_string("npy", None, "Optional .npy path for the raw float32 samples.")
    flags.DEFINE_integer("label", None, "Conditional generators: draw only this class.")
    flags.DEFINE_integer("nrow", None, "Images per grid row (default: square-ish, or one column per class).")
    flags.DEFINE_integer("scale", 4, "Nearest-neighbour upscaling of the PNG.", lower_bound=1)


def _run(argv: list[str]) -> None:
    if len(argv) != 2:
        raise app.UsageError("Expected exactly one argument: the SavedModel directory.")
    FLAGS = flags.FLAGS
    try:
        samples = generate(argv[1], FLAGS.n, FLAGS.seed, FLAGS.label)
        info = load_metadata(argv[1])
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"kwgan.sample: {e}")
    nrow = FLAGS.nrow
    if nrow is None and info.get("conditional") and FLAGS.label is None:
        nrow = int(info["num_classes"])
    save_grid(samples, FLAGS.out, nrow=nrow, scale=FLAGS.scale)
    if FLAGS.npy:
        with atomic_path(FLAGS.npy, suffix=".npy") as tmp:
            np.save(tmp, samples)


def main() -> None:
    _define_flags()
    app.run(_run)


if __name__ == "__main__":
    main()
