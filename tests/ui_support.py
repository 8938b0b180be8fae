"""Shared helpers for the UI tests that drive the main window as a newcomer would: real mouse,
wheel and key events, and what ends up on screen (the window's backing store, not a fresh
render)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from deepgui.core.commands import AddNode
from deepgui.core.project import Project
from deepgui.ui.editing import LAYER_MIME, default_config


class FakeDialogs:
    """Answers every question without a modal dialog and records what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def unsaved_changes(self, name):
        self.asked.append(("unsaved", name))
        return "discard"

    def offer_recovery(self, description):
        self.asked.append(("recover", description))
        return False

    def error(self, title, message):
        self.asked.append(("error", message))

    def info(self, title, message):
        self.asked.append(("info", message))


def open_window(qtbot, project: Project | None = None, size: tuple[int, int] = (1366, 768)):
    """The main window at a laptop's size, shown and active (shortcuts need that)."""
    from deepgui.ui.main_window import MainWindow

    w = MainWindow(project or Project(), autosave_ms=3_600_000)
    w.dialogs = FakeDialogs()
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    return w


def settle(qtbot, w, timeout: int = 60_000) -> None:
    """Wait for Keras (first time) and for the shapes of the latest edit."""
    qtbot.waitUntil(lambda: w.doc.keras_ready and not w.doc.inference_pending, timeout=timeout)


def add(w, class_name: str, pos=(0.0, 0.0), **config) -> str:
    cmd = AddNode(class_name, {**default_config(class_name), **config}, pos)
    assert w.doc.push(cmd)
    return cmd.node_id


def view_point(w, scene_pos: QPointF) -> QPoint:
    return w.view.mapFromScene(scene_pos)


def drag(w, qtbot, start_pos: QPointF, end_pos: QPointF) -> None:
    """Press at one scene point, move through the middle, release at the other."""
    start, end = view_point(w, start_pos), view_point(w, end_pos)
    vp = w.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, pos=(start + end) / 2)
    qtbot.mouseMove(vp, pos=end)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)


def drop_layer(w, class_name: str, scene_pos: QPointF) -> None:
    """Drag a layer from the palette and drop it at `scene_pos` (Qt's drag events)."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, class_name.encode())
    point = view_point(w, scene_pos)
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    vp = w.view.viewport()
    QApplication.sendEvent(vp, QDragEnterEvent(point, *args))
    QApplication.sendEvent(vp, QDragMoveEvent(point, *args))
    QApplication.sendEvent(vp, QDropEvent(QPointF(point), *args))


def wheel(widget: QWidget, steps: int, pos: QPoint | None = None) -> None:
    """Turn the mouse wheel `steps` notches over `widget` (negative: towards the user)."""
    pos = pos if pos is not None else widget.rect().center()
    event = QWheelEvent(
        QPointF(pos), QPointF(widget.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120 * steps),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False,
    )  # fmt: skip
    QApplication.sendEvent(widget, event)


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1)
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3].copy()


def on_screen(widget: QWidget) -> np.ndarray:
    """What the window system shows of `widget` now: its window's backing store, stale pieces
    included (QWidget.grab would paint everything afresh)."""
    window = widget.window()
    top = widget.mapTo(window, QPoint(0, 0))
    screen = window.screen()
    shot = screen.grabWindow(window.winId(), top.x(), top.y(), widget.width(), widget.height())
    return _pixels(shot.toImage())


def painted_afresh(widget: QWidget) -> np.ndarray:
    return _pixels(widget.grab().toImage())


def differing_share(a: np.ndarray, b: np.ndarray) -> float:
    """The share of pixels that differ visibly between two pictures of one size."""
    assert a.shape == b.shape, (a.shape, b.shape)
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > 40).mean())
