"""Runs you can trust: `kill -9` at any instant, rerun, and the run ends byte for byte where
the uninterrupted one does; finished runs, changed flags, a second writer, NaN.

The kills are real SIGKILLs of the experiment's own process, sent by itself at a chosen
instant (after the n-th training batch, inside a checkpoint's HDF5 write, just before a
checkpoint is published, while the final outputs are written), so each instant is hit
exactly rather than by chance.
"""

import functools
import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest

import kwgan
from kwgan.errors import DataError
from scripts import error_line, killed, ok, run_script, start, succeed

TOY = (
    "experiments/toy.py --dataset 8gaussians --dim 16 --batch_size 32 --eval_every 4 "
    "--eval_samples 200 --checkpoint_every 7"
).split()
# A tiny image run: 4-wide networks on 16×16 digits.
DIGITS = "experiments/lsun.py --dataset digits --image_size 16 --arch cifar-dcgan --dim 4".split()


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
def toy_reference(tmp_path_factory):
    """The uninterrupted toy run, 12 generator iterations (60 fit steps): started at once and
    read by `toy_reference()`, so that it trains beside the first test that uses it (the
    2-core CI machine runs the two processes side by side)."""
    out = tmp_path_factory.mktemp("reference") / "toy"
    process = start(*TOY, "--steps", "12", "--out", str(out))

    @functools.cache
    def read() -> tuple[bytes, dict]:
        succeed(process)
        return result(out)

    yield read
    if process.poll() is None:  # no test read it
        process.kill()
        process.communicate()


# Kill instants, each counted from the start of its own process: every process after the
# first resumes the run the one before left.
KILLS = [
    ("batch", 3),  # before the first checkpoint: the next process starts from nothing
    ("h5-close-before", 2),  # inside the second checkpoint's weights file
    ("publish-before", 2),  # a checkpoint written, not yet published
    ("batch", 9),  # between checkpoints: the next process replays from the last one
    ("outputs", 1),  # final checkpoint saved, samples.npy being written
    ("complete-before", 1),  # every output written, the run not yet marked finished
]


def test_toy_killed_again_and_again_resumes_to_the_same_result(tmp_path, toy_reference):
    out = tmp_path / "toy"
    for point, n in KILLS:
        killed(point, n, *TOY, "--steps", "12", "--out", str(out))
    ok(run_script(*TOY, "--steps", "12", "--out", str(out)))
    samples, metrics = result(out)
    assert samples == toy_reference()[0]
    assert metrics == toy_reference()[1]  # the whole history, evaluations and curves
    assert [e["iteration"] for e in metrics["evaluations"]] == [4, 8, 12]
    lines = (out / "evaluations.jsonl").read_text().splitlines()
    assert [json.loads(line)["iteration"] for line in lines] == [4, 8, 12]
    checkpoints = os.listdir(out / "checkpoints")
    assert len(checkpoints) == 1 and checkpoints[0].startswith("ckpt-"), checkpoints


def test_toy_finished_run_is_left_alone_and_continues(tmp_path, toy_reference):
    out = tmp_path / "toy"
    ok(run_script(*TOY, "--steps", "8", "--out", str(out)))

    def written():
        return {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != ".kwgan.lock"}

    before = written()
    proc = ok(run_script(*TOY, "--steps", "8", "--out", str(out)))
    assert "already holds this finished run" in proc.stdout
    assert written() == before

    ok(run_script(*TOY, "--steps", "12", "--out", str(out)))  # continues from 8
    assert result(out) == toy_reference()

    line = error_line(run_script(*TOY, "--steps", "6", "--out", str(out)))
    assert "already holds 12 generator iterations" in line and "--steps" in line


@pytest.mark.backend_neutral
def test_toy_refuses_to_resume_with_other_flags(tmp_path):
    out = tmp_path / "toy"
    killed("batch", 30, *TOY, "--steps", "12", "--out", str(out))
    proc = run_script(*TOY, "--steps", "12", "--seed", "1", "--gp_weight", "10", "--out", str(out))
    line = error_line(proc)
    assert "--gp_weight 0.1 → 10.0" in line and "--seed 0 → 1" in line
    assert "--steps" not in line  # may grow
    # A time budget changes no result, so it may differ.
    ok(run_script(*TOY, "--steps", "12", "--max_minutes", "30", "--out", str(out)))


@pytest.mark.backend_neutral
def test_second_run_on_one_out_is_refused(tmp_path):
    out = tmp_path / "toy"
    with kwgan.run.Run(out, {"steps": 1}):
        line = error_line(run_script(*TOY, "--steps", "4", "--out", str(out)))
        assert not (out / "samples.npy").exists()
    assert f"PID {os.getpid()}" in line and str(out) in line
    (out / kwgan.run.RECORD_FILE).unlink()  # this test's stand-in run recorded other flags
    ok(run_script(*TOY, "--steps", "4", "--out", str(out)))  # the lock went with its holder


def test_image_run_killed_resumes_to_the_same_result(tmp_path):
    """The image pipeline (tf.data where TensorFlow is installed, else ImageBatches) resumes
    at the killed run's batch, across several passes over the digits."""
    args = [
        *DIGITS,
        *"--batch_size 256 --steps 16 --critic_steps 2 --num_samples 40".split(),
        *"--checkpoint_every 5 --sample_every 8".split(),
    ]
    reference, resumed = tmp_path / "reference", tmp_path / "resumed"
    ok(run_script(*args, "--out", str(reference)))
    killed("batch", 13, *args, "--out", str(resumed))  # in the 2nd pass, mid-interval
    ok(run_script(*args, "--out", str(resumed)))
    assert result(resumed) == result(reference)


def test_nan_stops_the_run_keeps_the_checkpoint_exports_nothing(tmp_path):
    out, export = tmp_path / "run", tmp_path / "export"
    args = "--batch_size 64 --steps 5 --lr 1e30".split()
    proc = run_script(*DIGITS, *args, "--export", str(export), "--out", str(out))
    assert "diverged at generator iteration 1" in error_line(proc)
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
