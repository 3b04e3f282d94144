"""Running absl command-line scripts: expected failures as one line, bugs as tracebacks."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from absl import app, flags

from kwgan.errors import KwganError


def run(main: Callable[[list[str]], None]) -> None:
    """`absl.app.run(main)`, with every `KwganError` printed as `prog: error: message` on
    stderr and exit status 1, so a user sees what to fix instead of a traceback."""

    def guarded(argv: list[str]) -> None:
        try:
            main(argv)
        except KwganError as error:
            message = " ".join(str(error).split())  # one line, whatever the message
            print(f"{os.path.basename(sys.argv[0])}: error: {message}", file=sys.stderr)
            sys.exit(1)

    app.run(guarded)


def flag_values(module: ModuleType) -> dict[str, Any]:
    """The values of every flag `module` defined, by name: a run's configuration."""
    return {flag.name: flag.value for flag in flags.FLAGS.get_flags_for_module(module)}
