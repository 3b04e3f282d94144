"""Runs Python code in a subprocess where some installed packages cannot be imported.

The packages are hidden by wrapping every `sys.meta_path` finder: for them and their
submodules each finder answers "not found", which is what an install without them gives —
`import scipy` raises ModuleNotFoundError and `importlib.util.find_spec("scipy")` returns
None. (A finder that *raises* from `find_spec` instead is no faithful stand-in:
`torch._dynamo` probes `find_spec("tensorflow")` while `keras` imports and expects None for
a missing package.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TENSORFLOW = ("tensorflow", "tensorflow_datasets")
"""What the JAX and torch backends train without."""

OPTIONAL = ("scipy", "sklearn", "threadpoolctl", "matplotlib", "PIL", "tensorboardX")
"""What an accelerator machine may lack: metrics, plots, sample grids and bundled data need
them, training does not (threadpoolctl comes with scikit-learn, tensorboardX is for logs)."""

_HIDE = textwrap.dedent(
    """
    import importlib
    import importlib.util
    import sys

    HIDDEN = {hidden!r}


    class Without:
        '''Wraps a finder so that it cannot find the hidden packages.'''

        def __init__(self, finder):
            self.finder = finder

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in HIDDEN:
                return None
            return self.finder.find_spec(name, path, target)

        def invalidate_caches(self):
            if hasattr(self.finder, "invalidate_caches"):
                self.finder.invalidate_caches()


    assert not any(name.partition(".")[0] in HIDDEN for name in sys.modules)
    sys.meta_path[:] = [Without(finder) for finder in sys.meta_path]
    for name in HIDDEN:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError(f"{{name}} is still importable")
        assert importlib.util.find_spec(name) is None
    """
)


def hiding(packages: Sequence[str]) -> str:
    """Python source that, run first in a fresh interpreter, makes `packages` unimportable
    (and checks that they are)."""
    return _HIDE.format(hidden=tuple(packages))


def run_without(
    packages: Sequence[str], script: str, cwd: os.PathLike | str, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Runs `script` with this repository's kwgan, on the current Keras backend, in a
    subprocess where `packages` cannot be imported; returns it finished (text output)."""
    import keras

    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-c", hiding(packages) + textwrap.dedent(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
