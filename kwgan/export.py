"""Exporting a trained generator as a TensorFlow SavedModel for serving.

The artefact is a SavedModel directory with one `serve` signature (also the
`serving_default`): float32 noise [batch, latent_dim] → float32 images, run with
`training=False` so BatchNormalization uses its moving statistics. Anything that can load a
SavedModel (TF Serving, `tf.saved_model.load`, `keras.layers.TFSMLayer`) can sample from it
without Keras or kwgan. A conditional generator (`[noise, labels]`) exports with a second
input, int32 `labels` [batch], and its class count in the metadata.

Beside the graph, the directory holds `kwgan.json` (`METADATA_FILE`): the latent dim and
output shape a sampler needs to draw noise, plus the caller's training facts (objective,
architecture, generator iterations, backend). It lives *inside* the SavedModel directory so
that the model and its description are written, moved and replaced as one unit.

Keras 3 can only write a SavedModel natively from the TensorFlow backend (JAX goes through
jax2tf; torch needs torch_xla and currently fails in `torch.export`). So on every other
backend the generator is saved to a temporary `.keras` file and re-exported by a
`KERAS_BACKEND=tensorflow` subprocess: one route, the same pure-TF graph, whatever the
training backend. This module imports TensorFlow only inside the export itself, so kwgan
imports without it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from importlib.util import find_spec
from typing import Any

import keras

from kwgan.io import atomic_path, write_json

METADATA_FILE = "kwgan.json"
SIGNATURE = "serve"
_FORMAT = "kwgan.generator"
_FORMAT_VERSION = 1
_DERIVED_KEYS = ("latent_dim", "output_shape", "conditional")
_STDERR_TAIL = 4000


def require_tensorflow() -> None:
    """Raises a clear ImportError when TensorFlow (the export and serving runtime) is absent.

    Checks without importing, so a torch or JAX process does not pay TF's import time (or
    its GPU memory grab) just to learn that the subprocess will be able to run.
    """
    if find_spec("tensorflow") is None:
        raise ImportError(
            "Exporting or serving a kwgan generator needs TensorFlow: "
            "pip install kwgan[tensorflow]"
        )


def export_generator(
    generator: keras.Model,
    path: str | os.PathLike,
    *,
    metadata: dict[str, Any] | None = None,
    num_classes: int | None = None,
) -> str:
    """Exports `generator` (noise [B, latent_dim] → images) to a SavedModel at `path`.

    A conditional generator (inputs `[noise, labels]`) needs `num_classes`, written to the
    metadata so that samplers know which labels exist.

    `metadata` is merged into `kwgan.json` (it must be JSON-serialisable); `backend`
    defaults to the backend the generator lives on, and `latent_dim`/`output_shape` always
    come from the model. The export is atomic: if anything fails, `path` is left as it was.
    An existing `path` is replaced only if it is a previous kwgan export (or empty), so a
    mistyped path cannot wipe an unrelated directory. Returns `path` as a string.
    """
    latent_dim, output_shape, conditional = _check_generator(generator)
    info = _metadata(latent_dim, output_shape, conditional, keras.backend.backend(), metadata)
    if conditional:
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(
                f"Generator {generator.name!r} is conditional ([noise, labels]); pass "
                f"num_classes (an int >= 2), got {num_classes!r}."
            )
        info["num_classes"] = num_classes
    elif num_classes is not None:
        raise ValueError(f"num_classes={num_classes} given for an unconditional generator.")
    path = os.fspath(path)
    _check_replaceable(path)
    require_tensorflow()
    with atomic_path(path) as tmp:
        if keras.backend.backend() == "tensorflow":
            _write_saved_model(generator, tmp)
        else:
            _write_saved_model_in_subprocess(generator, tmp)
        write_json(os.path.join(tmp, METADATA_FILE), info)
    return path


def load_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Reads the `kwgan.json` of an exported generator; clear errors for anything else."""
    file = os.path.join(os.fspath(path), METADATA_FILE)
    if not os.path.isfile(file):
        raise FileNotFoundError(
            f"{os.fspath(path)!r} is not a kwgan SavedModel: no {METADATA_FILE} in it "
            "(export one with kwgan.export.export_generator)."
        )
    with open(file) as f:
        info = json.load(f)
    if not isinstance(info, dict) or info.get("format") != _FORMAT:
        raise ValueError(f"{file!r} is not kwgan generator metadata.")
    if info.get("version") != _FORMAT_VERSION:
        raise ValueError(
            f"{file!r} has metadata version {info.get('version')!r}; this kwgan reads "
            f"version {_FORMAT_VERSION}."
        )
    return info


def _check_generator(generator: Any) -> tuple[int, list[int | None], bool]:
    """Validates the generator's interface; returns (latent_dim, per-sample output shape,
    whether it is conditional)."""
    if not isinstance(generator, keras.Model):
        raise ValueError(
            f"export_generator needs a keras.Model, got {type(generator).__name__}."
        )
    try:
        inputs, outputs = generator.inputs, generator.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ValueError(
            f"Generator {generator.name!r} has no symbolic inputs/outputs; export needs a "
            "built Functional or Sequential model (one that knows its input shape)."
        )
    if len(inputs) not in (1, 2) or len(outputs) != 1:
        raise ValueError(
            f"Generator {generator.name!r} has {len(inputs)} inputs and {len(outputs)} "
            "outputs; export needs noise (or [noise, labels]) → images."
        )
    if len(inputs) == 2 and (
        tuple(inputs[1].shape) not in ((None,), (None, 1)) or "int" not in inputs[1].dtype
    ):
        raise ValueError(
            f"Generator {generator.name!r}'s second input has shape {tuple(inputs[1].shape)} "
            f"and dtype {inputs[1].dtype}; a conditional generator takes int class ids (batch,)."
        )
    shape = tuple(inputs[0].shape)
    if len(shape) != 2 or shape[1] is None:
        raise ValueError(
            f"Generator {generator.name!r} takes input of shape {shape}; export needs "
            "noise of shape (batch, latent_dim) with a known latent_dim."
        )
    return int(shape[1]), list(outputs[0].shape[1:]), len(inputs) == 2


def _metadata(
    latent_dim: int,
    output_shape: list[int | None],
    conditional: bool,
    backend: str,
    extra: dict[str, Any] | None,
) -> dict[str, Any]:
    """Builds kwgan.json's contents, failing before the (slow) export on bad metadata."""
    if extra is not None and not isinstance(extra, dict):
        raise ValueError(f"metadata must be a dict, got {type(extra).__name__}.")
    extra = dict(extra or {})
    derived = {"latent_dim": latent_dim, "output_shape": output_shape, "conditional": conditional}
    for key in _DERIVED_KEYS:
        if key in extra and extra[key] != derived[key]:
            raise ValueError(
                f"metadata[{key!r}] = {extra[key]!r} contradicts the generator "
                f"({derived[key]!r}); leave it out, it is read from the model."
            )
    info = {"backend": backend, **extra, **derived}
    info.update(format=_FORMAT, version=_FORMAT_VERSION, signature=SIGNATURE)
    try:
        json.dumps(info)
    except (TypeError, ValueError) as e:
        raise ValueError(f"metadata must be JSON-serialisable: {e}") from e
    return info


def _check_replaceable(path: str) -> None:
    """Refuses to let the atomic rename delete something that is not a kwgan export."""
    if not os.path.lexists(path):
        return
    if os.path.isdir(path) and not os.path.islink(path):
        if not os.listdir(path) or os.path.isfile(os.path.join(path, METADATA_FILE)):
            return
    raise FileExistsError(
        f"{path!r} exists and is not a kwgan SavedModel; refusing to replace it."
    )


def _write_saved_model(generator: keras.Model, directory: str) -> None:
    """Writes the `serve` SavedModel; must run on the TensorFlow backend."""
    import tensorflow as tf

    latent_dim = int(generator.inputs[0].shape[1])
    signature = [tf.TensorSpec((None, latent_dim), tf.float32, name="noise")]

    def images(inputs):
        # Cast: mixed-precision generators emit float16.
        return keras.ops.cast(generator(inputs, training=False), "float32")

    if len(generator.inputs) == 2:
        signature.append(tf.TensorSpec((None,), tf.int32, name="labels"))

        def serve(noise, labels):
            return images([noise, labels])

    else:

        def serve(noise):
            return images(noise)

    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint(SIGNATURE, serve, input_signature=signature)
    archive.write_out(directory, verbose=False)


def _write_saved_model_in_subprocess(generator: keras.Model, directory: str) -> None:
    """Re-exports `generator` from a TensorFlow-backend subprocess via a `.keras` file.

    The child imports every module that registered a custom Keras object in this process
    (kwgan's layers included), so the `.keras` file deserialises there as it would here, and
    it sees this process's `sys.path`, so it finds the same modules even when kwgan is not
    installed. GPUs are hidden from it: the export is a graph trace that needs none, and TF
    would otherwise try to grab the memory the training process holds.
    """
    with tempfile.TemporaryDirectory(prefix="kwgan-export-") as scratch:
        model_file = os.path.join(scratch, "generator.keras")
        generator.save(model_file)
        command = [
            sys.executable,
            "-c",
            "import sys; from kwgan.export import _reexport_main; _reexport_main(sys.argv[1:])",
            model_file,
            directory,
            *_custom_object_modules(keras.saving.get_custom_objects()),
        ]
        result = subprocess.run(command, env=_child_env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            "Exporting the generator in a KERAS_BACKEND=tensorflow subprocess failed "
            f"(exit code {result.returncode}). Custom layers are rebuilt there only if "
            "registered with @keras.saving.register_keras_serializable in an importable "
            "module (not __main__). Its stderr ends with:\n"
            f"{result.stderr[-_STDERR_TAIL:]}"
        )


def _custom_object_modules(custom_objects: dict[str, Any]) -> list[str]:
    """Importable modules that define registered custom objects (`__main__` cannot be)."""
    modules = {getattr(obj, "__module__", None) for obj in custom_objects.values()}
    return sorted(m for m in modules if m and m != "__main__")


def _child_env() -> dict[str, str]:
    """This process's environment, switched to TensorFlow, CPU and this `sys.path`."""
    env = dict(os.environ)
    paths = [p or os.getcwd() for p in sys.path]
    env.update(
        KERAS_BACKEND="tensorflow",
        PYTHONPATH=os.pathsep.join(paths),
        CUDA_VISIBLE_DEVICES="-1",
    )
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep the surfaced stderr readable
    return env


def _reexport_main(argv: list[str]) -> None:
    """Subprocess entry point: `.keras` file, SavedModel directory, modules to import.

    Reaching this function imported the `kwgan` package, which registers kwgan's own layers.
    """
    import importlib

    model_file, directory, *modules = argv
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"The export subprocess runs on {keras.backend.backend()!r}, not tensorflow."
        )
    for module in modules:
        importlib.import_module(module)
    # safe_mode off: the file is the one this export just wrote, so Lambda layers are trusted.
    generator = keras.saving.load_model(model_file, compile=False, safe_mode=False)
    _write_saved_model(generator, directory)
