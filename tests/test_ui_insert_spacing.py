"""Inserted layers never overlap their neighbours: a layer dropped on a connection, Ctrl+K after
a layer in the middle of a chain, and the remedies' inserts all make room by moving the layers
below, in the same undo step; the bundled examples are spaced as Auto Layout spaces them."""

from __future__ import annotations

import itertools

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402

from deepgui.core.commands import Connect  # noqa: E402
from deepgui.core.layout import GAP_Y, NODE_HEIGHT, NODE_WIDTH  # noqa: E402
from deepgui.core.project import load_project  # noqa: E402
from deepgui.core.training.examples import list_examples  # noqa: E402
from deepgui.core.training.overfitting import OverfittingReport  # noqa: E402
from deepgui.core.training.remedies import suggest_remedies  # noqa: E402
from tests.ui_support import add, drop_layer, open_window  # noqa: E402

pytestmark = pytest.mark.ui


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = open_window(qtbot)
    yield w
    w.doc.shutdown()


def boxes(w) -> dict[str, QRectF]:
    """Each layer's box as the canvas draws it (ports and captions aside)."""
    return {nid: QRectF(item.pos(), QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT).size())
            for nid, item in w.scene.nodes.items()}  # fmt: skip


def closest_gap(w) -> float:
    """The smallest vertical gap between two layers that share a column (negative: overlap)."""
    gaps = [max(b.top() - a.bottom(), a.top() - b.bottom())
            for a, b in itertools.combinations(boxes(w).values(), 2)
            if a.left() < b.right() and b.left() < a.right()]  # fmt: skip
    return min(gaps, default=float("inf"))


def chain(w, names: list[str]) -> list[str]:
    ids = []
    for i, name in enumerate(names):
        config = {"shape": [8, 8, 1]} if name == "InputLayer" else {}
        ids.append(add(w, name, (0.0, i * (NODE_HEIGHT + GAP_Y)), **config))
        if i:
            w.doc.push(Connect(ids[-2], ids[-1]))
    return ids


def test_a_layer_dropped_on_a_connection_pushes_the_layers_below_down(window, qtbot):
    ids = chain(window, ["InputLayer", "Conv2D", "Dense"])
    before = {nid: window.doc.graph.nodes[nid].position for nid in ids}
    edge = window.scene.edges[window.doc.graph.in_edges(ids[2])[0]]
    drop_layer(window, "Flatten", edge.path().pointAtPercent(0.5) + QPointF(3, 0))
    graph = window.doc.graph
    flatten = next(n.id for n in graph if n.class_name == "Flatten")
    assert graph.predecessors(flatten) == [ids[1]] and graph.successors(flatten) == [ids[2]]
    assert closest_gap(window) >= GAP_Y - 1
    # In the connection's column, below its source; the layer under it moved down one row.
    box = boxes(window)[flatten]
    assert box.left() == 0.0 and box.top() > boxes(window)[ids[1]].bottom()
    assert boxes(window)[ids[2]].top() >= box.bottom() + GAP_Y
    window.doc.undo()  # one step takes the layer away and the others back
    assert {nid: graph.nodes[nid].position for nid in ids} == before
    assert flatten not in window.scene.nodes


def test_ctrl_k_after_a_middle_layer_inserts_it_in_the_chain_with_room(window, qtbot):
    ids = chain(window, ["InputLayer", "Conv2D", "Flatten", "Dense"])
    window.scene.select_nodes([ids[1]])
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.palette_panel.search, "MaxPooling2D")
    qtbot.keyClick(window.palette_panel.search, Qt.Key.Key_Return)
    graph = window.doc.graph
    pool = window.scene.selected_node_ids()[0]
    assert graph.nodes[pool].class_name == "MaxPooling2D"
    order = [graph.nodes[n].class_name for n in graph.topological_order()]
    assert order == ["InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert len(graph.edges) == 4
    assert closest_gap(window) >= GAP_Y - 1
    assert window.doc.project.undo.undo_text() == "Add MaxPooling2D"


def remedy_clicked(qtbot, w, key: str) -> None:
    """The engine flags overfitting; the user clicks the remedy's button in the banner."""
    panel = w.training_panel()
    w.tabs.setCurrentWidget(panel)
    report = OverfittingReport(epoch=4, detected_at=7, kind="rising", reason="validation loss "
                               "has risen for 3 epochs", best_epoch=3, best_val_loss=0.5)  # fmt: skip
    report.remedies = suggest_remedies(w.doc.project, 100, 10_000)
    panel._on_overfitting(report)
    button = panel.banner.buttons[key]
    qtbot.waitUntil(button.isVisible)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_add_dropout_makes_room_under_each_layer_it_follows(window, qtbot):
    ids = chain(window, ["InputLayer", "Flatten", "Dense", "Dense", "Dense"])
    window.doc.project.graph.node(ids[0]).config["shape"] = [8]
    remedy_clicked(qtbot, window, "dropout")
    graph = window.doc.graph
    dropouts = [n.id for n in graph if n.class_name == "Dropout"]
    assert len(dropouts) == 2
    assert closest_gap(window) >= GAP_Y - 1
    for d in dropouts:  # each right under the layer it follows, in its column
        above = boxes(window)[graph.predecessors(d)[0]]
        assert boxes(window)[d].left() == above.left()
        assert boxes(window)[d].top() == pytest.approx(above.bottom() + GAP_Y)
    window.doc.undo()
    assert [n.class_name for n in graph].count("Dropout") == 0
    assert [graph.nodes[n].position[1] for n in ids] == [
        i * (NODE_HEIGHT + GAP_Y) for i in range(5)
    ]


def test_augment_the_images_makes_room_for_both_layers(window, qtbot):
    chain(window, ["InputLayer", "Conv2D", "Flatten", "Dense"])
    remedy_clicked(qtbot, window, "augmentation")
    graph = window.doc.graph
    order = [graph.nodes[n].class_name for n in graph.topological_order()]
    assert order[:3] == ["InputLayer", "RandomRotation", "RandomZoom"]
    assert closest_gap(window) >= GAP_Y - 1


@pytest.mark.parametrize("example", list_examples(), ids=lambda e: e.name)
def test_the_bundled_examples_are_spaced_like_auto_layout(qtbot, tmp_path, monkeypatch, example):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = open_window(qtbot, load_project(example.path))
    try:
        assert closest_gap(w) >= GAP_Y - 1
    finally:
        w.doc.shutdown()
