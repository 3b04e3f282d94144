"""`kwgan.experiment.recipes`: the recipe search ranked by KID, and the penalty field.

The end-to-end search (two recipes on tiny Fashion-MNIST idx files, in this process) needs
the FID Inception weights and skips without them; it checks the plumbing — each recipe's
fields reach its run, the ranking is by the averaged generator's KID, the table and the
figure are written, a rerun trains nothing — which no backend changes, so it runs in the
TensorFlow pass only. Training itself is tested per backend elsewhere.
"""

import json

import numpy as np
import pytest

import kwgan
from conftest import write_idx_dataset
from kwgan.errors import ConfigError
from kwgan.experiment import ImageConfig, RecipesConfig, images, recipes

SAMPLES = 10  # as many as the test images: FID's sizes check passes, Inception stays cheap


def tiny_search(data, out, names=("ns-gan", "wgan-gp_ttur_one-sided")) -> RecipesConfig:
    return RecipesConfig(
        data_dir=str(data),
        dim=4,
        steps=2,
        batch_size=8,
        kid_samples=SAMPLES,
        ema_decay=0.5,
        ema_start=0,
        recipes=names,
        out=str(out),
    )


@pytest.mark.backend_neutral
def test_search_ranks_recipes_by_the_averaged_kid(tmp_path, fid_cache):
    data, out = tmp_path / "idx", tmp_path / "search"
    write_idx_dataset(data, test_images=SAMPLES)
    config = tiny_search(data, out)
    with pytest.warns(UserWarning, match="FID of 10 against 10 samples"):
        metrics = kwgan.experiment.run(config)
    assert list(metrics) == ["ns-gan", "wgan-gp_ttur_one-sided"]  # trained in the given order
    # Each recipe's own fields reached its run, the shared ones every run.
    ran = {name: m["config"] for name, m in metrics.items()}
    assert ran["wgan-gp_ttur_one-sided"]["penalty"] == "one-sided"
    assert ran["wgan-gp_ttur_one-sided"]["critic_lr"] == 3e-4
    assert ran["wgan-gp_ttur_one-sided"]["critic_steps"] == 1
    assert ran["ns-gan"]["objective"] == "dcgan" and ran["ns-gan"]["penalty"] == "two-sided"
    assert all(c["fid_samples"] == SAMPLES and c["arch"] == "infogan" for c in ran.values())
    # The ranking, by the averaged generator's KID, beside the raw generator's numbers.
    summary = json.loads((out / "recipes.json").read_text())
    kids = {name: m["fid"]["kid"][0] for name, m in metrics.items()}
    assert summary["ranking"] == sorted(kids, key=kids.get)
    for name, m in metrics.items():
        assert summary[name]["averaged"]["kid"] == m["fid"]["kid"]
        assert summary[name]["raw"]["fid"] == m["fid_raw"]["fid"]
        assert summary[name]["samples"] == SAMPLES
    assert summary["config"]["recipes"] == list(config.recipes)
    rows = (out / "recipes.md").read_text().splitlines()[2:]
    assert [row.split(" | ")[1] for row in rows] == summary["ranking"]
    assert rows[0].startswith("| 1 | ")
    assert (out / "recipes.png").stat().st_size > 0
    # A rerun of the finished search trains nothing and reports the same numbers.
    again = kwgan.experiment.run(config)
    assert {n: m["fid"] for n, m in again.items()} == {n: m["fid"] for n, m in metrics.items()}


def test_ranking_and_table_from_hand_made_numbers():
    """Two recipes with known scores: the lower KID ranks first, whatever the FID says."""

    def row(kid, fid):
        scores = {"fid": fid, "kid": [kid, 0.001], "precision": 0.5, "recall": 0.25}
        scores.update(density=1.0, coverage=0.75)
        return {"averaged": scores, "raw": scores, "seconds_per_generator_iteration": 0.5}

    summary = {"a": row(0.02, 10.0), "b": row(0.01, 12.0)}
    summary["a"]["seconds_per_generator_iteration"] = None  # too short for a steady rate
    assert recipes.ranked(summary) == ["b", "a"]
    lines = recipes.table(summary).splitlines()
    assert lines[2] == (
        "| 1 | b | 0.0100 ± 0.0010 | 12.00 | 0.500 | 0.250 | 1.000 | 0.750 | 0.0100 | 12.00 "
        "| 0.50 |"
    )
    assert lines[3].startswith("| 2 | a | 0.0200") and lines[3].endswith("| — |")


@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"recipes": ()}, "recipes needs at least one"),
        ({"recipes": ("ns-gan", "ns-gan")}, "names one recipe twice"),
        ({"recipes": ("ns-gan", "bigbigan")}, "recipes 'bigbigan' is not one of"),
        ({"dataset": "digits"}, "dataset 'digits' is not one of"),
        ({"kid_samples": 5}, "kid_samples must be >= 6"),
        ({"arch": "no-such-net"}, "arch 'no-such-net' is not one of"),
    ],
)
def test_search_config_refuses(fields, words):
    with pytest.raises(ConfigError, match=words):
        RecipesConfig(**fields)


@pytest.mark.backend_neutral
def test_more_kid_samples_than_test_images_is_refused_before_anything_is_written(tmp_path):
    data, out = tmp_path / "idx", tmp_path / "search"
    write_idx_dataset(data, test_images=SAMPLES)
    config = tiny_search(data, out).replace(kid_samples=SAMPLES + 1)
    with pytest.raises(kwgan.errors.DataError, match=f"pass kid_samples <= {SAMPLES},"):
        kwgan.experiment.run(config)
    assert not out.exists()


@pytest.mark.backend_neutral
def test_one_sided_penalty_is_a_wgan_gp_field():
    with pytest.raises(ConfigError, match="penalty 'one-sided' shapes the gradient penalty"):
        ImageConfig(objective="dcgan", penalty="one-sided")
    with pytest.raises(ConfigError, match="penalty 'both' is not one of"):
        ImageConfig(objective="wgan-gp", penalty="both")


def test_penalty_reaches_the_compiled_gan():
    config = ImageConfig(
        arch="infogan", image_size=28, dim=4, objective="wgan-gp", penalty="one-sided"
    )
    gan = images.build_gan(config)
    assert gan.penalty == "one-sided"
    assert np.isclose(gan.gp_weight, 10.0)
