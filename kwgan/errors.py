"""The expected failures: bad input, missing data, a run that may not be resumed.

Each class is a `KwganError` and also the built-in exception a Python caller would catch
(`ValueError`, `FileNotFoundError`, ...), so library users keep their `except ValueError`.
Command-line scripts print a `KwganError` as one line on stderr and exit non-zero
(`kwgan.cli`); any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


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
