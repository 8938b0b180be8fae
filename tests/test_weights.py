"""Weights beside a project: stored by layer name, loaded into a rebuilt model, edits reported."""

from __future__ import annotations

import numpy as np
import pytest

from deepgui.core.build import build_model
from deepgui.core.commands import set_params
from deepgui.core.errors import ProjectFormatError
from deepgui.core.keras_import import graph_from_model
from deepgui.core.weights import load_weights, read_weights, save_weights

keras = pytest.importorskip("keras")
layers = keras.layers


def small_model():
    inp = keras.Input((6,), name="x")
    a = layers.Dense(5, activation="relu", name="first")(inp)
    b = layers.BatchNormalization(name="norm")(a)
    c = layers.Dense(4, name="second")(b)
    return keras.Model(inp, layers.Dense(2, name="head")(c))


def trained_like(model):
    """Give every weight a distinct non-initial value, including BatchNorm's moving statistics."""
    rng = np.random.default_rng(1)
    for variable in model.weights:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    return model


def test_round_trip_by_name(tmp_path):
    model = trained_like(small_model())
    path = save_weights(model, tmp_path / "m.weights.h5")
    rebuilt = build_model(graph_from_model(model))
    assert load_weights(rebuilt, path) == []
    for layer in model.layers:
        for want, got in zip(layer.weights, rebuilt.get_layer(layer.name).weights, strict=True):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    x = np.random.default_rng(2).normal(size=(3, 6)).astype("float32")
    np.testing.assert_allclose(np.asarray(rebuilt(x)), np.asarray(model(x)), rtol=1e-6)


def test_layer_order_does_not_matter(tmp_path):
    inp = keras.Input((6,), name="x")
    left, right = layers.Dense(3, name="left")(inp), layers.Dense(3, name="right")(inp)
    model = trained_like(keras.Model(inp, layers.Concatenate(name="cat")([left, right])))
    path = save_weights(model, tmp_path / "m.weights.h5")
    graph = graph_from_model(model)
    # Swap the merge's inputs: the rebuilt model lists right before left; the shapes are equal,
    # so loading by position would silently swap the two layers' weights.
    cat = graph.node_by_name("cat")
    edges = graph.in_edges(cat.id)
    for e in edges:
        graph.disconnect(e)
    for e in edges:
        graph.connect(e.source, e.target, 1 - e.target_port)
    rebuilt = build_model(graph)
    assert [la.name for la in rebuilt.layers] != [la.name for la in model.layers]
    assert load_weights(rebuilt, path) == []
    for name in ("left", "right"):
        np.testing.assert_array_equal(
            np.asarray(rebuilt.get_layer(name).weights[0]),
            np.asarray(model.get_layer(name).weights[0]),
        )


def test_nested_model_weights_follow_the_flattened_graph(tmp_path):
    # The inner model reuses the outer layer's name "dense": the graph renames one of them.
    inner = keras.Sequential([layers.Dense(3, name="dense")], name="inner")
    inp = keras.Input((4,))
    model = trained_like(keras.Model(inp, layers.Dense(2, name="dense")(inner(inp))))
    path = save_weights(model, tmp_path / "m.weights.h5")
    rebuilt = build_model(graph_from_model(model))
    assert load_weights(rebuilt, path) == []
    x = np.random.default_rng(3).normal(size=(2, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(rebuilt(x)), np.asarray(model(x)), rtol=1e-6)


def test_changed_layer_is_reported_and_left_initialised(tmp_path):
    model = trained_like(small_model())
    path = save_weights(model, tmp_path / "m.weights.h5")
    graph = graph_from_model(model)
    second = graph.node_by_name("second")
    set_params(graph, second.id, units=7).redo(graph)  # the user widened one layer
    rebuilt = build_model(graph)
    fresh = [np.asarray(w).copy() for w in rebuilt.get_layer("second").weights]
    reinitialised = load_weights(rebuilt, path)
    # "head" reads 7 instead of 4 features now, so its kernel changed shape too.
    assert reinitialised == ["second", "head"]
    for before, after in zip(fresh, rebuilt.get_layer("second").weights, strict=True):
        np.testing.assert_array_equal(np.asarray(after), before)
    np.testing.assert_array_equal(
        np.asarray(rebuilt.get_layer("first").weights[0]),
        np.asarray(model.get_layer("first").weights[0]),
    )
    with pytest.raises(ProjectFormatError, match="second"):
        load_weights(build_model(graph), path, strict=True)


def test_new_layer_is_reported(tmp_path):
    model = small_model()
    path = save_weights(model, tmp_path / "m.weights.h5")
    graph = graph_from_model(model)
    graph.set_config(
        graph.node_by_name("norm").id, {**graph.node_by_name("norm").config, "name": "renamed"}
    )
    assert load_weights(build_model(graph), path) == ["renamed"]


def test_file_holds_arrays_by_layer_name(tmp_path):
    model = small_model()
    stored = read_weights(save_weights(model, tmp_path / "m.weights.h5"))
    assert set(stored) == {"first", "norm", "second", "head"}  # the Input has no weights
    assert [a.shape for a in stored["norm"]] == [
        tuple(w.shape) for w in model.get_layer("norm").weights
    ]


def test_bad_weight_files(tmp_path):
    model = small_model()
    with pytest.raises(ProjectFormatError, match="no such weights file"):
        load_weights(model, tmp_path / "absent.weights.h5")
    junk = tmp_path / "junk.weights.h5"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ProjectFormatError, match="damaged"):
        load_weights(model, junk)
    other = tmp_path / "other.weights.h5"
    model.save_weights(other)  # Keras's own layout, not ours
    with pytest.raises(ProjectFormatError, match="not a deepgui weights file"):
        load_weights(model, other)


def test_failed_save_keeps_the_old_file(tmp_path):
    model = small_model()
    path = save_weights(model, tmp_path / "m.weights.h5")
    before = path.read_bytes()

    class Broken:
        name = "broken"

        @property
        def weights(self):
            raise RuntimeError("disk full")

    class FakeModel:
        layers = [Broken()]

    with pytest.raises(RuntimeError):
        save_weights(FakeModel(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.weights.h5"]
