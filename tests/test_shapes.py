import numpy as np
import pytest

from deepgui.core.build import build_model
from deepgui.core.graph import Graph
from deepgui.core.shapes import ShapeInference, format_shape, summary_rows
from tests.helpers import add, small_cnn


def infer(g):
    si = ShapeInference(g)
    si.update()
    return si


def test_cnn_shapes_and_params_equal_keras():
    g, n = small_cnn()
    si = infer(g)
    assert si.info[n["conv"].id].output_shape == (None, 6, 6, 4)
    assert si.info[n["pool"].id].output_shape == (None, 3, 3, 4)
    assert si.info[n["dense"].id].output_shape == (None, 10)
    assert si.info[n["conv"].id].params == 3 * 3 * 1 * 4 + 4
    assert si.total_params() == build_model(g).count_params()


def test_branching_graph_with_merges_and_attention_matches_keras():
    g = Graph()
    seq = add(g, "InputLayer", shape=[10, 8])
    side = add(g, "InputLayer", shape=[5])
    att = add(g, "MultiHeadAttention", seq, seq, num_heads=2, key_dim=4)
    skip = add(g, "Add", seq, att)
    lstm = add(g, "Bidirectional", skip, layer={"class_name": "GRU", "config": {"units": 6}})
    dense = add(g, "Dense", side, units=12)
    cat = add(g, "Concatenate", lstm, dense)
    add(g, "Dense", cat, units=3, activation="softmax")
    add(g, "Dense", dense, units=1)
    si = infer(g)
    assert si.problems() == []
    assert si.info[cat.id].output_shape == (None, 24)
    model = build_model(g)
    assert si.total_params() == model.count_params()
    assert len(model.inputs) == 2 and len(model.outputs) == 2
    out = model.predict([np.zeros((2, 10, 8)), np.zeros((2, 5))], verbose=0)
    assert out[0].shape == (2, 3)


def test_dense_after_conv_says_insert_flatten():
    g, n = small_cnn()
    g.remove_node(n["flat"].id)
    g.connect(n["pool"].id, n["dense"].id)
    si = infer(g)
    (warning,) = si.info[n["dense"].id].warnings
    assert warning == (
        "dense expects a flat vector but receives (None, 3, 3, 4): "
        "insert Flatten or GlobalAveragePooling2D before it."
    )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"kernel_size": [9, 9]}, "kernel_size (9, 9) is larger than its input (8, 8)"),
        ({"filters": 0}, "conv2d: filters must be at least 1, not 0."),
        ({"padding": "wide"}, "must be one of"),
    ],
)
def test_invalid_values_give_plain_errors(change, fragment):
    g, n = small_cnn()
    g.set_config(n["conv"].id, dict(n["conv"].config, **change))
    si = infer(g)
    (error,) = si.info[n["conv"].id].errors
    assert fragment in error
    # Downstream layers wait instead of piling up errors of their own.
    assert si.info[n["dense"].id].errors == [] and si.info[n["dense"].id].output_shape is None


def test_wrong_rank_and_merge_mismatch_explained():
    g = Graph()
    i = add(g, "InputLayer", shape=[16])
    conv = add(g, "Conv2D", i)
    lstm = add(g, "LSTM", i)
    a, b = add(g, "Dense", i, units=4), add(g, "Dense", i, units=5)
    s = add(g, "Add", a, b)
    si = infer(g)
    assert (
        si.info[conv.id]
        .errors[0]
        .startswith(
            "conv2d expects images (batch, height, width, channels) but receives (None, 16)"
        )
    )
    assert "lstm expects a sequence" in si.info[lstm.id].errors[0]
    assert (
        "add needs inputs of the same shape but receives (None, 4) and (None, 5)"
        in si.info[s.id].errors[0]
    )


def test_missing_inputs_are_named():
    g = Graph()
    i = add(g, "InputLayer", shape=[4])
    d = add(g, "Dense")
    m = add(g, "Add", i)
    si = infer(g)
    assert si.info[d.id].errors == ["dense has no input: connect a layer or an Input to it."]
    assert "needs at least 2 inputs but has 1" in si.info[m.id].errors[0]


def test_incremental_update_recomputes_only_what_changed():
    g = Graph()
    prev = add(g, "InputLayer", shape=[32])
    nodes = []
    for _ in range(30):
        prev = add(g, "Dense", prev, units=32)
        nodes.append(prev)
    si = infer(g)
    assert si.recomputed == 31
    si.update()
    assert si.recomputed == 0
    g.set_config(nodes[10].id, dict(nodes[10].config, activation="relu"))  # same shape out
    si.update()
    assert si.recomputed == 1
    g.set_config(nodes[10].id, dict(nodes[10].config, units=16))  # next layer's params change
    si.update()
    assert si.recomputed == 2
    assert si.info[nodes[11].id].params == 16 * 32 + 32
    assert si.total_params() == build_model(g).count_params()


def test_summary_rows_and_format():
    g, n = small_cnn()
    rows = summary_rows(g, infer(g).info)
    assert [r["name"] for r in rows] == ["input", "conv2d", "max_pooling2d", "flatten", "dense"]
    assert rows[-1]["connected_to"] == ["flatten"] and rows[-1]["output_shape"] == "(None, 10)"
    assert format_shape((None,)) == "(None,)"
