"""Bad input gets one clear error, at compile, at the first step, or on the command line,
naming what was wrong and what to do — on every backend."""

import importlib.util
import math

import keras
import numpy as np
import pytest

import kwgan
from conftest import acgan_critic, conditional_generator, to_numpy
from kwgan.errors import ConfigError, DataError, KwganError, NonFiniteLossError
from scripts import error_line, run_script

HAS_TF = importlib.util.find_spec("tensorflow") is not None


@pytest.mark.parametrize(
    "name, value", [("gp_weight", math.nan), ("gp_weight", math.inf), ("acgan_weight", math.nan)]
)
def test_non_finite_hyperparameters_are_refused(tiny_gan, name, value):
    with pytest.raises(ConfigError, match=f"{name} must be a finite number"):
        tiny_gan().compile("wgan-gp", **{name: value})


def test_non_finite_clip_value_is_refused(tiny_gan):
    with pytest.raises(ConfigError, match="clip_value must be a finite number"):
        tiny_gan().compile("wgan", clip_value=math.nan)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_in_the_data_stops_at_its_batch(tiny_gan, value):
    gan = tiny_gan()
    gan.compile("wgan-gp", critic_steps=2)
    data = np.ones((64, 2), "float32")
    data[35, 1] = value  # the third batch of 16
    with pytest.raises(DataError, match="generator iteration 2 holds 1 NaN or infinite"):
        gan.fit(data, batch_size=16, shuffle=False, verbose=0)


def training_state(gan: kwgan.GAN) -> list[np.ndarray]:
    """Everything a step may change, as NumPy: both networks' variables, the GAN's counters
    and last generator loss, both optimizers' variables (moments, iteration counters), the
    step counter and the noise seed's state."""
    variables = [
        *gan.variables,
        *gan.generator_optimizer.variables,
        *gan.critic_optimizer.variables,
        gan.optimizer.iterations,
        gan.seed_generator.state,
    ]
    return [to_numpy(v) for v in variables]


def counters(gan: kwgan.GAN) -> tuple[int, int, int]:
    """(generator iterations, critic cycle step, fit steps taken)."""
    return tuple(
        int(to_numpy(v))
        for v in (gan.generator_iterations, gan.critic_cycle_step, gan.optimizer.iterations)
    )


def batch_norm_mlp(outputs: int, name: str) -> keras.Model:
    """x [B, 2] → [B, outputs] through batch norm, whose statistics every training-mode
    call updates (as in the DCGAN critic the WGAN paper trains)."""
    layers = keras.layers
    return keras.Sequential(
        [keras.Input((2,)), layers.Dense(8), layers.BatchNormalization(), layers.ReLU()]
        + [layers.Dense(outputs)],
        name=name,
    )


def refusing_gan(objective: str, batch_norm: bool) -> kwgan.GAN:
    """A seeded 2-D GAN with a generator iteration after every 2 critic iterations."""
    keras.utils.set_random_seed(0)
    if batch_norm:
        generator, critic = batch_norm_mlp(2, "generator"), batch_norm_mlp(1, "critic")
    else:
        generator = kwgan.architectures.toy_generator(dim=16)
        critic = kwgan.architectures.toy_critic(dim=16)
    gan = kwgan.GAN(generator, critic, seed=0)
    gan.compile(objective, critic_steps=2, warmup=False)
    return gan


@pytest.mark.parametrize(
    "objective, batch_norm, value",
    [("wgan-gp", False, np.nan), ("wgan", True, np.inf)],
    ids=["wgan-gp-nan", "wgan-batch-norm-inf"],
)
def test_a_batch_with_nan_changes_nothing_and_training_goes_on(objective, batch_norm, value):
    """The refused step is due a generator iteration too: neither network (batch-norm
    statistics included), optimizer, counter nor the noise seed moves; the next clean `fit`
    trains as if the refused one never happened."""
    clean = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    bad = clean[48:].copy()
    bad[5, 0] = value
    models = []
    for refused in (True, False):
        gan = refusing_gan(objective, batch_norm)
        # 3 critic iterations: generator iteration 1 after the second, the fourth is due one.
        gan.fit(clean[:48], batch_size=16, shuffle=False, verbose=0)
        assert counters(gan) == (1, 1, 3)
        if refused:
            before = training_state(gan)
            with pytest.raises(DataError, match="generator iteration 2 holds 1 NaN or infinite"):
                gan.fit(bad, batch_size=16, verbose=0)
            for was, now in zip(before, training_state(gan), strict=True):
                np.testing.assert_array_equal(now, was)
        history = gan.fit(clean[48:], batch_size=16, shuffle=False, verbose=0).history
        assert np.isfinite(history["d_loss"][0]) and np.isfinite(history["g_loss"][0])
        assert counters(gan) == (2, 0, 4)
        models.append(gan)
    for refused, straight in zip(*map(training_state, models), strict=True):
        np.testing.assert_array_equal(refused, straight)


def test_a_batch_with_labels_out_of_range_changes_nothing():
    """Such labels are replaced by 0 in the step, so the refused step would otherwise train."""
    gan = kwgan.GAN(conditional_generator(), acgan_critic([0.6, 0.8], hidden=4), seed=0)
    gan.compile("wgan-gp")
    images = np.ones((8, 2), "float32")
    gan.fit(images, np.arange(8) % 3, batch_size=8, verbose=0)
    before = training_state(gan)
    with pytest.raises(DataError, match=r"1 labels outside \[0, 3\)"):
        gan.fit(images, np.array([0, 1, 2, 0, 1, 3, 0, 1]), batch_size=8, verbose=0)
    for was, now in zip(before, training_state(gan), strict=True):
        np.testing.assert_array_equal(now, was)


def exploding_gan(tiny_gan):
    """A GAN whose critic scores are infinite: every loss is non-finite at once."""
    gan = tiny_gan()
    critic = keras.Sequential([gan.critic, keras.layers.Rescaling(np.inf)])
    return kwgan.GAN(gan.generator, critic, seed=0)


def test_a_non_finite_loss_stops_training(tiny_gan):
    gan = exploding_gan(tiny_gan)
    gan.compile("wgan-gp")
    with pytest.raises(NonFiniteLossError, match="diverged at generator iteration 1: d_loss"):
        gan.fit(np.ones((16, 2), "float32"), batch_size=16, verbose=0)


def test_the_guard_can_be_switched_off(tiny_gan):
    gan = exploding_gan(tiny_gan)
    gan.compile("wgan-gp", terminate_on_nan=False)
    history = gan.fit(np.ones((16, 2), "float32"), batch_size=16, verbose=0).history
    assert not np.isfinite(history["d_loss"][0])


def test_labels_out_of_range_are_refused_on_every_backend():
    """JAX would otherwise train on them silently; TF and torch failed deep in a gather."""
    gan = kwgan.GAN(conditional_generator(), acgan_critic([0.6, 0.8]), seed=0)
    gan.compile("wgan-gp")
    images = np.zeros((8, 2), "float32")
    labels = np.array([0, 1, 2, 0, 1, 3, 0, 1], "int32")  # 3 is not a class of 3
    with pytest.raises(DataError, match=r"1 labels outside \[0, 3\)"):
        gan.fit(images, labels, batch_size=8, verbose=0)
    negative = np.array([0, -1, 2, 0, 1, -2, 0, 1], "int32")
    with pytest.raises(DataError, match=r"2 labels outside \[0, 3\)"):
        gan.fit(images, negative, batch_size=8, verbose=0)


def test_valid_labels_log_no_errors():
    gan = kwgan.GAN(conditional_generator(), acgan_critic([0.6, 0.8]), seed=0)
    gan.compile("wgan-gp")
    history = gan.fit(np.zeros((8, 2), "float32"), np.arange(8) % 3, batch_size=8, verbose=0)
    assert history.history["label_errors"] == [0]


def empty_inputs():
    class Empty(keras.utils.PyDataset):
        def __len__(self):
            return 0

        def __getitem__(self, index):
            raise IndexError(index)

    inputs = [np.zeros((0, 2), "float32"), Empty()]
    if HAS_TF:
        import tensorflow as tf

        batches = tf.data.Dataset.from_tensor_slices(np.zeros((5, 2), "float32"))
        inputs.append(batches.batch(8, drop_remainder=True))  # cardinality 0
        inputs.append(batches.filter(lambda x: False).batch(8))  # empty, cardinality unknown
    return inputs


@pytest.mark.parametrize("data", empty_inputs(), ids=lambda d: type(d).__name__)
def test_empty_data_is_refused(tiny_gan, data):
    gan = tiny_gan()
    gan.compile("wgan-gp")
    with pytest.raises(DataError, match="yielded no batch"):
        gan.fit(data, verbose=0)


def test_generator_that_does_not_fit_the_critic_names_both():
    generator = kwgan.architectures.toy_generator(dim=8)
    critic = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)], name="three_d_critic")
    with pytest.raises(
        ConfigError,
        match=r"generator 'generator' produces \(None, 2\).*"
        r"critic 'three_d_critic' rejects",
    ):
        kwgan.GAN(generator, critic)


def test_every_expected_error_is_a_builtin_too():
    """Library users keep catching ValueError / FileNotFoundError / ImportError."""
    assert issubclass(ConfigError, ValueError) and issubclass(DataError, ValueError)
    assert issubclass(kwgan.errors.DataNotFoundError, FileNotFoundError)
    assert issubclass(kwgan.errors.TensorFlowMissingError, ImportError)
    for name in dir(kwgan.errors):
        value = getattr(kwgan.errors, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, KwganError)


# -- command-line scripts: one line on stderr, non-zero exit -----------------------------


@pytest.mark.backend_neutral
def test_toy_cli_refuses_a_nan_penalty_weight(tmp_path):
    line = error_line(
        run_script("experiments/toy.py", "--gp_weight", "nan", "--out", tmp_path / "t")
    )
    assert line == "toy.py: error: gp_weight must be a finite number, got nan."


@pytest.mark.backend_neutral
def test_lsun_cli_refuses_zero_critic_steps(tmp_path):
    line = error_line(
        run_script(
            *"experiments/lsun.py --dataset digits --image_size 16 --dim 4 --arch".split(),
            *"cifar-dcgan --critic_steps 0 --out".split(),
            str(tmp_path / "r"),
        )
    )
    assert line.startswith("lsun.py: error: ") and "critic_steps" in line


@pytest.mark.backend_neutral
@pytest.mark.skipif(not HAS_TF, reason="tensorflow-datasets sources need TensorFlow")
def test_lsun_cli_without_lsun_on_disk_says_how_to_get_it(tmp_path):
    line = error_line(
        run_script("experiments/lsun.py", "--data_dir", tmp_path / "tfds", "--out", tmp_path / "r")
    )
    assert line.startswith("lsun.py: error: Image dataset 'lsun/bedroom' is not prepared")
    assert "--download" in line and str(tmp_path / "tfds") in line
