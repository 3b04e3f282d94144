"""TensorFlow's import-time log, silenced where silence was asked for.

TensorFlow writes 4–10 lines to stderr while it is imported (oneDNN, the CUDA probe),
through C++ logging that is not yet initialised and so ignores `TF_CPP_MIN_LOG_LEVEL`
(TensorFlow ≥ 2.20; abseil-cpp issue 1570); the variable does silence the later lines
(cuInit, grappler). `import kwgan` imports TensorFlow through Keras on every backend where
it is installed, so kwgan's command lines, which answer an expected failure with one line on
stderr, would print those lines before it.

So `import kwgan` imports TensorFlow with stderr's file descriptor pointed at a temporary
file whenever `TF_CPP_MIN_LOG_LEVEL` is 3 (errors off: the variable then means what it
says), and replays what was written if the import fails. kwgan's command lines set that
level, unless the environment already has one: `python -m kwgan.sample`, `python -m
kwgan.score` (`command_line`) and the experiment scripts (`experiments/startup.py`, which
`--verbose` skips). A library user who set no level sees TensorFlow's log as before.

Standard library only: it runs before anything else in `kwgan/__init__.py`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

LEVEL = "TF_CPP_MIN_LOG_LEVEL"
QUIET = "3"


def command_line() -> bool:
    """Whether this process is `python -m kwgan.<module>` (`sys.orig_argv`: `sys.argv[0]`
    is still '-m' while the package is imported)."""
    argv = getattr(sys, "orig_argv", [])
    return any(
        flag == "-m" and module.startswith("kwgan.")
        for flag, module in zip(argv, argv[1:], strict=False)
    )


def quiet_for_command_line() -> None:
    """Asks TensorFlow for silence in kwgan's `python -m` command lines (a level the user
    set is kept)."""
    if command_line():
        os.environ.setdefault(LEVEL, QUIET)


@contextlib.contextmanager
def quiet_import() -> Iterator[None]:
    """File descriptor 2 captured for the block when `TF_CPP_MIN_LOG_LEVEL` is 3; what the
    block wrote is replayed if it raises."""
    if os.environ.get(LEVEL) != QUIET:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.buffer.write(log.read())
            sys.stderr.flush()
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
