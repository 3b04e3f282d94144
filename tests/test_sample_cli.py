"""`python -m kwgan.sample` on bad input: one line on stderr, a non-zero exit, nothing lost.

The exports are made once for the module, by one KERAS_BACKEND=tensorflow subprocess (a
single TensorFlow import, whatever this process's backend): the CLI serves with TensorFlow
alone, so how the export was made is `test_export`'s concern, not this module's. Damaged
copies are made per test. Library-level checks that need no TensorFlow run in-process on
every backend. The CLI runs in this process (`kwgan.sample.main`, stderr captured at the
file-descriptor level, so a traceback or a log line would show as an extra line); it serves
with TensorFlow whatever the Keras backend, so the CLI tests are `backend_neutral` and run
in the TensorFlow pass only. One case runs it as a fresh `python -m kwgan.sample`.
"""

import importlib.util
import json
import os
import shutil
import sys

import keras
import numpy as np
import pytest
from absl import flags
from PIL import Image

import kwgan.sample
import kwgan.score
from kwgan.errors import ConfigError, DataNotFoundError, ExportError
from kwgan.export import METADATA_FILE, load_metadata
from kwgan.sample import generate
from scripts import ok, run_code, run_script

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


def sample_in_process(capfd, *args, cli=kwgan.sample) -> tuple[int, str]:
    """`python -m kwgan.sample ARGS` (or another `cli` module) run in this process: its
    exit status and stderr. For what is refused before TensorFlow loads the model, so it
    runs on any backend; the flags the CLI defined are removed afterwards."""
    capfd.readouterr()
    sys.argv = [cli.__name__, *map(str, args)]
    try:
        cli.main()
        code = 0
    except SystemExit as exit_:
        code = 0 if exit_.code is None else exit_.code
    finally:
        flags.FLAGS.unparse_flags()
        for flag in flags.FLAGS.get_flags_for_module(cli.__name__):
            delattr(flags.FLAGS, flag.name)
    return code, capfd.readouterr().err


def refused(capfd, *args, words=(), cli=kwgan.sample) -> str:
    """The one stderr line of `python -m kwgan.sample ARGS` (or `cli`; run in this
    process), which must fail with it, naming each of `words`."""
    code, err = sample_in_process(capfd, *args, cli=cli)
    assert code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "error:" in err
    for word in words:
        assert word in err, (word, err)
    return err


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
def test_cli_reports_a_damaged_export_in_one_line(images, tmp_path, capfd, how, words):
    damage(images, how)
    refused(capfd, images, "--n", 2, "--npy", tmp_path / "x.npy", words=[str(images), *words])
    assert not (tmp_path / "x.npy").exists()


@pytest.mark.backend_neutral
def test_cli_reports_a_missing_export_in_one_line(tmp_path, capfd):
    nowhere = tmp_path / "nowhere"
    refused(capfd, nowhere, "--out", tmp_path / "g.png", words=[str(nowhere), "does not exist"])
    assert os.listdir(tmp_path) == []


@pytest.mark.backend_neutral
@pytest.mark.parametrize("flag", ["--out", "--npy"])
def test_cli_never_replaces_an_existing_directory(exports, tmp_path, capfd, flag):
    photos = tmp_path / "photos"
    (photos / "album").mkdir(parents=True)
    (photos / "cat.jpg").write_bytes(b"\xff\xd8 a cat")
    (photos / "album" / "dog.jpg").write_bytes(b"\xff\xd8 a dog")
    before = snapshot(photos)
    refused(capfd, exports[0], "--n", 2, flag, photos, words=[str(photos), "existing directory"])
    assert snapshot(photos) == before
    assert os.listdir(tmp_path) == ["photos"]


@pytest.mark.backend_neutral
def test_points_generator_has_no_grid_but_writes_npy(exports, tmp_path, capfd):
    words = ["points of shape (2,)", "not images", "--npy"]
    refused(capfd, exports[1], "--n", 5, "--out", tmp_path / "grid.png", words=words)
    assert os.listdir(tmp_path) == []
    assert sample_in_process(capfd, exports[1], "--n", 5, "--npy", tmp_path / "points.npy")[0] == 0
    points = np.load(tmp_path / "points.npy")
    assert points.shape == (5, 2) and points.dtype == np.float32


@pytest.mark.backend_neutral
def test_grid_too_large_to_open_is_refused_before_generating(exports, tmp_path, capfd):
    # 10⁶ samples would take long to draw: failing fast shows the check comes first.
    words = ["pixels", "MAX_IMAGE_PIXELS", "--scale", "--npy"]
    refused(capfd, exports[0], "--n", 10**6, "--out", tmp_path / "grid.png", words=words)
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
def test_cli_rejects_bad_flags_in_one_line(exports, tmp_path, capfd, args, words):
    args = [str(tmp_path / a) if a.endswith((".npy", ".png")) else a for a in args]
    refused(capfd, exports[0], *args, words=words)
    assert os.listdir(tmp_path) == []


@pytest.mark.backend_neutral
def test_cli_without_tensorflow_says_how_to_install_it(exports, tmp_path, capfd, monkeypatch):
    monkeypatch.setattr(kwgan.export, "find_spec", lambda name: None)  # how kwgan asks
    words = ["needs TensorFlow", "pip install"]
    refused(capfd, exports[0], "--npy", tmp_path / "x.npy", words=words)
    assert os.listdir(tmp_path) == []


@pytest.mark.backend_neutral
@pytest.mark.parametrize("flag, name", [("--npy", "notes.txt"), ("--out", "photo.png")])
def test_cli_keeps_an_existing_file_unless_told_to_overwrite(exports, tmp_path, capfd, flag, name):
    (tmp_path / name).write_text("the user's")
    code, err = sample_in_process(capfd, exports[0], "--n", 2, flag, tmp_path / name)
    assert code == 1 and len(err.splitlines()) == 1, err
    assert f"{flag} " in err and name in err and "already exists" in err and "--overwrite" in err
    assert (tmp_path / name).read_text() == "the user's"
    assert os.listdir(tmp_path) == [name]


@pytest.mark.backend_neutral
@pytest.mark.parametrize("name", ["grid.txt", "grid"])
def test_cli_refuses_a_grid_suffix_that_names_no_image_format(exports, tmp_path, capfd, name):
    code, err = sample_in_process(capfd, exports[0], "--n", 4, "--out", tmp_path / name)
    assert code == 1 and len(err.splitlines()) == 1, err
    assert "names no image format" in err and ".jpg" in err
    assert os.listdir(tmp_path) == []


@pytest.mark.backend_neutral
def test_cli_writes_the_grid_format_its_suffix_names_and_overwrites_when_told(exports, tmp_path):
    (tmp_path / "x.npy").write_text("an older draw, replaced as asked")
    args = ["--n", 4, "--scale", 1, "--out", tmp_path / "grid.jpg", "--npy", tmp_path / "x.npy"]
    ok(run_script("kwgan.sample", exports[0], *args, "--overwrite", env=TENSORFLOW))
    with Image.open(tmp_path / "grid.jpg") as grid:
        assert grid.format == "JPEG" and grid.size == (
            2 * 5 + 1,
            2 * 5 + 1,
        )  # 2x2 of 4x4, 1-px borders
    assert np.load(tmp_path / "x.npy").shape == (4, 4, 4, 1)
    assert sorted(os.listdir(tmp_path)) == ["grid.jpg", "x.npy"]


@pytest.mark.backend_neutral
@pytest.mark.parametrize(
    ("module", "output"), [("kwgan.sample", "--out"), ("kwgan.score", "--json")]
)
def test_fresh_interpreter_prints_only_the_error(module, output, tmp_path):
    """No TensorFlow start-up log before the line in a new `python -m` process, with no
    TF_CPP_MIN_LOG_LEVEL in the environment: kwgan's command lines ask for silence
    themselves (kwgan/startup.py), and TensorFlow's import-time lines ignore the level."""
    nowhere = tmp_path / "nowhere"
    result = run_script(
        module, nowhere, output, tmp_path / "x", env={**TENSORFLOW, "TF_CPP_MIN_LOG_LEVEL": None}
    )
    assert result.returncode == 1
    name = module.split(".")[1]
    assert result.stderr.splitlines() == [
        f"{name}.py: error: {str(nowhere)!r} does not exist; pass the directory "
        "export_generator wrote (e.g. saved_models/digits)."
    ]


@pytest.mark.backend_neutral
def test_score_refuses_an_export_that_names_no_dataset(exports, tmp_path, capfd):
    """An export made outside the experiments has no test split to be scored against: said
    before any Inception pass (the FID weights are not needed to refuse it)."""
    refused(capfd, exports[0], "--n", 4, words=["names no dataset"], cli=kwgan.score)


@pytest.mark.backend_neutral
def test_score_refuses_an_export_of_a_dataset_without_test_split(images, tmp_path, capfd):
    info = json.loads((images / METADATA_FILE).read_text())
    (images / METADATA_FILE).write_text(json.dumps({**info, "dataset": "digits"}))
    refused(capfd, images, "--n", 4, words=["'digits', which has no test split"], cli=kwgan.score)


@pytest.mark.backend_neutral
def test_score_refuses_an_existing_json_before_scoring(exports, tmp_path, capfd):
    notes = tmp_path / "notes.json"
    notes.write_text("the user's")
    refused(
        capfd, exports[0], "--json", notes, words=[str(notes), "already exists"], cli=kwgan.score
    )
    assert notes.read_text() == "the user's"
