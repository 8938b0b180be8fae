"""Startup and the parts of the window not tied to one gesture: no Keras before the first
paint, the lazy Training tab, generated inspector editors, zoom caching, light/dark."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QApplication, QGraphicsItem  # noqa: E402

from deepgui.core.commands import AddNode  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.main_window import MainWindow  # noqa: E402
from deepgui.ui.theme import apply_theme, is_dark  # noqa: E402
from tests.machine import within  # noqa: E402

pytestmark = pytest.mark.ui


class NoDialogs:
    def unsaved_changes(self, name):
        return "discard"

    def error(self, title, message):
        raise AssertionError(message)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = MainWindow(Project(), autosave_ms=3_600_000)
    w.dialogs = NoDialogs()  # closing with unsaved edits must not open a modal box
    qtbot.addWidget(w)
    yield w
    w.doc.shutdown()


def test_window_paints_without_loading_keras(tmp_path):
    """The first paint must not wait for TensorFlow (seconds): it loads afterwards."""
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from deepgui.ui.app import initial_project\n"
        "from deepgui.ui.main_window import MainWindow\n"
        "w = MainWindow(initial_project(None)[0]); w.show(); app.processEvents()\n"
        "w.grab()\n"
        "print('keras' in sys.modules, 'tensorflow' in sys.modules, len(w.doc.graph))\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DEEPGUI_CONFIG_DIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    keras_loaded, tf_loaded, _layers = out.stdout.split()
    assert keras_loaded == "False" and tf_loaded == "False"


def test_training_tab_loads_on_first_show(window, qtbot):
    pytest.importorskip("deepgui.ui.training.panel", reason="training panel not in this install")
    assert window._training_panel is None
    window.tabs.setCurrentIndex(3)
    panel = window._training_panel
    assert panel is not None and window.tabs.widget(3) is panel
    assert window.tabs.tabText(3) == "Training"


def test_inspector_generates_editors_per_kind(window, qtbot):
    cmd = AddNode("Bidirectional", {"layer": {"class_name": "LSTM", "config": {"units": 8}}})
    window.doc.push(cmd)
    dense = AddNode("Dense", {"units": 4})
    window.doc.push(dense)
    window.scene.select_nodes([dense.node_id])
    form = window.inspector.form
    from deepgui.ui.param_editors import BoolEditor, ChoiceEditor, IntEditor, RegularizerEditor

    assert isinstance(form.editors["units"], IntEditor) and form.editors["units"].box.minimum() == 1
    assert isinstance(form.editors["activation"], ChoiceEditor)
    assert isinstance(form.editors["use_bias"], BoolEditor)
    reg = form.editors["kernel_regularizer"]
    assert isinstance(reg, RegularizerEditor)
    reg.l2.setValue(0.001)
    reg.kind.setCurrentText("L2")
    config = window.doc.graph.nodes[dense.node_id].config
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.001}}
    # The wrapped layer of Bidirectional has its own nested form.
    window.scene.select_nodes([cmd.node_id])
    layer_editor = window.inspector.form.editors["layer"]
    layer_editor.form.editors["units"].box.setValue(12)
    inner = window.doc.graph.nodes[cmd.node_id].config["layer"]
    assert inner["class_name"] == "LSTM" and inner["config"]["units"] == 12
    layer_editor.kind.setCurrentText("GRU")
    inner = window.doc.graph.nodes[cmd.node_id].config["layer"]
    assert inner["class_name"] == "GRU" and inner["config"]["units"] == 12
    window.doc.undo()
    assert window.doc.graph.nodes[cmd.node_id].config["layer"]["class_name"] == "LSTM"


def test_zooming_scales_a_cached_picture_then_redraws_sharp(window, qtbot):
    cmd = AddNode("Dense", {"units": 4})
    window.doc.push(cmd)
    item = window.scene.nodes[cmd.node_id]
    before = window.view.zoom()
    window.view.zoom_by(1.5)
    assert window.view.zoom() == pytest.approx(before * 1.5)
    assert item.cacheMode() == QGraphicsItem.CacheMode.ItemCoordinateCache
    qtbot.waitUntil(
        lambda: item.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache, timeout=3000
    )
    window.view.zoom_by(1000)  # clamped
    assert window.view.zoom() <= 3.0 + 1e-9


def test_dark_and_light_palettes(window, qtbot):
    app = QApplication.instance()
    try:
        apply_theme(app, dark=True)
        window.apply_theme()
        assert is_dark()
        assert window.scene.colors.background.lightness() < 80
        apply_theme(app, dark=False)
        window.apply_theme()
        assert not is_dark()
        assert window.scene.colors.background.lightness() > 200
    finally:
        apply_theme(app, dark=False)


def test_every_menu_action_has_a_keyboard_route(window):
    """Usable from the keyboard: the issue's shortcuts are in place."""
    shortcut = {name: a.shortcut().toString() for name, a in window.actions.items()}
    assert shortcut["train"] == "F5" and shortcut["stop"] == "Shift+F5"
    assert shortcut["undo"] == "Ctrl+Z" and shortcut["save"] == "Ctrl+S"
    assert shortcut["duplicate"] == "Ctrl+D" and shortcut["select_all"] == "Ctrl+A"
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "View", "Run", "Help"]


def test_building_a_chain_from_the_keyboard(window, qtbot):
    from PySide6.QtCore import Qt

    window.show()
    qtbot.waitExposed(window)
    first = AddNode("InputLayer", {"shape": [8]})
    window.doc.push(first)
    window.scene.select_nodes([first.node_id])
    window.actions["add_layer"].trigger()
    search = window.palette_panel.search
    qtbot.keyClicks(search, "dense")
    qtbot.keyClick(search, Qt.Key.Key_Return)
    qtbot.keyClicks(search, "\b" * 5 + "dropout")
    qtbot.keyClick(search, Qt.Key.Key_Return)
    graph = window.doc.graph
    names = [graph.nodes[n].class_name for n in graph.topological_order()]
    assert names == ["InputLayer", "Dense", "Dropout"]
    assert len(graph.edges) == 2
    dropout = window.scene.selected_node_ids()[0]
    x, y = graph.nodes[dropout].position
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Right)
    assert graph.nodes[dropout].position == (x + 10, y)


def test_a_300_layer_summary_fills_quickly(window):
    """Filling the Summary once took seconds (columns re-measured on every cell)."""
    import time

    from deepgui.core.shapes import NodeInfo

    graph = window.doc.graph
    prev = graph.add_node("InputLayer", {"shape": [8]}).id
    for _ in range(299):
        node = graph.add_node("Dense", {"units": 8})
        graph.connect(prev, node.id)
        prev = node.id
    window.doc.info = {nid: NodeInfo(output_shape=(None, 8), params=72) for nid in graph.nodes}
    start = time.perf_counter()
    window.summary.refresh()
    elapsed = time.perf_counter() - start
    assert window.summary.table.rowCount() == 300
    assert window.summary.table.item(299, 1).text() == "(None, 8)"
    assert elapsed < within(1.5), f"{elapsed:.2f} s"
