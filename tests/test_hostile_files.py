"""Issue 22, points 1 and 4-7: files made to hurt. A SavedModel that is a program, paths that
loop or hold NUL, data of the wrong kind, a diverged run, writes into a run folder, and config
tricks that deepgui's own checks must see as Keras sees them."""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest

from deepgui.cli import main
from deepgui.core import run_layout
from deepgui.core.errors import DeepGuiError, ModelImportError, ProjectFormatError
from deepgui.core.project import project_from_dict
from tests.badinput.cases import dense_project, sequential_config, write_json


def _said(capsys) -> str:
    """What the command said on stderr: one sentence, never a generic or traceback."""
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "unexpected error" not in err and "Traceback" not in err, err
    return lines[0]


# ----------------------------------------------------------------------------- a run on a table
@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    """A one-epoch run on a CSV of four numeric columns and a label."""
    from tests.helpers import train_as_the_cli_does

    folder = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    rows = ["a,b,c,d,label"] + [
        ",".join(f"{v:.3f}" for v in rng.normal(size=4)) + f",{'xyz'[i % 3]}" for i in range(30)
    ]
    data = folder / "rows.csv"
    data.write_text("\n".join(rows) + "\n")
    project = write_json(folder / "p.dgproj", dense_project(dataset={"source": "csv"}))
    train_as_the_cli_does(project, data, folder / "run", target="label")
    return folder / "run", data


def test_a_table_run_given_an_npz_says_it_reads_a_csv(table_run, tmp_path, capsys):
    run, _ = table_run
    np.savez(tmp_path / "x.npz", x=np.zeros((3, 4), dtype=np.float32))
    assert main(["predict", str(run), "--data", str(tmp_path / "x.npz")]) == 2
    line = _said(capsys)
    assert "x.npz" in line and "trained on a table" in line and "'a'" in line


def test_a_run_whose_weights_are_not_finite_predicts_nothing(table_run, tmp_path, capsys):
    import keras

    run, data = table_run
    failed = tmp_path / "failed"
    shutil.copytree(run, failed)
    model = keras.saving.load_model(failed / run_layout.MODEL, compile=False)
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    model.save(failed / run_layout.MODEL)
    metrics = json.loads((failed / run_layout.METRICS).read_text())
    (failed / run_layout.METRICS).write_text(json.dumps({**metrics, "stopped_by": "nan_loss"}))
    assert main(["predict", str(failed), "--data", str(data)]) == 2
    line = _said(capsys)
    assert "NaN or infinite" in line and "stopped when its loss became NaN" in line
    assert capsys.readouterr().out == ""


# ----------------------------------------------------------------------------- a run folder
def _run_folder(path):
    """A folder deepgui marked as a run's, with a model in it."""
    from tests.badinput.cases import small_model

    small_model(path / run_layout.MODEL)
    (path / run_layout.LOCK).write_text("1\n")
    (path / run_layout.METRICS).write_text('{"stopped_by": "completed"}')
    return path


def test_nothing_is_exported_imported_or_predicted_into_a_run_folder(tmp_path, capsys):
    run = _run_folder(tmp_path / "run")
    model = run / run_layout.MODEL
    before = model.read_bytes()
    argv = ["export", str(run), "--format", "keras", "-o", str(model), "--force"]
    assert main(argv) == 1
    assert "inside the run folder" in _said(capsys)
    assert model.read_bytes() == before
    assert sorted(p.name for p in run.iterdir()) == sorted(
        [run_layout.MODEL, run_layout.LOCK, run_layout.METRICS]
    )
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 4), dtype=np.float32))
    argv = ["predict", str(run), "--data", str(tmp_path / "x.npz"), "-o", str(run / "p.csv")]
    assert main(argv) == 2
    assert "inside the run folder" in _said(capsys)
    argv = ["import", str(model), "-o", str(run / "sub" / "m.dgproj"), "--force"]
    assert main(argv) == 1
    assert "inside the run folder" in _said(capsys)
    assert not (run / "p.csv").exists() and not (run / "sub").exists()


@pytest.mark.parametrize("kind", ["project folder", "user folder", "finished run"])
def test_a_refused_train_out_leaves_no_lock(tmp_path, capsys, kind):
    project = write_json(tmp_path / "p.dgproj", dense_project())
    folder = {"project folder": tmp_path, "user folder": tmp_path / "mine",
              "finished run": tmp_path / "done"}[kind]  # fmt: skip
    folder.mkdir(exist_ok=True)
    if kind == "user folder":
        (folder / "notes.txt").write_text("mine")
    if kind == "finished run":
        (folder / run_layout.METRICS).write_text('{"stopped_by": "completed"}')
    before = sorted(p.name for p in folder.iterdir())
    assert main(["train", str(project), "--out", str(folder)]) == 2
    _said(capsys)
    assert sorted(p.name for p in folder.iterdir()) == before


# ----------------------------------------------------------------------------- a SavedModel
def _payload_savedmodel(folder, marker):
    """A SavedModel whose serving function writes `marker` when it runs."""
    import tensorflow as tf

    class Payload(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
        def serve(self, x):
            tf.io.write_file(str(marker), "written")
            return {"output_0": tf.nn.softmax(x[:, :3])}

    module = Payload()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    return folder


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_savedmodel_deepgui_did_not_write_runs_only_with_trust(tmp_path, capsys, command):
    marker = tmp_path / "marker.txt"
    model = _payload_savedmodel(tmp_path / "payload", marker)
    np.savez(tmp_path / "xy.npz", x=np.ones((3, 4), dtype=np.float32), y=np.array([0, 1, 2]))
    argv = [command, str(model), "--data", str(tmp_path / "xy.npz")]
    assert main(argv) == 2
    line = _said(capsys)
    assert "--trust" in line and "writing files" in line and "payload" in line
    assert not marker.exists()
    assert main([*argv, "--trust"]) == 0
    assert marker.exists()


def test_a_savedmodel_deepgui_exported_runs_until_its_files_change(tmp_path, capsys):
    import keras

    from deepgui.core.export import export_model

    x = keras.Input((4,), name="x")
    model = keras.Model(x, keras.layers.Dense(3, activation="softmax")(x))
    report = export_model(model, "savedmodel", tmp_path / "sm")
    assert report.ok, report.message
    np.savez(tmp_path / "x.npz", x=np.ones((2, 4), dtype=np.float32))
    argv = ["predict", str(tmp_path / "sm"), "--data", str(tmp_path / "x.npz")]
    assert main(argv) == 0
    capsys.readouterr()
    with open(tmp_path / "sm" / "saved_model.pb", "ab") as fh:
        fh.write(b"\0")
    assert main(argv) == 2
    assert "not the ones sm.signature.json recorded" in _said(capsys)


# ----------------------------------------------------------------------------- generic errors
def _vocabulary_project(folder, value, key="layer"):
    layer = {"class_name": "LSTM", "config": {"name": "inner", "units": 2}}
    wrapper = {"name": "bi", "layer": layer}
    tv = {"class_name": "TextVectorization", "config": {"name": "tv", "vocabulary": value}}
    wrapper[key] = tv
    data = dense_project()
    data["graph"]["nodes"][1] = {"id": "n2", "class_name": "Bidirectional", "config": wrapper}
    return data


@pytest.mark.parametrize(
    ("value", "said"),
    [("loop.txt", "its links loop"), ("wo\0rds.txt", "NUL character")],
)
def test_a_vocabulary_path_that_cannot_be_a_file_is_one_sentence(tmp_path, capsys, value, said):
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    path = write_json(tmp_path / "p.dgproj", _vocabulary_project(tmp_path, value))
    assert main(["summary", str(path)]) == 1
    line = _said(capsys)
    assert said in line and "p.dgproj" in line and "vocabulary" in line


def test_a_backward_layer_is_searched_for_files_like_the_layer(tmp_path):
    data = _vocabulary_project(tmp_path, "/etc/hostname", key="backward_layer")
    with pytest.raises(ProjectFormatError, match="outside the project's folder"):
        project_from_dict(data, "p.dgproj", base_dir=tmp_path)


def test_a_coordinator_host_name_too_long_is_one_sentence():
    from deepgui.core.training.distributed import make_cluster

    with pytest.raises(DeepGuiError, match="longer than a host name can be"):
        make_cluster("a" * 130 + ":7477", 2)


# ----------------------------------------------------------------------------- the checks
_LOOKUP = {"module": "keras.layers", "class_name": "StringLookup", "registered_name": None,
           "config": {"name": "lookup", "vocabulary": "vocabulary/../../etc/hostname"}}  # fmt: skip


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32-be"])
def test_deepgui_reads_the_config_keras_reads(tmp_path, encoding):
    from deepgui.core.keras_import import load_model_file

    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:  # config.json as bytes in that encoding
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", sequential_config(_LOOKUP).encode(encoding))
    with pytest.raises(ModelImportError, match="takes its vocabulary from the file"):
        load_model_file(path)


def test_a_failed_summary_prints_no_table(tmp_path, capsys):
    data = dense_project()
    data["graph"]["nodes"][1]["config"]["units"] = "many"
    path = write_json(tmp_path / "p.dgproj", data)
    assert main(["summary", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "units must be a whole number" in captured.err


def test_a_persons_folder_with_a_project_and_a_model_is_not_taken_for_a_run(tmp_path):
    """Only deepgui's mark (or a run's files copied whole) makes a run folder: a person keeps a
    project.dgproj and a model.keras side by side and writes predictions beside them."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / run_layout.PROJECT).write_text("{}")
    (mine / run_layout.MODEL).write_bytes(b"")
    assert run_layout.run_folder_of(mine / "predictions.csv") is None
    copied = tmp_path / "copied_run"
    copied.mkdir()
    for name in (run_layout.PROJECT, run_layout.MODEL, run_layout.METRICS):
        (copied / name).write_text("{}")
    assert run_layout.run_folder_of(copied / "sub" / "p.csv") == copied
