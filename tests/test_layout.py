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
    assert time.perf_counter() - start < 5.0


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
