"""One document through the whole window: opening, editing, training, New and Revert leave
nothing stale behind and mark modified only what the user changed (real key presses)."""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core.commands import Connect, RemoveNode  # noqa: E402
from deepgui.core.paths import examples_dir  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.main_window import MainWindow  # noqa: E402

pytestmark = pytest.mark.ui


class Dialogs:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def unsaved_changes(self, name):
        return "discard"

    def confirm(self, title, question):
        return True

    def error(self, title, message):
        self.errors.append(message)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = MainWindow(Project(), autosave_ms=3_600_000)
    w.dialogs = Dialogs()
    qtbot.addWidget(w)
    w.show()
    yield w
    w.doc.shutdown()


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    window.activateWindow()
    qtbot.keyClick(window.view, key, modifier)


def test_a_failed_start_leaves_shuffle_as_saved(qtbot, window, tmp_path):
    """Open a saved project, break the model (delete Flatten, wire pooling to Dense), F5 fails
    as it should; the Data tab still shows shuffle on and Save writes it as it was."""
    path = tmp_path / "digits.dgproj"
    shutil.copy(examples_dir() / "digits_cnn.dgproj", path)
    assert window.files.open_path(path, ask=False)
    graph = window.doc.graph
    flatten = next(n for n in graph if n.class_name == "Flatten")
    pool = graph.predecessors(flatten.id)[0]
    dense = graph.successors(flatten.id)[0]
    window.doc.push(RemoveNode(flatten.id))
    window.doc.push(Connect(pool, dense))
    panel = window.training_panel()
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as done:
        press(qtbot, window, Qt.Key.Key_F5)
    assert done.args == ["error"]
    panel.settings_tabs.setCurrentIndex(0)  # Training > Data
    assert panel.data_view.shuffle.isChecked()
    press(qtbot, window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = json.loads(path.read_text())
    assert saved["dataset"]["shuffle"] is True
    assert not window.files.is_dirty()


def test_opening_an_example_and_the_training_tab_marks_nothing_modified(qtbot, window):
    window.files.open_example(examples_dir() / "iris_dense.dgproj")
    assert not window.files.is_dirty()
    window.tabs.setCurrentWidget(window.training)  # loads the Training panel
    panel = window.training_panel()
    qtbot.wait(50)
    panel.settings_tabs.setCurrentIndex(1)
    panel.settings_tabs.setCurrentIndex(0)
    assert not window.files.is_dirty() and not window.isWindowModified()
    # A real edit does mark it, and undo brings it back to unmodified.
    panel.form.epochs.setFocus()
    panel.form.epochs.selectAll()
    qtbot.keyClicks(panel.form.epochs, "7")
    assert window.files.is_dirty()
    window.doc.project.undo.undo()
    assert not window.files.is_dirty()


def test_new_and_revert_reset_every_panel(qtbot, window, tmp_path):
    path = tmp_path / "iris.dgproj"
    shutil.copy(examples_dir() / "iris_dense.dgproj", path)
    assert window.files.open_path(path, ask=False)
    panel = window.training_panel()
    panel.data_view.refresh_preview()
    qtbot.waitUntil(lambda: panel.data_view.last_preview is not None, timeout=30_000)
    assert panel.data_view.table.rowCount() > 0
    panel.form.epochs.setValue(2)
    with qtbot.waitSignal(panel.run_finished, timeout=120_000):
        press(qtbot, window, Qt.Key.Key_F5)
    assert panel.plots.epochs and panel.runs.table.rowCount() == 1
    # The Evaluation tab's "Predict on a file…" opens the Predict dialog on this very run.
    qtbot.mouseClick(panel.evaluation.predict_button, Qt.MouseButton.LeftButton)
    dialog = window._predict
    assert str(dialog.model.currentData()) == str(panel.run_dir)
    dialog.close()
    # Revert: the file as saved (epochs back), its run still listed and shown as the file's
    # last run (its curves, from its history), the preview reset.
    window.files.revert()
    assert window.doc.project.training["epochs"] != 2 and not window.files.is_dirty()
    assert panel.form.epochs.value() == window.doc.project.training["epochs"]
    assert panel.data_view.table.rowCount() == 0
    assert panel.message.text().startswith("Last run, ") and len(panel.plots.epochs["loss"]) == 2
    assert panel.runs.table.rowCount() == 1  # the file's own run
    # New: nothing of the old project anywhere.
    press(qtbot, window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert len(window.doc.graph) == 0
    assert panel.runs.table.rowCount() == 0 and panel.message.text() == "Ready to train."
    assert panel.data_view.last_preview is None and panel.banner.isHidden()
    assert not window.files.is_dirty() and window.dialogs.errors == []
