"""Sampling with batch or standing batch-norm statistics (`kwgan.batch_norm`), on every
backend: checked against NumPy forward passes of tiny generators with known weights, and
that neither way of sampling changes any of the GAN's own variables."""

import keras
import numpy as np
import pytest

import kwgan
from conftest import to_numpy, weights
from kwgan.architectures.layers import ConditionalBatchNorm
from kwgan.batch_norm import (
    StandingStatistics,
    accumulate_standing_statistics,
    batch_norm_layers,
    standing_generator,
)
from kwgan.errors import ConfigError

EPSILON = 1e-3  # Keras's BatchNormalization default
STANDING = StandingStatistics(batches=3, batch_size=4, seed=7)


def two_norm_generator() -> keras.Model:
    """z [B, 2] → Dense(3) → BN → Dense(2) → BN, with fixed weights and moving statistics
    (mean 5, variance 9) far from any batch's."""
    layers = keras.layers
    generator = keras.Sequential(
        [keras.Input((2,)), layers.Dense(3), layers.BatchNormalization(momentum=0.9)]
        + [layers.Dense(2), layers.BatchNormalization(momentum=0.9)],
        name="generator",
    )
    rng = np.random.default_rng(0)
    values = []
    for v in generator.weights:
        if "moving_mean" in v.path:
            values.append(np.full(v.shape, 5.0, "float32"))
        elif "moving_variance" in v.path:
            values.append(np.full(v.shape, 9.0, "float32"))
        else:  # kernels, biases, γ and β
            values.append(rng.normal(1.0 if "gamma" in v.path else 0.0, 0.5, v.shape))
    generator.set_weights([np.asarray(v, "float32") for v in values])
    return generator


def numpy_forward(generator: keras.Model, z: np.ndarray, statistics=None):
    """The generator's output for `z` in float64, each BN layer normalising by `statistics`
    ((mean, variance) per layer) or, when None, by the batch's own (biased) ones; also
    returns the batch statistics each layer saw."""
    w1, b1, g1, be1, _, _, w2, b2, g2, be2, _, _ = [np.float64(v) for v in weights(generator)]
    seen, x = [], np.float64(z)
    for i, (w, b, gamma, beta) in enumerate(((w1, b1, g1, be1), (w2, b2, g2, be2))):
        h = x @ w + b
        seen.append((h.mean(0), h.var(0)))  # ddof=0: the biased variance
        mean, variance = seen[-1] if statistics is None else statistics[i]
        x = (h - mean) / np.sqrt(variance + EPSILON) * gamma + beta
    return x, seen


def numpy_standing(generator: keras.Model, standing: StandingStatistics):
    """BigGAN's standing statistics in NumPy: training-mode passes on standing.seed's
    N(0, 1) noise; per layer the mean of the batch means and of the batch variances."""
    rng = np.random.default_rng(standing.seed)
    per_batch = []
    for _ in range(standing.batches):
        z = rng.standard_normal((standing.batch_size, 2)).astype("float32")
        per_batch.append(numpy_forward(generator, z)[1])
    return [
        tuple(np.mean([batch[layer][k] for batch in per_batch], axis=0) for k in (0, 1))
        for layer in range(2)
    ]


def critic() -> keras.Model:
    return kwgan.architectures.toy_critic(dim=8)


def test_standing_statistics_by_hand():
    """Two batches through Dense(1) with kernel 1 and bias 0: batch means 1 and 3, biased
    variances 1 and 4, so standing mean 2 and variance 2.5 (the four values pooled would
    have variance 3.5: the mean of batch variances leaves out the means' spread)."""
    layers = keras.layers
    generator = keras.Sequential([keras.Input((1,)), layers.Dense(1), layers.BatchNormalization()])
    generator.layers[0].set_weights([np.ones((1, 1), "float32"), np.zeros(1, "float32")])
    batches = [np.array([[0.0], [2.0]], "float32"), np.array([[1.0], [5.0]], "float32")]
    accumulate_standing_statistics(generator, batches)
    norm = generator.layers[1]
    np.testing.assert_allclose(to_numpy(norm.moving_mean), [2.0], rtol=1e-6)
    np.testing.assert_allclose(to_numpy(norm.moving_variance), [2.5], rtol=1e-6)
    assert norm.momentum == 0.99  # the layer's own momentum is put back
    # A frozen batch norm (inference mode even in training mode, in Keras) keeps its own.
    norm.trainable = False
    accumulate_standing_statistics(generator, [np.array([[7.0], [9.0]], "float32")])
    np.testing.assert_allclose(to_numpy(norm.moving_mean), [2.0], rtol=1e-6)


def test_standing_generator_matches_numpy_and_leaves_the_generator_alone():
    """Every BN layer's statistics are the NumPy standing statistics, the later layer's
    taken on batch-normalised inputs; the generator given keeps its values."""
    generator = two_norm_generator()
    before = weights(generator)
    copy = standing_generator(generator, latent_dim=2, standing=STANDING)
    assert copy is not generator
    for was, now in zip(before, weights(generator), strict=True):
        np.testing.assert_array_equal(now, was)
    norms = batch_norm_layers(copy)
    assert len(norms) == 2 and all(norm.momentum == 0.9 for norm in norms)
    for norm, (mean, variance) in zip(norms, numpy_standing(generator, STANDING), strict=True):
        np.testing.assert_allclose(to_numpy(norm.moving_mean), mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(to_numpy(norm.moving_variance), variance, rtol=1e-5)
    # Deterministic: the same seed gives the same statistics.
    again = standing_generator(generator, latent_dim=2, standing=STANDING)
    for a, b in zip(weights(copy), weights(again), strict=True):
        np.testing.assert_array_equal(a, b)


def test_gan_samples_with_each_kind_of_statistics_and_changes_nothing():
    """`generate` with moving (the default, unchanged), batch and standing statistics, each
    against NumPy; the GAN's variables (generator, average, counters) stay as they were."""
    gan = kwgan.GAN(two_norm_generator(), critic(), seed=0)
    z = np.random.default_rng(1).normal(size=(10, 2)).astype("float32")
    before = weights(gan)
    moving = [(np.full(3, 5.0), np.full(3, 9.0)), (np.full(2, 5.0), np.full(2, 9.0))]
    np.testing.assert_allclose(gan.generate(z), numpy_forward(gan.generator, z, moving)[0], 1e-5)
    np.testing.assert_array_equal(gan.generate(z, statistics="moving"), gan.generate(z))
    # Batch statistics: each batch of 4 (and the last 2) normalised by its own.
    batch = gan.generate(z, batch_size=4, statistics="batch")
    want = np.concatenate([numpy_forward(gan.generator, z[i : i + 4])[0] for i in (0, 4, 8)])
    np.testing.assert_allclose(batch, want, rtol=1e-4, atol=1e-5)
    standing = gan.generate(z, statistics=STANDING)
    want = numpy_forward(gan.generator, z, numpy_standing(gan.generator, STANDING))[0]
    np.testing.assert_allclose(standing, want, rtol=1e-4, atol=1e-5)
    assert not np.allclose(standing, gan.generate(z), atol=1e-2)
    # The default StandingStatistics, by name.
    default = gan.sampling_generator(statistics="standing")
    assert default is gan.sampling_generator(statistics=StandingStatistics())  # one copy
    for was, now in zip(before, weights(gan), strict=True):
        np.testing.assert_array_equal(now, was)
    assert len(gan.variables) == len(before)  # the copies are not the GAN's


def test_averaged_generator_gets_standing_statistics_for_its_own_weights():
    """The averaged generator's standing statistics are computed with the average's
    weights; the average itself (moving statistics included) is left alone."""
    gan = kwgan.GAN(two_norm_generator(), critic(), seed=0, average=0.9)
    for average in gan.average_variables:  # an average unlike the weights
        average.assign(average * 0.5 + 0.25)
    before = weights(gan)
    averaged = gan.averaged_generator()
    standing = gan.sampling_generator(statistics=STANDING)  # averaged by default
    assert standing is not averaged
    want = numpy_standing(averaged, STANDING)
    for norm, (mean, variance) in zip(batch_norm_layers(standing), want, strict=True):
        np.testing.assert_allclose(to_numpy(norm.moving_mean), mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(to_numpy(norm.moving_variance), variance, rtol=1e-5)
    # Everything but the statistics is the average's.
    for a, b, v in zip(weights(standing), weights(averaged), averaged.weights, strict=True):
        if "moving" not in v.path:
            np.testing.assert_array_equal(a, b)
    raw = gan.sampling_generator(averaged=False, statistics=STANDING)
    for norm, (mean, _) in zip(
        batch_norm_layers(raw), numpy_standing(gan.generator, STANDING), strict=True
    ):
        np.testing.assert_allclose(to_numpy(norm.moving_mean), mean, rtol=1e-5, atol=1e-6)
    # One copy samples with batch statistics, refilled from the weights asked for.
    z = np.random.default_rng(2).normal(size=(8, 2)).astype("float32")
    for generator, averaged_weights in ((averaged, True), (gan.generator, False)):
        batch = gan.generate(z, batch_size=8, averaged=averaged_weights, statistics="batch")
        want = numpy_forward(generator, z)[0]
        np.testing.assert_allclose(batch, want, rtol=1e-4, atol=1e-5)
    for was, now in zip(before, weights(gan), strict=True):
        np.testing.assert_array_equal(now, was)


def test_conditional_batch_norm_gets_standing_and_batch_statistics():
    """A [noise, labels] generator with kwgan's ConditionalBatchNorm: its statistics are
    shared by the classes, so the standing ones are those of the Dense outputs; the labels
    drawn after each batch's noise only pick γ and β."""
    z_in, labels_in = keras.Input((2,)), keras.Input((), dtype="int32")
    dense = keras.layers.Dense(3)
    norm = ConditionalBatchNorm(2, momentum=0.9)
    generator = keras.Model([z_in, labels_in], norm([dense(z_in), labels_in]), name="generator")
    rng = np.random.default_rng(3)
    gamma, beta = rng.normal(1, 0.5, (2, 3)), rng.normal(0, 0.5, (2, 3))
    dense.set_weights([rng.normal(size=(2, 3)), rng.normal(size=3)])
    norm.set_weights([gamma, beta, np.full(3, 5.0), np.full(3, 9.0)])
    kernel, bias = (np.float64(v) for v in weights(dense))

    noise = np.random.default_rng(STANDING.seed)
    means, variances = [], []
    for _ in range(STANDING.batches):
        h = noise.standard_normal((4, 2)).astype("float32") @ kernel + bias
        noise.integers(0, 2, 4)  # the labels, drawn after the noise
        means.append(h.mean(0))
        variances.append(h.var(0))
    copy = standing_generator(generator, latent_dim=2, num_classes=2, standing=STANDING)
    layer = batch_norm_layers(copy)[0]
    np.testing.assert_allclose(to_numpy(layer.moving_mean), np.mean(means, 0), rtol=1e-5)
    np.testing.assert_allclose(to_numpy(layer.moving_variance), np.mean(variances, 0), 1e-5)
    np.testing.assert_array_equal(to_numpy(norm.moving_mean), np.full(3, 5.0))

    x, y = keras.Input((3,)), keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([x, keras.layers.Embedding(2, 4)(y)])
    gan = kwgan.GAN(generator, keras.Model([x, y], keras.layers.Dense(1)(h)), num_classes=2)
    before = weights(gan)
    z = np.random.default_rng(4).normal(size=(6, 2)).astype("float32")
    labels = np.array([0, 1, 1, 0, 1, 0])
    h = np.float64(z) @ kernel + bias
    want = (h - h.mean(0)) / np.sqrt(h.var(0) + 1e-5) * gamma[labels] + beta[labels]
    got = gan.generate(z, labels, statistics="batch")
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for was, now in zip(before, weights(gan), strict=True):
        np.testing.assert_array_equal(now, was)


def test_generator_without_batch_norm_samples_alike_every_way():
    gan = kwgan.GAN(kwgan.architectures.toy_generator(dim=8), critic(), seed=0)
    assert batch_norm_layers(gan.generator) == []
    z = np.random.default_rng(5).normal(size=(6, 2)).astype("float32")
    moving = gan.generate(z)
    for statistics in ("batch", "standing"):
        np.testing.assert_allclose(gan.generate(z, statistics=statistics), moving, atol=1e-6)


def test_bad_statistics_are_refused_and_the_settings_serialise():
    gan = kwgan.GAN(two_norm_generator(), critic(), seed=0)
    with pytest.raises(ConfigError, match="statistics must be one of"):
        gan.generate(np.zeros((2, 2), "float32"), statistics="running")
    for kwargs in ({"batches": 0}, {"batch_size": 1}, {"seed": -1}, {"batches": 2.0}):
        with pytest.raises(ConfigError):
            StandingStatistics(**kwargs)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(STANDING))
    assert restored == STANDING and repr(restored).startswith("StandingStatistics(batches=3")
    renorm = keras.Sequential([keras.Input((2,)), keras.layers.BatchNormalization(renorm=True)])
    with pytest.raises(ConfigError, match="renormalisation"):
        accumulate_standing_statistics(renorm, [np.zeros((2, 2), "float32")])
