"""`python -m kwgan.sample` on bad input: one line on stderr, a non-zero exit, nothing lost.

The exports are made once for the module, by one KERAS_BACKEND=tensorflow subprocess (a
single TensorFlow import, whatever this process's backend): the CLI serves with TensorFlow
alone, so how the export was made is `test_export`'s concern, not this module's. Damaged
copies are made per test. Library-level checks that need no TensorFlow run in-process on
every backend. Each CLI call is a KERAS_BACKEND=tensorflow subprocess, the same whatever
this process's backend, so the CLI tests are `backend_neutral`: they run in the TensorFlow
pass only.
"""

import importlib.util
import json
import os
import shutil

import keras
import numpy as np
import pytest

from kwgan.errors import ConfigError, DataNotFoundError, ExportError
from kwgan.export import METADATA_FILE, load_metadata
from kwgan.sample import generate
from scripts import error_line, ok, run_code, run_script

# The CLI serves with TensorFlow alone: the TF backend spares each call a second framework.
TENSORFLOW = {"KERAS_BACKEND": "tensorflow"}
VARIABLES_DATA = os.path.join("variables", "variables.data-00000-of-00001")
VARIABLES_INDEX = os.path.join("variables", "variables.index")

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="export needs TensorFlow"
)

EXPORT_BOTH = """
    import sys
    import keras
    from kwgan.export import export_generator

    images_dir, points_dir = sys.argv[1:]
    keras.utils.set_random_seed(0)
    noise = keras.Input((3,))
    images = keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16, activation="tanh")(noise))
    export_generator(keras.Model(noise, images), images_dir)
    export_generator(keras.Model(noise, keras.layers.Dense(2)(noise)), points_dir)
"""


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """(image export, 2-D points export), written once for the module."""
    root = tmp_path_factory.mktemp("exports")
    paths = str(root / "images"), str(root / "points")
    ok(run_code(EXPORT_BOTH, *paths, env=TENSORFLOW))
    return paths


@pytest.fixture
def images(exports, tmp_path):
    """A private copy of the image export, free to damage."""
    return shutil.copytree(exports[0], tmp_path / "model")


def sample(*args):
    """`python -m kwgan.sample ARGS`, finished."""
    return run_script("kwgan.sample", *args, env=TENSORFLOW)


def assert_one_line_error(proc, *words):
    line = error_line(proc)
    assert "error:" in line
    for word in words:
        assert word in line, (word, line)


def snapshot(root):
    return {
        os.path.relpath(os.path.join(d, name), root): open(os.path.join(d, name), "rb").read()
        for d, _, files in os.walk(root)
        for name in files
    }


def truncate(file):
    with open(file, "r+b") as f:
        f.truncate(os.path.getsize(file) // 2)


def damage(model, how):
    """Damages the export at `model` as an interrupted copy or a stray edit would."""
    if how == "truncated kwgan.json":
        truncate(model / METADATA_FILE)
    elif how == "kwgan.json not JSON":
        (model / METADATA_FILE).write_text("<html>not json</html>")
    elif how == "kwgan.json without latent_dim":
        info = json.loads((model / METADATA_FILE).read_text())
        del info["latent_dim"]
        (model / METADATA_FILE).write_text(json.dumps(info))
    elif how == "no kwgan.json":
        (model / METADATA_FILE).unlink()
    elif how == "no saved_model.pb":
        (model / "saved_model.pb").unlink()
    elif how == "no variables/":
        shutil.rmtree(model / "variables")
    elif how == "no variables index":
        (model / VARIABLES_INDEX).unlink()
    elif how in ("truncated variables data", "truncated variables index"):
        truncate(model / (VARIABLES_DATA if how.endswith("data") else VARIABLES_INDEX))


# (damage, what the error names), for what is found before TensorFlow loads the model.
FOUND_WITHOUT_TENSORFLOW = [
    ("truncated kwgan.json", [METADATA_FILE, "not valid JSON", "re-export"]),
    ("kwgan.json not JSON", [METADATA_FILE, "not valid JSON", "re-export"]),
    ("kwgan.json without latent_dim", [METADATA_FILE, "latent_dim", "re-export"]),
    ("no kwgan.json", ["not a kwgan SavedModel", METADATA_FILE]),
    ("no saved_model.pb", ["saved_model.pb", "missing", "re-export"]),
    ("no variables/", ["variables", "missing", "re-export"]),
    ("no variables index", ["variables.index", "missing", "re-export"]),
]


@pytest.mark.parametrize("how, words", FOUND_WITHOUT_TENSORFLOW)
def test_generate_names_the_damage_before_loading_tensorflow(images, how, words):
    damage(images, how)
    with pytest.raises(ExportError) as error:
        generate(images, 2)
    for word in words:
        assert word in str(error.value)
    assert str(images) in str(error.value)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="loading in-process would import TensorFlow beside this backend; the CLI test "
    "covers it in a subprocess",
)
@pytest.mark.parametrize("how", ["truncated variables data", "truncated variables index"])
def test_generate_translates_what_tensorflow_raises_for_truncated_files(images, how):
    damage(images, how)
    with pytest.raises(ExportError, match="damaged.*re-export"):
        generate(images, 2)


def test_generate_rejects_missing_paths_and_bad_arguments(exports, tmp_path):
    with pytest.raises(DataNotFoundError, match="nowhere.*does not exist"):
        generate(tmp_path / "nowhere", 2)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match="is a file"):
        generate(tmp_path / "file", 2)
    with pytest.raises(ConfigError, match="positive"):
        generate(exports[0], 0)
    with pytest.raises(ConfigError, match="unconditional"):
        generate(exports[0], 2, label=1)


def test_label_out_of_range_is_refused_before_loading(images):
    info = load_metadata(images)
    info.update(conditional=True, num_classes=3)
    (images / METADATA_FILE).write_text(json.dumps(info))
    with pytest.raises(ConfigError, match=r"3 classes.*0\.\.2.*got 3"):
        generate(images, 2, label=3)


@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    "how, words",
    [
        ("truncated kwgan.json", [METADATA_FILE, "re-export"]),
        ("no variables/", ["variables", "missing", "re-export"]),
        ("truncated variables data", ["damaged", "re-export"]),
    ],
)
def test_cli_reports_a_damaged_export_in_one_line(images, tmp_path, how, words):
    damage(images, how)
    proc = sample(images, "--n", 2, "--npy", tmp_path / "x.npy")
    assert_one_line_error(proc, str(images), *words)
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.backend_neutral
def test_cli_reports_a_missing_export_in_one_line(tmp_path):
    proc = sample(tmp_path / "nowhere", "--out", tmp_path / "g.png")
    assert_one_line_error(proc, str(tmp_path / "nowhere"), "does not exist")
    assert os.listdir(tmp_path) == []


@pytest.mark.backend_neutral
@pytest.mark.parametrize("flag", ["--out", "--npy"])
def test_cli_never_replaces_an_existing_directory(exports, tmp_path, flag):
    photos = tmp_path / "photos"
    (photos / "album").mkdir(parents=True)
    (photos / "cat.jpg").write_bytes(b"\xff\xd8 a cat")
    (photos / "album" / "dog.jpg").write_bytes(b"\xff\xd8 a dog")
    before = snapshot(photos)
    proc = sample(exports[0], "--n", 2, flag, photos)
    assert_one_line_error(proc, str(photos), "existing directory")
    assert snapshot(photos) == before
    assert os.listdir(tmp_path) == ["photos"]


@pytest.mark.backend_neutral
def test_points_generator_has_no_grid_but_writes_npy(exports, tmp_path):
    proc = sample(exports[1], "--n", 5, "--out", tmp_path / "grid.png")
    assert_one_line_error(proc, "points of shape (2,)", "not images", "--npy")
    assert os.listdir(tmp_path) == []
    ok(sample(exports[1], "--n", 5, "--npy", tmp_path / "points.npy"))
    points = np.load(tmp_path / "points.npy")
    assert points.shape == (5, 2) and points.dtype == np.float32


@pytest.mark.backend_neutral
def test_grid_too_large_to_open_is_refused_before_generating(exports, tmp_path):
    # 10⁶ samples would take long to draw: failing fast shows the check comes first.
    proc = sample(exports[0], "--n", 10**6, "--out", tmp_path / "grid.png")
    assert_one_line_error(proc, "pixels", "MAX_IMAGE_PIXELS", "--scale", "--npy")
    assert os.listdir(tmp_path) == []


@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    "args, words",
    [
        (["--n", "0", "--npy", "x.npy"], ["positive", "--n 0"]),
        (["--label", "1", "--npy", "x.npy"], ["unconditional", "--label"]),
        (["--scale", "0", "--out", "g.png"], ["scale"]),
        ([], ["--out", "--npy"]),
    ],
)
def test_cli_rejects_bad_flags_in_one_line(exports, tmp_path, args, words):
    args = [str(tmp_path / a) if a.endswith((".npy", ".png")) else a for a in args]
    proc = sample(exports[0], *args)
    assert_one_line_error(proc, *words)
    assert os.listdir(tmp_path) == []


# The CLI where TensorFlow is not installed: find_spec is how kwgan asks.
WITHOUT_TENSORFLOW = """
    import sys
    import kwgan.export
    from kwgan import sample

    kwgan.export.find_spec = lambda name: None
    sys.argv = ["kwgan.sample", *sys.argv[1:]]
    sample.main()
"""


@pytest.mark.backend_neutral
def test_cli_without_tensorflow_says_how_to_install_it(exports, tmp_path):
    proc = run_code(WITHOUT_TENSORFLOW, exports[0], "--npy", tmp_path / "x.npy", env=TENSORFLOW)
    assert_one_line_error(proc, "needs TensorFlow", "pip install")
    assert os.listdir(tmp_path) == []
