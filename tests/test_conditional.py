"""Class-conditional GANs: a generator taking [noise, labels] against an AC-GAN critic
(`[score, class_logits]`) or a critic taking [samples, labels]."""

import keras
import numpy as np
import pytest

import kwgan
from conftest import acgan_critic, conditional_generator, to_numpy

LN3 = np.log(3.0)


def labelled_critic(num_classes=3) -> keras.Model:
    x = keras.Input((2,))
    y = keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([x, keras.layers.Embedding(num_classes, 4)(y)])
    return keras.Model([x, y], keras.layers.Dense(1)(h), name="critic")


def test_acgan_losses_by_hand():
    """One critic step (SGD with lr 0, so the generator step sees the same critic).

    Critic: wgan-gp loss + 1.0 · CE(real logits, real labels); generator: −E D(x̃) +
    0.1 · CE(fake logits, drawn labels). Logits are the constant class_bias, so
    CE(label k) = logsumexp(bias) − bias_k.
    """
    w, c, r, bias = (
        np.array([0.6, 0.8]),
        np.array([1.0, -1.0]),
        np.array([0.5, 0.5]),
        np.array([0.0, 1.0, 2.0]),
    )
    labels = np.array([0, 1, 2, 2, 2, 1, 0, 2], "int32")
    gan = kwgan.GAN(conditional_generator(c), acgan_critic(w, 0.2, bias), seed=0)
    assert (gan.conditional, gan.acgan, gan.num_classes) == (True, True, 3)
    gan.compile(
        "wgan-gp",
        critic_optimizer=keras.optimizers.SGD(0.0),
        generator_optimizer=keras.optimizers.SGD(0.0),
        critic_steps=1,
    )
    real = np.tile(r.astype("float32"), (8, 1))
    logs = {k: v[0] for k, v in gan.fit(real, labels, batch_size=8, verbose=0).history.items()}
    ce = np.log(np.exp(bias).sum()) - bias[labels]
    assert logs["ac_loss"] == pytest.approx(ce.mean(), rel=1e-5)
    assert logs["ac_accuracy"] == pytest.approx(np.mean(labels == 2))
    assert logs["gp"] == pytest.approx(0.0, abs=1e-6)  # ‖w‖ = 1
    assert logs["d_loss"] == pytest.approx(w @ (c - r) + ce.mean(), rel=1e-5)
    # The generator's labels are random, so its CE term is checked with uniform logits.
    gan = kwgan.GAN(conditional_generator(c), acgan_critic(w, 0.2), seed=0)
    gan.compile("wgan-gp", critic_optimizer=keras.optimizers.SGD(0.0), critic_steps=1)
    logs = gan.fit(real, labels, batch_size=8, verbose=0).history
    assert logs["g_loss"][0] == pytest.approx(-(w @ c + 0.2) + 0.1 * LN3, rel=1e-5)


def test_acgan_weights_are_configurable_and_serialised(tmp_path):
    gan = kwgan.GAN(conditional_generator(), acgan_critic([0.6, 0.8]), seed=0)
    gan.compile(
        "wgan-gp",
        critic_optimizer=keras.optimizers.SGD(0.0),
        critic_steps=1,
        acgan_weight=2.0,
        acgan_generator_weight=0.0,
    )
    x, y = np.zeros((4, 2), "float32"), np.zeros((4,), "int32")
    logs = gan.fit(x, y, batch_size=4, verbose=0).history
    assert logs["d_loss"][0] == pytest.approx(2.0 * LN3, rel=1e-5)  # D ≡ 0 on x = G = 0, ‖w‖ = 1
    assert logs["g_loss"][0] == pytest.approx(0.0, abs=1e-6)
    gan.save(tmp_path / "c.keras")
    loaded = keras.saving.load_model(tmp_path / "c.keras")
    assert (
        loaded.num_classes,
        loaded.acgan,
        loaded.acgan_weight,
        loaded.acgan_generator_weight,
    ) == (3, True, 2.0, 0.0)


def test_conditional_generator_learns_to_follow_labels():
    """Three classes at three points; after a short run each label's samples sit near
    its own class centre rather than the others'."""
    keras.utils.set_random_seed(0)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]], "float32")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 2048).astype("int32")
    x = centres[y] + 0.05 * rng.normal(size=(2048, 2)).astype("float32")
    z, labels = keras.Input((2,)), keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([z, keras.layers.Embedding(3, 8)(labels)])
    for _ in range(2):
        h = keras.layers.Dense(64, activation="relu")(h)
    generator = keras.Model([z, labels], keras.layers.Dense(2)(h))
    gan = kwgan.GAN(generator, acgan_critic([0, 0], hidden=64), seed=0)
    gan.compile(
        "wgan-gp",
        generator_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5, beta_2=0.9),
        critic_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5, beta_2=0.9),
        critic_steps=2,
        gp_weight=0.1,
        acgan_generator_weight=1.0,
    )
    gan.fit(x, y, batch_size=64, epochs=8, verbose=0)  # 128 generator iterations
    noise = np.random.default_rng(1).normal(size=(300, 2))
    samples = gan.generate(noise)  # labels cycle 0, 1, 2
    distances = np.linalg.norm(samples[:, None, :] - centres[None], axis=-1)
    hits = np.mean(distances.argmin(axis=1) == np.arange(300) % 3)
    assert hits > 0.9, hits


def test_critic_with_a_labels_input_trains():
    gan = kwgan.GAN(conditional_generator(), labelled_critic(), num_classes=3, seed=0)
    assert (gan.acgan, gan.critic_takes_labels, gan.num_classes) == (False, True, 3)
    gan.compile("wgan-gp")
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    logs = gan.fit(x, np.arange(64) % 3, batch_size=16, verbose=0).history
    diagnostics = set(kwgan.callbacks.DIAGNOSTICS)
    assert set(logs) == {"d_loss", "g_loss", "gp", "w_estimate"} | diagnostics
    assert np.isfinite(logs["d_loss"][0])


def test_conditional_setups_that_cannot_work_are_refused():
    toy_g, toy_c = kwgan.architectures.toy_generator(), kwgan.architectures.toy_critic()
    with pytest.raises(ValueError, match="never sees the labels"):
        kwgan.GAN(conditional_generator(), toy_c)
    with pytest.raises(ValueError, match="generator takes noise only"):
        kwgan.GAN(toy_g, acgan_critic([1, 0]))
    with pytest.raises(ValueError, match="num_classes >= 2"):
        kwgan.GAN(conditional_generator(), labelled_critic())
    with pytest.raises(ValueError, match="4 logits|3 logits"):
        kwgan.GAN(conditional_generator(), acgan_critic([1, 0]), num_classes=4)


def test_conditional_data_must_carry_integer_labels():
    gan = kwgan.GAN(conditional_generator(), acgan_critic([0.6, 0.8]), seed=0)
    gan.compile("wgan-gp")
    x = np.zeros((8, 2), "float32")
    with pytest.raises(ValueError, match=r"\(images, labels\) batches"):
        gan.fit(x, batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="integer class ids"):
        gan.fit(x, np.zeros((8,), "float32"), batch_size=4, verbose=0)


def test_generate_cycles_labels_and_checks_them():
    g = conditional_generator()
    (emb,) = [layer for layer in g.layers if isinstance(layer, keras.layers.Embedding)]
    emb.embeddings.assign(np.array([[0, 0], [1, 1], [2, 2]], "float32"))
    gan = kwgan.GAN(g, acgan_critic([1, 0]))
    np.testing.assert_array_equal(gan.class_cycle(5), [0, 1, 2, 0, 1])
    assert (
        kwgan.GAN(
            kwgan.architectures.toy_generator(), kwgan.architectures.toy_critic()
        ).class_cycle(5)
        is None
    )
    np.testing.assert_allclose(gan.generate(np.zeros((4, 2)))[:, 0], [0, 1, 2, 0])
    np.testing.assert_allclose(gan.generate(np.zeros((2, 2)), labels=[2, 2])[:, 1], [2, 2])
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\)"):
        gan.generate(np.zeros((2, 2)), labels=[0, 3])
    with pytest.raises(ValueError, match="shape"):
        gan.generate(np.zeros((2, 5)))


def tiny_conditional_images(num_classes=10, size=8) -> tuple[keras.Model, keras.Model]:
    """A [noise, labels] → 8×8×1 generator and an AC-GAN critic ([score, logits]), a few
    dense layers each: the grid's layout depends on the class count, not the networks
    (cifar-resnet's conditional pair is built and trained in test_experiments.py)."""
    z = keras.Input((4,))
    y = keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([z, keras.layers.Embedding(num_classes, 4)(y)])
    pixels = keras.layers.Dense(size * size, activation="tanh")(h)
    generator = keras.Model([z, y], keras.layers.Reshape((size, size, 1))(pixels))
    x = keras.Input((size, size, 1))
    h = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(x))
    critic = keras.Model(x, [keras.layers.Dense(1)(h), keras.layers.Dense(num_classes)(h)])
    return generator, critic


def test_conditional_sample_grid_has_a_column_per_class(tmp_path):
    from PIL import Image

    gan = kwgan.GAN(*tiny_conditional_images(), seed=0)
    gan.compile("wgan-gp", critic_steps=1)
    x = np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    grid = kwgan.callbacks.SampleGrid(str(tmp_path), every=1, n=16, scale=1)
    logs = gan.fit(x, np.arange(8) % 10, batch_size=4, callbacks=[grid], verbose=0).history
    assert np.isfinite(logs["ac_loss"]).all()
    width, height = Image.open(tmp_path / "samples.png").size
    # 10 columns × 2 rows of 8×8 images, one padding pixel around and between them
    assert (width, height) == (10 * 9 + 1, 2 * 9 + 1)
    assert int(to_numpy(gan.generator_iterations)) == 2
