"""SavedModel export of generators, checked from the serving side.

The exported model is loaded in a fresh interpreter that imports only TensorFlow, because
that is the deployment contract: no Keras, no kwgan. Run under every KERAS_BACKEND; on JAX
and torch the export itself goes through the TensorFlow subprocess. Subprocesses each cost a
TensorFlow import, so the exported model is shared by the module and each check spawns at
most one.
"""

import importlib.util
import json
import os

import keras
import numpy as np
import pytest
from PIL import Image

from kwgan import export as kwgan_export
from kwgan.errors import DataNotFoundError, ExportError, OutputExistsError
from kwgan.export import METADATA_FILE, export_generator, load_metadata
from kwgan.grid import image_grid
from scripts import ok, run_code, run_script

LATENT_DIM = 3
METADATA = {"objective": "wgan-gp", "architecture": "test-mlp", "generator_iterations": 7}

# The CLI never uses Keras, but `import kwgan` imports it; the TF backend spares the
# subprocess importing a second framework besides the TensorFlow it serves with.
CLI_ENV = {"KERAS_BACKEND": "tensorflow"}
# Serving loads the SavedModel with TensorFlow alone, outside the repository (the scripts
# below also make Keras and kwgan unimportable).
SERVING_ENV = {"PYTHONPATH": None, "KERAS_BACKEND": None}

requires_tf = pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None,  # find_spec: no TF import on jax/torch
    reason="export needs TensorFlow",
)

# Run in a fresh interpreter: load the SavedModel with TensorFlow alone and serve each
# noise file. argv: model dir, result json, then (noise .npy, output .npy) pairs. Keras and
# kwgan are made unimportable, as on a serving host without them (`import tensorflow` itself
# pulls in bits of Keras when it is installed, so checking sys.modules would prove nothing).
SERVE_WITH_TF_ONLY = """
    import json, sys
    sys.modules.update(keras=None, kwgan=None)
    import numpy as np
    import tensorflow as tf

    model_dir, report, *files = sys.argv[1:]
    loaded = tf.saved_model.load(model_dir)
    for noise_file, out_file in zip(files[::2], files[1::2]):
        np.save(out_file, loaded.serve(tf.constant(np.load(noise_file))).numpy())
    serving_default = loaded.signatures["serving_default"]
    with open(report, "w") as f:
        json.dump({
            "signatures": sorted(loaded.signatures),
            "input": serving_default.structured_input_signature[1]["noise"].shape.as_list(),
        }, f)
"""


def _generator():
    """Dense → BN → Dense → (4, 4, 1) tanh, with BN statistics moved away from 0/1."""
    keras.utils.set_random_seed(0)
    noise = keras.Input((LATENT_DIM,), name="noise")
    x = keras.layers.Dense(16)(noise)
    x = keras.layers.BatchNormalization(momentum=0.5)(x)
    x = keras.layers.Dense(16)(x)
    x = keras.layers.Reshape((4, 4, 1))(x)
    images = keras.layers.Activation("tanh")(x)
    generator = keras.Model(noise, images, name="generator")
    batch = np.random.default_rng(1).normal(2.0, 3.0, (64, LATENT_DIM)).astype("float32")
    for _ in range(3):
        generator(batch, training=True)  # a training-mode pass updates the moving stats
    return generator


def _noise(n, seed):
    return np.random.default_rng(seed).standard_normal((n, LATENT_DIM), dtype=np.float32)


def _inference(generator, noise):
    return keras.ops.convert_to_numpy(generator(noise, training=False))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(generator, SavedModel dir): one export shared by the serving-side tests."""
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("export needs TensorFlow")
    generator = _generator()
    moving_mean = keras.ops.convert_to_numpy(generator.layers[2].moving_mean)
    assert np.abs(moving_mean).max() > 0.1, "BN statistics should differ from init"
    path = tmp_path_factory.mktemp("export") / "digits"
    assert export_generator(generator, path, metadata=METADATA) == str(path)
    return generator, str(path)


def test_tf_only_serving_matches_keras_inference(exported, tmp_path):
    generator, path = exported
    args = [path, str(tmp_path / "report.json")]
    noises = {1: _noise(1, seed=2), 17: _noise(17, seed=3)}
    for n, noise in noises.items():
        np.save(tmp_path / f"noise{n}.npy", noise)
        args += [str(tmp_path / f"noise{n}.npy"), str(tmp_path / f"out{n}.npy")]
    ok(run_code(SERVE_WITH_TF_ONLY, *args, cwd=tmp_path, env=SERVING_ENV))

    report = json.loads((tmp_path / "report.json").read_text())
    assert {"serve", "serving_default"} <= set(report["signatures"])
    assert report["input"] == [None, LATENT_DIM]
    for n, noise in noises.items():
        served = np.load(tmp_path / f"out{n}.npy")
        assert served.dtype == np.float32 and served.shape == (n, 4, 4, 1)
        np.testing.assert_allclose(served, generator.predict(noise, verbose=0), atol=1e-5)
        np.testing.assert_allclose(served, _inference(generator, noise), atol=1e-5)


def test_metadata_round_trip(exported):
    _, path = exported
    assert load_metadata(path) == {
        **METADATA,
        "backend": keras.backend.backend(),
        "latent_dim": LATENT_DIM,
        "output_shape": [4, 4, 1],
        "conditional": False,
        "format": "kwgan.generator",
        "version": 1,
        "signature": "serve",
    }
    assert os.path.isfile(os.path.join(path, METADATA_FILE))


def test_sample_cli_writes_grid_and_samples(exported, tmp_path):
    generator, path = exported
    grid, npy = tmp_path / "grid.png", tmp_path / "samples.npy"
    flags = ["--n", "5", "--out", grid, "--seed", "4", "--npy", npy, "--scale", "2"]
    ok(run_script("kwgan.sample", path, *flags, env=CLI_ENV))
    samples = np.load(npy)
    np.testing.assert_allclose(samples, _inference(generator, _noise(5, seed=4)), atol=1e-5)
    with Image.open(grid) as png:
        # 5 images of 4×4 → 3 per row, 2 rows → 11×16 px with 1-px padding, then ×2.
        assert png.size == (32, 22)
        pixels = np.asarray(png)
    expected = image_grid(samples).repeat(2, axis=0).repeat(2, axis=1)[..., 0]
    np.testing.assert_array_equal(pixels, expected)


@pytest.mark.backend_neutral
@requires_tf
def test_sample_cli_rejects_non_kwgan_directory(tmp_path):
    result = run_script("kwgan.sample", tmp_path, "--out", tmp_path / "g.png", env=CLI_ENV)
    assert result.returncode == 1
    assert "is not a kwgan SavedModel" in result.stderr
    assert not (tmp_path / "g.png").exists()


@keras.saving.register_keras_serializable(package="kwgan_tests")
class FailsAtInference(keras.layers.Layer):
    """Identity while building; raises when called for inference, as export does."""

    def call(self, x, training=None):
        if training is False:
            raise RuntimeError("boom: this layer cannot be exported")
        return x


@requires_tf
def test_failed_export_leaves_no_destination(tmp_path):
    noise = keras.Input((LATENT_DIM,))
    generator = keras.Model(noise, FailsAtInference()(keras.layers.Dense(4)(noise)))
    path = tmp_path / "broken"
    with pytest.raises(RuntimeError, match="boom"):
        export_generator(generator, path)
    assert os.listdir(tmp_path) == []  # neither the destination nor a temporary


def test_a_stuck_export_subprocess_is_stopped_with_a_clear_error(tmp_path, monkeypatch):
    """On JAX and torch the SavedModel is written by a TensorFlow subprocess; one that does
    not finish in time is killed and named, not waited for forever."""
    monkeypatch.setattr(kwgan_export, "_EXPORT_TIMEOUT_S", 0.01)  # less than Python's start
    directory = tmp_path / "out"
    with pytest.raises(ExportError, match=r"did not finish in 0\.01 s.*rerun the export"):
        kwgan_export._write_saved_model_in_subprocess(_small_generator(), str(directory))
    assert os.listdir(tmp_path) == []


def test_failed_re_export_keeps_previous_export(exported, tmp_path, monkeypatch):
    generator, path = exported
    before = sorted(os.listdir(path))

    def fail_midway(generator, directory):
        os.makedirs(directory)
        open(os.path.join(directory, "saved_model.pb"), "w").close()
        raise RuntimeError("interrupted")

    monkeypatch.setattr(kwgan_export, "_write_saved_model", fail_midway)
    monkeypatch.setattr(kwgan_export, "_write_saved_model_in_subprocess", fail_midway)
    with pytest.raises(RuntimeError, match="interrupted"):
        export_generator(generator, path, metadata={"objective": "other"})
    assert sorted(os.listdir(path)) == before
    assert load_metadata(path)["objective"] == METADATA["objective"]
    assert [p for p in os.listdir(os.path.dirname(path)) if p.startswith(".")] == []


def _fake_writer(generator, directory):
    """Stands in for the (slow) SavedModel writers: the files they write, as placeholders."""
    os.makedirs(os.path.join(directory, "variables"))
    for name in ("saved_model.pb", "fingerprint.pb", "variables/variables.index"):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(b"placeholder")


@pytest.fixture
def fake_writers(monkeypatch):
    monkeypatch.setattr(kwgan_export, "require_tensorflow", lambda: None)
    monkeypatch.setattr(kwgan_export, "_write_saved_model", _fake_writer)
    monkeypatch.setattr(kwgan_export, "_write_saved_model_in_subprocess", _fake_writer)


def test_refuses_to_replace_unrelated_directory(tmp_path, fake_writers):
    photos = tmp_path / "photos"
    (photos / "2024").mkdir(parents=True)
    (photos / "keep.jpg").write_bytes(b"\xff\xd8 precious")
    (photos / "2024" / "beach.jpg").write_bytes(b"\xff\xd8 beach")
    before = {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()}
    with pytest.raises(OutputExistsError, match="photos.*refusing to replace it"):
        export_generator(_small_generator(), photos)
    assert {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in photos.rglob("*")) == ["2024", "beach.jpg", "keep.jpg"]
    assert os.listdir(tmp_path) == ["photos"]


def test_re_export_replaces_previous_export_only(tmp_path, fake_writers):
    path = tmp_path / "model"
    export_generator(_small_generator(), path, metadata={"objective": "wgan"})
    export_generator(_small_generator(), path, metadata={"objective": "wgan-gp"})
    assert load_metadata(path)["objective"] == "wgan-gp"
    assert os.listdir(tmp_path) == ["model"]  # the old export deleted, nothing hidden left
    (path / "notes.txt").write_text("the user's")  # no longer only what kwgan wrote
    with pytest.raises(OutputExistsError):
        export_generator(_small_generator(), path, metadata={"objective": "dcgan"})
    assert (path / "notes.txt").read_text() == "the user's"
    assert load_metadata(path)["objective"] == "wgan-gp"


def _small_generator(inputs=((LATENT_DIM,),)):
    tensors = [keras.Input(shape) for shape in inputs]
    x = tensors[0] if len(tensors) == 1 else keras.layers.Concatenate()(tensors)
    return keras.Model(tensors, keras.layers.Dense(2)(x))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: keras.layers.Dense(2), "keras.Model"),
        (lambda: keras.Sequential([keras.layers.Dense(2)]), "no symbolic inputs"),
        (lambda: _small_generator(inputs=((2,), (2,), (2,))), "3 inputs"),
        (lambda: _small_generator(inputs=((2,), (2,))), "second input"),
        (lambda: _small_generator(inputs=((4, 2),)), "latent_dim"),
    ],
)
def test_rejects_generators_that_are_not_noise_to_images(tmp_path, make, match):
    with pytest.raises(ValueError, match=match):
        export_generator(make(), tmp_path / "out")
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize(
    "metadata, match",
    [
        ({"latent_dim": LATENT_DIM + 1}, "contradicts"),
        ({"seed": np.random.default_rng(0)}, "JSON"),
        (["objective", "wgan"], "dict"),
    ],
)
def test_rejects_bad_metadata_before_exporting(tmp_path, metadata, match):
    with pytest.raises(ValueError, match=match):
        export_generator(_small_generator(), tmp_path / "out", metadata=metadata)
    assert not os.listdir(tmp_path)


def test_missing_tensorflow_is_a_clear_import_error(tmp_path, monkeypatch):
    monkeypatch.setattr(kwgan_export, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"pip install kwgan\[tensorflow\]"):
        export_generator(_small_generator(), tmp_path / "out")


def test_load_metadata_rejects_other_directories(tmp_path):
    with pytest.raises(DataNotFoundError, match="missing.*does not exist"):
        load_metadata(tmp_path / "missing")
    with pytest.raises(ExportError, match="not a kwgan SavedModel"):
        load_metadata(tmp_path)
    (tmp_path / METADATA_FILE).write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="not kwgan generator metadata"):
        load_metadata(tmp_path)


# A conditional generator serves [noise, labels]; checked the same way, TF alone.
SERVE_CONDITIONAL_WITH_TF_ONLY = """
    import sys
    sys.modules.update(keras=None, kwgan=None)
    import numpy as np
    import tensorflow as tf

    model_dir, *files = sys.argv[1:]
    loaded = tf.saved_model.load(model_dir)
    for noise_file, labels_file, out_file in zip(files[::3], files[1::3], files[2::3]):
        out = loaded.serve(tf.constant(np.load(noise_file)), tf.constant(np.load(labels_file)))
        np.save(out_file, out.numpy())
"""


def _conditional_generator():
    """[noise, labels] → (2, 2, 1): a class embedding added to a Dense of the noise."""
    keras.utils.set_random_seed(0)
    noise, labels = keras.Input((LATENT_DIM,)), keras.Input((), dtype="int32")
    x = keras.layers.Add()([keras.layers.Dense(4)(noise), keras.layers.Embedding(3, 4)(labels)])
    return keras.Model([noise, labels], keras.layers.Reshape((2, 2, 1))(x), name="generator")


@requires_tf
def test_conditional_export_serves_noise_and_labels(tmp_path):
    generator = _conditional_generator()
    with pytest.raises(ValueError, match="pass num_classes"):
        export_generator(generator, tmp_path / "bad")
    path = tmp_path / "conditional"
    export_generator(generator, path, num_classes=3)
    info = load_metadata(path)
    assert info["conditional"] is True and info["num_classes"] == 3

    args = [str(path)]
    cases = {n: (_noise(n, seed=n), np.arange(n, dtype="int32") % 3) for n in (1, 17)}
    for n, (noise, labels) in cases.items():
        np.save(tmp_path / f"noise{n}.npy", noise)
        np.save(tmp_path / f"labels{n}.npy", labels)
        args += [str(tmp_path / f"{name}{n}.npy") for name in ("noise", "labels", "out")]
    ok(run_code(SERVE_CONDITIONAL_WITH_TF_ONLY, *args, cwd=tmp_path, env=SERVING_ENV))
    for n, (noise, labels) in cases.items():
        expected = keras.ops.convert_to_numpy(generator([noise, labels], training=False))
        np.testing.assert_allclose(np.load(tmp_path / f"out{n}.npy"), expected, atol=1e-5)

    # The CLI cycles through the classes, or draws the one --label asks for.
    npy = tmp_path / "samples.npy"
    flags = ["--n", "4", "--out", tmp_path / "g.png", "--label", "2", "--npy", npy]
    ok(run_script("kwgan.sample", path, *flags, env=CLI_ENV))
    expected = keras.ops.convert_to_numpy(
        generator([_noise(4, seed=0), np.full(4, 2)], training=False)
    )
    np.testing.assert_allclose(np.load(npy), expected, atol=1e-5)
    with Image.open(tmp_path / "g.png") as png:
        assert png.size == (28, 28)  # one class: a square 2×2 grid of 2×2 images, ×4
