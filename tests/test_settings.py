"""A project's settings field by field: each field an undo step changes is announced once, a
field the project leaves out reads as the core's one default, and the file stays as it was."""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

import pytest

from deepgui.core import settings
from deepgui.core.commands import AddNode, set_fields
from deepgui.core.data import spec
from deepgui.core.data.spec import DataSpec, TimeseriesOptions
from deepgui.core.project import Project, load_project
from deepgui.core.training.config import TrainingConfig, parse_training

EXAMPLES = sorted((Path(__file__).parents[1] / "resources" / "examples").glob("*.dgproj"))


def announced(project: Project) -> list[tuple[str, str]]:
    heard: list[tuple[str, str]] = []
    project.settings.subscribe(lambda section, key: heard.append((section, key)))
    return heard


def test_each_field_an_undo_step_changes_is_announced_once():
    project = Project(dataset={"source": "builtin", "name": "digits"}, training={"epochs": 3})
    heard = announced(project)
    for epochs in (5, 50):  # typing 50: one step
        project.undo.push(set_fields(project.training, epochs=epochs))
    project.undo.push(set_fields(project.dataset, seed=7, shuffle=False))
    assert heard == [("training", "epochs")] * 2 + [("dataset", "seed"), ("dataset", "shuffle")]
    heard.clear()
    project.undo.undo()
    assert heard == [("dataset", "seed"), ("dataset", "shuffle")]
    assert "seed" not in project.dataset  # taken out again, not set to its default
    heard.clear()
    project.undo.undo()
    assert heard == [("training", "epochs")] and project.training == {"epochs": 3}
    heard.clear()
    project.undo.redo()
    assert heard == [("training", "epochs")] and project.training == {"epochs": 50}
    heard.clear()
    project.undo.push(AddNode("Dense", {"units": 2}))  # the network: no setting changed
    project.undo.undo()
    project.undo.set_clean()  # as a save does: no field changes
    assert heard == []


def test_a_field_left_out_reads_as_the_cores_one_default():
    project = Project(dataset={"source": "csv", "path": "a.csv", "seed": 7}, training={})
    get = project.settings.get
    assert get("dataset", "seed") == 7
    assert get("dataset", "validation_split") == spec.DEFAULTS["validation_split"]
    assert get("dataset", "missing") == spec.DEFAULTS["missing"]
    assert get("dataset", "window") == TimeseriesOptions.window
    assert get("dataset", "target") is None  # no default: chosen by the user
    assert get("training", "epochs") == TrainingConfig().epochs
    assert get("training", "early_stopping") == asdict(TrainingConfig().early_stopping)
    assert project.settings.training_config() == TrainingConfig()
    assert project.dataset == {"source": "csv", "path": "a.csv", "seed": 7}  # nothing written
    # Bad fields read as their defaults, the others as set.
    project.training.update(epochs=4, batch_size=0)
    assert project.settings.training_config() == TrainingConfig(epochs=4)


def test_defaults_live_in_one_place(monkeypatch):
    # Reading a file fills a field from the same defaults the dataclasses declare.
    assert parse_training({}) == TrainingConfig()
    assert settings.defaults("training") == asdict(TrainingConfig())
    declared = {f.name: f.default for f in fields(DataSpec) if f.name in spec.DEFAULTS}
    assert declared == spec.DEFAULTS
    # A time series' window: the options' own default, wherever it is read.
    monkeypatch.setattr(TimeseriesOptions, "window", 12)
    assert settings.default("dataset", "window") == 12
    monkeypatch.setitem(spec.DEFAULTS, "seed", 7)
    assert Project(dataset={"source": "csv"}).settings.get("dataset", "seed") == 7


def test_a_series_read_without_a_window_takes_the_options_default(tmp_path, monkeypatch):
    (tmp_path / "series.csv").write_text("t,y\n" + "".join(f"{i},{i * 2}\n" for i in range(40)))
    monkeypatch.setattr(TimeseriesOptions, "window", 12)
    monkeypatch.setattr(TimeseriesOptions, "horizon", 3)
    read = DataSpec.from_dict({"source": "timeseries", "path": "series.csv", "target": "y"},
                              tmp_path)  # fmt: skip
    assert (read.options.window, read.options.horizon) == (12, 3)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_a_project_file_round_trips_unchanged(tmp_path, path):
    project = load_project(path)
    original = path.read_text(encoding="utf-8")
    assert project.to_json() == original
    epochs = project.settings.get("training", "epochs")
    project.undo.push(set_fields(project.training, epochs=epochs + 1))
    project.undo.push(set_fields(project.dataset, seed=5))
    project.undo.undo()
    project.undo.undo()
    saved = project.save(tmp_path / path.name)
    assert saved.read_text(encoding="utf-8") == original  # nothing of the settings layer in it
