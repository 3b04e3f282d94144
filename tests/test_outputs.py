"""Every output path an experiment writes is checked before it trains, and nothing the user
had is written over: a `--out` that is not a kwgan run's, an `--export` onto the user's file
or folder, a `--tensorboard` that is a file, an `--out` that cannot be created. And a run
that never trained (its flags failed while the GAN was built) binds nothing, so the
corrected command is not refused as a resume "with other flags".

Each refusal comes before anything trains, whatever the backend, so these are
`backend_neutral`; the configs run in this process through `kwgan.experiment.run`, the call
behind every script.
"""

import importlib.util
import os

import pytest

import kwgan
from kwgan.errors import ConfigError, OutputExistsError, ResumeError
from kwgan.experiment import ImageConfig, ToyConfig, sweeps
from kwgan.experiment.convergence import ConvergenceConfig

pytestmark = pytest.mark.backend_neutral

HAS_TF = importlib.util.find_spec("tensorflow") is not None


def tiny_images(out, **overrides) -> ImageConfig:
    """`L` of the issue: the CIFAR DCGAN on the digits, at test size."""
    settings = dict(
        dataset="digits",
        image_size=32,
        arch="cifar-dcgan",
        dim=4,
        batch_size=8,
        steps=1,
        critic_steps=1,
        num_samples=10,
    )
    return ImageConfig(**{**settings, **overrides, "out": str(out)})


def tiny_toy(out, **overrides) -> ToyConfig:
    settings = dict(steps=1, dim=4, batch_size=8, eval_every=1, eval_samples=20)
    return ToyConfig(**{**settings, **overrides, "out": str(out)})


def tiny_sweep(out) -> ConvergenceConfig:
    return ConvergenceConfig(
        image_size=16, dim=4, steps=1, eval_every=1, batch_size=8, out=str(out)
    )


def snapshot(root) -> dict:
    """Every file under `root` with its bytes."""
    return {
        os.path.relpath(os.path.join(d, name), root): open(os.path.join(d, name), "rb").read()
        for d, _, files in os.walk(root)
        for name in files
    }


@pytest.mark.parametrize("recipe", [tiny_images, tiny_toy, tiny_sweep])
def test_out_holding_the_users_files_is_refused_before_training(tmp_path, recipe):
    mywork = tmp_path / "mywork"
    mywork.mkdir()
    (mywork / "metrics.json").write_text('{"mine": true}')
    (mywork / "samples.png").write_bytes(b"my picture")
    with pytest.raises(OutputExistsError, match=r"mywork holds 'metrics.json' and 1 more.*run"):
        kwgan.experiment.run(recipe(mywork))
    # Refused before anything was written into it, the lock file included.
    assert snapshot(mywork) == {"metrics.json": b'{"mine": true}', "samples.png": b"my picture"}


def test_a_directory_holding_only_what_a_run_leaves_before_its_record_is_taken(tmp_path):
    config = {"steps": 1}
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / sweeps.LOG_FILE).write_text("a sweep's log of this run\n")
    with kwgan.run.Run(tmp_path / "new", config):
        pass
    (tmp_path / "new" / kwgan.run.RECORD_FILE).unlink()  # as if killed before writing it
    with kwgan.run.Run(tmp_path / "new", config):  # the lock and the log only: still a run's
        pass
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("the user's")
    with pytest.raises(OutputExistsError, match="holds 'notes.txt' but no run.json"):
        kwgan.run.Run(tmp_path / "mine", config).__enter__()
    assert os.listdir(tmp_path / "mine") == ["notes.txt"]


def test_a_sweep_takes_a_directory_of_runs_and_nothing_else(tmp_path):
    """A sweep may collect runs trained alone into a new directory; a run may not start in
    a directory of runs, and a sweep's refuses anything that is not a run."""
    config = {"steps": 1}
    runs = tmp_path / "runs"
    with kwgan.run.Run(runs / "seed0", config):  # a run trained alone
        pass
    with pytest.raises(OutputExistsError, match="holds 'seed0' but no run.json"):
        kwgan.run.Run(runs, config).__enter__()
    with kwgan.run.Run(runs, config, holds_runs=True):
        pass
    assert (runs / kwgan.run.RECORD_FILE).is_file()
    (tmp_path / "mixed" / "seed0").mkdir(parents=True)
    (tmp_path / "mixed" / "seed0" / kwgan.run.RECORD_FILE).write_text("{}")
    (tmp_path / "mixed" / "notes.txt").write_text("the user's")
    with pytest.raises(OutputExistsError, match="holds 'notes.txt' but no run.json"):
        kwgan.run.Run(tmp_path / "mixed", config, holds_runs=True).__enter__()
    assert sorted(os.listdir(tmp_path / "mixed")) == ["notes.txt", "seed0"]


@pytest.mark.skipif(not HAS_TF, reason="the SavedModel export needs TensorFlow")
@pytest.mark.parametrize("kind", ["file", "folder"])
def test_export_onto_the_users_file_or_folder_is_refused_before_training(tmp_path, kind):
    export = tmp_path / "export"
    if kind == "file":
        export.write_text("the user's notes")
    else:
        export.mkdir()
        (export / "cat.jpg").write_bytes(b"a cat")
    before = snapshot(tmp_path)
    with pytest.raises(OutputExistsError, match="export.*refusing to replace it"):
        kwgan.experiment.run(tiny_images(tmp_path / "run", export=str(export)))
    assert snapshot(tmp_path) == before  # nothing trained: no run directory at all


def test_tensorboard_that_is_a_file_is_refused_before_training(tmp_path):
    (tmp_path / "logs").write_text("the user's")
    with pytest.raises(ConfigError, match=r"--tensorboard .*logs is not a directory"):
        kwgan.experiment.run(tiny_toy(tmp_path / "run", tensorboard=str(tmp_path / "logs")))
    assert os.listdir(tmp_path) == ["logs"]


def test_out_that_cannot_be_created_is_one_error_before_training(tmp_path):
    (tmp_path / "notes.txt").write_text("the user's")
    out = tmp_path / "notes.txt" / "run"
    with pytest.raises(ConfigError, match=r"--out .*notes.txt on the way to it is a file"):
        kwgan.experiment.run(tiny_toy(out))
    assert os.listdir(tmp_path) == ["notes.txt"]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
def test_out_in_a_read_only_directory_is_one_error_before_training(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ConfigError, match=r"--out .*locked is not writable"):
            kwgan.experiment.run(tiny_toy(locked / "run"))
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o755)


def test_a_run_that_failed_while_building_binds_nothing(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="48"):  # the CIFAR DCGAN is 32x32 only
        kwgan.experiment.run(tiny_images(out, image_size=48))
    metrics = kwgan.experiment.run(tiny_images(out))  # the corrected command
    assert metrics["generator_iterations"] == 1 and metrics["config"]["image_size"] == 32
    # Once it trained, its flags bind, as before.
    with pytest.raises(ResumeError, match="other flags.*--seed 0 → 1"):
        kwgan.experiment.run(tiny_images(out, seed=1))
