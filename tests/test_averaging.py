"""The generator's weight average (`kwgan.GeneratorAverage`), on every backend.

Its values are checked against an exponential moving average computed in NumPy from the
generator's variables recorded after each generator iteration — batch-norm statistics
included, with several critic iterations per generator iteration, so that an update per
critic iteration (or one missed inside JAX's jitted state) would show — and then that it
survives what the training state survives (a `.keras` file, a checkpoint resume, a refused
batch), and that sampling, the sample grid and the export use it by default.
"""

import importlib.util

import keras
import numpy as np
import pytest

import kwgan
from conftest import to_numpy
from kwgan.averaging import GeneratorAverage, averaged_variables
from kwgan.errors import ConfigError, DataError

BATCH = 16
# No gradient penalty: its double backward would triple the step's compile time on JAX,
# and averaging happens after the generator's update, whatever the objective.
OBJECTIVE = "wgan"


def batch_norm_generator() -> keras.Model:
    """z [B, 2] → [B, 2] through batch norm, whose moving statistics (non-trainable) every
    training-mode call moves, so the average covers both kinds of variable."""
    layers = keras.layers
    return keras.Sequential(
        [keras.Input((2,)), layers.Dense(8), layers.BatchNormalization(momentum=0.5)]
        + [layers.ReLU(), layers.Dense(2)],
        name="generator",
    )


def averaging_gan(average, seed: int = 0) -> kwgan.GAN:
    keras.utils.set_random_seed(seed)
    gan = kwgan.GAN(
        batch_norm_generator(), kwgan.architectures.toy_critic(dim=16), seed=seed, average=average
    )
    # A generator learning rate large enough that its weights visibly move in a few steps.
    gan.compile(
        OBJECTIVE,
        critic_steps=2,
        warmup=False,
        generator_optimizer=keras.optimizers.RMSprop(0.01),
    )
    return gan


def data(steps: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(steps * BATCH, 2)).astype("float32")


def values(variables) -> list[np.ndarray]:
    return [to_numpy(v) for v in variables]


Z = np.random.default_rng(1).normal(size=(5, 2)).astype("float32")


class Record(keras.callbacks.Callback):
    """After each generator iteration, the averaged generator variables' values and the
    average's; samples of the average after generator iteration 4 (sampling mid-fit, as
    `SampleGrid` does); a checkpoint after fit step `checkpoint_at` in `directory`."""

    def __init__(self, directory, checkpoint_at: int):
        super().__init__()
        self.iterations, self.weights, self.averages = [], [], []
        self.directory, self.checkpoint_at = directory, checkpoint_at

    def on_train_batch_end(self, batch, logs=None):
        iteration = int(logs["generator_iterations"])
        if iteration > (self.iterations[-1] if self.iterations else 0):
            self.iterations.append(iteration)
            self.weights.append(values(averaged_variables(self.model.generator)))
            self.averages.append(values(self.model.average_variables))
            if iteration == 4:
                self.samples = self.model.generate(Z)
        if batch + 1 == self.checkpoint_at:
            kwgan.checkpoint.save(self.directory, self.model)


def numpy_averages(initial, recorded, decay: float, start: int) -> list[list[np.ndarray]]:
    """BigGAN's `ema.update` in float32, a ← w + β (a − w) with β = 0 up to `start`: the
    average after each generator iteration."""
    average, averages = [np.asarray(a, "float32") for a in initial], []
    for t, weights in enumerate(recorded, start=1):
        beta = np.float32(0.0 if t <= start else decay)
        average = [w + beta * (a - w) for a, w in zip(average, weights, strict=True)]
        averages.append(average)
    return averages


AVERAGE = GeneratorAverage(decay=0.5, start=2)
STEPS = 12  # 6 generator iterations at 2 critic iterations each


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(GAN averaging at β = 0.5 from generator iteration 3, its generator's variables at
    the start, the recorder: weights after each generator iteration and the checkpoint
    directory of fit step 6), after 12 fit steps."""
    gan = averaging_gan(AVERAGE)
    initial = values(averaged_variables(gan.generator))
    np.testing.assert_array_equal(
        np.concatenate([a.ravel() for a in initial]),
        np.concatenate([a.ravel() for a in values(gan.average_variables)]),
    )
    record = Record(tmp_path_factory.mktemp("checkpoint"), checkpoint_at=STEPS // 2)
    gan.fit(data(STEPS), batch_size=BATCH, shuffle=False, verbose=0, callbacks=[record])
    return gan, initial, record


def test_average_is_updated_once_per_generator_iteration_from_its_start(trained):
    """The average copies the weights through generator iteration 2, then averages at
    β = 0.5 — trainable weights and batch-norm moving statistics alike, in float32 — once
    per generator iteration, not per critic iteration. Sampling it mid-fit (on JAX, from
    the state synced out of the jitted step) neither loses nor stales it."""
    gan, initial, record = trained
    assert len(initial) == len(gan.generator.variables) == 8  # 2 BN statistics among them
    assert len(gan.average_variables) == 8
    assert all(v.dtype == "float32" and not v.trainable for v in gan.average_variables)
    assert record.iterations == [1, 2, 3, 4, 5, 6]
    expected = numpy_averages(initial, record.weights, AVERAGE.decay, AVERAGE.start)
    for got, want in zip(
        [*record.averages, values(gan.average_variables)], [*expected, expected[-1]], strict=True
    ):
        for average, value in zip(got, want, strict=True):
            np.testing.assert_allclose(average, value, rtol=1e-6, atol=1e-7)
    at_4 = keras.models.clone_model(gan.generator)
    at_4.set_weights(expected[3])
    np.testing.assert_allclose(record.samples, to_numpy(at_4(Z, training=False)), atol=1e-6)
    # Averaged, not the last weights: the generator moved after the start.
    gap = [
        np.abs(a - w).max()
        for a, w in zip(values(gan.average_variables), record.weights[-1], strict=True)
    ]
    assert max(gap) > 1e-3


def test_decay_schedule_start_and_ramp_up():
    """β_t: 0 up to the start, then the decay; with StyleGAN2-ADA's ramp-up the half-life
    is at most ramp_up × t iterations, so β_t = min(decay, 0.5^(1 / (ramp_up t)))."""
    average = GeneratorAverage(decay=0.999, start=3)
    got = [float(to_numpy(average.decay_at(t))) for t in (1, 3, 4, 100)]
    np.testing.assert_allclose(got, [0.0, 0.0, 0.999, 0.999], rtol=1e-6)
    ramped = GeneratorAverage(decay=0.999, start=0, ramp_up=0.05)
    t = np.array([1, 20, 200, 20_000], "int32")
    np.testing.assert_allclose(
        to_numpy(ramped.decay_at(t)), np.minimum(0.999, 0.5 ** (1 / (0.05 * t))), rtol=1e-6
    )
    assert average.half_life == pytest.approx(692.8, abs=0.1)
    # Weights in any float dtype (bfloat16 under a bfloat16 policy) average in float32.
    weights = [keras.ops.convert_to_tensor(np.array([1.0, 2.0]), "bfloat16")]
    (new,) = average.updated([keras.ops.zeros((2,), "float32")], weights, 10)
    assert keras.backend.standardize_dtype(new.dtype) == "float32"
    np.testing.assert_allclose(to_numpy(new), [0.001, 0.002], rtol=1e-3)


def test_refused_batch_leaves_the_average_unchanged():
    """A NaN batch due a generator iteration (the fourth critic iteration) updates nothing,
    the average included."""
    gan = averaging_gan(AVERAGE)
    clean = data(4)
    gan.fit(clean[: 3 * BATCH], batch_size=BATCH, shuffle=False, verbose=0)
    before = values(gan.average_variables)
    bad = clean[3 * BATCH :].copy()
    bad[3, 1] = np.nan
    with pytest.raises(DataError, match="generator iteration 2 holds 1 NaN or infinite"):
        gan.fit(bad, batch_size=BATCH, verbose=0)
    for was, now in zip(before, values(gan.average_variables), strict=True):
        np.testing.assert_array_equal(now, was)
    assert int(to_numpy(gan.generator_iterations)) == 1


def test_generate_and_sample_grid_use_the_average_by_default(trained):
    gan, z = trained[0], Z
    raw = gan.generate(z, averaged=False)
    np.testing.assert_allclose(raw, to_numpy(gan.generator(z, training=False)), atol=1e-6)
    copy = gan.averaged_generator()
    assert copy is not gan.generator
    for copied, average in zip(values(copy.variables), values(gan.average_variables), strict=True):
        np.testing.assert_array_equal(copied, average)
    averaged = gan.generate(z)
    np.testing.assert_allclose(averaged, to_numpy(copy(z, training=False)), atol=1e-6)
    np.testing.assert_array_equal(gan.generate(z, averaged=True), averaged)
    assert np.abs(averaged - raw).max() > 1e-4
    # SampleGrid (like the FID/KID evaluators) samples through `generate`.
    grid, saved = kwgan.callbacks.SampleGrid("unused", n=4), []
    grid._save = lambda images, iteration: saved.append(images)
    grid.set_model(gan)
    grid.on_train_begin()
    grid.write(6)
    np.testing.assert_array_equal(saved[0], gan.generate(grid.noise))
    # A GAN without an average samples from its generator, and has none to give.
    plain = averaging_gan(None)
    assert plain.average is None and plain.average_variables == []
    np.testing.assert_array_equal(plain.generate(z), plain.generate(z, averaged=False))
    with pytest.raises(ConfigError, match="keeps no generator average"):
        plain.generate(z, averaged=True)


def test_average_survives_keras_file_and_old_files_still_load(trained, tmp_path):
    gan = trained[0]
    gan.save(tmp_path / "gan.keras")
    loaded = keras.saving.load_model(tmp_path / "gan.keras")
    assert loaded.average.get_config() == AVERAGE.get_config()
    for was, now in zip(
        values(gan.average_variables), values(loaded.average_variables), strict=True
    ):
        np.testing.assert_array_equal(now, was)
    z = np.random.default_rng(2).normal(size=(3, 2)).astype("float32")
    np.testing.assert_allclose(loaded.generate(z), gan.generate(z), atol=1e-6)
    # A GAN without an average saves the variables it saved before averaging existed, and
    # weights of the one kind do not load into the other, which says why.
    plain = averaging_gan(None)
    assert len(plain._own_saved_variables()) == 4  # 3 counters and the noise seed
    plain.save_weights(tmp_path / "plain.weights.h5")
    with pytest.raises(ValueError, match="without a generator average"):
        averaging_gan(0.9).load_weights(tmp_path / "plain.weights.h5")
    assert averaging_gan(0.9).average.get_config()["decay"] == 0.9  # a decay is shorthand


def test_checkpoint_resume_averages_as_the_uninterrupted_run(trained):
    """A fresh GAN restored from the checkpoint of fit step 6, trained on the remaining 6
    batches, ends with the uninterrupted run's average."""
    straight, _, record = trained
    resumed = averaging_gan(AVERAGE, seed=1)  # other initial weights, all overwritten
    kwgan.checkpoint.restore(record.directory, resumed)
    assert int(to_numpy(resumed.generator_iterations)) == 3
    resumed.fit(data(STEPS)[STEPS // 2 * BATCH :], batch_size=BATCH, shuffle=False, verbose=0)
    for want, got in zip(
        values(straight.average_variables), values(resumed.average_variables), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_average_is_float32_under_mixed_precision():
    with kwgan.precision.policy("mixed_bfloat16"):
        gan = averaging_gan(GeneratorAverage(decay=0.9, start=10))
    assert gan.generator.layers[0].compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in gan.average_variables)
    assert gan.averaged_generator().layers[0].compute_dtype == "bfloat16"


@pytest.mark.parametrize(
    "kwargs", [{"decay": 1.0}, {"decay": 0}, {"start": -1}, {"start": 1.5}, {"ramp_up": 0}]
)
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ConfigError):
        GeneratorAverage(**kwargs)


def test_image_config_ema_flags_build_the_average():
    from kwgan.experiment.images import ImageConfig, build_gan

    small = ImageConfig(dataset="digits", image_size=16, arch="cifar-dcgan", dim=4)
    assert small.ema_decay is None  # off by default: the experiments train as before
    gan = build_gan(small.replace(ema_decay=0.99, ema_start=5))
    assert (gan.average.decay, gan.average.start) == (0.99, 5)
    with pytest.raises(ConfigError, match="ema_decay"):
        small.replace(ema_decay=1.5).validate()


# What is exported, and what the metadata says, is chosen alike on every backend; how each
# backend writes a SavedModel is test_export.py's (a TensorFlow subprocess on JAX and torch).
@pytest.mark.backend_neutral
@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="export needs TF")
def test_export_holds_the_average_and_says_so(trained, tmp_path):
    gan = trained[0]
    path = tmp_path / "saved"
    kwgan.export.export_generator(gan, path, metadata={"objective": "wgan-gp"})
    info = kwgan.export.load_metadata(path)
    assert info["generator_weights"] == "averaged" and info["objective"] == "wgan-gp"
    assert info["average"] == {"decay": 0.5, "start": 2, "ramp_up": None}
    if keras.backend.backend() == "tensorflow":  # in-process serving needs the TF backend
        import tensorflow as tf

        z = np.random.default_rng(3).normal(size=(4, 2)).astype("float32")
        loaded = tf.saved_model.load(str(path))
        np.testing.assert_allclose(loaded.serve(tf.constant(z)).numpy(), gan.generate(z), atol=1e-5)
    with pytest.raises(ConfigError, match="pass the kwgan.GAN"):
        kwgan.export.export_generator(gan.generator, tmp_path / "raw", averaged=True)
    # The raw generator is one argument away, and named so.
    generator, _, metadata = kwgan.export._from_gan(gan, None, {"a": 1}, averaged=False)
    assert generator is gan.generator and metadata == {"a": 1, "generator_weights": "raw"}
