"""Edits the canvas offers that combine several core commands: copy and paste, duplicate,
delete a selection, and auto-layout. Plain functions over the graph (no Qt), so tests can call
them directly."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from deepgui.core.commands import (
    AddNode,
    Command,
    Connect,
    Disconnect,
    Macro,
    MoveNodes,
    remove_nodes,
)
from deepgui.core.graph import Edge, Graph

CLIPBOARD_MIME = "application/x-deepgui-layers"
LAYER_MIME = "application/x-deepgui-layer"


def copy_selection(graph: Graph, node_ids: Iterable[str]) -> str:
    """The selected layers and the connections among them, as JSON text."""
    ids = [nid for nid in graph.nodes if nid in set(node_ids)]
    nodes = [
        {"id": nid, "class_name": graph.nodes[nid].class_name, "config": copy.deepcopy(graph.nodes[nid].config),
         "position": list(graph.nodes[nid].position)}
        for nid in ids
    ]  # fmt: skip
    edges = [
        {"source": e.source, "target": e.target, "target_port": e.target_port}
        for e in graph.edges
        if e.source in ids and e.target in ids
    ]
    return json.dumps({"format": "deepgui-layers", "nodes": nodes, "edges": edges})


def paste_command(
    graph: Graph, text: str, offset: tuple[float, float] = (40.0, 40.0)
) -> Macro | None:
    """Add copies of pasted layers (fresh ids, unique names) and their inner connections."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("format") != "deepgui-layers"
        or not data.get("nodes")
    ):
        return None
    mapping: dict[str, str] = {}
    commands: list[Command] = []
    for raw in data["nodes"]:
        new_id = graph.new_id()
        mapping[raw["id"]] = new_id
        x, y = raw.get("position", (0.0, 0.0))
        config = dict(raw.get("config") or {})
        config.pop("name", None)  # the core picks a unique name from the layer type
        base = raw.get("config", {}).get("name")
        if base:
            config["name"] = graph.unique_name(base)
        commands.append(AddNode(raw["class_name"], config, (x + offset[0], y + offset[1]), new_id))
    for raw in data.get("edges", []):
        if raw["source"] in mapping and raw["target"] in mapping:
            commands.append(
                Connect(mapping[raw["source"]], mapping[raw["target"]], raw.get("target_port"))
            )
    return Macro(commands, text="Paste")


def pasted_ids(command: Macro) -> list[str]:
    return [c.node_id for c in command.commands if isinstance(c, AddNode)]


def delete_command(
    graph: Graph, node_ids: Iterable[str], edges: Iterable[Edge] = ()
) -> Macro | None:
    """Remove selected connections, then selected layers (with their own connections)."""
    node_ids = [nid for nid in node_ids if nid in graph.nodes]
    loose = [
        e
        for e in edges
        if e.source not in node_ids and e.target not in node_ids and e in graph.edges
    ]
    if not node_ids and not loose:
        return None
    commands: list[Command] = [Disconnect(e) for e in loose]
    if node_ids:
        commands.append(remove_nodes(graph, node_ids))
    return Macro(commands, text="Delete")


def delete_and_reconnect_command(graph: Graph, node_ids: Iterable[str]) -> Macro | None:
    """Delete layers and keep the chain whole: whatever each deleted layer fed now reads from
    what fed it (its first input, through other deleted layers), on the same ports. A
    connection the graph would refuse (an Input, a full merge) is left out; the rest go in.
    One undo step. None when nothing is selected."""
    ids = [nid for nid in graph.topological_order() if nid in set(node_ids)]
    if not ids:
        return None
    gone = set(ids)

    def feeder(nid: str) -> str | None:  # what feeds `nid` once the deleted layers are gone
        while nid in gone:
            first = sorted(graph.in_edges(nid), key=lambda e: e.target_port)
            if not first:
                return None
            nid = first[0].source
        return nid

    after = graph.snapshot()
    for nid in ids:
        after.remove_node(nid)
    links: list[Command] = []
    for nid in ids:
        source = feeder(nid)
        for edge in graph.out_edges(nid):
            if source is None or edge.target in gone:
                continue
            if after.connection_problem(source, edge.target, edge.target_port) is None:
                after.connect(source, edge.target, edge.target_port)
                links.append(Connect(source, edge.target, edge.target_port))
    return Macro([remove_nodes(graph, ids), *links], text="Delete and reconnect")


def layout_command(graph: Graph) -> Command | None:
    """Auto-layout as one undoable move (the core's layered layout); None when nothing moves."""
    from deepgui.core.layout import layout_command as core_layout

    command = core_layout(graph)
    moved = any(tuple(graph.nodes[n].position) != tuple(p) for n, p in command.positions.items())
    return command if moved else None


def add_after_command(
    graph: Graph, source_id: str, class_name: str, config: dict[str, Any], new_id: str
) -> Macro:
    """A layer added after the selected one (Ctrl+K, double-click in the palette): one row
    below it and connected from it. When the selected layer feeds exactly one other, the new
    layer goes in between, as dropping it on that connection would; the layers below move
    down to make room. One undo step."""
    from deepgui.core.catalogue import input_arity
    from deepgui.core.layout import GAP_Y, NODE_HEIGHT, make_room

    x, y = graph.node(source_id).position
    positions = {n.id: n.position for n in graph}
    (x, y), moves = make_room(positions, x, y + NODE_HEIGHT + GAP_Y)
    steps: list[Command] = [MoveNodes(moves)] if moves else []
    steps.append(AddNode(class_name, config, (x, y), new_id))
    if input_arity(class_name)[1] != 0:  # an Input takes no connection
        outgoing = graph.out_edges(source_id)
        if len(outgoing) == 1:
            edge = outgoing[0]
            steps += [Disconnect(edge), Connect(new_id, edge.target, edge.target_port)]
        steps.append(Connect(source_id, new_id, 0))
    return Macro(steps, text=f"Add {class_name}")


def default_config(class_name: str) -> dict[str, Any]:
    from deepgui.core import catalogue

    spec = catalogue.get(class_name)
    return spec.default_config() if spec else {}
