"""kwgan: Wasserstein GANs for Keras 3 on TensorFlow, JAX and PyTorch.

`import kwgan` loads what trains and what a saved `.keras` GAN needs to load (`GAN`, its
networks' layers, constraints, critic schedule and generator average, all registered with
Keras); every other module — data pipelines, callbacks, metrics, plots, export, experiments
— is loaded on first use (`kwgan.metrics`, PEP 562), so training never pulls in the picture
side (matplotlib) or the evaluation networks.
"""

import importlib
import os
from typing import Any

# TensorFlow's oneDNN CPU kernels: on by default only on CPUs with AVX-512 VNNI/BF16 or AMX
# (TensorFlow 2.9 release notes); elsewhere TensorFlow runs its Eigen kernels, which train
# the digits network's WGAN-GP step 2.2× slower on an AVX2 AMD EPYC (README, Speed). Read
# once, when TensorFlow loads, so this counts only where kwgan is imported first (the
# experiment scripts do, through experiments/startup.py); a value already set is kept.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from kwgan import startup  # noqa: E402  (standard library only)

startup.quiet_for_command_line()
with startup.quiet_import():  # TensorFlow's import-time log, where silence was asked for
    from kwgan import architectures, errors, objectives  # noqa: E402  (imports TensorFlow)
    from kwgan.averaging import GeneratorAverage  # noqa: E402
    from kwgan.batch_norm import StandingStatistics  # noqa: E402
    from kwgan.constraints import WeightClip  # noqa: E402
    from kwgan.gan import GAN  # noqa: E402
    from kwgan.schedule import CriticSchedule  # noqa: E402

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
