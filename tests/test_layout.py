"""Auto-layout: no overlapping boxes, edges pointing down, inputs on top, undoable."""

from __future__ import annotations

import random
import time

import pytest

from deepgui.core.commands import UndoStack
from deepgui.core.graph import Graph
from deepgui.core.layout import (
    NODE_HEIGHT,
    NODE_WIDTH,
    auto_layout,
    layers_by_depth,
    layout_command,
)
from tests.machine import within


def chain(n: int) -> Graph:
    g = Graph()
    prev = g.add_node("InputLayer", {"shape": [4]})
    for _ in range(n):
        node = g.add_node("Dense", {"units": 4})
        g.connect(prev.id, node.id)
        prev = node
    return g


def wide(branches: int) -> Graph:
    g = Graph()
    inp = g.add_node("InputLayer", {"shape": [4]})
    merge = g.add_node("Concatenate", {})
    for _ in range(branches):
        a = g.add_node("Dense", {"units": 4})
        b = g.add_node("Dense", {"units": 4})
        g.connect(inp.id, a.id)
        g.connect(a.id, b.id)
        g.connect(b.id, merge.id)
    return g


def random_dag(n: int, seed: int) -> Graph:
    """Nodes in a random order, each fed by 1-3 earlier ones (merges take several)."""
    rng = random.Random(seed)
    g = Graph()
    ids = [g.add_node("InputLayer", {"shape": [4]}).id for _ in range(3)]
    for _ in range(n - 3):
        parents = rng.sample(ids, k=min(len(ids), rng.choice([1, 1, 2, 3])))
        node = g.add_node("Concatenate" if len(parents) > 1 else "Dense", {})
        for port, parent in enumerate(parents):
            g.connect(parent, node.id, port)
        ids.append(node.id)
    return g


def assert_valid(graph: Graph, positions: dict[str, tuple[float, float]]) -> None:
    assert set(positions) == set(graph.nodes)
    # Sorting by (y, x) turns the all-pairs check into neighbours within a row.
    boxes = sorted(positions.values(), key=lambda p: (p[1], p[0]))
    for (x1, y1), (x2, y2) in zip(boxes, boxes[1:], strict=False):
        assert abs(y1 - y2) >= NODE_HEIGHT or abs(x1 - x2) >= NODE_WIDTH
    ys = sorted({p[1] for p in positions.values()})
    assert all(b - a >= NODE_HEIGHT for a, b in zip(ys, ys[1:], strict=False))
    for e in graph.edges:
        assert positions[e.target][1] > positions[e.source][1], e
    top = min(p[1] for p in positions.values())
    for node in graph.input_nodes():
        assert positions[node.id][1] == top


@pytest.mark.parametrize(
    "graph",
    [chain(1), chain(30), wide(12), random_dag(60, 1), random_dag(500, 2)],
    ids=["chain1", "chain30", "wide", "dag60", "dag500"],
)
def test_no_overlap_and_edges_go_down(graph):
    assert_valid(graph, auto_layout(graph))


def test_chain_is_a_straight_column():
    g = chain(5)
    xs = {p[0] for p in auto_layout(g).values()}
    assert len(xs) == 1


def test_rows_are_longest_path_depths():
    g = Graph()
    inp = g.add_node("InputLayer", {"shape": [4]})
    a = g.add_node("Dense", {"units": 4})
    b = g.add_node("Dense", {"units": 4})
    add = g.add_node("Add", {})
    g.connect(inp.id, a.id)
    g.connect(a.id, b.id)
    g.connect(inp.id, add.id, 0)  # the skip connection: add still goes below b
    g.connect(b.id, add.id, 1)
    assert layers_by_depth(g) == [[inp.id], [a.id], [b.id], [add.id]]


def test_barycentre_untangles_crossed_branches():
    # Two independent chains whose second rows are created in the crossed order.
    g = Graph()
    i1 = g.add_node("InputLayer", {"shape": [4]})
    i2 = g.add_node("InputLayer", {"shape": [4]})
    b2 = g.add_node("Dense", {"units": 4})
    b1 = g.add_node("Dense", {"units": 4})
    g.connect(i1.id, b1.id)
    g.connect(i2.id, b2.id)
    pos = auto_layout(g)
    assert (pos[i1.id][0] < pos[i2.id][0]) == (pos[b1.id][0] < pos[b2.id][0])


def test_layout_command_is_undoable():
    g = wide(3)
    before = {nid: n.position for nid, n in g.nodes.items()}
    stack = UndoStack(g)
    stack.push(layout_command(g))
    after = {nid: n.position for nid, n in g.nodes.items()}
    assert after != before
    assert_valid(g, after)
    stack.undo()
    assert {nid: n.position for nid, n in g.nodes.items()} == before
    assert stack.undo_text() == ""


def test_empty_graph():
    assert auto_layout(Graph()) == {}


def test_500_nodes_is_quick():
    g = random_dag(500, 3)
    start = time.perf_counter()
    auto_layout(g)
    assert time.perf_counter() - start < within(5.0)


def test_import_modules_stay_light():
    """Importing the importer, weights, layout and codegen loads neither Keras nor h5py."""
    import subprocess
    import sys

    code = (
        "import sys; import deepgui.core.keras_import, deepgui.core.weights, "
        "deepgui.core.layout, deepgui.core.codegen; "
        "print(sorted(m for m in ('keras', 'tensorflow', 'h5py', 'PySide6') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def crossings(graph: Graph, positions: dict[str, tuple[float, float]]) -> int:
    """Pairs of edges between the same two rows whose ends swap sides."""
    ends = [(positions[e.source], positions[e.target]) for e in graph.edges]
    count = 0
    for i, (a1, b1) in enumerate(ends):
        for a2, b2 in ends[i + 1 :]:
            if a1[1] == a2[1] and b1[1] == b2[1] and (a1[0] - a2[0]) * (b1[0] - b2[0]) < 0:
                count += 1
    return count


def test_ordering_removes_most_crossings():
    g = random_dag(120, 5)
    unordered = {}
    for r, row in enumerate(layers_by_depth(g)):
        for i, nid in enumerate(row):
            unordered[nid] = (i * 1000.0 - len(row) * 500.0, r * 1000.0)
    before, after = crossings(g, unordered), crossings(g, auto_layout(g))
    assert before > 0 and after < 0.7 * before


def overlapping(positions: dict[str, tuple[float, float]]) -> list[tuple[str, str]]:
    items = list(positions.items())
    return [(a, b) for i, (a, (xa, ya)) in enumerate(items) for b, (xb, yb) in items[i + 1 :]
            if abs(xa - xb) < NODE_WIDTH and abs(ya - yb) < NODE_HEIGHT]  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_inserting_on_any_edge_of_a_laid_out_graph_overlaps_nothing(seed):
    from deepgui.core.commands import insert_on_edge

    rng = random.Random(seed)
    g = random_dag(25, seed)
    for nid, pos in auto_layout(g).items():
        g.move(nid, pos)
    stack = UndoStack(g)
    before = g.positions()
    for _ in range(5):  # dropped somewhere along a random connection, five times over
        edge = rng.choice(g.edges)
        (x0, y0), (x1, y1) = g.node(edge.source).position, g.node(edge.target).position
        t = rng.random()
        drop = (x0 + t * (x1 - x0) + rng.uniform(-30, 30), y0 + t * (y1 - y0) + NODE_HEIGHT)
        stack.push(insert_on_edge(g, edge, "Dense", {"units": 2}, drop))
        assert overlapping({n.id: n.position for n in g}) == []
    for _ in range(5):
        stack.undo()
    assert g.positions() == before


def test_make_room_moves_everything_below_as_one_block():
    from deepgui.core.layout import GAP_Y, make_room

    pitch = NODE_HEIGHT + GAP_Y
    column = {
        "a": (0.0, 0.0),
        "b": (0.0, pitch),
        "side": (600.0, pitch + 10),
        "c": (0.0, 2 * pitch),
    }
    # Wanted on top of b: it goes below a, and b, c and the layer beside them move one row.
    spot, moves = make_room(column, 5.0, 20.0)
    assert spot == (5.0, pitch)
    assert moves == {"b": (0.0, 2 * pitch), "side": (600.0, 2 * pitch + 10),
                     "c": (0.0, 3 * pitch)}  # fmt: skip
    # Room for two stacked layers; nothing moves when there is room already.
    assert make_room(column, 0.0, pitch, 2 * NODE_HEIGHT + GAP_Y)[1]["b"] == (0.0, 3 * pitch)
    assert make_room({"a": (0.0, 0.0)}, 0.0, 400.0) == ((0.0, 400.0), {})


def test_free_spot_steps_right_of_layers_in_the_way():
    from deepgui.core.layout import GAP_X, free_spot

    taken = {"a": (0.0, 0.0), "b": (NODE_WIDTH + GAP_X, 10.0)}
    assert free_spot(taken, 20.0, 5.0) == (2 * (NODE_WIDTH + GAP_X), 5.0)
    assert free_spot(taken, 0.0, 500.0) == (0.0, 500.0)
