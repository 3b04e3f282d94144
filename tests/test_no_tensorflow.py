"""kwgan on JAX or PyTorch where TensorFlow is not installed.

TensorFlow and tensorflow-datasets are hidden in a subprocess by wrapping every
`sys.meta_path` finder: for those two packages and their submodules each finder answers
"not found", which is what an install without them gives — `import tensorflow` raises
ModuleNotFoundError and `importlib.util.find_spec("tensorflow")` returns None. (A finder
that *raises* from `find_spec` instead is no faithful stand-in: `torch._dynamo` probes
`find_spec("tensorflow")` while `keras` imports and expects None for a missing package.)
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    keras.backend.backend() == "tensorflow", reason="the TensorFlow backend needs TensorFlow"
)

WITHOUT_TENSORFLOW = textwrap.dedent(
    """
    import importlib.util
    import sys

    HIDDEN = ("tensorflow", "tensorflow_datasets")


    class Without:
        '''Wraps a finder so that it cannot find the hidden packages.'''

        def __init__(self, finder):
            self.finder = finder

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in HIDDEN:
                return None
            return self.finder.find_spec(name, path, target)

        def invalidate_caches(self):
            if hasattr(self.finder, "invalidate_caches"):
                self.finder.invalidate_caches()


    assert not any(name.partition(".")[0] in HIDDEN for name in sys.modules)
    sys.meta_path[:] = [Without(finder) for finder in sys.meta_path]
    for name in ("tensorflow", "tensorflow.python", "tensorflow_datasets"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            pass
        else:
            raise AssertionError(f"{name} is still importable")
    assert importlib.util.find_spec("tensorflow") is None
    """
)

SCRIPT = WITHOUT_TENSORFLOW + textwrap.dedent(
    """
    import keras
    import numpy as np

    import kwgan


    def count(x):
        return int(keras.ops.convert_to_numpy(x))


    # A toy GAN: 5 fit steps, 2 critic iterations per generator iteration.
    keras.utils.set_random_seed(0)
    gan = kwgan.GAN(
        kwgan.architectures.toy_generator(dim=8), kwgan.architectures.toy_critic(dim=8), seed=0
    )
    gan.compile("wgan-gp", critic_steps=2)
    history = kwgan.callbacks.LossHistory()
    gan.fit(kwgan.data.toy("8gaussians", batch_size=8, steps_per_epoch=5), verbose=0,
            callbacks=[history])
    assert count(gan.generator_iterations) == 2, count(gan.generator_iterations)
    assert history.iterations == [1, 2]
    assert set(history.history) == {"d_loss", "g_loss", "w_estimate", "gp"}
    assert all(np.isfinite(v).all() for v in history.history.values())

    # The digits through Pillow and a PyDataset, into a tiny conv critic.
    images = kwgan.data.image_array("digits", image_size=8)
    assert images.shape == (1797, 8, 8, 1) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    data = kwgan.data.ImageBatches(images, batch_size=16)
    assert len(data) == 1797 // 16

    z = keras.Input((4,))
    x = keras.layers.Reshape((8, 8, 1))(keras.layers.Dense(64)(z))
    generator = keras.Model(z, keras.layers.Activation("tanh")(x), name="generator")
    x = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(x)
    critic = keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(h)), name="critic")
    gan = kwgan.GAN(generator, critic, seed=0)
    gan.compile("wgan-gp", critic_steps=2)
    gan.fit(data, steps_per_epoch=4, epochs=1, verbose=0)
    assert count(gan.generator_iterations) == 2
    fake = keras.ops.convert_to_numpy(gan.generator(np.zeros((3, 4), "float32")))
    assert fake.shape == (3, 8, 8, 1) and np.abs(fake).max() <= 1

    # What needs TensorFlow says so, and how to get it.
    for what, call in [
        ("export", lambda: kwgan.export.export_generator(generator, "unused_export_dir")),
        ("tf.data", lambda: kwgan.data.images("digits", image_size=8, batch_size=16)),
        ("tfds", lambda: kwgan.data.image_array("mnist", image_size=28)),
    ]:
        try:
            call()
        except ImportError as error:
            assert "pip install" in str(error), (what, str(error))
            print(what, "->", error)
        else:
            raise AssertionError(f"{what} worked without TensorFlow")
    import os
    assert not os.path.exists("unused_export_dir")
    top_level = {name.partition(".")[0] for name in sys.modules}
    assert not top_level & {"tensorflow", "tensorflow_datasets"}
    print("OK")
    """
)


def test_train_without_tensorflow(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend()}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    lines = proc.stdout.splitlines()
    assert lines[-1] == "OK"
    assert any(line.startswith("export -> ") and "TensorFlow" in line for line in lines)
