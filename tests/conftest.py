"""Shared fixtures: tiny networks so the suite stays fast on every backend."""

import os
import socket

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import pytest

import kwgan


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


def free_ports(n: int) -> list[int]:
    """`n` distinct free localhost ports (all bound at once, so none repeats), for tests
    that start several cooperating processes."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports
