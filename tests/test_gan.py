"""The adversarial model through its public API, on whichever backend KERAS_BACKEND picks."""

import keras
import numpy as np
import pytest

import kwgan
from conftest import to_numpy, weights


def constant_generator(value, latent_dim=2) -> keras.Model:
    """G(z) = value for every z (zero kernel, bias = value)."""
    z = keras.Input((latent_dim,))
    out = keras.layers.Dense(
        len(value), kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(value)
    )(z)
    return keras.Model(z, out, name="generator")


def linear_critic(w, b=0.0) -> keras.Model:
    x = keras.Input((len(w),))
    out = keras.layers.Dense(
        1,
        kernel_initializer=keras.initializers.Constant(np.asarray(w, "float32")[:, None]),
        bias_initializer=keras.initializers.Constant(b),
    )(x)
    return keras.Model(x, out, name="critic")


def test_gradient_penalty_step_by_hand():
    """One critic SGD step of WGAN-GP with a linear critic, checked against calculus.

    D(x) = w·x + b, G(z) = c, real = r: the loss is w·(c − r) + λ(‖w‖ − 1)², whose gradient
    is (c − r) + 2λ(‖w‖ − 1)·w/‖w‖ for w and 0 for b — the second term only appears if the
    penalty's input gradient is itself differentiated (double backward).
    """
    w, c, r, lam, lr = np.array([3.0, 4.0]), np.array([1.0, -1.0]), np.array([0.5, 0.5]), 10.0, 0.01
    gan = kwgan.GAN(constant_generator(c), linear_critic(w, 0.2), seed=0)
    gan.compile("wgan-gp", critic_optimizer=keras.optimizers.SGD(lr), critic_steps=5, gp_weight=lam)
    real = np.tile(r.astype("float32"), (8, 1))
    logs = gan.fit(real, batch_size=8, epochs=1, verbose=0).history
    norm = np.linalg.norm(w)
    assert logs["gp"][0] == pytest.approx((norm - 1) ** 2, rel=1e-5)
    assert logs["w_estimate"][0] == pytest.approx(w @ (r - c), rel=1e-5)
    assert logs["d_loss"][0] == pytest.approx(w @ (c - r) + lam * (norm - 1) ** 2, rel=1e-5)
    grad = (c - r) + 2 * lam * (norm - 1) * w / norm
    kernel, bias = (to_numpy(v) for v in gan.critic.trainable_variables)
    np.testing.assert_allclose(kernel.ravel(), w - lr * grad, rtol=1e-5)
    assert bias.item() == pytest.approx(0.2, abs=1e-7)
    assert int(to_numpy(gan.generator_iterations)) == 0


def test_one_sided_penalty_ignores_small_gradients():
    gan = kwgan.GAN(constant_generator([0.0, 0.0]), linear_critic([0.3, 0.4]), seed=0)
    gan.compile("wgan-gp", penalty="one-sided")
    logs = gan.fit(np.ones((4, 2), "float32"), batch_size=4, verbose=0).history
    assert logs["gp"][0] == pytest.approx(0.0, abs=1e-7)


def test_clipping_bounds_every_critic_variable():
    keras.utils.set_random_seed(0)
    x = keras.Input((2,))
    h = keras.layers.Dense(8, kernel_initializer=keras.initializers.Constant(0.5))(x)
    h = keras.layers.BatchNormalization(beta_initializer="ones")(h)
    critic = keras.Model(x, keras.layers.Dense(1, bias_initializer="ones")(h), name="critic")
    gan = kwgan.GAN(kwgan.architectures.toy_generator(dim=8), critic, seed=0)
    gan.compile("wgan")
    gan.fit(np.random.normal(size=(16, 2)).astype("float32"), batch_size=8, verbose=0)
    assert len(critic.trainable_variables) == 6  # kernels, biases, BN gamma and beta
    for v in critic.trainable_variables:
        assert np.abs(to_numpy(v)).max() <= 0.01 + 1e-7, v.path
    # Recompiling for the penalty removes the clips again.
    gan.compile("wgan-gp")
    assert all(v.constraint is None for v in critic.trainable_variables)


def test_schedule_with_warmup_drives_generator_iterations(tiny_gan):
    """critic_steps before g = 0..5 are 3, 3, 2, 2, 3, 2 (warm-up g < 2 and g % 4 == 0)."""
    schedule = kwgan.CriticSchedule(2, warmup_steps=3, warmup_iterations=2, warmup_every=4)
    assert [schedule.steps_before(g) for g in range(6)] == [3, 3, 2, 2, 3, 2]
    assert schedule.total_critic_steps(5) == 13
    gan = tiny_gan()
    gan.compile("wgan-gp", schedule=schedule)
    data = kwgan.data.toy("8gaussians", batch_size=8, steps_per_epoch=13)
    gan.fit(data, epochs=1, verbose=0)
    assert int(to_numpy(gan.generator_iterations)) == 5
    assert int(to_numpy(gan.critic_optimizer.iterations)) == 13
    assert int(to_numpy(gan.generator_optimizer.iterations)) == 5
    assert int(to_numpy(gan.optimizer.iterations)) == 13


def test_wgan_repo_warmup_schedule():
    s = kwgan.CriticSchedule.wgan()
    assert [s.steps_before(g) for g in (0, 24, 25, 499, 500, 501, 1000)] == [
        100,
        100,
        5,
        5,
        100,
        5,
        100,
    ]
    assert s.total_critic_steps(26) == 25 * 100 + 5


@pytest.mark.parametrize("objective", ["wgan-gp", "dcgan"])
def test_both_optimizers_advance_through_fit(tiny_gan, objective):
    """On JAX a second optimizer outside the jitted state would stay at 0 (notes B.1)."""
    gan = tiny_gan()
    gan.compile(objective)
    gan.fit(kwgan.data.toy("8gaussians", batch_size=8, steps_per_epoch=10), epochs=2, verbose=0)
    n_critic = kwgan.objectives.get(objective).critic_steps
    assert int(to_numpy(gan.critic_optimizer.iterations)) == 20
    assert int(to_numpy(gan.generator_optimizer.iterations)) == 20 // n_critic
    assert int(to_numpy(gan.generator_iterations)) == 20 // n_critic


def test_fixed_seed_is_deterministic(tiny_gan):
    runs = []
    for _ in range(2):
        gan = tiny_gan(seed=3)
        gan.compile("wgan-gp")
        gan.fit(kwgan.data.toy("25gaussians", batch_size=16, steps_per_epoch=10), verbose=0)
        runs.append(weights(gan))
    for a, b in zip(*runs, strict=False):
        np.testing.assert_array_equal(a, b)


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt


def test_resume_after_interrupt_equals_uninterrupted(tiny_gan, tmp_path):
    data = np.random.default_rng(0).normal(size=(60, 2)).astype("float32")
    fit = dict(batch_size=10, epochs=4, shuffle=False, verbose=0)

    straight = tiny_gan(seed=5)
    straight.compile("wgan-gp")
    straight.fit(data, **fit)

    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    interrupted = tiny_gan(seed=5)
    interrupted.compile("wgan-gp")
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(data, callbacks=[backup, _Interrupt()], **fit)
    resumed = tiny_gan(seed=99)  # different init and seed: everything must come from the backup
    resumed.compile("wgan-gp")
    resumed.fit(data, callbacks=[backup], **fit)

    assert int(to_numpy(resumed.generator_iterations)) == int(
        to_numpy(straight.generator_iterations)
    )
    for a, b in zip(weights(straight), weights(resumed), strict=False):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(straight.optimizer.variables, resumed.optimizer.variables, strict=False):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-7)


def test_keras_file_round_trip(tiny_gan, tmp_path):
    gan = tiny_gan()
    gan.compile("wgan", critic_steps=2, warmup=False)
    gan.fit(kwgan.data.toy("swissroll", batch_size=8, steps_per_epoch=4), verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    z = np.random.default_rng(1).normal(size=(5, 2)).astype("float32")
    np.testing.assert_allclose(
        to_numpy(loaded.generator(z)), to_numpy(gan.generator(z)), rtol=1e-6, atol=1e-6
    )
    assert loaded.objective.name == "wgan" and loaded.clip_value == 0.01
    assert loaded.schedule.get_config() == gan.schedule.get_config()
    assert int(to_numpy(loaded.generator_iterations)) == 2
    assert int(to_numpy(loaded.critic_optimizer.iterations)) == 4
    for a, b in zip(gan.optimizer.variables, loaded.optimizer.variables, strict=False):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b))
    loaded.fit(kwgan.data.toy("swissroll", batch_size=8, steps_per_epoch=2), verbose=0)
    assert int(to_numpy(loaded.generator_iterations)) == 3


def test_fit_accepts_generators_and_tuples(tiny_gan):
    gan = tiny_gan()
    gan.compile("lsgan")

    def batches():
        rng = np.random.default_rng(0)
        while True:
            yield rng.normal(size=(8, 2)).astype("float32"), np.zeros(8)

    gan.fit(batches(), steps_per_epoch=3, verbose=0)
    assert int(to_numpy(gan.generator_iterations)) == 3


def test_short_8gaussians_run_lowers_exact_w1():
    keras.utils.set_random_seed(0)
    gan = kwgan.GAN(
        kwgan.architectures.toy_generator(dim=64), kwgan.architectures.toy_critic(dim=64), seed=0
    )
    # gan_toy.py's λ = 0.1 and β1 = 0.5, at a 10× learning rate so 100 iterations show it.
    gan.compile(
        "wgan-gp",
        gp_weight=0.1,
        generator_optimizer=keras.optimizers.Adam(1e-3, 0.5, 0.9),
        critic_optimizer=keras.optimizers.Adam(1e-3, 0.5, 0.9),
    )
    target = kwgan.data.sample("8gaussians", 500, seed=1)
    z = np.random.default_rng(2).normal(size=(500, 2)).astype("float32")

    def w1() -> float:
        return kwgan.metrics.exact_w1(to_numpy(gan.generator.predict(z, verbose=0)), target)

    before = w1()
    gan.fit(kwgan.data.toy("8gaussians", batch_size=64, steps_per_epoch=500), verbose=0)
    after = w1()
    assert after < 0.6 * before, (before, after)


# -- bad input --------------------------------------------------------------------------


def test_bad_objective_and_settings(tiny_gan):
    gan = tiny_gan()
    with pytest.raises(ValueError, match="Unknown objective"):
        gan.compile("wgan-div")
    with pytest.raises(ValueError, match="penalty replaces clipping"):
        gan.compile("wgan-gp", clip_value=0.01)
    with pytest.raises(ValueError, match="wgan-gp"):
        gan.compile("wgan", gp_weight=10.0)
    with pytest.raises(ValueError, match="critic_steps must be a positive integer"):
        gan.compile("wgan-gp", critic_steps=0)
    with pytest.raises(ValueError, match="Unknown penalty"):
        gan.compile("wgan-gp", penalty="both")


def test_critic_must_return_one_score_per_sample():
    with pytest.raises(ValueError, match="one score per sample"):
        kwgan.GAN(
            kwgan.architectures.toy_generator(dim=8),
            keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]),
        )


def test_latent_dim_mismatch():
    with pytest.raises(ValueError, match="latent_dim=3"):
        kwgan.GAN(
            kwgan.architectures.toy_generator(dim=8),
            kwgan.architectures.toy_critic(dim=8),
            latent_dim=3,
        )


def test_data_of_wrong_shape_rank_or_dtype(tiny_gan):
    gan = tiny_gan()
    gan.compile("wgan-gp")
    with pytest.raises(ValueError, match=r"sample shape \(3,\) but the generator produces \(2,\)"):
        gan.fit(np.zeros((8, 3), "float32"), batch_size=8, verbose=0)
    with pytest.raises(ValueError, match="sample shape"):
        gan.fit(np.zeros((8, 2, 1), "float32"), batch_size=8, verbose=0)
    with pytest.raises(ValueError, match="floating point"):
        gan.fit(np.zeros((8, 2), "int32"), batch_size=8, verbose=0)


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="torch.compile only")
def test_torch_compile_with_penalty_is_refused(tiny_gan):
    with pytest.raises(ValueError, match="double backward"):
        tiny_gan().compile("wgan-gp", jit_compile=True)


def test_mixed_bfloat16_policy_trains_with_float32_penalty():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        gan = kwgan.GAN(
            kwgan.architectures.toy_generator(dim=8), kwgan.architectures.toy_critic(dim=8), seed=0
        )
        gan.compile("wgan-gp")
        logs = gan.fit(
            kwgan.data.toy("8gaussians", batch_size=8, steps_per_epoch=5), verbose=0
        ).history
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert gan.critic.layers[1].compute_dtype == "bfloat16"
    assert all(np.isfinite(v[-1]) for v in logs.values())
    assert {"gp", "d_loss", "g_loss", "w_estimate"} <= set(logs)
