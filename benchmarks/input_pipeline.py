"""Images per second of kwgan's tf.data input pipeline, against what training consumes.

A WGAN-GP generator iteration eats `critic_steps × batch_size` real images (5 × 64 = 320 in
the WGAN-GP paper's LSUN setting), so the pipeline must deliver
`train_it_per_s × 320` images/s or the accelerator waits. This script times
`kwgan.data.images` — decode, resize to 64×64, scale, batch; parallel decode and prefetch as
in training — on two sources:

- `folder`: LSUN-like JPEGs written here first (256 px on the short side, 256–384 px on the
  long one, quality 75, smooth random content), decoded with `tf.io.decode_image` like a
  folder of photos;
- `lsun/bedroom` under `tfds.testing.mock_data` (tensorflow-datasets' own reading path:
  records, feature decoding; the mock images are small, 5–49 px, so this times the
  per-example overhead rather than JPEG decoding).

One JSON line per source with images/s, images/s per CPU core, and the cores this rate
needs to feed `--train_it_per_s` (default 24.3: a jitted Keras-on-JAX WGAN-GP step at batch
64 on one H200; measure your own with `benchmarks/device.sh`).

    python benchmarks/input_pipeline.py --batches 40
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from absl import app, flags

flags.DEFINE_integer("files", 256, "JPEG files written for the folder source.")
flags.DEFINE_integer("batches", 40, "Timed batches per source (after --warmup).")
flags.DEFINE_integer("warmup", 4, "Untimed batches (tf.data start-up, autotuning).")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_integer("image_size", 64, "Training image size.")
flags.DEFINE_integer("critic_steps", 5, "Real batches per generator iteration.")
flags.DEFINE_float(
    "train_it_per_s", 24.3, "Generator iterations per second of the training to feed."
)
flags.DEFINE_list("sources", ["folder", "lsun/bedroom"], "Sources to time.")
FLAGS = flags.FLAGS


def write_jpegs(folder: Path, count: int) -> None:
    """`count` LSUN-sized JPEGs of smooth random content (bilinear-upsampled noise), which
    compress and decode like photographs rather than like white noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(count):
        long_side = int(rng.integers(256, 385))
        coarse = rng.integers(0, 256, size=(8, 12, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((long_side, 256), Image.BILINEAR)
        image.save(folder / f"{i:05d}.jpg", quality=75)


def images_per_second(dataset) -> float:
    """Images/s over FLAGS.batches batches of an (infinite or long enough) dataset."""
    iterator = iter(dataset)
    for _ in range(FLAGS.warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(FLAGS.batches):
        next(iterator)
    return FLAGS.batches * FLAGS.batch_size / (time.perf_counter() - start)


def _dataset(source: str, data_dir: Path):
    import kwgan

    return kwgan.data.images(
        source,
        image_size=FLAGS.image_size,
        batch_size=FLAGS.batch_size,
        data_dir=data_dir,
        start_batch=0,  # an endless stream: no epoch boundary inside the timing
    )


def measure(source: str, scratch: Path) -> float:
    if source == "folder":
        folder = scratch / "jpegs"
        folder.mkdir()
        write_jpegs(folder, FLAGS.files)
        return images_per_second(_dataset("folder", folder))
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=FLAGS.batch_size * 8):
        return images_per_second(_dataset(source, scratch / "tfds"))


def main(argv):
    del argv
    needed = FLAGS.train_it_per_s * FLAGS.critic_steps * FLAGS.batch_size
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as scratch:
        for source in FLAGS.sources:
            rate = measure(source, Path(scratch))
            print(
                json.dumps(
                    {
                        "source": source,
                        "image_size": FLAGS.image_size,
                        "batch_size": FLAGS.batch_size,
                        "images_per_s": round(rate, 1),
                        "cpu_cores": cores,
                        "images_per_s_per_core": round(rate / cores, 1),
                        "needed_images_per_s": round(needed, 1),
                        "cores_needed": round(needed / (rate / cores), 1),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    app.run(main)
