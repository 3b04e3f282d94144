"""Data parallelism (`kwgan.distribute`) trains what one device trains.

On JAX, a WGAN-GP is trained for four generator iterations on one device, on two devices
(`strategy_scope()`), from a checkpoint of the two-device run restored halfway into a fresh
sharded GAN that runs `steps_per_execution=3`, and by two processes on localhost
(`data_parallel(job_addresses=...)`) each feeding half of every global batch; all at the
same global batch, seeds and data. Every weight, statistic and optimizer variable must agree
with the one-device run to rtol 1e-4, atol 1e-6 (the runs use ~10 % of that): they differ
only in the order their reductions add in, ~1e-7 relative per step. The two processes must
end bit-identical to each other. Swapping the two halves of each batch, as processes
joined in the wrong order would, fails the comparison by 190 %.

The networks make the comparison meaningful. The generator uses batch norm, so per-device
statistics would show at the first step; the layers feeding it have no bias, whose true
gradient is 0 and whose computed one, rounding noise, Adam would scale up to steps of up to
the learning rate.
The critic is trained by SGD, whose step is proportional to the gradient (Adam's is not: a
gradient summed instead of averaged over devices would be invisible to it), the generator
by Adam, whose moments and counter travel in the sharded optimizer state.

The multi-device runs happen in subprocesses (`python tests/test_distribute.py MODE ...`):
the number of CPU devices (`XLA_FLAGS=--xla_force_host_platform_device_count=2`) and
`jax.distributed` are fixed once per process.
"""

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import kwgan
from kwgan.errors import ConfigError
from scripts import cpu_devices, free_ports, start, succeed

BATCH, STEPS, CRITIC_STEPS = 16, 12, 3  # 4 generator iterations
RTOL, ATOL = 1e-4, 1e-6
DEPTH = 1  # hidden layers per network: one keeps each jit compile short

jax_only = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="keras.distribution's DataParallel and jax.distributed are the JAX backend's; "
    "TensorFlow's MirroredStrategy is tested separately",
)


# -- the run every configuration repeats ---------------------------------------------------


def _generator() -> keras.Model:
    z = keras.Input((2,), name="z")
    h = z
    for i in range(DEPTH):
        h = keras.layers.Dense(32, use_bias=False, name=f"g_dense{i}")(h)
        h = keras.layers.BatchNormalization(name=f"g_bn{i}")(h)
        h = keras.layers.ReLU(name=f"g_relu{i}")(h)
    return keras.Model(z, keras.layers.Dense(2, name="g_out")(h), name="generator")


def _critic() -> keras.Model:
    x = keras.Input((2,), name="x")
    h = x
    for i in range(DEPTH):
        h = keras.layers.Dense(32, name=f"d_dense{i}")(h)
        h = keras.layers.LayerNormalization(name=f"d_ln{i}")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"d_lrelu{i}")(h)
    return keras.Model(x, keras.layers.Dense(1, name="d_out")(h), name="critic")


def _gan(steps_per_execution: int = 1) -> kwgan.GAN:
    keras.utils.set_random_seed(0)
    gan = kwgan.GAN(_generator(), _critic(), seed=0)
    gan.compile(
        "wgan-gp",
        critic_steps=CRITIC_STEPS,
        critic_optimizer=keras.optimizers.SGD(0.01),
        generator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9),
        steps_per_execution=steps_per_execution,
    )
    return gan


def _data() -> np.ndarray:
    """STEPS global batches of 2-D points from the 8 Gaussians."""
    rng = np.random.default_rng(0)
    angles = rng.integers(0, 8, BATCH * STEPS) * np.pi / 4
    centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centres + 0.05 * rng.normal(size=centres.shape)).astype("float32")


def _fit(gan: kwgan.GAN, x: np.ndarray, batch_size: int = BATCH) -> None:
    gan.fit(x, batch_size=batch_size, shuffle=False, verbose=0)


def _state(gan: kwgan.GAN) -> list[np.ndarray]:
    """Every weight, counter, batch-norm statistic, seed and optimizer variable."""
    return [np.asarray(v) for v in (*gan.variables, *gan.optimizer.variables)]


def _on_all_devices(gan: kwgan.GAN, count: int) -> bool:
    """Whether every variable is replicated over `count` devices (not left on one)."""
    variables = (*gan.variables, *gan.optimizer.variables)
    return all(len(v.value.sharding.device_set) == count for v in variables)


# -- the subprocesses ----------------------------------------------------------------------


def _devices_worker(out: Path) -> None:
    """One device, then two; on two, a checkpoint is saved halfway and restored into a fresh
    GAN that finishes the run with `steps_per_execution=3`."""
    one_device = _gan()
    _fit(one_device, _data())
    noise = np.random.default_rng(1).normal(size=(5, 2)).astype("float32")
    results = {"one_device": _state(one_device), "one_device_samples": [one_device.generate(noise)]}
    half = BATCH * STEPS // 2
    with kwgan.distribute.strategy_scope() as distribution:
        results["devices"] = [str(d) for d in distribution.device_mesh.devices]
        gan = _gan()
        _fit(gan, _data()[:half])
        kwgan.checkpoint.save(out / "ckpt", gan)
        _fit(gan, _data()[half:])
        results["two_devices"] = _state(gan)
        results["replicated"] = _on_all_devices(gan, 2)
        # 5 rows: Keras would split the last batch across the 2 devices; generate pads it.
        results["two_device_samples"] = [gan.generate(noise, batch_size=4)]

        resumed = _gan(steps_per_execution=3)
        kwgan.checkpoint.restore(out / "ckpt", resumed)
        results["restored_replicated"] = _on_all_devices(resumed, 2)
        _fit(resumed, _data()[half:])
        results["resumed"] = _state(resumed)
    _write(out, results)


def _process_worker(out: Path, process_id: int, port: int) -> None:
    """One of two processes on localhost, each feeding its half of every global batch."""
    kwgan.distribute.data_parallel(
        job_addresses=f"localhost:{port}", num_processes=2, process_id=process_id
    )
    gan = _gan()
    _fit(gan, kwgan.distribute.process_rows(_data(), BATCH), batch_size=BATCH // 2)
    _write(out, {"state": _state(gan), "replicated": _on_all_devices(gan, 2)})


def _write(out: Path, results: dict) -> None:
    """Arrays to `out/<key>.npz`, everything else to `out/results.json`."""
    plain = {}
    for key, value in results.items():
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            np.savez(out / f"{key}.npz", *value)
        else:
            plain[key] = value
    (out / "results.json").write_text(json.dumps(plain))


def _read(out: Path) -> dict:
    results = json.loads((out / "results.json").read_text())
    for path in out.glob("*.npz"):
        with np.load(path) as arrays:
            results[path.stem] = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
    return results


def _start(mode: str, out: Path, *args, devices: int = 1) -> subprocess.Popen:
    out.mkdir(parents=True, exist_ok=True)
    return start(__file__, mode, out, *args, env=cpu_devices(devices))


def _assert_close(actual: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
        np.testing.assert_allclose(a, e, rtol=RTOL, atol=ATOL, err_msg=f"variable {i}")


# -- the tests -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def device_runs(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("devices")
    succeed(_start("devices", out, devices=2))
    return _read(out)


@jax_only
def test_two_devices_train_what_one_device_trains(device_runs):
    assert device_runs["devices"] == ["cpu:0", "cpu:1"]
    assert device_runs["replicated"]
    one = device_runs["one_device"]
    assert int(one[0]) == STEPS // CRITIC_STEPS
    _assert_close(device_runs["two_devices"], one)


@jax_only
def test_generate_any_number_of_samples_on_two_devices(device_runs):
    (samples,) = device_runs["two_device_samples"]
    assert samples.shape == (5, 2)
    np.testing.assert_allclose(samples, device_runs["one_device_samples"][0], rtol=1e-3, atol=1e-5)


@jax_only
def test_restore_onto_a_sharded_gan_with_steps_per_execution(device_runs):
    """Resuming from a checkpoint on two devices, three steps per call, ends where the
    uninterrupted two-device run does."""
    assert device_runs["restored_replicated"]
    _assert_close(device_runs["resumed"], device_runs["two_devices"])


@jax_only
def test_two_processes_train_together(tmp_path, device_runs):
    (port,) = free_ports(1)
    outs = [tmp_path / f"process{i}" for i in range(2)]
    succeed(*(_start("process", out, i, port) for i, out in enumerate(outs)))
    first, second = (_read(out) for out in outs)
    assert first["replicated"] and second["replicated"]
    for a, b in zip(first["state"], second["state"], strict=True):
        np.testing.assert_array_equal(a, b)
    _assert_close(first["state"], device_runs["one_device"])


@jax_only
def test_strategy_scope_sets_and_restores_the_distribution():
    assert keras.distribution.distribution() is None
    with kwgan.distribute.strategy_scope() as distribution:
        assert keras.distribution.distribution() is distribution
        assert not distribution.auto_shard_dataset
    assert keras.distribution.distribution() is None


@jax_only
def test_process_rows_of_one_process_are_whole_batches():
    x, labels = np.arange(20).reshape(10, 2), np.arange(10)
    with kwgan.distribute.strategy_scope():
        rows, row_labels = kwgan.distribute.process_rows((x, labels), batch_size=4)
        np.testing.assert_array_equal(rows, x[:8])  # the partial batch is left out
        np.testing.assert_array_equal(row_labels, labels[:8])


def test_process_rows_needs_data_parallelism():
    with pytest.raises(ConfigError, match="data_parallel"):
        kwgan.distribute.process_rows(np.zeros((4, 2)), batch_size=2)


def test_torch_is_refused(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(ConfigError, match="not supported on the torch backend"):
        kwgan.distribute.data_parallel()
    with pytest.raises(ConfigError, match="use JAX"), kwgan.distribute.strategy_scope():
        pass


if __name__ == "__main__":
    mode, out, *rest = sys.argv[1:]
    workers = {"devices": _devices_worker, "process": _process_worker}
    workers[mode](Path(out), *map(int, rest))
