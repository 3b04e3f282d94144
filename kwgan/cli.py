"""Command-line scripts: flags derived from a config, expected failures as one line.

An experiment script (`experiments/*.py`) is a docstring and `kwgan.cli.main(preset)`:
every absl flag comes from a field of the preset's config class (`define_flags`, the one
place flags are made), the flags the user gave become the preset's arguments
(`config_from_flags`), and `kwgan.experiment.run` trains. Every expected failure — a flag
that does not parse, a value the config refuses, missing data, a refused resume — is
printed as `prog: error: message`, one line on stderr, with exit status 1; anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from absl import app, flags

from kwgan.errors import ConfigError, KwganError

Preset = Callable[..., Any]  # builds a `kwgan.experiment.Config` from keyword overrides

_DEFINE = {
    bool: flags.DEFINE_boolean,
    int: flags.DEFINE_integer,
    float: flags.DEFINE_float,
    str: flags.DEFINE_string,
}
# Python loggers that print at start-up or while loading data, as INFO/WARNING lines that
# would precede a one-line error (tensorflow-datasets logs through absl).
_NOISY_LOGGERS = ("absl", "jax._src.xla_bridge", "tensorflow")


def fail(message: str) -> None:
    """Prints `message` as one line on stderr and exits with status 1."""
    message = " ".join(str(message).split())  # one line, whatever the message
    print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
    sys.exit(1)


def run(main: Callable[[list[str]], None]) -> None:
    """`absl.app.run(main)`, with flags that do not parse and every `KwganError` printed
    as one line (`fail`) instead of absl's usage text or a traceback."""

    def guarded(argv: list[str]) -> None:
        _quiet_python_logging()
        try:
            main(argv)
        except KwganError as error:
            fail(str(error))

    app.run(guarded, flags_parser=_parse_flags)


def saved_model_argument(argv: list[str], usage: str) -> str:
    """The one positional argument of a command that reads an export (`kwgan.sample`,
    `kwgan.score`), or a `ConfigError` showing `usage`."""
    if len(argv) != 2:
        raise ConfigError(
            f"Expected exactly one argument, the SavedModel directory, got {len(argv) - 1}: "
            f"{usage}."
        )
    return argv[1]


def main(preset: Preset) -> None:
    """The whole of an experiment script: flags from `preset`'s config, then
    `kwgan.experiment.run` on the config they describe."""
    defaults = preset()
    define_flags(type(defaults), defaults)

    def main_(argv: list[str]) -> None:
        if len(argv) > 1:
            raise ConfigError(f"Unexpected argument {argv[1]!r}: every setting is a --flag.")
        from kwgan.experiment import run as run_experiment

        run_experiment(config_from_flags(preset, type(defaults)))

    run(main_)


def define_flags(config_class: type, defaults: Any) -> None:
    """One absl flag per field of `config_class`, with `defaults`' values and the field's
    help, plus `--verbose` (keep the frameworks' start-up logging; see
    `experiments/startup.py`). Values are checked by the config, not by absl, so that a bad
    one is reported like every other error."""
    from kwgan.experiment.config import choices_of, field_type

    for field in dataclasses.fields(config_class):
        kind, item_kind, _ = field_type(config_class, field)
        default = getattr(defaults, field.name)
        help_text = field.metadata.get("help", "")
        choices = choices_of(field)
        if choices:
            help_text += f" One of: {', '.join(choices)}."
        if kind is tuple:
            define = flags.DEFINE_multi_string if field.metadata["repeated"] else flags.DEFINE_list
            define(field.name, [str(v) for v in default], help_text)
        else:
            _DEFINE[kind](field.name, default, help_text)
    flags.DEFINE_boolean("verbose", False, "Keep TensorFlow's and JAX's start-up logging.")


def config_from_flags(preset: Preset, config_class: type) -> Any:
    """The config the command line asks for: `preset` called with the flags the user gave
    (so a preset's own defaults, which may depend on other flags, apply to the rest)."""
    from kwgan.experiment.config import field_type

    given = {}
    for field in dataclasses.fields(config_class):
        flag = flags.FLAGS[field.name]
        if not flag.present:
            continue
        value = flag.value
        kind, item_kind, _ = field_type(config_class, field)
        if kind is tuple:
            value = tuple(_parsed_item(field.name, v, item_kind) for v in value)
        given[field.name] = value
    return preset(**given)


def _parsed_item(name: str, text: str, kind: type) -> Any:
    """One item of a list flag as its field's item type."""
    if kind is str:
        return text
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(f"--{name} takes {kind.__name__}s, not {text!r}.") from None


def _parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with a value that does not parse (`--steps abc`, an unknown
    flag) reported as one line instead of absl's error and usage hint."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        fail(str(error))


def _quiet_python_logging() -> None:
    """Start-up and data-loading chatter of the frameworks' Python loggers off unless
    `--verbose`: a user's terminal shows kwgan's progress and, when
    something is wrong, one line saying what."""
    if "verbose" in flags.FLAGS and flags.FLAGS.verbose:
        return
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
