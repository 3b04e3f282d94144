"""kwgan.tensorboard: event files written through tf.summary or tensorboardX, read back.

The event files are read with TensorFlow's `summary_iterator`, so these tests skip where
TensorFlow is not installed; the tensorboardX writer is exercised by hiding TensorFlow from
`kwgan.tensorboard` alone, the tf.summary one where TensorBoard is installed.
"""

import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import kwgan
from kwgan.experiment import ToyConfig
from kwgan.tensorboard import TensorBoard


def read_events(log_dir) -> tuple[dict, dict]:
    """`({tag: {step: value}}, {tag: {step: (height, width, channels)}})` of a log dir."""
    tf = pytest.importorskip("tensorflow")
    scalars, images = {}, {}
    files = sorted(Path(log_dir).glob("events.out.tfevents.*"))
    assert files, f"no event files in {log_dir}"
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.HasField("image"):  # tensorboardX
                    png = value.image.encoded_image_string
                elif value.metadata.plugin_data.plugin_name == "images":  # tf.summary
                    png = tf.make_ndarray(value.tensor)[2]
                else:
                    if value.HasField("simple_value"):
                        number = value.simple_value
                    else:
                        number = float(tf.make_ndarray(value.tensor))
                    scalars.setdefault(value.tag, {})[event.step] = number
                    continue
                with Image.open(io.BytesIO(png)) as image:
                    shape = (image.height, image.width, len(image.getbands()))
                images.setdefault(value.tag, {})[event.step] = shape
    return scalars, images


@pytest.fixture(params=["tf.summary", "tensorboardX"])
def writer_kind(request, monkeypatch):
    pytest.importorskip("tensorflow")  # the reader
    if request.param == "tf.summary":
        pytest.importorskip("tensorboard", reason="tf.summary.scalar needs TensorBoard")
    else:
        pytest.importorskip("tensorboardX")
        real = importlib.util.find_spec
        monkeypatch.setattr(
            "kwgan.tensorboard.importlib.util.find_spec",
            lambda name, *a: None if name == "tensorflow" else real(name, *a),
        )
    return request.param


def test_logs_loss_history_per_generator_iteration(tiny_gan, tmp_path, writer_kind):
    gan = tiny_gan()
    gan.compile("wgan-gp", critic_steps=2)
    history = kwgan.callbacks.LossHistory()
    board = TensorBoard(tmp_path / "tb")
    data = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    gan.fit(data, batch_size=8, epochs=1, verbose=0, callbacks=[history, board])
    board.image("samples", np.full((10, 12, 3), 200, np.uint8), step=4)
    board.scalars({"eval/fid": 1.5}, step=4)
    board.close()

    scalars, images = read_events(tmp_path / "tb")
    assert history.iterations == [1, 2, 3, 4]
    assert set(scalars) == set(history.history) | {"eval/fid"}
    assert set(history.history) >= {"d_loss", "g_loss", "w_estimate", "gp"}
    for tag, values in history.history.items():
        assert list(scalars[tag]) == history.iterations
        np.testing.assert_allclose(list(scalars[tag].values()), values, rtol=1e-6)
    assert scalars["eval/fid"] == {4: 1.5}
    assert images == {"samples": {4: (10, 12, 3)}}


def test_every_and_bad_images(tiny_gan, tmp_path):
    pytest.importorskip("tensorflow")
    gan = tiny_gan()
    gan.compile("wgan-gp", critic_steps=1)
    board = TensorBoard(tmp_path, every=2)
    gan.fit(np.zeros((32, 2), "float32"), batch_size=8, epochs=1, verbose=0, callbacks=[board])
    board.close()
    scalars, _ = read_events(tmp_path)
    assert list(scalars["d_loss"]) == [2, 4]
    with pytest.raises(kwgan.errors.ConfigError, match="uint8"):
        board.image("x", np.zeros((4, 4, 3), np.float32), step=1)
    with pytest.raises(ValueError, match="every"):
        TensorBoard(tmp_path, every=0)


@pytest.mark.backend_neutral
def test_toy_experiment_writes_tensorboard(tmp_path):
    pytest.importorskip("tensorflow")
    out, log_dir = tmp_path / "toy", tmp_path / "tb"
    config = ToyConfig(steps=4, eval_every=2, eval_samples=100, dim=8, batch_size=16)
    kwgan.experiment.run(config.replace(out=str(out), tensorboard=str(log_dir)))
    scalars, _ = read_events(log_dir)
    assert {"d_loss", "g_loss", "w_estimate", "gp", "eval/w1"} <= set(scalars)
    assert list(scalars["d_loss"]) == [1, 2, 3, 4]
    assert set(scalars["eval/w1"]) == {2, 4}
