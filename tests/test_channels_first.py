"""Channels-first networks: the same function and weights as channels-last, NHWC at the edges.

The architectures compute in `data_format` (channels_first by default on torch, whose
convolutions are NCHW) but take and return NHWC images in both layouts, and a Dense layer that
meets a feature map sees the channels-last element order, so every weight has one shape and
one meaning in both. TensorFlow's CPU convolutions are NHWC only: there `build` refuses
channels_first, and the cross-layout comparisons, which need it, are skipped.
"""

import keras
import numpy as np
import pytest

import kwgan
import kwgan.architectures as arch
from conftest import to_numpy
from kwgan.errors import ConfigError
from test_architectures import LATENT, SMALL

BACKEND = keras.backend.backend()


def _tensorflow_on_cpu() -> bool:
    if BACKEND != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.config.list_physical_devices("GPU")


TF_CPU = _tensorflow_on_cpu()
runs_channels_first = pytest.mark.skipif(
    TF_CPU, reason="TensorFlow's CPU convolutions are NHWC only; build refuses channels_first"
)
LAYOUTS = ("channels_last", "channels_first")


def build_pair(name: str, data_format: str, **options) -> tuple[keras.Model, keras.Model]:
    """`name` at the size and width of tests/test_architectures.py, whose JAX compilations
    (one per initialiser and op shape) the channels_last builds share."""
    image_size, channels = SMALL[name]
    return arch.build(
        name,
        image_size=image_size,
        channels=channels,
        latent_dim=LATENT,
        dim=8,
        data_format=data_format,
        **options,
    )


def generator_inputs(generator: keras.Model, batch: int = 3):
    noise = np.random.default_rng(0).normal(size=(batch, LATENT)).astype("float32")
    return [noise, np.arange(batch, dtype="int32")] if len(generator.inputs) == 2 else noise


def _flat(outputs) -> list[np.ndarray]:
    return [to_numpy(x) for x in keras.tree.flatten(outputs)]


def test_default_data_format_follows_the_backend():
    expected = "channels_first" if BACKEND == "torch" else "channels_last"
    assert arch.default_data_format() == expected
    generator, critic = build_pair("infogan", None)
    convs = [layer for layer in generator.layers + critic.layers if hasattr(layer, "kernel_size")]
    assert len(convs) == 4  # 2 deconvs, 2 convs
    assert {layer.data_format for layer in convs} == {expected}
    # NHWC at the edges, whatever the layout inside.
    assert generator.output_shape == (None, 28, 28, 1)
    assert critic.input_shape == (None, 28, 28, 1)


@runs_channels_first
def test_layouts_have_nhwc_edges_and_inner_layouts():
    for data_format in LAYOUTS:
        generator, critic = build_pair("cifar-resnet", data_format, conditional=True, acgan=True)
        assert generator.output_shape == (None, 32, 32, 1)
        assert critic.input_shape == (None, 32, 32, 1)
        assert critic.output_shape == [(None, 1), (None, 10)]
        inner = critic.get_layer("res1_conv1").output.shape  # 8 channels at 32×32
        assert inner == (
            (None, 8, 32, 32) if data_format == "channels_first" else (None, 32, 32, 8)
        )


# A subset that builds every kind of layer, norm and layout boundary (the other names reuse
# the DCGAN skeleton or an MLP), under the objective that gives each its batch norms.
CASES = [
    ("infogan", {"objective": "wgan"}),  # Flatten → Dense → BN (B, F) → feature_map
    ("mnist-dcgan", {"objective": "wgan"}),  # Dense → BN → feature_map, cropped deconv
    ("gated-dcgan", {"objective": "wgan-gp"}),  # GatedActivation, ChannelLayerNorm
    ("resnet101", {"objective": "wgan"}),  # SubpixelConv2D, bottlenecks, strided deconv
    ("wgan-dcgan", {"objective": "wgan"}),  # a 1×1 feature map, a 'valid' conv to the score
    # UpsampleConv2D, ConvMeanPool, MeanPoolConv, ConditionalBatchNorm, global mean pooling,
    # an AC-GAN head; batch norm in the critic too
    ("cifar-resnet", {"conditional": True, "acgan": True, "critic_norm": "batch"}),
]


# Every case on torch, whose default channels_first is; on JAX, where it is a choice and XLA
# compiles each layout's networks anew (seconds per network on CI's CPU), the first one.
CASES_HERE = CASES[:1] if BACKEND == "jax" else CASES
# The .keras and channels_last conversions of a channels_first network: torch's (its default).
on_torch = pytest.mark.skipif(
    BACKEND != "torch", reason="channels_first networks by default on torch only"
)


@runs_channels_first
@pytest.mark.parametrize(
    "name, options",
    CASES_HERE,
    ids=[f"{n}-{'-'.join(map(str, o.values()))}" for n, o in CASES_HERE],
)
def test_both_layouts_compute_the_same_function_with_the_same_weights(name, options):
    keras.utils.set_random_seed(0)
    last_g, last_c = build_pair(name, "channels_last", **options)
    first_g, first_c = build_pair(name, "channels_first", **options)
    first_g.set_weights(last_g.get_weights())  # same shapes, or set_weights raises
    first_c.set_weights(last_c.get_weights())
    g_inputs = generator_inputs(last_g)
    for training in (False, True):  # moving statistics, then batch statistics
        images = to_numpy(last_g(g_inputs, training=training))
        np.testing.assert_allclose(
            to_numpy(first_g(g_inputs, training=training)), images, rtol=1e-5, atol=1e-5
        )
        c_inputs = np.random.default_rng(1).normal(size=images.shape).astype("float32")
        for first, last in zip(
            _flat(first_c(c_inputs, training=training)),
            _flat(last_c(c_inputs, training=training)),
            strict=True,
        ):
            np.testing.assert_allclose(first, last, rtol=1e-5, atol=1e-5)
    # The training passes moved both generators' statistics alike.
    for first, last in zip(first_g.get_weights(), last_g.get_weights(), strict=True):
        np.testing.assert_allclose(first, last, rtol=1e-5, atol=1e-6)


@on_torch
def test_channels_first_gan_keras_file_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    gan = kwgan.GAN(*build_pair("mnist-dcgan", "channels_first", objective="wgan"), seed=0)
    gan.compile("wgan")
    z = np.random.default_rng(2).normal(size=(4, LATENT)).astype("float32")
    gan.generator(3 * z, training=True)  # moving statistics away from their initial 0 and 1
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.critic.get_layer("conv1").data_format == "channels_first"
    samples = loaded.generate(z)
    assert samples.shape == (4, 28, 28, 1)
    np.testing.assert_allclose(samples, gan.generate(z), rtol=1e-6, atol=1e-6)


@on_torch
def test_to_channels_last_keeps_the_function():
    keras.utils.set_random_seed(0)
    generator, critic = build_pair("resnet101", "channels_first", objective="wgan")
    inputs = generator_inputs(generator)
    images = to_numpy(generator(inputs, training=False))
    for model, x, expected in (
        (generator, inputs, images),
        (critic, images, to_numpy(critic(images, training=False))),
    ):
        converted = arch.to_channels_last(model)
        formats = {getattr(layer, "data_format", None) for layer in converted.layers}
        assert formats == {None, "channels_last"}
        np.testing.assert_allclose(
            to_numpy(converted(x, training=False)), expected, rtol=1e-5, atol=1e-5
        )
    assert arch.to_channels_last(converted) is converted  # nothing left to convert


@pytest.mark.backend_neutral
def test_data_format_is_checked():
    with pytest.raises(ConfigError, match="Unknown data_format 'NCHW'"):
        arch.build("dcgan", data_format="NCHW")


@pytest.mark.skipif(not TF_CPU, reason="TensorFlow on a CPU only")
def test_tensorflow_on_cpu_refuses_channels_first():
    with pytest.raises(ConfigError, match="data_format='channels_last'"):
        arch.build("infogan", data_format="channels_first")
