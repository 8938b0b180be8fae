"""Canvas gestures, one small object each (as orange-canvas-core's interactions): the view hands
the mouse to the active one. A gesture shows its feedback on the canvas only; the document is
not touched until the gesture ends, and then by one command on the undo stack (or none, when it
is cancelled or lands where it started)."""

from __future__ import annotations

import html

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsTextItem

from deepgui.core.commands import Connect, Disconnect, Macro
from deepgui.core.graph import Edge
from deepgui.ui.canvas_items import NodeItem, connection_path


class Interaction:
    """A gesture in progress: `move` while the button is held, then `release` or `cancel`."""

    def __init__(self, view) -> None:
        self.view = view

    def move(self, pos) -> None: ...

    def release(self, pos) -> bool:
        """End the gesture; True when it changed the document."""
        return False

    def cancel(self) -> None: ...


class PanInteraction(Interaction):
    """Middle button, or Space and the left button: scroll the canvas with the pointer."""

    def __init__(self, view, viewport_pos: QPointF) -> None:
        super().__init__(view)
        self.last = viewport_pos
        view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def move(self, viewport_pos) -> None:
        delta = viewport_pos - self.last
        self.last = viewport_pos
        bars = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        bars[0].setValue(bars[0].value() - round(delta.x()))
        bars[1].setValue(bars[1].value() - round(delta.y()))

    def release(self, pos) -> bool:
        self.cancel()
        return False

    def cancel(self) -> None:
        shape = (
            Qt.CursorShape.OpenHandCursor if self.view.space_held else Qt.CursorShape.ArrowCursor
        )
        self.view.viewport().setCursor(shape)


class WireInteraction(Interaction):
    """Drag a connection: from a layer's output to another's input, from a free input back to
    the layer to read from (`reverse_port`), or an existing connection's end picked up at its
    input port (`detached`) to drop on another layer, or on empty canvas to disconnect.

    Live feedback judges the drop as the graph would be after the gesture: a picked-up
    connection is left out of a private copy of the graph, never out of the document."""

    def __init__(
        self,
        view,
        anchor: NodeItem,
        reverse_port: int | None = None,
        detached: Edge | None = None,
    ) -> None:
        super().__init__(view)
        self.anchor = anchor
        self.reverse_port = reverse_port
        self.detached = detached
        graph = view.doc.graph
        if detached is not None:
            self.judge = graph.snapshot()
            self.judge.disconnect(detached)
            self._hidden = view.canvas.edges.get(detached)
            if self._hidden is not None:
                self._hidden.setVisible(False)  # only its picture is lifted
        else:
            self.judge, self._hidden = graph, None
        self.wire = QGraphicsPathItem()
        self.wire.setZValue(10)
        self.label = QGraphicsTextItem()
        self.label.setZValue(11)
        # Read at any zoom: the reason a connection is refused was a speck when zoomed out.
        self.label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        font = QFont()
        font.setPixelSize(12)
        self.label.setFont(font)
        view.canvas.addItem(self.wire)
        view.canvas.addItem(self.label)

    # ------------------------------------------------------------------ what a drop would do
    def _target_at(self, pos: QPointF) -> tuple[NodeItem | None, int | None]:
        item = self.view.canvas.node_at(pos)
        if item is None or item is self.anchor:
            return item, None
        port = item.port_at(pos, slack=8)
        return item, (port[1] if port and port[0] == "in" else None)

    def candidate(self, pos: QPointF):
        """(source, target, port, problem) of the connection a drop at `pos` would make; the
        end under the pointer is None over empty canvas."""
        if self.reverse_port is not None:
            target, port = self.anchor, self.reverse_port
            source = self.view.canvas.node_at(pos)
            if source is None or source is target:
                return None, target, port, None
            return (
                source,
                target,
                port,
                self.judge.connection_problem(source.node_id, target.node_id, port),
            )
        source = self.anchor
        target, port = self._target_at(pos)
        if target is None:
            return source, None, None, None
        problem = self.judge.connection_problem(source.node_id, target.node_id, port)
        return source, target, port, problem

    def problem(self, pos: QPointF):
        """(layer under the pointer, port, why it may not connect) for live feedback."""
        source, target, port, problem = self.candidate(pos)
        return (source if self.reverse_port is not None else target), port, problem

    # ------------------------------------------------------------------ the gesture
    def move(self, pos: QPointF) -> None:
        source, target, port, problem = self.candidate(pos)
        reverse = self.reverse_port is not None
        hovered = source if reverse else target
        fits = hovered is not None and not problem
        if reverse:
            start, end = (source.output_port_pos() if fits else pos), target.input_port_pos(port)
        else:
            free = port
            if fits and free is None:
                free = self.judge.next_free_port(target.node_id)
            start, end = source.output_port_pos(), (target.input_port_pos(free) if fits else pos)
        colors = self.view.canvas.colors
        colour = colors.edge if hovered is None else colors.error if problem else colors.ok
        style = Qt.PenStyle.DashLine if hovered is None else Qt.PenStyle.SolidLine
        self.wire.setPen(QPen(colour, 2.2, style))
        self.wire.setPath(connection_path(start, end))
        text = problem or (f"Connect {source.name} → {target.name}" if hovered else "")
        self.label.setHtml(
            f"<div style='background:{colors.node.name()}; color:{QColor(colour).name()};'>"
            f"&nbsp;{html.escape(text)}&nbsp;</div>"
            if text
            else ""
        )
        self.label.setPos(pos + QPointF(16, 12))
        self.view.hint.emit(text)

    def release(self, pos: QPointF) -> bool:
        source, target, port, problem = self.candidate(pos)
        self.cancel()
        doc = self.view.doc
        detached = self.detached
        if detached is not None:
            if target is None:
                return bool(doc.push(Disconnect(detached)))
            if target.node_id == detached.target and port in (None, detached.target_port):
                return False  # dropped back where it was
            if problem:
                doc.message.emit(problem)
                return False
            move = [Disconnect(detached), Connect(source.node_id, target.node_id, port)]
            return bool(doc.push(Macro(move, text="Reconnect")))
        if source is None or target is None:
            return False
        if problem:
            doc.message.emit(problem)
            return False
        return bool(doc.push(Connect(source.node_id, target.node_id, port)))

    def cancel(self) -> None:
        for item in (self.wire, self.label):
            if item.scene() is not None:
                item.scene().removeItem(item)
        if self._hidden is not None:
            self._hidden.setVisible(True)
            self._hidden = None
        self.view.hint.emit("")
