"""Remedies for overfitting, ranked for one model, each a one-click undoable edit.

A remedy's `command(project)` returns a `Macro` to push on ``project.undo``: graph edits from
deepgui.core.commands plus, for early stopping, a `SetFields` step on the project's training
settings (undo restores exactly the keys it changed, so later edits of others survive).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deepgui.core.catalogue import regularizer
from deepgui.core.commands import (
    AddNode,
    Command,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    SetFields,
    set_params,
)
from deepgui.core.graph import Graph, Node
from deepgui.core.placement import GAP_Y, NODE_HEIGHT, make_room

_AUGMENTATION = ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomCrop")


@dataclass
class RemedyEdit(Macro):
    """A remedy's edit on the undo stack. It knows whether it is in effect, so the banner can
    say "applied" only while it is (undo takes the word back, redo gives it again)."""

    in_effect: bool = False

    def redo(self, graph: Graph) -> None:
        super().redo(graph)
        self.in_effect = True

    def undo(self, graph: Graph) -> None:
        super().undo(graph)
        self.in_effect = False


@dataclass
class Remedy:
    key: str  # dropout | l2 | early_stopping | augmentation | smaller_model
    title: str
    explanation: str
    score: float
    build: Callable[[Any], Macro] = field(repr=False)

    def command(self, project) -> Macro:
        """The edit for the project as it is now (build it at click time, not earlier)."""
        return self.build(project)

    def apply(self, project) -> RemedyEdit:
        """Push the edit on the project's undo stack: one step to undo."""
        edit = self.command(project)
        return project.undo.push(RemedyEdit(list(edit.commands), text=edit.text))


# ----------------------------------------------------------------------------- model facts
def hidden_dense(graph: Graph) -> list[Node]:
    """Dense layers that feed other layers (not the output), widest first."""
    outputs = {n.id for n in graph.output_nodes()}
    found = [n for n in graph if n.class_name == "Dense" and n.id not in outputs]
    return sorted(found, key=lambda n: -int(n.config.get("units", 0) or 0))


def _followed_by_dropout(graph: Graph, node: Node) -> bool:
    succ = [graph.node(s) for s in graph.successors(node.id)]
    return bool(succ) and all(s.class_name in ("Dropout", "SpatialDropout2D") for s in succ)


def image_inputs(graph: Graph) -> list[Node]:
    out = []
    for n in graph.input_nodes():
        shape = n.config.get("shape") or (n.config.get("batch_shape") or [None])[1:]
        if isinstance(shape, list | tuple) and len(shape) == 3:
            out.append(n)
    return out


def _insert_chain_after(
    graph: Graph,
    node: Node,
    layers: list[tuple[str, dict]],
    positions: dict[str, tuple[float, float]],
) -> list[Command]:
    """node -> l1 -> l2 -> ... -> former successors, the new layers stacked in the node's
    column and the layers below moved down to make room for them. `positions` is the canvas
    as the steps so far leave it (several inserts go into one step): it is updated here."""
    ids = [graph.new_id() for _ in layers]  # the counter advances: distinct, unused ids
    x, y = positions[node.id]
    pitch = NODE_HEIGHT + GAP_Y
    (x, top), moves = make_room(positions, x, y + pitch, len(layers) * pitch - GAP_Y)
    steps: list[Command] = [MoveNodes(moves)] if moves else []
    positions.update(moves)
    for i, ((cls, cfg), nid) in enumerate(zip(layers, ids, strict=True)):
        positions[nid] = (x, top + i * pitch)
        steps.append(AddNode(cls, cfg, positions[nid], node_id=nid))
    for edge in graph.out_edges(node.id):
        steps += [Disconnect(edge), Connect(ids[-1], edge.target, edge.target_port)]
    steps.append(Connect(node.id, ids[0], 0))
    steps += [Connect(a, b, 0) for a, b in zip(ids, ids[1:], strict=False)]
    return steps


def _canvas(graph: Graph) -> dict[str, tuple[float, float]]:
    return {n.id: n.position for n in graph}


# ----------------------------------------------------------------------------- builders
def _dropout(project, rate: float = 0.3) -> Macro:
    graph = project.graph
    steps: list[Command] = []
    targets = [n for n in hidden_dense(graph) if not _followed_by_dropout(graph, n)][:2]
    if not targets:  # e.g. a CNN with no hidden Dense: regularise right before the output
        outs = [graph.node(p) for o in graph.output_nodes() for p in graph.predecessors(o.id)]
        targets = [n for n in outs if not n.is_input][:1]
    positions = _canvas(graph)
    for node in targets:
        steps += _insert_chain_after(graph, node, [("Dropout", {"rate": rate})], positions)
    return Macro(steps, text="Add dropout")


def _l2(project, factor: float = 1e-4) -> Macro:
    graph = project.graph
    reg = regularizer("L2", l2=factor)
    steps = [set_params(graph, n.id, kernel_regularizer=reg) for n in hidden_dense(graph)[:2]]
    return Macro(steps, text="Add L2 regularisation")


def _early_stopping(project) -> Macro:
    stopping = {**(project.training.get("early_stopping") or {}), "enabled": True,
                "monitor": "val_loss", "patience": 5, "restore_best_weights": True}  # fmt: skip
    step = SetFields(project.training, {"early_stopping": stopping}, "Turn on early stopping")
    return Macro([step], text="Turn on early stopping")


def _augmentation(project) -> Macro:
    graph = project.graph
    steps: list[Command] = []
    positions = _canvas(graph)
    for node in image_inputs(graph):
        steps += _insert_chain_after(
            graph,
            node,
            [("RandomRotation", {"factor": 0.05}), ("RandomZoom", {"height_factor": 0.1})],
            positions,
        )
    return Macro(steps, text="Add data augmentation")


def _smaller(project) -> Macro:
    graph = project.graph
    steps = []
    for n in hidden_dense(graph)[:2]:
        units = max(1, int(n.config.get("units", 2)) // 2)
        steps.append(set_params(graph, n.id, units=units))
    for n in graph:
        if n.class_name in ("Conv1D", "Conv2D", "Conv3D") and int(n.config.get("filters", 1)) > 4:
            steps.append(set_params(graph, n.id, filters=int(n.config["filters"]) // 2))
    return Macro(steps, text="Halve the model's width")


# ----------------------------------------------------------------------------- ranking
def suggest_remedies(
    project, num_train: int | None = None, num_params: int | None = None
) -> list[Remedy]:
    """Remedies that apply to this project's model, best first."""
    graph, training = project.graph, project.training
    dense = hidden_dense(graph)
    big = bool(num_train and num_params and num_params > 10 * num_train)
    out: list[Remedy] = []
    undropped = [n for n in dense if not _followed_by_dropout(graph, n)]
    has_dropout = any(n.class_name.endswith("Dropout") for n in graph)
    if undropped or not has_dropout:
        names = ", ".join(n.name for n in undropped[:2]) or "the layer before the output"
        out.append(Remedy("dropout", "Add dropout",
                          f"Insert Dropout(0.3) after {names}: it stops units relying on each other.",
                          3.0 + (0.5 if big else 0.0), _dropout))  # fmt: skip
    if not (training.get("early_stopping") or {}).get("enabled"):
        out.append(Remedy("early_stopping", "Stop early",
                          "Stop when validation loss has not improved for 5 epochs and keep the "
                          "best weights.", 2.5, _early_stopping))  # fmt: skip
    if image_inputs(graph) and not any(n.class_name in _AUGMENTATION for n in graph):
        out.append(Remedy("augmentation", "Augment the images",
                          "Insert RandomRotation and RandomZoom after the input: the model sees "
                          "new variants of each image every epoch.", 2.8 if big else 2.2,
                          _augmentation))  # fmt: skip
    unregularised = [n for n in dense[:2] if not n.config.get("kernel_regularizer")]
    if unregularised:
        out.append(Remedy("l2", "Add L2 regularisation",
                          f"Penalise large weights in {', '.join(n.name for n in unregularised)} "
                          "(L2 = 1e-4).", 2.0, _l2))  # fmt: skip
    convs = [n for n in graph if n.class_name.startswith("Conv")]
    if dense or convs:
        out.append(Remedy("smaller_model", "Use a smaller model",
                          "Halve the units of the widest layers: fewer parameters to memorise "
                          "the training set with.", 2.7 if big else 1.0, _smaller))  # fmt: skip
    return sorted(out, key=lambda r: -r.score)
