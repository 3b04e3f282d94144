"""`experiments/lsun.py --distribute`: the same command trains data-parallel, to the samples
one device trains, and only one process writes.

Each run is a subprocess, as the number of devices and the processes' cluster are fixed
before JAX or TensorFlow starts: JAX gets two virtual CPU devices from
`XLA_FLAGS=--xla_force_host_platform_device_count=2`, or runs as two processes on localhost
(`--coordinator/--num_processes/--process_id`); TensorFlow gets two logical CPUs from a
wrapper that configures them before running the script (`TWO_CPUS`), or runs as two workers
of a `TF_CONFIG` cluster. Every data-parallel run is compared with the same command on one
device, trained at the same time.

Tolerances. The losses of every generator iteration must agree to `LOGS_RTOL`, as they differ
only in the order float sums add in (seen: 1e-6 relative). The samples must agree to
`SAMPLES_ATOL` on [-1, 1] pixels (seen: 3e-4 on JAX, 1e-9 on TensorFlow): Adam divides each
gradient by its own size, so a gradient that is only rounding noise (the bias of a layer
feeding batch norm) moves its weight by up to the learning rate, differently in each run.
TensorFlow normalises batches per replica, so its runs use `dcgan-no-norm`, whose networks
have no batch norm; JAX's batch norm is over the global batch, and its runs keep
`cifar-dcgan`'s. The data is a folder of random photos, not the digits: no digit classifier
to train in every run.

A process other than the chief runs under `READ_ONLY`, an audit hook (PEP 578) that fails it
at its first attempt to create, open for writing, rename or remove anything under `--out`:
every write kwgan makes goes through one of those Python calls.
"""

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import kwgan
from kwgan.errors import ConfigError
from kwgan.experiment import ImageConfig
from scripts import BACKEND, cpu_devices, error_line, finish, free_ports, start, succeed

HAS_TF = importlib.util.find_spec("tensorflow") is not None
HAS_TFDS = HAS_TF and importlib.util.find_spec("tensorflow_datasets") is not None
TINY = (
    "experiments/lsun.py --dataset folder --image_size 16 --dim 4 --batch_size 16 --steps 2 "
    "--critic_steps 2 --num_samples 10 --sample_every 1 --checkpoint_every 2"
).split()
ARCH = {"jax": "cifar-dcgan", "tensorflow": "dcgan-no-norm", "torch": "cifar-dcgan"}
LOGS_RTOL, SAMPLES_ATOL = 1e-4, 1e-3

TWO_CPUS = """
    import os, runpy, sys
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(sys.argv[0]))  # as `python SCRIPT` puts it there
    runpy.run_path(sys.argv[0], run_name="__main__")
"""

READ_ONLY = """
    import os, runpy, sys

    out = os.path.realpath(sys.argv[1]) + os.sep
    sys.argv = sys.argv[2:]
    WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    CHANGES = {"os.rename": 2, "os.mkdir": 1, "os.remove": 1, "os.rmdir": 1, "shutil.rmtree": 1}

    def audit(event, args):
        if event == "open":
            paths = [args[0]] if args[2] & WRITE else []
        else:
            paths = args[: CHANGES.get(event, 0)]
        for path in paths:
            if isinstance(path, (str, bytes, os.PathLike)):
                if (os.path.realpath(os.fsdecode(path)) + os.sep).startswith(out):
                    raise PermissionError(f"a process other than the chief wrote {path}")

    sys.addaudithook(audit)
    sys.path.insert(0, os.path.dirname(sys.argv[0]))  # as `python SCRIPT` puts it there
    runpy.run_path(sys.argv[0], run_name="__main__")
"""

jax_only = pytest.mark.skipif(
    BACKEND != "jax", reason="JAX's virtual CPU devices and jax.distributed processes"
)
tensorflow_only = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="TensorFlow's logical CPUs and TF_CONFIG workers"
)
data_parallel_backends = pytest.mark.skipif(
    BACKEND == "torch", reason="data parallelism is JAX's and TensorFlow's (torch: refused)"
)


def launch(
    *args: str, code: str | None = None, devices: int = 1, env: dict | None = None
) -> subprocess.Popen:
    """`python [-c CODE] ARGS` started at the repository root on this backend, with `devices`
    CPU devices on JAX (TensorFlow's come from `TWO_CPUS`)."""
    return start(*args, code=code, env={**cpu_devices(devices), **(env or {})})


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """40 random 16x16 RGB PNGs: two epochs of batches of 16."""
    folder = tmp_path_factory.mktemp("photos")
    pixels = np.random.default_rng(0).integers(0, 256, (40, 16, 16, 3), dtype=np.uint8)
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(folder / f"{i:02d}.png")
    return folder


def tiny(photos: Path, out: Path, *flags: str) -> list[str]:
    """The command line of a tiny run on `photos` into `out`, with more `flags`."""
    return [*TINY, "--data_dir", str(photos), "--arch", ARCH[BACKEND], *flags, "--out", str(out)]


def assert_trains_like_one_device(out: Path, reference: Path, devices: int = 2) -> None:
    """`out` holds every output, and the samples and losses of the one-device run."""
    for name in ("samples.png", "samples_0000002.png", "w_estimate.png", "gan.keras"):
        assert (out / name).exists(), name
    assert [c.split(".")[0] for c in os.listdir(out / "checkpoints")] == ["ckpt-000000004"]
    assert json.loads((out / "run.json").read_text())["complete"] is True
    metrics, expected = (json.loads((d / "metrics.json").read_text()) for d in (out, reference))
    assert metrics["devices"] == devices and expected["devices"] == 1
    assert metrics["logs"]["iterations"] == expected["logs"]["iterations"] == [1, 2]
    for name in ("d_loss", "g_loss", "gp", "w_estimate"):
        np.testing.assert_allclose(
            metrics["logs"][name], expected["logs"][name], rtol=LOGS_RTOL, err_msg=name
        )
    samples, expected_samples = (np.load(d / "samples.npy") for d in (out, reference))
    assert samples.shape == expected_samples.shape == (10, 16, 16, 3)
    np.testing.assert_allclose(samples, expected_samples, atol=SAMPLES_ATOL)


@pytest.fixture(scope="module")
def one_device(tmp_path_factory, photos):
    """The one-device run, started at once and waited for by `one_device()`, so that the
    first test to use it trains beside it."""
    out = tmp_path_factory.mktemp("one_device")
    process = launch(*tiny(photos, out))

    def wait() -> Path:
        if process.returncode is None:
            succeed(process)
        return out

    return wait


# -- one process, two devices ------------------------------------------------------------


@jax_only
def test_jax_two_devices_train_like_one(one_device, tmp_path, photos):
    succeed(launch(*tiny(photos, tmp_path, "--distribute"), devices=2))
    assert_trains_like_one_device(tmp_path, one_device())


@tensorflow_only
def test_tensorflow_two_replicas_train_like_one(one_device, tmp_path, photos):
    succeed(launch(*tiny(photos, tmp_path, "--distribute"), code=TWO_CPUS))
    assert_trains_like_one_device(tmp_path, one_device())


# -- two processes, one --out ------------------------------------------------------------


@jax_only
def test_jax_two_processes_train_like_one_and_one_writes(one_device, tmp_path, photos):
    port = free_ports(1)[0]
    cluster = ["--distribute", "--coordinator", f"localhost:{port}", "--num_processes", "2"]
    chief = launch(*tiny(photos, tmp_path, *cluster, "--process_id", "0"))
    other = launch(
        str(tmp_path), *tiny(photos, tmp_path, *cluster, "--process_id", "1"), code=READ_ONLY
    )
    succeed(chief, other)
    assert_trains_like_one_device(tmp_path, one_device())


@tensorflow_only
def test_tensorflow_two_workers_train_like_one_and_one_writes(one_device, tmp_path, photos):
    workers = [f"localhost:{port}" for port in free_ports(2)]

    def worker(index: int) -> dict:
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        return {"TF_CONFIG": json.dumps(config)}

    chief = launch(*tiny(photos, tmp_path, "--distribute"), env=worker(0))
    other = launch(
        str(tmp_path), *tiny(photos, tmp_path, "--distribute"), code=READ_ONLY, env=worker(1)
    )
    succeed(chief, other)
    assert_trains_like_one_device(tmp_path, one_device())


@jax_only
def test_processes_that_find_different_checkpoints_stop(one_device, tmp_path, photos):
    """As when --out is not on a filesystem both hosts share: process 0 finds the finished
    one-device run's checkpoint, process 1 none; both stop in one line, training nothing."""
    shared, unshared = tmp_path / "shared", tmp_path / "unshared"
    shutil.copytree(one_device(), shared)
    port = free_ports(1)[0]
    cluster = ["--distribute", "--coordinator", f"localhost:{port}", "--num_processes", "2"]
    cluster += ["--steps", "3"]
    procs = finish(
        launch(*tiny(photos, shared, *cluster, "--process_id", "0")),
        launch(*tiny(photos, unshared, *cluster, "--process_id", "1")),
    )
    for proc in procs:
        assert "found different checkpoints" in error_line(proc)
    assert [c.split(".")[0] for c in os.listdir(shared / "checkpoints")] == ["ckpt-000000004"]


# -- each process's rows of the global batches -------------------------------------------


def test_image_batches_shards_make_up_the_global_batches():
    x, labels = np.arange(40.0).reshape(20, 2), np.arange(20)
    whole = kwgan.data.ImageBatches(x, labels, batch_size=4, start_batch=9, seed=3)
    shards = [
        kwgan.data.ImageBatches(x, labels, batch_size=4, start_batch=9, seed=3, shard=(i, 2))
        for i in range(2)
    ]
    for k in range(len(whole)):
        for column, expected in enumerate(whole[k]):
            rows = [shard[k][column] for shard in shards]
            assert len(rows[0]) == 2
            np.testing.assert_array_equal(np.concatenate(rows), expected)
    with pytest.raises(ConfigError, match="batch_size=4 .* among 3 processes"):
        kwgan.data.ImageBatches(x, batch_size=4, shard=(0, 3))
    with pytest.raises(ConfigError, match="0 <= index < 2"):
        kwgan.data.ImageBatches(x, batch_size=4, shard=(2, 2))


def assert_shards_make_up(images, count: int = 3) -> None:
    """`images(shard)`'s first batches for each of `count` shards, concatenated, are those of
    `images(None)`."""
    whole, shards = images(None), [images((i, count)) for i in range(count)]
    for k, expected in enumerate(whole):
        np.testing.assert_array_equal(np.concatenate([shard[k] for shard in shards]), expected)


@pytest.mark.skipif(not HAS_TF, reason="images() builds a tf.data pipeline")
@pytest.mark.parametrize("start_batch", [None, 200])  # the finite pass; the stream, resumed
def test_image_stream_shards_make_up_the_global_batches(photos, start_batch):
    """A folder's stream is read by index: each shard fetches only its rows."""

    def images(shard) -> list:
        dataset = kwgan.data.images(
            "folder",
            image_size=8,
            batch_size=6,
            data_dir=photos,
            shuffle=start_batch is not None,
            start_batch=start_batch,
            shard=shard,
        )
        return list(dataset.take(3).as_numpy_iterator())

    assert_shards_make_up(images)


@pytest.mark.skipif(not HAS_TFDS, reason="LSUN is read through tensorflow-datasets")
def test_sequential_stream_shards_make_up_the_global_batches():
    """LSUN is read in order: each shard reads whole batches and keeps its rows."""
    import tensorflow_datasets as tfds

    def images(shard) -> list:
        with tfds.testing.mock_data(num_examples=40):
            stream = kwgan.data.images(
                "lsun/bedroom", image_size=8, batch_size=6, start_batch=7, shard=shard
            )
            return list(stream.take(3).as_numpy_iterator())

    assert_shards_make_up(images, count=2)


# -- refused in one line -----------------------------------------------------------------


@pytest.mark.skipif(BACKEND != "torch", reason="the torch backend's refusal")
def test_torch_refuses_distribute(tmp_path, photos):
    (proc,) = finish(launch(*tiny(photos, tmp_path, "--distribute")))
    assert "not supported on the torch backend" in error_line(proc)
    assert proc.returncode == 1 and not tmp_path.joinpath("run.json").exists()


@data_parallel_backends
def test_global_batch_must_divide_among_the_devices(tmp_path, photos):
    code = TWO_CPUS if BACKEND == "tensorflow" else None
    args = tiny(photos, tmp_path, "--distribute", "--batch_size", "15")
    (proc,) = finish(launch(*args, code=code, devices=2))
    line = error_line(proc)
    assert "batch_size 15" in line and "2 devices" in line
    assert proc.returncode == 1 and not tmp_path.joinpath("run.json").exists()


def tiny_config(photos: Path, out: Path, **fields) -> ImageConfig:
    """`tiny`'s run as a config, for the refusals that need no process of their own."""
    return ImageConfig(
        dataset="folder", data_dir=str(photos), image_size=16, dim=4, batch_size=16, steps=2,
        critic_steps=2, num_samples=10, sample_every=1, checkpoint_every=2,
        arch=ARCH[BACKEND], out=str(out), **fields,
    )  # fmt: skip


@tensorflow_only
def test_tensorflow_refuses_the_jax_process_flags(tmp_path, photos):
    # Refused before anything starts (the CLI's one-line form: tests/test_cli.py).
    config = tiny_config(
        photos, tmp_path, distribute=True, coordinator="localhost:1", num_processes=2,
        process_id=0,
    )  # fmt: skip
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        kwgan.experiment.run(config)
    assert not tmp_path.joinpath("run.json").exists()


@pytest.mark.backend_neutral  # the config's own check (TF_CONFIG workers: kwgan.distribute)
def test_several_processes_refuse_a_time_limit(tmp_path, photos):
    cluster = dict(distribute=True, coordinator="localhost:1", num_processes=2, process_id=1)
    with pytest.raises(ConfigError, match="max_minutes would stop each process by its own clo"):
        tiny_config(photos, tmp_path, **cluster, max_minutes=5)


@pytest.mark.backend_neutral  # the config's own check, before any backend runs
def test_process_flags_need_distribute_and_each_other(tmp_path, photos):
    with pytest.raises(ConfigError, match="num_processes trains over several processes: add dis"):
        tiny_config(photos, tmp_path, num_processes=2)
    with pytest.raises(ConfigError, match="go together"):
        tiny_config(photos, tmp_path, distribute=True, num_processes=2)
