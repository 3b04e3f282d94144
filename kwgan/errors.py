"""The expected failures: bad input, missing data, a run that may not be resumed.

Each class is a `KwganError` and also the built-in exception a Python caller would catch
(`ValueError`, `FileNotFoundError`, ...), so library users keep their `except ValueError`.
Command-line scripts print a `KwganError` as one line on stderr and exit non-zero
(`kwgan.cli`); any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import numbers


class KwganError(Exception):
    """An expected failure whose message names what was wrong and what to do."""


class ConfigError(KwganError, ValueError):
    """An argument, flag or hyperparameter that cannot work."""


class DataError(KwganError, ValueError):
    """Training data that does not fit the networks or is damaged (shape, dtype, labels,
    an unreadable image file, an empty dataset)."""


class DataNotFoundError(KwganError, FileNotFoundError):
    """A dataset, image folder or weights file that is not on disk."""


class OutputExistsError(KwganError, FileExistsError):
    """An output path that holds something kwgan did not write and will not replace."""


class ExportError(KwganError, ValueError):
    """A SavedModel directory that is missing, damaged or not a kwgan export."""


class ResumeError(KwganError, ValueError):
    """An output directory that cannot be resumed as asked (other flags, damaged state)."""


class RunLockedError(KwganError, RuntimeError):
    """Another process is writing to the same output directory."""


class NonFiniteLossError(KwganError, FloatingPointError):
    """Training produced a NaN or infinite loss and was stopped."""


class TensorFlowMissingError(KwganError, ImportError):
    """TensorFlow is needed (tf.data, tensorflow-datasets, SavedModel export or serving)
    but not installed; an ImportError too, so guards around optional imports keep working."""


def check_positive_int(value: object, name: str) -> int:
    """`value` as an int if it is a positive integer (not a bool), else a `ConfigError`
    naming `name`: the one check behind every count kwgan takes (batch sizes, intervals,
    critic steps)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)
