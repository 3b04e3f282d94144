"""Imported first by every experiment script: the frameworks' start-up logging off.

TensorFlow writes 4–10 lines to stderr while it is imported (oneDNN, the CUDA probe), through
C++ logging that is not yet initialised and so ignores `TF_CPP_MIN_LOG_LEVEL` (TensorFlow ≥
2.20; abseil-cpp issue 1570), and later lines (cuInit, grappler) that the variable does
silence. `import kwgan` imports TensorFlow through Keras on every backend where it is
installed, so this module, imported before `kwgan`, sets the variable and imports kwgan (and
with it TensorFlow, after kwgan's defaults for it) with stderr's file descriptor pointed at a
temporary file: a user's one-line error is then the only line. If the import fails, what it
wrote is replayed before the traceback. `--verbose` keeps the log, and a level the user set
in the environment is kept.
"""

import importlib
import importlib.util
import os
import sys
import tempfile

VERBOSE = "--verbose" in sys.argv[1:]


def import_quietly(module: str) -> None:
    """Imports `module` (if installed) with file descriptor 2 captured."""
    if importlib.util.find_spec(module) is None:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            importlib.import_module(module)
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.buffer.write(log.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


if not VERBOSE:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import_quietly("kwgan")  # before TensorFlow: its TensorFlow defaults (kwgan/__init__.py)
