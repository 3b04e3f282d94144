"""experiments/overfitting.py's recipe end to end on the digits, at toy size, on this
backend: both panels, their outputs, a killed run (a subprocess) resumed, and a refused size."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import kwgan
from kwgan.experiment import OverfittingConfig
from scripts import flags_for, killed

TINY = OverfittingConfig(
    dataset="digits",
    train_size=60,
    validation_size=30,
    batch_size=10,
    dim=4,
    critic_dim=4,
    critic_steps=2,
    eval_every=2,
    steps=4,
)
SCRIPT = ["experiments/overfitting.py", *flags_for(TINY)]


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("overfitting") / "run"
    kwgan.experiment.run(TINY.replace(out=str(out)))
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
    killed("batch", 8 + 7, *SCRIPT, "--checkpoint_every=3", f"--out={tmp_path}")
    kwgan.experiment.run(TINY.replace(out=str(tmp_path)))
    for objective, panel in read(out)["panels"].items():
        resumed = read(tmp_path)["panels"][objective]
        assert resumed["evaluations"] == panel["evaluations"], objective


@pytest.mark.backend_neutral
def test_too_few_images_is_refused_before_anything_is_written(tmp_path):
    config = TINY.replace(train_size=1000, validation_size=1000, out=str(tmp_path / "run"))
    with pytest.raises(kwgan.errors.DataError, match="1797") as error:
        kwgan.experiment.run(config)
    assert "--validation_size 1000" in str(error.value)
    assert os.listdir(tmp_path) == []
