"""Exports are traced in inference mode: a network with Dropout, trained on an image folder, a
table or a sequence, exports to ONNX, TFLite and SavedModel, and each export passes its check
(no random op of Dropout left in the graph: ONNX has none for StatelessRandomUniformV2)."""

from __future__ import annotations

import numpy as np
import pytest

from deepgui.core.export import export_project
from deepgui.core.graph import Graph
from deepgui.core.project import Project
from tests.helpers import add, train_as_the_cli_does
from tests.rawdata import write_image_folder

pytest.importorskip("onnxruntime")

FORMATS = (("onnx", "model.onnx"), ("tflite", "model.tflite"), ("savedmodel", "model_saved"))


def image_cnn(path):
    g = Graph()
    x = add(g, "InputLayer", shape=[8, 8, 1], name="image")
    x = add(g, "Conv2D", x, filters=4, kernel_size=[3, 3], activation="relu")
    x = add(g, "Dropout", add(g, "Flatten", x), rate=0.5)
    add(g, "Dense", x, units=3, activation="softmax")
    Project(graph=g, training={"epochs": 1, "batch_size": 16}).save(path)
    return path


def table_net(path):
    g = Graph()
    x = add(g, "Dense", add(g, "InputLayer", shape=[2], name="features"), units=8)
    add(g, "Dense", add(g, "Dropout", x, rate=0.5), units=2, activation="softmax")
    Project(graph=g, training={"epochs": 1, "batch_size": 16}).save(path)
    return path


def sequence_net(path):
    g = Graph()
    x = add(g, "LSTM", add(g, "InputLayer", shape=[6, 1], name="series"), units=4)
    add(g, "Dense", add(g, "Dropout", x, rate=0.5), units=2, activation="softmax")
    Project(graph=g, training={"epochs": 1, "batch_size": 16}).save(path)
    return path


def sequences(path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 64)
    x = rng.normal(size=(64, 6, 1)) + y[:, None, None]
    np.savez(path, x=x.astype("float32"), y=y)
    return path


def small_table(path):
    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [
        f"{a:.3f},{b:.3f},{'yes' if a + b > 0 else 'no'}" for a, b in rng.normal(size=(80, 2))
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["image_folder", "table", "sequence"])
def test_a_network_with_dropout_exports_to_every_runtime(kind, tmp_path):
    if kind == "image_folder":
        project, data = image_cnn(tmp_path / "p.dgproj"), write_image_folder(tmp_path / "img", 12)
    elif kind == "table":
        project, data = table_net(tmp_path / "p.dgproj"), small_table(tmp_path / "t.csv")
    else:
        project, data = sequence_net(tmp_path / "p.dgproj"), sequences(tmp_path / "s.npz")
    run = tmp_path / "run"
    train_as_the_cli_does(project, data, run, target="label" if kind == "table" else None)
    for fmt, name in FORMATS:
        report = export_project(run, fmt, tmp_path / name)
        assert report.ok, report.message
        assert "StatelessRandom" not in report.message
