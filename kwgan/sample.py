"""Sample an exported generator into an image grid and/or raw arrays.

    python -m kwgan.sample saved_models/digits --n 64 --out grid.png [--seed 0] [--npy x.npy]

At least one of `--out` (an image grid, in the format its suffix names: `.png`, `.jpg`,
`.webp`, ...; `kwgan.grid.FORMATS`) and `--npy` (the float32 samples) is needed; a generator
of points rather than images (the toy problems) can only be written with `--npy`. A
conditional generator's grid has one column per class (labels cycle 0, 1, …), or shows one
class with `--label K`.

Nothing the user had is replaced unasked: a file already at `--out` or `--npy` is refused
unless `--overwrite` is given, since kwgan cannot tell a grid it wrote from a picture or
notes of the user's under the same name; a directory there is never replaced.

This is the serving side of `kwgan.export`: the model is loaded with plain
`tf.saved_model.load` and called through its `serve` signature, never through Keras, so it
exercises the SavedModel exactly as a deployment would. Noise is drawn with
NumPy's seeded generator, so the same `--seed` gives the same samples on any machine,
independent of TensorFlow's RNG.

Everything that can be checked from the export's `kwgan.json` and the flags (a damaged
export, a bad label, a grid too large to open, a suffix that names no image format, an
output path that exists) is checked before TensorFlow loads the model, and reported as one
line on stderr.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from absl import flags

from kwgan.cli import run, saved_model_argument
from kwgan.errors import ConfigError, OutputExistsError
from kwgan.export import SIGNATURE, load_metadata, load_saved_model
from kwgan.grid import check_grid, save_grid
from kwgan.io import atomic_path, check_output

_CHUNK = 256  # bounds activation memory when drawing many samples for --npy


def generate(
    path: str | os.PathLike, n: int, seed: int = 0, label: int | None = None
) -> np.ndarray:
    """Draws `n` float32 samples [n, *output_shape] from the kwgan SavedModel at `path`.

    Noise is N(0, I) of the metadata's latent dim from `numpy.random.default_rng(seed)`.
    A conditional generator draws class `label`, or cycles through its classes if None.
    Raises `ConfigError` for a bad `n` or `label`, `DataNotFoundError` if `path` does not
    exist and `ExportError` if it is not a kwgan export or is damaged.
    """
    _check_n(n)
    info = load_metadata(path)
    return _draw(path, info, n, seed, _labels(info, n, label))


def _draw(
    path: str | os.PathLike, info: dict[str, Any], n: int, seed: int, labels: np.ndarray | None
) -> np.ndarray:
    """`generate` once its arguments are checked against the metadata."""
    # Keep the loaded object referenced: a bare `load(...).serve` loses its variables to GC.
    model = load_saved_model(path)
    import tensorflow as tf  # load_saved_model has checked that it is installed

    serve = getattr(model, SIGNATURE)
    noise = np.random.default_rng(seed).standard_normal(
        (n, int(info["latent_dim"])), dtype=np.float32
    )
    chunks = []
    for i in range(0, n, _CHUNK):
        inputs = [tf.constant(noise[i : i + _CHUNK])]
        if labels is not None:
            inputs.append(tf.constant(labels[i : i + _CHUNK]))
        chunks.append(serve(*inputs).numpy())
    return np.concatenate(chunks)


def _check_n(n: int) -> None:
    if n <= 0:
        raise ConfigError(f"The number of samples must be positive, got --n {n}.")


def _labels(info: dict, n: int, label: int | None) -> np.ndarray | None:
    """The int32 labels of a conditional export (None for an unconditional one)."""
    if not info["conditional"]:
        if label is not None:
            raise ConfigError(
                f"This generator is unconditional; --label {label} does not apply (leave it out)."
            )
        return None
    classes = int(info["num_classes"])
    if label is None:
        return (np.arange(n) % classes).astype("int32")
    if not 0 <= label < classes:
        raise ConfigError(
            f"This generator has {classes} classes: --label must be in 0..{classes - 1}, "
            f"got {label}."
        )
    return np.full((n,), label, "int32")


def _define_flags() -> None:
    """Defined only when run as a CLI, so importing `generate` never clashes with the
    importer's own absl flags (experiments define `--seed` too). Ranges are checked in
    `_run`, not with absl's bounds, so that a bad value is reported as one line."""
    flags.DEFINE_integer("n", 64, "Number of samples.")
    flags.DEFINE_string(
        "out", None, "Where to write the image grid, as its suffix says (.png, .jpg, ...)."
    )
    flags.DEFINE_integer("seed", 0, "Seed of the N(0, I) noise.")
    flags.DEFINE_string("npy", None, "Where to write the raw float32 samples as .npy.")
    flags.DEFINE_integer("label", None, "Conditional generators: draw only this class.")
    flags.DEFINE_integer(
        "nrow", None, "Images per grid row (default: square-ish, or one column per class)."
    )
    flags.DEFINE_integer("scale", 4, "Nearest-neighbour upscaling of the grid.")
    flags.DEFINE_boolean(
        "overwrite", False, "Replace a file already at --out or --npy (never a directory)."
    )


def _check_output(flag: str, path: str, overwrite: bool) -> None:
    """Refuses an output path kwgan would not replace: a directory always, an existing file
    unless `--overwrite` (kwgan cannot tell whether it wrote that file)."""
    check_output(path)
    if not overwrite and os.path.lexists(path):
        raise OutputExistsError(
            f"--{flag} {path!r} already exists, and kwgan cannot tell that it wrote it; "
            "refusing to replace it. Pass --overwrite to replace it, or choose a new name."
        )


def _run(argv: list[str]) -> None:
    """Checks everything it can before loading TensorFlow, then samples and writes."""
    path = saved_model_argument(
        argv, "python -m kwgan.sample DIR --n 64 --out grid.png [--npy samples.npy]"
    )
    FLAGS = flags.FLAGS
    out, npy = FLAGS.out, FLAGS.npy
    if not out and not npy:
        raise ConfigError(
            "Nothing to write: pass --out grid.png for an image grid, --npy samples.npy for "
            "the raw samples, or both."
        )
    _check_n(FLAGS.n)
    info = load_metadata(path)
    labels = _labels(info, FLAGS.n, FLAGS.label)
    nrow = FLAGS.nrow
    if nrow is None and info["conditional"] and FLAGS.label is None:
        nrow = int(info["num_classes"])
    for flag, output in (("out", out), ("npy", npy)):
        if output:
            _check_output(flag, output, FLAGS.overwrite)
    if out:
        check_grid(FLAGS.n, info["output_shape"], nrow, FLAGS.scale, path=out)
    samples = _draw(path, info, FLAGS.n, FLAGS.seed, labels)
    if out:
        save_grid(samples, out, nrow=nrow, scale=FLAGS.scale, overwrite=FLAGS.overwrite)
    if npy:
        with atomic_path(npy, suffix=".npy", overwrite=FLAGS.overwrite) as tmp:
            np.save(tmp, samples)


def main() -> None:
    _define_flags()
    run(_run)


if __name__ == "__main__":
    main()
