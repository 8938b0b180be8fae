"""Every edit of a graph as a command on an undo stack, kept in the core so the app, scripts
and tests all undo the same way. A command changes only the model; views follow its events."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from deepgui.core.graph import Edge, Graph, Node
from deepgui.core.keras_graph import expand_block
from deepgui.core.placement import NODE_WIDTH, make_room


class Command:
    text = "Edit"

    def redo(self, graph: Graph) -> None:
        raise NotImplementedError

    def undo(self, graph: Graph) -> None:
        raise NotImplementedError

    def merge(self, later: Command) -> bool:
        """Absorb `later`, already done, into this step (consecutive edits of one field);
        False when they stay separate steps."""
        return False


_ABSENT = object()


@dataclass
class SetFields(Command):
    """Change keys of a settings dict (the project's training or dataset section) in place;
    a key set to `REMOVE` is taken out. Undo restores exactly the keys it changed, and the
    next edit of the same keys merges into this step, so typing a number is one undo step."""

    settings: dict[str, Any]
    changes: dict[str, Any]
    text: str = "Change settings"  # type: ignore[assignment]
    _old: dict[str, Any] = field(default_factory=dict)

    def redo(self, graph: Graph) -> None:
        self._old = {
            k: copy.deepcopy(self.settings[k]) if k in self.settings else _ABSENT
            for k in self.changes
        }
        for key, value in self.changes.items():
            if value is REMOVE:
                self.settings.pop(key, None)
            else:
                self.settings[key] = copy.deepcopy(value)

    def undo(self, graph: Graph) -> None:
        for key, value in self._old.items():
            if value is _ABSENT:
                self.settings.pop(key, None)
            else:
                self.settings[key] = copy.deepcopy(value)

    def merge(self, later: Command) -> bool:
        if not (
            isinstance(later, SetFields)
            and later.settings is self.settings
            and later.changes.keys() == self.changes.keys()
        ):
            return False
        self.changes = later.changes  # the first step's old values stay: undo goes back past both
        return True


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


REMOVE = _Remove()


def set_fields(settings: dict[str, Any], text: str = "Change settings", **changes: Any):
    """A SetFields for the keys whose value differs; None when nothing would change."""
    changed = {k: v for k, v in changes.items() if settings.get(k, _ABSENT) != v}
    return SetFields(settings, changed, text) if changed else None


@dataclass
class AddNode(Command):
    class_name: str
    config: dict[str, Any] | None = None
    position: tuple[float, float] = (0.0, 0.0)
    node_id: str | None = None

    @property
    def text(self) -> str:  # type: ignore[override]
        return f"Add {self.class_name}"

    def redo(self, graph: Graph) -> None:
        node = graph.add_node(self.class_name, self.config, self.position, self.node_id)
        # Replaying must give the same id and name, so later commands still find the node.
        self.node_id = node.id
        self.config = copy.deepcopy(node.config)

    def undo(self, graph: Graph) -> None:
        graph.remove_node(self.node_id)


@dataclass
class RemoveNode(Command):
    node_id: str
    _node: Node | None = None
    _index: int = 0
    _edges: list[tuple[int, Edge]] = field(default_factory=list)
    text = "Delete layer"

    def redo(self, graph: Graph) -> None:
        self._index = graph.index_of(self.node_id)
        self._edges = sorted(
            (graph.edge_index(e), e) for e in graph.edges if self.node_id in (e.source, e.target)
        )
        self._node, _ = graph.remove_node(self.node_id)

    def undo(self, graph: Graph) -> None:
        graph.restore_node(self._node, self._index)
        for index, edge in self._edges:
            graph.restore_edge(edge, index)


@dataclass
class Connect(Command):
    source: str
    target: str
    target_port: int | None = None
    _edge: Edge | None = None
    text = "Connect"

    def redo(self, graph: Graph) -> None:
        self._edge = graph.connect(self.source, self.target, self.target_port)
        self.target_port = self._edge.target_port

    def undo(self, graph: Graph) -> None:
        graph.disconnect(self._edge)


@dataclass
class Disconnect(Command):
    edge: Edge
    _index: int = 0
    text = "Disconnect"

    def redo(self, graph: Graph) -> None:
        self._index = graph.edge_index(self.edge)
        graph.disconnect(self.edge)

    def undo(self, graph: Graph) -> None:
        graph.restore_edge(self.edge, self._index)


@dataclass
class SetConfig(Command):
    node_id: str
    config: dict[str, Any]
    _old: dict[str, Any] | None = None
    text = "Change parameters"

    def redo(self, graph: Graph) -> None:
        self._old = graph.set_config(self.node_id, self.config)

    def undo(self, graph: Graph) -> None:
        graph.set_config(self.node_id, self._old)


def set_params(graph: Graph, node_id: str, **changes: Any) -> SetConfig:
    """A SetConfig that changes only the named parameters of one layer."""
    config = copy.deepcopy(graph.node(node_id).config)
    config.update(changes)
    return SetConfig(node_id, config)


@dataclass
class SetOutput(Command):
    node_id: str
    output: bool = True
    _old: bool = False

    @property
    def text(self) -> str:  # type: ignore[override]
        return "Use as model output" if self.output else "Stop using as model output"

    def redo(self, graph: Graph) -> None:
        self._old = graph.set_output(self.node_id, self.output)

    def undo(self, graph: Graph) -> None:
        graph.set_output(self.node_id, self._old)


@dataclass
class MoveNodes(Command):
    positions: dict[str, tuple[float, float]]
    _old: dict[str, tuple[float, float]] = field(default_factory=dict)
    text = "Move"

    def redo(self, graph: Graph) -> None:
        self._old = {nid: graph.move(nid, pos) for nid, pos in self.positions.items()}

    def undo(self, graph: Graph) -> None:
        for nid, pos in self._old.items():
            graph.move(nid, pos)


@dataclass
class Macro(Command):
    """Several commands as one undo step; a failing step rolls back the ones before it."""

    commands: Sequence[Command]
    text: str = "Edit"  # type: ignore[assignment]

    def redo(self, graph: Graph) -> None:
        done: list[Command] = []
        try:
            for cmd in self.commands:
                cmd.redo(graph)
                done.append(cmd)
        except Exception:
            for cmd in reversed(done):
                cmd.undo(graph)
            raise

    def undo(self, graph: Graph) -> None:
        for cmd in reversed(self.commands):
            cmd.undo(graph)


def remove_nodes(graph: Graph, node_ids: Sequence[str]) -> Macro:
    return Macro([RemoveNode(nid) for nid in node_ids], text="Delete")


def insert_on_edge(graph: Graph, edge: Edge, class_name: str, config: dict | None = None,
                   position: tuple[float, float] = (0.0, 0.0)) -> Macro:  # fmt: skip
    """Drop a layer onto an edge: source -> new -> target, keeping the target's port. The new
    layer goes where it was dropped (in the connection's column when dropped near it), below
    its source, and the layers below it move down to make room: one undo step for all."""
    x, y = position
    for column in (graph.node(edge.source).position[0], graph.node(edge.target).position[0]):
        if abs(x - column) < NODE_WIDTH / 2:
            x = column
            break
    positions = {n.id: n.position for n in graph}
    (x, y), moves = make_room(positions, x, y)
    add = AddNode(class_name, config, (x, y), node_id=graph.new_id())
    steps: list[Command] = [
        Disconnect(edge),
        add,
        Connect(edge.source, add.node_id, 0),
        Connect(add.node_id, edge.target, edge.target_port),
    ]
    if moves:
        steps.append(MoveNodes(moves))
    return Macro(steps, text=f"Insert {class_name}")


class UndoStack:
    """Linear undo history with a clean mark, like QUndoStack but Qt-free."""

    def __init__(self, graph: Graph, limit: int = 500) -> None:
        self.graph = graph
        self.limit = limit
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self._clean_depth: int | None = 0
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def push(self, command: Command) -> Command:
        command.redo(self.graph)  # raises before anything is recorded if the edit is refused
        top = self._done[-1] if self._done and not self._undone else None
        # Never merge into the saved state: undo must be able to get back to it.
        if top is not None and self._clean_depth != len(self._done) and top.merge(command):
            self._changed()
            return top
        self._done.append(command)
        self._undone.clear()
        if len(self._done) > self.limit:
            self._done.pop(0)
            if self._clean_depth is not None:
                self._clean_depth -= 1
                if self._clean_depth < 0:
                    self._clean_depth = None
        elif self._clean_depth is not None and self._clean_depth > len(self._done) - 1:
            self._clean_depth = None  # the clean state was on the discarded redo branch
        self._changed()
        return command

    def can_undo(self) -> bool:
        return bool(self._done)

    def can_redo(self) -> bool:
        return bool(self._undone)

    def undo_text(self) -> str:
        return self._done[-1].text if self._done else ""

    def redo_text(self) -> str:
        return self._undone[-1].text if self._undone else ""

    def undo(self) -> None:
        if self._done:
            cmd = self._done.pop()
            cmd.undo(self.graph)
            self._undone.append(cmd)
            self._changed()

    def redo(self) -> None:
        if self._undone:
            cmd = self._undone.pop()
            cmd.redo(self.graph)
            self._done.append(cmd)
            self._changed()

    def set_clean(self) -> None:
        self._clean_depth = len(self._done)
        self._changed()

    @property
    def is_clean(self) -> bool:
        return self._clean_depth == len(self._done)

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self._clean_depth = 0
        self._changed()


@dataclass
class ExpandBlock(Command):
    """Open a block (a model used as a layer) for editing: its layers take its place on the
    canvas, wired as it was; undo puts the block back. The layers keep their names, so the
    weights the block had load into them by their variables' paths (weights.load_weights)."""

    node_id: str
    text: str = "Open block for editing"  # type: ignore[assignment]
    _block: Node | None = None
    _index: int = 0
    _edges: list[tuple[int, Edge]] = field(default_factory=list)
    _added: list[str] = field(default_factory=list)

    def redo(self, graph: Graph) -> None:
        expansion = expand_block(graph, self.node_id)
        block = graph.node(self.node_id)
        outgoing = graph.out_edges(self.node_id)
        self._index = graph.index_of(self.node_id)
        self._edges = sorted(
            (graph.edge_index(e), e) for e in graph.edges if self.node_id in (e.source, e.target)
        )
        self._block, _ = graph.remove_node(self.node_id)
        # The new nodes, read as a project file reads them (kinds, calls, shares kept).
        parsed = Graph.from_dict({"nodes": expansion.nodes, "edges": []})
        x, y = block.position
        for i, node in enumerate(parsed.nodes.values()):
            node.position = (x, y + 150.0 * i)
            graph.restore_node(node)
        self._added = list(parsed.nodes)
        for raw in expansion.edges:
            edge = Edge(raw["source"], raw["target"], raw["target_port"], raw.get("source_port", 0))
            graph.restore_edge(edge)
        for edge in outgoing:
            source, port = expansion.outputs[edge.source_port]
            graph.restore_edge(Edge(source, edge.target, edge.target_port, port))

    def undo(self, graph: Graph) -> None:
        for node_id in reversed(self._added):
            graph.remove_node(node_id)
        graph.restore_node(self._block, self._index)
        for index, edge in self._edges:
            graph.restore_edge(edge, index)
