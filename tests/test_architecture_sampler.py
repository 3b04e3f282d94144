"""The random architectures of the WGAN-GP paper's Table 1 and the Table 2/5 harness."""

import collections
import json
import math

import keras
import numpy as np
import pytest

import kwgan
from conftest import to_numpy
from kwgan.architectures import dcgan_critic, dcgan_generator, sampler
from kwgan.architectures.layers import ChannelLayerNorm, activation, smooth_elu
from kwgan.errors import ConfigError
from kwgan.experiment import ArchitecturesConfig

WEIGHT_LAYERS = (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)


def test_space_is_table_1():
    assert sampler.SPACE == {
        "nonlinearity": ("relu", "leaky_relu", "smooth_elu", "tanh"),
        "depth": (4, 8, 12, 20),
        "batch_norm": (True, False),
        "base_filters": (32, 64, 128),
    }


def test_a_description_depends_only_on_seed_and_index():
    first = sampler.sample(0, 7)
    assert sampler.sample(0, 7) == first
    assert json.loads(json.dumps(first)) == first  # plain JSON, stored with each run
    assert sampler.check(first) is first
    assert [sampler.sample(0, i) for i in range(10)] != [sampler.sample(1, i) for i in range(10)]
    assert len({json.dumps(sampler.sample(0, i), sort_keys=True) for i in range(50)}) == 50


def test_samples_cover_table_1_uniformly():
    draws = [sampler.sample(3, i) for i in range(800)]
    for network in sampler.NETWORKS:
        for key, options in sampler.SPACE.items():
            counts = collections.Counter(d[network][key] for d in draws)
            assert set(counts) == set(options)
            for option in options:
                expected = 800 / len(options)
                # 4 binomial standard deviations: fails by chance about once in 10^4 settings.
                tolerance = 4 * math.sqrt(800 * (1 / len(options)) * (1 - 1 / len(options)))
                assert abs(counts[option] - expected) < tolerance, (network, key, counts)


@pytest.mark.parametrize(
    "change",
    [
        {"depth": 6},
        {"nonlinearity": "elu"},
        {"batch_norm": 1},
        {"base_filters": True},
    ],
)
def test_check_refuses_points_outside_table_1(change):
    description = sampler.sample(0, 0)
    description["critic"] = {**description["critic"], **change}
    with pytest.raises(ConfigError, match="Table 1"):
        sampler.check(description)
    with pytest.raises(ConfigError, match="settings"):
        sampler.check({"generator": {"depth": 4}, "critic": description["critic"]})


def test_extra_layers_split_over_the_stages():
    assert sampler.extra_layers(4, 3) == [0, 0, 0]  # the DCGAN at 32×32
    assert sampler.extra_layers(20, 3) == [6, 5, 5]  # the remainder nearest 4×4
    assert sampler.extra_layers(8, 2) == [3, 2]
    assert sampler.extra_layers(12, 1) == [10]
    with pytest.raises(ConfigError, match="too shallow"):
        sampler.extra_layers(4, 4)  # 64×64 needs 5 layers


def _layers(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_networks_have_the_sampled_depth_width_norm_and_nonlinearity():
    description = {
        "generator": {"nonlinearity": "tanh", "depth": 8, "batch_norm": True, "base_filters": 32},
        "critic": {
            "nonlinearity": "smooth_elu",
            "depth": 12,
            "batch_norm": True,
            "base_filters": 64,
        },
    }
    g, d = sampler.build(description, objective="wgan-gp", image_size=16, channels=1, latent_dim=8)
    assert g.output_shape == (None, 16, 16, 1) and d.output_shape == (None, 1)
    assert len(_layers(g, WEIGHT_LAYERS)) == 8 and len(_layers(d, WEIGHT_LAYERS)) == 12
    # 16×16 has two stages; widths double towards 4×4: G 64 there, 32 at 8×8, then the image.
    # G: Linear, 3 extra convs at 4×4, deconv, 2 extras at 8×8, deconv to the image.
    convs = (keras.layers.Conv2D, keras.layers.Conv2DTranspose)
    assert [layer.filters for layer in _layers(g, convs)] == [64] * 3 + [32] * 3 + [1]
    # D: conv to 64 and 4 extras at 8×8, conv to 128 and 5 extras at 4×4 (the remainder).
    assert [layer.filters for layer in _layers(d, convs)] == [64] * 5 + [128] * 6
    # Every hidden layer is normalised, except the critic's first: batch norm in G, layer
    # norm in D under the gradient penalty.
    assert len(_layers(g, keras.layers.BatchNormalization)) == 7
    assert len(_layers(d, ChannelLayerNorm)) == 10 and not _layers(
        d, keras.layers.BatchNormalization
    )
    acts = [layer for layer in d.layers if layer.name.startswith("act")]
    assert len(acts) == 11 and all(a.activation is smooth_elu for a in acts)
    _, d_gan = sampler.build(description, objective="dcgan", image_size=16, channels=1)
    assert len(_layers(d_gan, keras.layers.BatchNormalization)) == 10


def test_the_reference_is_the_dcgan():
    # Hand-counted at 32×32×3, latent 128, base 64. G: Linear 128·4096 + 4096, BN(256) 4·256,
    # deconv 25·256·128 + 128, BN(128), deconv 25·128·64 + 64, BN(64), deconv 25·64·3 + 3.
    g, d = sampler.build(sampler.REFERENCE, objective="dcgan")
    assert g.count_params() == 1_559_171 == dcgan_generator(image_size=32).count_params()
    # D: conv 25·3·64 + 64, conv 25·64·128 + 128, BN(128), conv 25·128·256 + 256, BN(256),
    # Linear 4096 + 1. Under WGAN-GP layer norm keeps only γ, β: 768 parameters fewer.
    assert d.count_params() == 1_034_881
    assert d.count_params() == dcgan_critic(image_size=32, norm="batch").count_params()
    _, d_gp = sampler.build(sampler.REFERENCE, objective="wgan-gp")
    assert d_gp.count_params() == 1_034_881 - 768


def test_width_divisor():
    g, d = sampler.build(sampler.REFERENCE, objective="dcgan", width_divisor=4)
    assert _layers(d, (keras.layers.Conv2D,))[0].filters == 16
    assert _layers(g, (keras.layers.Conv2DTranspose,))[0].filters == 32  # 2·16 at 8×8
    with pytest.raises(ConfigError, match="width_divisor"):
        sampler.build(sampler.REFERENCE, objective="dcgan", width_divisor=3)


def test_smooth_elu_values_and_saving(tmp_path):
    x = np.array([[-10.0, -1.0, 0.0, 1.0, 10.0]], "float32")
    # softplus(2x + 2)/2 − 1 by hand: ln(1 + e^(2x+2))/2 − 1.
    expected = [-1 + math.log1p(math.exp(-18)) / 2, math.log(2) / 2 - 1]
    expected += [math.log1p(math.exp(2)) / 2 - 1, math.log1p(math.exp(4)) / 2 - 1, 10.0]
    assert expected[1:4] == pytest.approx([-0.6534264, 0.0634640, 1.0090750], abs=1e-7)
    layer = activation("smooth_elu", name="act")
    np.testing.assert_allclose(to_numpy(layer(x))[0], expected, rtol=1e-6, atol=1e-6)

    inputs = keras.Input((5,))
    model = keras.Model(inputs, activation("smooth_elu", name="act")(inputs))
    path = tmp_path / "m.keras"
    model.save(path)
    np.testing.assert_allclose(to_numpy(keras.models.load_model(path)(x)), to_numpy(model(x)))


@pytest.mark.backend_neutral
def test_harness_writes_table_5_and_skips_finished_runs(tmp_path, capsys):
    out = tmp_path / "table"
    config = ArchitecturesConfig(
        num_architectures=1,
        reference=False,
        steps=2,
        batch_size=8,
        image_size=8,
        width_divisor=32,
        score_samples=20,
        out=str(out),
    )
    kwgan.experiment.run(config)

    table = json.loads((out / "table.json").read_text())
    assert [row["min_score"] for row in table["rows"]] == [1.0 + 0.5 * i for i in range(17)]
    for objective in ("dcgan", "wgan-gp"):
        run = out / f"arch000_{objective}"
        assert json.loads((run / "architecture.json").read_text()) == sampler.sample(0, 0)
        result = json.loads((run / "result.json").read_text())
        assert result["generator_iterations"] == 2 and 1.0 <= result["score"] <= 10.0
        assert table["architectures"]["arch000"][objective]["score"] == result["score"]
    scores = {o: table["architectures"]["arch000"][o]["score"] for o in ("dcgan", "wgan-gp")}
    for row in table["rows"]:
        gan, wgan = (scores[o] > row["min_score"] for o in ("dcgan", "wgan-gp"))
        assert row == {
            "min_score": row["min_score"],
            "only_gan": int(gan and not wgan),
            "only_wgan_gp": int(wgan and not gan),
            "both": int(gan and wgan),
            "both_failed": int(not (gan or wgan)),
        }
    assert (
        "| min score | only GAN | only WGAN-GP | both | both failed |"
        in (out / "table.md").read_text()
    )
    assert (out / "success.png").read_bytes()[:4] == b"\x89PNG"

    capsys.readouterr()
    kwgan.experiment.run(config)
    assert '"score"' not in capsys.readouterr().out  # nothing retrained
    assert json.loads((out / "table.json").read_text()) == table

    with pytest.raises(kwgan.errors.ResumeError, match="--batch_size 8 → 4"):
        kwgan.experiment.run(config.replace(batch_size=4))
