"""One critic call on the real and the fake batch together (`compile(fuse_critic_calls=...)`):
the same training as two calls, and only used where it is the same model."""

import keras
import numpy as np
import pytest

import kwgan
from conftest import weights

ITERATIONS = 2


def _train(build, data, fuse: bool | None):
    """A WGAN-GP from `build()` (seeded), trained ITERATIONS generator iterations on `data`
    (samples, or (samples, labels)).

    With SGD, so equal weights mean equal gradients: Adam's first steps are ±lr for every
    gradient whatever its size, so float rounding of a gradient near 0 would flip a step.
    """
    keras.utils.set_random_seed(0)
    gan = kwgan.GAN(*build(), seed=0, num_classes=3 if isinstance(data, tuple) else None)
    gan.compile(
        "wgan-gp",
        generator_optimizer=keras.optimizers.SGD(0.01),
        critic_optimizer=keras.optimizers.SGD(0.01),
        fuse_critic_calls=fuse,
    )
    data = data if isinstance(data, tuple) else (data,)
    history = gan.fit(*data, batch_size=4, epochs=1, verbose=0, shuffle=False).history
    return gan, history


def _toy():
    return kwgan.architectures.toy_generator(dim=8), kwgan.architectures.toy_critic(dim=8)


def _convolutional():
    # A DCGAN critic with layer norm, as the WGAN-GP paper's 64×64 one has under the penalty.
    return kwgan.architectures.build(
        "cifar-dcgan", image_size=32, channels=1, dim=2, latent_dim=8, critic_norm="layer"
    )


def _conditional_generator():
    z, labels = keras.Input((8,)), keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([z, keras.layers.Embedding(3, 4)(labels)])
    return keras.Model([z, labels], keras.layers.Dense(2)(keras.layers.Dense(8, "relu")(h)))


def _acgan():
    """A critic with an AC-GAN head: two outputs, each split back into real and fake."""
    x = keras.Input((2,))
    h = keras.layers.Dense(8, activation="relu")(x)
    critic = keras.Model(x, [keras.layers.Dense(1)(h), keras.layers.Dense(3)(h)])
    return _conditional_generator(), critic


def _projection():
    """A critic that takes the labels too, so they are concatenated with the samples."""
    x, labels = keras.Input((2,)), keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([x, keras.layers.Embedding(3, 4)(labels)])
    critic = keras.Model([x, labels], keras.layers.Dense(1)(keras.layers.Dense(8, "relu")(h)))
    return _conditional_generator(), critic


def _data(shape, labelled=False):
    rng = np.random.default_rng(0)
    steps = 5 * ITERATIONS  # one real batch per critic iteration
    x = rng.uniform(-1, 1, size=(4 * steps, *shape)).astype("float32")
    return (x, rng.integers(0, 3, size=len(x)).astype("int32")) if labelled else x


@pytest.mark.parametrize(
    "build, shape, labelled",
    [
        (_toy, (2,), False),
        (_convolutional, (32, 32, 1), False),
        (_acgan, (2,), True),
        (_projection, (2,), True),
    ],
    ids=["mlp", "layer-norm-conv", "acgan-head", "critic-with-labels"],
)
def test_fused_call_trains_like_two_calls(build, shape, labelled):
    data = _data(shape, labelled)
    fused, fused_logs = _train(build, data, None)
    plain, plain_logs = _train(build, data, False)
    assert fused.fuses_critic_calls and not plain.fuses_critic_calls
    for key in ("d_loss", "g_loss", "w_estimate", "gp"):
        np.testing.assert_allclose(fused_logs[key], plain_logs[key], rtol=1e-4, atol=1e-6)
    for a, b in zip(weights(fused), weights(plain), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_critic_with_batch_statistics_keeps_two_calls():
    """Batch norm (the WGAN repo's DCGAN critic under clipping) would normalise real and fake
    together in one call, so it never fuses, and asking for it is refused."""
    generator, critic = kwgan.architectures.build(
        "dcgan", image_size=64, dim=2, latent_dim=8, objective="wgan"
    )
    gan = kwgan.GAN(generator, critic, seed=0)
    gan.compile("wgan")
    assert not gan.fuses_critic_calls
    with pytest.raises(kwgan.errors.ConfigError, match="batch-norm statistics"):
        gan.compile("wgan", fuse_critic_calls=True)


def test_choice_survives_serialisation(tiny_gan):
    gan = tiny_gan()
    gan.compile("wgan-gp", fuse_critic_calls=False)
    assert gan.get_compile_config()["fuse_critic_calls"] is False
    restored = kwgan.GAN.from_config(gan.get_config())
    restored.compile_from_config(gan.get_compile_config())
    assert not restored.fuses_critic_calls
