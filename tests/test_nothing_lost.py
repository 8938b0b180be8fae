"""The other side of the bad-input corpus: what --force may replace (only what deepgui wrote),
what a valid but unusual input gives (decimal commas, Keras layer names the rule does not
allow), and the pieces everything else relies on (regular-file reads, staged writes, the run
folder lock)."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

from deepgui.cli import main
from deepgui.core import fileio
from deepgui.core.errors import DatasetError, DeepGuiError, ProjectFormatError
from tests.badinput.cases import IRIS_CSV, dense_project, write_json


def run_cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    project = write_json(root / "p.dgproj", dense_project(dataset={"source": "builtin",
                                                                   "name": "iris"}))  # fmt: skip
    rc, _, err = run_cli("train", project, "--out", root / "run")
    assert rc == 0, err
    return root / "run"


# ----------------------------------------------------------------------------- fileio
@pytest.mark.timeout(20)
def test_reads_refuse_pipes_and_devices_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    for path, kind in ((tmp_path / "pipe", "a pipe"), (Path("/dev/zero"), "a device")):
        with pytest.raises(fileio.ReadError, match=f"is {kind}, not a data file"):
            fileio.read_bytes(path, "data file")
    (tmp_path / "big").write_bytes(b"x" * 100)
    with pytest.raises(fileio.ReadError, match="more than deepgui reads"):
        fileio.read_bytes(tmp_path / "big", "data file", max_bytes=99)
    assert fileio.read_bytes(tmp_path / "big", "data file", max_bytes=100) == b"x" * 100


def test_a_failed_staged_write_keeps_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")
    full = pytest.raises(fileio.WriteError, match="f.txt: cannot be written: the disk is full")
    with full, fileio.staged(target) as tmp:
        tmp.write_text("half")
        raise OSError(28, "No space left on device")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["f.txt"]
    fileio.atomic_write_text(target, "new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["f.txt"]


# ----------------------------------------------------------------------------- --force
def test_import_force_replaces_only_an_earlier_import(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
    model.save(tmp_path / "m.keras")
    out = tmp_path / "m.dgproj"
    assert run_cli("import", tmp_path / "m.keras", "-o", out)[0] == 0
    rc, _, err = run_cli("import", tmp_path / "m.keras", "-o", out)
    assert rc == 1 and "already exists" in err and "--force" in err
    assert run_cli("import", tmp_path / "m.keras", "-o", out, "--force")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.dgproj", "m.keras", "m.weights.h5"]


def test_export_force_replaces_an_earlier_export(run, tmp_path):
    for fmt, name, beside in (
        ("keras", "m.keras", ["m.keras.signature.json"]),
        ("python", "s.py", ["s.signature.json", "s.weights.h5"]),
    ):
        target = tmp_path / name
        assert run_cli("export", run, "--format", fmt, "-o", target)[0] == 0
        written = {n: (tmp_path / n).read_bytes() for n in [name, *beside]}
        rc, _, err = run_cli("export", run, "--format", fmt, "-o", target)
        assert rc == 1 and "already exists" in err
        assert {n: (tmp_path / n).read_bytes() for n in written} == written
        rc, out, err = run_cli("export", run, "--format", fmt, "-o", target, "--force")
        assert rc == 0, err


def test_predict_force_replaces_only_its_own_predictions(run, tmp_path):
    out = tmp_path / "p.csv"
    assert run_cli("predict", run, "--data", IRIS_CSV, "-o", out)[0] == 0
    rc, _, err = run_cli("predict", run, "--data", IRIS_CSV, "-o", out)
    assert rc == 2 and "already exists" in err  # bad input (README)
    assert run_cli("predict", run, "--data", IRIS_CSV, "-o", out, "--force")[0] == 0
    assert out.read_text().startswith("row,predicted")


def test_a_run_folder_of_deepguis_own_that_failed_early_may_be_reused(tmp_path):
    """Its lock file marks it as deepgui's: the project copy it holds may go."""
    from deepgui.core.training.prepare import check_new_run_dir
    from deepgui.core.training.rundir import LOCK, RunLock

    folder = tmp_path / "run"
    RunLock.acquire(folder).release()
    assert not folder.exists()  # nothing was written: no empty folder is left behind
    lock = RunLock.acquire(folder)
    (folder / "project.dgproj").write_text("{}")
    lock.release()
    assert (folder / LOCK).exists()
    check_new_run_dir(folder, ours=RunLock.acquire(folder).existed)
    with pytest.raises(DeepGuiError, match="not a run's copy"):
        check_new_run_dir(folder, ours=False)


@pytest.mark.parametrize("where", ["before the lock", "after the lock"])
def test_a_stop_raised_inside_the_lock_leaves_the_folders_as_they_were(
    tmp_path, monkeypatch, where
):
    """SIGTERM's exception (raised by deepgui train's handler) landing inside RunLock.acquire:
    neither the folders it made nor its lock file are left, and a later run locks at once."""
    from deepgui.core.training import rundir

    class Stopped(BaseException):
        pass

    def stop(*_args, **_kwargs):
        raise Stopped

    # os.open makes the lock file, os.write writes the holder's pid once the lock is taken.
    monkeypatch.setattr(rundir.os, "open" if where == "before the lock" else "write", stop)
    out = tmp_path / "project.runs" / "run"
    with pytest.raises(Stopped):
        rundir.RunLock.acquire(out)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    rundir.RunLock.acquire(out).release()
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- valid inputs
def test_decimal_commas_are_read_in_a_semicolon_file(tmp_path):
    from deepgui.core.data.table import read_csv, type_column

    path = tmp_path / "eu.csv"
    path.write_text("a;b;label\n1,5;2;x\n-0,25;3;y\n;4;x\n", encoding="utf-8")
    table = read_csv(path)
    column = type_column(table, "a")
    assert column.kind == "numeric"
    np.testing.assert_array_equal(column.values[:2], [1.5, -0.25])
    assert column.missing.tolist() == [False, False, True]


def test_an_overflowing_column_is_refused_by_name(tmp_path):
    from deepgui.core.data import load_dataset

    path = tmp_path / "big.csv"
    path.write_text("size,label\n" + "".join(f"{v},{i % 2}\n" for i, v in
                                             enumerate([1e307, 1.0, 2.0, 3.0] * 5)))  # fmt: skip
    with pytest.raises(DatasetError, match="column 'size' holds 1e\\+307"):
        load_dataset({"source": "csv", "path": str(path), "target": "label"})


def test_keras_layer_names_outside_the_rule_are_made_valid_on_import(tmp_path):
    import keras

    from deepgui.core.graph import layer_name_problem
    from deepgui.core.keras_import import import_model_file
    from deepgui.core.weights import read_weights

    inputs = keras.Input((4,), name="in-put")
    x = keras.layers.Dense(3, name="dense-1")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="2nd.out")(x))
    model.save(tmp_path / "m.keras")
    project = import_model_file(tmp_path / "m.keras", tmp_path / "m.dgproj")
    names = {n.name for n in project.graph}
    assert names == {"in_put", "dense_1", "_2nd_out"}
    assert all(layer_name_problem(n) is None for n in names)
    assert set(read_weights(tmp_path / "m.weights.h5")) == {"dense_1", "_2nd_out"}


def test_a_vocabulary_file_in_the_project_folder_is_read_into_it(tmp_path):
    from deepgui.core.project import load_project

    (tmp_path / "words.txt").write_text("red\ngreen\n", encoding="utf-8")
    data = dense_project()
    data["graph"]["nodes"][1] = {"id": "n2", "class_name": "StringLookup",
                                 "config": {"name": "lookup", "vocabulary": "words.txt"}}  # fmt: skip
    project = load_project(write_json(tmp_path / "p.dgproj", data))
    assert project.graph.node_by_name("lookup").config["vocabulary"] == ["red", "green"]
    data["graph"]["nodes"][1]["config"]["vocabulary"] = str(tmp_path.parent / "words.txt")
    with pytest.raises(ProjectFormatError, match="outside the project's folder"):
        load_project(write_json(tmp_path / "q.dgproj", data))


def test_a_layer_is_never_built_outside_keras_safe_mode():
    """No fallback constructs a layer from its config directly: a TextVectorization whose
    config lacks keys still comes from Keras's deserialization (defaults filled in)."""
    from deepgui.core.errors import BuildError
    from deepgui.core.graph import Node
    from deepgui.core.keras_layers import make_layer

    layer = make_layer(Node("n1", "TextVectorization", {"name": "tv", "max_tokens": 10}))
    assert layer.name == "tv"
    with pytest.raises(BuildError, match="never reads files"):
        make_layer(Node("n2", "TextVectorization", {"name": "tv", "vocabulary": "/etc/passwd"}))
    with pytest.raises(BuildError, match="holds Python code"):
        make_layer(Node("n3", "Lambda", {"name": "code", "function": "print"}))


def test_recovery_folder_odd_names_are_harmless(tmp_path):
    from deepgui.ui import recovery

    (tmp_path / f"session-{'9' * 30}.dgproj").write_text("{}")
    (tmp_path / "session-1x.dgproj").write_text("{}")
    assert recovery.orphans(tmp_path) == []
    assert json.loads((tmp_path / "session-1x.dgproj").read_text()) == {}


def test_a_keras_call_error_keeps_its_cause_and_layer():
    """Keras wraps a layer's error in "Exception encountered when calling ..." lines; the
    sentence keeps the cause and the model it happened in."""
    from deepgui.core.training.engine import describe_error

    exc = ValueError(
        "Exception encountered when calling Functional.call().\n\n"
        "\x1b[1mInvalid dtype: str for layer dense_1\x1b[0m\n\n"
        "Arguments received by Functional.call():\n  • inputs=tf.Tensor(shape=(8, 4))"
    )
    text = describe_error(exc)
    assert "Invalid dtype: str for layer dense_1" in text and "Functional" in text
    assert "\n" not in text and "\x1b" not in text and text.endswith(".")
    full = describe_error(OSError(28, "No space left on device", "/data/run/model.keras"))
    assert full == "/data/run/model.keras: cannot be written: the disk is full."
