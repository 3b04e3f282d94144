"""WGAN-GP Fig. 3: an objective trained with the other optimizer, wall-clock seconds at each
evaluation, and experiments/convergence.py's table of iterations and seconds to reach a
score."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest
from PIL import Image

import kwgan

ROOT = Path(__file__).resolve().parents[1]


def python(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend(), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_wgan_gp_with_rmsprop_keeps_its_learning_rate_and_losses():
    wgan_gp = kwgan.objectives.get("wgan-gp")
    rmsprop = wgan_gp.with_optimizer("rmsprop")
    assert (rmsprop.name, rmsprop.gp_weight, rmsprop.adam) == ("wgan-gp", 10.0, False)
    for opt in rmsprop.optimizers():
        assert isinstance(opt, keras.optimizers.RMSprop)
        assert float(opt.learning_rate) == pytest.approx(1e-4) and opt.rho == 0.99
    with pytest.raises(kwgan.errors.ConfigError, match="this wgan-gp trains with RMSProp"):
        rmsprop.optimizers(beta_1=0.5)
    (adam, _) = kwgan.objectives.get("wgan").with_optimizer("adam").optimizers()
    assert isinstance(adam, keras.optimizers.Adam)
    assert (float(adam.learning_rate), adam.beta_1, adam.beta_2) == pytest.approx((5e-5, 0, 0.9))
    with pytest.raises(kwgan.errors.ConfigError, match="choose adam or rmsprop"):
        wgan_gp.with_optimizer("sgd")


def test_quality_over_time_writes_both_panels(tmp_path):
    path = tmp_path / "convergence.png"
    runs = {"a": ([10, 20], [1.5, 3.0], [2.0, 4.0]), "b": ([10, 20], [0.5, 1.0], [1.0, 5.0])}
    kwgan.plots.quality_over_time(runs, str(path), quality_label="score")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 2 * image.height


def test_lsun_evaluations_carry_training_seconds_under_the_chosen_optimizer(tmp_path):
    out = tmp_path / "run"
    proc = python(
        *"experiments/lsun.py --dataset digits --image_size 16 --arch cifar-dcgan --dim 4".split(),
        *"--objective wgan-gp --optimizer rmsprop --steps 2 --eval_every 1 --batch_size 16".split(),
        *"--critic_steps 1 --num_samples 20 --out".split(),
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["optimizer"] == "rmsprop"
    first, second = metrics["evaluations"]
    assert (first["iteration"], second["iteration"]) == (1, 2)
    # The stopwatch when each began: the second's includes the first evaluation.
    assert 0 < first["seconds"] < first["seconds"] + first["eval_seconds"] <= second["seconds"]
    assert second["seconds"] <= metrics["seconds"]


TABLE = """
import json, sys
sys.path.insert(0, "experiments")
import convergence
convergence.FLAGS(["convergence"])
evaluations = [{"iteration": 100, "score": 1.5, "seconds": 10.0, "eval_seconds": 4.0},
               {"iteration": 200, "score": 3.5, "seconds": 24.0, "eval_seconds": 1.0},
               {"iteration": 300, "score": 2.5, "seconds": 35.0, "eval_seconds": 1.0}]
metrics = {"config": {"objective": "dcgan"}, "evaluations": evaluations}
summary = convergence.summarise(metrics, [3.0, 5.0])
print(convergence.table({"dcgan": summary}, [3.0, 5.0]))
print(json.dumps(summary))
"""


def test_convergence_reports_iterations_and_training_seconds_to_reach_each_score():
    proc = python("-c", TABLE)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout.splitlines()[-1])
    # Training seconds: the stopwatch less the evaluations before: 10, 24 − 4, 35 − 5.
    assert summary["curve"]["seconds"] == [10.0, 20.0, 30.0]
    assert summary["reached"] == {"3.0": {"iteration": 200, "seconds": 20.0}, "5.0": None}
    assert (summary["final_score"], summary["best_score"]) == (2.5, 3.5)
    assert summary["largest_fall"] == 1.0  # from 3.5 to 2.5
    assert summary["seconds_per_generator_iteration"] == pytest.approx(0.1)
    assert "| dcgan | 200 it / 20 s | — | 2.50 | 3.50 | 1.00 | 0.10 |" in proc.stdout


def test_convergence_refuses_thresholds_that_are_not_scores(tmp_path):
    proc = python("experiments/convergence.py", "--thresholds", "3,high", "--out", str(tmp_path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "convergence.py: error: --thresholds takes scores" in proc.stderr
    assert not list(tmp_path.iterdir())  # refused before anything ran


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_sweep_takes_its_running_run_with_it():
    # A sweep killed with SIGKILL must not leave its lsun.py child training on and holding
    # the run's lock against the rerun; `sleep` stands in for the child here.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; sys.path.insert(0, 'experiments'); import sweep; "
            "child = subprocess.Popen(['sleep', '60'], preexec_fn=sweep._die_with_sweep()); "
            "print(child.pid, flush=True); time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    for _ in range(100):
        if not _running(child):
            return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the sweep's child outlived it")


def _running(pid: int) -> bool:
    """Whether `pid` runs; a zombie waiting for a reaper that is not ours counts as ended."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
