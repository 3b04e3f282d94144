"""kwgan: Wasserstein GANs for Keras 3 on TensorFlow, JAX and PyTorch.

`import kwgan` loads what trains and what a saved `.keras` GAN needs to load (`GAN`, its
networks' layers, constraints and critic schedule, all registered with Keras); every other
module — data pipelines, callbacks, metrics, plots, export, experiments — is loaded on
first use (`kwgan.metrics`, PEP 562), so training never pulls in the picture side
(matplotlib) or the evaluation networks.
"""

import importlib
from typing import Any

from kwgan import architectures, errors, objectives
from kwgan.constraints import WeightClip
from kwgan.gan import GAN
from kwgan.schedule import CriticSchedule

__version__ = "0.1.0"

_SUBMODULES = (
    "callbacks",
    "checkpoint",
    "cli",
    "data",
    "distribute",
    "experiment",
    "export",
    "grid",
    "metrics",
    "plots",
    "precision",
    "run",
    "tensorboard",
)


def __getattr__(name: str) -> Any:
    if name not in _SUBMODULES:
        raise AttributeError(f"module 'kwgan' has no attribute {name!r}")
    return importlib.import_module(f"kwgan.{name}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES})
