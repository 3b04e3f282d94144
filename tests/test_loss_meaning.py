"""WGAN Figs. 3, 4, 8: the standard GAN's Jensen–Shannon estimate, the rank correlation of
a smoothed curve with quality, and what experiments/loss_meaning.py makes of its runs."""

import math

import keras
import numpy as np
import pytest
from PIL import Image

import kwgan
from conftest import to_numpy
from kwgan.callbacks import LossHistory
from kwgan.experiment import loss_meaning

LOG2 = math.log(2.0)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def js_estimate(real, fake) -> float:
    logs = kwgan.objectives.get("dcgan").logs(
        keras.ops.convert_to_tensor(real, "float32"), keras.ops.convert_to_tensor(fake, "float32")
    )
    assert set(logs) == {"js_estimate"}
    return float(to_numpy(logs["js_estimate"]))


def test_js_estimate_is_log2_less_the_discriminator_loss():
    # D loss = ½[mean softplus(fake logits) + mean softplus(−real logits)] = −V(D, G)/2.
    loss = 0.5 * ((softplus(0.0) + softplus(-1.0)) / 2 + (softplus(-2.0) + softplus(-0.5)) / 2)
    assert js_estimate([2.0, 0.5], [0.0, -1.0]) == pytest.approx(LOG2 - loss, rel=1e-6)
    assert LOG2 - loss == pytest.approx(0.29129, abs=1e-5)  # by hand: 0.69315 − 0.40185


def test_js_estimate_spans_zero_to_log2():
    # D = ½ everywhere (logit 0), the optimum when the distributions are equal: JS = 0.
    assert js_estimate([0.0, 0.0], [0.0, 0.0]) == pytest.approx(0.0, abs=1e-7)
    # A discriminator that separates them perfectly: JS = log 2, the value WGAN Fig. 4
    # shows the GAN's estimate stay near.
    assert js_estimate([30.0, 40.0], [-30.0, -40.0]) == pytest.approx(LOG2, abs=1e-6)


def test_dcgan_logs_the_js_estimate_of_every_generator_iteration(tiny_gan):
    gan = tiny_gan(dim=8)
    gan.compile("dcgan")
    history = LossHistory()
    gan.fit(
        kwgan.data.toy("8gaussians", batch_size=8, steps_per_epoch=4),
        callbacks=[history],
        verbose=0,
    )
    assert history.iterations == [1, 2, 3, 4]
    js, d_loss = np.array(history.history["js_estimate"]), np.array(history.history["d_loss"])
    np.testing.assert_allclose(js, LOG2 - d_loss, atol=1e-6)  # no penalty under dcgan
    assert "js_estimate" not in kwgan.objectives.get("wgan").logs(np.ones(2), np.zeros(2))


def test_rank_correlation_reads_the_median_filtered_curve():
    # medfilt([1, 2, 100, 4, 5], 5) = [1, 2, 4, 4, 4]: the spike is gone. Read at
    # iterations 2, 3, 4: [2, 4, 4] (ranks 1, 2.5, 2.5) against [1, 2, 3]: ρ = √3/2, where
    # the raw [2, 100, 4] would give 0.5.
    rho = kwgan.plots.rank_correlation([1, 2, 3, 4, 5], [1, 2, 100, 4, 5], [2, 3, 4], [1, 2, 3])
    assert rho == pytest.approx(math.sqrt(3) / 2)
    falling = kwgan.plots.rank_correlation([1, 2, 3, 4, 5], [1, 2, 100, 4, 5], [2, 3, 4], [3, 2, 1])
    assert falling == pytest.approx(-math.sqrt(3) / 2)
    assert kwgan.plots.rank_correlation([1, 2], [1.0, 2.0], [1, 2], [1, 2]) is None
    assert kwgan.plots.rank_correlation([1, 2, 3], [1.0, 2.0, 3.0], [1, 2, 3], [4, 4, 4]) is None


def test_curves_beside_quality_writes_one_figure(tmp_path):
    panel = kwgan.plots.CurvePanel("(a)", "W estimate", [1, 2, 3], [0.3, 0.2, 0.1], [1, 3], [2, 5])
    path = tmp_path / "curves.png"
    kwgan.plots.curves_beside_quality([panel] * 3, str(path), quality_label="score", columns=2)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > image.height  # 2 × 2 panels, one blank


@pytest.mark.backend_neutral
def test_loss_meaning_correlates_each_curve_with_score_and_frechet():
    evaluations = [
        {"iteration": i, "score": s, "fd": f}
        for i, s, f in [(2, 1.0, 90.0), (4, 3.0, 50.0), (6, 2.0, 70.0)]
    ]
    wgan = {
        "config": {"arch": "wgan-mlp", "objective": "wgan"},
        "generator_iterations": 6,
        "seconds": 9.0,
        "evaluations": evaluations,
        "logs": {"iterations": [1, 2, 3, 4, 5, 6], "w_estimate": [5, 5, 1, 1, 3, 3]},
    }
    run = loss_meaning.summarise({"wgan_wgan-mlp": wgan})["wgan_wgan-mlp"]
    assert run["final_score"] == 2.0 and run["final_fd"] == 70.0
    (curve,) = run["curves"]
    # medfilt([5, 5, 1, 1, 3, 3], 5) = [1, 1, 3, 3, 1, 1]; at 2, 4, 6: [1, 3, 1], whose
    # ranks (1.5, 3, 1.5) against the score's (1, 3, 2) give ρ = √3/2, against the
    # Fréchet distance's (3, 1, 2) −√3/2.
    assert curve["curve"] == "w_estimate"
    assert curve["spearman_vs_score"] == pytest.approx(math.sqrt(3) / 2)
    assert curve["spearman_vs_fd"] == pytest.approx(-math.sqrt(3) / 2)
