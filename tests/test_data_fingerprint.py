"""What a run reads (`kwgan.data.describe`, `kwgan.data.text.describe`), recorded in
run.json, and the resume it refuses.

The folders are written here: a few 8×8 PNGs of random pixels, which PNG cannot compress,
so two folders of different images have the same file names and sizes and only the
sampled bytes tell them apart. No TensorFlow needed.
"""

import contextlib
import io
import json
import os
import shutil

import numpy as np
import pytest
from PIL import Image

import kwgan
from kwgan.data import describe
from kwgan.errors import ConfigError, ResumeError
from kwgan.experiment import ImageConfig, LanguageConfig, language

IMAGES = 8


def write_folder(path, seed: int, count: int = IMAGES):
    path.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(count):
        pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(path / f"{i}.png")
    return path


@pytest.mark.backend_neutral
def test_describe_a_folder_by_hand(tmp_path):
    folder = write_folder(tmp_path / "a", seed=0)
    sizes = [os.path.getsize(folder / f"{i}.png") for i in range(IMAGES)]
    d = describe("folder", data_dir=folder)
    assert {k: v for k, v in d.items() if k != "digest"} == {
        "dataset": "folder",
        "split": "train",
        "source": str(folder),
        "files": IMAGES,
        "bytes": sum(sizes),
        "examples": IMAGES,
    }
    # Moved elsewhere: the same data. Other pixels in files of the same names and sizes,
    # one file more, or one renamed: other data.
    moved = shutil.copytree(folder, tmp_path / "moved")
    assert describe("folder", data_dir=moved)["digest"] == d["digest"]
    other = write_folder(tmp_path / "other", seed=1)
    assert [os.path.getsize(other / f"{i}.png") for i in range(IMAGES)] == sizes
    assert describe("folder", data_dir=other)["digest"] != d["digest"]
    shutil.copy(folder / "0.png", moved / "extra.png")
    assert describe("folder", data_dir=moved)["digest"] != d["digest"]
    os.remove(moved / "extra.png")
    os.rename(moved / "0.png", moved / "zero.png")
    assert describe("folder", data_dir=moved)["digest"] != d["digest"]
    with pytest.raises(ConfigError, match="single split"):
        describe("folder", split="test", data_dir=folder)


@pytest.mark.backend_neutral
def test_describe_digits():
    d = describe("digits")
    assert d["examples"] == 1797 and d["files"] == 1
    assert d["source"].endswith(os.path.join("sklearn", "datasets", "data", "digits.csv.gz"))
    assert d["bytes"] == os.path.getsize(d["source"])


def tiny_folder_run(out, data_dir, steps: int = 1) -> ImageConfig:
    """The fastest image run: an MLP on 8×8, one critic step per generator iteration."""
    return ImageConfig(
        dataset="folder",
        data_dir=str(data_dir),
        arch="wgan-mlp",
        image_size=8,
        dim=4,
        steps=steps,
        critic_steps=1,
        batch_size=4,
        num_samples=2,
        out=str(out),
        export=None,
    )


@pytest.mark.backend_neutral
def test_a_resume_on_other_data_is_refused(tmp_path):
    """`--data_dir` is free, so the data may move; it may not change: the run records what
    it read and names both sources when a resume reads something else."""
    a = write_folder(tmp_path / "a", seed=0)
    b = write_folder(tmp_path / "b", seed=1)
    out = tmp_path / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        kwgan.experiment.run(tiny_folder_run(out, a))
    size = sum(os.path.getsize(a / f"{i}.png") for i in range(IMAGES))
    line = f"Data: train: folder from {a} ({IMAGES} examples, {IMAGES} files, {size / 1e3:.1f} kB)"
    assert printed.getvalue().splitlines()[0] == line
    record = json.loads((out / "run.json").read_text())
    assert record["data"] == {"train": describe("folder", data_dir=a)}

    with pytest.raises(ResumeError) as error:
        kwgan.experiment.run(tiny_folder_run(out, b, steps=2))
    message = str(error.value)
    assert "\n" not in message and "other train data" in message
    assert f"{a}: {IMAGES} files, {size} bytes → {b}: {IMAGES} files, {size} bytes" in message
    assert json.loads((out / "run.json").read_text()) == record  # untouched

    moved = shutil.copytree(a, tmp_path / "moved")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        kwgan.experiment.run(tiny_folder_run(out, moved))
    assert "already holds this finished run" in printed.getvalue()


@pytest.mark.backend_neutral
def test_a_language_run_refuses_a_text_file_changed_in_place(tmp_path):
    """The text path is a flag that may not change, but the file behind it may: the run
    records a digest of the lines it prepared. (The finished run is recorded here rather
    than trained: the recipe's own reruns show that it passes the same description.)"""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"sentence number {i} of a tiny corpus\n" for i in range(700)))
    out = tmp_path / "run"
    config = LanguageConfig(text=str(corpus), seq_len=8, steps=1, out=str(out))
    codes, vocabulary = language.load_corpus(config)
    data = {"train": kwgan.data.text.describe(codes, vocabulary, source=corpus)}
    assert {k: v for k, v in data["train"].items() if k != "digest"} == {
        "dataset": "text",
        "split": "train",
        "source": str(corpus),
        "files": 1,
        "bytes": 700 * 8 * 4,  # the prepared int32 codes
        "examples": 700,
    }
    with kwgan.run.Run(out, config.to_dict(), free=config.free_fields(), data=data) as run:
        run.complete(1)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        kwgan.experiment.run(config)
    assert "already holds this finished run" in printed.getvalue()

    corpus.write_text("".join(f"another line, number {i}\n" for i in range(700)))
    with pytest.raises(ResumeError, match=f"other train data \\({corpus}: 1 files"):
        kwgan.experiment.run(config.replace(steps=2))
