"""Callbacks that think in generator iterations, the unit both papers count in.

One module per concern: `base` (`GeneratorIterationCallback` and the helpers that read the
step's logs), `guards` (what stops `fit`), `progress` (progress display, stopwatch),
`evaluation` (loss curves, evaluations every so many iterations) and `pictures` (sample
grids, the W-estimate curve). Every public name is also here, `kwgan.callbacks.SampleGrid`,
but loaded from its module on first use (PEP 562), so that importing one module — as
`kwgan.gan` imports `guards` for its NaN guard — does not import the others: training never
pulls in the picture side (`kwgan.grid`, `kwgan.plots`, matplotlib).

The callbacks that write files write them only in the process that writes a data-parallel
run's files (`kwgan.distribute.chief_only`); what they write (samples, evaluations) every
process computes, as generating is a computation over all the run's devices.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "base": ("DIAGNOSTICS", "GeneratorIterationCallback", "curves", "scalar"),
    "guards": ("EMPTY_DATA", "StopAtGeneratorIteration", "TerminateOnNonFinite", "TimeLimit"),
    "progress": ("GeneratorProgbar", "Stopwatch"),
    "evaluation": ("EvaluateEvery", "LossHistory", "ValidationEstimate"),
    "pictures": ("SampleGrid", "WEstimateCurve"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
