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
    wheel,
)

pytestmark = pytest.mark.ui


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = open_window(qtbot, load_project(example_path("digits_cnn")))
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
