"""Resuming data pipelines at a global batch, and the errors for damaged or unusual input.

A run killed after `p` batches and restored from its checkpoint must see exactly the batches
the uninterrupted run would have seen from batch `p` on: `start_batch=p` must yield batches
`p, p + 1, ...` of `start_batch=0`, byte for byte, across epoch boundaries (data epochs, and
Keras epochs for PyDatasets). The tensorflow-datasets sources run under
`tfds.testing.mock_data`. Tests that need TensorFlow skip themselves without it. Run this
module under every Keras backend (KERAS_BACKEND=tensorflow, jax, torch).
"""

import importlib.util
import itertools

import keras
import numpy as np
import pytest
from PIL import Image

from kwgan.data import ImageBatches, image_array, images, toy
from kwgan.errors import ConfigError, DataError

HAS_TENSORFLOW = importlib.util.find_spec("tensorflow") is not None


def _tf():
    return pytest.importorskip("tensorflow")


def _tfds():
    _tf()
    return pytest.importorskip("tensorflow_datasets")


def _keras_epochs(dataset: keras.utils.PyDataset, count: int) -> list:
    """The first `count` batches `fit` reads from a PyDataset: each epoch's items in order,
    then `on_epoch_end()`, as Keras calls them."""
    batches = []
    while len(batches) < count:
        batches.extend(dataset[index] for index in range(len(dataset)))
        dataset.on_epoch_end()
    return batches[:count]


def _stream(dataset, count: int) -> list:
    return list(itertools.islice(dataset.as_numpy_iterator(), count))


def _assert_same_batches(actual: list, expected: list) -> None:
    """Byte-equal batches (arrays, or `(images, labels)` tuples), in the same order."""

    def arrays(batch) -> list[np.ndarray]:
        return list(batch) if isinstance(batch, tuple) else [batch]

    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        for got_array, want_array in zip(arrays(got), arrays(want), strict=True):
            assert (got_array.dtype, got_array.shape) == (want_array.dtype, want_array.shape)
            assert got_array.tobytes() == want_array.tobytes()


def _assert_resumes(make, starts, count: int, read) -> None:
    """`make(start_batch=p)` yields batches `p…p + count` of `make(start_batch=0)`."""
    reference = read(make(start_batch=0), max(starts) + count)
    for start in starts:
        _assert_same_batches(read(make(start_batch=start), count), reference[start:][:count])


# --- toy -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["8gaussians", "25gaussians"])
def test_toy_resumes_across_keras_epochs(name):
    def make(start_batch):
        return toy(name, batch_size=8, steps_per_epoch=3, seed=4, start_batch=start_batch)

    _assert_resumes(make, starts=[1, 3, 5], count=7, read=_keras_epochs)


def test_toy_start_batch_zero_keeps_the_stream():
    data = toy("8gaussians", batch_size=8, steps_per_epoch=3, seed=2)
    batches = _keras_epochs(data, 5)
    for index, batch in enumerate(batches):
        np.testing.assert_array_equal(batch, data.batch(index))


@pytest.mark.parametrize("start_batch", [-1, 1.5, True, "3"])
def test_toy_rejects_bad_start_batch(start_batch):
    with pytest.raises(ConfigError, match="start_batch"):
        toy("8gaussians", start_batch=start_batch)


# --- ImageBatches --------------------------------------------------------------------


def _numbered(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose pixels all hold their own index, and labels equal to that index."""
    return np.arange(n, dtype=np.float32)[:, None, None, None] * np.ones((1, 2, 2, 1)), np.arange(n)


@pytest.mark.parametrize("shuffle", [True, False])
def test_image_batches_resume_across_keras_and_data_epochs(shuffle):
    pixels, labels = _numbered(10)  # batch 3: 3 batches a data epoch, example 10th dropped

    def make(start_batch):
        return ImageBatches(
            pixels, labels, batch_size=3, shuffle=shuffle, seed=5, start_batch=start_batch
        )

    _assert_resumes(make, starts=[1, 3, 4, 8], count=8, read=_keras_epochs)


def test_image_batches_start_batch_zero_keeps_the_epoch_orders():
    pixels, labels = _numbered(10)
    batches = _keras_epochs(ImageBatches(pixels, labels, batch_size=3, seed=5), 9)
    for epoch in range(3):
        order = np.random.default_rng((5, epoch)).permutation(10)[:9]
        seen = np.concatenate([y for _, y in batches[3 * epoch : 3 * epoch + 3]])
        np.testing.assert_array_equal(seen, order)


@pytest.mark.parametrize(
    "labels, num_classes, message",
    [
        (np.arange(8, dtype=np.float32), None, "integer class indices"),
        (np.zeros((8, 2), np.int64), None, r"shape \(N,\) or \(N, 1\)"),
        (np.arange(7), None, "7 labels for 8 images"),
        (np.arange(8) - 1, None, ">= 0"),
        (np.arange(8), 5, "num_classes=5"),
    ],
)
def test_image_batches_reject_bad_labels(labels, num_classes, message):
    with pytest.raises(DataError, match=message):
        ImageBatches(
            np.zeros((8, 2, 2, 1), np.float32), labels, batch_size=4, num_classes=num_classes
        )


def test_image_batches_accept_column_labels_and_check_num_classes():
    pixels, labels = _numbered(8)
    x, y = ImageBatches(pixels, labels[:, None], batch_size=4, num_classes=8)[0]
    assert y.shape == (4, 1)
    np.testing.assert_array_equal(x[:, 0, 0, 0], y[:, 0])
    with pytest.raises(ConfigError, match="num_classes"):
        ImageBatches(pixels, labels, batch_size=4, num_classes=0)
    with pytest.raises(ConfigError, match="start_batch"):
        ImageBatches(pixels, batch_size=4, start_batch=-2)
    with pytest.raises(DataError, match="no complete batch"):
        ImageBatches(pixels, batch_size=9)


# --- images(): digits and folder streams (random access) -----------------------------


def test_digits_stream_resumes_inside_and_on_epoch_boundaries():
    _tf()

    def make(start_batch):
        return images(
            "digits", image_size=8, batch_size=500, with_labels=True, start_batch=start_batch
        )

    _assert_resumes(make, starts=[2, 3, 4], count=4, read=_stream)  # 3 batches an epoch


def test_digits_stream_is_reproducible_and_seeded():
    _tf()

    def first_labels(seed):
        stream = images(
            "digits", image_size=8, batch_size=64, with_labels=True, seed=seed, start_batch=0
        )
        return np.concatenate([y for _, y in _stream(stream, 3)])

    np.testing.assert_array_equal(first_labels(0), first_labels(0))
    assert not np.array_equal(first_labels(0), first_labels(1))


def _distinct_folder(path, count: int):
    """`count` gray PNGs of different sizes; image i is the constant 20·i, so a pixel names
    its file."""
    path.mkdir(exist_ok=True)
    for i in range(count):
        Image.new("L", (6 + i, 5), 20 * i).save(path / f"{i:02d}.png")
    return path


def _file_ids(batch: np.ndarray) -> list[int]:
    return np.rint((batch[:, 0, 0, 0] + 1.0) * 127.5 / 20).astype(int).tolist()


def _folder_stream(folder, start_batch, **kwargs):
    return images(
        "folder", data_dir=folder, image_size=4, batch_size=2, start_batch=start_batch, **kwargs
    )


def test_folder_stream_resumes_and_visits_each_file_once_an_epoch(tmp_path):
    _tf()
    folder = _distinct_folder(tmp_path / "images", 7)  # batch 2: 3 batches, 6 files an epoch

    def make(start_batch):
        return _folder_stream(folder, start_batch, seed=3)

    _assert_resumes(make, starts=[2, 3, 5], count=5, read=_stream)
    batches = _stream(make(0), 9)
    epochs = [sum(map(_file_ids, batches[i : i + 3]), []) for i in range(0, 9, 3)]
    for files in epochs:
        assert len(set(files)) == 6 and set(files) <= set(range(7))
    assert epochs[0] != epochs[1]
    _assert_same_batches(_stream(make(0), 9), batches)  # a fresh stream repeats itself
    other_seed = sum(map(_file_ids, _stream(_folder_stream(folder, 0, seed=4), 3)), [])
    assert other_seed != epochs[0]


def test_folder_stream_in_order_repeats_epochs(tmp_path):
    _tf()
    folder = _distinct_folder(tmp_path / "images", 5)
    batches = _stream(_folder_stream(folder, 1, shuffle=False), 4)
    assert [_file_ids(batch) for batch in batches] == [[2, 3], [0, 1], [2, 3], [0, 1]]


def test_stream_arguments_are_checked():
    _tf()
    with pytest.raises(ConfigError, match="start_batch"):
        images("digits", image_size=8, batch_size=4, start_batch=-1)
    with pytest.raises(ConfigError, match="file cache"):
        images("digits", image_size=8, batch_size=4, start_batch=0, cache="/tmp/x")
    for start_batch in (None, 0):
        with pytest.raises(DataError, match="fewer than batch_size"):
            images("digits", image_size=8, batch_size=2000, start_batch=start_batch)


def test_fit_reads_a_stream_across_keras_epochs():
    _tf()
    data = images("digits", image_size=8, batch_size=64, with_labels=True, start_batch=0)
    model = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    model.compile(
        optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    history = model.fit(data, epochs=2, steps_per_epoch=3, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


# --- images(): tensorflow-datasets streams, mocked -------------------------------------


@pytest.mark.parametrize("cache", [False, True], ids=["sequential", "cached"])
@pytest.mark.parametrize("shuffle", [True, False])
def test_mnist_stream_resumes_and_visits_each_example_once(tmp_path, cache, shuffle):
    tfds = _tfds()
    with tfds.testing.mock_data(num_examples=10):  # batch 4: 2 batches, 8 examples an epoch

        def make(start_batch, seed=0):
            return images(
                "mnist",
                image_size=8,
                batch_size=4,
                data_dir=tmp_path,
                with_labels=True,
                shuffle=shuffle,
                cache=cache,
                seed=seed,
                start_batch=start_batch,
            )

        _assert_resumes(make, starts=[1, 2, 3], count=5, read=_stream)
        batches = _stream(make(0), 6)
        _assert_same_batches(_stream(make(0), 6), batches)
        other_seed = _stream(make(0, seed=1), 2)
    epochs = [np.concatenate([x for x, _ in batches[i : i + 2]]) for i in range(0, 6, 2)]
    for epoch in epochs:
        assert len({example.tobytes() for example in epoch}) == 8
    if shuffle:
        assert not np.array_equal(epochs[0], epochs[1])
        assert not np.array_equal(np.concatenate([x for x, _ in other_seed]), epochs[0])
    else:
        np.testing.assert_array_equal(epochs[0], epochs[1])


def test_sequential_stream_ignores_tensorflow_global_seed(tmp_path):
    """The order is a function of `seed` alone, so a resumed process that seeds TensorFlow
    differently (or not at all) still sees the same batches."""
    tf, tfds = _tf(), _tfds()
    orders = []
    with tfds.testing.mock_data(num_examples=10):
        for global_seed in (1, 2):
            tf.random.set_seed(global_seed)
            stream = images("mnist", image_size=8, batch_size=4, data_dir=tmp_path, start_batch=0)
            orders.append(_stream(stream, 4))
    _assert_same_batches(orders[0], orders[1])


# --- damaged and 16-bit image files ----------------------------------------------------


@pytest.mark.parametrize("suffix", ["jpg", "png"])
def test_truncated_image_is_a_data_error_naming_the_file(tmp_path, suffix):
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / f"good.{suffix}")
    Image.fromarray(noise).save(tmp_path / f"bad.{suffix}")
    data = (tmp_path / f"bad.{suffix}").read_bytes()
    (tmp_path / f"bad.{suffix}").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=f"bad.{suffix}"):
        image_array("folder", data_dir=tmp_path, image_size=8)
    if HAS_TENSORFLOW:
        for start_batch in (None, 0):
            with pytest.raises(DataError, match=f"bad.{suffix}"):
                images(
                    "folder",
                    data_dir=tmp_path,
                    image_size=8,
                    batch_size=1,
                    start_batch=start_batch,
                )


def test_sixteen_bit_png_scales_like_its_eight_bit_version(tmp_path):
    """0 → -1, 65535 → +1, mid-grey → 0 through both front ends, and the same picture saved
    at 8 bits agrees within one 8-bit step (2/255 in [-1, 1]; rounding makes it 1/255)."""
    wide = np.array([0, 257, 32768, 65535, 1000, 40000, 20000, 65000], np.uint16)
    sixteen = np.tile(wide, (8, 1))
    Image.fromarray(sixteen).save(tmp_path / "a16.png")
    assert Image.open(tmp_path / "a16.png").mode.startswith("I")
    Image.fromarray(np.rint(sixteen / 257).astype(np.uint8)).save(tmp_path / "b8.png")
    kwargs = dict(data_dir=tmp_path, image_size=8)
    pillow = image_array("folder", **kwargs)
    front_ends = [pillow]
    if HAS_TENSORFLOW:
        (batch,) = _stream(images("folder", batch_size=2, shuffle=False, **kwargs), 1)
        front_ends.append(batch)
        np.testing.assert_allclose(batch, pillow, atol=1e-5)
    for pixels in front_ends:
        ends = pixels[0, 0, :4, 0]  # 0, 257 (= 1 at 8 bits), 32768 (mid-grey), 65535
        np.testing.assert_allclose(ends, [-1.0, 2 / 255 - 1, 1 / 65535, 1.0], atol=1e-6)
        np.testing.assert_allclose(pixels[0], pixels[1], atol=1 / 255 + 1e-6)
