"""`kwgan.experiment.precision_study`: one recipe in float32 and mixed_bfloat16.

The end-to-end study (one seed, tiny Fashion-MNIST idx files, in this process) needs the FID
Inception weights and skips without them; it checks the plumbing — both precisions reach
their runs from the same seed, KID at each evaluation, the critic's numbers, the table and
the figure — which no backend changes, so it runs in the TensorFlow pass only. Training in
`mixed_bfloat16` is tested per backend in test_precision.py.
"""

import json
import math

import numpy as np
import pytest

import kwgan
from conftest import write_idx_dataset
from kwgan.errors import ConfigError
from kwgan.experiment import PrecisionStudyConfig, precision_study

SAMPLES = 10  # as many as the test images: FID's sizes check passes, Inception stays cheap


@pytest.mark.backend_neutral
def test_study_trains_both_precisions_from_the_same_seed(tmp_path, fid_cache):
    data, out = tmp_path / "idx", tmp_path / "study"
    write_idx_dataset(data, test_images=SAMPLES)
    config = PrecisionStudyConfig(
        data_dir=str(data),
        dim=4,
        steps=2,
        batch_size=8,
        kid_samples=SAMPLES,
        kid_every=1,
        recipe="wgan-gp_ttur",
        seeds=(3,),
        out=str(out),
    )
    with pytest.warns(UserWarning, match="FID of 10 against 10 samples"):
        metrics = kwgan.experiment.run(config)
    assert list(metrics) == ["float32_seed3", "mixed_bfloat16_seed3"]
    ran = {name: m["config"] for name, m in metrics.items()}
    assert [c["precision"] for c in ran.values()] == ["float32", "mixed_bfloat16"]
    assert all(c["seed"] == 3 and c["critic_steps"] == 1 for c in ran.values())
    assert all(c["ema_decay"] is None for c in ran.values())  # the training itself compared
    summary = json.loads((out / "precision_study.json").read_text())
    for name, m in metrics.items():
        row = summary[name]
        assert row["kid_curve"]["iteration"] == [1, 2]
        assert row["kid_curve"]["kid"][-1] == m["fid"]["kid"]  # the final score, reused
        assert row["gp"] == m["logs"]["gp"][-1]  # the last tenth of 2 iterations: the last
        assert row["finite"] is True
    f32, bf16 = (summary[n]["final"]["kid"] for n in metrics)
    gap = summary["kid_gap"]["seed3"]
    assert math.isclose(gap["difference"], bf16[0] - f32[0])
    assert math.isclose(gap["in_stds"], gap["difference"] / math.hypot(f32[1], bf16[1]))
    rows = (out / "precision_study.md").read_text().splitlines()
    assert rows[2].startswith("| float32_seed3 | ") and rows[3].startswith("| mixed_bfloat16_seed3")
    assert rows[-1].startswith("seed 3: bfloat16 KID − float32 KID = ")
    assert (out / "precision_study.png").stat().st_size > 0


def test_summary_and_table_from_hand_made_numbers():
    """A float32 and a bfloat16 run with known logs and scores."""

    def metrics(precision, kid, gp):
        evaluations = [
            {"iteration": 5, "kid": [0.05, 0.002]},
            {"iteration": 10, "kid": kid},
        ]
        logs = {
            "iterations": list(range(1, 11)),
            "d_loss": [0.0] * 10,
            "g_loss": [0.0] * 10,
            "gp": gp,
            "w_estimate": [float(i) for i in range(10)],
        }
        final = {"fid": 30.0, "kid": kid, "precision": 0.5, "recall": 0.25}
        return {
            "config": {"precision": precision},
            "fid_evaluations": evaluations,
            "fid": final,
            "logs": logs,
            "steady_seconds_per_generator_iteration": 0.5,
        }

    runs = {
        "float32_seed0": metrics("float32", [0.010, 0.003], [1.0] * 9 + [2.0]),
        "mixed_bfloat16_seed0": metrics("mixed_bfloat16", [0.015, 0.004], [1.0] * 9 + [np.nan]),
    }
    summary = {name: precision_study.summarise(m) for name, m in runs.items()}
    assert summary["float32_seed0"]["gp"] == 2.0  # the last tenth of 10 iterations
    assert summary["float32_seed0"]["w_estimate"] == 9.0
    assert summary["float32_seed0"]["finite"] is True
    assert summary["mixed_bfloat16_seed0"]["finite"] is False
    gap = precision_study.kid_gap(summary, 0)
    assert math.isclose(gap["difference"], 0.005)
    assert math.isclose(gap["in_stds"], 0.005 / 0.005)  # hypot(0.003, 0.004) = 0.005
    lines = precision_study.table(summary, (0,)).splitlines()
    assert lines[0].startswith("| run | KID @ 5 | KID @ 10 | FID |")
    assert lines[2] == (
        "| float32_seed0 | 0.0500 ± 0.0020 | 0.0100 ± 0.0030 | 30.00 | 0.500 | 0.250 | "
        "2.0000 | 9.000 | yes | 0.50 |"
    )
    assert "| NO |" in lines[3]
    assert lines[-1] == (
        "seed 0: bfloat16 KID − float32 KID = +0.0050 (+1.0 combined standard deviations)"
    )


@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"seeds": ()}, "seeds needs at least one seed"),
        ({"seeds": (1, 1)}, "seeds names one seed twice"),
        ({"recipe": "ns-gan"}, "recipe 'ns-gan' has no gradient penalty"),
        ({"recipe": "bigbigan"}, "recipe 'bigbigan' is not one of"),
        ({"kid_every": 0}, "kid_every must be >= 1"),
        ({"dataset": "digits"}, "dataset 'digits' is not one of"),
    ],
)
def test_study_config_refuses(fields, words):
    with pytest.raises(ConfigError, match=words):
        PrecisionStudyConfig(**fields)
