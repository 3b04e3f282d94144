"""Several `experiments/lsun.py` runs side by side, for the figures that compare them.

`experiments/loss_meaning.py` (WGAN Figs. 3, 4, 8) and `experiments/convergence.py`
(WGAN-GP Fig. 3) each train a handful of configurations on the digits and plot them
together. Each configuration is an ordinary `lsun.py` run in its own subdirectory of the
sweep's --out, trained in a subprocess: a killed sweep resumes the run it was in, and a
rerun leaves the finished ones alone (`lsun.py` says so and returns at once).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence

from absl import flags

flags.DEFINE_string("dataset", "digits", "Dataset (the quality measure is the digits classifier).")
flags.DEFINE_integer("image_size", 32, "Image size (pixels, square).")
flags.DEFINE_integer("steps", 2000, "Generator iterations of every run.", lower_bound=1)
flags.DEFINE_integer(
    "eval_every", 50, "Score 1000 samples every this many generator iterations.", lower_bound=1
)
flags.DEFINE_integer("batch_size", 64, "Batch size.", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of every run.")
FLAGS = flags.FLAGS

LSUN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsun.py")
# Changes no result: where the runs go.
FREE_FLAGS = ("out",)


def _die_with_sweep():
    """What each run's process does before it starts `lsun.py`: on Linux, asks the kernel
    for SIGTERM when the sweep dies, however it dies (SIGKILL included), so a killed sweep
    never leaves a run training on and holding its lock against the rerun. Looked up
    before the fork: the child calls it without loading anything."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    pr_set_pdeathsig = 1  # <sys/prctl.h>
    return lambda: prctl(pr_set_pdeathsig, signal.SIGTERM)


def common_args() -> list[str]:
    """The `lsun.py` flags every run of a sweep shares."""
    return [
        f"--{name}={FLAGS[name].value}"
        for name in ("dataset", "image_size", "steps", "eval_every", "batch_size", "seed")
    ]


def train_all(out: str, runs: Mapping[str, Sequence[str]]) -> dict[str, dict]:
    """Trains (or resumes, or leaves finished) each `lsun.py` run, `name: flags`, into
    `out/name`, in order; returns each one's metrics.json. Each run's output goes to its
    `log.txt`, so the sweep's own lines stay readable."""
    import kwgan

    metrics, preexec = {}, _die_with_sweep()
    for number, (name, args) in enumerate(runs.items(), start=1):
        directory = os.path.join(out, name)
        os.makedirs(directory, exist_ok=True)
        log = os.path.join(directory, "log.txt")
        print(f"[{number}/{len(runs)}] {name}: lsun.py {' '.join(args)} (log: {log})", flush=True)
        with open(log, "a") as f:
            command = [sys.executable, LSUN, f"--out={directory}", *common_args(), *args]
            code = subprocess.run(
                command, stdout=f, stderr=subprocess.STDOUT, preexec_fn=preexec
            ).returncode
        if code:
            raise kwgan.errors.KwganError(
                f"the {name} run failed (exit {code}): {last_line(log)} — see {log}; rerun "
                "to resume it."
            )
        with open(os.path.join(directory, "metrics.json")) as f:
            metrics[name] = json.load(f)
    return metrics


def last_line(path: str) -> str:
    """The last non-empty line of a log: a failed run's one-line error."""
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    return lines[-1] if lines else "(no output)"


def evaluation_series(metrics: dict, key: str) -> tuple[list[int], list[float]]:
    """The iterations of a run's digits evaluations and the `key` measured at each."""
    evaluations = metrics["evaluations"]
    return [e["iteration"] for e in evaluations], [e[key] for e in evaluations]


def training_seconds(metrics: dict) -> list[float]:
    """The run's training seconds at each evaluation: the stopwatch's, less the time spent
    in the evaluations before it (every run scores at the same iterations, but a DCGAN
    iteration costs a fifth of a WGAN one, so the scoring would blur the comparison)."""
    spent, seconds = 0.0, []
    for e in metrics["evaluations"]:
        seconds.append(e["seconds"] - spent)
        spent += e["eval_seconds"]
    return seconds


def config(module) -> dict:
    """The sweep's configuration: the shared flags and the script's own."""
    import kwgan

    return {**kwgan.cli.flag_values(sys.modules[__name__]), **kwgan.cli.flag_values(module)}
