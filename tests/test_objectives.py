"""Each objective's losses and the penalty against hand-computed numbers."""

import math

import numpy as np
import pytest

from conftest import to_numpy
from kwgan import objectives, penalties

REAL = np.array([[0.5], [2.0], [-1.0]], "float32")
FAKE = np.array([[-0.5], [1.0], [0.0]], "float32")


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def test_wasserstein_losses():
    obj = objectives.get("wgan-gp")
    # mean(fake) - mean(real) = 0.5/3 - 1.5/3
    assert to_numpy(obj.critic_loss(REAL, FAKE)) == pytest.approx(-1.0 / 3, abs=1e-6)
    assert to_numpy(obj.generator_loss(FAKE)) == pytest.approx(-0.5 / 3, abs=1e-6)


def test_dcgan_losses_are_bce_on_logits():
    obj = objectives.get("dcgan")
    d_fake = sum(softplus(f) for f in FAKE.ravel()) / 3  # BCE(D(x~), 0)
    d_real = sum(softplus(-r) for r in REAL.ravel()) / 3  # BCE(D(x), 1)
    assert to_numpy(obj.critic_loss(REAL, FAKE)) == pytest.approx((d_fake + d_real) / 2, abs=1e-6)
    g = sum(softplus(-f) for f in FAKE.ravel()) / 3  # -log D trick
    assert to_numpy(obj.generator_loss(FAKE)) == pytest.approx(g, abs=1e-6)


def test_lsgan_losses():
    obj = objectives.get("lsgan")
    d = 0.5 * (((0.5 - 1) ** 2 + 1.0 + 4.0) / 3 + (0.25 + 1.0 + 0.0) / 3)
    assert to_numpy(obj.critic_loss(REAL, FAKE)) == pytest.approx(d, abs=1e-6)
    g = ((-1.5) ** 2 + 0.0 + 1.0) / 3
    assert to_numpy(obj.generator_loss(FAKE)) == pytest.approx(g, abs=1e-6)


def test_paper_defaults():
    wgan, gp, dcgan, lsgan = (objectives.get(n) for n in ("wgan", "wgan-gp", "dcgan", "lsgan"))
    assert (wgan.critic_steps, wgan.clip_value, wgan.gp_weight, wgan.warmup) == (5, 0.01, 0, True)
    assert (gp.critic_steps, gp.clip_value, gp.gp_weight) == (5, None, 10.0)
    assert dcgan.critic_steps == lsgan.critic_steps == 1
    g_opt, d_opt = gp.optimizers()
    assert g_opt is not d_opt
    assert (float(d_opt.learning_rate), d_opt.beta_1, d_opt.beta_2) == pytest.approx(
        (1e-4, 0.0, 0.9)
    )
    assert float(wgan.optimizers()[1].learning_rate) == pytest.approx(5e-5)
    assert float(dcgan.optimizers()[1].learning_rate) == pytest.approx(2e-4)
    assert dcgan.optimizers()[1].beta_1 == pytest.approx(0.5)
    assert float(lsgan.optimizers()[1].learning_rate) == pytest.approx(1e-4)


def test_unknown_objective():
    with pytest.raises(ValueError, match="wgan-gp"):
        objectives.get("hinge")


def test_gradient_penalty_by_hand():
    # Two samples with gradients of norm 5 (3-4-0) and 0.5: two-sided penalty
    # ((5-1)^2 + (0.5-1)^2) / 2; one-sided only penalises the first.
    g = np.array([[[3.0, 4.0], [0.0, 0.0]], [[0.3, 0.0], [0.0, 0.4]]], "float32")
    assert to_numpy(penalties.gradient_norm(g)) == pytest.approx([5.0, 0.5], abs=1e-6)
    assert to_numpy(penalties.gradient_penalty(g)) == pytest.approx((16 + 0.25) / 2, abs=1e-5)
    assert to_numpy(penalties.gradient_penalty(g, "one-sided")) == pytest.approx(8.0, abs=1e-5)


def test_gradient_norm_is_finite_at_zero():
    assert np.isfinite(to_numpy(penalties.gradient_norm(np.zeros((2, 3), "float32")))).all()


def test_interpolation_is_per_sample():
    real = np.zeros((4, 3, 3, 1), "float32")
    fake = np.ones((4, 3, 3, 1), "float32")
    alpha = penalties.interpolation_weights(4, 4, seed=3)
    assert tuple(alpha.shape) == (4, 1, 1, 1)
    x_hat = to_numpy(penalties.interpolate(real, fake, alpha))
    # Every pixel of a sample sits at the same point of its line.
    assert np.allclose(x_hat, x_hat[:, :1, :1, :1])
    assert ((0 <= x_hat) & (x_hat <= 1)).all()
