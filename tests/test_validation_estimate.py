"""`ValidationEstimate`: the critic's W estimate on training and on held-out images.

The numbers are checked on a linear critic D(x) = w·x + b against a constant generator
G(z) = c, where the estimate is w·(mean x − c) in closed form; then through `fit`, where
the callback must leave training unchanged and keep its results across a resumed run.
"""

import keras
import numpy as np
import pytest

import kwgan
from conftest import to_numpy, weights
from kwgan.callbacks import ValidationEstimate

W, B, C = np.array([2.0, -1.0]), 0.5, np.array([1.0, 3.0])


def linear_gan(num_classes: int | None = None) -> kwgan.GAN:
    """G(z) = C, D(x) = W·x + B; with `num_classes`, both also take labels (unused: zero
    embeddings added)."""
    z, x = keras.Input((2,)), keras.Input((2,))
    fake = keras.layers.Dense(
        2, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(C)
    )(z)
    score = keras.layers.Dense(
        1,
        kernel_initializer=keras.initializers.Constant(W[:, None]),
        bias_initializer=keras.initializers.Constant(B),
    )(x)
    g_inputs, d_inputs = z, x
    if num_classes:
        y = keras.Input((), dtype="int32")
        fake = keras.layers.Add()([fake, keras.layers.Embedding(num_classes, 2)(y)])
        score = keras.layers.Add()([score, keras.layers.Embedding(num_classes, 1)(y)])
        g_inputs, d_inputs = [z, y], [x, y]
    return kwgan.GAN(
        keras.Model(g_inputs, fake, name="generator"),
        keras.Model(d_inputs, score, name="critic"),
        num_classes=num_classes,
    )


def evaluate_once(callback: ValidationEstimate, gan: kwgan.GAN, iteration: int = 3) -> dict:
    """Drives the callback as `fit` would: begin, then the end of generator iteration 3."""
    callback.set_model(gan)
    callback.on_train_begin()
    callback.on_generator_iteration_end(iteration, {})
    return callback.results[-1]


def test_closed_form_on_a_linear_critic():
    train = np.array([[0.0, 0.0], [1.0, 1.0], [4.0, -2.0], [3.0, 1.0]], "float32")
    validation = np.array([[1.0, 0.0], [0.0, 2.0], [2.0, 2.0], [1.0, -1.0]], "float32")
    result = evaluate_once(
        ValidationEstimate(train, validation, every=3, batch_size=3), linear_gan()
    )
    # w·c = 2 − 3 = −1; mean train = (2, 0) → w· = 4; mean validation = (1, 0.75) → 1.25.
    assert result["iteration"] == 3
    np.testing.assert_allclose(result["w_train"], 4.0 - -1.0, rtol=1e-6)
    np.testing.assert_allclose(result["w_validation"], 1.25 - -1.0, rtol=1e-6)


def test_training_sample_has_the_validation_size():
    rng = np.random.default_rng(5)
    train, validation = rng.normal(size=(10, 2)), rng.normal(size=(3, 2))
    callback = ValidationEstimate(train, validation, every=1, seed=7)
    result = evaluate_once(callback, linear_gan())
    assert callback.train.shape == (3, 2)
    rows = {tuple(row) for row in train.astype("float32")}
    assert all(tuple(row) in rows for row in callback.train)
    assert len({tuple(row) for row in callback.train}) == 3
    np.testing.assert_allclose(
        result["w_train"], W @ (callback.train.mean(0) - C), rtol=1e-5, atol=1e-6
    )
    # The sample is a function of the seed.
    again = ValidationEstimate(train, validation, every=1, seed=7)
    np.testing.assert_array_equal(again.train, callback.train)


def test_refuses_conditional_gans_and_empty_sets():
    callback = ValidationEstimate(np.zeros((2, 2)), np.zeros((2, 2)), every=1)
    with pytest.raises(kwgan.errors.ConfigError, match="unconditional"):
        evaluate_once(callback, linear_gan(num_classes=3))
    with pytest.raises(kwgan.errors.DataError, match="at least one"):
        ValidationEstimate(np.zeros((2, 2)), np.zeros((0, 2)))


def fitted(tiny_gan, steps: int, callbacks=(), gan=None) -> kwgan.GAN:
    gan = gan or tiny_gan(dim=8)
    if not gan.compiled:
        gan.compile("wgan-gp", critic_steps=1)
    gan.fit(
        kwgan.data.toy("8gaussians", batch_size=8, steps_per_epoch=steps),
        verbose=0,
        callbacks=list(callbacks),
    )
    return gan


def test_through_fit_leaves_training_unchanged_and_resumes(tiny_gan):
    train = kwgan.data.sample("8gaussians", 40, seed=1)
    validation = kwgan.data.sample("8gaussians", 16, seed=2)
    first = ValidationEstimate(train, validation, every=2, batch_size=8)
    with_callback = fitted(tiny_gan, 5, [first])
    without = fitted(tiny_gan, 5)
    for a, b in zip(weights(with_callback), weights(without), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [r["iteration"] for r in first.results] == [2, 4, 5]  # and once at the end

    # The last evaluation is the mean critic score gap of the trained model, by hand.
    def mean_score(x):
        return float(np.mean(to_numpy(with_callback.critic(x, training=False))))

    last = first.results[-1]
    np.testing.assert_allclose(
        last["w_train"] - last["w_validation"],
        mean_score(first.train) - mean_score(validation),
        rtol=1e-4,
        atol=1e-5,
    )

    resumed = ValidationEstimate(train, validation, every=2, batch_size=8)
    resumed.set_state(first.get_state())
    fitted(tiny_gan, 3, [resumed], gan=with_callback)
    assert [r["iteration"] for r in resumed.results] == [2, 4, 5, 6, 8]
    assert resumed.results[:3] == first.results
