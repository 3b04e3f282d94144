"""Data-parallel training under `tf.distribute`: the same `gan.fit`, built and compiled in
`strategy.scope()`, trains the weights one device trains on the same global batches.

Each strategy runs in a subprocess: two logical CPUs must be configured, and a
`MultiWorkerMirroredStrategy` created, before TensorFlow initialises. That subprocess is
this file run as a script (`python test_distribute_tf.py mirrored|worker OUT SAMPLES...`,
every count in one process, so TensorFlow starts once); the one-device reference trains in
the test process itself.

The toy WGAN-GP has a norm-free critic (per-sample losses, so sharding the batch changes
nothing but the order of float sums) and SGD optimizers: Adam would divide near-zero
gradients by their own size, turning round-off into steps of the learning rate. The last
global batch splits unevenly between the two replicas: 3 and 2 rows (61 samples), which
checks the shards' weighting, or 1 and none (57 samples).
"""

import contextlib
import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import kwgan
from scripts import free_ports, start, succeed

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.distribute strategies exist on the TensorFlow backend only",
)
BATCH = 8  # with 57 or 61 samples: 8 steps, 4 generator iterations
MIRRORED = (61, 57)  # the last global batch split 3 + 2, and 1 + none
LOGS = ("d_loss", "g_loss", "gp", "w_estimate", "non_finite_inputs", "generator_iterations")
TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}  # float32 sums in another order, after 8 steps


class _StepLogs(keras.callbacks.Callback):
    """Each step's `LOGS` as callbacks see them, after Keras has reduced the replicas'."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_end(self, batch, logs=None):
        self.steps.append([float(logs[name]) for name in LOGS])


def train(samples: int, strategy=None) -> dict[str, np.ndarray]:
    """Trains the toy WGAN-GP on `samples` points (under `strategy` if given); returns every
    model and optimizer variable and each step's logs."""
    import tensorflow as tf

    with strategy.scope() if strategy else contextlib.nullcontext():
        keras.utils.set_random_seed(0)
        gan = kwgan.GAN(
            kwgan.architectures.toy_generator(dim=16),
            kwgan.architectures.toy_critic(dim=16),
            seed=0,
        )
        gan.compile(
            "wgan-gp",
            critic_steps=2,
            generator_optimizer=keras.optimizers.SGD(0.005),
            critic_optimizer=keras.optimizers.SGD(0.005),
        )
    data = np.random.default_rng(0).normal(size=(samples, 2)).astype("float32")
    logs = _StepLogs()
    gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(BATCH), verbose=0, callbacks=[logs])
    variables = [*gan.variables, *gan.optimizer.variables]
    return {
        **{f"variable{i}": np.asarray(v) for i, v in enumerate(variables)},
        "logs": np.asarray(logs.steps),
    }


@functools.cache
def one_device(samples: int) -> dict[str, np.ndarray]:
    return train(samples)


def launch(strategy: str, out: Path, *samples: int, env: dict | None = None) -> subprocess.Popen:
    """This file as a script, training on each of `samples` points under `strategy` into
    `out/<samples>.npz`."""
    return start(__file__, strategy, out, *samples, env=env)


def result(out: Path, samples: int) -> dict[str, np.ndarray]:
    with np.load(out / f"{samples}.npz") as arrays:
        return dict(arrays)


def assert_trains_like(result: dict, reference: dict) -> None:
    assert result.keys() == reference.keys()
    for name in LOGS:  # the logged losses are the global batch's, as on one device
        column = LOGS.index(name)
        np.testing.assert_allclose(
            result["logs"][:, column], reference["logs"][:, column], **TOLERANCE, err_msg=name
        )
    for name, value in reference.items():
        np.testing.assert_allclose(result[name], value, **TOLERANCE, err_msg=name)


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory) -> Path:
    """Every count of `MIRRORED` trained on two replicas, by one subprocess (TensorFlow
    starts once)."""
    out = tmp_path_factory.mktemp("mirrored")
    succeed(launch("mirrored", out, *MIRRORED))
    return out


@pytest.mark.parametrize("samples", MIRRORED)
def test_mirrored_two_replicas_train_like_one_device(mirrored, samples):
    assert_trains_like(result(mirrored, samples), one_device(samples))


def test_multi_worker_mirrored_workers_agree(tmp_path):
    """Two local workers (one CPU replica each) train together, through `TF_CONFIG`."""
    workers = [f"localhost:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {"TF_CONFIG": json.dumps(config)}
        processes.append(launch("worker", tmp_path / f"worker{index}", 61, env=env))
    succeed(*processes)
    first, second = (result(tmp_path / f"worker{index}", 61) for index in range(2))
    assert first.keys() == second.keys()
    for name, value in first.items():
        np.testing.assert_array_equal(second[name], value, err_msg=name)
    assert_trains_like(first, one_device(61))


def main(mode: str, out: str, *samples: str) -> None:
    """Trains on each of `samples` points under `mode`'s strategy into `out/<samples>.npz`:
    `mirrored` on two logical CPUs, `worker` as one worker of the `TF_CONFIG` cluster."""
    import tensorflow as tf

    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    else:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    assert strategy.num_replicas_in_sync == 2
    os.makedirs(out, exist_ok=True)
    for count in samples:
        np.savez(os.path.join(out, f"{count}.npz"), **train(int(count), strategy))


if __name__ == "__main__":
    main(*sys.argv[1:])
