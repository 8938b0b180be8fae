"""Where layers' boxes go on the canvas: the one size every box takes, the automatic layered
layout (inputs on top, every edge pointing down, no two boxes overlapping), room for a layer put
among others, and a free spot for a new one.

Each node goes to the row of its longest path from a source (so an edge always descends at least
one row); inside a row, nodes are ordered by the barycentre of their neighbours in the rows above
and below, a few sweeps each way, which removes most edge crossings. Positions are the top-left
corners of fixed-size boxes.

Plain geometry on the graph, below the commands (inserting a layer makes room with it) and the
model importer (an imported model is laid out with it); `layout` makes the layout an undoable
command.
"""

from __future__ import annotations

from deepgui.core.graph import Graph

# The box every layer takes on the canvas: the one size the layout, the inserting commands and
# the canvas's items all use, so laid-out and inserted layers never overlap on screen.
NODE_WIDTH = 230.0
NODE_HEIGHT = 78.0
GAP_X = 40.0
GAP_Y = 60.0
SWEEPS = 4


def layers_by_depth(graph: Graph) -> list[list[str]]:
    """Rows of node ids by longest-path depth from a source (inputs are sources: row 0)."""
    depth: dict[str, int] = {}
    for nid in graph.topological_order():
        depth[nid] = max((depth[p] + 1 for p in graph.predecessors(nid)), default=0)
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for nid in graph.nodes:  # node order: a stable first guess for the ordering sweeps
        rows[depth[nid]].append(nid)
    return rows


def _order_rows(graph: Graph, rows: list[list[str]]) -> list[list[str]]:
    parents = {nid: graph.predecessors(nid) for nid in graph.nodes}
    children = {nid: graph.successors(nid) for nid in graph.nodes}
    rows = [list(r) for r in rows]

    def centred(row: list[str]) -> dict[str, float]:
        # Rows are drawn centred, so compare slots measured from each row's middle.
        middle = (len(row) - 1) / 2
        return {nid: i - middle for i, nid in enumerate(row)}

    def sweep(indices: range, neighbours: dict[str, list[str]]) -> None:
        place = {nid: x for row in rows for nid, x in centred(row).items()}
        for r in indices:
            keyed = []
            for nid in rows[r]:
                near = neighbours[nid]
                # A node without neighbours that way keeps its slot.
                here = sum(place[n] for n in near) / len(near) if near else place[nid]
                keyed.append((here, place[nid], nid))
            rows[r] = [nid for _, _, nid in sorted(keyed)]
            place.update(centred(rows[r]))

    for _ in range(SWEEPS):
        sweep(range(1, len(rows)), parents)
        sweep(range(len(rows) - 2, -1, -1), children)
    return rows


def auto_layout(graph: Graph) -> dict[str, tuple[float, float]]:
    """Top-left corner of every node's box: rows top to bottom, each row centred."""
    if not graph.nodes:
        return {}
    rows = _order_rows(graph, layers_by_depth(graph))
    pitch_x = NODE_WIDTH + GAP_X
    pitch_y = NODE_HEIGHT + GAP_Y
    widest = max(len(r) for r in rows)
    positions: dict[str, tuple[float, float]] = {}
    for r, row in enumerate(rows):
        offset = (widest - len(row)) * pitch_x / 2
        for i, nid in enumerate(row):
            positions[nid] = (offset + i * pitch_x, r * pitch_y)
    return positions


def make_room(
    positions: dict[str, tuple[float, float]],
    x: float,
    y: float,
    height: float = NODE_HEIGHT,
) -> tuple[tuple[float, float], dict[str, tuple[float, float]]]:
    """Room for a new box `height` tall (one layer, or a stack of them) whose top-left corner
    is wanted at (x, y), among the layers at `positions` (top-left corners).

    The box first moves down below any layer above it that it would touch; then every layer
    whose top is at or below the box's top moves down by one amount, as a block, until the
    highest of them is GAP_Y below the box. Moving everything below by one amount keeps rows
    in line and cannot make two moved layers meet; layers above never move. Returns the box's
    top-left corner and the new positions of the layers that move (none when it already fits).
    """

    def beside(px: float) -> bool:  # horizontally within a gap of the box
        return px < x + NODE_WIDTH + GAP_X and x < px + NODE_WIDTH + GAP_X

    moved = True
    while moved:  # y only grows, so this ends
        moved = False
        for px, py in positions.values():
            if py < y < py + NODE_HEIGHT + GAP_Y and beside(px):
                y, moved = py + NODE_HEIGHT + GAP_Y, True
    below = {nid: p for nid, p in positions.items() if p[1] >= y}
    if not below:
        return (x, y), {}
    dy = y + height + GAP_Y - min(py for _, py in below.values())
    if dy <= 0:
        return (x, y), {}
    return (x, y), {nid: (px, py + dy) for nid, (px, py) in below.items()}


def free_spot(positions: dict[str, tuple[float, float]], x: float, y: float) -> tuple[float, float]:
    """(x, y), or the nearest spot to its right where a box touches no layer (a layer added
    with nothing selected goes to the middle of the view, which may hold one already)."""

    def touches(px: float, py: float) -> bool:
        return abs(px - x) < NODE_WIDTH + GAP_X / 2 and abs(py - y) < NODE_HEIGHT + GAP_Y / 2

    while any(touches(px, py) for px, py in positions.values()):
        x = max(px for px, py in positions.values() if touches(px, py)) + NODE_WIDTH + GAP_X
    return x, y
