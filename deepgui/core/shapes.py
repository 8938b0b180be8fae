"""Shape inference: every node's output shape and parameter count, and what is wrong where.

Keras does the arithmetic: each layer is instantiated from its config and called on symbolic
tensors of its input shapes, so shapes and counts are exactly Keras's own. Results are cached
per node under (revision, input shapes): after an edit only the edited node is recomputed, and
its descendants only while the shape it passes on has changed. Layers alike but for their name
(same class, settings and input shapes) ask Keras once: a generated or imported graph repeats a
few blocks many times, and Keras takes milliseconds per layer, so a 100,000-layer project is
inferred in seconds rather than in half an hour.
"""

from __future__ import annotations

import functools
import gc
import json
import re
from dataclasses import dataclass, field
from typing import Any

from deepgui.core import catalogue, node_kinds
from deepgui.core.backbones import weights_warnings
from deepgui.core.graph import Graph, Node, collector_paused, layer_name_problem
from deepgui.core.keras_layers import call_node, input_shape_of, keras, make_layer

Shape = tuple[int | None, ...]


@dataclass
class NodeInfo:
    """What inference learnt about one node."""

    output_shape: Shape | None = None
    params: int = 0
    trainable_params: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    input_shapes: tuple[Shape, ...] = ()
    # Every output's shape, by output port (an LSTM with return_state has three).
    output_shapes: tuple[Shape, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors and self.output_shape is not None

    def twin(self) -> NodeInfo:
        """A copy for a layer alike (its lists its own; shapes are tuples, shared)."""
        return NodeInfo(self.output_shape, self.params, self.trainable_params, [], [],
                        self.input_shapes, self.output_shapes)  # fmt: skip


def format_shape(shape: Shape | None) -> str:
    if type(shape) is tuple:
        return _format_tuple(shape)
    return _format_tuple(tuple(shape)) if shape is not None else "?"


@functools.lru_cache(maxsize=1024)  # a summary of many layers repeats a few shapes
def _format_tuple(shape: Shape) -> str:
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


class ShapeInference:
    """Keeps a graph's shapes current. Call `update()` after edits (cheap when little changed)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.info: dict[str, NodeInfo] = {}
        self._keys: dict[str, tuple] = {}
        # What Keras said of a layer, by `_likeness`: found for one layer, reused for its twins.
        self._alike: dict[tuple, NodeInfo] = {}
        self.recomputed = 0  # nodes recomputed by the last update, for tests and benchmarks
        self.asked_keras = 0  # of those, the ones Keras was asked about (no twin seen before)

    def update(self) -> dict[str, NodeInfo]:
        # No collector passes over the whole heap (TensorFlow's millions of objects) while the
        # walk makes its plain data; what Keras leaves is collected as it goes (`_infer`).
        with collector_paused():
            return self._update()

    def _update(self) -> dict[str, NodeInfo]:
        self.recomputed = self.asked_keras = 0
        graph = self.graph
        for gone in set(self.info) - set(graph.nodes):
            del self.info[gone]
            self._keys.pop(gone, None)
        try:
            order = graph.topological_order()
        except Exception as exc:  # a cycle: nothing downstream of it can be inferred
            for nid in graph.nodes:
                self.info[nid] = NodeInfo(errors=[str(exc)])
            self._keys.clear()
            return self.info
        for nid in order:
            node = graph.nodes[nid]
            in_shapes = tuple(
                _output_shape(self.info[e.source], e.source_port) for e in graph.in_edges(nid)
            )
            owner = graph.nodes.get(node.shares) if node.shares else None
            key = (node.revision, node.class_name, in_shapes, owner and owner.revision)
            if self._keys.get(nid) == key and nid in self.info:
                continue
            self.info[nid] = self._infer(node, in_shapes)
            self._keys[nid] = key
            self.recomputed += 1
        return self.info

    def _infer(self, node: Node, in_shapes: tuple[Shape | None, ...]) -> NodeInfo:
        """`infer_node`, or a copy of what it gave a twin of `node`. Only a clean answer is
        kept: errors and warnings name their layer."""
        likeness = _likeness(node, in_shapes)
        known = self._alike.get(likeness) if likeness is not None else None
        if known is not None:
            return known.twin()
        info = infer_node(self.graph, node, in_shapes)
        self.asked_keras += 1
        if self.asked_keras % _KERAS_CALLS_PER_COLLECTION == 0:
            # The layers Keras made are garbage with reference cycles, and the collector is
            # paused: the young objects alone are collected, not TensorFlow's whole heap.
            gc.collect(1)
        if likeness is not None and info.ok and not info.warnings:
            if len(self._alike) >= _MAX_ALIKE:  # an editing session's stale entries go
                self._alike.clear()
            self._alike[likeness] = info
        return info

    def total_params(self) -> int:
        return sum(i.params for i in self.info.values())

    def problems(self) -> list[tuple[str, str, str]]:
        """(node id, "error" | "warning", message) for every node, in graph order."""
        rows = []
        for nid in self.graph.nodes:
            info = self.info.get(nid)
            if info is None:
                continue
            rows += [(nid, "error", m) for m in info.errors]
            rows += [(nid, "warning", m) for m in info.warnings]
        return rows


# Entries kept by one ShapeInference, and the longest settings a key holds: a layer with a
# whole vocabulary inlined is rarely repeated, and not worth holding on to.
_MAX_ALIKE = 4096
_MAX_LIKENESS_TEXT = 4096
_KERAS_CALLS_PER_COLLECTION = 64


def _likeness(node: Node, in_shapes: tuple[Shape | None, ...]) -> tuple | None:
    """What Keras's answer about `node` depends on: its class, settings but its name, call and
    input shapes. None where no twin may stand in: an Input (no Keras call to save), a shared
    layer (its owner decides), a missing input shape, a name against the rule (the build
    refuses it), or settings too long or not JSON."""
    if node.is_input or node.shares or any(s is None for s in in_shapes):
        return None
    if layer_name_problem(node.name):
        return None
    settings = {k: v for k, v in node.config.items() if k != "name"}
    try:  # JSON tells true, 1 and 1.0 apart, and refuses a NumPy array (its repr abbreviates)
        text = json.dumps([settings, node.call])
    except (TypeError, ValueError):
        return None
    if len(text) > _MAX_LIKENESS_TEXT:
        return None
    return (node.class_name, node.module, text, in_shapes)


def _output_shape(info: NodeInfo, port: int) -> Shape | None:
    if not info.ok:
        return None
    shapes = info.output_shapes or (info.output_shape,)
    return shapes[port] if port < len(shapes) else None


def infer_node(graph: Graph, node: Node, in_shapes: tuple[Shape | None, ...]) -> NodeInfo:
    info = NodeInfo(input_shapes=tuple(s for s in in_shapes if s is not None))
    name = node.name
    owner = node
    if node.shares:
        owner = graph.nodes.get(node.shares)
        if owner is None:
            info.errors.append(
                f"{name} calls the layer of {node.shares!r} again, which is no longer in the "
                "model: delete it or wire a layer of its own."
            )
            return info
    info.errors += catalogue.config_problems(name, owner.class_name, owner.config)
    if node.is_input:
        try:
            shape = input_shape_of(node)
        except ValueError as exc:
            info.errors.append(str(exc))
            return info
        if any(d is not None and d <= 0 for d in shape[1:]):
            info.errors.append(
                f"{name}: every size of the input shape must be positive, not {format_shape(shape[1:])}."
            )
        if not info.errors:
            info.output_shape = shape
        return info
    low, high = node_kinds.arity(node)
    n = len(in_shapes)
    if n == 0:
        info.errors.append(f"{name} has no input: connect a layer or an Input to it.")
        return info
    if n < low:
        info.errors.append(
            f"{name} ({node.class_name}) needs at least {low} inputs but has {n}: connect another branch to it."
        )
        return info
    if high is not None and n > high:
        info.errors.append(f"{name} ({node.class_name}) takes at most {high} inputs but has {n}.")
        return info
    if info.errors or any(s is None for s in in_shapes):
        return info  # waiting for a valid upstream: the upstream node carries the error
    try:
        layer = make_layer(owner, list(in_shapes))
        k = keras()
        tensors = [k.KerasTensor(shape) for shape in in_shapes]
        out = call_node(layer, node, tensors)
    except Exception as exc:  # Keras says what is wrong; we say it in plain words
        info.errors.append(explain(node, in_shapes, exc))
        return info
    outs = list(out) if isinstance(out, list | tuple) else [out]
    shapes = tuple(tuple(o.shape) for o in outs if hasattr(o, "shape"))
    if not shapes:
        info.errors.append(f"{name} gives no tensor that a layer can take.")
        return info
    shape = shapes[0]
    if any(d is not None and d <= 0 for d in shape[1:]):
        info.errors.append(_too_small(node, in_shapes[0], shape))
        return info
    info.output_shape = shape
    info.output_shapes = shapes
    if not node.shares:  # a shared layer's weights are counted once, at its first use
        info.params = _count(getattr(layer, "weights", []))
        info.trainable_params = _count(getattr(layer, "trainable_weights", []))
    info.warnings += _advice(node, in_shapes)
    if node_kinds.kind(node) == node_kinds.BACKBONE:
        info.warnings += weights_warnings(node, in_shapes[0])
    return info


def _count(variables) -> int:
    return int(sum(_size(w.shape) for w in variables))


def _size(shape) -> int:
    total = 1
    for d in shape:
        total *= int(d)
    return total


def _advice(node: Node, in_shapes: tuple[Shape, ...]) -> list[str]:
    shape = in_shapes[0]
    if node.class_name == "Dense" and len(shape) >= 4:
        return [
            f"{node.name} expects a flat vector but receives {format_shape(shape)}: "
            "insert Flatten or GlobalAveragePooling2D before it."
        ]
    return []


def _too_small(node: Node, in_shape: Shape | None, out_shape: Shape | None) -> str:
    window = (
        node.config.get("kernel_size")
        or node.config.get("pool_size")
        or node.config.get("cropping")
    )
    spatial = format_shape(in_shape[1:-1]) if in_shape else "?"
    what = (
        "kernel_size"
        if "kernel_size" in node.config
        else "pool_size"
        if "pool_size" in node.config
        else "window"
    )
    leaving = f", leaving an output of {format_shape(out_shape)}" if out_shape else ""
    return (
        f"{node.name}: its {what} {_fmt(window)} is larger than its input {spatial}{leaving}: "
        f"use padding='same', a smaller {what}, or fewer pooling layers before it."
    )


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


_RANK_NEEDS = {
    3: "a sequence (batch, steps, features)",
    4: "images (batch, height, width, channels)",
    5: "volumes (batch, depth, height, width, channels)",
}

_RANK_FIX = {
    3: "feed it from an Embedding, a sequence Input, or a recurrent layer with return_sequences=True",
    4: "feed it from an Input of shape (height, width, channels), or add a Reshape before it",
    5: "feed it from an Input of shape (depth, height, width, channels)",
}


def explain(node: Node, in_shapes: tuple[Shape, ...], exc: Exception) -> str:
    """Keras's error about one layer, as one plain sentence naming the layer and the fix."""
    text = str(exc)
    name = node.name
    received = " and ".join(format_shape(s) for s in in_shapes)
    if "Could not locate class" in text or "Unknown layer" in text:
        return f"{name}: {node.class_name} is not a layer this version of Keras knows."
    m = re.search(r"expected (?:min_)?ndim=(\d+), found ndim=(\d+)", text)
    if m:
        want = int(m.group(1))
        need = _RANK_NEEDS.get(want, f"inputs of rank {want}")
        fix = _RANK_FIX.get(want, "reshape its input")
        return f"{name} expects {need} but receives {received}: {fix}."
    if re.search(r"would be (zero or )?negative", text) or "negative dimension" in text.lower():
        return _too_small(node, in_shapes[0], None)
    if node.class_name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
        return (
            f"{name} needs inputs of the same shape but receives {received}: make the branches "
            "agree (for example a Dense or a 1x1 Conv2D on one of them)."
        )
    if node.class_name == "Concatenate":
        return (
            f"{name} can only join inputs that agree on every axis but the one it joins on "
            f"(axis {node.config.get('axis', -1)}); it receives {received}."
        )
    if node.class_name == "Reshape":
        return f"{name} cannot reshape {received} into {node.config.get('target_shape')}: the total size must stay the same."
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    first = re.sub(r"\s+", " ", first)
    if len(first) > 240:
        first = first[:237] + "..."
    return f"{name} cannot take {received}: {first}"


def trainable_split(info: dict[str, NodeInfo]) -> tuple[int, int, int]:
    """(total, trainable, non-trainable) parameters, as ``model.summary()`` counts them."""
    total = sum(i.params for i in info.values())
    trainable = sum(i.trainable_params for i in info.values())
    return total, trainable, total - trainable


def summary_rows(graph: Graph, info: dict[str, NodeInfo]) -> list[dict[str, Any]]:
    """One row per layer, like ``model.summary()``: name, type, output shape, params, inputs."""
    rows = []
    for nid in _safe_order(graph):
        node = graph.nodes[nid]
        i = info.get(nid) or NodeInfo()
        rows.append(
            {
                "id": nid,
                "name": node.name,
                "type": node_kinds.type_label(node),
                "output_shape": format_shape(i.output_shape),
                "params": i.params,
                "trainable": i.trainable_params,
                "connected_to": [graph.nodes[p].name for p in graph.predecessors(nid)],
            }
        )
    return rows


def _safe_order(graph: Graph) -> list[str]:
    try:
        return graph.topological_order()
    except Exception:
        return list(graph.nodes)
