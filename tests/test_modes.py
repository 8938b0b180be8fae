"""Files deepgui writes get the mode the user's umask gives any new file (issue 23, point 13):
the atomic writes once made private 0600 files (tempfile's mode), which the rename carried over
to saved projects, weights files, signatures and scripts."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from deepgui.core import fileio
from deepgui.core.project import Project
from deepgui.core.weights import save_layer_weights


class _Variable:
    path = "dense/kernel"
    name = "kernel"

    def numpy(self):
        return np.ones((2, 3), np.float32)


class _Layer:
    weights = [_Variable()]


@pytest.fixture(params=[0o022, 0o077], ids=["umask022", "umask077"])
def umask(request):
    before = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(before)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_saved_project_weights_and_atomic_writes_follow_the_umask(tmp_path, umask):
    file_mode, folder_mode = 0o666 & ~umask, 0o777 & ~umask
    project = Project()
    saved = project.save(tmp_path / "mine.dgproj")
    weights = save_layer_weights({"dense": _Layer()}, tmp_path / "mine.weights.h5")
    text = fileio.atomic_write_text(tmp_path / "signature.json", "{}\n")
    data = fileio.atomic_write_bytes(tmp_path / "model.bin", b"\0")
    with fileio.staged(tmp_path / "model.keras", suffix=".keras") as tmp:
        tmp.write_bytes(b"zip")  # as a writer that opens the staged file again does
    folder = fileio.temp_folder(tmp_path / "saved_model")

    for path in (saved, weights, text, data, tmp_path / "model.keras"):
        assert _mode(path) == file_mode, f"{path.name}: {oct(_mode(path))}"
    assert _mode(folder) == folder_mode, oct(_mode(folder))
    assert {0o022: 0o644, 0o077: 0o600}[umask] == file_mode


def test_an_overwrite_gets_the_umask_mode_too(tmp_path, umask):
    """A file written by an earlier deepgui with 0600 comes out as any new file on its next save."""
    path = tmp_path / "old.dgproj"
    path.write_text("{}")
    os.chmod(path, 0o600)
    fileio.atomic_write_text(path, "new")
    assert _mode(path) == 0o666 & ~umask
    assert path.read_text() == "new"
