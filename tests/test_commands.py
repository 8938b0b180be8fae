import pytest

from deepgui.core.commands import (
    AddNode,
    Connect,
    Macro,
    MoveNodes,
    RemoveNode,
    UndoStack,
    insert_on_edge,
    remove_nodes,
    set_params,
)
from deepgui.core.errors import GraphError
from deepgui.core.graph import Graph


def snapshot(g: Graph):
    return g.to_dict(), g.positions()


def test_every_command_undoes_and_redoes_exactly():
    g = Graph()
    stack = UndoStack(g)
    states = [snapshot(g)]
    i = stack.push(AddNode("InputLayer", {"shape": [4]})).node_id
    states.append(snapshot(g))
    d = stack.push(AddNode("Dense", {"units": 3}, (0, 100))).node_id
    states.append(snapshot(g))
    stack.push(Connect(i, d))
    states.append(snapshot(g))
    stack.push(set_params(g, d, units=9))
    states.append(snapshot(g))
    stack.push(MoveNodes({d: (50, 50)}))
    states.append(snapshot(g))
    edge = g.edges[0]
    stack.push(insert_on_edge(g, edge, "Dropout", {"rate": 0.3}))
    states.append(snapshot(g))
    stack.push(RemoveNode(i))
    states.append(snapshot(g))
    for expected in reversed(states[:-1]):
        stack.undo()
        assert snapshot(g) == expected
    for expected in states[1:]:
        stack.redo()
        assert snapshot(g) == expected


def test_insert_on_edge_wires_through_the_new_layer():
    g = Graph()
    stack = UndoStack(g)
    a = stack.push(AddNode("InputLayer")).node_id
    b = stack.push(AddNode("Concatenate")).node_id
    c = stack.push(AddNode("InputLayer")).node_id
    stack.push(Connect(c, b))
    stack.push(Connect(a, b))
    edge = next(e for e in g.edges if e.source == a)
    new = stack.push(insert_on_edge(g, edge, "Dense", {"units": 2})).commands[1].node_id
    assert g.predecessors(new) == [a]
    assert g.predecessors(b) == [c, new]  # the port is kept


def test_refused_command_leaves_history_and_graph_untouched():
    g = Graph()
    stack = UndoStack(g)
    a = stack.push(AddNode("Dense")).node_id
    b = stack.push(AddNode("Dense")).node_id
    stack.push(Connect(a, b))
    before = snapshot(g)
    with pytest.raises(GraphError):
        stack.push(Macro([AddNode("Dense", node_id="x"), Connect(b, a)]))
    assert snapshot(g) == before
    assert stack.undo_text() == "Connect"


def test_remove_macro_restores_edges_and_clean_state_tracks_saves():
    g = Graph()
    stack = UndoStack(g)
    a = stack.push(AddNode("InputLayer")).node_id
    b = stack.push(AddNode("Dense")).node_id
    stack.push(Connect(a, b))
    stack.set_clean()
    assert stack.is_clean
    stack.push(remove_nodes(g, [a, b]))
    assert len(g) == 0 and not stack.is_clean
    stack.undo()
    assert stack.is_clean and g.predecessors(b) == [a]
    stack.undo()
    stack.push(AddNode("Dense"))  # the clean state is now unreachable
    assert not stack.is_clean
    for _ in range(5):
        stack.undo()
    assert not stack.is_clean


def test_marking_an_output_is_undoable():
    from deepgui.core.commands import SetOutput

    g = Graph()
    stack = UndoStack(g)
    a = stack.push(AddNode("InputLayer", {"shape": [3]})).node_id
    b = stack.push(AddNode("Dense", {"units": 2})).node_id
    c = stack.push(AddNode("Dense", {"units": 1})).node_id
    stack.push(Connect(a, b))
    stack.push(Connect(b, c))
    stack.push(SetOutput(b))
    assert [n.id for n in g.output_nodes()] == [b, c]
    stack.undo()
    assert [n.id for n in g.output_nodes()] == [c]
    stack.redo()
    stack.push(RemoveNode(b))
    stack.undo()  # the restored layer keeps its mark
    assert [n.id for n in g.output_nodes()] == [b, c]
