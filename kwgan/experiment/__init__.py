"""Experiments as configs: each kind of run is a frozen config and a library recipe.

    import kwgan
    config = kwgan.experiment.ImageConfig(dataset="digits", image_size=32, arch="cifar-dcgan",
                                          dim=16, steps=200, out="runs/mine")
    metrics = kwgan.experiment.run(config)   # trains, resumes, writes what lsun.py writes

The scripts in `experiments/` map their flags to these configs (`kwgan.cli.main`) and call
`run`; tests and sweeps call it in-process. Each kind's recipe — building and compiling the
GAN, its data stream, its evaluations, its outputs — is the module named after it.
"""

from __future__ import annotations

from kwgan.experiment import presets
from kwgan.experiment.architectures import ArchitecturesConfig
from kwgan.experiment.config import Config, option
from kwgan.experiment.convergence import ConvergenceConfig
from kwgan.experiment.images import ImageConfig
from kwgan.experiment.language import LanguageConfig
from kwgan.experiment.loss_meaning import LossMeaningConfig
from kwgan.experiment.overfitting import OverfittingConfig
from kwgan.experiment.precision_study import PrecisionStudyConfig
from kwgan.experiment.recipes import RecipesConfig
from kwgan.experiment.seeds import SeedsConfig
from kwgan.experiment.sweeps import SweepConfig
from kwgan.experiment.toy import ToyConfig


def run(config: Config) -> dict | None:
    """Trains `config` resumably into `config.out` and writes its outputs (what the
    experiment's script writes); returns its metrics.json. The recipe is the `run` of the
    module that defines the config's class."""
    import importlib

    return importlib.import_module(type(config).__module__).run(config)


__all__ = [
    "ArchitecturesConfig",
    "Config",
    "ConvergenceConfig",
    "ImageConfig",
    "LanguageConfig",
    "LossMeaningConfig",
    "OverfittingConfig",
    "PrecisionStudyConfig",
    "RecipesConfig",
    "SeedsConfig",
    "SweepConfig",
    "ToyConfig",
    "option",
    "presets",
    "run",
]
