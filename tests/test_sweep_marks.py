"""Marks of what a sweep varies (core/sweep/marks.py): kept in the project file, one undo step
each, checked by space.py, following their layer through a rename and a delete."""

from __future__ import annotations

import json
import shutil

import pytest

from deepgui import cli
from deepgui.core.commands import RemoveNode, set_params
from deepgui.core.errors import DeepGuiError, ProjectFormatError
from deepgui.core.paths import examples_dir
from deepgui.core.project import Project, load_project, project_from_dict
from deepgui.core.sweep import marks, table
from deepgui.core.sweep.marks import TRAINING, SetMark, set_mark
from deepgui.core.sweep.search import project_marks
from tests.helpers import add


def small_project() -> tuple[Project, str]:
    project = Project()
    inp = add(project.graph, "InputLayer", shape=[4], name="features")
    hidden = add(project.graph, "Dense", inp, units=32, name="hidden")
    add(project.graph, "Dense", hidden, units=3, activation="softmax", name="out")
    return project, hidden.id


def test_marks_go_into_the_file_and_come_back(tmp_path):
    project, hidden = small_project()
    project.undo.push(SetMark(project, TRAINING, "learning_rate", "1e-4..1e-2:log"))
    project.undo.push(SetMark(project, hidden, "units", "16, 32,64"))
    path = project.save(tmp_path / "p.dgproj")

    raw = json.loads(path.read_text())
    # Layers in the canvas's order, then training; NAME=SPEC as the command line writes them.
    assert raw["vary"] == {"hidden.units": "16, 32,64", "training.learning_rate": "1e-4..1e-2:log"}
    again = load_project(path)
    assert again.marks.spec(again.graph.node_by_name("hidden").id, "units") == "16, 32,64"
    assert project_marks(again) == ["hidden.units=16, 32,64",
                                    "training.learning_rate=1e-4..1e-2:log"]  # fmt: skip
    assert again.snapshot().marks.texts() == project_marks(again)


def test_a_project_without_marks_writes_no_vary_field(tmp_path):
    project, _ = small_project()
    assert "vary" not in project.to_dict()


def test_a_mark_is_one_undo_step_and_redo_brings_it_back():
    project, hidden = small_project()
    heard = []
    project.marks.subscribe(lambda owner, key: heard.append((owner, key)))
    project.undo.push(SetMark(project, hidden, "units", "16,32"))
    project.undo.push(SetMark(project, hidden, "units", "8..64"))
    assert project.undo.undo_text() == "Vary hidden.units"
    project.undo.undo()
    assert project.marks.spec(hidden, "units") == "16,32"
    project.undo.undo()
    assert project.marks.spec(hidden, "units") is None and not project_marks(project)
    project.undo.redo()
    assert project_marks(project) == ["hidden.units=16,32"]
    project.undo.push(SetMark(project, hidden, "units", None))  # cleared: one step too
    assert project.undo.undo_text() == "Stop varying hidden.units"
    assert project_marks(project) == []
    assert heard == [(hidden, "units")] * 6  # each step announced
    assert set_mark(project, hidden, "units", None) is None  # nothing to change


def test_a_refused_mark_is_one_sentence_and_changes_nothing():
    project, hidden = small_project()
    with pytest.raises(DeepGuiError) as caught:
        project.undo.push(SetMark(project, hidden, "units", "0..8"))
    assert str(caught.value) == "hidden: units must be at least 1, not 0."
    with pytest.raises(DeepGuiError, match="training.optimizer is not a number, so it takes "
                                           "choices"):  # fmt: skip
        project.undo.push(SetMark(project, TRAINING, "optimizer", "1..3"))
    assert not project.undo.can_undo() and not project_marks(project)
    assert marks.check(project, hidden, "units", " ") == (
        "hidden.units: write the values to try, such as 16,32,64, or a range such as 8..64."
    )


def test_a_mark_follows_its_layer_through_a_rename_and_a_delete(tmp_path):
    project, hidden = small_project()
    project.undo.push(SetMark(project, hidden, "units", "16,32"))
    project.undo.push(set_params(project.graph, hidden, name="bottleneck"))
    assert project_marks(project) == ["bottleneck.units=16,32"]
    assert json.loads(project.to_json())["vary"] == {"bottleneck.units": "16,32"}

    project.undo.push(RemoveNode(hidden))
    assert project_marks(project) == [] and "vary" not in project.to_dict()
    project.undo.undo()  # the layer back, its mark with it
    assert project_marks(project) == ["bottleneck.units=16,32"]


def test_a_file_naming_no_layer_is_refused_and_a_refused_spec_is_said(tmp_path):
    project, hidden = small_project()
    data = project.to_dict()
    data["vary"] = {"hiden.units": "16,32"}
    with pytest.raises(ProjectFormatError, match=r"^p.dgproj: vary: hiden.units marks a layer "
                                                 r"the project does not have\.$"):  # fmt: skip
        project_from_dict(data, source="p.dgproj")
    data["vary"] = {"hidden.units": 16}
    with pytest.raises(ProjectFormatError, match=r"vary\['hidden.units'\] must be a SPEC"):
        project_from_dict(data, source="p.dgproj")

    # Values another setting rules out now: the file opens, and the problem is said.
    data["vary"] = {"hidden.units": "0..8"}
    loaded = project_from_dict(data, source="p.dgproj")
    assert loaded.marks.problems() == ["hidden: units must be at least 1, not 0."]


def test_spec_parts_read_what_the_editor_shows():
    assert marks.spec_parts("1e-4..1e-2:log") == marks.SpecParts(True, (), "1e-4", "1e-2", True)
    assert marks.spec_parts("adam, sgd") == marks.SpecParts(choices=("adam", "sgd"))
    assert marks.range_spec("8", " 64", False) == "8..64"
    assert marks.choices_spec("16, 32,,64") == "16,32,64"


@pytest.mark.slow  # one real trial: about 20 s with TensorFlow and KerasTuner imported
def test_the_sweep_command_varies_the_marks_when_given_no_vary(tmp_path, capsys):
    path = tmp_path / "iris_dense.dgproj"
    shutil.copy(examples_dir() / "iris_dense.dgproj", path)
    project = load_project(path)
    dense = project.graph.node_by_name("dense").id
    project.undo.push(SetMark(project, dense, "units", "4,8"))
    project.undo.push(SetMark(project, TRAINING, "batch_size", "16,32"))
    project.save()

    out = tmp_path / "sweep"
    rc = cli.main(["sweep", str(path), "--trials", "1", "--epochs", "1", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    rows = table.read(out)
    assert list(rows[0])[-2:] == ["dense.units", "training.batch_size"]
    assert rows[0]["dense.units"] in ("4", "8") and rows[0]["training.batch_size"] in ("16", "32")
