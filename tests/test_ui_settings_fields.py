"""The settings forms bind each widget to one field: an edit is one undo step, and its undo
shows that field again while every other widget keeps what it shows (a line being typed in
keeps its text and cursor); a field the project leaves out shows the core's default."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from deepgui.core.commands import AddNode, set_fields  # noqa: E402
from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.helpers import add  # noqa: E402
from tests.test_ui_training_panel import digits_project  # noqa: E402

pytestmark = pytest.mark.ui


def panel_of(qtbot, project: Project, monkeypatch) -> tuple[TrainingPanel, list[str]]:
    """The panel, and a record of every whole-form reload it makes from here on."""
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    reloads: list[str] = []
    for name, form in (("training", panel.form), ("dataset", panel.data_view)):
        whole = form.load
        monkeypatch.setattr(form, "load", lambda d, whole=whole, n=name: (reloads.append(n),
                                                                           whole(d)))  # fmt: skip
    return panel, reloads


def typing(line, text: str, cursor: int) -> None:
    """Text typed into a line and not yet sent (no Return, the focus still in it)."""
    line.setText(text)
    line.setCursorPosition(cursor)


def test_an_undo_shows_the_field_it_changed_and_leaves_the_others(qtbot, tmp_path, monkeypatch):
    project = digits_project(tmp_path)
    panel, reloads = panel_of(qtbot, project, monkeypatch)
    form = panel.form
    before = dict(project.training)
    form.epochs.setValue(7)
    form.epochs.setValue(8)  # typing 8 after 7: one step
    assert project.training == {**before, "epochs": 8}
    assert project.undo.undo_text() == "Change training settings"
    typing(form.metrics, "accuracy, ma", 4)
    project.undo.undo()
    assert not project.undo.can_undo()  # the edit was one step
    assert project.training == before and form.epochs.value() == 3
    assert form.metrics.text() == "accuracy, ma" and form.metrics.cursorPosition() == 4
    assert reloads == []
    project.undo.redo()
    assert form.epochs.value() == 8 and form.metrics.text() == "accuracy, ma"
    # The line typed in is still the user's to send: leaving it sends it.
    form.metrics.editingFinished.emit()
    assert project.training["metrics"] == ["accuracy", "ma"]
    project.undo.undo()
    assert form.metrics.text() == "auto" and form.epochs.value() == 8
    assert reloads == []


def test_an_undo_of_an_option_shows_the_options_line_and_the_sentences(qtbot, tmp_path,
                                                                      monkeypatch):  # fmt: skip
    project = digits_project(tmp_path, optimizer="sgd")
    panel, reloads = panel_of(qtbot, project, monkeypatch)
    form = panel.form
    form.options.setText("momentum=0.9")
    form.options.editingFinished.emit()
    assert project.training["momentum"] == 0.9
    form.batch_size.setValue(65)
    typing(form.coordinator, "10.0.0.5:7", 3)
    project.undo.undo()  # the batch size
    project.undo.undo()  # the momentum
    assert "momentum" not in project.training and form.options.text() == ""
    assert form.batch_size.value() == 64
    assert form.coordinator.text() == "10.0.0.5:7" and form.coordinator.cursorPosition() == 3
    # A field without a widget, refused by the core: its sentence, and no widget moves.
    project.undo.push(set_fields(project.training, class_weight="even"))
    assert "training.class_weight" in form.error.text()
    project.undo.undo()
    assert form.error.text() == "" and reloads == []


def test_the_network_changing_reloads_no_form(qtbot, tmp_path, monkeypatch):
    project = digits_project(tmp_path)
    panel, reloads = panel_of(qtbot, project, monkeypatch)
    typing(panel.form.metrics, "mae", 1)
    project.undo.push(AddNode("Dense", {"units": 2}))
    project.undo.undo()
    assert panel.form.metrics.text() == "mae" and panel.form.metrics.cursorPosition() == 1
    assert reloads == []


def test_a_data_undo_shows_its_field_and_keeps_a_path_being_typed(qtbot, tmp_path, monkeypatch):
    g = Graph()
    add(g, "Dense", add(g, "InputLayer", shape=[4]), units=2, activation="softmax")
    project = Project(graph=g, dataset={"source": "csv", "path": "a.csv", "target": "label"})
    panel, reloads = panel_of(qtbot, project, monkeypatch)
    view = panel.data_view
    view.validation.setValue(0.3)
    assert project.dataset["validation_split"] == 0.3
    assert project.undo.undo_text() == "Change data settings"
    typing(view.path, "b.cs", 2)
    project.undo.undo()
    assert not project.undo.can_undo() and "validation_split" not in project.dataset
    assert view.validation.value() == pytest.approx(0.2)
    assert view.path.text() == "b.cs" and view.path.cursorPosition() == 2
    assert reloads == []
    # Another source is one step; its undo brings back the source and what it read.
    view.source.setCurrentIndex(view.source.findData("builtin"))
    assert project.dataset == {"source": "builtin", "name": view.builtin.currentData()}
    project.undo.undo()
    assert project.dataset == {"source": "csv", "path": "a.csv", "target": "label"}
    assert view.source.currentData() == "csv" and view.path.text() == "a.csv"
    assert view.target.currentText() == "label" and not project.undo.can_undo()
    assert reloads == []


def test_the_forms_show_the_cores_defaults(qtbot):
    g = Graph()
    add(g, "Dense", add(g, "InputLayer", shape=[4]), units=1)
    project = Project(graph=g, dataset={"source": "timeseries", "path": "a.csv"})
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    form, view = panel.form, panel.data_view
    get = project.settings.get

    def training(key: str):
        return get("training", key)

    shown = {
        "optimizer": form.optimizer.currentText(), "learning_rate": form.learning_rate.value(),
        "batch_size": form.batch_size.value(), "epochs": form.epochs.value(),
        "device": form.device.currentData(), "engine": form.engine.currentData(),
        "ranks": form.ranks.value(), "coordinator": form.coordinator.text(),
        "mixed_precision": form.mixed.isChecked(),
    }  # fmt: skip
    assert shown == {key: training(key) for key in shown}
    stopping, fine = training("early_stopping"), training("fine_tuning")
    assert (form.es_enabled.isChecked(), form.es_monitor.currentText(), form.es_patience.value(),
            form.es_restore.isChecked(), form.es_mode.currentData()) == tuple(
                stopping[key] for key in ("enabled", "monitor", "patience",
                                          "restore_best_weights", "mode"))  # fmt: skip
    assert (form.ft_enabled.isChecked(), form.ft_frozen.value(), form.ft_layers.value(),
            form.ft_lr.value()) == tuple(fine.values())  # fmt: skip
    schedule = training("schedule")
    assert form.schedule.currentData() == schedule["kind"]
    assert form.schedule_every.value() == schedule["every_epochs"]
    assert form.schedule_patience.value() == schedule["patience"]
    data = {
        "validation_split": view.validation.value(), "test_split": view.test.value(),
        "shuffle": view.shuffle.isChecked(), "seed": view.seed.value(),
        "missing": view.missing.currentData(), "window": view.window.value(),
        "horizon": view.horizon.value(),
    }  # fmt: skip
    assert data == {key: get("dataset", key) for key in data}
    assert project.training == {}  # shown, not written


def test_early_stoppings_direction_is_one_undoable_edit_in_the_form(qtbot, tmp_path, monkeypatch):
    """The form offers early stopping's mode (a metric Keras cannot read the direction of needs
    it): "Higher" writes mode max as one step, its undo shows Automatic again, and
    Automatic, the default, is left out of the file."""
    from deepgui.core.training.config import STOPPING_MODES, TrainingConfig

    project = digits_project(tmp_path)
    panel, reloads = panel_of(qtbot, project, monkeypatch)
    form = panel.form
    assert [form.es_mode.itemData(i) for i in range(form.es_mode.count())] == list(STOPPING_MODES)
    before = dict(project.training)
    form.es_mode.setCurrentIndex(form.es_mode.findText("Higher"))
    assert project.training["early_stopping"]["mode"] == "max"
    assert TrainingConfig.from_dict(project.training).early_stopping.mode == "max"
    assert project.undo.undo_text() == "Change training settings"
    project.undo.undo()
    assert not project.undo.can_undo() and project.training == before
    assert form.es_mode.currentData() == "auto"
    # Another field of early stopping written: Automatic stays out of the file.
    form.es_patience.setValue(9)
    assert project.training["early_stopping"]["patience"] == 9
    assert "mode" not in project.training["early_stopping"]
    assert reloads == []
