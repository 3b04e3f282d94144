"""WGAN-GP Fig. 3: an objective trained with the other optimizer, wall-clock seconds at each
evaluation, and experiments/convergence.py's table of iterations and seconds to reach a
score."""

import json
import runpy

import keras
import pytest
from PIL import Image

import kwgan
from kwgan.experiment import ImageConfig, convergence, sweeps
from scripts import killed, run_script

TINY = dict(
    dataset="digits",
    image_size=16,
    arch="cifar-dcgan",
    dim=4,
    batch_size=16,
    critic_steps=1,
    num_samples=20,
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


@pytest.mark.backend_neutral  # the config's plumbing and the stopwatch, not the training numbers
def test_lsun_evaluations_carry_training_seconds_under_the_chosen_optimizer(tmp_path):
    out = tmp_path / "run"
    config = ImageConfig(
        **TINY, objective="wgan-gp", optimizer="rmsprop", steps=2, eval_every=1, out=str(out)
    )
    metrics = kwgan.experiment.run(config)
    assert metrics == json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["optimizer"] == "rmsprop"
    first, second = metrics["evaluations"]
    assert (first["iteration"], second["iteration"]) == (1, 2)
    # The stopwatch when each began: the second's includes the first evaluation.
    assert 0 < first["seconds"] < first["seconds"] + first["eval_seconds"] <= second["seconds"]
    assert second["seconds"] <= metrics["seconds"]


@pytest.mark.backend_neutral
def test_convergence_reports_iterations_and_training_seconds_to_reach_each_score():
    evaluations = [
        {"iteration": 100, "score": 1.5, "seconds": 10.0, "eval_seconds": 4.0},
        {"iteration": 200, "score": 3.5, "seconds": 24.0, "eval_seconds": 1.0},
        {"iteration": 300, "score": 2.5, "seconds": 35.0, "eval_seconds": 1.0},
    ]
    metrics = {"config": {"objective": "dcgan"}, "evaluations": evaluations}
    summary = convergence.summarise(metrics, (3.0, 5.0))
    # Training seconds: the stopwatch less the evaluations before: 10, 24 − 4, 35 − 5.
    assert summary["curve"]["seconds"] == [10.0, 20.0, 30.0]
    assert summary["reached"] == {"3.0": {"iteration": 200, "seconds": 20.0}, "5.0": None}
    assert (summary["final_score"], summary["best_score"]) == (2.5, 3.5)
    assert summary["largest_fall"] == 1.0  # from 3.5 to 2.5
    assert summary["seconds_per_generator_iteration"] == pytest.approx(0.1)
    table = convergence.table({"dcgan": summary}, (3.0, 5.0))
    assert "| dcgan | 200 it / 20 s | — | 2.50 | 3.50 | 1.00 | 0.10 |" in table


@pytest.mark.backend_neutral
def test_convergence_refuses_thresholds_that_are_not_scores(tmp_path):
    proc = run_script("experiments/convergence.py", "--thresholds", "3,high", "--out", tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "convergence.py: error: --thresholds takes floats, not 'high'" in proc.stderr
    assert not list(tmp_path.iterdir())  # refused before anything ran


# Two tiny runs of a sweep, checkpointed every 2 of their 4 critic iterations: one objective
# at two seeds, so that every process compiles one training step (on JAX, from the cache).
SWEEP = """
import sys
from kwgan.experiment import ImageConfig, sweeps
tiny = dict(dataset="digits", image_size=16, arch="cifar-dcgan", dim=4, batch_size=16,
            steps=4, eval_every=2, critic_steps=1, num_samples=20, checkpoint_every=2,
            objective="wgan", warmup=False)
runs = {"wgan": ImageConfig(**tiny, seed=0), "wgan_seed1": ImageConfig(**tiny, seed=1)}
if __name__ == "__main__":
    sweeps.train_all(sys.argv[1], runs)
"""


def test_a_killed_sweep_resumes_to_the_same_runs(tmp_path):
    # Each run trains in the sweep's process, in a fresh Keras session: killed in the second
    # run's 3rd critic iteration (after its checkpoint at the 2nd), the rerun (here, in this
    # process) leaves the first alone and resumes the second, now the first model its
    # process builds, to the numbers of the uninterrupted sweep (also run here).
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP)
    runs = runpy.run_path(str(script))["runs"]
    sweeps.train_all(str(tmp_path / "whole"), runs)
    killed("batch", 4 + 3, str(script), tmp_path / "resumed")
    assert json.loads((tmp_path / "resumed/wgan/run.json").read_text())["complete"]
    assert list((tmp_path / "resumed/wgan_seed1/checkpoints").iterdir())  # resumed, not restarted
    sweeps.train_all(str(tmp_path / "resumed"), runs)
    assert "already holds this finished run" in (tmp_path / "resumed/wgan/log.txt").read_text()
    for name in ("wgan", "wgan_seed1"):
        whole, resumed = tmp_path / "whole" / name, tmp_path / "resumed" / name
        assert (whole / "samples.npy").read_bytes() == (resumed / "samples.npy").read_bytes()
        a, b = (json.loads((d / "metrics.json").read_text()) for d in (whole, resumed))
        assert a["logs"] == b["logs"], name
        assert [e["score"] for e in a["evaluations"]] == [e["score"] for e in b["evaluations"]]
