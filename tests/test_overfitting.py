"""experiments/overfitting.py end to end on the digits, at toy size, in a subprocess on this
backend: both panels, their outputs, a killed run resumed, and a refused flag."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scripts import error_line, killed, ok, run_script

TINY = (
    "experiments/overfitting.py --dataset digits --train_size 60 --validation_size 30 "
    "--batch_size 10 --dim 4 --critic_dim 4 --critic_steps 2 --eval_every 2"
).split()


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("overfitting") / "run"
    ok(run_script(*TINY, "--steps", "4", "--out", str(out)))
    return out


def read(out: Path) -> dict:
    return json.loads((out / "overfitting.json").read_text())


def test_both_panels_and_their_outputs(out):
    record = read(out)
    assert sorted(record["panels"]) == ["wgan", "wgan-gp"]
    train, validation = record["subset"]["train"], record["subset"]["validation"]
    assert (len(train), len(validation)) == (60, 30)
    assert not set(train) & set(validation) and max(train + validation) < 1797
    for objective, panel in record["panels"].items():
        evals = panel["evaluations"]
        assert panel["generator_iterations"] == 4
        assert [e["iteration"] for e in evals] == [2, 4]
        assert np.isfinite([e[k] for e in evals for k in ("w_train", "w_validation")]).all()
        assert panel["final_gap"] == pytest.approx(evals[-1]["w_train"] - evals[-1]["w_validation"])
        lines = (out / objective / "validation.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in lines] == evals
        assert json.loads((out / objective / "run.json").read_text())["complete"]
    with Image.open(out / "overfitting.png") as image:
        assert image.format == "PNG" and image.width > image.height  # two columns


def test_a_killed_run_resumes_to_the_same_evaluations(out, tmp_path):
    # Killed in the second panel's 7th of 8 critic iterations, after a checkpoint at its
    # 6th; the first panel is finished, and the rerun only restores it.
    killed("batch", 8 + 7, *TINY, "--steps", "4", "--checkpoint_every", "3", "--out", str(tmp_path))
    ok(run_script(*TINY, "--steps", "4", "--out", str(tmp_path)))
    for objective, panel in read(out)["panels"].items():
        resumed = read(tmp_path)["panels"][objective]
        assert resumed["evaluations"] == panel["evaluations"], objective


@pytest.mark.backend_neutral
def test_too_few_images_is_one_line(tmp_path):
    line = error_line(
        run_script(
            *TINY, "--train_size", "1000", "--validation_size", "1000", "--out", str(tmp_path)
        )
    )
    assert "error:" in line and "1797" in line and "--validation_size 1000" in line
    assert os.listdir(tmp_path) == []
