"""No stale words: what the window says about the project goes, or changes, once the project it
was said of is no longer the one on screen. A check's verdict goes with the edit that answers it,
a failed run's sentence with the fix, "Saved in" follows Save As, the overfitting banner gives
the latest epoch, the empty canvas keeps its hint after File ▸ New, and the Data tab shows the
data the project has (none for a new one) with the core's defaults."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QTextDocument  # noqa: E402

from deepgui.core.commands import set_params  # noqa: E402
from deepgui.core.data import spec  # noqa: E402
from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.paths import examples_dir  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.core.training import runs  # noqa: E402
from deepgui.core.training.overfitting import OverfittingDetector  # noqa: E402
from deepgui.core.training.remedies import suggest_remedies  # noqa: E402
from tests.helpers import add  # noqa: E402
from tests.ui_support import open_window, settle  # noqa: E402

pytestmark = pytest.mark.ui

DIGITS = {"source": "builtin", "name": "digits", "validation_split": 0.2}


def plain(label) -> str:
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def digits_model(units: int = 10) -> Project:
    g = Graph()
    x = add(g, "Flatten", add(g, "InputLayer", shape=[8, 8, 1]))
    add(g, "Dense", x, units=units, activation="softmax", name="out")
    return Project(graph=g, dataset=dict(DIGITS), training={"epochs": 1, "batch_size": 128})


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    made = []

    def make(project: Project | None = None):
        w = open_window(qtbot, project)
        made.append(w)
        return w

    yield make
    for w in made:
        if w._training_panel is not None:
            w.training.shutdown()
        w.doc.shutdown()


def press_f5(qtbot, w) -> None:
    w.activateWindow()
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_F5)


def test_the_checks_verdict_goes_when_a_layer_is_added(window, qtbot):
    g = Graph()
    add(g, "InputLayer", shape=[8, 8, 1])
    w = window(Project(graph=g, dataset=dict(DIGITS)))
    view = w.training_panel().data_view
    with qtbot.waitSignal(view.checked, timeout=60_000):
        qtbot.mouseClick(view.check_button, Qt.MouseButton.LeftButton)
    assert plain(view.check_label).startswith("✗ The model has no output")
    w.scene.select_nodes([w.doc.graph.input_nodes()[0].id])
    assert w.add_layer_after_selection("Flatten")
    assert view.check_label.text() == ""
    # A verdict still on its way for the model as it was is not shown either.
    view.check()
    assert w.add_layer_after_selection("Dense")
    qtbot.wait(1500)
    assert "no output" not in view.check_label.text()


def test_training_failed_goes_when_the_model_is_fixed(window, qtbot, tmp_path):
    w = window(digits_model(units=3))  # ten classes, three units: the run fails
    w.start_background()
    settle(qtbot, w)
    panel = w.training_panel()
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as done:
        press_f5(qtbot, w)
    assert done.args == ["error"] and panel.message.text().startswith("Training failed")
    assert w.files.save_as(tmp_path / "failing.dgproj")  # a save fixes nothing
    assert panel.message.text().startswith("Training failed")
    out = w.doc.graph.node_by_name("out").id
    assert w.doc.push(set_params(w.doc.graph, out, units=10))
    assert "Training failed" not in panel.message.text()
    assert "changed since the last run failed" in panel.message.text()
    assert panel.message.styleSheet() == ""  # no longer in red


def test_saved_in_follows_save_as_out_of_the_scratch_area(window, qtbot, tmp_path):
    w = window(digits_model())
    w.start_background()
    settle(qtbot, w)
    panel = w.training_panel()
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as done:
        press_f5(qtbot, w)
    assert done.args == ["completed"], panel.message.text()
    scratch = panel.run_dir
    assert runs.is_scratch(scratch) and f"Saved in {scratch}." in panel.message.text()
    assert w.files.save_as(tmp_path / "kept.dgproj")
    moved = tmp_path / "kept.runs" / scratch.name
    assert moved.is_dir() and not scratch.exists()
    assert f"Saved in {moved}." in panel.message.text()
    assert str(scratch) not in panel.message.text()
    assert panel.run_dir == moved  # Predict and the evaluation use the run where it is


LOSS = [1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1]
VAL = [1.0, 0.7, 0.5, 0.62, 0.65, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 1.9]


def test_the_overfitting_banner_says_where_the_latest_epoch_stands(window, qtbot):
    g = Graph()
    add(g, "Dense", add(g, "InputLayer", shape=[8]), units=3, activation="softmax")
    w = window(Project(graph=g, training={"epochs": 12}))
    panel = w.training_panel()
    w.tabs.setCurrentWidget(panel)
    detector = OverfittingDetector(patience=3, gap=0.2)
    for epoch in range(1, 13):  # as the worker reports them: the flag, then the epoch's end
        logs = {"loss": LOSS[epoch - 1], "val_loss": VAL[epoch - 1]}
        report = detector.update(epoch, logs)
        if report is not None:
            report.remedies = suggest_remedies(panel.get_project(), 100, 10_000)
            panel._on_overfitting(report)
        panel._on_epoch(epoch, logs)
        if epoch == 5:  # the gap flag's figure is said of its epoch, here the latest
            text = plain(panel.banner.text)
            assert "at epoch 5 validation loss was 30% above its best" in text
            assert "the latest" not in text
    text = plain(panel.banner.text)
    assert "At epoch 12, the latest, validation loss is 1.9, 280% above its best." in text, text
    assert "best model so far was at epoch 3" in text


def test_the_empty_canvas_hint_is_back_whole_after_file_new(window, qtbot):
    w = window()
    w.files.open_example(examples_dir() / "digits_cnn.dgproj")
    qtbot.wait(50)
    hint, viewport = w.view.empty_hint, w.view.viewport()
    assert not hint.isVisible()
    w.actions["new"].trigger()
    qtbot.wait(100)  # File ▸ New fits the (empty) canvas once the event loop turns
    assert hint.isVisible() and "Drag a layer" in hint.text()
    assert viewport.rect().contains(hint.geometry()), (hint.geometry(), viewport.rect())
    # Scrolling the canvas leaves it where it is.
    w.view.horizontalScrollBar().setValue(w.view.horizontalScrollBar().value() + 200)
    w.view.verticalScrollBar().setValue(w.view.verticalScrollBar().value() + 200)
    assert viewport.rect().contains(hint.geometry())


def test_a_new_project_shows_no_data_chosen(window, qtbot):
    w = window()
    w.files.open_example(examples_dir() / "iris_dense.dgproj")
    panel = w.training_panel()
    w.tabs.setCurrentWidget(panel)
    view = panel.data_view
    assert view.source.currentText() == "Built-in sample" and view.builtin.currentText() == "iris"
    w.actions["new"].trigger()
    assert w.doc.project.dataset == {}
    assert view.source.currentIndex() == -1 and view.source.currentText() == ""
    assert view.builtin.currentText() == "" and not view.builtin.isEnabled()
    assert "No data is chosen" in view.status.text()
    assert not view.validation.isEnabled()  # a split without data is no dataset
    w.actions["train"].trigger()  # F5
    assert panel.message.text().startswith("Choose the data first")
    # Choosing the built-in source shows the sample it writes.
    view.source.setCurrentIndex(view.source.findData("builtin"))
    assert w.doc.project.dataset == {"source": "builtin", "name": view.builtin.currentData()}
    assert view.builtin.currentText() == "digits" and "No data" not in view.status.text()
    w.doc.undo()
    assert view.source.currentIndex() == -1


def test_the_missing_values_default_is_the_cores_in_every_project(window, qtbot, monkeypatch):
    # The one default, changed in the core, is what every project's form shows.
    monkeypatch.setitem(spec.DEFAULTS, "missing", "drop")
    w = window(Project(dataset={"source": "csv", "path": "a.csv", "missing": "refuse"}))
    view = w.training_panel().data_view
    assert view.missing.currentData() == "refuse"
    w.actions["new"].trigger()
    view.source.setCurrentIndex(view.source.findData("csv"))
    assert view.missing.currentData() == "drop"
    assert "missing" not in w.doc.project.dataset  # the default is not written as a choice
    w.files.set_project(Project(dataset={"source": "csv", "path": "b.csv"}))
    assert view.missing.currentData() == "drop"
    monkeypatch.setitem(spec.DEFAULTS, "missing", "fill")
    w.files.set_project(Project(dataset={"source": "csv", "path": "b.csv"}))
    assert view.missing.currentData() == "fill"
