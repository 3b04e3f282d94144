"""Datasets: the papers' 2-D toy distributions, image pipelines and text corpora.

* Toy distributions (WGAN-GP's `gan_toy.py`): `toy`, `sample`, `centers`, `stddev`
  (`kwgan.data.toy`).
* Images: `images` (a tf.data pipeline), `image_array` and `ImageBatches` (NumPy, no
  TensorFlow needed), and `dataset_info`, the facts about each of `IMAGE_DATASETS`.
  The `kwgan/data/images.py` module docstring gives the overview and says which module
  owns what.
* What a run reads: `describe` (source, file count, size, digest; `kwgan.data.fingerprint`),
  which the experiments record in `run.json` to refuse a resume on other data.
* Text: `kwgan.data.text`, the language-model corpora of WGAN-GP §5.5.
"""

from kwgan.data import text
from kwgan.data.fingerprint import describe
from kwgan.data.idx import IDX_DATASETS, load_idx_dataset, read_idx
from kwgan.data.images import IMAGE_DATASETS, ImageBatches, image_array, images
from kwgan.data.registry import DatasetInfo, dataset_info
from kwgan.data.toy import NAMES as TOY_NAMES
from kwgan.data.toy import ToyDataset, centers, sample, stddev, toy
