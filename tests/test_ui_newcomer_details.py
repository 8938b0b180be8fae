"""The smaller things a newcomer meets: the empty-canvas hint goes with the first layer, counts
read "1 layer", deleting a middle layer offers to keep the chain whole, the dark look shows
disabled icons as disabled and the evaluation in dark colours, examples say what they are, and a
project opened again shows its last run."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtWidgets import QApplication, QToolButton  # noqa: E402

from deepgui.core.commands import Connect  # noqa: E402
from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.core.training import runs  # noqa: E402
from deepgui.ui.theme import apply_theme  # noqa: E402
from tests.helpers import add as add_to  # noqa: E402
from tests.ui_support import (  # noqa: E402
    add,
    differing_share,
    drop_layer,
    on_screen,
    open_window,
    painted_afresh,
)

pytestmark = pytest.mark.ui


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = open_window(qtbot)
    yield w
    w.doc.shutdown()


def test_the_empty_canvas_hint_goes_with_the_first_layer(window, qtbot):
    hint, viewport = window.view.empty_hint, window.view.viewport()
    assert hint.isVisible() and "Drag a layer" in hint.text()
    qtbot.wait(50)
    drop_layer(window, "Dense", window.view.mapToScene(viewport.rect().center()))
    qtbot.wait(100)
    assert not hint.isVisible()
    # Nothing of the hint is left on screen under the layer.
    assert differing_share(on_screen(viewport), painted_afresh(viewport)) < 0.002
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert hint.isVisible()


def test_counts_read_one_layer_and_several_layers(window, qtbot):
    drop_layer(window, "InputLayer", QPointF(0, 0))
    assert window.params_label.text() == "1 layer · 0 params"
    drop_layer(window, "Dense", QPointF(0, 300))
    assert window.params_label.text().startswith("2 layers · ")


def click_node(qtbot, w, node_id: str) -> None:
    item = w.scene.nodes[node_id]
    point = w.view.mapFromScene(item.sceneBoundingRect().center() + QPointF(0, 10))
    qtbot.mouseClick(w.view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_deleting_a_middle_layer_offers_to_keep_the_chain_whole(window, qtbot):
    ids = [add(window, name, (0.0, i * 140.0), **cfg) for i, (name, cfg) in enumerate(
        [("InputLayer", {"shape": [8]}), ("Dense", {"units": 8}), ("Dropout", {"rate": 0.2}),
         ("Dense", {"units": 2})])]  # fmt: skip
    for a, b in zip(ids, ids[1:], strict=False):
        window.doc.push(Connect(a, b))
    graph = window.doc.graph
    click_node(qtbot, window, ids[2])
    assert window.scene.selected_node_ids() == [ids[2]]
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert graph.successors(ids[1]) == []  # the chain is broken, and the app says what to do
    message = window.statusBar().currentMessage()
    assert "no longer connected" in message and "Delete and Reconnect (Ctrl+Delete)" in message
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    click_node(qtbot, window, ids[2])
    qtbot.keyClick(window.view, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert ids[2] not in graph.nodes
    assert graph.successors(ids[1]) == [ids[3]]  # what fed it now feeds what it fed
    assert window.doc.project.undo.undo_text() == "Delete and reconnect"
    assert len(window.scene.edges) == 2
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert "Delete and &Reconnect" in [a.text() for a in edit_menu.actions()]
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [graph.successors(n) for n in ids[:3]] == [[ids[1]], [ids[2]], [ids[3]]]


def brightest_ink(widget) -> int:
    """The brightest grey level drawn on `widget` (its icon's ink on a dark toolbar)."""
    image = widget.grab().toImage()
    from tests.ui_support import _pixels

    return int(_pixels(image).astype(int).mean(axis=-1).max())


def test_dark_look_disabled_icons_and_evaluation(window, qtbot):
    app = QApplication.instance()
    try:
        apply_theme(app, dark=True)
        window.apply_theme()
        qtbot.wait(50)
        bar = window.findChild(type(window.addToolBar("probe")), "toolbar_main")
        buttons = {b.defaultAction().text(): b for b in bar.findChildren(QToolButton)
                   if b.defaultAction() is not None}  # fmt: skip
        assert not window.actions["stop"].isEnabled() and window.actions["train"].isEnabled()
        # Disabled ink is clearly darker than enabled ink on the dark toolbar.
        assert brightest_ink(buttons["&Stop"]) < brightest_ink(buttons["&Train"]) - 60
        evaluation = window.training_panel().evaluation
        evaluation.show_result(
            {"split": "test", "count": 4, "metrics": {"accuracy": 0.5}, "task": "multiclass",
             "class_names": ["a", "b"], "confusion": np.array([[1, 1], [1, 1]]),
             "y_true": np.array([0, 1, 0, 1]), "y_pred": np.array([0, 0, 1, 1])}, None,
        )  # fmt: skip
        background = evaluation.confusion_plot.backgroundBrush().color()
        assert background.lightness() < 80  # the plot follows the dark look
        apply_theme(app, dark=False)
        window.apply_theme()
        assert evaluation.confusion_plot.backgroundBrush().color().lightness() > 200
    finally:
        apply_theme(app, dark=False)
        window.apply_theme()


def test_open_example_says_what_each_example_is(window, qtbot):
    from deepgui.core.training.examples import list_examples

    window.examples_menu.aboutToShow.emit()
    texts = [a.text() for a in window.examples_menu.actions()]
    for example in list_examples():
        assert f"{example.name} — {example.description}" in texts


def test_a_project_opened_again_shows_its_last_run(qtbot, tmp_path, monkeypatch):
    """Its curves from history.csv, how it ended and its test scores from metrics.json."""
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    g = Graph()
    add_to(g, "Dense", add_to(g, "InputLayer", shape=[4]), units=3, activation="softmax")
    project = Project(graph=g, dataset={"source": "builtin", "name": "iris"})
    path = tmp_path / "flowers.dgproj"
    project.save(path)
    run = runs.runs_root(project) / "20260101-120000"
    run.mkdir(parents=True)
    (run / "project.dgproj").write_text(path.read_text())
    rows = ["epoch,loss,val_loss,accuracy,val_accuracy"]
    rows += [f"{e},{1 / e:.4f},{1.2 / e:.4f},{0.5 + e / 20:.3f},{0.45 + e / 20:.3f}"
             for e in range(1, 7)]  # fmt: skip
    (run / "history.csv").write_text("\n".join(rows) + "\n")
    metrics = {"epochs_run": 6, "stopped_by": "completed", "epochs_planned": 6,
               "best": {"epoch": 6, "monitor": "val_loss", "metrics": {"val_loss": 0.2}},
               "test": {"accuracy": 0.9, "loss": 0.25}, "overfitting": []}  # fmt: skip
    (run / "metrics.json").write_text(json.dumps(metrics))

    w = open_window(qtbot)
    try:
        # The project file dropped on the window, as from a file manager.
        from PySide6.QtCore import QMimeData
        from PySide6.QtGui import QDragEnterEvent, QDropEvent

        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        point = w.view.viewport().rect().center()
        args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(w.view.viewport(), QDragEnterEvent(point, *args))
        QApplication.sendEvent(w.view.viewport(), QDropEvent(QPointF(point), *args))
        assert w.doc.project.path == path
        tab_bar = w.tabs.tabBar()
        qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(3).center())
        panel = w.training
        x, y = panel.plots.curve_data("val_loss")
        assert list(x) == [1, 2, 3, 4, 5, 6] and y[0] == pytest.approx(1.2)
        assert panel.message.text().startswith(
            "Last run, 20260101-120000: Training finished after 6 epochs. Best val_loss at epoch 6."
        )
        qtbot.mouseClick(panel.view_tabs.tabBar(), Qt.MouseButton.LeftButton,
                         pos=panel.view_tabs.tabBar().tabRect(1).center())  # fmt: skip
        summary = panel.evaluation.summary.text()
        assert "on the test split: accuracy 0.9, loss 0.25" in summary
        assert panel.evaluation.predict_button.isEnabled()
        assert panel.run_dir == run
    finally:
        w.doc.shutdown()
