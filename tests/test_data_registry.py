"""The dataset facts (`kwgan.data.dataset_info`) and the errors for unknown dataset names.

The expected facts are written out by hand from the datasets themselves: MNIST and
Fashion-MNIST are 60 000 + 10 000 grayscale 28×28 scans with a test split, CIFAR-10
50 000 + 10 000 RGB 32×32 photographs with one, LSUN bedrooms 3 M RGB photographs without
labels or a test split, the scikit-learn digits 1797 8×8 scans with ink counts 0…16.
No TensorFlow needed.
"""

import dataclasses

import numpy as np
import pytest

import kwgan
from kwgan.data import IMAGE_DATASETS, TOY_NAMES, DatasetInfo, dataset_info
from kwgan.errors import ConfigError

FACTS = {  # name: (channels, max_value, labeled, has_test_split, fits_in_memory)
    "lsun/bedroom": (3, 255.0, False, False, False),
    "cifar10": (3, 255.0, True, True, True),
    "mnist": (1, 255.0, True, True, True),
    "fashion_mnist": (1, 255.0, True, True, True),
    "folder": (3, 255.0, False, False, False),
    "digits": (1, 16.0, True, False, True),
}


def test_every_image_dataset_has_its_facts():
    assert set(IMAGE_DATASETS) == set(FACTS)
    for name, (channels, max_value, labeled, test_split, in_memory) in FACTS.items():
        info = dataset_info(name)
        assert isinstance(info, DatasetInfo)
        assert info.name == name
        assert (
            info.channels,
            info.max_value,
            info.labeled,
            info.has_test_split,
            info.fits_in_memory,
        ) == (channels, max_value, labeled, test_split, in_memory)


def test_what_experiments_ask_of_the_registry():
    """The lists `experiments/lsun.py` used to keep itself."""
    grayscale = [n for n in IMAGE_DATASETS if dataset_info(n).channels == 1]
    assert sorted(grayscale) == ["digits", "fashion_mnist", "mnist"]
    with_test_split = [n for n in IMAGE_DATASETS if dataset_info(n).has_test_split]
    assert sorted(with_test_split) == ["cifar10", "fashion_mnist", "mnist"]
    cached = [n for n in IMAGE_DATASETS if dataset_info(n).fits_in_memory]
    assert sorted(cached) == ["cifar10", "digits", "fashion_mnist", "mnist"]


def test_which_datasets_need_tensorflow():
    # MNIST and Fashion-MNIST are stored by tensorflow-datasets but also read from idx files.
    assert dataset_info("mnist").tfds and dataset_info("mnist").idx
    needs = [n for n in IMAGE_DATASETS if dataset_info(n).needs_tensorflow]
    assert sorted(needs) == ["cifar10", "lsun/bedroom"]


def test_dataset_info_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        dataset_info("mnist").channels = 3


def test_default_channels_are_what_image_array_returns():
    assert kwgan.data.image_array("digits", image_size=8).shape[-1] == 1
    assert dataset_info("digits").channels == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda: dataset_info("imagenet"),
        lambda: kwgan.data.image_array("imagenet", image_size=8),
        lambda: kwgan.data.images("imagenet", image_size=8, batch_size=2),
    ],
)
def test_unknown_image_dataset_is_a_config_error_listing_the_names(call):
    with pytest.raises(ConfigError, match="Unknown image dataset 'imagenet'") as error:
        call()
    assert isinstance(error.value, ValueError)  # callers' `except ValueError` keeps working
    for name in IMAGE_DATASETS:
        assert name in str(error.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: kwgan.data.toy("9gaussians"),
        lambda: kwgan.data.ToyDataset("9gaussians"),
        lambda: kwgan.data.sample("9gaussians", 10),
        lambda: kwgan.data.centers("9gaussians"),
        lambda: kwgan.data.stddev("9gaussians"),
    ],
)
def test_unknown_toy_dataset_is_a_config_error_listing_the_names(call):
    with pytest.raises(ConfigError, match="Unknown toy dataset '9gaussians'") as error:
        call()
    assert isinstance(error.value, ValueError)
    assert str(error.value).endswith("choose one of 8gaussians, 25gaussians, swissroll.")
    assert all(name in str(error.value) for name in TOY_NAMES)


@pytest.mark.parametrize("function", [kwgan.data.centers, kwgan.data.stddev])
def test_swissroll_has_no_modes_and_says_which_do(function):
    with pytest.raises(ConfigError, match="not a Gaussian mixture.*8gaussians, 25gaussians"):
        function("swissroll")


def test_toy_facts_by_hand():
    # gan_toy.py: radius 2 divided by 1.414, noise 0.02 / 1.414; the 5×5 grid step 2 / 2.828.
    np.testing.assert_allclose(kwgan.data.centers("8gaussians")[0], [2 / 1.414, 0], rtol=1e-6)
    assert kwgan.data.stddev("8gaussians") == pytest.approx(0.0141443, rel=1e-5)
    np.testing.assert_allclose(kwgan.data.centers("25gaussians")[0], [-4 / 2.828] * 2, rtol=1e-6)
