import pytest

from deepgui.core.errors import (
    CycleError,
    DuplicateEdgeError,
    GraphError,
    PortError,
    UnknownNodeError,
)
from deepgui.core.graph import Graph, default_layer_name
from tests.helpers import add


def test_names_follow_keras_and_stay_unique():
    g = Graph()
    a = add(g, "Conv2D")
    b = add(g, "Conv2D")
    c = add(g, "MaxPooling2D")
    assert (a.name, b.name, c.name) == ("conv2d", "conv2d_1", "max_pooling2d")
    assert default_layer_name("Conv2DTranspose") == "conv2d_transpose"
    assert default_layer_name("InputLayer") == "input"


def test_cycle_is_refused_with_reason():
    g = Graph()
    a, b, c = add(g, "Dense"), add(g, "Dense"), add(g, "Dense")
    g.connect(a.id, b.id)
    g.connect(b.id, c.id)
    reason = g.connection_problem(c.id, a.id)
    assert reason and "cycle" in reason
    with pytest.raises(CycleError, match="cycle"):
        g.connect(c.id, a.id)
    assert len(g.edges) == 2


def test_duplicate_edge_and_too_many_inputs_and_input_target():
    g = Graph()
    i = add(g, "InputLayer")
    a, b = add(g, "Dense"), add(g, "Dense")
    g.connect(a.id, b.id)
    assert "already connected" in g.connection_problem(a.id, b.id)
    assert "takes 1 input" in g.connection_problem(i.id, b.id)
    assert "takes no incoming" in g.connection_problem(a.id, i.id)
    assert "itself" in g.connection_problem(a.id, a.id)
    with pytest.raises(DuplicateEdgeError):
        g.connect(a.id, b.id)
    with pytest.raises(PortError):
        g.connect(i.id, b.id)
    with pytest.raises(UnknownNodeError):
        g.node("zz")


def test_merge_takes_many_inputs_in_port_order():
    g = Graph()
    ins = [add(g, "InputLayer") for _ in range(4)]
    cat = add(g, "Concatenate")
    for n in reversed(ins):
        g.connect(n.id, cat.id)
    assert g.predecessors(cat.id) == [n.id for n in reversed(ins)]
    assert [e.target_port for e in g.in_edges(cat.id)] == [0, 1, 2, 3]


def test_remove_node_takes_its_edges_and_topological_order():
    g = Graph()
    a, b, c = add(g, "InputLayer"), add(g, "Dense"), add(g, "Dense")
    g.connect(a.id, b.id)
    g.connect(b.id, c.id)
    assert g.topological_order() == [a.id, b.id, c.id]
    node, edges = g.remove_node(b.id)
    assert node.id == b.id and len(edges) == 2 and g.edges == []
    assert [n.id for n in g.output_nodes()] == [c.id]


def test_events_are_announced():
    g = Graph()
    seen = []
    g.subscribe(lambda event, payload: seen.append(event))
    a, b = add(g, "InputLayer"), add(g, "Dense")
    e = g.connect(a.id, b.id)
    g.set_config(b.id, dict(b.config, units=3))
    g.move(b.id, (10, 20))
    g.disconnect(e)
    g.remove_node(b.id)
    assert seen == ["node_added", "node_added", "edge_added", "node_changed", "node_moved",
                    "edge_removed", "node_removed"]  # fmt: skip


def test_round_trip_dict_keeps_everything_and_new_ids_do_not_clash():
    g = Graph()
    a, b = add(g, "InputLayer"), add(g, "Dense", units=7)
    g.connect(a.id, b.id)
    g.move(b.id, (3.5, -2))
    h = Graph.from_dict(g.to_dict(), g.positions())
    assert h.to_dict() == g.to_dict() and h.positions() == g.positions()
    assert h.add_node("Dense").id not in (a.id, b.id)


def test_from_dict_rejects_dangling_edges_and_cycles():
    with pytest.raises(GraphError, match="does not exist"):
        Graph.from_dict({"nodes": [], "edges": [{"source": "a", "target": "b"}]})
    nodes = [{"id": x, "class_name": "Dense", "config": {}} for x in "ab"]
    edges = [{"source": "a", "target": "b"}, {"source": "b", "target": "a"}]
    with pytest.raises(CycleError, match="cycle"):
        Graph.from_dict({"nodes": nodes, "edges": edges})


def test_snapshot_is_detached_and_keeps_revisions():
    g = Graph()
    a, b = add(g, "InputLayer"), add(g, "Dense", units=4)
    g.connect(a.id, b.id)
    snap = g.snapshot()
    assert snap.to_dict() == g.to_dict()
    assert snap.nodes[b.id].revision == b.revision
    g.set_config(b.id, dict(b.config, units=8))
    g.disconnect(g.edges[0])
    assert snap.nodes[b.id].config["units"] == 4 and len(snap.edges) == 1
    assert snap.predecessors(b.id) == [a.id]
    assert g.nodes[b.id].revision != snap.nodes[b.id].revision


def test_revisions_never_repeat_across_nodes():
    g = Graph()
    nodes = [add(g, "Dense") for _ in range(3)]
    g.set_config(nodes[0].id, dict(nodes[0].config, units=2))
    revisions = [n.revision for n in nodes]
    assert len(set(revisions)) == 3


def test_a_layer_read_by_others_can_also_be_a_model_output():
    g = Graph()
    i = add(g, "InputLayer", shape=[8])
    code = add(g, "Dense", i, units=2)
    add(g, "Dense", code, units=8)
    assert [n.name for n in g.output_nodes()] == ["dense_1"]
    g.set_output(code.id, True)
    assert [n.name for n in g.output_nodes()] == ["dense", "dense_1"]
    h = Graph.from_dict(g.to_dict())
    assert [n.name for n in h.output_nodes()] == ["dense", "dense_1"]
    assert g.snapshot().nodes[code.id].output
    with pytest.raises(GraphError, match="Input"):
        g.set_output(i.id, True)


def test_layer_name_rules_live_in_the_graph():
    g = Graph()
    a = g.add_node("Dense", {"units": 2})
    b = g.add_node("Dense", {"units": 2})
    assert g.name_problem(a.id, "hidden_1") is None
    assert g.name_problem(a.id, a.name) is None  # its own name
    assert "taken by another layer" in g.name_problem(a.id, b.name)
    assert "needs a name" in g.name_problem(a.id, "")
    for bad in ("dense-1", "dense.1", "2dense", "dénse", "den se", "🙂", "a\x00b"):
        assert "letters, digits and underscores" in g.name_problem(a.id, bad), bad
