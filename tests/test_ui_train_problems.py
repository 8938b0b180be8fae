"""F5 with a problem on the canvas does not start a run that can only fail: it says what to fix
and selects the layer. A run that fails shows no leftover "data fits" line and no made-up
progress."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core.commands import set_params  # noqa: E402
from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from tests.helpers import add  # noqa: E402
from tests.ui_support import open_window, settle  # noqa: E402

pytestmark = pytest.mark.ui


def digits_model(dataset: dict) -> Project:
    g = Graph()
    x = add(g, "InputLayer", shape=[8, 8, 1])
    x = add(g, "Conv2D", x, filters=4, kernel_size=[3, 3], name="conv")
    x = add(g, "Flatten", x)
    add(g, "Dense", x, units=10, activation="softmax")
    return Project(graph=g, dataset=dataset, training={"epochs": 1})


@pytest.fixture
def open_project(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    windows = []

    def make(project: Project):
        w = open_window(qtbot, project)
        w.start_background()
        settle(qtbot, w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        if w._training_panel is not None:
            w.training.shutdown()
        w.doc.shutdown()


def test_f5_with_an_error_on_the_canvas_says_what_to_fix_and_starts_nothing(qtbot, open_project):
    w = open_project(digits_model({"source": "builtin", "name": "digits"}))
    conv = w.doc.graph.node_by_name("conv").id
    w.doc.push(set_params(w.doc.graph, conv, kernel_size=[40, 40]))  # larger than the image
    settle(qtbot, w)
    w.scene.clearSelection()
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_F5)
    panel = w.training
    assert w.tabs.currentWidget() is panel
    text = panel.message.text()
    assert text.startswith("Not started: ") and "conv" in text and "Fix it" in text
    assert ". Fix it" in text  # the layer's sentence ends before the advice
    assert panel.run is None and not panel.is_training()
    assert w.scene.selected_node_ids() == [conv]  # the layer to fix, selected on the canvas
    assert w.actions["train"].isEnabled()
    # Fixed (Ctrl+Z), F5 goes ahead (and Shift+F5 stops it).
    qtbot.keyClick(w.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, w)
    with qtbot.waitSignal(panel.run_started, timeout=10_000):
        qtbot.keyClick(w.view, Qt.Key.Key_F5)
    assert not panel.message.text().startswith("Not started")
    # The dock makes room for curves worth reading (40 % of the window, issue 23), and the
    # canvas keeps the rest.
    qtbot.waitUntil(lambda: panel.plots.loss_plot.height() >= 150, timeout=2_000)
    assert w.bottom_dock.height() <= 0.62 * w.height()
    with qtbot.waitSignal(panel.run_finished, timeout=60_000):
        qtbot.keyClick(w.view, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)


def test_a_run_that_fails_leaves_no_data_fits_line_and_no_progress(qtbot, open_project, tmp_path):
    missing = str(tmp_path / "gone.csv")
    w = open_project(digits_model({"source": "csv", "path": missing, "target": "digit"}))
    w.view.setFocus()
    panel = w.training_panel()
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as blocker:
        qtbot.keyClick(w.view, Qt.Key.Key_F5)
    assert blocker.args == ["error"]
    assert panel.message.text().startswith("Training failed") and "gone.csv" in panel.message.text()
    assert panel.epoch_bar.text() == "" and panel.run_bar.text() == ""  # no "epoch 0/1"
    assert panel.speed.text() == ""
    # A run that got as far as checking the data, then failed: the check is not left standing.
    panel._on_started(5, 1, 0, {"batch_size": 32, "num_train": 160, "device": "CPU"})
    assert "✓" in panel.data_view.check_label.text()
    panel._on_finished("error", {"message": "the model could not be built."}, None)
    assert panel.data_view.check_label.text() == ""
    assert panel.message.text() == "Training failed: the model could not be built."
