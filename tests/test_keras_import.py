"""Import round trips: plain Keras model -> file -> graph -> build_model -> same model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepgui.core import node_kinds
from deepgui.core.build import build_model
from deepgui.core.errors import ModelImportError
from deepgui.core.keras_import import (
    graph_from_model,
    import_model,
    import_model_file,
    load_model_file,
    project_from_model_file,
)
from deepgui.core.layout import NODE_HEIGHT, NODE_WIDTH
from deepgui.core.project import load_project
from deepgui.core.shapes import ShapeInference
from deepgui.core.weights import load_weights, save_layer_weights

keras = pytest.importorskip("keras")
layers = keras.layers


def cnn():
    return keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            layers.Conv2D(4, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(6, (3, 3), padding="same", kernel_regularizer="l2"),
            layers.GlobalAveragePooling2D(),
            layers.Dropout(0.3),
            layers.Dense(5, activation="softmax"),
        ],
        name="cnn",
    )


def bilstm():
    inp = keras.Input((7,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 4)(inp)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(x)
    x = layers.Bidirectional(layers.GRU(2), merge_mode="sum")(x)
    out = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inp, out)


def residual():
    inp = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    y = layers.Conv2D(4, 3, padding="same")(x)
    y = layers.BatchNormalization()(y)
    x = layers.Add()([x, y])
    x = layers.Activation("relu")(x)
    z = layers.Conv2D(4, 1)(x)
    x = layers.Add()([z, x, y])
    x = layers.Flatten()(x)
    return keras.Model(inp, layers.Dense(3)(x))


def multi_io():
    a = keras.Input((6,), name="numbers")
    b = keras.Input((5, 2), name="sequence")
    x = layers.Dense(4, activation="tanh")(a)
    y = layers.Flatten()(layers.SimpleRNN(3, return_sequences=True)(b))
    joined = layers.Concatenate(name="joined")([y, x])
    # Outputs listed in the reverse of creation order, so their order must be kept on purpose.
    aux = layers.Dense(2, name="aux")(x)
    main = layers.Dense(1, name="main")(joined)
    return keras.Model([b, a], [main, aux])


def conv1d_bn():
    return keras.Sequential(
        [
            keras.Input((20, 3)),
            layers.Conv1D(4, 5, strides=2),
            layers.BatchNormalization(momentum=0.9),
            layers.Activation("relu"),
            layers.SpatialDropout1D(0.1),
            layers.Conv1D(4, 3, padding="same", dilation_rate=2),
            layers.LayerNormalization(),
            layers.GlobalMaxPooling1D(),
            layers.Dense(2),
        ]
    )


def autoencoder():
    inp = keras.Input((8, 8, 1))
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(inp)
    x = layers.Conv2D(2, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(2, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")(x)
    out = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inp, out, name="autoencoder")


def attention():
    inp = keras.Input((6, 8))
    q = layers.Dense(8, name="q")(inp)
    k = layers.Dense(8, name="k")(inp)
    v = layers.Dense(8, name="v")(inp)
    # query, value, key: three different tensors, so a wrong port order changes the output.
    x = layers.MultiHeadAttention(num_heads=2, key_dim=3)(q, v, key=k)
    x = layers.Add()([x, inp])
    x = layers.LayerNormalization()(x)
    y = layers.Attention()([q, v])
    x = layers.Concatenate()([x, y])
    return keras.Model(inp, layers.GlobalAveragePooling1D()(x))


def nested():
    augment = keras.Sequential([layers.Rescaling(1 / 255.0), layers.Dense(4)], name="inner")
    inp = keras.Input((5,))
    x = augment(inp)
    return keras.Model(inp, layers.Dense(2)(x))


ARCHITECTURES = [cnn, bilstm, residual, multi_io, conv1d_bn, autoencoder, attention]


def sample_inputs(model, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for tensor in model.inputs:
        shape = (3, *tensor.shape[1:])
        if "int" in str(tensor.dtype):
            out.append(rng.integers(0, 20, size=shape).astype("int32"))
        else:
            out.append(rng.normal(size=shape).astype("float32"))
    return out


def outputs_of(model, inputs):
    result = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    result = result if isinstance(result, list | tuple) else [result]
    return [np.asarray(r) for r in result]


def classes(model):
    # A Sequential model does not list its InputLayer among its layers.
    return sorted(
        type(layer).__name__ for layer in model.layers if type(layer).__name__ != "InputLayer"
    )


def round_trip(model, tmp_path, suffix=".keras"):
    """Save, load, import, rebuild and copy the weights over by name."""
    path = tmp_path / f"model{suffix}"
    model.save(path)
    loaded = load_model_file(path)
    result = import_model(loaded)
    weights_path = tmp_path / "w.weights.h5"
    save_layer_weights(
        {result.graph.nodes[nid].name: layer for nid, layer in result.layers.items()}, weights_path
    )
    rebuilt = build_model(result.graph)
    assert load_weights(rebuilt, weights_path) == []
    return result.graph, rebuilt


@pytest.mark.parametrize("make", ARCHITECTURES, ids=lambda f: f.__name__)
def test_round_trip_same_model(make, tmp_path):
    model = make()
    graph, rebuilt = round_trip(model, tmp_path)
    assert rebuilt.count_params() == model.count_params()
    assert classes(rebuilt) == classes(model)
    inference = ShapeInference(graph)
    inference.update()
    assert not [p for p in inference.problems() if p[1] == "error"]
    assert inference.total_params() == model.count_params()
    assert [t.name for t in rebuilt.inputs] == [t.name for t in model.inputs] or len(
        model.inputs
    ) == 1
    x = sample_inputs(model)
    for want, got in zip(outputs_of(model, x), outputs_of(rebuilt, x), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # The graph is a project's: plain JSON, names are Keras's.
    json.dumps(graph.to_dict())
    assert {n.name for n in graph} >= {layer.name for layer in model.layers}


def test_causal_conv1d_imports(tmp_path):
    inp = keras.Input((10, 2))
    model = keras.Model(inp, layers.Conv1D(3, 3, padding="causal")(inp))
    graph, rebuilt = round_trip(model, tmp_path)
    assert rebuilt.count_params() == model.count_params()


def test_h5_round_trip(tmp_path):
    model = residual()
    graph, rebuilt = round_trip(model, tmp_path, suffix=".h5")
    x = sample_inputs(model)
    np.testing.assert_allclose(
        outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5, atol=1e-6
    )


def test_multi_io_keeps_input_and_output_order():
    model = multi_io()
    graph = graph_from_model(model)
    assert [n.name for n in graph.input_nodes()] == ["sequence", "numbers"]
    assert [n.name for n in graph.output_nodes()] == ["main", "aux"]
    joined = graph.node_by_name("joined")
    sources = [graph.nodes[p].class_name for p in graph.predecessors(joined.id)]
    assert sources == ["Flatten", "Dense"]


def test_attention_ports_are_query_value_key():
    graph = graph_from_model(attention())
    mha = next(n for n in graph if n.class_name == "MultiHeadAttention")
    assert [graph.nodes[p].name for p in graph.predecessors(mha.id)] == ["q", "v", "k"]


def test_sequential_gets_explicit_input_and_configs_are_keras_vocabulary():
    graph = graph_from_model(cnn())
    inputs = graph.input_nodes()
    assert len(inputs) == 1 and inputs[0].config["batch_shape"] == [None, 12, 12, 3]
    conv = next(n for n in graph if n.class_name == "Conv2D")
    assert conv.config["kernel_size"] == [3, 3]  # tuples became lists
    assert conv.config["dtype"]["class_name"] == "DTypePolicy"
    order = [graph.nodes[nid].class_name for nid in graph.topological_order()]
    assert order[0] == "InputLayer" and order[-1] == "Dense"
    assert len(graph.edges) == len(graph) - 1


def test_nested_model_is_one_block(tmp_path):
    model = nested()
    graph, rebuilt = round_trip(model, tmp_path)
    blocks = [n for n in graph if n.class_name == "Sequential"]
    assert len(blocks) == 1 and node_kinds.kind(blocks[0]) == node_kinds.BLOCK
    assert rebuilt.count_params() == model.count_params()
    x = sample_inputs(model)
    np.testing.assert_allclose(outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5)


def test_layout_of_import_has_no_overlaps():
    graph = graph_from_model(residual())
    boxes = [n.position for n in graph]
    for i, (x1, y1) in enumerate(boxes):
        for x2, y2 in boxes[i + 1 :]:
            assert abs(x1 - x2) >= NODE_WIDTH or abs(y1 - y2) >= NODE_HEIGHT


def test_shared_layer_called_twice_is_one_layer(tmp_path):
    inp = keras.Input((4,))
    shared = layers.Dense(4, name="twice")
    model = keras.Model(inp, shared(shared(inp)))
    graph, rebuilt = round_trip(model, tmp_path)
    uses = [n for n in graph if n.class_name == "Dense"]
    assert len(uses) == 2 and uses[1].shares == uses[0].id
    assert rebuilt.count_params() == model.count_params() == 20
    x = sample_inputs(model)
    np.testing.assert_allclose(outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5)


def test_operation_between_layers_is_a_node(tmp_path):
    inp = keras.Input((4,))
    x = layers.Dense(4)(inp)
    model = keras.Model(inp, x * 2.0)
    graph, rebuilt = round_trip(model, tmp_path)
    ops_nodes = [n for n in graph if node_kinds.kind(n) == node_kinds.OPERATION]
    assert [n.class_name for n in ops_nodes] == ["Multiply"]
    assert ops_nodes[0].call == {"args": [{"port": 0}, 2.0], "kwargs": {}}
    x = sample_inputs(model)
    np.testing.assert_allclose(outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5)


def test_bad_files(tmp_path):
    with pytest.raises(ModelImportError, match="no such file"):
        load_model_file(tmp_path / "absent.keras")
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(ModelImportError, match="junk.keras"):
        load_model_file(junk)
    with pytest.raises(ModelImportError, match="expected .keras or .h5"):
        load_model_file(tmp_path / "model.onnx")


def test_lambda_layer_is_refused(tmp_path):
    inp = keras.Input((3,))
    model = keras.Model(inp, layers.Lambda(lambda t: t * 2)(inp))
    path = tmp_path / "lam.keras"
    model.save(path)
    with pytest.raises(ModelImportError, match="Lambda"):
        load_model_file(path)


def test_custom_layer_is_named(tmp_path):
    @keras.saving.register_keras_serializable(package="tests")
    class Twice(layers.Layer):
        def call(self, x):
            return x * 2

    inp = keras.Input((3,))
    model = keras.Model(inp, Twice()(inp))
    path = tmp_path / "custom.keras"
    model.save(path)
    keras.saving.get_custom_objects().clear()
    with pytest.raises(ModelImportError, match="Twice"):
        load_model_file(path)


def test_import_model_file_writes_project_and_weights(tmp_path):
    model = conv1d_bn()
    source = tmp_path / "m.keras"
    model.save(source)
    project = import_model_file(source, tmp_path / "out.dgproj")
    assert project.weights_path.exists()
    again = load_project(tmp_path / "out.dgproj")
    rebuilt = build_model(again.graph)
    assert load_weights(rebuilt, again.weights_path) == []
    x = sample_inputs(model)
    np.testing.assert_allclose(
        outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5, atol=1e-6
    )
    fresh, loaded = project_from_model_file(source)
    assert fresh.path is None and loaded.count_params() == model.count_params()


def test_adapted_text_vectorization_keeps_vocabulary_and_string_input(tmp_path):
    vectorize = layers.TextVectorization(max_tokens=20, output_sequence_length=4, name="vectorize")
    vectorize.adapt(["the cat sat", "the dog ran far"])
    text = keras.Input((1,), dtype="string", name="text")
    model = keras.Model(text, layers.Embedding(20, 3)(vectorize(text)))
    graph, rebuilt = round_trip(model, tmp_path)
    vocabulary = graph.node_by_name("vectorize").config["vocabulary"]
    assert "cat" in vocabulary and json.dumps(vocabulary)
    assert rebuilt.inputs[0].dtype == "string"
    x = np.array([["the dog sat"], ["a cat"]])
    np.testing.assert_allclose(np.asarray(rebuilt(x)), np.asarray(model(x)), rtol=1e-6)


def test_adapted_normalization_and_augmentation(tmp_path):
    norm = layers.Normalization(name="norm")
    norm.adapt(np.random.default_rng(0).normal(3.0, 2.0, size=(40, 8, 8, 3)))
    inp = keras.Input((8, 8, 3))
    x = layers.RandomRotation(0.1)(layers.RandomFlip()(norm(inp)))
    model = keras.Model(inp, layers.GlobalAveragePooling2D()(layers.Conv2D(2, 3)(x)))
    graph, rebuilt = round_trip(model, tmp_path)
    x = sample_inputs(model)
    np.testing.assert_allclose(
        outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5, atol=1e-6
    )


def test_embedding_input_keeps_its_integer_dtype(tmp_path):
    _, rebuilt = round_trip(bilstm(), tmp_path)
    assert rebuilt.inputs[0].dtype == "int32"


def test_second_output_of_a_layer_feeds_by_its_port(tmp_path):
    inp = keras.Input((5, 2))
    _, state_h, _ = layers.LSTM(3, return_state=True, name="encoder")(inp)
    model = keras.Model(inp, layers.Dense(1)(state_h))
    graph, rebuilt = round_trip(model, tmp_path)
    encoder = graph.node_by_name("encoder")
    assert [e.source_port for e in graph.out_edges(encoder.id)] == [1]
    x = sample_inputs(model)
    np.testing.assert_allclose(outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5)


def test_returning_a_second_output_is_refused():
    inp = keras.Input((5, 2))
    _, state_h, _ = layers.LSTM(3, return_state=True, name="encoder")(inp)
    with pytest.raises(ModelImportError, match="output 1 of encoder"):
        graph_from_model(keras.Model(inp, state_h))


def test_call_argument_that_changes_the_result_is_kept(tmp_path):
    inp = keras.Input((4, 6))
    x = layers.MultiHeadAttention(2, 3, name="causal")(inp, inp, use_causal_mask=True)
    model = keras.Model(inp, x)
    graph, rebuilt = round_trip(model, tmp_path)
    assert graph.node_by_name("causal").call["kwargs"] == {"use_causal_mask": True}
    x = sample_inputs(model)
    np.testing.assert_allclose(
        outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5, atol=1e-6
    )


def test_training_mode_call_is_refused():
    inp = keras.Input((4,))
    x = layers.Dropout(0.5, name="always")(inp, training=True)
    with pytest.raises(ModelImportError, match="always.*training=True"):
        graph_from_model(keras.Model(inp, x))


def test_subclassed_model_is_refused():
    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Custom()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(ModelImportError, match="subclassed"):
        graph_from_model(model)


def test_call_arguments_at_their_defaults_are_accepted(tmp_path):
    inp = keras.Input((4, 6))
    x = layers.MultiHeadAttention(2, 3)(
        inp, inp, use_causal_mask=False, return_attention_scores=False
    )
    x = layers.Dropout(0.5)(x, training=False)
    model = keras.Model(inp, x)
    _, rebuilt = round_trip(model, tmp_path)
    x = sample_inputs(model)
    np.testing.assert_allclose(
        outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5, atol=1e-6
    )


def test_dropout_forced_on_at_inference_is_refused():
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dropout(0.5, name="mc")(inp, training=True))
    with pytest.raises(ModelImportError, match="mc is called with training=True"):
        graph_from_model(model)


def test_sequential_built_without_input_layer(tmp_path):
    model = keras.Sequential([layers.Dense(3, activation="relu"), layers.Dense(1)])
    model.build((None, 5))
    graph, rebuilt = round_trip(model, tmp_path, suffix=".h5")
    (inp,) = graph.input_nodes()
    assert inp.config["batch_shape"] == [None, 5]
    x = sample_inputs(model)
    np.testing.assert_allclose(
        outputs_of(rebuilt, x)[0], outputs_of(model, x)[0], rtol=1e-5, atol=1e-6
    )


def test_unbuilt_sequential_is_refused():
    with pytest.raises(ModelImportError, match="no input shape"):
        graph_from_model(keras.Sequential([layers.Dense(3)], name="unbuilt"))


def test_output_also_read_by_another_layer_round_trips(tmp_path):
    """An autoencoder returning [code, reconstruction]: the code feeds the decoder too."""
    inp = keras.Input((12,), name="signal")
    code = layers.Dense(3, activation="tanh", name="code")(inp)
    hidden = layers.Dense(6, activation="relu", name="hidden")(code)
    recon = layers.Dense(12, name="reconstruction")(hidden)
    model = keras.Model(inp, [code, recon])
    graph, rebuilt = round_trip(model, tmp_path)
    assert [n.name for n in graph.output_nodes()] == ["code", "reconstruction"]
    assert graph.node_by_name("code").output
    x = sample_inputs(model)
    for want, got in zip(outputs_of(model, x), outputs_of(rebuilt, x), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
