"""Runs the repository's scripts, and Python code, in subprocesses for the tests.

Every test that needs a fresh interpreter (a script run as the README runs it, a device count
fixed at start-up, a package hidden, a process killed mid-write) goes through here, so that
each gets the same environment and a timeout: a hung child fails its test instead of holding
CI. The environment is this process's with `KERAS_BACKEND` set to this process's backend
(a test may name another), TensorFlow's C++ logging quieted and this checkout first on
`PYTHONPATH`, so a child started outside the repository still imports this kwgan.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKEND = keras.backend.backend()
TIMEOUT_S = 600
"""Each subprocess's limit: the longest (a reference training run) takes about a minute on a
loaded 2-core machine."""


def environment(overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The children's environment, with `overrides` set (or removed, where None)."""
    env = {
        **os.environ,
        "KERAS_BACKEND": BACKEND,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
    }
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def cpu_devices(count: int) -> dict[str, str]:
    """Environment overrides that give a JAX child `count` virtual CPU devices (fixed when
    JAX starts, hence a subprocess)."""
    return {
        "JAX_PLATFORMS": "cpu",
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={count}",
    }


def _command(script: str | os.PathLike) -> list[str]:
    """`python`'s arguments for a script path (`experiments/toy.py`) or a module name."""
    script = str(script)
    return [script] if script.endswith(".py") else ["-m", script]


def _run(
    argv: Sequence[str],
    env: Mapping[str, str | None] | None,
    cwd: os.PathLike | str,
    timeout: float,
) -> subprocess.CompletedProcess:
    command = [sys.executable, *map(str, argv)]
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            env=environment(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{command[:3]}... ran over {timeout} s:\n{_tail(error.stderr)}")


def run_script(
    script: str | os.PathLike,
    *args: str | os.PathLike,
    env: Mapping[str, str | None] | None = None,
    cwd: os.PathLike | str = ROOT,
    timeout: float = TIMEOUT_S,
) -> subprocess.CompletedProcess:
    """`python SCRIPT ARGS` (or `python -m MODULE ARGS`) at the repository root; returns it
    finished, its output as text."""
    return _run([*_command(script), *args], env, cwd, timeout)


def run_code(
    code: str,
    *args: str | os.PathLike,
    env: Mapping[str, str | None] | None = None,
    cwd: os.PathLike | str = ROOT,
    timeout: float = TIMEOUT_S,
) -> subprocess.CompletedProcess:
    """`python -c CODE ARGS` (CODE dedented) at the repository root; returns it finished."""
    return _run(["-c", textwrap.dedent(code), *args], env, cwd, timeout)


def start(
    *args: str | os.PathLike,
    code: str | None = None,
    env: Mapping[str, str | None] | None = None,
    cwd: os.PathLike | str = ROOT,
) -> subprocess.Popen:
    """`run_script(*args)` (or, with `code`, `run_code(code, *args)`) started and not waited
    for, for processes that must run together; `finish` waits."""
    argv = ["-c", textwrap.dedent(code), *args] if code else [*_command(args[0]), *args[1:]]
    return subprocess.Popen(
        [sys.executable, *map(str, argv)],
        cwd=cwd,
        env=environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(
    *processes: subprocess.Popen, timeout: float = TIMEOUT_S
) -> list[subprocess.CompletedProcess]:
    """Waits for every process, killing them all if one runs over `timeout` seconds (a
    process of a cluster whose peer died waits for it forever)."""
    try:
        outputs = [p.communicate(timeout=timeout) for p in processes]
    except subprocess.TimeoutExpired:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.communicate()
        pytest.fail(f"a subprocess of {[p.args[1:3] for p in processes]} ran over {timeout} s")
    return [
        subprocess.CompletedProcess(p.args, p.returncode, out, err)
        for p, (out, err) in zip(processes, outputs, strict=True)
    ]


def _tail(output: str | bytes | None, chars: int = 5000) -> str:
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    return (output or "")[-chars:]


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    """`proc`, which must have succeeded (else its output's ends are the failure)."""
    assert proc.returncode == 0, (
        f"{proc.args[1:3]}\n{_tail(proc.stdout, 3000)}\n{_tail(proc.stderr)}"
    )
    return proc


def succeed(
    *processes: subprocess.Popen, timeout: float = TIMEOUT_S
) -> list[subprocess.CompletedProcess]:
    """`finish`, where every process must succeed."""
    return [ok(proc) for proc in finish(*processes, timeout=timeout)]


# TensorFlow's and XLA's C++ logging (glog: `I0000 00:00:...`), which TF_CPP_MIN_LOG_LEVEL
# does not silence for a few start-up lines, and TensorFlow's Python INFO logs
# (`INFO:tensorflow:Using MirroredStrategy ...`), which come before an error as before
# training.
_LOG_LINE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl|INFO:)")


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The one line a failed script printed on stderr (no traceback), less the logging."""
    assert proc.returncode != 0, f"succeeded:\n{_tail(proc.stdout, 3000)}"
    assert "Traceback" not in proc.stderr, _tail(proc.stderr, 3000)
    lines = [
        line for line in proc.stderr.splitlines() if line.strip() and not _LOG_LINE.match(line)
    ]
    assert len(lines) == 1, _tail(proc.stderr, 3000)
    return lines[0]


# -- killed at an instant --------------------------------------------------------------------

# Runs a script with one instant patched to SIGKILL the process: `python -c KILLER POINT N
# SCRIPT ARGS...` dies at the N-th time POINT is reached.
_KILLER = """
    import os, runpy, signal, sys
    point, n, script = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sys.argv = [script, *sys.argv[4:]]
    sys.path.insert(0, os.path.dirname(script))
    calls = [0]

    def patch(owner, name):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            calls[0] += 1
            if calls[0] == n and point.endswith("-before"):
                os.kill(os.getpid(), signal.SIGKILL)
            result = original(*args, **kwargs)
            if calls[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        setattr(owner, name, wrapper)

    if point == "batch":
        import keras
        patch(keras.callbacks.CallbackList, "on_train_batch_end")
    elif point == "h5-close-before":  # inside a checkpoint's HDF5 write
        import h5py
        patch(h5py.File, "close")
    elif point == "publish-before":  # checkpoint complete under its temporary name
        import kwgan.checkpoint
        patch(kwgan.checkpoint, "_fsync_tree")
    elif point == "final-checkpoint":  # the checkpoint that ends training published
        import kwgan.checkpoint
        save, finals = kwgan.checkpoint.save, [0]

        def final_save(directory, gan, *args, **kwargs):
            path = save(directory, gan, *args, **kwargs)
            finals[0] += gan.stop_training  # saved once training stopped: the last one
            if finals[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return path

        kwgan.checkpoint.save = final_save
    elif point == "outputs":  # after training, while writing the final outputs
        import numpy
        patch(numpy, "save")
    elif point == "complete-before":  # every output written, run not yet marked finished
        import kwgan.run
        patch(kwgan.run.Run, "complete")
    runpy.run_path(script, run_name="__main__")
"""


def killed(point: str, n: int, script: str, *args: str | os.PathLike) -> None:
    """Runs `script ARGS` until the `n`-th time it reaches `point` (`batch`: a training
    batch ended; `h5-close-before`: inside a checkpoint's HDF5 write; `publish-before`: a
    checkpoint written, not yet published; `final-checkpoint`: just after the checkpoint
    that ends training is published, before any output; `outputs`: the final outputs being
    written; `complete-before`: the run not yet marked finished), where it SIGKILLs
    itself. The kill is sent by the process itself, so each instant is hit exactly rather
    than by chance."""
    proc = run_code(_KILLER, point, str(n), script, *args)
    assert proc.returncode == -signal.SIGKILL, f"not killed at {point} #{n}:\n{_tail(proc.stderr)}"


# -- several processes -----------------------------------------------------------------------


def free_ports(n: int) -> list[int]:
    """`n` distinct free localhost ports (all bound at once, so none repeats), for tests
    that start several cooperating processes."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


# -- without some installed packages ---------------------------------------------------------

TENSORFLOW = ("tensorflow", "tensorflow_datasets")
"""What the JAX and torch backends train without."""

OPTIONAL = ("scipy", "sklearn", "threadpoolctl", "matplotlib", "PIL", "tensorboardX")
"""What an accelerator machine may lack: metrics, plots, sample grids and bundled data need
them, training does not (threadpoolctl comes with scikit-learn, tensorboardX is for logs)."""

# Hides packages by wrapping every `sys.meta_path` finder: for them and their submodules each
# finder answers "not found", which is what an install without them gives — `import scipy`
# raises ModuleNotFoundError and `importlib.util.find_spec("scipy")` returns None. (A finder
# that *raises* from `find_spec` instead is no faithful stand-in: `torch._dynamo` probes
# `find_spec("tensorflow")` while `keras` imports and expects None for a missing package.)
_HIDE = """
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


def run_without(
    packages: Sequence[str],
    code: str,
    cwd: os.PathLike | str,
    timeout: float = TIMEOUT_S,
) -> subprocess.CompletedProcess:
    """`run_code(code)` in a fresh interpreter where `packages` (and their submodules)
    cannot be imported; it checks first that they cannot."""
    hiding = textwrap.dedent(_HIDE).format(hidden=tuple(packages))
    return run_code(hiding + textwrap.dedent(code), cwd=cwd, timeout=timeout)


# -- a config as a command line --------------------------------------------------------------


def flags_for(config) -> list[str]:
    """The flags that make an experiment script build `config`: one per field that differs
    from the field's default (`kwgan.cli` defines one flag per field), so a test can run a
    config both in-process and as the script, and kill the script."""
    import dataclasses

    argv = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if value == field.default or value is None:
            continue
        if isinstance(value, bool):
            argv.append(f"--{'' if value else 'no'}{field.name}")
        elif isinstance(value, tuple):
            if field.metadata.get("repeated"):
                argv += [f"--{field.name}={v}" for v in value]
            else:
                argv.append(f"--{field.name}={','.join(map(str, value))}")
        else:
            argv.append(f"--{field.name}={value}")
    return argv
