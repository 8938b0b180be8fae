"""The canvas as a newcomer meets it at a laptop's size (1366x768): zooming leaves nothing stale
behind, the canvas is the largest thing on screen, and a fitted model stays readable."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from deepgui.core.project import load_project  # noqa: E402
from deepgui.core.training.examples import example_path  # noqa: E402
from tests.ui_support import (  # noqa: E402
    differing_share,
    on_screen,
    open_window,
    painted_afresh,
    settle,
    wheel,
)

pytestmark = pytest.mark.ui


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = open_window(qtbot, load_project(example_path("digits_cnn")))
    w.start_background()
    yield w
    w.doc.shutdown()


def test_zooming_with_the_wheel_and_keys_leaves_no_stale_pieces(window, qtbot):
    view = window.view
    viewport = view.viewport()
    view.fit_all()
    qtbot.wait(50)
    centre = viewport.rect().center()
    for i in range(6):  # in, with the pointer wandering, then back out
        wheel(viewport, 1, centre + QPoint(30 * i, 10 * i))
        qtbot.wait(16)
    for _ in range(4):
        wheel(viewport, -1, centre)
        qtbot.wait(16)
    qtbot.wait(400)  # the zoom settles: layers drawn sharp again
    assert differing_share(on_screen(viewport), painted_afresh(viewport)) < 0.002
    before = view.zoom()
    for _ in range(3):
        qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
        qtbot.wait(16)
    assert view.zoom() < before
    qtbot.wait(400)
    assert differing_share(on_screen(viewport), painted_afresh(viewport)) < 0.002


def separator_drag(qtbot, w, dy: int) -> None:
    """Drag the splitter between the canvas and the bottom dock by `dy` pixels."""
    canvas_bottom = w.view.mapTo(w, QPoint(0, w.view.height())).y()
    dock_top = w.bottom_dock.mapTo(w, QPoint(0, 0)).y()
    start = QPoint(w.view.mapTo(w, QPoint(w.view.width() // 2, 0)).x(),
                   (canvas_bottom + dock_top) // 2)  # fmt: skip
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 5):
        qtbot.mouseMove(w, start + QPoint(0, dy * step // 4))
        qtbot.wait(20)  # Qt moves the separator on a timer after each move
    qtbot.mouseRelease(w, Qt.MouseButton.LeftButton, pos=start + QPoint(0, dy))


def test_the_canvas_stays_the_largest_thing_with_the_training_tab_open(window, qtbot):
    view, dock = window.view, window.bottom_dock
    qtbot.mouseClick(window.tabs.tabBar(), Qt.MouseButton.LeftButton,
                     pos=window.tabs.tabBar().tabRect(3).center())  # fmt: skip
    assert window.tabs.currentWidget() is window.training
    qtbot.wait(50)
    area = view.width() * view.height()
    assert area > dock.width() * dock.height()
    # Dragged as short as it goes, the dock leaves the canvas two thirds of the window.
    window.resizeDocks([dock], [450], Qt.Orientation.Vertical)
    qtbot.wait(50)
    assert dock.height() >= 400
    separator_drag(qtbot, window, 400)
    qtbot.wait(50)
    assert dock.height() <= 300
    assert view.height() >= 0.5 * window.height()
    plots = window.training.plots
    assert plots.loss_plot.height() >= 100 and plots.loss_plot.isVisible()


def test_fit_to_window_keeps_the_model_readable(window, qtbot):
    from deepgui.ui.canvas import READABLE_ZOOM
    from deepgui.ui.canvas_items import fonts

    settle(qtbot, window)
    view = window.view
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() >= READABLE_ZOOM
    # At the laptop's default layout the whole digits model fits, every layer inside the view.
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in window.scene.nodes.values():
        assert shown.contains(item.sceneBoundingRect()), item.name
    # Names are drawn at least 11 pixels high on screen, shapes without the batch size.
    name_font, _ = fonts().scaled("name", 11.5 / view.zoom())
    assert name_font.pixelSize() * view.zoom() >= 11
    conv = next(i for i in window.scene.nodes.values() if i.name == "conv2d")
    assert conv.short_shape == "8×8×32"
    # A model too tall for the canvas at that scale is shown from its inputs down.
    qtbot.mouseClick(window.tabs.tabBar(), Qt.MouseButton.LeftButton,
                     pos=window.tabs.tabBar().tabRect(3).center())  # fmt: skip
    window.resizeDocks([window.bottom_dock], [420], Qt.Orientation.Vertical)
    qtbot.wait(50)
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == pytest.approx(READABLE_ZOOM)
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    inputs = [i for i in window.scene.nodes.values() if i.class_name == "InputLayer"]
    assert all(shown.contains(i.sceneBoundingRect()) for i in inputs)


def test_dock_sizes_are_remembered_for_the_next_window(window, qtbot):
    window.resizeDocks([window.bottom_dock], [400], Qt.Orientation.Vertical)
    qtbot.wait(50)
    separator_drag(qtbot, window, 120)  # the user makes the canvas taller
    qtbot.wait(50)
    height = window.bottom_dock.height()
    assert 250 <= height <= 300
    window.doc.project.undo.set_clean()
    assert window.close()
    again = open_window(qtbot, load_project(example_path("digits_cnn")))
    try:
        qtbot.wait(50)
        assert again.bottom_dock.height() == height
        assert again.size() == window.size()
    finally:
        again.doc.shutdown()


def test_a_refused_connection_says_why_in_readable_type_at_any_zoom(window, qtbot):
    from tests.ui_support import view_point

    view = window.view
    view.fit_all()
    assert view.zoom() < 0.75
    items = list(window.scene.nodes.values())
    last, first = items[-1], items[0]
    vp = view.viewport()
    start, over = (
        view_point(window, last.output_port_pos()),
        view_point(window, first.sceneBoundingRect().center()),
    )
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, pos=over)
    label = view.interaction.label
    assert "takes no incoming connection" in label.toPlainText()
    # Drawn at its own size whatever the zoom (it was a speck zoomed out).
    assert label.deviceTransform(view.viewportTransform()).m11() == pytest.approx(1.0)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=over)
    assert view.interaction is None
