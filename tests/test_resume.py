"""Runs you can trust: `kill -9` at any instant, rerun, and the run ends byte for byte where
the uninterrupted one does; finished runs, changed flags, a second writer, NaN.

The kills are real SIGKILLs of the experiment script's own process, sent by itself at a
chosen instant (after the n-th training batch, inside a checkpoint's HDF5 write, just before
a checkpoint is published, just after the checkpoint that ends training is published, while
the final outputs are written, before the run is marked finished), so each instant is hit
exactly rather than by chance. Only the killed runs need a process of their own: the
uninterrupted references and the reruns that finish a killed run are the same configs run
in this process through `kwgan.experiment.run`, which is what the scripts call.
"""

import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest

import kwgan
from kwgan.errors import DataError, NonFiniteLossError, ResumeError, RunLockedError
from kwgan.experiment import ImageConfig, ToyConfig
from scripts import flags_for, killed

# 12 generator iterations = 60 fit steps; a checkpoint every 10, so one falls on the last
# step too (the checkpoint that ends training is then the end-of-training one).
TOY = ToyConfig(
    dataset="8gaussians",
    dim=16,
    batch_size=32,
    eval_every=4,
    eval_samples=200,
    checkpoint_every=10,
    steps=12,
)
# A tiny image run: 4-wide networks on 16×16 digits, several passes over them.
DIGITS = ImageConfig(
    dataset="digits",
    image_size=16,
    arch="cifar-dcgan",
    dim=4,
    batch_size=256,
    steps=16,
    critic_steps=2,
    num_samples=40,
    checkpoint_every=5,
    sample_every=8,
)


def script(config) -> list[str]:
    """The experiment script's command line for `config` (its `out` included)."""
    name = "toy.py" if isinstance(config, ToyConfig) else "lsun.py"
    return [f"experiments/{name}", *flags_for(config)]


def result(out: Path) -> tuple[bytes, dict]:
    """samples.npy's bytes and metrics.json without its wall-clock times."""
    metrics = json.loads((out / "metrics.json").read_text())
    for key in (
        "seconds",
        "seconds_per_generator_iteration",
        "steady_seconds_per_generator_iteration",
    ):
        metrics.pop(key, None)
    return (out / "samples.npy").read_bytes(), metrics


@pytest.fixture(scope="module")
def toy_reference(tmp_path_factory) -> tuple[bytes, dict]:
    """The uninterrupted toy run's result."""
    out = tmp_path_factory.mktemp("reference") / "toy"
    kwgan.experiment.run(TOY.replace(out=str(out)))
    return result(out)


def kill_and_finish(config, kills) -> Path:
    """Runs `config`'s script killed at each `(point, n)` in turn (each counted from the
    start of its own process, each process resuming what the one before left), then
    finishes the run in this process; returns its directory."""
    for point, n in kills:
        killed(point, n, *script(config))
    kwgan.experiment.run(config)
    return Path(config.out)


def assert_toy_outputs(out: Path, reference: tuple[bytes, dict]) -> None:
    """Every output an uninterrupted run writes, with its numbers."""
    samples, metrics = result(out)
    assert samples == reference[0]
    assert metrics == reference[1]  # the whole history, evaluations and curves
    assert [e["iteration"] for e in metrics["evaluations"]] == [4, 8, 12]
    lines = (out / "evaluations.jsonl").read_text().splitlines()
    assert [json.loads(line)["iteration"] for line in lines] == [4, 8, 12]
    whole = json.loads((out / "metrics.json").read_text())
    assert whole["steady_seconds_per_generator_iteration"] > 0  # the stopwatch, restored
    for name in ("critic_surface.png", "w_estimate.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", name
    assert json.loads((out / "run.json").read_text())["complete"]
    checkpoints = os.listdir(out / "checkpoints")
    assert len(checkpoints) == 1 and checkpoints[0].startswith("ckpt-"), checkpoints


def test_toy_killed_while_training_resumes_to_the_same_result(tmp_path, toy_reference):
    """What a resume restores is each backend's own: the weights, both optimizers, the seed
    generator and the data stream, from a checkpoint behind a damaged one, then from the
    last one with steps to replay."""
    out = kill_and_finish(
        TOY.replace(out=str(tmp_path / "toy")),
        [
            ("h5-close-before", 2),  # inside the second checkpoint's weights file
            ("batch", 9),  # between checkpoints: the next process replays from the last one
        ],
    )
    assert_toy_outputs(out, toy_reference)


@pytest.mark.backend_neutral  # the files around a checkpoint and the outputs
def test_toy_killed_at_every_file_instant_resumes_to_the_same_result(tmp_path, toy_reference):
    out = kill_and_finish(
        TOY.replace(out=str(tmp_path / "toy")),
        [
            ("batch", 3),  # before the first checkpoint: the next process starts from nothing
            ("publish-before", 2),  # a checkpoint written, not yet published
            ("final-checkpoint", 1),  # training done and saved, no output written
            ("outputs", 1),  # samples.npy being written
            ("complete-before", 1),  # every output written, the run not yet marked finished
        ],
    )
    assert_toy_outputs(out, toy_reference)


def test_toy_finished_run_is_left_alone_and_continues(tmp_path, toy_reference, capsys):
    config = TOY.replace(steps=8, out=str(tmp_path / "toy"))
    out = Path(config.out)
    kwgan.experiment.run(config)

    def written():
        return {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != ".kwgan.lock"}

    before = written()
    capsys.readouterr()
    kwgan.experiment.run(config)
    assert "already holds this finished run" in capsys.readouterr().out
    assert written() == before

    kwgan.experiment.run(config.replace(steps=12))  # continues from 8
    assert result(out) == toy_reference

    with pytest.raises(ResumeError, match="already holds 12 generator iterations") as error:
        kwgan.experiment.run(config.replace(steps=6))
    assert "--steps" in str(error.value)


@pytest.mark.backend_neutral
def test_toy_refuses_to_resume_with_other_flags(tmp_path, capsys):
    config = TOY.replace(steps=2, out=str(tmp_path / "toy"))
    kwgan.experiment.run(config)
    with pytest.raises(ResumeError) as error:
        kwgan.experiment.run(config.replace(steps=4, seed=1, gp_weight=10.0))
    line = str(error.value)
    assert "--gp_weight 0.1 → 10.0" in line and "--seed 0 → 1" in line
    assert "--steps" not in line  # may grow
    # A time budget changes no result, so it may differ.
    capsys.readouterr()
    kwgan.experiment.run(config.replace(max_minutes=30.0))
    assert "already holds this finished run" in capsys.readouterr().out


@pytest.mark.backend_neutral
def test_second_run_on_one_out_is_refused(tmp_path):
    config = TOY.replace(steps=2, out=str(tmp_path / "toy"))
    with kwgan.run.Run(config.out, {"steps": 1}):
        with pytest.raises(RunLockedError) as error:
            kwgan.experiment.run(config)
        assert not (tmp_path / "toy" / "samples.npy").exists()
    assert f"PID {os.getpid()}" in str(error.value) and config.out in str(error.value)
    (tmp_path / "toy" / kwgan.run.RECORD_FILE).unlink()  # the stand-in run's other flags
    kwgan.experiment.run(config)  # the lock went with its holder


def test_image_run_killed_resumes_to_the_same_result(tmp_path):
    """The image pipeline (tf.data where TensorFlow is installed, else ImageBatches) resumes
    at the killed run's batch, across several passes over the digits."""
    reference = DIGITS.replace(out=str(tmp_path / "reference"))
    kwgan.experiment.run(reference)
    # In the 2nd pass, mid-interval.
    resumed = kill_and_finish(DIGITS.replace(out=str(tmp_path / "resumed")), [("batch", 13)])
    assert result(resumed) == result(Path(reference.out))


def test_nan_stops_the_run_keeps_the_checkpoint_exports_nothing(tmp_path):
    out, export = tmp_path / "run", tmp_path / "export"
    config = DIGITS.replace(batch_size=64, steps=5, lr=1e30, export=str(export), out=str(out))
    with pytest.raises(NonFiniteLossError, match="diverged at generator iteration 1"):
        kwgan.experiment.run(config)
    assert not export.exists() and not (out / "samples.npy").exists()
    assert not (out / "checkpoints").exists()  # nothing saved from the NaN step


def test_nan_guard_keeps_the_last_good_checkpoint(tiny_gan, tmp_path):
    """Finite batches, then NaN: the checkpoint taken before holds finite weights."""

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 10

        def __getitem__(self, index):
            value = np.nan if index >= 6 else 0.5
            return np.full((8, 2), value, "float32")

    gan = tiny_gan()
    gan.compile("wgan-gp")
    with pytest.raises(DataError, match="generator iteration 2 holds 16 NaN"):
        gan.fit(
            Batches(),
            shuffle=False,
            verbose=0,
            callbacks=[kwgan.checkpoint.Checkpoint(tmp_path, every=5)],
        )
    restored = tiny_gan()
    restored.compile("wgan-gp")
    state = kwgan.checkpoint.restore(tmp_path, restored)
    assert state["fit_steps"] == 5
    assert all(np.isfinite(keras.ops.convert_to_numpy(v)).all() for v in restored.variables)


def test_run_records_flags_and_what_may_change(tmp_path):
    config = {"steps": 10, "seed": 0, "max_minutes": None}
    with kwgan.run.Run(tmp_path, config, free=["max_minutes"]) as run:
        assert not run.already_complete()
        run.complete(10)
    with kwgan.run.Run(tmp_path, {**config, "max_minutes": 5.0}, free=["max_minutes"]) as run:
        assert run.already_complete()
    with kwgan.run.Run(tmp_path, {**config, "steps": 20}) as run:
        assert not run.already_complete() and run.previous["generator_iterations"] == 10
    with pytest.raises(kwgan.errors.ResumeError, match="--steps 20 → 30"):
        kwgan.run.Run(tmp_path, {**config, "steps": 30}, target_may_grow=False).__enter__()
    with pytest.raises(kwgan.errors.ResumeError, match="is not a kwgan run record"):
        (tmp_path / "run.json").write_text('{"config": ')  # truncated
        kwgan.run.Run(tmp_path, config).__enter__()


def test_a_checkpoint_damaged_after_it_was_written_is_named(tiny_gan, tmp_path):
    gan = tiny_gan()
    gan.compile("wgan-gp")
    path = kwgan.checkpoint.save(tmp_path, gan)
    weights = Path(path) / kwgan.checkpoint.WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated behind kwgan's back
    with pytest.raises(kwgan.errors.ResumeError, match=f"Checkpoint {path} cannot be read"):
        kwgan.checkpoint.restore(tmp_path, gan)
    assert weights.exists()  # named, not deleted
