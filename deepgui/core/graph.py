"""The model graph: layers (nodes) wired by edges into a directed acyclic graph.

A node is one Keras layer: a stable id, the Keras class name and its config in Keras's own
`get_config` vocabulary. An edge runs from a source node's output to a target node's input
port; a target port's number is the position of that tensor in the layer's input list
(``Add()([a, b])``, ``MultiHeadAttention()(query, value)``).

The graph only knows structure. Shapes live in `shapes`, undo in `commands`; what kind of
thing a node is (so how many inputs it takes, and its default name) in `node_kinds`, which
reads a node's fields only and sits below the graph. It tells listeners about every change so
views and caches can follow it.
"""

from __future__ import annotations

import copy
import gc
import itertools
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from deepgui.core import limits
from deepgui.core.errors import (
    CycleError,
    DuplicateEdgeError,
    GraphError,
    PortError,
    UnknownNodeError,
)
from deepgui.core.node_kinds import arity, default_layer_name


@dataclass(frozen=True, order=True)
class Edge:
    source: str
    target: str
    target_port: int = 0
    source_port: int = 0


@dataclass
class Node:
    id: str
    class_name: str
    config: dict[str, Any]
    position: tuple[float, float] = (0.0, 0.0)
    # A process-wide unique stamp, renewed on every config change: shape caches key on
    # (id, revision) instead of hashing configs. Snapshots keep it; nothing else repeats it.
    revision: int = field(default_factory=lambda: next(_REVISIONS), compare=False)
    # A model output even though other layers read it (an encoder's code returned beside the
    # reconstruction). Layers nothing reads are outputs anyway.
    output: bool = False
    # Keras's module of a class that is not a plain ``keras.layers`` layer: an operation
    # (``keras.src.ops.numpy``), a nested model, a backbone (``keras.applications``) or a class
    # Keras builds only from its own code (node_kinds says which). None for layers.
    module: str | None = None
    # How the node is called, as Keras serializes a call ({"args": [...], "kwargs": {...}})
    # with each input tensor written {"port": i}; None: its class's usual convention.
    call: dict[str, Any] | None = None
    # The id of the node whose layer (and weights) this node calls again: a shared layer.
    shares: str | None = None

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.id))

    @property
    def is_input(self) -> bool:
        return self.class_name == "InputLayer"


Listener = Callable[[str, Any], None]

_REVISIONS = itertools.count(1)

_SELF_INPUT_LAYERS = {"MultiHeadAttention", "Attention", "GroupQueryAttention"}

# What a layer may be called (layer_name_problem says why not). Names end up as Keras layer
# names and as input and output names in SavedModel, TFLite and ONNX files, whose signatures
# take ASCII letters, digits and underscores.
LAYER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME_LENGTH = 200


def layer_name_problem(name: object) -> str | None:
    """Why `name` cannot be a layer's name, in one sentence naming it; None when it can. The
    one rule for layer names: the inspector, project files, imports and builds all apply it."""
    if not isinstance(name, str) or not name:
        return "a layer needs a name."
    if len(name) > MAX_NAME_LENGTH:
        return f"the layer name {name[:40]!r}... is longer than {MAX_NAME_LENGTH} characters."
    if not LAYER_NAME.fullmatch(name):
        return (
            f"{name!r}: use letters, digits and underscores only, starting with a letter "
            "or an underscore."
        )
    return None


def valid_layer_name(name: object, fallback: str = "layer") -> str:
    """A name that follows the rule, made from `name` (an imported model's layer names may not):
    other characters become underscores, and a leading digit gets an underscore before it."""
    text = re.sub(r"[^A-Za-z0-9_]", "_", str(name or ""))[:MAX_NAME_LENGTH] or fallback
    return text if not text[0].isdigit() else f"_{text}"[:MAX_NAME_LENGTH]


def node_dict(node: Node) -> dict[str, Any]:
    """One node as a project file holds it (keys beyond id, class and config only when set)."""
    out = {"id": node.id, "class_name": node.class_name, "config": copy.deepcopy(node.config)}
    if node.output:
        out["output"] = True
    if node.module:
        out["module"] = node.module
    if node.call is not None:
        out["call"] = copy.deepcopy(node.call)
    if node.shares:
        out["shares"] = node.shares
    return out


def size_problem(nodes: int, edges: int) -> str | None:
    """Why a graph of this many layers and connections is not taken (limits.py), as the end of
    a sentence that begins with its file's name; None when it is."""
    return limits.refusal("layers", nodes, limits.MAX_NODES) or limits.refusal(
        "connections", edges, limits.MAX_EDGES
    )


def free_name(
    base: str, taken: set[str], counters: dict[str, tuple[str, int]] | None = None
) -> str:
    """`base`, or `base` numbered (dense_1, dense_2...) when `taken` holds it already.
    `counters`, kept by a caller naming many layers while `taken` only grows, remembers each
    base's stem and the last number tried, so that a thousand unnamed Dense layers are not each
    counted from 1."""
    if base not in taken:
        return base
    known = counters.get(base) if counters is not None else None
    stem, last = known if known is not None else (_NUMBERED.sub("", base), 0)
    for i in itertools.count(last + 1):
        candidate = f"{stem}_{i}"
        if candidate not in taken:
            if counters is not None:
                counters[base] = (stem, i)
            return candidate
    raise AssertionError("unreachable")


_NUMBERED = re.compile(r"_\d+$")
_GENERATED_ID = re.compile(r"n(\d+)")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold Python's cycle collector while plain data is built (a parsed file, a graph from
    it): that makes no garbage cycles, and the collector, run every few thousand new objects,
    would walk the whole heap (TensorFlow's millions of objects once loaded) again and again,
    nearly doubling the time to load 100,000 layers. Reference counting still frees. Pauses
    nest and may overlap across threads (the app infers shapes on one): the collector runs
    again when the last one ends, if it ran before the first."""
    global _pauses, _collector_was_on
    with _pause_lock:
        if _pauses == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_on:
                gc.enable()


_pause_lock = threading.Lock()
_pauses = 0
_collector_was_on = True


def _copied(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, scalars) at a third of `copy.deepcopy`'s
    cost, which matters for a file of many layers; anything else is deep-copied as usual."""
    kind = type(value)
    if kind is dict:
        return {key: _copied(item) for key, item in value.items()}
    if kind is list:
        return [_copied(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


def _optional_text(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise GraphError(f"Layer {raw.get('id')!r}: {key} must be text, not {value!r}.")
    return value


class Graph:
    """A DAG of layers. Every mutation goes through the methods below and is announced."""

    def __init__(self) -> None:
        self._nodes: dict[str, Node] = {}
        self._edges: list[Edge] = []
        # Per-node indexes of the edges, so shape inference on big graphs stays linear.
        self._incoming: dict[str, list[Edge]] = {}
        self._outgoing: dict[str, list[Edge]] = {}
        self._listeners: list[Listener] = []
        self._ids = itertools.count(1)

    # ----------------------------------------------------------------- listeners
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: str, payload: Any) -> None:
        for listener in list(self._listeners):
            listener(event, payload)

    # ----------------------------------------------------------------- queries
    @property
    def nodes(self) -> dict[str, Node]:
        return self._nodes

    @property
    def edges(self) -> list[Edge]:
        return list(self._edges)

    def node(self, node_id: str) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise UnknownNodeError(f"There is no layer with id {node_id!r}.") from None

    def node_by_name(self, name: str) -> Node | None:
        return next((n for n in self._nodes.values() if n.name == name), None)

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self._nodes.values())

    def in_edges(self, node_id: str) -> list[Edge]:
        return sorted(self._incoming.get(node_id, ()), key=lambda e: e.target_port)

    def out_edges(self, node_id: str) -> list[Edge]:
        return list(self._outgoing.get(node_id, ()))

    def predecessors(self, node_id: str) -> list[str]:
        return [e.source for e in self.in_edges(node_id)]

    def successors(self, node_id: str) -> list[str]:
        return [e.target for e in self.out_edges(node_id)]

    def input_nodes(self) -> list[Node]:
        return [n for n in self._nodes.values() if n.is_input]

    def output_nodes(self) -> list[Node]:
        """The model's outputs, in node order: layers nothing reads from, and layers marked as
        outputs (an unwired Input is no output)."""
        return [
            n
            for n in self._nodes.values()
            if not n.is_input and (n.output or not self._outgoing.get(n.id))
        ]

    def topological_order(self) -> list[str]:
        """Kahn's algorithm, ties broken by insertion order so results are stable."""
        indegree = {nid: 0 for nid in self._nodes}
        children: dict[str, list[str]] = {nid: [] for nid in self._nodes}
        for e in self._edges:
            indegree[e.target] += 1
            children[e.source].append(e.target)
        ready = deque(nid for nid, d in indegree.items() if d == 0)
        order: list[str] = []
        while ready:
            nid = ready.popleft()
            order.append(nid)
            for child in children[nid]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
        if len(order) != len(self._nodes):
            raise CycleError("The graph has a cycle.")
        return order

    def descendants(self, node_id: str) -> set[str]:
        return self._reachable(node_id, self.successors)

    def ancestors(self, node_id: str) -> set[str]:
        return self._reachable(node_id, self.predecessors)

    def _reaches(self, start: str, goal: str) -> bool:
        """Whether a path runs from `start` to `goal`. Searched forward from the new edge's
        target, which in a graph being built downstream has no successors yet: chaining n
        layers costs n steps, not the n² of walking each source's ancestors."""
        seen, stack = {start}, [start]
        while stack:
            for edge in self._outgoing.get(stack.pop(), ()):
                if edge.target == goal:
                    return True
                if edge.target not in seen:
                    seen.add(edge.target)
                    stack.append(edge.target)
        return False

    @staticmethod
    def _reachable(node_id: str, step: Callable[[str], list[str]]) -> set[str]:
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            for other in step(stack.pop()):
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        return seen

    def name_problem(self, node_id: str, name: str) -> str | None:
        """Why `name` cannot be this layer's name, in one sentence; None when it can (the rule
        is `layer_name_problem`, and a name no other layer has)."""
        node = self._nodes.get(node_id)
        current = node.name if node is not None else node_id
        if not name:
            return f"{current}: a layer needs a name."
        problem = layer_name_problem(name)
        if problem:
            return problem
        other = self.node_by_name(name)
        if other is not None and other.id != node_id:
            return f"The name {name!r} is taken by another layer: choose another."
        return None

    def unique_name(self, base: str, ignore: str | None = None) -> str:
        """`base`, numbered when another layer has it. One edit at a time: a loop over many
        layers keeps its own set of names and calls `free_name` (as `from_dict` does)."""
        return free_name(base, {n.name for n in self._nodes.values() if n.id != ignore})

    def new_id(self) -> str:
        while True:
            candidate = f"n{next(self._ids)}"
            if candidate not in self._nodes:
                return candidate

    # ----------------------------------------------------------------- mutations
    def add_node(
        self,
        class_name: str,
        config: dict[str, Any] | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
    ) -> Node:
        config = copy.deepcopy(config or {})
        node_id = node_id or self.new_id()
        if node_id in self._nodes:
            raise GraphError(f"A layer with id {node_id!r} already exists.")
        config["name"] = self.unique_name(config.get("name") or default_layer_name(class_name))
        node = Node(node_id, class_name, config, (float(position[0]), float(position[1])))
        self._nodes[node_id] = node
        self._emit("node_added", node)
        return node

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a layer and every edge touching it; returns both so undo can restore them."""
        node = self.node(node_id)
        touching = [e for e in self._edges if node_id in (e.source, e.target)]
        for e in touching:
            self.disconnect(e)
        del self._nodes[node_id]
        self._emit("node_removed", node)
        return node, touching

    def restore_node(self, node: Node, index: int | None = None) -> None:
        """Put a removed layer back, at its old place in the order (inputs and outputs of the
        model follow that order)."""
        if node.id in self._nodes:
            raise GraphError(f"A layer with id {node.id!r} already exists.")
        items = list(self._nodes.items())
        items.insert(len(items) if index is None else index, (node.id, node))
        self._nodes = dict(items)
        self._emit("node_added", node)

    def index_of(self, node_id: str) -> int:
        return list(self._nodes).index(node_id)

    def _index_edge(self, edge: Edge) -> None:
        self._incoming.setdefault(edge.target, []).append(edge)
        self._outgoing.setdefault(edge.source, []).append(edge)

    def edge_index(self, edge: Edge) -> int:
        return self._edges.index(edge)

    def restore_edge(self, edge: Edge, index: int | None = None) -> None:
        """Put a removed edge back where it was, after checking it is still allowed."""
        refusal = self.connection_refusal(edge.source, edge.target, edge.target_port)
        if refusal:
            raise refusal
        self._edges.insert(len(self._edges) if index is None else index, edge)
        self._index_edge(edge)
        self._emit("edge_added", edge)

    def connection_problem(
        self, source: str, target: str, target_port: int | None = None
    ) -> str | None:
        """Why ``source -> target`` may not be added, in plain words; None when it may."""
        refusal = self.connection_refusal(source, target, target_port)
        return str(refusal) if refusal else None

    def connection_refusal(
        self, source: str, target: str, target_port: int | None = None
    ) -> GraphError | None:
        """The specific error `connect` would raise (CycleError, DuplicateEdgeError, ...)."""
        if source not in self._nodes or target not in self._nodes:
            return UnknownNodeError("Both ends of a connection must be layers of this model.")
        src, dst = self._nodes[source], self._nodes[target]
        if source == target:
            return CycleError(f"{src.name} cannot feed itself.")
        if dst.is_input:
            return PortError(f"{dst.name} is an Input: it takes no incoming connection.")
        feeding = [e for e in self._incoming.get(target, ()) if e.source == source]
        # The same tensor may enter twice on purpose (self-attention: query = value), but only
        # on distinct ports; a repeat without a port named is almost always a slip of the mouse.
        if any(e.target_port == target_port for e in feeding) or (
            feeding and target_port is None and dst.class_name not in _SELF_INPUT_LAYERS
        ):
            return DuplicateEdgeError(f"{src.name} is already connected to {dst.name}.")
        if self._reaches(target, source):
            return CycleError(f"Connecting {src.name} to {dst.name} would make a cycle.")
        _, max_inputs = arity(dst)
        used = [e.target_port for e in self._incoming.get(target, ())]
        if max_inputs is not None and len(used) >= max_inputs:
            n = "input" if max_inputs == 1 else "inputs"
            return PortError(
                f"{dst.name} ({dst.class_name}) takes {max_inputs} {n} and already has {len(used)}."
            )
        if target_port is not None and target_port in used:
            return PortError(f"Input {target_port} of {dst.name} is already connected.")
        return None

    def next_free_port(self, target: str) -> int:
        used = {e.target_port for e in self._incoming.get(target, ())}
        return next(i for i in itertools.count() if i not in used)

    def connect(
        self, source: str, target: str, target_port: int | None = None, source_port: int = 0
    ) -> Edge:
        refusal = self.connection_refusal(source, target, target_port)
        if refusal:
            raise refusal
        port = self.next_free_port(target) if target_port is None else target_port
        edge = Edge(source, target, port, source_port)
        self._edges.append(edge)
        self._index_edge(edge)
        self._emit("edge_added", edge)
        return edge

    def disconnect(self, edge: Edge) -> None:
        if edge not in self._edges:
            raise GraphError(f"{edge.source} is not connected to {edge.target}.")
        self._edges.remove(edge)
        self._incoming[edge.target].remove(edge)
        self._outgoing[edge.source].remove(edge)
        self._emit("edge_removed", edge)

    def set_config(self, node_id: str, config: dict[str, Any]) -> dict[str, Any]:
        """Replace a layer's config; returns the old one. Names stay unique."""
        node = self.node(node_id)
        old = node.config
        new = copy.deepcopy(config)
        new["name"] = self.unique_name(
            new.get("name") or old.get("name") or node.id, ignore=node_id
        )
        node.config = new
        node.revision = next(_REVISIONS)
        self._emit("node_changed", node)
        return old

    def set_output(self, node_id: str, output: bool) -> bool:
        """Mark or unmark a layer as a model output; returns the old mark."""
        node = self.node(node_id)
        if node.is_input and output:
            raise GraphError(f"{node.name} is an Input and cannot be a model output.")
        old, node.output = node.output, bool(output)
        self._emit("node_changed", node)
        return old

    def move(self, node_id: str, position: tuple[float, float]) -> tuple[float, float]:
        node = self.node(node_id)
        old = node.position
        node.position = (float(position[0]), float(position[1]))
        self._emit("node_moved", node)
        return old

    # ----------------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [node_dict(n) for n in self._nodes.values()],
            "edges": [
                {"source": e.source, "target": e.target, "target_port": e.target_port}
                | ({"source_port": e.source_port} if e.source_port else {})
                for e in self._edges
            ],
        }

    def positions(self) -> dict[str, list[float]]:
        return {n.id: [n.position[0], n.position[1]] for n in self._nodes.values()}

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], positions: dict[str, Iterable[float]] | None = None
    ) -> Graph:
        """Build a graph from `to_dict` output. Raises GraphError on structural problems."""
        with collector_paused():
            return cls._from_dict(data, positions)

    @classmethod
    def _from_dict(
        cls, data: dict[str, Any], positions: dict[str, Iterable[float]] | None
    ) -> Graph:
        graph = cls()
        positions = positions or {}
        problem = size_problem(len(data.get("nodes", [])), len(data.get("edges", [])))
        if problem:
            raise GraphError(f"The model {problem}")
        # The names and edges so far, kept as sets: asking the graph for each node would make
        # loading quadratic (a 5,000-layer file took 50 s).
        names: set[str] = set()
        numbered: dict[str, tuple[str, int]] = {}
        defaults: dict[str, str] = {}  # by class: default_layer_name's regexes once per class
        listed: set[Edge] = set()
        for raw in data.get("nodes", []):
            pos = tuple(positions.get(raw["id"], (0.0, 0.0)))
            node = Node(raw["id"], raw["class_name"], _copied(raw.get("config") or {}))
            node.output = bool(raw.get("output", False)) and node.class_name != "InputLayer"
            node.module = _optional_text(raw, "module")
            node.shares = _optional_text(raw, "shares")
            if raw.get("call") is not None:
                if not isinstance(raw["call"], dict):
                    raise GraphError(f"Layer {node.id!r}: its call must be an object.")
                node.call = _copied(raw["call"])
            node.position = (float(pos[0]), float(pos[1]))
            if node.id in graph._nodes:
                raise GraphError(f"Two layers share the id {node.id!r}.")
            if "name" not in node.config:
                base = defaults.get(node.class_name)
                if base is None:
                    base = defaults[node.class_name] = default_layer_name(node.class_name)
                node.config["name"] = free_name(base, names, numbered)
            problem = layer_name_problem(node.config["name"])
            if problem:
                named = isinstance(node.config["name"], str) and node.config["name"]
                raise GraphError(problem if named else f"Layer {node.id!r}: {problem}")
            graph._nodes[node.id] = node
            names.add(node.config["name"])
        for raw in data.get("edges", []):
            edge = Edge(
                raw["source"],
                raw["target"],
                int(raw.get("target_port", 0)),
                int(raw.get("source_port", 0)),
            )
            for end in (edge.source, edge.target):
                if end not in graph._nodes:
                    raise GraphError(f"A connection refers to a layer {end!r} that does not exist.")
            if edge in listed:
                raise DuplicateEdgeError(f"{edge.source} -> {edge.target} is listed twice.")
            listed.add(edge)
            graph._edges.append(edge)
            graph._index_edge(edge)
        for node in graph._nodes.values():
            owner = graph._nodes.get(node.shares) if node.shares else None
            if node.shares and (
                owner is None or owner.shares or owner.class_name != node.class_name
            ):
                raise GraphError(
                    f"{node.name} calls the layer of {node.shares!r} again, which is not a "
                    "layer of the same class in this model."
                )
        graph.topological_order()  # raises on a cycle
        # Keep generated ids clear of the loaded ones.
        numbers = [int(m.group(1)) for nid in graph._nodes if (m := _GENERATED_ID.fullmatch(nid))]
        graph._ids = itertools.count(max(numbers, default=0) + 1)
        return graph

    def copy(self) -> Graph:
        return Graph.from_dict(self.to_dict(), self.positions())

    def snapshot(self) -> Graph:
        """A cheap detached copy for readers on another thread (shape inference, training).

        Node configs are shared, not copied: the graph never changes a config in place
        (`set_config` swaps in a new dict), so a snapshot stays as it was taken. Revisions are
        kept, so caches keyed on them still recognise unchanged layers.
        """
        other = Graph()
        other._nodes = {nid: copy.copy(n) for nid, n in self._nodes.items()}
        other._edges = list(self._edges)
        other._incoming = {k: list(v) for k, v in self._incoming.items()}
        other._outgoing = {k: list(v) for k, v in self._outgoing.items()}
        other._ids = itertools.count(len(self._nodes) + 1)
        return other
