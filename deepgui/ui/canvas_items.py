"""What the canvas draws: one NodeItem per layer, one EdgeItem per connection.

Items only hold what they display; the graph stays the source of truth. Node pictures are
cached by Qt (DeviceCoordinateCache) so panning a large graph only blits, and zoomed far out a
node is drawn as a plain coloured box.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape as html_escape

from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from deepgui.core import catalogue, node_kinds
from deepgui.core.graph import Edge, Node
from deepgui.core.layout import NODE_HEIGHT, NODE_WIDTH
from deepgui.core.sweep.marks import MARK
from deepgui.ui.theme import CanvasColors, canvas_colors, category_color
from deepgui.ui.vary import MARK_COLOR

PORT_RADIUS = 6.0
HEADER = 24.0
# Zoomed out, the usual text would be too small to read: below COMPACT_LOD a layer shows only
# its name and output shape, in type that stays about 12 and 10 pixels high on screen; below
# BOXES_LOD, only its box.
COMPACT_LOD = 0.75
BOXES_LOD = 0.28

_SHORT = {"kernel_size": "kernel", "pool_size": "pool", "strides": "stride", "return_sequences": "seq",
          "target_shape": "to", "num_heads": "heads", "key_dim": "key", "output_dim": "dim",
          "input_dim": "vocab"}  # fmt: skip


def format_value(value) -> str:
    if isinstance(value, list | tuple):
        if all(isinstance(v, int | float) or v is None for v in value):
            return "×".join("?" if v is None else str(v) for v in value)
        return ",".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("class_name", "…"))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def key_params_text(node: Node) -> str:
    """The layer's key parameters in one short line: ``32 · kernel 3×3 · relu``."""
    kind = node_kinds.kind(node)
    if kind == node_kinds.OPERATION:  # its own arguments, as Keras serializes them
        return " · ".join(f"{k} {format_value(v)}" for k, v in node.config.items() if k != "name")
    if kind == node_kinds.BLOCK:
        return "frozen" if node_kinds.is_frozen(node) else "trainable"
    if kind == node_kinds.LOCKED:
        return "locked: built by Keras from its own code"
    spec = catalogue.get(node.class_name)
    if spec is None:
        return ""
    parts = []
    for name in spec.summary_params:
        value = node.config.get(name)
        if name == "shape" and value is None and node.config.get("batch_shape"):
            value = list(node.config["batch_shape"])[1:]  # imported Inputs carry batch_shape
        if value is None or value is False:
            continue
        if name in ("activation", "padding", "units", "filters", "rate") or value is True:
            parts.append(format_value(value) if value is not True else _SHORT.get(name, name))
        elif name == "shape":
            parts.append(format_value(value))
        else:
            parts.append(f"{_SHORT.get(name, name)} {format_value(value)}")
    return " · ".join(parts)


def short_shape(shape) -> str:
    """``8×8×32`` for (None, 8, 8, 32): what one sample comes out as, in a few characters."""
    if not isinstance(shape, list | tuple) or not shape or shape[0] is not None:
        return ""
    if not all(d is None or isinstance(d, int) for d in shape[1:]):
        return ""  # several outputs: the full text
    return "×".join("?" if d is None else str(d) for d in shape[1:]) or "scalar"


def format_count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.2f}M params"
    if n >= 10_000:
        return f"{n / 1e3:.1f}k params"
    return f"{n:,} param{'s' * (n != 1)}"


class _Fonts:
    """The node fonts, made once (creating fonts and metrics per paint is what costs)."""

    def __init__(self) -> None:
        self.name = QFont()
        self.name.setPixelSize(13)
        self.name.setBold(True)
        self.type = QFont()
        self.type.setPixelSize(11)
        self.body = QFont()
        self.body.setPixelSize(12)
        self.mono = QFont("monospace")
        self.mono.setStyleHint(QFont.StyleHint.Monospace)
        self.mono.setPixelSize(11)
        self.name_small = QFont()
        self.name_small.setPixelSize(11)
        self.name_small.setBold(True)
        self.name_m, self.type_m = QFontMetricsF(self.name), QFontMetricsF(self.type)
        self.name_small_m = QFontMetricsF(self.name_small)
        self.body_m, self.mono_m = QFontMetricsF(self.body), QFontMetricsF(self.mono)
        self._scaled: dict[tuple[str, int], tuple[QFont, QFontMetricsF]] = {}

    def scaled(self, kind: str, pixels: float) -> tuple[QFont, QFontMetricsF]:
        """The name (bold) or mono font at `pixels`, made once per whole pixel size."""
        key = (kind, max(6, round(pixels)))
        if key not in self._scaled:
            font = QFont(self.name if kind == "name" else self.mono)
            font.setPixelSize(key[1])
            self._scaled[key] = (font, QFontMetricsF(font))
        return self._scaled[key]


_FONTS: _Fonts | None = None


def fonts() -> _Fonts:
    global _FONTS
    if _FONTS is None:
        _FONTS = _Fonts()
    return _FONTS


@dataclass
class _Texts:
    """Elided strings and where they go, recomputed only when the node's content changes."""

    name: str
    name_rect: QRectF
    type: str
    type_rect: QRectF
    key: str
    key_rect: QRectF
    shape: str
    shape_rect: QRectF
    marks: str = ""  # "⟳ 2": the layer's settings marked to vary in a sweep
    marks_rect: QRectF | None = None


class NodeItem(QGraphicsItem):
    """One layer: name, type, key parameters, output shape, parameter count, and its ports."""

    def __init__(self, node: Node, colors: CanvasColors | None = None) -> None:
        super().__init__()
        self.node_id = node.id
        self.edges: list[EdgeItem] = []
        self.colors = colors or canvas_colors()
        self.shape_text = "…"
        self.short_shape = "…"  # the shape without the batch size, for the compact drawing
        self.params_text = ""
        self.state = "pending"  # pending | ok | warning | error
        self.messages: list[str] = []
        self.drop_highlight = False
        self.connected_ports: set[int] = set()
        self.marks: dict[str, str] = {}  # parameter -> SPEC, marked to vary in a sweep
        self._texts: _Texts | None = None
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
            | QGraphicsItem.GraphicsItemFlag.ItemIsFocusable
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.set_node(node)
        self.setPos(QPointF(*node.position))

    # ---------------------------------------------------------------- model -> item
    def set_node(self, node: Node) -> None:
        self.name = node.name
        self.kind = node_kinds.kind(node)
        self.frozen = self.kind in (node_kinds.BLOCK, node_kinds.BACKBONE) and (
            node_kinds.is_frozen(node)
        )
        self.class_name = node_kinds.type_label(node)
        spec = catalogue.get(node.class_name)
        self.category = node_kinds.category(node)
        self.description = node_kinds.why_locked(node) or (
            spec.description
            if spec and self.kind != node_kinds.OPERATION
            else f"The Keras operation {node_kinds.operation_name(node)}, called between layers."
            if self.kind == node_kinds.OPERATION
            else "A layer outside the palette (imported)."
        )
        key = key_params_text(node)
        self.key_text = (
            f"{key} · model output"
            if node.output and key
            else ("model output" if node.output else key)
        )
        self._texts = None
        self.min_inputs, self.max_inputs = node_kinds.arity(node)
        self._refresh_tooltip()
        self.update()

    def _lay_out(self) -> _Texts:
        f = fonts()
        elide = Qt.TextElideMode.ElideRight
        type_w = min(f.type_m.horizontalAdvance(self.class_name), NODE_WIDTH * 0.45)
        name_rect = QRectF(8, 0, NODE_WIDTH - 20 - type_w, HEADER)
        key_rect = QRectF(8, HEADER + 3, NODE_WIDTH - 16, 18)
        marks, marks_rect = "", None
        if self.marks:  # a badge at the end of the key parameters' line, clear of "!"
            marks = f"{MARK} {len(self.marks)}"
            width = f.name_small_m.horizontalAdvance(marks) + 10
            marks_rect = QRectF(NODE_WIDTH - 14 - width, HEADER + 4, width, 16)
            key_rect.setRight(marks_rect.left() - 4)
        shape_rect = QRectF(8, HEADER + 23, NODE_WIDTH - 16, 18)
        params_w = f.body_m.horizontalAdvance(self.params_text) + 8 if self.params_text else 0
        shown = (
            "error: hover for details"
            if self.state == "error" and self.shape_text == "?"
            else self.shape_text
        )
        self._texts = _Texts(
            name=f.name_m.elidedText(self.name, elide, name_rect.width()),
            name_rect=name_rect,
            type=f.type_m.elidedText(self.class_name, elide, type_w),
            type_rect=QRectF(NODE_WIDTH - 8 - type_w, 0, type_w, HEADER),
            key=f.body_m.elidedText(self.key_text or " ", elide, key_rect.width()),
            key_rect=key_rect,
            shape=f.mono_m.elidedText(shown, elide, shape_rect.width() - params_w),
            shape_rect=shape_rect,
            marks=marks,
            marks_rect=marks_rect,
        )
        return self._texts

    def set_info(self, info) -> None:
        """Show what inference found (a shapes.NodeInfo, or None while it runs)."""
        from deepgui.core.shapes import format_shape  # Qt-free, light

        if info is None:
            shape, params, state, messages = "…", "", "pending", []
            self.short_shape = "…"
        else:
            shape = format_shape(info.output_shape) if info.output_shape is not None else "?"
            self.short_shape = short_shape(info.output_shape) or shape
            params = format_count(info.params) if info.output_shape is not None else ""
            messages = list(info.errors) + list(info.warnings)
            state = "error" if info.errors else "warning" if info.warnings else "ok"
        if (shape, params, state, messages) != (
            self.shape_text,
            self.params_text,
            self.state,
            self.messages,
        ):
            self.shape_text, self.params_text, self.state, self.messages = (
                shape,
                params,
                state,
                messages,
            )
            self._texts = None
            self._refresh_tooltip()
            self.update()

    def set_marks(self, marks: dict[str, str]) -> None:
        """Show the layer's marks to vary in a sweep ({parameter: SPEC}) as a ⟳ badge."""
        if marks != self.marks:
            self.marks = dict(marks)
            self._texts = None
            self._refresh_tooltip()
            self.update()

    def set_connected_ports(self, ports: set[int]) -> None:
        if ports != self.connected_ports:
            self.connected_ports = ports
            self.update()
            for edge in self.edges:
                edge.update_path()

    def _refresh_tooltip(self) -> None:
        lines = [f"<b>{self.name}</b> ({self.class_name})", self.description]
        for message in self.messages:
            colour = "#d32f2f" if self.state == "error" else "#b26a00"
            lines.append(f"<span style='color:{colour}'>{message}</span>")
        if self.marks:
            varied = ", ".join(f"{k} {html_escape(v)}" for k, v in self.marks.items())
            lines.append(
                f"<span style='color:{MARK_COLOR}'>{MARK} Varied in a sweep: {varied}</span>"
            )
        self.setToolTip("<br>".join(lines))

    # ---------------------------------------------------------------- geometry
    @property
    def input_count(self) -> int:
        """Ports shown on top: the arity, or one spare for layers taking any number of inputs."""
        if self.max_inputs == 0:
            return 0
        if self.max_inputs is None:
            used = max(self.connected_ports, default=-1) + 1
            return max(self.min_inputs, used + 1, 2)
        return max(self.max_inputs, max(self.connected_ports, default=-1) + 1)

    def input_port_local(self, port: int) -> QPointF:
        n = max(self.input_count, 1)
        port = min(port, n - 1)
        return QPointF(NODE_WIDTH * (port + 1) / (n + 1), 0.0)

    def output_port_local(self) -> QPointF:
        return QPointF(NODE_WIDTH / 2, NODE_HEIGHT)

    def input_port_pos(self, port: int) -> QPointF:
        return self.mapToScene(self.input_port_local(port))

    def output_port_pos(self) -> QPointF:
        return self.mapToScene(self.output_port_local())

    def port_at(self, scene_pos: QPointF, slack: float = 5.0) -> tuple[str, int] | None:
        """("in", port) or ("out", 0) when `scene_pos` is on a port."""
        local = self.mapFromScene(scene_pos)
        reach = PORT_RADIUS + slack
        out = self.output_port_local()
        if (local - out).manhattanLength() <= reach * 1.4:
            return ("out", 0)
        for i in range(self.input_count):
            if (local - self.input_port_local(i)).manhattanLength() <= reach * 1.4:
                return ("in", i)
        return None

    def boundingRect(self) -> QRectF:
        m = PORT_RADIUS + 3
        return QRectF(-m, -m, NODE_WIDTH + 2 * m, NODE_HEIGHT + 2 * m)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.WindingFill)  # ports overlap the box: keep both solid
        path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT), 8, 8)
        for i in range(self.input_count):
            path.addEllipse(self.input_port_local(i), PORT_RADIUS + 2, PORT_RADIUS + 2)
        path.addEllipse(self.output_port_local(), PORT_RADIUS + 2, PORT_RADIUS + 2)
        return path

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for edge in self.edges:
                edge.update_path()
        return super().itemChange(change, value)

    # ---------------------------------------------------------------- painting
    def _paint_header(self, painter: QPainter, height: float, accent: QColor) -> None:
        header = QPainterPath()
        header.setFillRule(Qt.FillRule.WindingFill)  # the square lower half must not cancel out
        header.addRoundedRect(QRectF(0, 0, NODE_WIDTH, height), 8, 8)
        header.addRect(QRectF(0, height / 2, NODE_WIDTH, height / 2))
        painter.fillPath(header, accent)
        if self.frozen:  # a frozen backbone says so at every zoom: a band across its foot
            band = QRectF(0, NODE_HEIGHT - 5, NODE_WIDTH, 5)
            painter.fillRect(band, QColor("#7fb8d8"))

    def _paint_compact(self, painter: QPainter, lod: float, accent: QColor) -> None:
        """Zoomed out: the name on a taller header and the output shape, each in type scaled
        to stay readable on screen (a fitted model stays readable down to READABLE_ZOOM)."""
        f = fonts()
        name_font, name_m = f.scaled("name", min(34.0, 11.5 / lod))
        header = min(NODE_HEIGHT * 0.55, name_m.height() + 6)
        self._paint_header(painter, header, accent)
        width = NODE_WIDTH - 16
        if self.marks:  # a dot in the badge's colour, at the header's end, at every zoom
            radius = header * 0.28
            centre = QPointF(NODE_WIDTH - 6 - radius, header / 2)
            painter.setPen(QPen(QColor("#ffffff"), 1.5 / max(lod, 0.1)))
            painter.setBrush(QColor(MARK_COLOR))
            painter.drawEllipse(centre, radius, radius)
            width -= 2 * radius + 4
        if lod < BOXES_LOD:
            return
        elide = Qt.TextElideMode.ElideRight
        painter.setFont(name_font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(QRectF(8, 0, width, header), Qt.AlignmentFlag.AlignVCenter,
                         name_m.elidedText(self.name, elide, width))  # fmt: skip
        shape_font, shape_m = f.scaled("mono", min(30.0, 10.0 / lod))
        painter.setFont(shape_font)
        painter.setPen(self.colors.error if self.state == "error" else self.colors.text)
        shown = "error" if self.state == "error" else self.short_shape
        painter.drawText(QRectF(8, header, width, NODE_HEIGHT - header),
                         Qt.AlignmentFlag.AlignVCenter, shape_m.elidedText(shown, elide, width))  # fmt: skip
        self._paint_ports(painter, accent)

    def _paint_ports(self, painter: QPainter, accent: QColor) -> None:
        painter.setPen(QPen(self.colors.node_border.darker(130), 1.2))
        for i in range(self.input_count):
            painter.setBrush(accent if i in self.connected_ports else self.colors.node)
            painter.drawEllipse(self.input_port_local(i), PORT_RADIUS, PORT_RADIUS)
        painter.setBrush(accent)
        painter.drawEllipse(self.output_port_local(), PORT_RADIUS, PORT_RADIUS)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        c = self.colors
        rect = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)
        accent = category_color(self.category)
        selected = self.isSelected()
        border = (
            c.error
            if self.state == "error"
            else c.warning
            if self.state == "warning"
            else c.node_border
        )
        if selected:
            border = c.selection
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, lod > 0.3)
        fill = QColor(c.node)
        if self.state == "error":
            fill = _mix(c.node, c.error, 0.14)
        pen = QPen(border, 3.0 if selected or self.state == "error" else 1.2)
        if self.kind == node_kinds.OPERATION:  # an operation, not a layer: drawn apart
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 8, 8)
        # header band in the category colour
        if lod < COMPACT_LOD:
            self._paint_compact(painter, lod, accent)
            return
        self._paint_header(painter, HEADER, accent)
        f = fonts()
        t = self._texts or self._lay_out()
        white = QColor("#ffffff")
        painter.setPen(white)
        painter.setFont(f.name)
        painter.drawText(t.name_rect, Qt.AlignmentFlag.AlignVCenter, t.name)
        painter.setFont(f.type)
        painter.drawText(
            t.type_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, t.type
        )
        painter.setFont(f.body)
        painter.setPen(c.muted)
        painter.drawText(t.key_rect, Qt.AlignmentFlag.AlignVCenter, t.key)
        painter.drawText(
            t.shape_rect,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            self.params_text,
        )
        painter.setFont(f.mono)
        painter.setPen(c.error if self.state == "error" else c.text)
        painter.drawText(t.shape_rect, Qt.AlignmentFlag.AlignVCenter, t.shape)
        if t.marks_rect is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(MARK_COLOR))
            painter.drawRoundedRect(t.marks_rect, 8, 8)
            painter.setPen(white)
            painter.setFont(f.name_small)
            painter.drawText(t.marks_rect, Qt.AlignmentFlag.AlignCenter, t.marks)
        if self.state in ("error", "warning"):
            badge = c.error if self.state == "error" else c.warning
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(badge)
            centre = QPointF(NODE_WIDTH - 4, HEADER + 4)
            painter.drawEllipse(centre, 8, 8)
            painter.setPen(white)
            painter.setFont(f.name)
            painter.drawText(
                QRectF(centre.x() - 8, centre.y() - 8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!"
            )
        self._paint_ports(painter, accent)


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    return QColor(
        round(a.red() * (1 - t) + b.red() * t),
        round(a.green() * (1 - t) + b.green() * t),
        round(a.blue() * (1 - t) + b.blue() * t),
    )


def connection_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A vertical S-curve from an output port down (or up) to an input port."""
    path = QPainterPath(start)
    bend = max(40.0, abs(end.y() - start.y()) * 0.5)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


class EdgeItem(QGraphicsPathItem):
    """One connection; selectable (Delete removes it) and a drop target for inserting a layer."""

    def __init__(
        self, edge: Edge, source: NodeItem, target: NodeItem, colors: CanvasColors
    ) -> None:
        super().__init__()
        self.edge = edge
        self.source = source
        self.target = target
        self.colors = colors
        self.highlighted = False
        self.setZValue(-1)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.setToolTip(f"{source.name} → {target.name} (input {edge.target_port})")
        source.edges.append(self)
        target.edges.append(self)
        self.update_path()

    def update_path(self) -> None:
        self.setPath(
            connection_path(
                self.source.output_port_pos(), self.target.input_port_pos(self.edge.target_port)
            )
        )

    def set_highlighted(self, on: bool) -> None:
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def detach(self) -> None:
        for end in (self.source, self.target):
            if self in end.edges:
                end.edges.remove(self)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def paint(self, painter: QPainter, option, widget=None) -> None:
        c = self.colors
        colour = c.selection if (self.isSelected() or self.highlighted) else c.edge
        width = 3.0 if (self.isSelected() or self.highlighted) else 1.8
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, width))
        painter.setBrush(QBrush())
        painter.drawPath(self.path())


CAPTION_GAP = 10.0  # between a caption and its Input layer
CAPTION_PAD = 6.0
CAPTION_MAX_WIDTH = 340.0  # wider than a layer when its rows need it, never across the graph


class DataCaptionItem(QGraphicsItem):
    """What an Input layer receives, drawn beside it (a child, so it moves with the layer):
    a title, then one row per column or array with the preprocessing it gets inside the
    model. Rows past the caption's limit are counted; the tooltip lists every one."""

    def __init__(self, caption, colors: CanvasColors) -> None:
        super().__init__()
        self.caption = caption  # deepgui.core.data.describe.InputCaption
        self.colors = colors
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks reach the canvas
        self.setAcceptHoverEvents(True)
        self.setZValue(-0.5)  # under layers, over connections
        self.setToolTip("<br>".join(html_escape(line) for line in caption.lines()))
        f = fonts()
        rows = caption.visible_rows()
        self._line_h = f.type_m.height() + 3
        # The names take what they need up to 45 % of the widest caption; the treatments the rest.
        self._names_w = min(
            max((f.type_m.horizontalAdvance(w) for w, _ in rows), default=0) + 10,
            CAPTION_MAX_WIDTH * 0.45,
        )
        needed = max(
            [self._names_w + f.type_m.horizontalAdvance(h) for _, h in rows]
            + [f.name_small_m.horizontalAdvance(caption.title), f.type_m.horizontalAdvance(
                caption.more_text())]
        )  # fmt: skip
        width = min(max(NODE_WIDTH, needed + 2 * CAPTION_PAD + 2), CAPTION_MAX_WIDTH)
        count = 1 + len(rows) + (1 if caption.hidden else 0)
        self._size = QSizeF(width, 2 * CAPTION_PAD + count * self._line_h)

    def size(self) -> QSizeF:
        return self._size

    def boundingRect(self) -> QRectF:
        return QRectF(QPointF(0, 0), self._size)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        c = self.colors
        rect = self.boundingRect().adjusted(0.5, 0.5, -0.5, -0.5)
        accent = category_color("Input")
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(accent, 1.2, Qt.PenStyle.DashLine))
        painter.setBrush(_mix(c.background, c.node, 0.7))
        painter.drawRoundedRect(rect, 6, 6)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < 0.4:
            return  # too small to read, as the layers' own text
        f = fonts()
        elide = Qt.TextElideMode.ElideRight
        width = self._size.width() - 2 * CAPTION_PAD
        names_w = self._names_w
        y = CAPTION_PAD
        painter.setFont(f.name_small)
        painter.setPen(accent)
        line = QRectF(CAPTION_PAD, y, width, self._line_h)
        painter.drawText(
            line,
            Qt.AlignmentFlag.AlignVCenter,
            f.name_small_m.elidedText(self.caption.title, elide, width),
        )
        for what, how in self.caption.visible_rows():
            y += self._line_h
            painter.setFont(f.type)
            painter.setPen(c.text)
            painter.drawText(
                QRectF(CAPTION_PAD, y, names_w, self._line_h),
                Qt.AlignmentFlag.AlignVCenter,
                f.type_m.elidedText(what, elide, names_w - 6),
            )
            painter.setPen(c.muted)
            painter.drawText(
                QRectF(CAPTION_PAD + names_w, y, width - names_w, self._line_h),
                Qt.AlignmentFlag.AlignVCenter,
                f.type_m.elidedText(how, elide, width - names_w),
            )
        if self.caption.hidden:
            y += self._line_h
            painter.setPen(c.muted)
            painter.drawText(
                QRectF(CAPTION_PAD, y, width, self._line_h),
                Qt.AlignmentFlag.AlignVCenter,
                self.caption.more_text(),
            )
