"""Start from what exists: models people bring import whole (Keras Applications backbones,
keras.ops between layers, shared layers, return_state), and the palette's pretrained backbones
take raw pixels and load ImageNet weights from Keras's cache without a network."""

from __future__ import annotations

import os

import numpy as np
import pytest

from deepgui.core import backbones, node_kinds
from deepgui.core.build import build_model
from deepgui.core.graph import Graph
from deepgui.core.keras_import import import_model, import_model_file
from deepgui.core.project import Project, load_project, weights_path_for
from deepgui.core.shapes import ShapeInference, trainable_split
from deepgui.core.weights import load_weights, save_weights
from tests.helpers import train_as_the_cli_does

keras = pytest.importorskip("keras")
layers = keras.layers
ops = keras.ops

BACKBONES = ["MobileNetV3Small", "ConvNeXtTiny", "EfficientNetV2B0", "ResNet50V2"]

# A large backbone's import, training and exports take 1-3 minutes each on 2 cores: `make
# test` runs the lighter checks, and `make test-backbones`, which CI runs, all of them.
HEAVY = pytest.mark.skipif(
    not os.environ.get("DEEPGUI_TEST_BACKBONES"),
    reason="a large backbone's training and exports: make test-backbones (CI) runs it",
)


def under_new_head(app: str, size: int = 64):
    backbone = getattr(keras.applications, app)(
        include_top=False, weights=None, input_shape=(size, size, 3)
    )
    backbone.trainable = False
    inputs = keras.Input((size, size, 3), name="image")
    x = layers.GlobalAveragePooling2D(name="pool")(backbone(inputs))
    outputs = layers.Dense(3, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs)


def reloaded(model, tmp_path, name="model"):
    """The model through a .keras file, `deepgui import`, the project file and its weights,
    rebuilt from the graph: what a person gets after importing and reopening."""
    source = tmp_path / f"{name}.keras"
    model.save(source)
    project_path = tmp_path / f"{name}.dgproj"
    import_model_file(source, project_path)
    project = load_project(project_path)
    rebuilt = build_model(project.graph)
    assert load_weights(rebuilt, weights_path_for(project_path)) == []
    return project, rebuilt


def pixels(n=2, size=64, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, size, size, 3)).astype("float32")


def inferred(model, x):
    """The model's outputs in inference mode, called directly: what predict() computes, without
    tracing a graph function first (seconds for a backbone of hundreds of layers)."""
    return np.asarray(model(x, training=False))


@pytest.mark.slow
@pytest.mark.parametrize(
    "app",
    [a if a in ("MobileNetV3Small", "ConvNeXtTiny") else pytest.param(a, marks=HEAVY)
     for a in BACKBONES],
)  # fmt: skip
def test_backbone_under_a_new_head_imports_with_keras_counts(app, tmp_path):
    model = under_new_head(app)
    project, rebuilt = reloaded(model, tmp_path, app)
    block = next(n for n in project.graph if node_kinds.kind(n) == node_kinds.BLOCK)
    assert node_kinds.is_frozen(block)  # the frozen state travels with the block
    inference = ShapeInference(project.graph)
    inference.update()
    assert not [p for p in inference.problems() if p[1] == "error"]
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable_split(inference.info) == (
        model.count_params(),
        trainable,
        model.count_params() - trainable,
    )
    x = pixels()
    np.testing.assert_allclose(inferred(rebuilt, x), inferred(model, x), atol=1e-5)


def test_keras_io_style_model_with_ops_between_layers_round_trips(tmp_path):
    tokens = keras.Input((6, 8), name="tokens")
    q = layers.Dense(8, name="query")(tokens)
    k = layers.Dense(8, name="key")(tokens)
    scores = ops.softmax(ops.matmul(q, ops.transpose(k, (0, 2, 1))) / 8**0.5, axis=-1)
    attended = ops.add(ops.matmul(scores, tokens), tokens)
    pooled = ops.mean(ops.reshape(attended, (-1, 6, 2, 4)), axis=2)
    joined = ops.concatenate([ops.max(pooled, axis=1), ops.min(pooled, axis=1)], axis=-1)
    model = keras.Model(tokens, layers.Dense(2, name="out")(joined))
    project, rebuilt = reloaded(model, tmp_path)
    operations = [n for n in project.graph if node_kinds.kind(n) == node_kinds.OPERATION]
    names = {node_kinds.operation_name(n) for n in operations}
    assert {"ops.matmul", "ops.transpose", "ops.softmax", "ops.reshape", "ops.mean"} <= names
    assert next(n for n in operations if n.class_name == "Reshape").config["newshape"] == [
        -1,
        6,
        2,
        4,
    ]
    x = np.random.default_rng(1).normal(size=(3, 6, 8)).astype("float32")
    np.testing.assert_allclose(
        rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5
    )
    # What was imported exports back to the same structure: import the rebuilt model again.
    again = reloaded(rebuilt, tmp_path, "again")[0]
    assert again.graph.to_dict()["edges"] == project.graph.to_dict()["edges"]


def test_operation_arguments_are_edited_and_inferred(tmp_path):
    inputs = keras.Input((4, 6))
    model = keras.Model(inputs, ops.mean(layers.Dense(6, name="d")(inputs), axis=1))
    project, _ = reloaded(model, tmp_path)
    mean = next(n for n in project.graph if n.class_name == "Mean")
    inference = ShapeInference(project.graph)
    inference.update()
    assert inference.info[mean.id].output_shape == (None, 6)
    project.graph.set_config(mean.id, {**mean.config, "axis": 2})
    inference.update()
    assert inference.info[mean.id].output_shape == (None, 4)


def test_shared_layer_and_lstm_states_round_trip(tmp_path):
    encoder_in = keras.Input((5, 3), name="encoder_in")
    decoder_in = keras.Input((4, 3), name="decoder_in")
    _, state_h, state_c = layers.LSTM(6, return_state=True, name="encoder")(encoder_in)
    decoded = layers.LSTM(6, return_sequences=True, name="decoder")(
        decoder_in, initial_state=[state_h, state_c]
    )
    shared = layers.Dense(3, name="shared_head")
    left = shared(decoded)
    right = shared(layers.Dense(6, name="detour")(decoded))
    model = keras.Model([encoder_in, decoder_in], layers.Add(name="sum")([left, right]))
    project, rebuilt = reloaded(model, tmp_path)
    graph = project.graph
    heads = [n for n in graph if n.class_name == "Dense" and "shared_head" in n.name]
    assert len(heads) == 2 and heads[1].shares == heads[0].id
    encoder = graph.node_by_name("encoder")
    assert sorted(e.source_port for e in graph.out_edges(encoder.id)) == [1, 2]
    assert rebuilt.count_params() == model.count_params()
    rng = np.random.default_rng(2)
    x = [rng.normal(size=(2, 5, 3)).astype("float32"), rng.normal(size=(2, 4, 3)).astype("float32")]
    np.testing.assert_allclose(
        rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5
    )


def palette_backbone(app: str, weights: str = "none", size: int = 64) -> Graph:
    graph = Graph()
    image = graph.add_node("InputLayer", {"name": "image", "shape": [size, size, 3]})
    block = graph.add_node(app, {**backbones.default_config(), "weights": weights})
    head = graph.add_node("Dense", {"units": 3, "activation": "softmax"})
    graph.connect(image.id, block.id)
    graph.connect(block.id, head.id)
    return graph


# One family of each preprocessing mode the block adds (tf, torch, caffe), the quickest to
# build: MobileNet scales like ResNet50V2, VGG16 centres like ResNet50; DenseNets alone use torch.
@pytest.mark.parametrize("app", ["MobileNet", "DenseNet121", "VGG16"])
def test_palette_backbone_takes_raw_pixels(app):
    """The block applies the family's preprocess_input inside: equal to Keras's own
    application fed with preprocess_input, on the same weights."""
    graph = palette_backbone(app, size=32)
    inference = ShapeInference(graph)
    inference.update()
    assert not [p for p in inference.problems() if p[1] == "error"]
    model = build_model(graph)
    block = model.get_layer(app.lower())
    network = next(layer for layer in block.layers if isinstance(layer, keras.Model))
    module = {"MobileNet": "mobilenet", "DenseNet121": "densenet", "VGG16": "vgg16"}[app]
    assert backbones.FAMILIES[app].preprocessing == {"MobileNet": "tf", "DenseNet121": "torch",
                                                     "VGG16": "caffe"}[app]  # fmt: skip
    preprocess = getattr(keras.applications, module).preprocess_input
    x = pixels(size=32, seed=3)
    np.testing.assert_allclose(
        inferred(block, x), inferred(network, preprocess(x.copy())), atol=1e-4
    )


def test_the_larger_families_preprocess_as_the_ones_built_above():
    """ResNet50V2 and ResNet50, too slow to build for every run, share their mode (and Keras its
    preprocess_input) with MobileNet and VGG16, which test_palette_backbone_takes_raw_pixels
    builds."""
    applications = keras.applications
    x = pixels(size=32, seed=3)
    for large, built, module, built_module in [
        ("ResNet50V2", "MobileNet", applications.resnet_v2, applications.mobilenet),
        ("ResNet50", "VGG16", applications.resnet, applications.vgg16),
    ]:
        assert backbones.FAMILIES[large].preprocessing == backbones.FAMILIES[built].preprocessing
        np.testing.assert_array_equal(
            module.preprocess_input(x.copy()), built_module.preprocess_input(x.copy())
        )


def test_backbone_problems_are_one_sentence():
    graph = palette_backbone("MobileNetV2", size=16)
    inference = ShapeInference(graph)
    inference.update()
    messages = [m for _, severity, m in inference.problems() if severity == "error"]
    assert any("at least 32x32" in m and "mobilenetv2" in m for m in messages), messages
    gray = palette_backbone("MobileNetV2")
    gray.set_config(gray.node_by_name("image").id, {"name": "image", "shape": [64, 64, 1]})
    inference = ShapeInference(gray)
    inference.update()
    assert any("3 channels" in m for _, _, m in inference.problems())


@pytest.fixture
def keras_cache(tmp_path, monkeypatch):
    """An empty Keras cache folder, and no network: any download attempt fails."""
    import urllib.request

    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras_home"))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlretrieve", offline)
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    return tmp_path / "keras_home"


def test_imagenet_weights_load_from_keras_cache_offline(keras_cache, tmp_path):
    wanted = backbones.weights_file("MobileNetV3Small", False, (64, 64, 3))
    assert wanted.cached_path.is_relative_to(keras_cache)
    keras.utils.set_random_seed(7)
    reference = keras.applications.MobileNetV3Small(
        include_top=False, weights=None, input_shape=(64, 64, 3)
    )
    saved = tmp_path / "reference.weights.h5"
    reference.save_weights(saved)
    wanted.cached_path.parent.mkdir(parents=True)
    saved.rename(wanted.cached_path)  # as Keras's loader would have left it
    graph = palette_backbone("MobileNetV3Small", weights="imagenet")
    model = build_model(graph)
    block = model.get_layer("mobilenetv3small")
    for mine, theirs in zip(block.weights, reference.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_imagenet_weights_offline_and_not_cached_is_one_sentence(keras_cache):
    from deepgui.core.errors import BuildError

    graph = palette_backbone("MobileNetV3Small", weights="imagenet")
    with pytest.raises(BuildError, match=r"not in Keras's cache .* choose weights 'none'"):
        build_model(graph)


def test_project_with_backbone_saves_and_reopens(tmp_path):
    graph = palette_backbone("MobileNetV3Small")
    model = build_model(graph)
    path = tmp_path / "transfer.dgproj"
    project = Project(graph=graph)
    project.save(path)
    save_weights(model, weights_path_for(path))
    reopened = load_project(path)
    rebuilt = build_model(reopened.graph)
    assert load_weights(rebuilt, weights_path_for(path)) == []
    x = pixels(seed=4)
    np.testing.assert_allclose(inferred(rebuilt, x), inferred(model, x), atol=1e-5)


def test_import_keeps_what_the_model_was_compiled_with(tmp_path):
    from deepgui.core.training.config import TrainingConfig, make_optimizer

    inputs = keras.Input((4,), name="features")
    model = keras.Model(inputs, layers.Dense(3, activation="softmax", name="kind")(inputs))
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    project, _ = reloaded(model, tmp_path)
    training = project.training
    assert (training["optimizer"], training["learning_rate"], training["momentum"]) == (
        "sgd",
        0.05,
        0.9,
    )
    assert training["loss"] == "sparse_categorical_crossentropy"
    optimizer = make_optimizer(TrainingConfig.from_dict(training), steps_per_epoch=10)
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(optimizer.learning_rate) == pytest.approx(0.05)
    assert float(optimizer.momentum) == pytest.approx(0.9)
    # ... and the .keras export writes them back.
    from deepgui.core.export import export_project

    report = export_project(tmp_path / "model.dgproj", "keras", tmp_path / "out.keras")
    assert report.ok, report.message
    back = keras.saving.load_model(tmp_path / "out.keras", safe_mode=True)
    assert isinstance(back.optimizer, keras.optimizers.SGD)
    assert float(back.optimizer.learning_rate) == pytest.approx(0.05)
    assert float(back.optimizer.momentum) == pytest.approx(0.9)
    assert back.loss == "sparse_categorical_crossentropy"


def tinted_folder(root, per_class: int = 8, size: int = 64):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, tint in {"red": (200, 40, 40), "green": (40, 200, 40), "blue": (40, 40, 200)}.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = (rng.normal(0, 50, (size, size, 3)) + tint).clip(0, 255).astype("uint8")
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def imported_to_fine_tune(model_file, project_file, epochs: int, **fine_tuning):
    """`deepgui import` of a model file, its project set to fine-tune (saved)."""
    import_model_file(model_file, project_file)
    project = load_project(project_file)
    project.training.update(epochs=epochs, batch_size=8,
                            fine_tuning={"enabled": True, **fine_tuning})  # fmt: skip
    project.save(project_file)
    return project_file


@HEAVY
@pytest.mark.slow
@pytest.mark.parametrize("app", BACKBONES)
def test_backbone_fine_tunes_and_exports_within_tolerance(app, tmp_path):
    import json

    from deepgui.core.export import export_project
    from deepgui.core.predict import predict_file

    model = under_new_head(app)
    model.save(tmp_path / "brought.keras")
    project_file = imported_to_fine_tune(
        tmp_path / "brought.keras", tmp_path / "brought.dgproj", epochs=3,
        frozen_epochs=2, unfreeze_layers=10, learning_rate=1e-4,
    )  # fmt: skip
    before = load_project(project_file)
    block_name = next(n.name for n in before.graph if node_kinds.kind(n) == node_kinds.BLOCK)
    run = tmp_path / "run"
    train_as_the_cli_does(project_file, tinted_folder(tmp_path / "images"), run)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs_run"] == 3
    assert (
        metrics["fine_tuning"]["from_epoch"] == 3 and metrics["fine_tuning"]["unfrozen_layers"] > 0
    )
    trained = keras.saving.load_model(run / "model.keras", safe_mode=True)
    backbone = next(
        layer for layer in trained._flatten_layers() if layer.name == block_name
    )  # phase two left its top layers trainable and its BatchNormalization frozen
    leaves = [layer for layer in backbone._flatten_layers(include_self=False) if layer.weights]
    assert any(layer.trainable for layer in leaves)
    assert not any(
        layer.trainable for layer in leaves if isinstance(layer, layers.BatchNormalization)
    )
    images = tmp_path / "images"
    by_keras = np.asarray(predict_file(run, images).outputs, dtype="float64")
    for fmt, name in (("keras", "model.keras"), ("onnx", "model.onnx"), ("tflite", "model.tflite")):
        report = export_project(run, fmt, tmp_path / name)
        assert report.ok, report.message
        exported = np.asarray(predict_file(tmp_path / name, images).outputs, dtype="float64")
        np.testing.assert_allclose(exported, by_keras, atol=1e-4)


def test_fine_tuning_freezes_then_unfreezes_the_top_of_the_block(tmp_path):
    """The engine's two phases on a small block (a Sequential used as a layer): phase one
    trains the head alone, phase two the block's top layer too, BatchNormalization frozen
    (its moving statistics untouched), at the fine-tuning learning rate."""
    import json

    keras.utils.set_random_seed(0)
    block = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(4, 3, name="low"),
            layers.BatchNormalization(name="bn"),
            layers.Conv2D(4, 3, name="top"),
        ],
        name="block",
    )
    inputs = keras.Input((8, 8, 3), name="image")
    x = layers.GlobalAveragePooling2D(name="pool")(block(inputs))
    keras.Model(inputs, layers.Dense(2, activation="softmax", name="head")(x)).save(
        tmp_path / "small.keras"
    )
    project_file = imported_to_fine_tune(
        tmp_path / "small.keras", tmp_path / "small.dgproj", epochs=2,
        frozen_epochs=1, unfreeze_layers=2, learning_rate=1e-3,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 48)
    x = rng.normal(size=(48, 8, 8, 3)).astype("float32") + y[:, None, None, None]
    np.savez(tmp_path / "data.npz", x=x, y=y)
    before = keras.saving.load_model(tmp_path / "small.keras").get_layer("block")
    run = tmp_path / "run"
    train_as_the_cli_does(project_file, tmp_path / "data.npz", run)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["fine_tuning"] == {"from_epoch": 2, "learning_rate": 1e-3, "unfrozen_layers": 1}
    after = keras.saving.load_model(run / "model.keras", safe_mode=True)
    trained = next(layer for layer in after._flatten_layers() if layer.name == "block")
    layer = {sub.name: sub for sub in trained._flatten_layers(include_self=False)}
    # The top two layers with weights are bn and top; bn stays frozen, so one layer trained.
    assert layer["top"].trainable and not layer["bn"].trainable and not layer["low"].trainable
    changed = {
        name: not np.allclose(before.get_layer(name).get_weights()[0], layer[name].get_weights()[0])
        for name in ("low", "top")
    }
    assert changed == {"low": False, "top": True}
    np.testing.assert_allclose(  # moving mean: never updated, in inference mode throughout
        before.get_layer("bn").get_weights()[2], layer["bn"].get_weights()[2]
    )


def test_a_block_opens_for_editing_with_its_weights_and_undo_closes_it(tmp_path):
    from deepgui.core.commands import ExpandBlock

    block = keras.Sequential(
        [keras.Input((6,)), layers.Dense(5, activation="relu", name="inner"),
         layers.Dense(4, name="inner_out")],
        name="encoder",
    )  # fmt: skip
    inputs = keras.Input((6,), name="x")
    model = keras.Model(inputs, layers.Dense(2, name="head")(ops.relu(block(inputs))))
    project, _ = reloaded(model, tmp_path)
    block_node = project.graph.node_by_name("encoder")
    assert node_kinds.opens_for_editing(block_node)
    before = project.graph.to_dict()
    project.undo.push(ExpandBlock(block_node.id))
    graph = project.graph
    assert graph.node_by_name("encoder") is None
    assert {"inner", "inner_out"} <= {n.name for n in graph}
    inner_out = graph.node_by_name("inner_out")
    assert [graph.nodes[e.target].class_name for e in graph.out_edges(inner_out.id)] == ["Relu"]
    rebuilt = build_model(graph)
    assert load_weights(rebuilt, weights_path_for(tmp_path / "model.dgproj")) == []
    x = np.random.default_rng(5).normal(size=(3, 6)).astype("float32")
    np.testing.assert_allclose(
        rebuilt.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5
    )
    project.undo.undo()
    assert project.graph.to_dict() == before


def test_a_block_holding_a_keras_only_class_stays_one_block():
    backbone = keras.applications.ConvNeXtTiny(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    inputs = keras.Input((32, 32, 3))
    graph = import_model(keras.Model(inputs, backbone(inputs))).graph
    block = next(n for n in graph if node_kinds.kind(n) == node_kinds.BLOCK)
    assert not node_kinds.opens_for_editing(block)  # its LayerScale: Keras's own code
