"""compare_gan's InfoGAN pair (`infogan`) and lsun.py's --fid_samples / --fid_every.

The end-to-end run (in this process, through `kwgan.experiment.run`) writes its own tiny
Fashion-MNIST idx files and needs the FID Inception weights (`make setup`); it skips with
the download command otherwise.
"""

import importlib.util
import json

import keras
import numpy as np
import pytest

import kwgan
import kwgan.score
from conftest import write_idx_dataset
from kwgan.errors import DataError
from kwgan.experiment import ImageConfig, images
from kwgan.metrics import evaluators, inception


def trainable_count(model: keras.Model) -> int:
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


# Hand count at 28×28×1, latent 64, dim 64 (BN counted as γ + β):
#   critic: conv1 4·4·1·64 + 64 = 1,088; conv2 4·4·64·128 + 128 = 131,200; BN 2·128 = 256;
#     fc3 (7·7·128 = 6,272)·1,024 + 1,024 = 6,423,552; BN 2·1,024 = 2,048; score 1,024 + 1
#     = 1,025. Total 6,559,169 with batch norm, 6,556,865 without (wgan-gp).
#   generator: fc1 64·1,024 + 1,024 = 66,560; BN 2,048; fc2 1,024·6,272 + 6,272 = 6,428,800;
#     BN 2·6,272 = 12,544; deconv3 4·4·128·64 + 64 = 131,136; BN 128; deconv4 4·4·64·1 + 1
#     = 1,025. Total 6,642,241.
@pytest.mark.parametrize("objective, critic_params", [("wgan-gp", 6_556_865), ("dcgan", 6_559_169)])
def test_infogan_parameter_counts(objective, critic_params):
    with keras.StatelessScope(initialize_variables=False):
        generator, critic = kwgan.architectures.build("infogan", objective=objective)
        assert generator.input_shape == (None, 64)
        assert generator.output_shape == critic.input_shape == (None, 28, 28, 1)
        assert trainable_count(generator) == 6_642_241
        assert trainable_count(critic) == critic_params
    keras.utils.clear_session(free_memory=False)


def test_infogan_refuses_other_sizes():
    with pytest.raises(ValueError, match="image_size 28"):
        kwgan.architectures.build("infogan", image_size=64)


@pytest.mark.parametrize("objective", ["wgan-gp", "dcgan"])
def test_infogan_trains(objective):
    keras.utils.set_random_seed(0)
    generator, critic = kwgan.architectures.build("infogan", objective=objective, dim=4)
    gan = kwgan.GAN(generator, critic, seed=0)
    gan.compile(objective, critic_steps=1)
    real = np.random.default_rng(0).uniform(-1, 1, size=(8, 28, 28, 1)).astype("float32")
    gan.fit(real, batch_size=4, epochs=1, verbose=0)
    assert int(keras.ops.convert_to_numpy(gan.generator_iterations)) == 2
    samples = gan.generate(np.zeros((2, 64), "float32"))
    assert samples.shape == (2, 28, 28, 1) and np.isfinite(samples).all()


HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None

# As many samples as test images: each Inception pass then has one batch shape, which JAX and
# TensorFlow compile once. Few of either: the 299×299 Inception costs ~6 GFLOPs per image.
FID_SAMPLES = 10


def fid_run(data_dir, out, fid_samples: int, dataset: str = "fashion_mnist") -> ImageConfig:
    """lsun.py's FID settings on compare_gan's InfoGAN pair, at test size."""
    return ImageConfig(
        dataset=dataset,
        data_dir=str(data_dir),
        arch="infogan",
        image_size=28,
        dim=4,
        steps=2,
        batch_size=8,
        num_samples=8,
        fid_samples=fid_samples,
        fid_every=1,
        out=str(out),
        export=None,
    )


@pytest.fixture
def inception_passes(monkeypatch) -> list[int]:
    """The sample count of each Inception pass over generated samples, as they happen."""
    passes = []
    score_samples = evaluators.FrechetInception.score_samples
    monkeypatch.setattr(
        evaluators.FrechetInception,
        "score_samples",
        lambda self, samples: passes.append(len(samples)) or score_samples(self, samples),
    )
    return passes


# The plumbing of fid_samples / fid_every (evaluations, recorded sizes, the statistics'
# cache); the Inception network itself is checked on every backend by test_fid.py.
@pytest.mark.backend_neutral
def test_lsun_fid_samples(tmp_path, fid_cache, inception_passes):
    cache = fid_cache
    data = tmp_path / "idx"
    write_idx_dataset(data, test_images=FID_SAMPLES)
    out = tmp_path / "run"
    # 10 against 10 images: far too few for FID's 2048 features, and said so.
    # With a generator average (β 0.5 from the first iteration, so it is not the weights) and
    # the comparison of the ways to sample it.
    export = tmp_path / "export" if HAS_TENSORFLOW else None  # the SavedModel needs it
    config = fid_run(data, out, FID_SAMPLES).replace(
        ema_decay=0.5, ema_start=0, compare_sampling=True, export=export and str(export)
    )
    with pytest.warns(UserWarning, match=f"FID of {FID_SAMPLES} against {FID_SAMPLES} samples"):
        kwgan.experiment.run(config)
    # Iterations 1 and 2, then the four other ways to sample; the final score is the
    # evaluation at iteration 2, not a third pass over the same noise.
    assert inception_passes == [FID_SAMPLES] * (2 + len(images.SAMPLING) - 1)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["fid"]["fid_samples"] == FID_SAMPLES
    assert metrics["fid"]["real_images"] == FID_SAMPLES  # both set sizes beside the number
    assert np.isfinite(metrics["fid"]["fid"])
    assert len(metrics["fid"]["kid"]) == 2 and np.isfinite(metrics["fid"]["kid"]).all()
    assert [e["iteration"] for e in metrics["fid_evaluations"]] == [1, 2]
    last = {k: v for k, v in metrics["fid_evaluations"][-1].items() if k != "iteration"}
    assert last == metrics["fid"]  # the final score is the last evaluation's
    assert metrics["fid_evaluations"][-1]["real_images"] == FID_SAMPLES
    # Fidelity and diversity apart, in the same features of the same samples.
    for name in ("precision", "recall", "density", "coverage"):
        top = FID_SAMPLES / 5 if name == "density" else 1  # density: at most N real balls / k
        assert 0 <= metrics["fid"][name] <= top
        assert metrics["fid_evaluations"][-1][name] == metrics["fid"][name]
    # Every way to sample, from the same noise against the same real set: the default
    # (the average, its averaged statistics) is the headline number; the raw generator is not.
    sampling = metrics["sampling"]
    assert set(sampling) == set(images.SAMPLING)
    assert sampling["averaged, averaged statistics"] == metrics["fid"]
    assert sampling["raw, moving statistics"]["fid"] != metrics["fid"]["fid"]
    assert metrics["fid_raw"] == sampling["raw, moving statistics"]  # beside the headline
    # An export of this run would carry the averaged generator's numbers.
    exported = images.export_metadata(config, metrics)["fid"]
    assert exported == {k: metrics["fid"][k] for k in ("fid", "kid", "fid_samples", "real_images")}
    assert len({round(m["fid"], 6) for m in sampling.values()}) == len(sampling)
    # The export scored from the SavedModel alone (kwgan.score), as many samples as its
    # kwgan.json claims a FID for, against the same test split; its claim beside the numbers.
    if export:
        scores = kwgan.score.score(export, data_dir=str(data))
        assert scores["claimed"] == exported == kwgan.export.load_metadata(export)["fid"]
        assert (scores["fid_samples"], scores["real_images"]) == (FID_SAMPLES, FID_SAMPLES)
        assert np.isfinite(scores["fid"]) and np.isfinite(scores["kid"]).all()
        assert f"kwgan.json claims FID {exported['fid']:.2f}" in kwgan.score.summary(scores)
    assert list((cache / "kwgan").glob("fid_stats_fashion_mnist_test_28_*.npz"))
    # The run records both splits it read: the test split is part of the result.
    record = json.loads((out / "run.json").read_text())
    assert record["data"]["test"]["examples"] == FID_SAMPLES


@pytest.mark.backend_neutral
def test_a_curve_of_fewer_samples_than_the_final_score(tmp_path, fid_cache, inception_passes):
    """fid_every_samples: the evaluations during training score 6 samples, the final score
    10, in a pass of its own (the last evaluation is not reused across sample counts)."""
    data, out = tmp_path / "idx", tmp_path / "run"
    write_idx_dataset(data, test_images=FID_SAMPLES)
    config = fid_run(data, out, FID_SAMPLES).replace(fid_every_samples=6)
    with pytest.warns(UserWarning, match="FID of 6 against 10 samples"):
        metrics = kwgan.experiment.run(config)
    assert inception_passes == [6, 6, FID_SAMPLES]
    assert [e["fid_samples"] for e in metrics["fid_evaluations"]] == [6, 6]
    assert metrics["fid"]["fid_samples"] == FID_SAMPLES


@pytest.mark.backend_neutral
def test_fid_against_fewer_real_images_is_refused_before_training(tmp_path, monkeypatch):
    """50 samples against a 20-image test split: refused in one line before anything is
    trained or written. (The FID weights, checked first, are stubbed: the data is the point.)"""
    monkeypatch.setattr(inception, "load_weights", lambda weights_path=None: {})
    data = tmp_path / "idx"
    write_idx_dataset(data, test_images=20)
    out = tmp_path / "run"
    with pytest.raises(DataError) as error:
        kwgan.experiment.run(fid_run(data, out, fid_samples=50, dataset="mnist"))
    assert str(error.value) == (
        f"FID of 50 samples needs at least as many real images, but the test split of "
        f"'mnist' in {data} has 20; pass fid_samples <= 20, or a test split with at least "
        "50 images."
    )
    assert not out.exists()
    # The curve's sample count too, under its own name.
    config = fid_run(data, out, fid_samples=20, dataset="mnist").replace(fid_every_samples=50)
    with pytest.raises(DataError, match="pass fid_every_samples <= 20,"):
        kwgan.experiment.run(config)
    assert not out.exists()
