"""The canvas and its panels, driven as a user would (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from deepgui.core.commands import AddNode, Connect, MoveNodes  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.editing import LAYER_MIME  # noqa: E402
from deepgui.ui.main_window import MainWindow  # noqa: E402

pytestmark = pytest.mark.ui


class FakeDialogs:
    """Answers every question without a modal dialog and records what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.unsaved_answer = "discard"

    def unsaved_changes(self, name):
        self.asked.append(("unsaved", name))
        return self.unsaved_answer

    def offer_recovery(self, description):
        self.asked.append(("recover", description))
        return True

    def error(self, title, message):
        self.asked.append(("error", message))

    def info(self, title, message):
        self.asked.append(("info", message))


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = MainWindow(Project(), autosave_ms=3_600_000)
    w.dialogs = FakeDialogs()
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.start_background()
    yield w
    w.doc.shutdown()


def settle(qtbot, w, timeout=60_000) -> None:
    """Wait for Keras (first time) and for inference of the latest edit."""
    qtbot.waitUntil(lambda: w.doc.keras_ready and not w.doc.inference_pending, timeout=timeout)


def view_point(w, scene_pos: QPointF) -> QPoint:
    return w.view.mapFromScene(scene_pos)


def drop_layer(w, class_name: str, scene_pos: QPointF) -> None:
    mime = QMimeData()
    mime.setData(LAYER_MIME, class_name.encode())
    point = view_point(w, scene_pos)
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    # Qt delivers a drop only to the widget that accepted the drag's entry.
    QApplication.sendEvent(w.view.viewport(), QDragEnterEvent(point, *args))
    QApplication.sendEvent(w.view.viewport(), QDragMoveEvent(point, *args))
    event = QDropEvent(
        QPointF(point),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(w.view.viewport(), event)


def add(w, class_name, pos=(0.0, 0.0), **config) -> str:
    from deepgui.ui.editing import default_config

    cmd = AddNode(class_name, {**default_config(class_name), **config}, pos)
    assert w.doc.push(cmd)
    return cmd.node_id


def test_drop_from_palette_creates_node_at_drop_point(window, qtbot):
    drop_layer(window, "Dense", QPointF(100, 200))
    nodes = list(window.doc.graph)
    assert [n.class_name for n in nodes] == ["Dense"]
    item = window.scene.nodes[nodes[0].id]
    centre = item.sceneBoundingRect().center()
    assert abs(centre.x() - 100) < 15 and abs(centre.y() - 200) < 15
    assert item.isSelected()  # the new layer is ready for the inspector
    assert window.inspector.node_id == nodes[0].id


def test_drop_on_edge_inserts_layer(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (0, 400), units=3)
    window.doc.push(Connect(a, b))
    edge_item = window.scene.edges[window.doc.graph.edges[0]]
    middle = edge_item.path().pointAtPercent(0.5)
    drop_layer(window, "Dropout", middle)
    graph = window.doc.graph
    dropout = next(n for n in graph if n.class_name == "Dropout")
    assert graph.predecessors(dropout.id) == [a]
    assert graph.successors(dropout.id) == [b]
    window.doc.undo()  # one step
    assert [n.class_name for n in graph] == ["InputLayer", "Dense"] and len(graph.edges) == 1


def drag(w, qtbot, start_pos: QPointF, end_pos: QPointF) -> None:
    """Press at one scene point, move through the middle, release at the other."""
    start, end = view_point(w, start_pos), view_point(w, end_pos)
    vp = w.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, pos=(start + end) / 2)
    qtbot.mouseMove(vp, pos=end)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)


def drag_wire(w, qtbot, source_id, target_pos: QPointF) -> None:
    drag(w, qtbot, w.scene.nodes[source_id].output_port_pos(), target_pos)


def test_connect_by_dragging_between_ports(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (0, 200), units=4)
    drag_wire(window, qtbot, a, window.scene.nodes[b].input_port_pos(0))
    assert [(e.source, e.target) for e in window.doc.graph.edges] == [(a, b)]
    assert window.scene.nodes[b].connected_ports == {0}
    assert len(window.scene.edges) == 1
    window.doc.undo()
    assert window.doc.graph.edges == [] and window.scene.edges == {}


def test_invalid_connection_refused_with_reason(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (0, 200), units=4)
    window.doc.push(Connect(a, b))
    messages: list[str] = []
    window.doc.message.connect(messages.append)
    # Dense -> Input: an Input takes no input.
    drag_wire(window, qtbot, b, window.scene.nodes[a].input_port_pos(0) + QPointF(0, 20))
    assert len(window.doc.graph.edges) == 1
    assert messages and "takes no incoming connection" in messages[-1]
    # Live feedback while hovering names the same reason.
    c = add(window, "Dense", (300, 200), units=2)
    window.doc.push(Connect(b, c))
    window.view.begin_connection(window.scene.nodes[c])
    target, _port, problem = window.view.connection_problem(
        window.scene.nodes[b].sceneBoundingRect().center()
    )
    window.view.cancel_connection()
    assert target is window.scene.nodes[b]
    assert problem is not None and "cycle" in problem


def test_parameter_edit_updates_node_shape_and_undo_redo(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (0, 200), units=4)
    window.doc.push(Connect(a, b))
    settle(qtbot, window)
    item = window.scene.nodes[b]
    assert item.shape_text == "(None, 4)"
    assert item.params_text == "36 params"
    window.scene.select_nodes([b])
    editor = window.inspector.form.editors["units"]
    editor.box.setValue(16)  # as if typed and confirmed
    assert window.doc.graph.nodes[b].config["units"] == 16
    settle(qtbot, window)
    assert item.shape_text == "(None, 16)"
    assert "144" in item.params_text
    window.actions["undo"].trigger()
    settle(qtbot, window)
    assert window.doc.graph.nodes[b].config["units"] == 4 and item.shape_text == "(None, 4)"
    assert editor.box.value() == 4  # the inspector follows the model
    window.actions["redo"].trigger()
    settle(qtbot, window)
    assert item.shape_text == "(None, 16)"


def test_error_node_stands_out_and_problems_tab_selects_it(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    conv = add(window, "Conv2D", (0, 200))
    window.doc.push(Connect(a, conv))
    settle(qtbot, window)
    item = window.scene.nodes[conv]
    assert item.state == "error"
    assert "expects images" in item.toolTip()
    rows = window.problems.table.rowCount()
    assert rows >= 1 and "error" in window.problem_label.text()
    window.problems._clicked(0, 2)
    assert window.scene.selected_node_ids() == [conv]


def test_invalid_inspector_value_is_marked_not_applied(window, qtbot):
    b = add(window, "Conv2D", (0, 0))
    window.scene.select_nodes([b])
    form = window.inspector.form
    kernel = form.editors["kernel_size"]
    kernel.line.setText("3, 3, 3")
    kernel.line.editingFinished.emit()
    assert window.doc.graph.nodes[b].config["kernel_size"] == [3, 3]
    assert (
        form.errors["kernel_size"].isVisibleTo(form)
        and "needs 2 numbers" in form.errors["kernel_size"].text()
    )
    kernel.line.setText("5, 5")
    kernel.line.editingFinished.emit()
    assert window.doc.graph.nodes[b].config["kernel_size"] == [5, 5]
    assert not form.errors["kernel_size"].isVisibleTo(form)


def test_names_stay_unique(window, qtbot):
    a = add(window, "Dense", (0, 0))
    b = add(window, "Dense", (0, 200))
    window.scene.select_nodes([b])
    window.inspector.name_edit.setText(window.doc.graph.nodes[a].name)
    window.inspector.name_edit.editingFinished.emit()
    assert window.doc.graph.nodes[b].name != window.doc.graph.nodes[a].name
    assert "taken" in window.inspector.name_error.text()
    window.inspector.name_edit.setText("head")
    window.inspector.name_edit.editingFinished.emit()
    assert window.doc.graph.nodes[b].name == "head"
    assert window.scene.nodes[b].name == "head"


def test_copy_paste_delete_and_double_click_add(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    window.scene.select_nodes([a])
    dense = window.add_layer_after_selection("Dense")  # the palette's double-click
    assert window.doc.graph.predecessors(dense) == [a]
    window.select_all()
    window.actions["copy"].trigger()
    window.actions["paste"].trigger()
    graph = window.doc.graph
    assert len(graph) == 4 and len(graph.edges) == 2
    assert len({n.name for n in graph}) == 4
    pasted = window.scene.selected_node_ids()
    assert len(pasted) == 2 and a not in pasted
    window.actions["delete"].trigger()
    assert len(graph) == 2 and len(window.scene.nodes) == 2
    window.doc.undo()
    assert len(graph) == 4


def test_moving_is_one_undo_step_and_auto_layout(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (0, 0))
    window.doc.push(Connect(a, b))
    window.auto_layout()
    pa, pb = window.doc.graph.nodes[a].position, window.doc.graph.nodes[b].position
    assert pb[1] > pa[1]  # the input sits above the layer it feeds
    assert window.scene.nodes[b].pos().y() == pb[1]
    window.doc.undo()
    assert window.doc.graph.nodes[b].position == (0.0, 0.0)
    item = window.scene.nodes[b]
    item.setPos(300, 300)  # as a mouse drag does
    window.view.commit_moves()
    assert window.doc.graph.nodes[b].position == (300.0, 300.0)
    window.doc.undo()
    assert item.pos().x() == 0.0


def test_palette_search_filters_and_describes(window, qtbot):
    palette = window.palette_panel
    qtbot.keyClicks(palette.search, "conv 2d")
    shown = palette.visible_layers()
    assert "Conv2D" in shown and "Dense" not in shown
    item = palette._items["Conv2D"]
    assert "convolution" in item.toolTip(0).lower()
    palette.search.clear()
    assert "Dense" in palette.visible_layers()


def test_summary_and_code_tabs(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (0, 200), units=4)
    window.doc.push(Connect(a, b))
    settle(qtbot, window)
    table = window.summary.table
    assert table.rowCount() == 2
    assert table.item(1, 1).text() == "(None, 4)" and table.item(1, 2).text() == "36"
    assert "Total params: 36" in window.summary.totals.text()
    window.tabs.setCurrentWidget(window.code)  # written in the background once shown
    qtbot.waitUntil(lambda: "layers.Dense(4" in window.code.text.toPlainText(), timeout=10_000)


def test_selected_connection_is_deleted(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (0, 200), units=4)
    window.doc.push(Connect(a, b))
    window.scene.edges[window.doc.graph.edges[0]].setSelected(True)
    window.actions["delete"].trigger()
    assert window.doc.graph.edges == [] and len(window.doc.graph) == 2
    window.doc.undo()
    assert len(window.doc.graph.edges) == 1


def test_dropping_a_project_file_opens_it(window, qtbot, tmp_path):
    from PySide6.QtCore import QUrl

    project = Project()
    project.graph.add_node("InputLayer", {"shape": [5]})
    path = project.save(tmp_path / "dropped.dgproj")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    point = QPoint(50, 50)
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window.view.viewport(), QDragEnterEvent(point, *args))
    QApplication.sendEvent(window.view.viewport(), QDropEvent(QPointF(point), *args))
    assert window.doc.project.path == path
    assert [n.class_name for n in window.doc.graph] == ["InputLayer"]


def test_theme_choice_is_remembered(window, qtbot):
    from deepgui.ui import settings
    from deepgui.ui.theme import apply_theme, is_dark

    try:
        window.set_theme("dark")
        assert is_dark() and settings.theme() == "dark"
        window.set_theme("light")
        assert not is_dark() and settings.theme() == "light"
    finally:
        apply_theme(QApplication.instance(), dark=False)


def test_unreadable_text_is_reported_not_applied(window, qtbot):
    b = add(window, "MaxPooling2D", (0, 0))
    window.scene.select_nodes([b])
    form = window.inspector.form
    pool = form.editors["pool_size"]
    before = list(window.doc.graph.nodes[b].config["pool_size"])
    pool.line.setText("two by two")
    pool.line.editingFinished.emit()
    assert window.doc.graph.nodes[b].config["pool_size"] == before
    assert "cannot be read" in form.errors["pool_size"].text()
    assert (
        not window.doc.project.undo.can_undo()
        or window.doc.project.undo.undo_text() != "Change parameters"
    )


def test_marking_a_layer_as_model_output_is_shown_and_undoable(qtbot):
    from deepgui.core.project import Project
    from deepgui.ui.main_window import MainWindow

    window = MainWindow(Project(), autosave_ms=3_600_000)
    qtbot.addWidget(window)
    graph = window.doc.graph
    i = graph.add_node("InputLayer", {"shape": [4]})
    code = graph.add_node("Dense", {"units": 2})
    out = graph.add_node("Dense", {"units": 4})
    graph.connect(i.id, code.id)
    graph.connect(code.id, out.id)
    window.set_model_output(code.id, True)
    assert [n.id for n in graph.output_nodes()] == [code.id, out.id]
    assert "model output" in window.scene.nodes[code.id].key_text
    window.doc.project.undo.undo()
    assert [n.id for n in graph.output_nodes()] == [out.id]
    assert "model output" not in window.scene.nodes[code.id].key_text


def drag_from_input(w, qtbot, node_id, port, target_pos: QPointF) -> None:
    drag(w, qtbot, w.scene.nodes[node_id].input_port_pos(port), target_pos)


def test_dragging_a_connection_end_moves_it_or_disconnects_in_one_step(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (0, 200), units=4)
    c = add(window, "Dense", (300, 200), units=2)
    window.doc.push(Connect(a, b))
    graph = window.doc.graph
    # Pick the wire up at b's input and drop it on c: a -> c now.
    drag_from_input(window, qtbot, b, 0, window.scene.nodes[c].input_port_pos(0))
    assert [(e.source, e.target) for e in graph.edges] == [(a, c)]
    window.doc.undo()  # one step back to a -> b
    assert [(e.source, e.target) for e in graph.edges] == [(a, b)]
    # Dropped on empty canvas, the connection goes.
    drag_from_input(window, qtbot, b, 0, QPointF(900, 900))
    assert graph.edges == []
    window.doc.undo()
    assert [(e.source, e.target) for e in graph.edges] == [(a, b)]
    # Dropped somewhere it may not go: refused, and the old connection is kept.
    drag_from_input(window, qtbot, b, 0, window.scene.nodes[a].input_port_pos(0) + QPointF(0, 20))
    assert [(e.source, e.target) for e in graph.edges] == [(a, b)]
    assert len(window.scene.edges) == 1


def test_connect_by_dragging_from_a_free_input_back_to_a_layer(window, qtbot):
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (0, 200), units=4)
    c = add(window, "Dense", (300, 400), units=2)
    window.doc.push(Connect(a, b))
    graph = window.doc.graph
    drag_from_input(window, qtbot, c, 0, window.scene.nodes[b].sceneBoundingRect().center())
    assert graph.predecessors(c) == [b]
    window.doc.undo()
    assert graph.predecessors(c) == []
    # From the free second input of an Add back to a layer after it: a cycle, refused.
    merge = add(window, "Add", (0, 600))
    after = add(window, "Dense", (0, 800), units=4)
    window.doc.push(Connect(b, merge))
    window.doc.push(Connect(merge, after))
    messages: list[str] = []
    window.doc.message.connect(messages.append)
    drag_from_input(window, qtbot, merge, 1, window.scene.nodes[after].sceneBoundingRect().center())
    assert graph.predecessors(merge) == [b]
    assert messages and "cycle" in messages[-1]


def test_input_layer_shows_the_columns_it_receives_after_loading_and_training(
    qtbot, tmp_path, monkeypatch
):
    from deepgui.core.paths import examples_dir
    from deepgui.core.project import load_project

    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    project = load_project(examples_dir() / "iris_dense.dgproj")
    project.training["epochs"] = 1
    project.save(tmp_path / "iris.dgproj")
    w = MainWindow(project, autosave_ms=3_600_000)
    w.dialogs = FakeDialogs()
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    input_id = w.doc.graph.node_by_name("measurements").id
    assert not w.scene.caption_items  # nothing is known about the data before it is loaded

    view = w.training_panel().data_view
    qtbot.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: input_id in w.scene.caption_items, timeout=20000)
    caption = w.scene.caption_items[input_id]
    assert caption.caption.title == "Receives 4 columns"
    text = caption.caption.text()
    for column in ("sepal_length", "sepal_width", "petal_length", "petal_width"):
        assert f"{column}: missing → " in text and "standardized" in text
    assert "species" not in text  # the target is what comes out, not what goes in
    assert "sepal_length" in caption.toolTip()
    # Beside its Input (above it: where the data comes in), clear of every layer.
    node = w.scene.nodes[input_id]
    rect = caption.sceneBoundingRect()
    assert rect.bottom() < node.sceneBoundingRect().top()
    assert not any(rect.intersects(n.sceneBoundingRect()) for n in w.scene.nodes.values())
    w.view.fit_all()  # fitting the graph to the window takes the caption in too
    assert w.view.viewport().rect().contains(w.view.mapFromScene(rect.topLeft()))
    # A layer moved into its place pushes the caption beside the Input, still clear of it.
    x, y = w.doc.graph.node(input_id).position
    dense = w.doc.graph.node_by_name("dense").id
    w.doc.push(MoveNodes({dense: (x, y - 150)}))
    rect = caption.sceneBoundingRect()
    assert rect.top() == pytest.approx(node.sceneBoundingRect().top() + 9)  # level with it
    assert not any(rect.intersects(n.sceneBoundingRect()) for n in w.scene.nodes.values())
    w.doc.undo()
    assert caption.sceneBoundingRect().bottom() < node.sceneBoundingRect().top()

    # Another data set: what the Input receives is no longer known until it is loaded again.
    view.missing.setCurrentIndex(view.missing.findData("drop"))
    assert not w.scene.caption_items
    # A run loads the data too, and says what the Input receives as it starts.
    with qtbot.waitSignal(w.training.run_finished, timeout=60000):
        qtbot.keyClick(w, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: input_id in w.scene.caption_items, timeout=5000)
    assert "petal_width" in w.scene.caption_items[input_id].caption.text()
    assert w.training.shutdown(20000)
    w.doc.shutdown()


def test_picking_up_a_connection_changes_the_model_only_on_release(window, qtbot):
    """The gesture shows its wire and hides the old one, but the document hears nothing until
    the mouse is released: then one step, "Reconnect", which undo takes back whole."""
    a = add(window, "InputLayer", (0, 0), shape=[8])
    b = add(window, "Dense", (-150, 200), units=4)
    c = add(window, "Dense", (150, 200), units=4)
    window.doc.push(Connect(a, b))
    events = []
    window.doc.graph.subscribe(lambda event, payload: events.append(event))
    steps = len(window.doc.project.undo._done)
    vp = window.view.viewport()
    start = window.view.mapFromScene(window.scene.nodes[b].input_port_pos(0))
    end = window.view.mapFromScene(window.scene.nodes[c].input_port_pos(0))
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, pos=(start + end) / 2)
    qtbot.mouseMove(vp, pos=end)
    old = window.scene.edges[window.doc.graph.edges[0]]
    assert not old.isVisible() and events == []  # only the picture moved
    assert [(e.source, e.target) for e in window.doc.graph.edges] == [(a, b)]
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    assert [(e.source, e.target) for e in window.doc.graph.edges] == [(a, c)]
    assert len(window.doc.project.undo._done) == steps + 1
    assert window.doc.project.undo.undo_text() == "Reconnect"
    window.doc.undo()
    assert [(e.source, e.target) for e in window.doc.graph.edges] == [(a, b)]
    # Picked up and given up with Escape: nothing happened, the wire is back in view.
    events.clear()
    start = window.view.mapFromScene(window.scene.nodes[b].input_port_pos(0))
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, pos=end)
    qtbot.keyClick(window.view, Qt.Key.Key_Escape)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
    assert events == [] and [(e.source, e.target) for e in window.doc.graph.edges] == [(a, b)]
    assert all(item.isVisible() for item in window.scene.edges.values())
