"""The window paints and takes edits before Keras has loaded (issue 23, start-up). Keras is held
back by a loader that waits for the test. The app opens its window as it does at launch; the
window must paint, a layer dropped from the palette must land on the canvas as one undoable
edit, and the shapes must follow once Keras is there."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF  # noqa: E402

from tests.ui_support import FakeDialogs, drop_layer  # noqa: E402

pytestmark = pytest.mark.ui


def test_the_window_paints_and_takes_edits_while_keras_loads(qtbot, tmp_path, monkeypatch):
    from deepgui.core import keras_layers
    from deepgui.ui import app, settings

    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    settings.mark_launched()  # not the first launch: no Getting Started page over the window
    release, asked = threading.Event(), threading.Event()
    real = keras_layers.keras
    real()  # imported now, so that only the hold below decides when the window has Keras

    def slow_keras():
        asked.set()
        release.wait(60)  # the import of TensorFlow, as slow as a loaded machine makes it
        return real()

    monkeypatch.setattr(keras_layers, "keras", slow_keras)
    try:
        w = app.open_window(None)
        w.dialogs = FakeDialogs()
        qtbot.addWidget(w)
        qtbot.waitExposed(w)
        qtbot.waitUntil(asked.is_set, timeout=10_000)  # the app loads Keras after showing
        assert w.keras_label.text() == "Loading Keras…" and not w.doc.keras_ready
        painted = w.grab().toImage()
        assert painted.width() > 0 and len({painted.pixel(x, 40) for x in range(0, 400, 8)}) > 1

        before = set(w.doc.graph.nodes)
        assert not w.doc.info  # the example's shapes wait for Keras too
        drop_layer(w, "Dense", QPointF(600, 600))
        qtbot.waitUntil(lambda: len(w.doc.graph.nodes) == len(before) + 1, timeout=2000)
        (node_id,) = set(w.doc.graph.nodes) - before
        assert node_id in w.scene.nodes  # on the canvas, not queued behind Keras
        assert w.doc.project.undo.can_undo() and not w.doc.keras_ready
    finally:
        release.set()
    qtbot.waitUntil(lambda: w.doc.keras_ready and not w.doc.inference_pending, timeout=60_000)
    assert w.doc.info.get(node_id) is not None  # its shape, once Keras is there
    assert w.keras_label.text() == ""
    w.close()
