"""The node canvas: a QGraphicsScene that mirrors the graph, and the view's gestures.

The scene listens to the document's graph events and adds, removes or refreshes only the
items concerned. Gestures end in core commands pushed on the undo stack: a drag from an output
port to an input port (with the core's reason shown live when it would be refused), moving
layers (one MoveNodes on release), dropping a layer from the palette (onto an edge: inserted
there), and dropping project or model files (handed to the main window).
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPainter, QPen, QTransform
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QLabel,
)

from deepgui.core.commands import AddNode, MoveNodes, insert_on_edge
from deepgui.core.graph import Edge
from deepgui.ui.canvas_items import (
    CAPTION_GAP,
    NODE_HEIGHT,
    NODE_WIDTH,
    DataCaptionItem,
    EdgeItem,
    NodeItem,
)
from deepgui.ui.document import Document
from deepgui.ui.editing import LAYER_MIME, default_config
from deepgui.ui.interactions import Interaction, PanInteraction, WireInteraction
from deepgui.ui.theme import canvas_colors

# Zooming scales a picture this big (twice the node's size: still sharp up to 200 %).
ITEM_CACHE_SIZE = QSize(int(NODE_WIDTH * 2 + 40), int(NODE_HEIGHT * 2 + 40))
OPENABLE = (".dgproj", ".keras", ".h5", ".hdf5")
EMPTY_HINT = (
    "Drag a layer from the palette to start (or press Ctrl+K and type its name),\n"
    "or open one with File ▸ Open Example."
)
# Fitting the model to the window stops at this scale: layers still show their names and shapes
# in a larger type there (NodeItem's compact drawing); below it a model is boxes without text.
READABLE_ZOOM = 0.4


class CanvasScene(QGraphicsScene):
    """Projects the document's graph into items; never changes the graph itself."""

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.colors = canvas_colors()
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        # What each Input layer receives, once data is loaded: node id -> InputCaption (core).
        self.captions: dict[str, object] = {}
        self.caption_items: dict[str, DataCaptionItem] = {}
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        doc.graph_changed.connect(self._on_graph_event)
        doc.project_replaced.connect(self.rebuild)
        doc.info_changed.connect(self.refresh_info)
        doc.marks_changed.connect(self._refresh_marks)
        self.rebuild()

    # ---------------------------------------------------------------- model -> scene
    def rebuild(self) -> None:
        self.clear()
        self.nodes.clear()
        self.edges.clear()
        self.captions.clear()  # another project: the data described belonged to the old one
        self.caption_items.clear()
        graph = self.doc.graph
        for node in graph:
            self._add_node(node)
        for edge in graph.edges:
            self._add_edge(edge)
        self.refresh_info()
        self._grow_rect()

    def apply_colors(self) -> None:
        """Follow a light/dark switch."""
        self.colors = canvas_colors()
        for item in self.nodes.values():
            item.colors = self.colors
            item.update()
        for item in list(self.edges.values()) + list(self.caption_items.values()):
            item.colors = self.colors
            item.update()
        self.update()

    def _add_node(self, node) -> NodeItem:
        item = NodeItem(node, self.colors)
        self.nodes[node.id] = item
        self.addItem(item)
        item.set_info(self.doc.info.get(node.id))
        item.set_marks(self.doc.project.marks.of(node.id))
        if node.id in self.captions:  # an Input put back by undo keeps what it receives
            self._add_caption(node.id)
        return item

    def _add_edge(self, edge: Edge) -> None:
        src, dst = self.nodes.get(edge.source), self.nodes.get(edge.target)
        if src is None or dst is None:
            return
        item = EdgeItem(edge, src, dst, self.colors)
        self.edges[edge] = item
        self.addItem(item)
        self._refresh_ports(edge.target)

    def _refresh_ports(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None:
            item.set_connected_ports({e.target_port for e in self.doc.graph.in_edges(node_id)})

    def _on_graph_event(self, event: str, payload) -> None:
        if event == "node_added":
            self._add_node(payload)
            self._grow_rect()
            self._place_captions()
        elif event == "node_removed":
            item = self.nodes.pop(payload.id, None)
            self.caption_items.pop(payload.id, None)  # a child: removed with its layer
            if item is not None:
                self.removeItem(item)
        elif event == "node_changed":
            item = self.nodes.get(payload.id)
            if item is not None:
                item.set_node(payload)
                for e in item.edges:
                    e.setToolTip(f"{e.source.name} → {e.target.name} (input {e.edge.target_port})")
        elif event == "node_moved":
            item = self.nodes.get(payload.id)
            if item is not None and (item.pos().x(), item.pos().y()) != payload.position:
                item.setPos(QPointF(*payload.position))
            self._grow_rect()
            self._place_captions()
        elif event == "edge_added":
            self._add_edge(payload)
        elif event == "edge_removed":
            item = self.edges.pop(payload, None)
            if item is not None:
                item.detach()
                self.removeItem(item)
            self._refresh_ports(payload.target)

    def _refresh_marks(self, owner: str, _key: str) -> None:
        item = self.nodes.get(owner)
        if item is not None:
            item.set_marks(self.doc.project.marks.of(owner))

    def refresh_info(self) -> None:
        info = self.doc.info
        for nid, item in self.nodes.items():
            item.set_info(info.get(nid))

    # ---------------------------------------------------------------- data at the Inputs
    def show_input_captions(self, captions: dict) -> None:
        """Show beside each Input layer what it receives (InputCaptions by node id, from the
        core's describe module); an empty dict takes them away."""
        self.captions = dict(captions)
        for nid in list(self.caption_items):
            item = self.caption_items.pop(nid)
            item.setParentItem(None)
            self.removeItem(item)
        for nid in self.captions:
            if nid in self.nodes:
                self._add_caption(nid)
        self._place_captions()

    def _add_caption(self, node_id: str) -> None:
        item = DataCaptionItem(self.captions[node_id], self.colors)
        item.setParentItem(self.nodes[node_id])
        self.caption_items[node_id] = item

    def _place_captions(self) -> None:
        """Put each caption above its Input layer, centred (where the data comes in), or
        beside it when another layer or caption is in the way."""
        if not self.caption_items:
            return
        taken = [item.sceneBoundingRect() for item in self.nodes.values()]
        for nid, caption in self.caption_items.items():
            node = self.nodes[nid]
            own = node.sceneBoundingRect()
            size = caption.size()
            spots = [
                QPointF((NODE_WIDTH - size.width()) / 2, -size.height() - CAPTION_GAP),
                QPointF(-size.width() - CAPTION_GAP, 0),
                QPointF(NODE_WIDTH + CAPTION_GAP, 0),
            ]
            others = [r for r in taken if r != own]
            chosen = spots[0]
            for spot in spots:
                rect = QRectF(node.mapToScene(spot), size)
                if not any(rect.intersects(r) for r in others):
                    chosen = spot
                    break
            caption.setPos(chosen)
            taken.append(QRectF(node.mapToScene(chosen), size))

    def _grow_rect(self) -> None:
        """A generous scene rectangle around the graph so there is room to pan and drop."""
        bounds = self.itemsBoundingRect()
        margin = 2000.0
        rect = (
            bounds.adjusted(-margin, -margin, margin, margin)
            if not bounds.isNull()
            else QRectF(-2000, -2000, 4000, 4000)
        )
        self.setSceneRect(self.sceneRect().united(rect))

    # ---------------------------------------------------------------- queries
    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        for item in self.items(pos):
            if isinstance(item, EdgeItem):
                return item
        return None

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, node_ids) -> None:
        self.clearSelection()
        for nid in node_ids:
            item = self.nodes.get(nid)
            if item is not None:
                item.setSelected(True)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, self.colors.background)
        step = 40.0
        if painter.worldTransform().m11() * step < 12:  # dots would blur into a grey wash
            return
        painter.setPen(QPen(self.colors.grid, 2.0))
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        points = []
        y = top
        while y < rect.bottom():
            x = left
            while x < rect.right():
                points.append(QPointF(x, y))
                x += step
            y += step
        painter.drawPoints(points)


class CanvasView(QGraphicsView):
    """Zoom (wheel), pan (middle button or Space+drag), rubber band, connect and drop."""

    hint = Signal(str)  # feedback for the status bar while connecting
    files_dropped = Signal(list)  # paths of .dgproj/.keras/.h5 files dropped on the canvas
    zoom_changed = Signal(float)

    def __init__(self, scene: CanvasScene, parent=None) -> None:
        super().__init__(scene, parent)
        self.canvas = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # The gesture in progress (interactions.py): it gets the mouse until it ends.
        self.interaction: Interaction | None = None
        self.space_held = False
        self._drop_edge = None
        self._zoom_settle = QTimer(self)
        self._zoom_settle.setSingleShot(True)
        self._zoom_settle.setInterval(250)
        self._zoom_settle.timeout.connect(self._zoom_settled)
        self.empty_hint = self._make_hint()
        # After the scene has followed the event (it connected first), so `nodes` is current.
        scene.doc.graph_changed.connect(self.refresh_hint)
        scene.doc.project_replaced.connect(self.refresh_hint)
        self.refresh_hint()

    @property
    def doc(self) -> Document:
        return self.canvas.doc

    # ---------------------------------------------------------------- zoom
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        current = self.zoom()
        factor = max(0.08 / current, min(3.0 / current, factor))
        self._zooming()
        self.scale(factor, factor)
        self._repaint_all()
        self.zoom_changed.emit(self.zoom())

    def _repaint_all(self) -> None:
        # After a change of scale Qt repaints only the regions it thinks changed, and pieces of
        # the scaled node pictures stayed behind outside them (seen with wheel and keys under
        # X11): repaint the whole viewport, which costs one blit per cached node.
        self.viewport().update()

    def _zooming(self) -> None:
        """While the zoom changes, nodes scale a cached picture instead of being redrawn at
        every step; once it settles they are drawn sharp again at the new scale."""
        if not self._zoom_settle.isActive():
            for item in self.canvas.nodes.values():
                item.setCacheMode(QGraphicsItem.CacheMode.ItemCoordinateCache, ITEM_CACHE_SIZE)
        self._zoom_settle.start()

    def _zoom_settled(self) -> None:
        for item in self.canvas.nodes.values():
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._repaint_all()

    def fit_all(self) -> None:
        """Show the whole model, but never smaller than READABLE_ZOOM: a model too tall for the
        canvas at that scale is shown from its inputs down, and the rest scrolls."""
        bounds = self.canvas.itemsBoundingRect()
        if bounds.isNull():
            self.setTransform(QTransform())
            self.centerOn(0, 0)
        else:
            padded = bounds.adjusted(-24, -24, 24, 24)
            self.fitInView(padded, Qt.AspectRatioMode.KeepAspectRatio)
            zoom = min(max(self.zoom(), READABLE_ZOOM), 1.0)
            if zoom != self.zoom():
                self.setTransform(QTransform.fromScale(zoom, zoom))
                view = self.viewport().rect()
                # The top of the model (where the data comes in) at the top of the canvas.
                top = padded.top() + view.height() / zoom / 2
                self.centerOn(padded.center().x(), min(top, padded.center().y()))
        self._repaint_all()
        self.zoom_changed.emit(self.zoom())

    def center_on_node(self, node_id: str) -> None:
        item = self.canvas.nodes.get(node_id)
        if item is not None:
            self.centerOn(item)

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            super().wheelEvent(event)  # Shift+wheel scrolls
            return
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom_by(1.15 ** (delta / 120))
        event.accept()

    # ---------------------------------------------------------------- mouse
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self.space_held
        ):
            self.interaction = PanInteraction(self, event.position())
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            pos = self.mapToScene(event.position().toPoint())
            item = self.canvas.node_at(pos)
            port = item.port_at(pos) if item is not None else None
            if port == ("out", 0):
                self.begin_connection(item)
                event.accept()
                return
            if port is not None and port[0] == "in":
                edge = next(
                    (e for e in self.doc.graph.in_edges(item.node_id) if e.target_port == port[1]),
                    None,
                )
                if edge is not None:
                    self.begin_reattach(edge)
                else:
                    self.begin_reverse(item, port[1])
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if isinstance(self.interaction, PanInteraction):
            self.interaction.move(event.position())
            event.accept()
            return
        if self.interaction is not None:
            self.interaction.move(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self.interaction is not None:
            interaction, self.interaction = self.interaction, None
            interaction.release(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self.commit_moves()

    def commit_moves(self) -> None:
        """Turn a finished drag into one MoveNodes command."""
        graph = self.doc.graph
        moved = {}
        for nid, item in self.canvas.nodes.items():
            pos = (item.pos().x(), item.pos().y())
            if nid in graph.nodes and graph.nodes[nid].position != pos:
                moved[nid] = pos
        if moved:
            self.doc.push(MoveNodes(moved))

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Escape and self.interaction is not None:
            self.cancel_connection()
            return
        step = 50.0 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 10.0
        arrows = {Qt.Key.Key_Left: (-step, 0.0), Qt.Key.Key_Right: (step, 0.0),
                  Qt.Key.Key_Up: (0.0, -step), Qt.Key.Key_Down: (0.0, step)}  # fmt: skip
        ids = self.canvas.selected_node_ids()
        if event.key() in arrows and ids:
            dx, dy = arrows[event.key()]
            graph = self.doc.graph
            self.doc.push(
                MoveNodes(
                    {
                        nid: (graph.nodes[nid].position[0] + dx, graph.nodes[nid].position[1] + dy)
                        for nid in ids
                    }
                )
            )
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.space_held = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            return
        super().keyReleaseEvent(event)

    # ---------------------------------------------------------------- connecting
    def begin_connection(self, source: NodeItem) -> None:
        """Start dragging a connection from `source`'s output."""
        self.interaction = WireInteraction(self, source)

    def begin_reattach(self, edge: Edge) -> None:
        """Pick up the end of a connection at its input port, to drop it on another layer (or
        on empty canvas to disconnect); one undoable step on release, none before."""
        self.interaction = WireInteraction(self, self.canvas.nodes[edge.source], detached=edge)

    def begin_reverse(self, target: NodeItem, port: int) -> None:
        """Start a connection at a free input port and drag it back to the layer to read from."""
        self.interaction = WireInteraction(self, target, reverse_port=port)

    def connection_problem(self, pos: QPointF) -> tuple[NodeItem | None, int | None, str | None]:
        """(layer under the pointer, port, why it may not connect) for live feedback."""
        if not isinstance(self.interaction, WireInteraction):
            return None, None, None
        return self.interaction.problem(pos)

    def update_connection(self, pos: QPointF) -> None:
        if isinstance(self.interaction, WireInteraction):
            self.interaction.move(pos)

    def finish_connection(self, pos: QPointF) -> bool:
        """Connect to whatever is under `pos`; a refused connection reports its reason."""
        interaction, self.interaction = self.interaction, None
        return interaction.release(pos) if isinstance(interaction, WireInteraction) else False

    def cancel_connection(self) -> None:
        interaction, self.interaction = self.interaction, None
        if interaction is not None:
            interaction.cancel()

    # ---------------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME) or self._openable(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            edge = self.canvas.edge_at(self.mapToScene(event.position().toPoint()))
            if self._drop_edge is not None and self._drop_edge is not edge:
                self._drop_edge.set_highlighted(False)
            self._drop_edge = edge
            if edge is not None:
                edge.set_highlighted(True)
            event.acceptProposedAction()
        elif self._openable(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dragLeaveEvent(self, event) -> None:
        self._clear_drop_edge()
        super().dragLeaveEvent(event)

    def _clear_drop_edge(self) -> None:
        if self._drop_edge is not None:
            self._drop_edge.set_highlighted(False)
            self._drop_edge = None

    def dropEvent(self, event) -> None:
        mime = event.mimeData()
        pos = self.mapToScene(event.position().toPoint())
        self._clear_drop_edge()
        if mime.hasFormat(LAYER_MIME):
            class_name = bytes(mime.data(LAYER_MIME).data()).decode()
            self.drop_layer(class_name, pos)
            event.acceptProposedAction()
            return
        paths = self._openable(mime)
        if paths:
            self.files_dropped.emit(paths)
            event.acceptProposedAction()
            return
        super().dropEvent(event)

    def drop_layer(self, class_name: str, pos: QPointF) -> str | None:
        """Create a layer where it was dropped, or insert it into the edge it was dropped on."""
        top_left = (pos.x() - NODE_WIDTH / 2, pos.y() - NODE_HEIGHT / 2)
        edge = self.canvas.edge_at(pos)
        config = default_config(class_name)
        if edge is not None:
            command = insert_on_edge(self.doc.graph, edge.edge, class_name, config, top_left)
            if not self.doc.push(command):
                return None
            node_id = command.commands[1].node_id
        else:
            command = AddNode(class_name, config, top_left)
            if not self.doc.push(command):
                return None
            node_id = command.node_id
        self.canvas.select_nodes([node_id])
        return node_id

    @staticmethod
    def _openable(mime) -> list[str]:
        if not mime.hasUrls():
            return []
        return [
            u.toLocalFile()
            for u in mime.urls()
            if u.isLocalFile() and Path(u.toLocalFile()).suffix.lower() in OPENABLE
        ]

    # ---------------------------------------------------------------- empty state
    def _make_hint(self) -> QLabel:
        # A label over the viewport, not text painted in drawForeground: Qt repaints only the
        # regions that change, so painted text stayed on screen under the first layer added.
        hint = QLabel(EMPTY_HINT, self.viewport())
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setWordWrap(True)
        hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        font = QFont()
        font.setPixelSize(15)
        hint.setFont(font)
        return hint

    def refresh_hint(self, *_args) -> None:
        """The hint shows on an empty canvas only, in the canvas's own muted colour."""
        self.empty_hint.setStyleSheet(f"color: {self.canvas.colors.muted.name()};")
        self.empty_hint.setGeometry(self._hint_rect())
        self.empty_hint.setVisible(not self.canvas.nodes)

    def _hint_rect(self):
        return self.viewport().rect().adjusted(24, 24, -24, -24)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.refresh_hint()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        # Scrolling the viewport moves its child widgets with the scene: the hint went off the
        # canvas (File ▸ New centres the empty scene) or was cut at its edge. It stays put.
        super().scrollContentsBy(dx, dy)
        self.empty_hint.setGeometry(self._hint_rect())
