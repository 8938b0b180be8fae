"""Two runs side by side: what the core's diff found (core/training/run_diff.py), shown.

The model is drawn as run B trained it, with the canvas's own layer and connection items made
read-only (no editing document behind them): layers B added are framed green, layers A had and
B removed are drawn faded in red where A had them, changed layers amber with their changed
parameters beside them; connections made are green, undone ones dashed red. A table lists
every changed parameter and setting, a plot overlays the two runs' curves as the Runs tab
does, and a second table puts their final and best scores side by side.
"""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.graph import Edge, Graph
from deepgui.core.layout import NODE_HEIGHT, NODE_WIDTH, auto_layout, free_spot
from deepgui.core.training.run_diff import RunDiff, diff_runs, show
from deepgui.core.training.rundir import read_history
from deepgui.ui.canvas_items import EdgeItem, NodeItem, fonts
from deepgui.ui.inference import InferenceWorker
from deepgui.ui.theme import CanvasColors, canvas_colors, is_dark
from deepgui.ui.training.plots import follow_palette
from deepgui.ui.training.run_curves import draw_runs

KINDS = ("added", "changed", "removed")
NOTE_GAP = 14.0  # between a layer and the note of what changed in it
NOTE_LINES = 6  # changed parameters listed beside a layer before "and N more"
GHOST_OPACITY = 0.45
GHOST_SHIFT = 200.0  # how far right of its old place a layer only A had is drawn


def tint_color(kind: str, colors: CanvasColors) -> QColor:
    """Green for added, red for removed, amber for changed: the look's own ok/error/warning."""
    return QColor({"added": colors.ok, "removed": colors.error, "changed": colors.warning}[kind])


def text_color(kind: str, colors: CanvasColors) -> QColor:
    """The tint darkened for words on a light background (amber text on white is faint)."""
    colour = tint_color(kind, colors)
    return colour if is_dark() else colour.darker(135)


class TintItem(QGraphicsItem):
    """A layer's mark in the comparison: a frame in the tint's colour, a wash over the layer's
    body, and a note beside it saying what happened to it. A child of the canvas's NodeItem, so
    that item is drawn exactly as on the canvas."""

    def __init__(self, kind: str, lines: list[str], colors: CanvasColors) -> None:
        super().__init__()
        self.kind = kind
        self.lines = lines
        self.colors = colors
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        # A removed layer is drawn faded; what the note says about it is not.
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresParentOpacity)
        f = fonts()
        width = max(
            [f.name_small_m.horizontalAdvance(kind)]
            + [f.type_m.horizontalAdvance(line) for line in lines]
        )
        self._line_h = f.type_m.height() + 3
        self._note = QRectF(
            NODE_WIDTH + NOTE_GAP, 0, width + 16, 10 + self._line_h * (1 + len(lines))
        )
        self.setToolTip("<br>".join([f"<b>{kind}</b>", *lines]))

    @property
    def color(self) -> QColor:
        return tint_color(self.kind, self.colors)

    def boundingRect(self) -> QRectF:
        return QRectF(-6, -6, NODE_WIDTH + 12, NODE_HEIGHT + 12).united(self._note)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        colour = self.color
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        wash = QColor(colour)
        wash.setAlpha(40)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(wash)
        painter.drawRoundedRect(QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT), 8, 8)
        pen = QPen(colour, 3.0)
        if self.kind == "removed":
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(-3, -3, NODE_WIDTH + 6, NODE_HEIGHT + 6), 10, 10)
        # The note: a card in the tint's colour, the kind in bold, then one line per change.
        card = QColor(colour)
        card.setAlpha(28)
        painter.setPen(QPen(colour, 1.2))
        painter.setBrush(card)
        painter.drawRoundedRect(self._note, 6, 6)
        painter.drawLine(QPointF(NODE_WIDTH + 3, NODE_HEIGHT / 2),
                         QPointF(self._note.left(), NODE_HEIGHT / 2))  # fmt: skip
        f = fonts()
        x, y = self._note.left() + 8, self._note.top() + 5
        painter.setFont(f.name_small)
        painter.setPen(text_color(self.kind, self.colors))
        painter.drawText(QRectF(x, y, self._note.width() - 16, self._line_h),
                         Qt.AlignmentFlag.AlignVCenter, self.kind)  # fmt: skip
        painter.setFont(f.type)
        painter.setPen(self.colors.text)
        for line in self.lines:
            y += self._line_h
            painter.drawText(QRectF(x, y, self._note.width() - 16, self._line_h),
                             Qt.AlignmentFlag.AlignVCenter, line)  # fmt: skip


class DiffEdgeItem(EdgeItem):
    """A connection of the comparison: green when B made it, dashed red when B undid it."""

    def __init__(self, edge: Edge, source, target, colors, kind: str | None = None) -> None:
        super().__init__(edge, source, target, colors)
        self.kind = kind
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self.kind is None:
            super().paint(painter, option, widget)
            return
        pen = QPen(tint_color(self.kind, self.colors), 2.6)
        if self.kind == "removed":
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())


def _read_only(item: NodeItem) -> NodeItem:
    for flag in (
        QGraphicsItem.GraphicsItemFlag.ItemIsMovable,
        QGraphicsItem.GraphicsItemFlag.ItemIsSelectable,
        QGraphicsItem.GraphicsItemFlag.ItemIsFocusable,
    ):
        item.setFlag(flag, False)
    return item


def _laid_out(graph: Graph) -> dict[str, tuple[float, float]]:
    """The layers where the run's project had them, or laid out afresh when its file kept no
    places (every layer at one spot)."""
    places = {nid: n.position for nid, n in graph.nodes.items()}
    if len(set(places.values())) < len(places):
        return auto_layout(graph)
    return places


class DiffScene(QGraphicsScene):
    """Run B's model, read-only, with what changed from run A marked on it."""

    def __init__(self, diff: RunDiff, a: Graph, b: Graph, parent=None) -> None:
        super().__init__(parent)
        self.diff, self.a, self.b = diff, a, b
        self.colors = canvas_colors()
        self.nodes: dict[str, NodeItem] = {}  # by layer name (B's, or A's for a removed one)
        self.tints: dict[str, TintItem] = {}  # by layer name
        self.edges: list[DiffEdgeItem] = []
        self._ids: dict[tuple[str, str], str] = {}  # (run, node id) -> layer name
        self._build()

    def tint_of(self, name: str) -> str | None:
        """The layer's mark ("added", "removed", "changed"); None when both runs trained it alike."""
        item = self.tints.get(name)
        return item.kind if item is not None else None

    def _build(self) -> None:
        diff, a, b = self.diff, self.a, self.b
        places = _laid_out(b)
        for node in b:
            self._add_node(node, places[node.id], "b")
        a_places = _laid_out(a)
        taken = dict(places)
        for ref in diff.removed:
            # Beside where A had it, clear of B's layers and their notes: drawn where A had it,
            # it would sit on the connection B made in its place.
            x, y = a_places[ref.node_id]
            spot = free_spot(taken, x + NODE_WIDTH + GHOST_SHIFT, y)
            taken[ref.node_id + "@a"] = spot
            item = self._add_node(a.nodes[ref.node_id], spot, "a")
            item.setOpacity(GHOST_OPACITY)
        changes = {c.b_id: c for c in diff.changed}
        for ref in diff.added:
            self._tint(b.nodes[ref.node_id].name, "added", [f"new {ref.class_name} in B"])
        for ref in diff.removed:
            self._tint(ref.name, "removed", [f"{ref.class_name} in A, not in B"])
        for nid, change in changes.items():
            lines = [c.text() for c in change.changes]
            if len(lines) > NOTE_LINES:
                lines = [*lines[: NOTE_LINES - 1], f"and {len(lines) - NOTE_LINES + 1} more"]
            self._tint(b.nodes[nid].name, "changed", lines)
        made = {(c.source, c.target, c.target_port, c.source_port) for c in diff.connections_added}
        for edge in b.edges:
            ends = (self._ids["b", edge.source], self._ids["b", edge.target])
            kind = "added" if (*ends, edge.target_port, edge.source_port) in made else None
            self._add_edge(edge, ends, kind)
        # A's connections B undid, between the items that stand for their ends (B's layer, or
        # the faded one only A had); not the one a layer was inserted into, which the added
        # layer's own connections already show.
        _, undone = diff.rewired()
        removed = {r.name for r in diff.removed}
        for c in diff.connections_removed:
            if c in undone or {c.source, c.target} & removed:
                source, target = self.nodes[c.source], self.nodes[c.target]
                edge = Edge(source.node_id, target.node_id, c.target_port, c.source_port)
                self._add_edge(edge, (c.source, c.target), "removed")
        for (run, nid), name in self._ids.items():
            graph = b if run == "b" else a
            self.nodes[name].set_connected_ports({e.target_port for e in graph.in_edges(nid)})
        rect = self.itemsBoundingRect()
        self.setSceneRect(rect.adjusted(-60, -60, 60, 60))

    def _add_node(self, node, place: tuple[float, float], run: str) -> NodeItem:
        item = _read_only(NodeItem(node, self.colors))
        item.setPos(QPointF(*place))
        self.nodes[node.name] = item
        self._ids[run, node.id] = node.name
        self.addItem(item)
        return item

    def _tint(self, name: str, kind: str, lines: list[str]) -> None:
        tint = TintItem(kind, lines, self.colors)
        tint.setParentItem(self.nodes[name])
        self.tints[name] = tint

    def _add_edge(self, edge: Edge, ends: tuple[str, str], kind: str | None) -> None:
        source, target = self.nodes[ends[0]], self.nodes[ends[1]]
        self.edges.append(DiffEdgeItem(edge, source, target, self.colors, kind))
        self.addItem(self.edges[-1])

    def set_info(self, run: str, info: dict) -> None:
        """Shapes and parameter counts from shape inference of run `run`'s graph ("a" or
        "b"), for the layers drawn from it."""
        for (which, nid), name in self._ids.items():
            if which == run and nid in info:
                self.nodes[name].set_info(info[nid])

    def apply_colors(self) -> None:
        self.colors = canvas_colors()
        for item in [*self.nodes.values(), *self.tints.values(), *self.edges]:
            item.colors = self.colors
            item.update()
        self.update()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, self.colors.background)


class DiffView(QGraphicsView):
    """The comparison's model, fitted to the view (never enlarged past its real size)."""

    def __init__(self, scene: DiffScene, parent=None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)

    def fit(self) -> None:
        rect = self.scene().sceneRect()
        self.resetTransform()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.0:
            self.resetTransform()
            self.centerOn(rect.center())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt override
        factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
        self.scale(factor, factor)


def legend_text(colors: CanvasColors) -> str:
    chips = [
        f"<span style='color:{tint_color(kind, colors).name()}'>■</span> {kind}" for kind in KINDS
    ]
    return "Run B's model, marked: " + " &nbsp; ".join(chips) + " (faded, beside where A had it)"


class CompareRunsWindow(QWidget):
    """Two runs of a project compared: what each trained, and how each did."""

    CHANGE_COLUMNS = ["Where", "What", "Run A", "Run B"]
    METRIC_COLUMNS = ["", "Run A", "Run B"]

    def __init__(self, run_a: Path, run_b: Path, parent=None, infer_shapes: bool = True) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.run_a, self.run_b = Path(run_a), Path(run_b)
        self.diff = diff_runs(self.run_a, self.run_b)  # DeepGuiError: the caller says it
        self.graph_a, self.graph_b = self.diff.graphs
        self.setWindowTitle(f"Compare runs: {self.run_a.name} and {self.run_b.name}")
        self.resize(1280, 780)

        self.title = QLabel(f"<b>A</b> {self.run_a.name} &nbsp;→&nbsp; <b>B</b> {self.run_b.name}")
        self.summary = QLabel(self.diff.summary())
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scene = DiffScene(self.diff, self.graph_a, self.graph_b, self)
        self.view = DiffView(self.scene)
        self.legend = QLabel(legend_text(self.scene.colors))
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.changes = self._table(self.CHANGE_COLUMNS)
        self.scores = self._table(self.METRIC_COLUMNS)
        self.curve = QComboBox()
        self.curve.currentTextChanged.connect(lambda _t: self.overlay())
        self.plot = pg.PlotWidget()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "epoch")
        self.plot.addLegend(offset=(-10, 10))
        self.plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)

        graph_side = QWidget()
        gl = QVBoxLayout(graph_side)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.addWidget(self.view, 1)
        gl.addWidget(self.legend)
        curves = QWidget()
        cl = QVBoxLayout(curves)
        cl.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Curves"))
        bar.addWidget(self.curve)
        bar.addStretch(1)
        cl.addLayout(bar)
        cl.addWidget(self.plot, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.changes)
        right.addWidget(curves)
        right.addWidget(self.scores)
        split = QSplitter()
        split.addWidget(graph_side)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([620, 640])
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

        self.follow_palette()  # fills the table of changes too
        self._fill_metrics()
        self._fill_metric_choices()
        # The changes take the height their rows need (up to a third), the curves the most.
        rows = self.changes.rowCount()
        needed = self.changes.horizontalHeader().sizeHint().height() + 30 * rows + 8
        changes = max(90, min(needed, 250))
        right.setSizes([changes, 340, max(160, 700 - changes - 340)])
        self._worker: InferenceWorker | None = None
        self.shapes_known: set[str] = set()  # the runs ("a", "b") whose shapes are drawn
        if infer_shapes:
            self._infer()

    # ---------------------------------------------------------------- tables
    @staticmethod
    def _table(columns: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(columns))
        table.setHorizontalHeaderLabels(columns)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().hide()
        # The labels take what they need; the two runs' values share the rest (a long one is
        # cut short, whole in its tooltip).
        header = table.horizontalHeader()
        for i in range(len(columns)):
            mode = QHeaderView.ResizeMode.Stretch if i >= len(columns) - 2 else (
                QHeaderView.ResizeMode.ResizeToContents)  # fmt: skip
            header.setSectionResizeMode(i, mode)
        return table

    def change_rows(self) -> list[tuple[str, str, str, str, str | None]]:
        """(where, what, A, B, tint) for every difference, layers first."""
        d = self.diff
        rows: list[tuple[str, str, str, str, str | None]] = []
        for layer in d.changed:
            for c in layer.changes:
                rows.append((f"layer {layer.name}", c.key, show(c.old), show(c.new), "changed"))
        rows += [(f"layer {r.name}", "added", "—", r.class_name, "added") for r in d.added]
        rows += [(f"layer {r.name}", "removed", r.class_name, "—", "removed") for r in d.removed]
        made, undone = d.rewired()
        rows += [("connection", c.text(), "—", "connected", "added") for c in made]
        rows += [("connection", c.text(), "connected", "—", "removed") for c in undone]
        rows += [(s.section, s.key, show(s.old), show(s.new), None) for s in d.settings]
        return rows

    def _fill_changes(self) -> None:
        rows = self.change_rows()
        table = self.changes
        if not rows:
            table.setRowCount(1)
            table.setItem(0, 0, QTableWidgetItem("No differences in the model or its settings."))
            table.setSpan(0, 0, 1, len(self.CHANGE_COLUMNS))
            return
        table.setRowCount(len(rows))
        for i, (*cells, kind) in enumerate(rows):
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if j == 0 and kind is not None:
                    item.setForeground(text_color(kind, self.scene.colors))
                table.setItem(i, j, item)

    def _fill_metrics(self) -> None:
        rows = self.diff.metrics
        table = self.scores
        table.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for i, row in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(row.label))
            for j, (side, value) in enumerate((("a", row.a), ("b", row.b)), start=1):
                item = QTableWidgetItem(show(value) if value is not None else "")
                item.setToolTip(item.text())
                if row.better == side:
                    item.setFont(bold)
                    item.setToolTip(f"Run {side.upper()} did better")
                table.setItem(i, j, item)

    # ---------------------------------------------------------------- curves
    def _fill_metric_choices(self) -> None:
        keys: list[str] = []
        for path in (self.run_a, self.run_b):
            for row in read_history(path):
                keys += [k for k in row if k != "epoch" and k not in keys]
        keys.sort(key=lambda k: (k.removeprefix("val_") != "loss", k.removeprefix("val_"), k))
        self.curve.blockSignals(True)
        self.curve.addItems(keys)
        if "val_loss" in keys:
            self.curve.setCurrentText("val_loss")
        self.curve.blockSignals(False)
        self.overlay()

    def overlay(self) -> int:
        """Both runs' curves of the chosen metric; returns how many were drawn."""
        runs = [(f"A {self.run_a.name}", self.run_a), (f"B {self.run_b.name}", self.run_b)]
        return draw_runs(self.plot, runs, self.curve.currentText().strip())

    # ---------------------------------------------------------------- shapes
    def _infer(self) -> None:
        """Shapes and parameter counts of B's layers, then of the layers only A had, in the
        background (Keras may still be loading)."""
        self._worker = InferenceWorker(self)
        self._worker.finished.connect(self._on_inferred)
        self._worker.request("b", self.graph_b.snapshot(), 1)

    def _on_inferred(self, result) -> None:
        run = "b" if result.generation == 1 else "a"
        self.scene.set_info(run, result.info)
        self.shapes_known.add(run)
        if self._worker is None:
            return
        if run == "b" and self.diff.removed:
            self._worker.request("a", self.graph_a.snapshot(), 2)
        else:
            self._worker.stop()

    # ---------------------------------------------------------------- window
    def follow_palette(self) -> None:
        follow_palette(self.plot)
        self.scene.apply_colors()
        self.legend.setText(legend_text(self.scene.colors))
        self._fill_changes()  # its layer rows are in the tints' colours for this look

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.follow_palette()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.view.fit()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._worker is not None:
            self._worker.stop()
        super().closeEvent(event)
