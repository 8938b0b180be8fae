"""A deliberately overfitting setup (random labels, a wide layer) raises the banner, shades the
plots, and one click applies a remedy as an undoable edit."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.helpers import add  # noqa: E402

pytestmark = pytest.mark.ui


def memorising_project(tmp_path) -> Project:
    rng = np.random.default_rng(0)
    # Labels that have nothing to do with the inputs: all the model can do is memorise.
    np.savez(tmp_path / "noise.npz", x=rng.normal(size=(160, 32)).astype("float32"),
             y=rng.integers(0, 4, size=160).astype("int64"))  # fmt: skip
    g = Graph()
    inp = add(g, "InputLayer", shape=[32])
    wide = add(g, "Dense", inp, units=256, activation="relu")
    add(g, "Dense", wide, units=4, activation="softmax")
    project = Project(
        graph=g,
        dataset={"source": "npz", "path": "noise.npz", "validation_split": 0.25},
        training={
            "epochs": 60,
            "batch_size": 32,
            "learning_rate": 0.01,
            "overfitting": {"patience": 2, "gap": 0.1},
        },  # fmt: skip
    )
    project.save(tmp_path / "noise.dgproj")
    return project


def test_overfitting_banner_and_remedy(qtbot, tmp_path):
    project = memorising_project(tmp_path)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    try:
        assert panel.start_training()
        qtbot.waitUntil(lambda: panel.banner.isVisibleTo(panel), timeout=90000)
    finally:
        panel.stop_training()
        assert panel.shutdown(20000)
    report = panel.banner.report
    assert "overfit" in panel.banner.text.text() and str(report.epoch) in panel.banner.text.text()
    regions = panel.plots.overfitting_regions
    assert regions and regions[0][0] == pytest.approx(report.epoch - 1)
    assert regions[0][1] > regions[0][0]
    assert "dropout" in panel.banner.buttons and "early_stopping" in panel.banner.buttons

    nodes_before = len(project.graph)
    panel.banner.buttons["dropout"].click()
    assert len(project.graph) == nodes_before + 1
    assert any(n.class_name == "Dropout" for n in project.graph)
    assert not panel.banner.buttons["dropout"].isEnabled()
    assert project.undo.can_undo()
    project.undo.undo()
    assert len(project.graph) == nodes_before
    assert not any(n.class_name == "Dropout" for n in project.graph)

    panel.banner.buttons["early_stopping"].click()
    assert project.training["early_stopping"]["enabled"] is True
    assert panel.form.es_enabled.isChecked()
    assert project.undo.undo_text() == "Turn on early stopping"
    project.undo.undo()
    assert not (project.training.get("early_stopping") or {}).get("enabled")
    assert not panel.form.es_enabled.isChecked()  # the form follows the undo


def test_remedy_then_form_edits_then_undo_keeps_what_came_later(qtbot, tmp_path):
    """Remedy, then the user types a new number of epochs and learning rate, then undo: one
    step per field, and undoing them never reverts what the remedy did or vice versa."""
    from PySide6.QtCore import Qt

    project = memorising_project(tmp_path)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    panel.show()
    from deepgui.core.training.remedies import suggest_remedies

    remedy = next(r for r in suggest_remedies(project, 1000, 10**6) if r.key == "early_stopping")
    panel.apply_remedy(remedy)
    epochs_before = project.training["epochs"]
    rate_before = panel.form.learning_rate.value()
    for box, text in ((panel.form.epochs, "50"), (panel.form.learning_rate, "0.02")):
        box.setFocus()
        box.selectAll()
        qtbot.keyClicks(box, text)
        qtbot.keyClick(box, Qt.Key.Key_Tab)
    assert project.training["epochs"] == 50
    assert project.training["learning_rate"] == pytest.approx(0.02)
    project.undo.undo()  # the learning rate, every keystroke of it
    assert project.training["learning_rate"] == pytest.approx(rate_before)
    assert project.training["epochs"] == 50 and project.training["early_stopping"]["enabled"]
    project.undo.undo()  # the epochs
    assert project.training["epochs"] == epochs_before
    assert project.training["early_stopping"]["enabled"]  # the remedy stands
    assert panel.form.epochs.value() == epochs_before  # the form shows the project
    project.undo.redo()
    project.undo.redo()
    assert project.training["epochs"] == 50
    assert project.training["learning_rate"] == pytest.approx(0.02)
    assert panel.form.epochs.value() == 50
