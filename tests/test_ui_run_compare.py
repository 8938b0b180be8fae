"""Two runs compared in the Runs tab: selecting exactly two enables Compare…, which shows run
B's model with the changed layer tinted and the changed parameter and settings in a table,
both runs' curves and their scores side by side."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402

from deepgui.ui.training import run_compare  # noqa: E402
from deepgui.ui.training.runs_view import RunsView  # noqa: E402
from tests.test_run_diff import two_runs  # noqa: E402

pytestmark = pytest.mark.ui


def tint_pixels(scene, name: str, colour: QColor) -> int:
    """How many pixels around the layer's box, as drawn, are near `colour`."""
    rect = scene.nodes[name].sceneBoundingRect().adjusted(-8, -8, 8, 8)
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_RGB32)
    painter = QPainter(image)
    scene.render(painter, QRectF(image.rect()), rect)
    painter.end()
    near = 0
    for x in range(0, image.width(), 2):
        for y in range(0, image.height(), 2):
            c = image.pixelColor(x, y)
            if max(abs(c.red() - colour.red()), abs(c.green() - colour.green()),
                   abs(c.blue() - colour.blue())) < 40:  # fmt: skip
                near += 1
    return near


def test_compare_two_runs_names_and_tints_the_changed_layer(qtbot, tmp_path, monkeypatch):
    # Shapes come from Keras, which takes seconds to load: the slow test below checks them.
    monkeypatch.setattr(run_compare.CompareRunsWindow, "_infer", lambda self: None)
    project = two_runs(tmp_path)
    view = RunsView()
    qtbot.addWidget(view)
    view.set_project(project)
    assert not view.compare_button.isEnabled()
    view.select(["20260101-120000"])
    assert not view.compare_button.isEnabled()  # one run: nothing to compare it with
    view.select(["20260101-120000", "20260101-130000"])
    assert view.compare_button.isEnabled()
    # The tab draws (a combo box once named "metric" hid QWidget.metric, and drawing crashed).
    assert not view.grab().isNull()
    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    window = view.compare_window
    assert window is not None and window.isVisible()
    qtbot.addWidget(window)

    # The earlier run is A; the summary names the changed layer and parameter.
    assert window.run_a.name == "20260101-120000"
    assert "dense_1.units 32 → 64" in window.summary.text()
    cells = [
        [window.changes.item(i, j).text() for j in range(4)]
        for i in range(window.changes.rowCount())
    ]
    assert ["layer dense_1", "units", "32", "64"] in cells
    assert ["training", "learning_rate", "0.001", "0.01"] in cells
    assert ["layer dropout", "added", "—", "Dropout"] in cells

    scene = window.scene
    assert scene.tint_of("dense_1") == "changed"
    assert scene.tint_of("dropout") == "added"
    assert scene.tint_of("dense") is None and scene.tint_of("species") is None
    amber = scene.tints["dense_1"].color
    assert tint_pixels(scene, "dense_1", amber) > 50  # drawn in amber on screen
    assert tint_pixels(scene, "dense", amber) == 0
    assert "units 32 → 64" in scene.tints["dense_1"].lines

    # Both runs' curves and their scores side by side, the better one in bold.
    assert window.overlay() == 2
    metrics = {window.scores.item(i, 0).text(): i for i in range(window.scores.rowCount())}
    row = metrics["final val_loss"]
    assert window.scores.item(row, 1).text() == "0.8" and window.scores.item(row, 2).text() == "0.5"
    assert window.scores.item(row, 2).font().bold()
    window.close()


@pytest.mark.slow
def test_compared_layers_show_their_shapes_and_parameter_counts(qtbot, tmp_path):
    """Shape inference in the background fills in B's layers, then the layer only A had."""
    two_runs(tmp_path)
    runs = tmp_path / "iris.runs"
    # Later run first: the dropout is a layer B (the earlier run) no longer has.
    window = run_compare.CompareRunsWindow(runs / "20260101-130000", runs / "20260101-120000")
    qtbot.addWidget(window)
    window.show()
    scene = window.scene
    assert scene.tint_of("dropout") == "removed" and scene.nodes["dropout"].opacity() < 1
    qtbot.waitUntil(lambda: window.shapes_known == {"a", "b"}, timeout=120_000)
    assert scene.nodes["dense_1"].params_text == "544 params"  # 16 * 32 + 32, as B has it
    assert scene.nodes["dropout"].shape_text == "(None, 16)"
    window.close()


def test_a_run_without_its_project_cannot_be_compared(qtbot, tmp_path):
    project = two_runs(tmp_path)
    (tmp_path / "iris.runs" / "20260101-120000" / "project.dgproj").unlink()
    view = RunsView()
    qtbot.addWidget(view)
    view.set_project(project)
    view.select(["20260101-120000", "20260101-130000"])
    assert not view.compare_button.isEnabled()
    assert view.compare(view.selected_runs()) is None
    assert "project.dgproj" in view.details.text()
