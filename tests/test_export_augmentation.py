"""Random augmentation layers act only in training, so every export leaves them out: a model
with the app's own "Augment the images" remedy (RandomRotation, RandomZoom) exports to every
format, passes each export's check, and the artefacts, run outside deepgui on the raw files,
score what the run scored. The run's own model keeps them (it may train on)."""

from __future__ import annotations

import inspect
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from deepgui.core.export import export_model
from deepgui.core.export.augmentation import AUGMENTATION, without_augmentation
from deepgui.core.project import load_project
from deepgui.core.training.remedies import suggest_remedies
from tests.rawdata import cnn_project, mixed_project, write_image_folder, write_mixed_csv
from tests.test_raw_model import (
    FORMATS,
    deepgui_commands,
    scores_of,
    start_consuming,
    val_accuracy,
)

# Op types of the random transforms (as tf2onnx would emit them, had it the ops).
RANDOM_OPS = {"RandomUniform", "RandomUniformLike", "RandomNormal", "RandomNormalLike"}


def test_every_listed_layer_is_the_identity_at_inference():
    import keras

    x = np.random.default_rng(0).uniform(0, 255, (2, 12, 12, 3)).astype("float32")
    args = {"RandomCrop": {"height": 6, "width": 6}, "RandomPosterization": {"factor": (1, 8)}}
    found = set()
    for name in dir(keras.layers):
        if not (name.startswith("Rand") or name in AUGMENTATION):
            continue
        kind = getattr(keras.layers, name)
        needed = {  # a factor, a rate or a deviation of 0.2 for each argument it needs
            p.name: 0.2
            for p in inspect.signature(kind).parameters.values()
            if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD
        }
        layer = kind(**(args.get(name) or needed))
        same = np.array_equal(np.asarray(layer(x, training=False)), x)
        if name in AUGMENTATION:
            assert same, f"{name} changes the data at inference"
            found.add(name)
        else:  # Keras's one other random layer gives another shape: it stays in exports
            assert name == "RandomCrop"
            assert tuple(layer.compute_output_shape(x.shape)) == (2, 6, 6, 3)
    assert found == AUGMENTATION


def test_a_sequential_model_with_noise_and_flips_exports_to_onnx(tmp_path):
    import keras
    import onnxruntime as ort

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1), name="pixels"),
            keras.layers.RandomFlip(),
            keras.layers.GaussianNoise(0.3),
            keras.layers.Conv2D(3, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.GaussianDropout(0.2),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    report = export_model(model, "onnx", tmp_path / "flips.onnx")
    assert report.ok, report.message
    noise = [layer.name for layer in model.layers if "Gaussian" in type(layer).__name__]
    flip = model.layers[0].name
    assert f"without {flip}, {noise[0]}, {noise[1]}: augmentation acts only in" in report.message
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["pixels"]
    x = np.random.default_rng(1).normal(size=(5, 6, 6, 1)).astype("float32")
    (got,) = session.run(None, {"pixels": x})
    np.testing.assert_allclose(got, np.asarray(model(x, training=False)), atol=1e-5)
    # The model given is left as it is, augmentation and all; the rebuilt one shares its
    # layers, so its weights are the trained ones, not copies.
    assert [type(layer).__name__ for layer in model.layers][:2] == ["RandomFlip", "GaussianNoise"]
    stripped, dropped = without_augmentation(model)
    assert dropped == [flip, *noise]
    conv = next(layer for layer in stripped.layers if isinstance(layer, keras.layers.Conv2D))
    assert conv is model.layers[2]


def _keras_layer_classes(path: Path) -> set[str]:
    """Every layer class named in a .keras file's config, nested models included."""
    with zipfile.ZipFile(path) as archive:
        text = archive.read("config.json").decode("utf-8")
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("class_name"), str):
                found.add(node["class_name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(text))
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, SimpleNamespace]:
    """The two runs the slow tests below check, made side by side on the test machine's
    cores: each trained through `deepgui train` in a process of its own, exported to every
    format through `deepgui export` as a user exports, from the run (its four formats in one
    process), and its artefacts scored on the raw files by tests/raw_consumer.py."""
    folder = tmp_path_factory.mktemp("augmentation")
    made = {"cnn": _augmented(folder / "cnn"), "table": _noisy(folder / "table")}
    training = {name: deepgui_commands(run.train) for name, run in made.items()}
    exporting, consuming = {}, {}
    for name, run in made.items():  # each run goes on as soon as it is ready
        training[name].ok()
        exporting[name] = deepgui_commands(
            *(("export", run.run, "--format", fmt, "-o", run.exports / f"model_{fmt}")
              for fmt in FORMATS)
        )  # fmt: skip
    for name, run in made.items():
        run.exported = dict(zip(FORMATS, exporting[name].ok(), strict=True))
        run.artefacts = [
            next(p for p in run.exports.iterdir() if p.stem == f"model_{fmt}") for fmt in FORMATS
        ]
        consuming[name] = start_consuming((run.data, run.artefacts))
    for name, run in made.items():
        run.scores = scores_of(consuming[name])[0]
    return made


def _augmented(folder: Path) -> SimpleNamespace:
    """A folder of PNGs, and a CNN project with the app's "Augment the images" remedy."""
    folder.mkdir()
    images = write_image_folder(folder / "shapes")
    path = cnn_project(folder / "cnn.dgproj", epochs=12)
    project = load_project(path)
    next(r for r in suggest_remedies(project) if r.key == "augmentation").apply(project)
    project.save(path)
    run = folder / "run"
    train = ("train", path, "--data", images, "--out", run)
    return SimpleNamespace(data=images, project=path, run=run, exports=folder / "exports",
                           train=train)  # fmt: skip


def _noisy(folder: Path) -> SimpleNamespace:
    """A shop's CSV, and a table project whose network has GaussianNoise right after its
    numeric features."""
    folder.mkdir()
    data = write_mixed_csv(folder / "shop.csv", rows=300)
    path = mixed_project(folder / "shop.dgproj")
    project = load_project(path)
    graph = project.graph
    features = graph.node_by_name("features")
    dense = next(graph.node(s) for s in graph.successors(features.id))
    noise = graph.add_node("GaussianNoise", {"stddev": 0.5})
    edge = next(e for e in graph.out_edges(features.id))
    graph.disconnect(edge)
    graph.connect(features.id, noise.id, 0)
    graph.connect(noise.id, dense.id, 0)
    project.save(path)
    run = folder / "run"
    train = ("train", path, "--data", data, "--target", "decision", "--epochs", "8", "--out", run)
    return SimpleNamespace(data=data, project=path, run=run, exports=folder / "exports",
                           train=train)  # fmt: skip


@pytest.mark.slow
def test_the_apps_augmentation_remedy_exports_to_every_format(runs):
    made = runs["cnn"]
    assert {"RandomRotation", "RandomZoom"} <= {
        n.class_name for n in load_project(made.project).graph
    }
    run = made.run
    expected = val_accuracy(run)
    assert expected >= 0.85
    for fmt in FORMATS:  # as a user exports: the command line, from the run
        result = made.exported[fmt]
        assert "checked in" in result.stdout, result.stdout
        assert "without random_rotation, random_zoom" in result.stdout, result.stdout
    scores = made.scores
    assert set(scores) == {p.name for p in made.artefacts}
    assert all(score >= expected - 0.04 for score in scores.values()), scores
    # The artefacts hold no random transform; the run's model still trains with them.
    exports = made.exports
    assert not {"RandomRotation", "RandomZoom"} & _keras_layer_classes(
        exports / "model_keras.keras"
    )
    assert {"RandomRotation", "RandomZoom"} <= _keras_layer_classes(run / "model.keras")
    import onnx

    graph = onnx.load(str(exports / "model_onnx.onnx")).graph
    assert not RANDOM_OPS & {node.op_type for node in graph.node}
    assert not [node.name for node in graph.node if "random" in node.name.lower()]


@pytest.mark.slow
def test_noise_inside_a_table_network_behind_its_string_lookups(runs):
    """The network nested behind its preprocessing holds the noise; TFLite and ONNX rebuild the
    preprocessing to take strings as numbers, and still leave it out."""
    made = runs["table"]
    assert "GaussianNoise" in {n.class_name for n in load_project(made.project).graph}
    for fmt in FORMATS:
        result = made.exported[fmt]
        assert "without gaussian_noise" in result.stdout, result.stdout
    scores = made.scores
    assert set(scores) == {p.name for p in made.artefacts}
    # Noise left in would make the formats disagree; left out, they predict alike.
    assert max(scores.values()) - min(scores.values()) <= 1 / 300, scores
    assert min(scores.values()) >= 0.8, scores
