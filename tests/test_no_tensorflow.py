"""kwgan on JAX or PyTorch where TensorFlow is not installed.

TensorFlow and tensorflow-datasets are hidden in a subprocess (`scripts.run_without`).
"""

import keras
import pytest

from scripts import TENSORFLOW, run_without

pytestmark = pytest.mark.skipif(
    keras.backend.backend() == "tensorflow", reason="the TensorFlow backend needs TensorFlow"
)

SCRIPT = """
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


def test_train_without_tensorflow(tmp_path):
    proc = run_without(TENSORFLOW, SCRIPT, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    lines = proc.stdout.splitlines()
    assert lines[-1] == "OK"
    assert any(line.startswith("export -> ") and "TensorFlow" in line for line in lines)
