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
that the model and its description are written, moved and replaced as one unit. Exported
from a `kwgan.GAN`, the generator is the one its samples come from — the weight average
when the GAN keeps one (`kwgan.averaging`) — and the metadata says which:
`generator_weights` is `"averaged"` (with the `average`'s decay, start and ramp-up) or
`"raw"`.

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
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

import keras

from kwgan import startup
from kwgan.architectures import to_channels_last
from kwgan.errors import ConfigError, DataNotFoundError, ExportError, TensorFlowMissingError
from kwgan.io import atomic_path, check_output, write_json

METADATA_FILE = "kwgan.json"
SIGNATURE = "serve"
_FORMAT = "kwgan.generator"
_FORMAT_VERSION = 1
_DERIVED_KEYS = ("latent_dim", "output_shape", "conditional")
_STDERR_TAIL = 4000
# The export subprocess imports TensorFlow and traces the generator once: seconds to a few
# minutes. Past this it is stuck (a lock, a wedged device), not slow.
_EXPORT_TIMEOUT_S = 900


# Everything export_generator writes into its directory: a directory holding anything else
# may hold the user's files too, so a re-export does not replace it.
_EXPORT_ENTRIES = frozenset(
    {"saved_model.pb", "fingerprint.pb", "variables", "assets", METADATA_FILE}
)
_REEXPORT = "re-export the generator with kwgan.export.export_generator"


def require_tensorflow() -> None:
    """Raises a clear TensorFlowMissingError when TensorFlow is absent.

    Checks without importing, so a torch or JAX process does not pay TF's import time (or
    its GPU memory grab) just to learn that the subprocess will be able to run.
    """
    if find_spec("tensorflow") is None:
        raise TensorFlowMissingError(
            "Exporting or serving a kwgan generator needs TensorFlow: pip install kwgan[tensorflow]"
        )


def is_export_directory(path: str | os.PathLike) -> bool:
    """Whether `path` is a directory that `export_generator` wrote, and nothing else.

    This is the test that lets a re-export replace (and so delete) a previous one: it needs
    `kwgan.json` and no entry an export does not write, so a user's file added to an export
    directory, or a folder that merely holds a `kwgan.json`, is never deleted.
    """
    path = os.fspath(path)
    if os.path.islink(path) or not os.path.isfile(os.path.join(path, METADATA_FILE)):
        return False
    return (
        set(os.listdir(path)) <= _EXPORT_ENTRIES
        and _only_holds(os.path.join(path, "variables"), lambda name: name.startswith("variables."))
        and _only_holds(os.path.join(path, "assets"), lambda name: False)  # a generator has none
    )


def _only_holds(directory: str, allowed: Callable[[str], bool]) -> bool:
    """Whether `directory` is absent, or a real directory (not a link) whose entries all pass
    `allowed`."""
    if not os.path.lexists(directory):
        return True
    return (
        os.path.isdir(directory)
        and not os.path.islink(directory)
        and all(map(allowed, os.listdir(directory)))
    )


def check_export_path(path: str | os.PathLike) -> None:
    """Raises `OutputExistsError` if `export_generator` would refuse `path`: anything there
    but a previous kwgan export (`is_export_directory`), a user's file included, since an
    export is a directory and replacing the file would delete it. Public so that a training
    script checks its `--export` before it trains."""
    check_output(path, replaceable=is_export_directory, overwrite=False)


def export_generator(
    generator: keras.Model,
    path: str | os.PathLike,
    *,
    metadata: dict[str, Any] | None = None,
    num_classes: int | None = None,
    averaged: bool | None = None,
) -> str:
    """Exports `generator` (noise [B, latent_dim] → images) to a SavedModel at `path`.

    A conditional generator (inputs `[noise, labels]`) needs `num_classes`, written to the
    metadata so that samplers know which labels exist.

    `generator` may also be a `kwgan.GAN`: then its `sampling_generator(averaged)` is
    exported — the generator's weight average when the GAN keeps one, unless
    `averaged=False` — with the GAN's `num_classes`, and the metadata names the weights
    (`generator_weights`: `"averaged"` or `"raw"`, and the `average`'s settings).

    `metadata` is merged into `kwgan.json` (it must be JSON-serialisable); `backend`
    defaults to the backend the generator lives on, and `latent_dim`/`output_shape` always
    come from the model. The export is atomic: if anything fails, `path` is left as it was.
    An existing directory at `path` is replaced only if it is a previous kwgan export
    (`is_export_directory`); anything else there, a file included, raises
    `OutputExistsError` before the export starts (`check_export_path`), so a mistyped path
    cannot wipe an unrelated directory or file. Returns `path` as a string.
    """
    generator, num_classes, metadata = _from_gan(generator, num_classes, metadata, averaged)
    latent_dim, output_shape, conditional = _check_generator(generator)
    info = _metadata(latent_dim, output_shape, conditional, keras.backend.backend(), metadata)
    if conditional:
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ConfigError(
                f"Generator {generator.name!r} is conditional ([noise, labels]); pass "
                f"num_classes (an int >= 2), got {num_classes!r}."
            )
        info["num_classes"] = num_classes
    elif num_classes is not None:
        raise ConfigError(f"num_classes={num_classes} given for an unconditional generator.")
    path = os.fspath(path)
    # atomic_path checks this too, but only after the TensorFlow check; a wrong path is the
    # more basic mistake, so it is reported first.
    check_export_path(path)
    require_tensorflow()
    with atomic_path(path, replaceable=is_export_directory, overwrite=False) as tmp:
        if keras.backend.backend() == "tensorflow":
            _write_saved_model(generator, tmp)
        else:
            _write_saved_model_in_subprocess(generator, tmp)
        write_json(os.path.join(tmp, METADATA_FILE), info)
    return path


def load_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Reads and checks the `kwgan.json` of an exported generator.

    Raises `DataNotFoundError` if `path` does not exist and `ExportError` if it is not a
    kwgan export or its metadata is damaged, each naming the file and the fix, so that a
    sampler fails before loading TensorFlow rather than with a KeyError midway.
    """
    path = os.fspath(path)
    file = os.path.join(path, METADATA_FILE)
    if not os.path.exists(path):
        raise DataNotFoundError(
            f"{path!r} does not exist; pass the directory export_generator wrote "
            "(e.g. saved_models/digits)."
        )
    if not os.path.isdir(path):
        raise ExportError(
            f"{path!r} is a file, not a kwgan SavedModel; pass the directory "
            "export_generator wrote."
        )
    if not os.path.isfile(file):
        raise ExportError(
            f"{path!r} is not a kwgan SavedModel: no {METADATA_FILE} in it (export one with "
            "kwgan.export.export_generator)."
        )
    try:
        with open(file, encoding="utf-8") as f:
            info = json.load(f)
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        raise ExportError(
            f"{file!r} is not valid JSON ({e}): the export is damaged, e.g. truncated by an "
            f"interrupted copy; {_REEXPORT}."
        ) from e
    if not isinstance(info, dict) or info.get("format") != _FORMAT:
        raise ExportError(f"{file!r} is not kwgan generator metadata; {_REEXPORT}.")
    if info.get("version") != _FORMAT_VERSION:
        raise ExportError(
            f"{file!r} has metadata version {info.get('version')!r}; this kwgan reads "
            f"version {_FORMAT_VERSION}: {_REEXPORT} using this kwgan."
        )
    _check_metadata(info, file)
    return info


def _check_metadata(info: dict[str, Any], file: str) -> None:
    """Checks the fields a sampler relies on, so a hand-edited file fails here, by name."""
    shape = info.get("output_shape")
    problems = {
        "latent_dim": _is_positive_int(info.get("latent_dim")),
        "output_shape": isinstance(shape, list)
        and bool(shape)
        and all(d is None or _is_positive_int(d) for d in shape),
        "conditional": isinstance(info.get("conditional"), bool),
    }
    if info.get("conditional") is True:
        problems["num_classes"] = _is_positive_int(info.get("num_classes"))
    for key, ok in problems.items():
        if not ok:
            raise ExportError(
                f"{file!r} has an invalid {key!r} ({info.get(key)!r}): the metadata is "
                f"damaged; {_REEXPORT}."
            )


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def load_saved_model(path: str | os.PathLike) -> Any:
    """Loads a kwgan export with `tf.saved_model.load`, for serving through `SIGNATURE`.

    The pieces TensorFlow needs are checked first, so a missing one is reported by name, and
    what TensorFlow raises for a damaged (e.g. truncated) file becomes an `ExportError`
    naming the directory and the fix instead of an error from deep inside its loader.
    Raises `TensorFlowMissingError` without TensorFlow.
    """
    path = os.fspath(path)
    load_metadata(path)
    for piece, is_there in (
        ("saved_model.pb", os.path.isfile),
        ("variables", os.path.isdir),
        (os.path.join("variables", "variables.index"), os.path.isfile),
    ):
        if not is_there(os.path.join(path, piece)):
            raise ExportError(
                f"{os.path.join(path, piece)!r} is missing: the SavedModel at {path!r} is "
                f"incomplete (an interrupted copy?); {_REEXPORT}."
            )
    require_tensorflow()
    with startup.quiet_import():  # on JAX and torch, TensorFlow loads only now
        import tensorflow as tf

    try:
        model = tf.saved_model.load(path)
    except (OSError, ValueError, IndexError, tf.errors.OpError) as e:
        # What TF raises for damaged files: OSError (unparsable graph, missing files),
        # IndexError (a truncated variables file), OpError (a damaged variables index).
        reason = next(iter(str(getattr(e, "message", e)).strip().splitlines()), "")[:300]
        raise ExportError(
            f"Cannot load the SavedModel at {path!r} ({type(e).__name__}: {reason}): its "
            f"saved_model.pb or variables/ files are damaged, e.g. truncated by an "
            f"interrupted copy; {_REEXPORT}."
        ) from e
    if not hasattr(model, SIGNATURE):
        raise ExportError(
            f"The SavedModel at {path!r} has no {SIGNATURE!r} function, so it was not "
            f"written by kwgan; {_REEXPORT}."
        )
    return model


def _from_gan(
    model: Any, num_classes: int | None, metadata: dict[str, Any] | None, averaged: bool | None
) -> tuple[Any, int | None, dict[str, Any] | None]:
    """(generator, num_classes, metadata) to export for `model`: for a `kwgan.GAN` (which
    has `sampling_generator`), the generator its samples come from, its class count and the
    metadata naming those weights; anything else as given."""
    if not hasattr(model, "sampling_generator"):
        if averaged:
            raise ConfigError(
                "averaged=True exports a GAN's generator average; pass the kwgan.GAN itself, "
                "not a generator."
            )
        return model, num_classes, metadata
    if metadata is not None and not isinstance(metadata, dict):
        raise ConfigError(f"metadata must be a dict, got {type(metadata).__name__}.")
    generator = model.sampling_generator(averaged)
    average = model.average if generator is not model.generator else None
    weights = {"generator_weights": "raw" if average is None else "averaged"}
    if average is not None:
        weights["average"] = average.get_config()
    num_classes = model.num_classes if num_classes is None else num_classes
    return generator, num_classes, {**(metadata or {}), **weights}


def _check_generator(generator: Any) -> tuple[int, list[int | None], bool]:
    """Validates the generator's interface; returns (latent_dim, per-sample output shape,
    whether it is conditional)."""
    if not isinstance(generator, keras.Model):
        raise ConfigError(f"export_generator needs a keras.Model, got {type(generator).__name__}.")
    try:
        inputs, outputs = generator.inputs, generator.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ConfigError(
            f"Generator {generator.name!r} has no symbolic inputs/outputs; export needs a "
            "built Functional or Sequential model (one that knows its input shape)."
        )
    if len(inputs) not in (1, 2) or len(outputs) != 1:
        raise ConfigError(
            f"Generator {generator.name!r} has {len(inputs)} inputs and {len(outputs)} "
            "outputs; export needs noise (or [noise, labels]) → images."
        )
    if len(inputs) == 2 and (
        tuple(inputs[1].shape) not in ((None,), (None, 1)) or "int" not in inputs[1].dtype
    ):
        raise ConfigError(
            f"Generator {generator.name!r}'s second input has shape {tuple(inputs[1].shape)} "
            f"and dtype {inputs[1].dtype}; a conditional generator takes int class ids (batch,)."
        )
    shape = tuple(inputs[0].shape)
    if len(shape) != 2 or shape[1] is None:
        raise ConfigError(
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
        raise ConfigError(f"metadata must be a dict, got {type(extra).__name__}.")
    extra = dict(extra or {})
    derived = {"latent_dim": latent_dim, "output_shape": output_shape, "conditional": conditional}
    for key in _DERIVED_KEYS:
        if key in extra and extra[key] != derived[key]:
            raise ConfigError(
                f"metadata[{key!r}] = {extra[key]!r} contradicts the generator "
                f"({derived[key]!r}); leave it out, it is read from the model."
            )
    info = {"backend": backend, **extra, **derived}
    info.update(format=_FORMAT, version=_FORMAT_VERSION, signature=SIGNATURE)
    try:
        json.dumps(info)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"metadata must be JSON-serialisable: {e}") from e
    return info


def _write_saved_model(generator: keras.Model, directory: str) -> None:
    """Writes the `serve` SavedModel; must run on the TensorFlow backend."""
    import tensorflow as tf

    generator = to_channels_last(generator)  # TensorFlow's CPU convolutions are NHWC only
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

    # No `archive.track(generator)`: the endpoint already captures every variable it reads,
    # and tracking the model as well wrote each weight twice (Keras 3.15: a 51 MB SavedModel
    # for the 26 MB InfoGAN generator).
    archive = keras.export.ExportArchive()
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
        try:
            result = subprocess.run(
                command,
                env=_child_env(),
                capture_output=True,
                text=True,
                timeout=_EXPORT_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as error:
            raise ExportError(
                f"Exporting the generator to {directory} in a KERAS_BACKEND=tensorflow "
                f"subprocess did not finish in {_EXPORT_TIMEOUT_S} s and was stopped; rerun "
                "the export, or export on the TensorFlow backend where it runs in-process."
            ) from error
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
