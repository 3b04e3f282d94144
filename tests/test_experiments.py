"""The experiments end to end, at toy size, on this backend: each config run in this process
through `kwgan.experiment.run`, which is what the scripts call (`tests/test_cli.py` checks the
flags-to-config mapping and the scripts' own start-up; `tests/test_resume.py` kills them).
The image experiments' TensorFlow parts (tf.data pipelines, the LSUN mock, the SavedModel
export) are skipped where TensorFlow is not installed.
"""

import contextlib
import functools
import importlib.util
import io
import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import kwgan
from conftest import to_numpy
from kwgan.experiment import ImageConfig, ToyConfig, presets

HAS_TF = importlib.util.find_spec("tensorflow") is not None


def read_json(path) -> dict:
    return json.loads(Path(path).read_text())


def assert_png(path, mode=None) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG", path
        if mode:
            assert image.mode == mode
        return np.asarray(image)


# -- experiments/toy.py ------------------------------------------------------------------


def test_toy_wgan_gp(tmp_path):
    out = tmp_path / "toy"
    config = ToyConfig(
        dataset="8gaussians", steps=6, eval_every=3, eval_samples=200, dim=16, batch_size=32
    )
    kwgan.experiment.run(config.replace(out=str(out)))

    samples = np.load(out / "samples.npy")
    assert samples.dtype == np.float32 and samples.shape == (200, 2)  # eval_samples points
    assert np.isfinite(samples).all()

    metrics = read_json(out / "metrics.json")
    assert metrics["backend"] == keras.backend.backend()
    assert metrics["config"]["steps"] == 6 and metrics["config"]["objective"] == "wgan-gp"
    evaluations = metrics["evaluations"]
    assert [e["iteration"] for e in evaluations] == [3, 6]
    for e in evaluations:
        assert set(e) == {"iteration", "w1", "modes_covered", "high_quality_fraction"}
        assert e["w1"] > 0 and 0 <= e["modes_covered"] <= 8
        assert 0 <= e["high_quality_fraction"] <= 1
    floor = kwgan.metrics.w1_floor(functools.partial(kwgan.data.sample, "8gaussians"), 200)
    assert metrics["w1_floor"] == pytest.approx(floor)
    final = metrics["final"]
    assert final == {
        **evaluations[-1],
        "w1_over_floor": pytest.approx(evaluations[-1]["w1"] / floor),
    }
    # Only two evaluations pair up with the W estimate: too few for a rank correlation.
    assert "spearman_w_estimate_vs_w1" in metrics
    assert metrics["spearman_w_estimate_vs_w1"] is None
    logs = metrics["logs"]
    assert logs["iterations"] == [1, 2, 3, 4, 5, 6]
    assert {k: len(v) for k, v in logs.items()} == dict.fromkeys(
        ["iterations", "d_loss", "g_loss", "w_estimate", "gp"], 6
    )
    assert metrics["generator_iterations"] == 6
    assert metrics["seconds_per_generator_iteration"] == pytest.approx(metrics["seconds"] / 6)
    # Each evaluation was also logged as it happened.
    lines = (out / "evaluations.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == evaluations
    assert_png(out / "critic_surface.png")
    assert_png(out / "w_estimate.png")


def test_toy_fixed_generator_wgan(tmp_path):
    """Fig. 1a: the critic trains alone, so the generator's samples are known exactly."""
    out = tmp_path / "fixed"
    config = ToyConfig(
        fixed_generator=True,
        objective="wgan",
        steps=4,
        critic_steps=2,
        warmup=False,
        eval_every=2,
        eval_samples=100,
        dim=8,
        batch_size=16,
        out=str(out),
    )
    kwgan.experiment.run(config)

    bank = kwgan.data.sample("8gaussians", 100_000, seed=7)  # what toy.py gives the generator
    generator = kwgan.architectures.fixed_generator(bank)

    # samples.npy: generator(noise of seed 3), i.e. a bank point plus the first two noise entries.
    noise = np.random.default_rng(3).normal(size=(100, 3)).astype("float32")
    samples = np.load(out / "samples.npy")
    assert samples.dtype == np.float32 and samples.shape == (100, 2)
    np.testing.assert_allclose(samples, to_numpy(generator.predict(noise, verbose=0)), atol=1e-6)
    points = samples - noise[:, :2]
    nearest = ((points[:, None, :] - bank[None, :, :]) ** 2).sum(-1).min(1)
    assert nearest.max() < 1e-10

    metrics = read_json(out / "metrics.json")
    # Exact W1 of the untouched generator on the evaluation noise (seed 2) vs the target (seed 1).
    eval_noise = np.random.default_rng(2).normal(size=(100, 3)).astype("float32")
    expected = kwgan.metrics.exact_w1(
        to_numpy(generator.predict(eval_noise, verbose=0)),
        kwgan.data.sample("8gaussians", 100, seed=1),
    )
    assert [e["iteration"] for e in metrics["evaluations"]] == [2, 4]
    assert [e["w1"] for e in metrics["evaluations"]] == pytest.approx(
        [expected, expected], rel=1e-6
    )
    logs = metrics["logs"]
    assert logs["iterations"] == [1, 2, 3, 4]
    assert set(logs) == {"iterations", "d_loss", "g_loss", "w_estimate"}  # no penalty under wgan
    assert logs["g_loss"] == [0.0] * 4  # no generator to train
    assert_png(out / "critic_surface.png")
    assert_png(out / "w_estimate.png")


# -- experiments/digits.py (and lsun.py's resume) -------------------------------------------


def tiny_digits(out, **overrides) -> ImageConfig:
    """The digits preset (`experiments/digits.py`) at test size."""
    settings = dict(generator_dim=8, critic_dim=8, batch_size=16, num_samples=20, export=None)
    return presets.digits(**{**settings, **overrides, "out": str(out)})


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """The digits preset trained to 1 generator iteration, then continued to 2 (kills and
    resumes are tests/test_resume.py's); (directory, what the second run printed, gan)."""
    out = tmp_path_factory.mktemp("digits")
    config = tiny_digits(out, sample_every=1, lr=2e-4, checkpoint_every=1, eval_every=1)
    kwgan.experiment.run(config.replace(steps=1))
    export = str(out / "saved") if HAS_TF else None
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        kwgan.experiment.run(config.replace(steps=2, export=export))
    return out, printed.getvalue(), keras.saving.load_model(out / "gan.keras")


def test_digits_continues_a_finished_run(digits_run):
    out, _, gan = digits_run
    metrics = read_json(out / "metrics.json")
    assert metrics["generator_iterations"] == 2
    # The whole history, from both invocations.
    assert metrics["logs"]["iterations"] == [1, 2]
    assert [e["iteration"] for e in metrics["evaluations"]] == [1, 2]
    # The last checkpoint stays, so a larger --steps can continue again.
    assert [c.split(".")[0] for c in os.listdir(out / "checkpoints")] == ["ckpt-000000004"]
    assert read_json(out / "run.json")["complete"] is True
    assert int(to_numpy(gan.generator_iterations)) == 2
    # digits.py's n_critic is 2: 2 critic iterations in each invocation.
    assert int(to_numpy(gan.critic_optimizer.iterations)) == 4
    assert int(to_numpy(gan.generator_optimizer.iterations)) == 2


def test_digits_outputs(digits_run):
    out, resumed, gan = digits_run
    assert "2 generator iterations" in resumed

    samples = np.load(out / "samples.npy")
    assert samples.dtype == np.float32 and samples.shape == (20, 32, 32, 1)
    assert samples.min() >= -1 and samples.max() <= 1
    noise = np.random.default_rng(1).normal(size=(20, gan.latent_dim)).astype("float32")
    np.testing.assert_allclose(
        samples, to_numpy(gan.generator.predict(noise, verbose=0)), atol=1e-5
    )

    metrics = read_json(out / "metrics.json")
    assert metrics["config"]["dataset"] == "digits" and metrics["config"]["arch"] == "cifar-dcgan"
    digits = metrics["digits"]
    assert digits["n"] == 20
    assert {"score", "fd", "real_score", "real_fd", "noise_score", "noise_fd"} <= set(digits)
    assert 1 <= digits["score"] <= 10 and 1 <= digits["real_score"] <= 10
    assert 1 <= metrics["evaluations"][-1]["score"] <= 10 and metrics["evaluations"][-1]["fd"] > 0
    assert metrics["config"]["lr"] == 2e-4
    assert float(to_numpy(gan.generator_optimizer.learning_rate)) == pytest.approx(2e-4)
    assert float(to_numpy(gan.critic_optimizer.learning_rate)) == pytest.approx(
        4e-4
    )  # --critic_lr default
    assert metrics["parameters"] == {
        "generator": gan.generator.count_params(),
        "critic": gan.critic.count_params(),
    }

    # SampleGrid's default 64 images (not --num_samples) in an 8×8 grid of 32×32, ×2.
    grids = sorted(f for f in os.listdir(out) if f.startswith("samples_"))
    assert grids == ["samples_0000001.png", "samples_0000002.png"]
    side = (8 * 33 + 1) * 2
    assert assert_png(out / "samples.png", mode="L").shape == (side, side)
    assert_png(out / "w_estimate.png")


def test_digits_other_objectives_keep_their_papers_learning_rate(tmp_path):
    """digits.py's 2e-4 is WGAN-GP's; LSGAN keeps RMSProp 1e-4, the critic's learning
    rate decays linearly to 0 over the run with --lr_decay."""
    out = tmp_path / "lsgan"
    kwgan.experiment.run(tiny_digits(out, objective="lsgan", steps=2, lr_decay=True))
    assert read_json(out / "metrics.json")["config"]["lr"] is None
    gan = keras.saving.load_model(out / "gan.keras")
    schedule = gan.critic_optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.PolynomialDecay)
    assert schedule.initial_learning_rate == pytest.approx(1e-4) and schedule.decay_steps == 2
    assert float(to_numpy(gan.critic_optimizer.learning_rate)) == pytest.approx(0.0)


@pytest.mark.skipif(not HAS_TF, reason="the SavedModel export needs TensorFlow")
def test_digits_export(digits_run):
    out = digits_run[0]
    saved = out / "saved"
    assert (saved / "saved_model.pb").exists()
    metadata = kwgan.export.load_metadata(saved)
    assert metadata == read_json(saved / "kwgan.json")
    assert metadata["latent_dim"] == 128 and list(metadata["output_shape"]) == [32, 32, 1]
    assert metadata["generator_iterations"] == 2
    assert metadata["dataset"] == "digits" and metadata["objective"] == "wgan-gp"
    assert metadata["recipe"] == read_json(out / "metrics.json")["config"]  # what shaped it
    assert "fid" not in metadata  # not scored by FID


@pytest.mark.skipif(not HAS_TF, reason="the SavedModel export needs TensorFlow")
def test_export_of_a_finished_run_without_its_saved_gan_is_refused(digits_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(digits_run[0], out)
    (out / "gan.keras").unlink()
    config = tiny_digits(out, sample_every=1, lr=2e-4, checkpoint_every=1, eval_every=1)
    with pytest.raises(kwgan.errors.ResumeError, match="without its gan.keras"):
        kwgan.experiment.run(config.replace(steps=2, export=str(tmp_path / "later")))
    assert not (tmp_path / "later").exists()


@pytest.mark.skipif(not HAS_TF, reason="the SavedModel export needs TensorFlow")
def test_a_finished_run_exports_its_saved_gan_without_training(digits_run, tmp_path):
    out = digits_run[0]
    config = tiny_digits(out, sample_every=1, lr=2e-4, checkpoint_every=1, eval_every=1)
    before = (out / "metrics.json").read_bytes()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        kwgan.experiment.run(config.replace(steps=2, export=str(tmp_path / "later")))
    assert "already holds this finished run" in printed.getvalue()
    assert (out / "metrics.json").read_bytes() == before  # nothing trained or rewritten
    # The same generator and the same metadata as the export written when it trained.
    assert kwgan.export.load_metadata(tmp_path / "later") == kwgan.export.load_metadata(
        out / "saved"
    )
    noise = np.random.default_rng(0).standard_normal((3, 128)).astype("float32")
    models = [kwgan.export.load_saved_model(path) for path in (out / "saved", tmp_path / "later")]
    images = [np.asarray(model.serve(noise)) for model in models]  # each model kept alive
    np.testing.assert_allclose(images[0], images[1], atol=1e-6)


# -- experiments/lsun.py on tensorflow-datasets mock data ----------------------------------


def run_on_mock_data(config: ImageConfig) -> None:
    """`kwgan.experiment.run(config)` with tensorflow-datasets' mock data in place of its
    datasets (`tfds.testing.mock_data`: random examples of each dataset's features)."""
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=64):
        kwgan.experiment.run(config)


@pytest.mark.skipif(
    not HAS_TF or importlib.util.find_spec("tensorflow_datasets") is None,
    reason="LSUN is read through tensorflow-datasets",
)
def test_lsun_on_mock_data(tmp_path):
    out = tmp_path / "lsun"
    run_on_mock_data(
        ImageConfig(
            dataset="lsun/bedroom",
            arch="dcgan",
            image_size=16,
            dim=8,
            steps=1,
            batch_size=8,
            num_samples=10,
            sample_every=1,
            out=str(out),
        )
    )

    samples = np.load(out / "samples.npy")
    assert samples.dtype == np.float32 and samples.shape == (10, 16, 16, 3)
    assert samples.min() >= -1 and samples.max() <= 1
    metrics = read_json(out / "metrics.json")
    assert metrics["generator_iterations"] == 1
    assert metrics["config"]["dataset"] == "lsun/bedroom" and metrics["config"]["image_size"] == 16
    assert "digits" not in metrics  # the classifier scores exist for the digits only
    assert metrics["logs"]["iterations"] == [1]
    side = (8 * 17 + 1) * 2  # 64 RGB samples of 16×16, ×2
    assert assert_png(out / "samples.png", mode="RGB").shape == (side, side, 3)
    assert (out / "samples_0000001.png").exists() and (out / "w_estimate.png").exists()
    gan = keras.saving.load_model(out / "gan.keras")
    assert gan.data_shape == (16, 16, 3) and int(to_numpy(gan.generator_iterations)) == 1


@pytest.mark.skipif(
    not HAS_TF or importlib.util.find_spec("tensorflow_datasets") is None,
    reason="MNIST is read through tensorflow-datasets",
)
def test_conditional_acgan_on_mock_mnist(tmp_path):
    out = tmp_path / "mnist"
    run_on_mock_data(
        ImageConfig(
            dataset="mnist",
            arch="cifar-resnet",
            conditional=True,
            image_size=16,
            dim=8,
            steps=1,
            critic_steps=1,
            batch_size=8,
            num_samples=10,
            sample_every=1,
            out=str(out),
            export=str(out / "saved"),
        )
    )
    metrics = read_json(out / "metrics.json")
    assert metrics["config"]["conditional"] is True and metrics["generator_iterations"] == 1
    assert np.load(out / "samples.npy").shape == (10, 16, 16, 1)
    gan = keras.saving.load_model(out / "gan.keras")
    assert (gan.conditional, gan.acgan, gan.num_classes) == (True, True, 10)
    # SampleGrid: 64 rounded up to 70 images, one column per class.
    assert assert_png(out / "samples.png", mode="L").shape == ((7 * 17 + 1) * 2, (10 * 17 + 1) * 2)
    info = kwgan.export.load_metadata(out / "saved")
    assert info["conditional"] is True and info["num_classes"] == 10


def test_conditional_digits_scores_label_accuracy(tmp_path):
    """A conditional digits run scores how often samples show their requested class, mid-run
    (1000 samples) and at the end (--num_samples of them), whatever --num_samples is."""
    out = tmp_path / "acgan"
    config = tiny_digits(
        out, arch="cifar-resnet", image_size=16, conditional=True, steps=1, eval_every=1
    )
    kwgan.experiment.run(config)
    metrics = read_json(out / "metrics.json")
    assert metrics["config"]["conditional"] is True
    assert 0 <= metrics["evaluations"][0]["label_accuracy"] <= 1
    assert metrics["digits"]["n"] == 20 and 0 <= metrics["digits"]["label_accuracy"] <= 1
