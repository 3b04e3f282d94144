"""kwgan trains with only Keras, NumPy, h5py, absl and the backend installed.

That is what a lent accelerator machine may hold (`benchmarks/device.sh`): SciPy,
scikit-learn, matplotlib and Pillow serve the metrics, plots, sample grids and bundled data,
never the training step, so `import kwgan` must not need them. They are hidden in a
subprocess (`scripts.run_without`), with TensorFlow too on the other backends. JAX itself
depends on SciPy, so on JAX SciPy stays.
"""

import keras

from scripts import OPTIONAL, TENSORFLOW, run_without

SCRIPT = """
    import keras
    import numpy as np

    import kwgan

    keras.utils.set_random_seed(0)
    generator, critic = kwgan.architectures.build(
        "cifar-dcgan", image_size=8, channels=1, latent_dim=8, dim=4
    )
    gan = kwgan.GAN(generator, critic, seed=0)
    gan.compile("wgan-gp", critic_steps=2)
    images = np.random.default_rng(0).uniform(-1, 1, (4 * 8, 8, 8, 1)).astype("float32")
    gan.fit(images, batch_size=8, verbose=0)
    assert int(keras.ops.convert_to_numpy(gan.generator_iterations)) == 2
    assert gan.generate(np.zeros((3, 8), "float32")).shape == (3, 8, 8, 1)
    assert not {name.partition(".")[0] for name in sys.modules} & set(HIDDEN)
    print("OK")
    """


def _hidden() -> tuple[str, ...]:
    """Every optional package, and TensorFlow where the backend is not TensorFlow."""
    backend = keras.backend.backend()
    hidden = OPTIONAL if backend == "tensorflow" else OPTIONAL + TENSORFLOW
    return tuple(name for name in hidden if not (backend == "jax" and name == "scipy"))


def test_train_with_minimal_install(tmp_path):
    proc = run_without(_hidden(), SCRIPT, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert proc.stdout.splitlines()[-1] == "OK"
