"""Code generation for the graphs that hold more than palette layers (node_kinds): keras.ops
calls between layers, layers called with keyword tensors, a layer's second and third outputs,
shared layers, models used as layers, Keras Applications backbones and classes only Keras's own
code builds. Each generated script runs in a fresh namespace and must build what
build_model(graph) builds: the same parameters, and with the same weights (copied by layer
name) the same outputs. The training code writes the optimizers, options, Keras schedules,
serialized losses and the fine-tuning of training.config as make_optimizer and fine_tuning.py
make them."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepgui.core import node_kinds
from deepgui.core.build import build_model
from deepgui.core.codegen import generate_script
from deepgui.core.graph import Graph
from deepgui.core.keras_import import graph_from_model
from deepgui.core.training import fine_tuning
from deepgui.core.training.config import (
    OPTIMIZER_CLASSES,
    TrainingConfig,
    make_optimizer,
    optimizer_class,
)
from tests.helpers import add

keras = pytest.importorskip("keras")
layers = keras.layers

RUFF_ARGS = ["check", "--isolated", "--no-cache", "--target-version", "py310"]
RUFF_ARGS += ["--line-length", "100", "--select", "E,F,W,I,B,UP,SIM"]


def regenerate(graph: Graph, name: str = "regenerated"):
    """(the generated script, the model it builds when run in a fresh namespace)."""
    source = generate_script(graph, name=name)
    ast.parse(source)
    assert max(len(line) for line in source.splitlines()) <= 100
    namespace: dict = {"__name__": "__generated__"}
    exec(compile(source, "<generated>", "exec"), namespace)
    return source, namespace["model"]


def assert_builds_the_same(generated, graph: Graph, inputs) -> None:
    """Same parameters (trainable ones too), layers and output names as build_model(graph);
    with deepgui's weights copied in by layer name, the same outputs within 1e-5."""
    expected = build_model(graph, name=generated.name)
    assert generated.count_params() == expected.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in expected.trainable_weights)
    assert sum(int(np.prod(w.shape)) for w in generated.trainable_weights) == trainable
    assert {la.name for la in generated.layers} == {la.name for la in expected.layers}
    assert list(generated.output_names) == list(expected.output_names)
    for layer in expected.layers:
        if layer.weights:
            generated.get_layer(layer.name).set_weights(layer.get_weights())
    got, want = generated(inputs), expected(inputs)
    got = got if isinstance(got, list | tuple) else [got]
    want = want if isinstance(want, list | tuple) else [want]
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-5)


def sample(shape, low=-1.0, high=1.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, size=(3, *shape)).astype("float32")


def ruff() -> str | None:
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.is_file() else shutil.which("ruff")


def assert_lints_clean(source: str, path: Path) -> None:
    tool = ruff()
    if tool is None:
        return
    path.write_text(source, encoding="utf-8")
    done = subprocess.run([tool, *RUFF_ARGS, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


# ----------------------------------------------------------------------------- operations
def ops_between_layers():
    inp = keras.Input((6, 4), name="series")
    x = layers.Dense(4, name="embed")(inp)
    pooled = keras.ops.mean(x, axis=1)
    flat = keras.ops.add(keras.ops.reshape(x, (-1, 24)), 1.0)
    picked = keras.ops.take(x, [0, 2], axis=1)
    swapped = keras.ops.sum(keras.ops.transpose(picked, (0, 2, 1)), axis=-1)
    joined = keras.ops.concatenate([pooled, flat, swapped], axis=-1)
    out = layers.Dense(3, name="head")(joined) * 2.0
    return keras.Model(inp, [keras.ops.clip(out, -1.0, 1.0), layers.Dense(1, name="aux")(x)])


def test_operations_between_layers_read_as_keras_ops_calls(tmp_path):
    graph = graph_from_model(ops_between_layers())
    assert any(node_kinds.kind(n) == node_kinds.OPERATION for n in graph)
    source, model = regenerate(graph)
    # Operations are named by a process-wide counter (mean, mean_1, ...): \w+ stands for them.
    for call in (
        r"keras\.ops\.mean\(embed, axis=1\)",
        r"keras\.ops\.reshape\(embed, \(-1, 24\)\)",
        r"keras\.ops\.add\(\w+, 1\.0\)",
        r"keras\.ops\.take\(embed, \(0, 2\), axis=1\)",
        r"keras\.ops\.transpose\(\w+, axes=\(0, 2, 1\)\)",
        r"keras\.ops\.sum\(\w+, axis=-1\)",
        r"keras\.ops\.concatenate\(\[\w+, \w+, \w+\], axis=-1\)",
        r"keras\.ops\.multiply\(head, 2\.0\)",
    ):
        assert re.search(r"^\w+ = " + call + "$", source, re.MULTILINE), call
    # A model output keeps the name its operation has: rebuilt by Keras from its config.
    assert '"class_name": "Clip"' in source and "keras.ops.clip(" not in source
    assert_builds_the_same(model, graph, sample((6, 4)))
    assert_lints_clean(source, tmp_path / "ops.py")


def test_indexing_a_tensor_reads_as_python_indexing():
    inp = keras.Input((6, 4), name="series")
    x = layers.Dense(3, name="embed")(inp)
    model = keras.Model(inp, layers.Dense(2, name="out")(x[:, 1:3]))
    source, generated = regenerate(graph_from_model(model))
    assert re.search(r"^\w+ = embed\[:, 1:3\]$", source, re.MULTILINE)
    # Against the Keras model itself: deepgui's own build does not take slices in a call yet.
    assert generated.count_params() == model.count_params()
    for layer in model.layers:
        if layer.weights:
            generated.get_layer(layer.name).set_weights(layer.get_weights())
    x = sample((6, 4))
    np.testing.assert_allclose(np.asarray(generated(x)), np.asarray(model(x)), rtol=1e-5)


def test_a_locked_class_is_rebuilt_from_its_module_and_config():
    g = Graph()
    inp = add(g, "InputLayer", shape=[5, 4], name="tokens")
    scale = g.add_node("LayerScale", {"name": "scale", "init_values": 0.5, "projection_dim": 4})
    scale.module = "keras.src.applications.convnext"
    g.connect(inp.id, scale.id)
    add(g, "Dense", scale, units=2, name="out")
    assert node_kinds.kind(scale) == node_kinds.LOCKED
    source, model = regenerate(g)
    assert "scale_layer = keras.saving.deserialize_keras_object(" in source
    assert '"module": "keras.src.applications.convnext"' in source
    assert_builds_the_same(model, g, sample((5, 4)))


# ----------------------------------------------------------------------------- calls and ports
def states_and_shared_layers():
    inp = keras.Input((6, 4), name="words")
    seq, h, c = layers.LSTM(5, return_sequences=True, return_state=True, name="encoder")(inp)
    decoded = layers.LSTM(5, return_sequences=True, name="decoder")(seq, initial_state=[h, c])
    attended = layers.MultiHeadAttention(2, 3, name="attend")(
        decoded, decoded, use_causal_mask=True
    )
    twice = layers.Dense(5, activation="tanh", name="twice")
    x = twice(twice(layers.GlobalAveragePooling1D(name="pool")(attended)))
    return keras.Model(inp, layers.Dense(2, name="out")(x))


def test_states_feed_another_lstm_and_a_shared_layer_is_called_twice(tmp_path):
    graph = graph_from_model(states_and_shared_layers())
    assert [e.source_port for e in graph.in_edges(graph.node_by_name("decoder").id)] == [0, 1, 2]
    assert graph.node_by_name("twice_1").shares == graph.node_by_name("twice").id
    source, model = regenerate(graph)
    assert "encoder, encoder_h, encoder_c = layers.LSTM(" in source
    assert "(encoder, initial_state=[encoder_h, encoder_c])" in source
    assert "(decoder, decoder, use_causal_mask=True)" in source
    assert "twice_layer = layers.Dense(5, activation=" in source
    assert "twice = twice_layer(pool)" in source and "twice_1 = twice_layer(twice)" in source
    assert len([la for la in model.layers if la.name == "twice"]) == 1
    assert_builds_the_same(model, graph, sample((6, 4)))
    assert_lints_clean(source, tmp_path / "states.py")


def test_a_layer_with_states_is_never_written_as_sequential():
    g = Graph()
    inp = add(g, "InputLayer", shape=[6, 3], name="series")
    add(g, "LSTM", inp, units=4, return_state=True, name="encoder")
    source, model = regenerate(g)
    assert "keras.Sequential(" not in source
    assert "encoder, encoder_h, encoder_c = " in source
    assert_builds_the_same(model, g, sample((6, 3)))


# ----------------------------------------------------------------------------- models as layers
def test_an_imported_block_is_rebuilt_from_its_config_and_stays_frozen():
    inner = keras.Sequential(
        [keras.Input((5,)), layers.Dense(4, activation="relu"), layers.BatchNormalization()],
        name="inner",
    )
    inner.trainable = False
    inp = keras.Input((5,), name="features")
    model = keras.Model(inp, layers.Dense(2, name="head")(inner(inp)))
    graph = graph_from_model(model)
    (block,) = [n for n in graph if node_kinds.kind(n) == node_kinds.BLOCK]
    assert node_kinds.is_frozen(block)
    source, generated = regenerate(graph)
    assert "inner_model = keras.Sequential.from_config({" in source
    assert "inner_model.trainable = False" in source
    assert "inner = inner_model(features)" in source
    assert not generated.get_layer("inner").trainable_weights
    assert_builds_the_same(generated, graph, sample((5,)))


def backbone_graph(family: str) -> Graph:
    g = Graph()
    image = g.add_node("InputLayer", {"name": "image", "shape": [32, 32, 3]})
    backbone = g.add_node(
        family, {"weights": "none", "pooling": "avg", "include_top": False, "trainable": False}
    )
    head = g.add_node("Dense", {"name": "classes", "units": 3, "activation": "softmax"})
    g.connect(image.id, backbone.id)
    g.connect(backbone.id, head.id)
    return g


# One family of each preprocessing mode the code writes, the quickest to build: what is
# written for a family depends on its mode alone (codegen_network.py).
@pytest.mark.parametrize(
    ("family", "preprocessing"),
    [
        ("MobileNet", "layers.Rescaling(1 / 127.5, offset=-1.0"),  # "tf": scaled to [-1, 1]
        ("VGG16", "keras.ops.flip(vgg16_pixels, axis=-1)"),  # "caffe": BGR less the mean
    ],
)
def test_a_palette_backbone_is_keras_applications_with_its_preprocessing(
    family, preprocessing, tmp_path
):
    graph = backbone_graph(family)
    source, model = regenerate(graph)
    assert f"keras.applications.{family}(" in source
    assert "weights=None" in source and 'pooling="avg"' in source
    assert "input_shape=(32, 32, 3)" in source
    assert preprocessing.replace(" ", "") in "".join(source.split())
    assert f"{family.lower()}_model.trainable = False" in source
    assert_builds_the_same(model, graph, sample((32, 32, 3), 0.0, 255.0))
    assert_lints_clean(source, tmp_path / "backbone.py")


# ----------------------------------------------------------------------------- training
def block_network() -> Graph:
    """Six features through a small model used as a layer (the backbone), then a classifier."""
    inner = keras.Sequential(
        [
            keras.Input((6,)),
            layers.Dense(8, activation="relu", name="low"),
            layers.Dense(8, activation="relu", name="high"),
            layers.BatchNormalization(name="norm"),
        ],
        name="backbone",
    )
    inp = keras.Input((6,), name="features")
    return graph_from_model(keras.Model(inp, layers.Dense(3, name="classes")(inner(inp))))


FINE_TUNED = {
    "optimizer": "nadam",
    "optimizer_options": {"beta_1": 0.85, "clipnorm": 1.0},
    "schedule": {
        "kind": "keras",
        "config": {
            "class_name": "ExponentialDecay",
            "config": {"initial_learning_rate": 0.02, "decay_steps": 7, "decay_rate": 0.8},
        },
    },
    "loss": {"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": True}},
    "metrics": ["accuracy"],
    "epochs": 3,
    "batch_size": 8,
    "seed": 1,
    "fine_tuning": {
        "enabled": True,
        "frozen_epochs": 1,
        "unfreeze_layers": 2,
        "learning_rate": 1e-4,
    },
}


def optimizer_config(optimizer) -> dict:
    config = dict(optimizer.get_config())
    config.pop("name", None)
    return config


def test_training_code_fine_tunes_with_the_optimizer_and_schedule_deepgui_makes(
    tmp_path, monkeypatch
):
    graph = block_network()
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "data.npz", x=rng.normal(size=(40, 6)), y=rng.integers(0, 3, 40))
    dataset = {"source": "npz", "path": "data.npz", "validation_split": 0.2}
    source = generate_script(graph, dataset, FINE_TUNED, name="tune", base_dir=tmp_path)
    assert "keras.optimizers.Nadam(learning_rate, beta_1=0.85, clipnorm=1.0)" in source
    assert "keras.optimizers.schedules.ExponentialDecay(" in source
    assert "keras.losses.SparseCategoricalCrossentropy(from_logits=True)" in source
    assert "keras.optimizers.Nadam(0.0001, beta_1=0.85, clipnorm=1.0)" in source
    assert max(len(line) for line in source.splitlines()) <= 100
    assert_lints_clean(source, tmp_path / "tune.py")

    compiled = []  # (optimizer, the names of the layers that train) at each compile
    original = keras.Model.compile

    def recording(self, *args, **kwargs):
        trains = {la.name for la in fine_tuning._leaves(self) if la.trainable_weights}
        compiled.append((kwargs["optimizer"], trains, kwargs["loss"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "compile", recording)
    path = tmp_path / "tune.py"
    namespace: dict = {"__name__": "__generated__", "__file__": str(path)}
    exec(compile(source, str(path), "exec"), namespace)
    network, history = namespace["train"]()
    monkeypatch.setattr(keras.Model, "compile", original)
    assert len(history.history["loss"]) == 3
    assert len(compiled) == 2

    cfg = TrainingConfig.from_dict(FINE_TUNED)
    steps = 4  # 32 training rows in batches of 8
    for (optimizer, _, _), want in zip(
        compiled,
        [make_optimizer(cfg, steps), make_optimizer(fine_tuning.second_phase_config(cfg), steps)],
        strict=True,
    ):
        assert type(optimizer) is type(want) is keras.optimizers.Nadam
        assert optimizer_config(optimizer) == optimizer_config(want)
    schedule = compiled[0][0].get_config()["learning_rate"]
    assert schedule["class_name"] == "ExponentialDecay"
    assert schedule["config"]["decay_steps"] == 7 and schedule["config"]["decay_rate"] == 0.8
    loss = compiled[0][2]
    assert type(loss).__name__ == "SparseCategoricalCrossentropy" and loss.from_logits

    # The same layers train in each phase as in deepgui's own fine-tuning of its own build.
    expected = build_model(graph)
    fine_tuning.freeze(expected)
    phase_one = {la.name for la in fine_tuning._leaves(expected) if la.trainable_weights}
    fine_tuning.unfreeze_top(expected, 2)
    phase_two = {la.name for la in fine_tuning._leaves(expected) if la.trainable_weights}
    assert compiled[0][1] == phase_one == {"classes"}
    assert compiled[1][1] == phase_two == {"classes", "high"}  # BatchNormalization stays frozen


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZER_CLASSES))
def test_every_optimizer_with_its_options_is_written_as_make_optimizer_makes_it(optimizer):
    from deepgui.core.codegen_training import _optimizer, _schedule

    try:
        optimizer_class(optimizer)
    except Exception:  # noqa: BLE001 - an optimizer this Keras lacks
        pytest.skip(f"keras {keras.__version__} has no {optimizer}")
    options = {"clipnorm": 0.5} if optimizer != "muon" else {"adam_beta_1": 0.8}
    training = {
        "optimizer": optimizer,
        "learning_rate": 0.03,
        "optimizer_options": options,
        "schedule": {"kind": "cosine", "min_learning_rate": 0.003},
        "epochs": 4,
    }
    cfg = TrainingConfig.from_dict(training)
    scope = {"keras": keras, "steps_per_epoch": 5, "epochs": 4}
    scope["learning_rate"] = eval(_schedule(cfg), scope)  # noqa: S307 - the generated code
    made = eval(_optimizer(cfg), scope)  # noqa: S307
    want = make_optimizer(cfg, 5)
    assert type(made) is type(want)
    assert optimizer_config(made) == optimizer_config(want)
