"""Marking what a sweep varies where it is set: the inspector's ⟳ beside a layer's parameter,
the training form's beside a field; one undo step each, and a badge on the canvas."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialogButtonBox  # noqa: E402

from deepgui.core import catalogue  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.core.sweep.marks import TRAINING  # noqa: E402
from deepgui.core.sweep.search import project_marks  # noqa: E402
from deepgui.ui.inspector import ParamForm  # noqa: E402
from deepgui.ui.vary import MARK_COLOR, UNMARKED_TIP  # noqa: E402
from tests.helpers import add  # noqa: E402
from tests.ui_support import open_window, painted_afresh  # noqa: E402

pytestmark = pytest.mark.ui


def dense_project() -> tuple[Project, str]:
    project = Project()
    inp = add(project.graph, "InputLayer", shape=[4], name="features")
    hidden = add(project.graph, "Dense", inp, units=32, name="hidden")
    hidden.position = (0.0, 150.0)
    project.undo.set_clean()
    return project, hidden.id


def press_ok(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def badge_pixels(w, node_id: str) -> int:
    """Pixels in the mark's colour where the layer is drawn on the canvas."""
    w.view.centerOn(w.scene.nodes[node_id])
    picture = painted_afresh(w.view.viewport()).astype(int)
    colour = np.array([int(MARK_COLOR[i : i + 2], 16) for i in (5, 3, 1)])  # as B, G, R
    return int((np.abs(picture - colour).max(axis=-1) < 12).sum())


def test_marks_made_in_the_inspector_and_the_form_undo_and_show_on_the_canvas(qtbot):
    project, hidden = dense_project()
    w = open_window(qtbot, project)
    w.scene.select_nodes([hidden])
    button = w.inspector.form.vary_buttons["units"]
    assert button.toolTip() == UNMARKED_TIP and badge_pixels(w, hidden) == 0

    # The layer's units: choices, typed into the editor the ⟳ opens.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = w.inspector.vary_dialog
    assert dialog.isVisible() and dialog.choices.text() == "32"  # starts from the value
    dialog.choices.clear()
    qtbot.keyClicks(dialog.choices, "16, 32, 64")
    press_ok(dialog)
    assert project.marks.spec(hidden, "units") == "16,32,64"
    assert "16,32,64" in button.toolTip()
    assert w.scene.nodes[hidden].marks == {"units": "16,32,64"}
    qtbot.waitUntil(lambda: badge_pixels(w, hidden) > 40)

    # A range the layer cannot take: the editor stays open with the core's sentence.
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = w.inspector.vary_dialog
    qtbot.keyClicks(dialog.low, "0")
    qtbot.keyClicks(dialog.high, "8")
    press_ok(dialog)
    assert (
        dialog.isVisible() and dialog.problem.text() == "hidden: units must be at least 1, not 0."
    )
    assert project.marks.spec(hidden, "units") == "16,32,64"
    dialog.reject()

    # The learning rate, in the training form: a log range.
    panel = w.training_panel()
    w.tabs.setCurrentWidget(panel)
    panel.settings_tabs.setCurrentIndex(1)
    rate_button = panel.form.vary_buttons["learning_rate"]
    qtbot.mouseClick(rate_button, Qt.MouseButton.LeftButton)
    dialog = panel.vary_dialog
    qtbot.keyClicks(dialog.low, "1e-4")
    qtbot.keyClicks(dialog.high, "1e-2")
    dialog.log.setChecked(True)
    press_ok(dialog)
    assert project_marks(project) == ["hidden.units=16,32,64",
                                      "training.learning_rate=1e-4..1e-2:log"]  # fmt: skip
    assert "1e-4..1e-2:log" in rate_button.toolTip()
    assert project.undo.undo_text() == "Vary training.learning_rate"

    # Undo takes each mark back, one step each; what shows them follows.
    w.actions["undo"].trigger()
    assert project.marks.spec(TRAINING, "learning_rate") is None
    assert rate_button.toolTip() == UNMARKED_TIP
    w.actions["undo"].trigger()
    assert project_marks(project) == [] and button.toolTip() == UNMARKED_TIP
    assert w.scene.nodes[hidden].marks == {}
    w.tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: badge_pixels(w, hidden) == 0)
    w.actions["redo"].trigger()
    assert w.scene.nodes[hidden].marks == {"units": "16,32,64"}


def test_a_mark_is_removed_from_its_editor(qtbot):
    project, hidden = dense_project()
    w = open_window(qtbot, project)
    w.scene.select_nodes([hidden])
    button = w.inspector.form.vary_buttons["units"]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = w.inspector.vary_dialog
    assert not dialog.remove.isVisible()  # nothing to remove yet
    qtbot.keyClicks(dialog.low, "8")
    qtbot.keyClicks(dialog.high, "64")
    press_ok(dialog)
    assert project.marks.spec(hidden, "units") == "8..64"

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = w.inspector.vary_dialog
    assert dialog.as_range.isChecked() and (dialog.low.text(), dialog.high.text()) == ("8", "64")
    dialog.remove.click()
    assert project.marks.spec(hidden, "units") is None
    assert project.undo.undo_text() == "Stop varying hidden.units"
    # Text and shapes cannot be written as NAME=SPEC: no ⟳ for them.
    assert "name" not in w.inspector.form.vary_buttons
    assert {"activation", "use_bias"} <= set(w.inspector.form.vary_buttons)
    assert "kernel_regularizer" not in w.inspector.form.vary_buttons


def test_the_vary_buttons_keep_the_inspector_from_scrolling_sideways(qtbot):
    project, hidden = dense_project()
    w = open_window(qtbot, project)
    w.scene.select_nodes([hidden])
    qtbot.waitUntil(lambda: w.inspector.scroll.isVisible())
    assert w.inspector.scroll.horizontalScrollBar().maximum() == 0
    margins = w.inspector.body_layout.contentsMargins()
    room = w.inspector.scroll.viewport().width() - margins.left() - margins.right()
    wide = []
    for spec in catalogue.all_layers():
        form = ParamForm(spec, "layer", parent=w.inspector, markable=True)
        if form.minimumSizeHint().width() > room:
            wide.append(spec.class_name)
        form.deleteLater()
    assert wide == []
