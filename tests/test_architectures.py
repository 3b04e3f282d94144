"""Image architectures: reference parameter counts, layer numerics, shapes, saving, registry.

Parameter counts are checked on full-size models built inside a non-initialising
`StatelessScope`: the weights get shapes but no values, which keeps the ~50M parameters of
these tests from being drawn (slow on JAX, where each new shape compiles its random op).
Forward passes use tiny widths and sizes.
"""

import keras
import numpy as np
import pytest

import kwgan.architectures as arch
from conftest import to_numpy
from kwgan.architectures import layers
from kwgan.errors import ConfigError


def trainable_count(model: keras.Model) -> int:
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


@pytest.fixture
def shapes_only():
    """Builds models whose variables are never initialised; only shapes can be read."""
    with keras.StatelessScope(initialize_variables=False):
        yield
    keras.utils.clear_session(free_memory=False)  # forget the uninitialised variables


# ---------------------------------------------------------------------------------------------
# Parameter counts (trainable; BN counted as γ + β)


@pytest.mark.parametrize(
    "name, options, generator_params, critic_params",
    [
        # WGAN repo (models/dcgan.py, mlp.py) at 64×64×3, nz 100, ngf = ndf = 64 (MLPs 512).
        ("wgan-dcgan", {"objective": "wgan"}, 3_576_704, 2_765_568),
        ("wgan-dcgan-nobn", {"objective": "wgan"}, 3_574_784, 2_765_568),
        ("wgan-dcgan", {"objective": "wgan-gp"}, 3_576_704, 2_765_568),  # LN in place of BN
        # By hand: one extra layer adds a 3×3 64→64 conv without bias and a BN to each.
        ("wgan-dcgan", {"n_extra_layers": 1}, 3_576_704 + 36_992, 2_765_568 + 36_992),
        ("wgan-mlp", {}, 6_880_768, 6_817_793),
        # gan_64x64.py DCGANGenerator/Discriminator: per-channel norm in G and D (BN or LN).
        ("dcgan", {"objective": "wgan-gp"}, 5_364_739, 4_316_545),
        ("dcgan", {"objective": "dcgan"}, 5_364_739, 4_316_545),
        # No norm: minus 2·(512+256+128+64) in G and 2·(128+256+512) in D.
        ("dcgan-no-norm", {}, 5_362_819, 4_314_753),
        # By hand: Linear 128·1024+1024, 3 × (64·64·25+64) deconvs, 64·3·25+3 → 444,291, the
        # "order of magnitude" fewer parameters of the WGAN paper's Fig. 6.
        ("crippled-dcgan", {}, 444_291, 4_316_545),
        # By hand, GoodGenerator/GoodDiscriminator at DIM 64 (blocks: norms' γ+β, conv1 without
        # bias, conv2 and the 1×1 shortcut with bias): G 1,056,768 + 4,983,808 + 1,902,592 +
        # 476,160 + 119,296 + 128 + 1,731; D 1,792 + 119,296 + 476,160 + 1,902,592 + 4,983,808
        # + 8,193.
        ("good-resnet", {}, 8_540_483, 7_491_841),
        # gan_cifar_resnet.py Generator/Discriminator at DIM 128.
        ("cifar-resnet", {}, 1_204_483, 1_053_825),
        ("cifar-resnet", {"conditional": True, "acgan": True}, 1_218_307, 1_055_115),
        # By hand, gan_mnist.py at DIM 64: G 128·4096+4096, 256·128·25+128, 128·64·25+64,
        # 64·25+1; D 25·64+64, 64·128·25+128, 128·256·25+256, 4096+1.
        ("mnist-dcgan", {}, 1_554_177, 1_030_145),
    ],
)
def test_reference_parameter_counts(shapes_only, name, options, generator_params, critic_params):
    generator, critic = arch.build(name, **options)
    assert trainable_count(generator) == generator_params
    assert trainable_count(critic) == critic_params


def test_widths_default_to_the_reference(shapes_only):
    generator, critic = arch.build("wgan-mlp-g")
    assert generator.get_layer("relu1").units == 512  # --ngf 512
    assert critic.get_layer("initial_conv").filters == 64  # ndf 64
    generator, critic = arch.build("wgan-mlp-g", dim=8, critic_dim=16)
    assert generator.get_layer("relu1").units == 8
    assert critic.get_layer("initial_conv").filters == 16


# ---------------------------------------------------------------------------------------------
# Custom layers against NumPy


def test_channel_layer_norm_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, size=(2, 3, 4, 5)).astype("float32")
    gamma, beta = rng.normal(size=5).astype("float32"), rng.normal(size=5).astype("float32")
    layer = layers.ChannelLayerNorm()
    layer.build(x.shape)
    assert [tuple(w.shape) for w in layer.weights] == [(5,), (5,)]  # per channel, not H×W×C
    layer.set_weights([gamma, beta])

    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(1, 2, 3), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * gamma + beta
    np.testing.assert_allclose(to_numpy(layer(x)), expected, rtol=1e-5, atol=1e-5)

    flat = x.reshape(2, 60)
    dense_norm = layers.ChannelLayerNorm()
    mean, var = flat.mean(1, keepdims=True), flat.var(1, keepdims=True)
    np.testing.assert_allclose(
        to_numpy(dense_norm(flat)), (flat - mean) / np.sqrt(var + 1e-5), rtol=1e-5, atol=1e-5
    )


def test_gated_activation_matches_numpy():
    x = np.random.default_rng(1).normal(size=(2, 3, 3, 6)).astype("float32")
    a, b = x[..., 0::2], x[..., 1::2]
    expected = 1 / (1 + np.exp(-a)) * np.tanh(b)
    np.testing.assert_allclose(to_numpy(layers.GatedActivation()(x)), expected, rtol=1e-6)


def test_conditional_batch_norm_matches_numpy():
    rng = np.random.default_rng(2)
    x = rng.normal(1.0, 2.0, size=(4, 2, 2, 3)).astype("float32")
    labels = np.array([0, 2, 2, 1], dtype="int32")
    gamma, beta = rng.normal(size=(2, 3, 3)).astype("float32")  # (num_classes, C) tables
    fresh_stats = [np.zeros(3, "float32"), np.ones(3, "float32")]
    layer = layers.ConditionalBatchNorm(num_classes=3)
    layer.build([x.shape, labels.shape])
    layer.set_weights([gamma, beta, *fresh_stats])
    scale, offset = gamma[labels, None, None], beta[labels, None, None]  # per example

    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    expected = (x - mean) / np.sqrt(var + 1e-5) * scale + offset
    out = layer([x, labels], training=True)
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(to_numpy(layer.moving_mean), 0.1 * mean, rtol=1e-5)

    layer.set_weights([gamma, beta, *fresh_stats])  # inference uses the moving statistics
    inference = x / np.sqrt(1 + 1e-5) * scale + offset
    out = layer([x, labels[:, None]], training=False)
    np.testing.assert_allclose(to_numpy(out), inference, rtol=1e-5, atol=1e-5)


def _identity_conv(layer_class, channels: int, filters: int):
    """A resampling conv with a 1×1 identity-like kernel, so only its resampling remains."""
    layer = layer_class(filters, 1)
    layer.build((None, 4, 4, channels))
    kernel = np.eye(channels, layer.filters, dtype="float32").reshape(1, 1, channels, -1)
    layer.set_weights([kernel, np.zeros(layer.filters, "float32")])
    return layer


def test_resampling_convs_resample_like_the_reference():
    x = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    # tflib: add_n([x[::2, ::2], x[1::2, ::2], x[::2, 1::2], x[1::2, 1::2]]) / 4
    pooled = (x[:, ::2, ::2] + x[:, 1::2, ::2] + x[:, ::2, 1::2] + x[:, 1::2, 1::2]) / 4
    for layer_class in (layers.ConvMeanPool, layers.MeanPoolConv):
        out = _identity_conv(layer_class, 3, 3)(x)
        np.testing.assert_allclose(to_numpy(out), pooled)

    upsampled = x.repeat(2, axis=1).repeat(2, axis=2)  # concat ×4 + depth_to_space = nearest
    np.testing.assert_allclose(to_numpy(_identity_conv(layers.UpsampleConv2D, 3, 3)(x)), upsampled)

    wide = np.arange(1 * 2 * 2 * 8, dtype="float32").reshape(1, 2, 2, 8)
    subpixel = _identity_conv(layers.SubpixelConv2D, 8, 2)
    assert subpixel.compute_output_shape((None, 2, 2, 8)) == (None, 4, 4, 2)
    expected = np.zeros((1, 4, 4, 2), "float32")  # TF depth_to_space: channel (i·2 + j)·C + c
    for i in range(2):
        for j in range(2):
            expected[:, i::2, j::2, :] = wide[..., (2 * i + j) * 2 : (2 * i + j + 1) * 2]
    np.testing.assert_allclose(to_numpy(subpixel(wide)), expected)


@pytest.mark.parametrize(
    "layer, inputs",
    [
        (layers.ChannelLayerNorm(epsilon=1e-3), [np.ones((2, 4, 4, 3), "float32")]),
        (layers.SubpixelConv2D(2, 3, use_bias=False), [np.ones((2, 4, 4, 3), "float32")]),
        (layers.MeanPoolConv(5, 1), [np.ones((2, 4, 4, 3), "float32")]),
        (
            layers.ConditionalBatchNorm(4, momentum=0.5),
            [np.ones((2, 4, 4, 3), "float32"), np.array([1, 3], "int32")],
        ),
        (layers.ChannelLayerNorm(data_format="channels_first"), [np.ones((2, 3, 4, 4), "float32")]),
        (layers.GatedActivation(data_format="channels_first"), [np.ones((2, 6, 4, 4), "float32")]),
        (
            layers.ConditionalBatchNorm(4, data_format="channels_first"),
            [np.ones((2, 3, 4, 4), "float32"), np.array([1, 3], "int32")],
        ),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, keras.layers.Layer) else "",
)
def test_custom_layer_config_round_trip(layer, inputs):
    args = inputs if len(inputs) > 1 else inputs[0]
    before = to_numpy(layer(args))
    clone = type(layer).from_config(layer.get_config())
    clone(args)
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_allclose(to_numpy(clone(args)), before)


@pytest.mark.parametrize(
    "layer_class, options",
    [
        (layers.ChannelLayerNorm, {}),
        (layers.GatedActivation, {}),
        (layers.ConditionalBatchNorm, {"num_classes": 3}),
    ],
)
def test_channel_layers_find_the_channels_of_their_data_format(layer_class, options):
    """channels_first on NCHW = channels_last on NHWC, transposed, with the same weights."""
    rng = np.random.default_rng(3)
    nhwc = rng.normal(1.0, 2.0, size=(4, 3, 5, 6)).astype("float32")
    nchw = nhwc.transpose(0, 3, 1, 2)
    labels = np.array([0, 2, 2, 1], "int32")
    last = layer_class(data_format="channels_last", **options)
    first = layer_class(data_format="channels_first", **options)
    conditional = layer_class is layers.ConditionalBatchNorm
    for layer, x in ((last, nhwc), (first, nchw)):
        layer.build([x.shape, labels.shape] if conditional else x.shape)
    weights = [rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in last.get_weights()]
    last.set_weights(weights)
    first.set_weights(weights)  # the same shapes: one γ, β per channel (and class)
    for training in (True, False):
        outputs = [
            to_numpy(layer([x, labels] if conditional else x, training=training))
            for layer, x in ((last, nhwc), (first, nchw))
        ]
        assert outputs[1].shape[1] == (3 if layer_class is layers.GatedActivation else 6)
        np.testing.assert_allclose(outputs[1].transpose(0, 2, 3, 1), outputs[0], atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Every architecture: full-size shapes, tiny forward passes, saving


@pytest.mark.parametrize("channels", [None, 1])
@pytest.mark.parametrize("name", arch.NAMES)
def test_reference_size_shapes(shapes_only, name, channels):
    generator, critic = arch.build(name, channels=channels)
    entry = arch.get(name)
    image_shape = (entry.image_size, entry.image_size, channels or entry.channels)
    assert (generator.name, critic.name) == ("generator", "critic")
    assert generator.input_shape == (None, entry.latent_dim)
    assert generator.output_shape == (None, *image_shape)
    assert critic.input_shape == (None, *image_shape)
    assert critic.output_shape == (None, 1)


def test_dcgan_at_32_for_upscaled_digits(shapes_only):
    generator, critic = arch.build("dcgan", image_size=32, channels=1, data_format="channels_last")
    assert generator.output_shape == (None, 32, 32, 1)
    assert critic.get_layer("conv3").output.shape == (None, 4, 4, 256)  # 32 → 16 → 8 → 4


SMALL = {  # name → (image_size, channels): the smallest sizes that use every kind of block
    "infogan": (28, 1),
    "dcgan": (16, 1),
    "crippled-dcgan": (16, 1),
    "fc-dcgan": (16, 1),
    "dcgan-no-norm": (16, 1),
    "gated-dcgan": (16, 3),
    "tanh-dcgan": (16, 1),
    "resnet101": (8, 1),
    "good-resnet": (8, 1),
    "wgan-dcgan": (16, 1),
    "wgan-dcgan-nobn": (16, 1),
    "wgan-mlp-g": (16, 1),
    "wgan-mlp": (16, 3),
    "cifar-dcgan": (16, 1),
    "cifar-resnet": (32, 1),  # the critic's down block starts at 32×32
    "mnist-dcgan": (28, 1),  # crops 8×8 to 7×7 on the way
}
LATENT = 6


def small(name: str, **options) -> tuple[keras.Model, keras.Model]:
    """`name` at its SMALL size, width 8. Tests share these shapes so that JAX, which compiles
    each initialiser and op once per shape, reuses what earlier tests compiled."""
    image_size, channels = SMALL[name]
    keras.utils.set_random_seed(0)
    return arch.build(
        name, image_size=image_size, channels=channels, latent_dim=LATENT, dim=8, **options
    )


def noise(batch: int = 2) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(batch, LATENT)).astype("float32")


def test_every_architecture_is_covered():
    assert set(SMALL) == set(arch.NAMES)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_forward_shapes(name):
    # predict_on_batch compiles one function per model on JAX, where an eager call compiles
    # every op separately (5× slower here). Batch statistics are covered by the layer tests.
    image_size, channels = SMALL[name]
    generator, critic = small(name)
    images = generator.predict_on_batch(noise())
    assert images.shape == (2, image_size, image_size, channels)
    assert np.isfinite(images).all()
    scores = critic.predict_on_batch(images)
    assert scores.shape == (2, 1)
    assert np.isfinite(scores).all()


def test_mnist_output_activation():
    sigmoid, _ = small("mnist-dcgan", output_activation="sigmoid")
    tanh, _ = small("mnist-dcgan")
    assert sigmoid.predict_on_batch(noise()).min() >= 0.0
    assert tanh.predict_on_batch(noise()).min() < 0.0  # reaches the negative half of [−1, 1]
    with pytest.raises(ValueError, match="output_activation"):
        arch.build("mnist-dcgan", output_activation="relu")


@pytest.mark.parametrize(
    "name, options",
    [
        ("good-resnet", {}),  # UpsampleConv2D, ConvMeanPool, MeanPoolConv, ChannelLayerNorm
        ("gated-dcgan", {}),  # GatedActivation
        ("cifar-resnet", {"conditional": True, "acgan": True}),  # ConditionalBatchNorm, 2 in/out
    ],
)
def test_keras_file_round_trip(tmp_path, name, options):
    generator, critic = small(name, **options)
    g_inputs = [noise(3), np.array([0, 9, 4], "int32")] if options.get("conditional") else noise(3)
    images = to_numpy(generator(g_inputs, training=False))
    for model, inputs in ((generator, g_inputs), (critic, images)):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        loaded = keras.models.load_model(path)
        before, after = model(inputs, training=False), loaded(inputs, training=False)
        for b, a in zip(keras.tree.flatten(before), keras.tree.flatten(after), strict=True):
            np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=1e-6, atol=1e-6)
    if options.get("acgan"):
        score, logits = critic(images)
        assert (score.shape, logits.shape) == ((3, 1), (3, 10))


# ---------------------------------------------------------------------------------------------
# Registry: normalisation by objective, errors


def _norm_layers(model: keras.Model) -> set[str]:
    kinds = {"BatchNormalization", "ChannelLayerNorm", "ConditionalBatchNorm"}
    return {type(layer).__name__ for layer in model.layers} & kinds


@pytest.mark.parametrize(
    "name, objective, generator_norms, critic_norms",
    [
        ("dcgan", "wgan-gp", {"BatchNormalization"}, {"ChannelLayerNorm"}),
        ("dcgan", "wgan", {"BatchNormalization"}, {"BatchNormalization"}),
        ("good-resnet", "lsgan", {"BatchNormalization"}, {"BatchNormalization"}),
        ("wgan-dcgan", "wgan-gp", {"BatchNormalization"}, {"ChannelLayerNorm"}),
        ("cifar-dcgan", "wgan-gp", {"BatchNormalization"}, set()),
        ("cifar-dcgan", "dcgan", {"BatchNormalization"}, {"BatchNormalization"}),
        ("cifar-resnet", "wgan", {"BatchNormalization"}, set()),
        ("mnist-dcgan", "wgan-gp", set(), set()),
        ("mnist-dcgan", "wgan", {"BatchNormalization"}, {"BatchNormalization"}),
        ("dcgan-no-norm", "wgan", set(), set()),
    ],
)
def test_normalisation_follows_the_objective(
    shapes_only, name, objective, generator_norms, critic_norms
):
    generator, critic = arch.build(name, objective=objective, dim=4)
    assert _norm_layers(generator) == generator_norms
    assert _norm_layers(critic) == critic_norms


def test_normalisation_override(shapes_only):
    _, critic = arch.build("cifar-resnet", critic_norm="layer", dim=4)
    assert _norm_layers(critic) == {"ChannelLayerNorm"}
    generator, _ = arch.build("cifar-resnet", conditional=True, dim=4)
    assert _norm_layers(generator) == {"BatchNormalization", "ConditionalBatchNorm"}
    with pytest.raises(ValueError, match="no normalisation"):
        arch.build("wgan-mlp", critic_norm="layer")
    with pytest.raises(ValueError, match="Unknown normalisation"):
        arch.build("dcgan", critic_norm="instance", dim=4)


def test_registry_errors(shapes_only):
    with pytest.raises(ValueError, match="good-resnet.*wgan-dcgan"):
        arch.build("dcgan-64")
    with pytest.raises(ValueError, match=r"16·2\^k \(16, 32, 64, 128"):
        arch.build("wgan-dcgan", image_size=48)
    with pytest.raises(ValueError, match=r"8·2\^k"):
        arch.build("good-resnet", image_size=28)
    with pytest.raises(ValueError, match="halves .* to exactly 4"):
        arch.build("dcgan", image_size=12)
    with pytest.raises(ValueError, match="objective"):
        arch.build("dcgan", objective="hinge")
    with pytest.raises(TypeError, match="n_extra_layers"):
        arch.build("wgan-dcgan", extra_layers=1)
    with pytest.raises(TypeError, match="no option 'norm'"):
        arch.build("dcgan", norm="batch")
    # Issue 19: a zero latent size built a generator of constant samples (and aborted the
    # process inside oneDNN on TensorFlow); every size is named when it is not positive.
    for size, value in [("latent_dim", 0), ("dim", 0), ("generator_dim", -1), ("channels", 0)]:
        with pytest.raises(ConfigError, match=f"{size} must be a positive integer, got {value}"):
            arch.build("cifar-dcgan", image_size=32, **{size: value})
