"""`kwgan.io.atomic_path`: outputs replace files (unless told not to), never a directory
kwgan did not write.

Plain file-system work (no backend, no TensorFlow), so it runs the same on every backend.
"""

import json
import os

import pytest

from kwgan.errors import ConfigError, OutputExistsError
from kwgan.export import METADATA_FILE, check_export_path, is_export_directory
from kwgan.io import atomic_path, check_directory, check_output


def snapshot(root):
    """Every entry under `root`, files with their bytes, links with their targets."""
    tree = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(directory, name)
            key = os.path.relpath(full, root)
            if os.path.islink(full):
                tree[key] = ("link", os.readlink(full))
            elif os.path.isdir(full):
                tree[key] = ("dir", None)
            else:
                with open(full, "rb") as f:
                    tree[key] = ("file", f.read())
    return tree


def hidden(directory):
    """atomic_path's temporary and set-aside names (all start with a dot)."""
    return [name for name in os.listdir(directory) if name.startswith(".")]


def make_photos(path):
    """A user's directory: what an output path must never delete."""
    (path / "album").mkdir(parents=True)
    (path / "cat.jpg").write_bytes(b"\xff\xd8 a cat")
    (path / "album" / "dog.jpg").write_bytes(b"\xff\xd8 a dog")
    return snapshot(path)


def make_export(path, objective="old"):
    """The files export_generator writes, with placeholder contents."""
    (path / "variables").mkdir(parents=True)
    (path / "assets").mkdir()
    (path / "saved_model.pb").write_bytes(b"graph")
    (path / "fingerprint.pb").write_bytes(b"fingerprint")
    (path / "variables" / "variables.index").write_bytes(b"index")
    (path / "variables" / "variables.data-00000-of-00001").write_bytes(b"data")
    (path / METADATA_FILE).write_text(json.dumps({"objective": objective}))


def write_text(tmp, text):
    with open(tmp, "w") as f:
        f.write(text)


def write(tmp, kind):
    """What a writer makes at atomic_path's temporary name: a file or a directory."""
    if kind == "directory":
        os.makedirs(tmp)
    else:
        write_text(tmp, "new")


def test_new_file_is_written_without_leftovers(tmp_path):
    with atomic_path(tmp_path / "sub" / "out.txt", suffix=".txt") as tmp:
        assert tmp.endswith(".txt") and not os.path.exists(tmp)
        write_text(tmp, "new")
    assert (tmp_path / "sub" / "out.txt").read_text() == "new"
    assert os.listdir(tmp_path / "sub") == ["out.txt"]


def test_existing_file_is_replaced(tmp_path):
    (tmp_path / "out.txt").write_text("old")
    with atomic_path(tmp_path / "out.txt") as tmp:
        write_text(tmp, "new")
    assert (tmp_path / "out.txt").read_text() == "new"
    assert os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("writes", ["file", "directory"])
@pytest.mark.parametrize("replaceable", [None, lambda path: False])
def test_directory_is_refused_before_writing_and_left_untouched(tmp_path, writes, replaceable):
    photos = tmp_path / "photos"
    before = make_photos(photos)
    ran = False
    with pytest.raises(OutputExistsError, match="photos.*existing directory.*move"):
        with atomic_path(photos, replaceable=replaceable) as tmp:
            ran = True
            write(tmp, writes)
    assert not ran  # refused before the (possibly slow) writer ran
    assert snapshot(photos) == before
    assert os.listdir(tmp_path) == ["photos"]


def test_empty_directory_is_refused_too(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(OutputExistsError):
        check_output(tmp_path / "empty")
    assert os.listdir(tmp_path / "empty") == []


def test_directory_appearing_while_writing_is_refused_and_kept(tmp_path):
    photos = tmp_path / "photos"
    with pytest.raises(OutputExistsError):
        with atomic_path(photos) as tmp:
            write_text(tmp, "new")
            before = make_photos(photos)  # another process creates it meanwhile
    assert snapshot(photos) == before
    assert hidden(tmp_path) == []


@pytest.mark.parametrize("writes", ["file", "directory"])
def test_replaceable_directory_is_replaced_without_leftovers(tmp_path, writes):
    out = tmp_path / "model"
    make_export(out)
    with atomic_path(out, replaceable=is_export_directory) as tmp:
        if writes == "directory":
            make_export(type(out)(tmp), objective="new")
        else:
            write_text(tmp, "new")
    if writes == "directory":
        assert json.loads((out / METADATA_FILE).read_text()) == {"objective": "new"}
    else:
        assert out.read_text() == "new"
    assert os.listdir(tmp_path) == ["model"]  # the old one is gone, nothing hidden is left


@pytest.mark.parametrize("writes", ["file", "directory"])
def test_failed_write_removes_temporary_and_keeps_previous(tmp_path, writes):
    (tmp_path / "out").write_text("previous")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_path(tmp_path / "out") as tmp:
            if writes == "directory":
                os.makedirs(os.path.join(tmp, "nested"))
            else:
                write_text(tmp, "half")
            raise RuntimeError("interrupted")
    assert (tmp_path / "out").read_text() == "previous"
    assert os.listdir(tmp_path) == ["out"]


def test_failed_swap_puts_the_previous_export_back(tmp_path, monkeypatch):
    out = tmp_path / "model"
    make_export(out)
    before = snapshot(out)
    rename = os.rename

    def fail_moving_in(src, dst):
        if os.fspath(dst) == str(out) and ".tmp" in os.fspath(src):
            raise OSError("disk trouble")
        rename(src, dst)

    monkeypatch.setattr(os, "rename", fail_moving_in)
    with pytest.raises(OSError, match="disk trouble"):
        with atomic_path(out, replaceable=is_export_directory) as tmp:
            make_export(type(out)(tmp), objective="new")
    assert snapshot(out) == before
    assert os.listdir(tmp_path) == ["model"]


@pytest.mark.parametrize("writes", ["file", "directory"])
@pytest.mark.parametrize("points_to", ["directory", "file"])
def test_symlink_is_replaced_and_what_it_points_to_is_untouched(tmp_path, writes, points_to):
    photos = tmp_path / "photos"
    before = make_photos(photos)
    link = tmp_path / "link"
    link.symlink_to(photos if points_to == "directory" else photos / "cat.jpg")
    with atomic_path(link) as tmp:
        write(tmp, writes)
    assert not link.is_symlink()
    assert link.is_dir() if writes == "directory" else link.read_text() == "new"
    assert snapshot(photos) == before
    assert sorted(os.listdir(tmp_path)) == ["link", "photos"]


def test_is_export_directory_accepts_only_what_an_export_writes(tmp_path):
    make_export(tmp_path / "export")
    assert is_export_directory(tmp_path / "export")
    (tmp_path / "export" / "notes.txt").write_text("the user's")
    assert not is_export_directory(tmp_path / "export")  # deleting it would lose the notes

    make_export(tmp_path / "assets_used")
    (tmp_path / "assets_used" / "assets" / "vocab.txt").write_text("x")
    assert not is_export_directory(tmp_path / "assets_used")

    make_export(tmp_path / "no_metadata")
    (tmp_path / "no_metadata" / METADATA_FILE).unlink()
    assert not is_export_directory(tmp_path / "no_metadata")

    (tmp_path / "link").symlink_to(tmp_path / "export")
    assert not is_export_directory(tmp_path / "link")
    assert not is_export_directory(tmp_path / "missing")


@pytest.mark.backend_neutral
@pytest.mark.parametrize("entry", ["file", "link to a file", "link to a directory"])
def test_without_overwrite_an_existing_file_or_link_is_refused_and_kept(tmp_path, entry):
    photos = tmp_path / "photos"
    make_photos(photos)
    out = tmp_path / "notes.txt"
    if entry == "file":
        out.write_text("the user's notes")
    else:
        out.symlink_to(photos / "cat.jpg" if entry == "link to a file" else photos)
    before = snapshot(tmp_path)
    ran = False
    with pytest.raises(OutputExistsError, match="notes.txt.*already exists.*move the file away"):
        with atomic_path(out, overwrite=False) as tmp:
            ran = True
            write_text(tmp, "new")
    assert not ran and snapshot(tmp_path) == before
    with pytest.raises(OutputExistsError):
        check_output(out, overwrite=False)


@pytest.mark.backend_neutral
def test_without_overwrite_a_file_appearing_while_writing_is_kept(tmp_path):
    out = tmp_path / "notes.txt"
    with pytest.raises(OutputExistsError):
        with atomic_path(out, overwrite=False) as tmp:
            write_text(tmp, "new")
            out.write_text("the user's notes")  # another process writes it meanwhile
    assert out.read_text() == "the user's notes"
    assert os.listdir(tmp_path) == ["notes.txt"]


@pytest.mark.backend_neutral
def test_an_export_refuses_a_file_and_replaces_only_a_previous_export(tmp_path):
    (tmp_path / "notes.txt").write_text("the user's notes")
    with pytest.raises(OutputExistsError, match="notes.txt.*refusing to replace it"):
        check_export_path(tmp_path / "notes.txt")
    (tmp_path / "link").symlink_to(tmp_path / "notes.txt")
    with pytest.raises(OutputExistsError):
        check_export_path(tmp_path / "link")
    make_export(tmp_path / "model")
    check_export_path(tmp_path / "model")  # a previous export: replaced
    check_export_path(tmp_path / "new")


@pytest.mark.backend_neutral
def test_check_directory_names_a_file_in_the_way(tmp_path):
    check_directory(tmp_path / "new" / "deeper", "out")  # created later, by the run
    check_directory(tmp_path, "out")
    (tmp_path / "notes.txt").write_text("the user's")
    with pytest.raises(ConfigError, match=r"--tensorboard .*notes.txt is not a directory;"):
        check_directory(tmp_path / "notes.txt", "tensorboard")
    with pytest.raises(ConfigError, match=r"--out .*run is not a directory \(.*notes.txt on"):
        check_directory(tmp_path / "notes.txt" / "run", "out")
