"""The overfitting banner as a run goes on: raised on a lasting rise, revisited every epoch (a new
best later says so, and the best epoch it names is the run's own), remedies applied by clicking
and taken back by Ctrl+Z, each sentence whole.

The run's epochs come in through the panel's worker slots (as the training thread's signals
deliver them); everything the user does is a real click or key."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QTextDocument  # noqa: E402

from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.core.training.overfitting import OverfittingDetector  # noqa: E402
from deepgui.core.training.remedies import suggest_remedies  # noqa: E402
from tests.helpers import add  # noqa: E402
from tests.ui_support import open_window  # noqa: E402

pytestmark = pytest.mark.ui

LOSS = [1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1]
VAL = [1.0, 0.8, 0.7, 0.75, 0.8, 0.85, 0.8, 0.7, 0.66, 0.65, 0.64, 0.63]


def plain(label) -> str:
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    g = Graph()
    hidden = add(g, "Dense", add(g, "InputLayer", shape=[8]), units=64, activation="relu")
    add(g, "Dense", hidden, units=3, activation="softmax")
    w = open_window(qtbot, Project(graph=g, training={"epochs": 12}))
    tab_bar = w.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(3).center())
    yield w
    w.doc.shutdown()


def run_epochs(panel, detector, epochs) -> None:
    """Epochs as the worker reports them: the detector's flag first, then the epoch's end."""
    for epoch in epochs:
        logs = {"loss": LOSS[epoch - 1], "val_loss": VAL[epoch - 1]}
        report = detector.update(epoch, logs)
        if report is not None:
            report.remedies = suggest_remedies(panel.get_project(), 100, 10_000)
            panel._on_overfitting(report)
        panel._on_epoch(epoch, logs)


def test_the_banner_follows_the_run_and_the_undo_stack(window, qtbot):
    panel = window.training
    banner = panel.banner
    detector = OverfittingDetector(patience=3, gap=10.0)
    run_epochs(panel, detector, range(1, 5))  # 0.75 at epoch 4: one epoch up is no alarm
    assert not banner.isVisible()
    run_epochs(panel, detector, range(5, 7))
    assert banner.isVisible()
    text = plain(banner.text)
    assert (
        "started to overfit (from epoch 4)" in text and "best model so far was at epoch 3" in text
    )

    qtbot.mouseClick(banner.buttons["dropout"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(banner.buttons["early_stopping"], Qt.MouseButton.LeftButton)
    assert not banner.buttons["dropout"].isEnabled()
    assert banner.buttons["early_stopping"].text().startswith("✓")
    assert plain(banner.applied_text) == (
        "Add dropout applied. Turn on early stopping applied. Undo with Ctrl+Z; train again to "
        "compare."
    )
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert banner.buttons["early_stopping"].isEnabled()
    assert banner.buttons["early_stopping"].text() == "Stop early"
    assert plain(banner.applied_text).startswith("Add dropout applied. Undo")
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert banner.buttons["dropout"].isEnabled() and not banner.applied_text.isVisible()
    qtbot.keyClick(window.view, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)  # redo
    assert not banner.buttons["dropout"].isEnabled()

    # Validation loss comes down again: the banner says so and names the run's best epoch,
    # and the shaded stretch ends where the new best came.
    run_epochs(panel, detector, range(7, 13))
    text = plain(banner.text)
    assert "improved again: its best is now epoch 12" in text and "did not last" in text
    assert "overfit (from" not in text
    (start, end), *_ = panel.plots.overfitting_regions
    assert start == pytest.approx(3.0) and end == pytest.approx(8.0)  # epoch 9 beat epoch 3
    panel._on_finished(
        "completed",
        {"epochs_run": 12, "best": {"epoch": 12, "monitor": "val_loss"}},
        None,
    )
    assert "Best val_loss at epoch 12." in panel.message.text()
    assert "epoch 12" in plain(banner.text)
