"""Ctrl+K: type a layer's name, Enter adds the best match (the core's ranking) after the selected
layer, and the palette marks which one that is while typing."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from tests.ui_support import add, open_window  # noqa: E402

pytestmark = pytest.mark.ui


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = open_window(qtbot)
    yield w
    w.doc.shutdown()


def type_layer(qtbot, w, text: str) -> None:
    """Ctrl+K on the canvas, type, Enter."""
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    search = w.palette_panel.search
    assert search.hasFocus()
    qtbot.keyClicks(search, text)
    qtbot.keyClick(search, Qt.Key.Key_Return)


def test_ctrl_k_adds_the_exact_name_then_the_best_prefix(window, qtbot):
    graph = window.doc.graph
    first = add(window, "InputLayer", (0, 0), shape=[28, 28, 1])
    window.scene.select_nodes([first])
    type_layer(qtbot, window, "MaxPooling2D")
    palette = window.palette_panel
    # While typing, the palette's marked row is the one Enter adds.
    assert palette.tree.currentItem().text(0) == "MaxPooling2D"
    added = window.scene.selected_node_ids()[0]
    assert graph.nodes[added].class_name == "MaxPooling2D"
    assert graph.predecessors(added) == [first]
    type_layer(qtbot, window, "maxpool")
    assert palette.tree.currentItem().text(0) == "MaxPooling2D"
    assert graph.nodes[window.scene.selected_node_ids()[0]].class_name == "MaxPooling2D"
    type_layer(qtbot, window, "flat")
    newest = window.scene.selected_node_ids()[0]
    assert graph.nodes[newest].class_name == "Flatten"
    order = [graph.nodes[n].class_name for n in graph.topological_order()]
    assert order == ["InputLayer", "MaxPooling2D", "MaxPooling2D", "Flatten"]


def test_enter_with_nothing_typed_or_nothing_found_adds_nothing(window, qtbot):
    type_layer(qtbot, window, "")
    assert len(window.doc.graph) == 0
    type_layer(qtbot, window, "no such layer")
    assert window.palette_panel.visible_layers() == []
    assert len(window.doc.graph) == 0
