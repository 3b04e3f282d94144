"""The experiment scripts end to end, at toy size, each in a subprocess on this backend.

Every run is a fresh `python` with `cwd` at the repository root and the current
`KERAS_BACKEND`, exactly as the README runs them. The image scripts' TensorFlow parts
(tf.data pipelines, the LSUN mock, the SavedModel export) are skipped where TensorFlow
is not installed.
"""

import functools
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import kwgan
from conftest import to_numpy

ROOT = Path(__file__).resolve().parents[1]
HAS_TF = importlib.util.find_spec("tensorflow") is not None
pytestmark = pytest.mark.slow


def run(*args: str, code: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """`python ARGS` (or `python -c CODE ARGS`) at the repository root on this backend."""
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend(), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, *(["-c", code] if code else []), *args]
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc


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
    run(
        *"experiments/toy.py --dataset 8gaussians --steps 6 --eval_every 3".split(),
        *"--eval_samples 200 --dim 16 --batch_size 32 --out".split(),
        str(out),
    )

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
    run(
        *"experiments/toy.py --fixed_generator --objective wgan --steps 4".split(),
        *"--critic_steps 2 --nowarmup --eval_every 2 --eval_samples 100 --dim 8".split(),
        *"--batch_size 16 --out".split(),
        str(out),
    )

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


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """digits.py trained to --steps 1, then continued to --steps 2 (kills and resumes are
    tests/test_resume.py's)."""
    out = tmp_path_factory.mktemp("digits")
    flags = [
        *"--generator_dim 8 --critic_dim 8 --batch_size 16 --sample_every 1".split(),
        *"--num_samples 20 --lr 2e-4 --checkpoint_every 1 --eval_every 1 --out".split(),
        str(out),
    ]
    run("experiments/digits.py", "--steps", "1", "--export=", *flags)
    export = ["--export", str(out / "saved")] if HAS_TF else ["--export="]
    resumed = run("experiments/digits.py", "--steps", "2", *export, *flags)
    return out, resumed, keras.saving.load_model(out / "gan.keras")


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
    assert "2 generator iterations" in resumed.stdout

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
    run(
        *"experiments/digits.py --objective lsgan --steps 2 --lr_decay".split(),
        *"--generator_dim 8 --critic_dim 8 --batch_size 16 --num_samples 20 --out".split(),
        str(out),
        "--export=",
    )
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


# -- experiments/lsun.py on tensorflow-datasets mock data ----------------------------------

MOCKED_LSUN = textwrap.dedent(
    """
    import sys
    import tensorflow_datasets as tfds
    from absl import app

    sys.path.insert(0, "experiments")
    import lsun

    sys.argv = ["experiments/lsun.py", *sys.argv[1:]]
    with tfds.testing.mock_data(num_examples=64):
        app.run(lsun.main)
    """
)


@pytest.mark.skipif(
    not HAS_TF or importlib.util.find_spec("tensorflow_datasets") is None,
    reason="LSUN is read through tensorflow-datasets",
)
def test_lsun_on_mock_data(tmp_path):
    out = tmp_path / "lsun"
    run(
        *"--dataset lsun/bedroom --arch dcgan --image_size 16 --dim 8 --steps 1".split(),
        *"--batch_size 8 --num_samples 10 --sample_every 1 --out".split(),
        str(out),
        code=MOCKED_LSUN,
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
    run(
        *"--dataset mnist --arch cifar-resnet --conditional --image_size 32 --dim 8".split(),
        *"--steps 1 --critic_steps 1 --batch_size 8 --num_samples 10 --sample_every".split(),
        *"1 --out".split(),
        str(out),
        "--export",
        str(out / "saved"),
        code=MOCKED_LSUN,
    )
    metrics = read_json(out / "metrics.json")
    assert metrics["config"]["conditional"] is True and metrics["generator_iterations"] == 1
    assert np.load(out / "samples.npy").shape == (10, 32, 32, 1)
    gan = keras.saving.load_model(out / "gan.keras")
    assert (gan.conditional, gan.acgan, gan.num_classes) == (True, True, 10)
    # SampleGrid: 64 rounded up to 70 images, one column per class.
    assert assert_png(out / "samples.png", mode="L").shape == ((7 * 33 + 1) * 2, (10 * 33 + 1) * 2)
    info = kwgan.export.load_metadata(out / "saved")
    assert info["conditional"] is True and info["num_classes"] == 10


def test_conditional_digits_scores_label_accuracy(tmp_path):
    """A conditional digits run scores how often samples show their requested class, mid-run
    (1000 samples) and at the end (--num_samples of them), whatever --num_samples is."""
    out = tmp_path / "acgan"
    run(
        *"experiments/digits.py --arch cifar-resnet --conditional --steps 1".split(),
        *"--eval_every 1 --generator_dim 8 --critic_dim 8 --batch_size 16".split(),
        *"--num_samples 20 --out".split(),
        str(out),
        "--export=",
    )
    metrics = read_json(out / "metrics.json")
    assert metrics["config"]["conditional"] is True
    assert 0 <= metrics["evaluations"][0]["label_accuracy"] <= 1
    assert metrics["digits"]["n"] == 20 and 0 <= metrics["digits"]["label_accuracy"] <= 1
