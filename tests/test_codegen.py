"""Code generation: the script runs and builds the same model as build_model(graph)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from deepgui.core.build import build_model
from deepgui.core.codegen import generate_script
from deepgui.core.errors import BuildError
from deepgui.core.graph import Graph
from deepgui.core.keras_import import graph_from_model
from tests.helpers import add, small_cnn
from tests.test_keras_import import ARCHITECTURES, keras, nested

layers = keras.layers


def run_script(source: str):
    """Execute a generated script in a fresh namespace; returns its `model`."""
    namespace: dict = {"__name__": "__generated__"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace["model"]


def strip_names(value):
    """Configs with wrapped layers' names removed (their wrapper chooses those)."""
    if isinstance(value, dict):
        out = {k: strip_names(v) for k, v in value.items()}
        if value.get("module") == "keras.layers" and isinstance(out.get("config"), dict):
            out["config"].pop("name", None)
        return out
    if isinstance(value, list | tuple):
        return [strip_names(v) for v in value]
    return value


def assert_same_model(generated, graph: Graph):
    expected = build_model(graph)
    assert generated.count_params() == expected.count_params()
    want = {layer.name: layer for layer in expected.layers}
    got = {layer.name: layer for layer in generated.layers}
    # A Sequential model does not list its Input among its layers.
    want = {n: la for n, la in want.items() if type(la).__name__ != "InputLayer"}
    got = {n: la for n, la in got.items() if type(la).__name__ != "InputLayer"}
    assert got.keys() == want.keys()
    for name, layer in want.items():
        assert type(got[name]) is type(layer)
        assert strip_names(got[name].get_config()) == strip_names(layer.get_config()), name
    assert [tuple(t.shape) for t in generated.outputs] == [tuple(t.shape) for t in expected.outputs]


def test_chain_is_sequential(capsys):
    graph, _ = small_cnn()
    source = generate_script(graph)
    assert "keras.Sequential(" in source and "keras.Model(" not in source
    assert source.rstrip().endswith("model.summary()")
    assert_same_model(run_script(source), graph)
    assert "Total params" in capsys.readouterr().out


def test_branching_graph_is_functional():
    g = Graph()
    inp = add(g, "InputLayer", shape=[6])
    a = add(g, "Dense", inp, units=4, activation="relu")
    b = add(g, "Dense", inp, units=4, use_bias=False)
    merged = add(g, "Add", a, b)
    add(g, "Dense", merged, units=2, activation="softmax")
    source = generate_script(g)
    assert "keras.Model(" in source and "keras.Sequential(" not in source
    assert "add = layers.Add(" in source and "([dense, dense_1])" in source
    assert_same_model(run_script(source), g)


def test_only_non_default_arguments_are_written():
    g = Graph()
    inp = add(g, "InputLayer", shape=[8, 8, 1])
    conv = add(g, "Conv2D", inp, filters=4, kernel_size=[3, 3], padding="same")
    add(g, "Flatten", conv)
    source = generate_script(g)
    call = next(line for line in source.splitlines() if "Conv2D" in line).strip()
    assert call == 'layers.Conv2D(4, (3, 3), padding="same", name="conv2d"),'
    assert "kernel_initializer" not in source and "use_bias" not in source


def test_regularizers_and_initializers_are_objects():
    g = Graph()
    inp = add(g, "InputLayer", shape=[4])
    add(
        g,
        "Dense",
        inp,
        units=3,
        kernel_regularizer={"class_name": "L1L2", "config": {"l1": 0.001, "l2": 0.01}},
        kernel_initializer="he_normal",
    )
    source = generate_script(g)
    assert "keras.regularizers.L1L2(l1=0.001, l2=0.01)" in source
    assert "keras.initializers.HeNormal()" in source
    assert_same_model(run_script(source), g)


@pytest.mark.parametrize("make", [*ARCHITECTURES, nested], ids=lambda f: f.__name__)
def test_imported_architectures_regenerate_exactly(make):
    graph = graph_from_model(make())
    source = generate_script(graph, name="regenerated")
    ast.parse(source)
    model = run_script(source)
    assert model.name == "regenerated"
    assert_same_model(model, graph)
    assert max(len(line) for line in source.splitlines()) <= 100


def test_odd_layer_names_become_valid_variables():
    g = Graph()
    inp = add(g, "InputLayer", shape=[4], name="model")
    a = add(g, "Dense", inp, units=2, name="class")
    b = add(g, "Dense", inp, units=2, name="lambda")
    add(g, "Concatenate", a, b, name="keras")
    source = generate_script(g)
    model = run_script(source)
    assert {layer.name for layer in model.layers} == {"model", "class", "lambda", "keras"}


def test_training_section_loads_the_project_data_and_trains_with_its_settings(tmp_path):
    graph, _ = small_cnn()
    training = {
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "momentum": 0.9,
        "schedule": {"kind": "plateau", "patience": 1},
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy"],
        "epochs": 2,
        "batch_size": 64,
        "early_stopping": {"enabled": True, "patience": 2},
        "class_weight": "balanced",
        "seed": 7,
    }
    dataset = {"source": "builtin", "name": "digits", "validation_split": 0.25, "seed": 7}
    source = generate_script(graph, dataset, training)
    assert "keras.utils.set_random_seed(7)" in source
    assert '"name": "digits"' in source and "digits.npz" in source
    assert 'keras.callbacks.EarlyStopping(monitor="val_loss", patience=2' in source
    assert "keras.callbacks.ReduceLROnPlateau(" in source
    path = tmp_path / "digits.py"
    path.write_text(source, encoding="utf-8")
    namespace: dict = {"__name__": "__generated__", "__file__": str(path)}
    exec(compile(source, str(path), "exec"), namespace)
    model, history = namespace["train"]()
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.momentum) == pytest.approx(0.9)
    assert model.loss == "sparse_categorical_crossentropy"
    assert len(history.history["val_loss"]) == 2  # it trained, on a validation split
    # The same split as deepgui's own loader: a quarter of the non-test rows for validation.
    data = namespace["load_data"]()
    assert len(data["validation"][1]) == pytest.approx(len(data["train"][1]) / 3, rel=0.05)
    assert (tmp_path / "digits.weights.h5").is_file()


def test_script_runs_as_a_program(tmp_path):
    g = Graph()
    a = add(g, "InputLayer", shape=[3], name="left")
    b = add(g, "InputLayer", shape=[2], name="right")
    joined = add(g, "Concatenate", a, b)
    add(g, "Dense", joined, units=1)
    path = tmp_path / "model.py"
    path.write_text(generate_script(g), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Total params: 6" in done.stdout


def test_graph_without_input_is_refused():
    g = Graph()
    g.add_node("Dense", {"units": 2})
    with pytest.raises(BuildError, match="no Input"):
        generate_script(g)


def test_every_single_input_palette_layer_regenerates():
    """Each catalogued one-input layer at its palette defaults, on the first input it accepts."""
    from deepgui.core import catalogue
    from deepgui.core.shapes import ShapeInference

    shapes = ([8, 8, 3], [6, 4], [8], [4, 4, 4, 2])
    checked = []
    for spec in catalogue.all_layers():
        if spec.class_name == "InputLayer" or spec.max_inputs != 1:
            continue
        for shape in shapes:
            g = Graph()
            inp = add(g, "InputLayer", shape=shape)
            add(g, spec.class_name, inp)
            inference = ShapeInference(g)
            inference.update()
            if not inference.problems():
                break
        else:
            continue
        assert_same_model(run_script(generate_script(g)), g)
        checked.append(spec.class_name)
    assert {"Dense", "Conv2D", "LSTM", "Bidirectional", "Embedding", "Dropout"} <= set(checked)
    assert len(checked) >= 30
