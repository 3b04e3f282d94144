"""Datasets: the papers' 2-D toy distributions, image pipelines and text corpora."""

from kwgan.data import text
from kwgan.data.idx import IDX_DATASETS, load_idx_dataset, read_idx
from kwgan.data.images import IMAGE_DATASETS, ImageBatches, image_array, images
from kwgan.data.toy import NAMES as TOY_NAMES
from kwgan.data.toy import ToyDataset, centers, sample, stddev, toy
