"""kwgan: Wasserstein GANs for Keras 3 on TensorFlow, JAX and PyTorch."""

from kwgan import (
    architectures,
    callbacks,
    checkpoint,
    cli,
    data,
    distribute,
    errors,
    experiment,
    export,
    grid,
    metrics,
    objectives,
    plots,
    run,
    tensorboard,
)
from kwgan.constraints import WeightClip
from kwgan.gan import GAN
from kwgan.schedule import CriticSchedule

__version__ = "0.1.0"
