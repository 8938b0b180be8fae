"""Build a graph into a `keras.Model` with the functional API: named inputs and outputs."""

from __future__ import annotations

from deepgui.core.errors import BuildError
from deepgui.core.graph import Graph
from deepgui.core.keras_layers import call_node, input_shape_of, keras, make_layer
from deepgui.core.shapes import ShapeInference


def check_buildable(graph: Graph, inference: ShapeInference | None = None) -> None:
    """Raise BuildError with the first problem that stops the graph becoming a model."""
    if not graph.input_nodes():
        raise BuildError("The model has no Input layer: add one from the Input category.")
    if not graph.output_nodes():
        raise BuildError("The model has no output: connect at least one layer after the Input.")
    inference = inference or ShapeInference(graph)
    inference.update()
    for _nid, severity, message in inference.problems():
        if severity == "error":
            raise BuildError(message)
    for node in graph.input_nodes():
        if not graph.out_edges(node.id):
            raise BuildError(f"{node.name} is not connected to anything: wire it or delete it.")


def build_model(graph: Graph, name: str = "model", inference: ShapeInference | None = None):
    """The graph as an unbuilt-weights functional `keras.Model` (layers named as the nodes)."""
    check_buildable(graph, inference)
    k = keras()
    tensors: dict[str, list] = {}  # node id -> its output tensors, by output port
    layers: dict[str, object] = {}  # node id -> its layer (a shared layer under its owner's id)
    for nid in graph.topological_order():
        node = graph.nodes[nid]
        if node.is_input:
            shape = input_shape_of(node)
            # Keep the declared dtype: int token ids for Embedding, strings for TextVectorization.
            dtype = node.config.get("dtype")
            dtype = dtype if isinstance(dtype, str) else None
            tensors[nid] = [k.Input(batch_shape=shape, dtype=dtype, name=node.name)]
            continue
        inputs = [tensors[e.source][e.source_port] for e in graph.in_edges(nid)]
        owner = graph.nodes[node.shares] if node.shares else node
        layer = layers.get(owner.id)
        if layer is None:
            layer = make_layer(owner, [tuple(t.shape) for t in inputs], with_weights=True)
            layers[owner.id] = layer
        out = call_node(layer, node, inputs)
        tensors[nid] = list(out) if isinstance(out, list | tuple) else [out]
    inputs = [tensors[n.id][0] for n in graph.input_nodes()]
    outputs = [tensors[n.id][0] for n in graph.output_nodes()]
    try:
        return k.Model(
            inputs=inputs[0] if len(inputs) == 1 else inputs,
            outputs=outputs[0] if len(outputs) == 1 else outputs,
            name=name,
        )
    except Exception as exc:
        raise BuildError(f"Keras could not assemble the model: {exc}") from exc
