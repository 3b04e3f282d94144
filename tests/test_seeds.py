"""`kwgan.experiment.seeds`: one recipe from several seeds, reported as mean ± std.

The end-to-end runs (tiny Fashion-MNIST idx files, in this process) need the FID Inception
weights and skip without them; they check the plumbing — the recipe and every seed reach
their runs, a run trained alone (as lsun.py trains it) is collected rather than trained
again, a larger `seeds` adds a seed to a finished set, the table and the figure — which no
backend changes, so they run in the TensorFlow pass only. Training and averaging are tested
per backend elsewhere.
"""

import json
import math

import pytest

import kwgan
from conftest import write_idx_dataset
from kwgan.errors import ConfigError
from kwgan.experiment import SeedsConfig, seeds

SAMPLES = 10  # as many as the test images: FID's sizes check passes, Inception stays cheap


def tiny(data, out, **fields) -> SeedsConfig:
    return SeedsConfig(
        data_dir=str(data),
        dim=4,
        steps=2,
        batch_size=8,
        kid_samples=SAMPLES,
        fid_every=1,
        fid_every_samples=SAMPLES - 2,
        ema_decay=0.5,
        ema_start=0,
        precision="float32",
        out=str(out),
        **fields,
    )


@pytest.mark.backend_neutral
def test_seeds_train_one_recipe_and_report_mean_and_std(tmp_path, fid_cache):
    data, out = tmp_path / "idx", tmp_path / "seeds"
    write_idx_dataset(data, test_images=SAMPLES)
    config = tiny(data, out, recipe="ns-gan_2critic", seeds=(4,))
    # Seed 4 trained alone, as `experiments/lsun.py` trains it, where the sweep looks for it.
    alone = seeds.runs(config)["ns-gan_2critic_seed4"]
    with pytest.warns(UserWarning, match="FID of 10 against 10 samples"):
        first = kwgan.experiment.run(alone.replace(out=str(out / "ns-gan_2critic_seed4")))
        collected = kwgan.experiment.run(config)
        # A finished set takes another seed: `seeds` is free, each run guards its own record.
        metrics = kwgan.experiment.run(config.replace(seeds=(4, 7)))
    assert collected == {"ns-gan_2critic_seed4": first}  # collected, not trained again
    assert list(metrics) == ["ns-gan_2critic_seed4", "ns-gan_2critic_seed7"]
    assert metrics["ns-gan_2critic_seed4"] == first
    ran = [m["config"] for m in metrics.values()]
    assert [c["seed"] for c in ran] == [4, 7]
    assert all(c["objective"] == "dcgan" and c["critic_steps"] == 2 for c in ran)
    assert all(c["steps"] == 2 and c["fid_samples"] == SAMPLES for c in ran)
    summary = json.loads((out / "seeds.json").read_text())
    for name, m in metrics.items():
        assert summary[name]["averaged"]["fid"] == m["fid"]["fid"]
        assert summary[name]["raw"]["kid"] == m["fid_raw"]["kid"]
        assert summary[name]["fid_curve"]["iteration"] == [1, 2]
        assert summary[name]["fid_curve"]["samples"] == SAMPLES - 2
    fids = [m["fid"]["fid"] for m in metrics.values()]
    aggregate = summary["mean_and_std"]["averaged"]["fid"]
    assert math.isclose(aggregate["mean"], (fids[0] + fids[1]) / 2)
    assert math.isclose(aggregate["std"], abs(fids[0] - fids[1]) / math.sqrt(2))
    assert summary["best"] == list(metrics)[fids.index(min(fids))]
    rows = (out / "seeds.md").read_text().splitlines()
    assert [r.split(" | ")[:2] for r in rows[2:6]] == [
        ["| ns-gan_2critic_seed4", "averaged"],
        ["| ns-gan_2critic_seed4", "raw"],
        ["| ns-gan_2critic_seed7", "averaged"],
        ["| ns-gan_2critic_seed7", "raw"],
    ]
    assert rows[6].startswith("| mean ± std (2 seeds) | averaged | ")
    assert (out / "seeds.png").stat().st_size > 0


def test_mean_and_std_and_table_from_hand_made_numbers():
    """Two seeds with known scores: the sample standard deviation (ddof = 1) of each."""

    def row(fid, kid, seconds):
        scores = {"fid": fid, "kid": [kid, 0.001], "precision": 0.5, "recall": 0.25}
        scores.update(density=1.0, coverage=0.75)
        return {
            "averaged": scores,
            "raw": {**scores, "fid": fid + 4.0},
            "seconds": seconds,
            "seconds_per_generator_iteration": 0.5,
        }

    summary = {"r_seed0": row(10.0, 0.010, 3600.0), "r_seed1": row(14.0, 0.020, 7200.0)}
    aggregate = seeds.mean_and_std(summary)
    assert aggregate["averaged"]["fid"] == {"mean": 12.0, "std": math.sqrt(8.0)}
    assert aggregate["raw"]["fid"]["mean"] == 16.0
    assert math.isclose(aggregate["averaged"]["kid"]["mean"], 0.015)
    assert aggregate["averaged"]["precision"] == {"mean": 0.5, "std": 0.0}
    assert seeds.best(summary) == "r_seed0"
    lines = seeds.table(summary, aggregate).splitlines()
    assert lines[0] == (
        "| run | generator | fid | kid | precision | recall | density | coverage "
        "| wall time | iterations / s |"
    )
    assert lines[2] == (
        "| r_seed0 | averaged | 10.00 | 0.0100 ± 0.0010 | 0.500 | 0.250 | 1.000 | 0.750 "
        "| 1.00 h | 2.00 |"
    )
    assert lines[6] == (
        "| mean ± std (2 seeds) | averaged | 12.00 ± 2.83 | 0.0150 ± 0.0071 | 0.500 ± 0.000 "
        "| 0.250 ± 0.000 | 1.000 ± 0.000 | 0.750 ± 0.000 | | |"
    )
    one = {"r_seed0": summary["r_seed0"]}
    assert seeds.mean_and_std(one)["averaged"]["fid"] == {"mean": 10.0, "std": None}
    last = seeds.table(one, seeds.mean_and_std(one)).splitlines()[-2]
    assert last.startswith("| mean ± std (1 seed) | averaged | 10.00 | 0.0100 | ")


@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"seeds": ()}, "seeds needs at least one seed"),
        ({"seeds": (1, 1)}, "seeds names one seed twice"),
        ({"recipe": "bigbigan"}, "recipe 'bigbigan' is not one of"),
        ({"ema_decay": 1.0}, r"ema_decay must be in \(0, 1\)"),
        ({"fid_every_samples": 5}, "fid_every_samples must be >= 6"),
    ],
)
def test_seeds_config_refuses(fields, words):
    with pytest.raises(ConfigError, match=words):
        SeedsConfig(**fields)


@pytest.mark.backend_neutral
def test_the_defaults_are_the_study_budget_and_protocol():
    """The search's winner, 15 625 generator iterations at batch 64 on the study's network,
    10 000 samples scored: the runs the README's row reports."""
    config = SeedsConfig()
    runs = seeds.runs(config)
    assert list(runs) == [f"ns-gan_2critic_seed{s}" for s in (0, 1, 2)]
    run = runs["ns-gan_2critic_seed1"]
    assert (run.arch, run.dataset, run.image_size, run.batch_size) == (
        "infogan",
        "fashion_mnist",
        28,
        64,
    )
    assert (run.steps, run.fid_samples, run.seed, run.objective) == (15625, 10000, 1, "dcgan")
    assert (run.ema_decay, run.ema_start, run.critic_steps) == (0.999, 1000, 2)
    assert "seeds" in SeedsConfig.free_fields()
