"""Exports from what a user has on disk: a project (with or without saved weights), a run
directory, a Keras file; the history and its plots; the Python script."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from deepgui.core.errors import ExportError
from deepgui.core.export import export_project, load_source_model, read_history_csv
from deepgui.core.project import Project, load_project
from tests.helpers import small_cnn

keras = pytest.importorskip("keras")


@pytest.fixture(scope="module")
def project_file(tmp_path_factory):
    graph, _ = small_cnn()
    path = tmp_path_factory.mktemp("proj") / "digits.dgproj"
    Project(graph=graph, dataset={}, training={"epochs": 1}).save(path)
    return path


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory, project_file):
    """A copy of the project with weights beside it, and the model they came from."""
    from deepgui.core.build import build_model
    from deepgui.core.weights import save_weights

    folder = tmp_path_factory.mktemp("trained")
    project = load_project(project_file)
    project.save(folder / "digits.dgproj")
    keras.utils.set_random_seed(7)
    model = build_model(project.graph)
    for layer in model.layers:  # weights no fresh initialiser would produce
        for var in layer.weights:
            var.assign(np.full(var.shape, 0.05, dtype="float32"))
    save_weights(model, project.weights_path)
    return project.path, model


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, trained_project):
    project_path, model = trained_project
    run = tmp_path_factory.mktemp("runs") / "20260101-000000"
    run.mkdir()
    model.save(run / "model.keras")
    load_project(project_path).save(run / "project.dgproj")
    with open(run / "history.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["epoch", "loss", "val_loss", "accuracy", "val_accuracy"])
        for epoch, (loss, val) in enumerate([(1.0, 1.1), (0.6, 0.8), (0.4, "")], start=1):
            writer.writerow([epoch, loss, val, 1 - loss / 2, 0.5])
    return run


def test_project_without_weights_says_untrained(project_file, tmp_path):
    report = export_project(project_file, "keras", tmp_path / "plain")
    assert report.ok, report.message
    assert report.path == tmp_path / "plain.keras"
    assert "untrained" in report.message


def test_project_weights_reach_the_export(trained_project, tmp_path):
    project_path, model = trained_project
    report = export_project(project_path, "onnx", tmp_path / "m.onnx")
    assert report.ok and "untrained" not in report.message, report.message
    import onnxruntime as ort

    x = np.random.default_rng(0).normal(size=(2, 8, 8, 1)).astype("float32")
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(out, np.asarray(model(x, training=False)), atol=1e-5)


def test_project_object_is_accepted(trained_project, tmp_path):
    project = load_project(trained_project[0])
    report = export_project(project, "tflite", tmp_path / "m.tflite", quantize="float16")
    assert report.ok, report.message


def test_run_directory_exports_its_trained_model(run_dir, trained_project, tmp_path):
    model, note = load_source_model(run_dir)
    assert note == ""
    x = np.ones((1, 8, 8, 1), dtype="float32")
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(trained_project[1](x)), atol=1e-6)
    report = export_project(run_dir, "savedmodel", tmp_path / "saved")
    assert report.ok and report.path.is_dir(), report.message


def test_keras_file_is_accepted(run_dir, tmp_path):
    report = export_project(run_dir / "model.keras", "onnx", tmp_path / "m", opset=15)
    assert report.ok and report.path.suffix == ".onnx", report.message


def test_history_csv_and_svg_from_a_run(run_dir, tmp_path):
    history = read_history_csv(run_dir / "history.csv")
    assert history["loss"] == [1.0, 0.6, 0.4]
    assert math.isnan(history["val_loss"][2])
    report = export_project(run_dir, "csv", tmp_path / "hist")
    assert report.ok and report.path.read_text() == (run_dir / "history.csv").read_text()
    report = export_project(run_dir, "svg", tmp_path / "curves.svg")
    assert report.ok and "3 epochs" in report.message
    assert report.path.read_text().startswith("<svg")


def test_history_needs_a_run(project_file, tmp_path):
    with pytest.raises(ExportError, match="run directory"):
        export_project(project_file, "svg", tmp_path / "c.svg")


@pytest.mark.parametrize(
    ("source", "fmt", "match"),
    [
        ("missing.dgproj", "keras", "no such project"),
        ("empty_dir", "keras", "not a run directory"),
        ("broken.dgproj", "keras", "not valid JSON"),
        ("empty_dir", "python", "no project.dgproj"),
        ("missing.dgproj", "jpeg", "Unknown export format"),
    ],
)
def test_bad_sources_are_one_sentence(tmp_path, source, fmt, match):
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "broken.dgproj").write_text("{not json")
    from deepgui.core.errors import DeepGuiError

    with pytest.raises(DeepGuiError, match=match) as info:
        export_project(tmp_path / source, fmt, tmp_path / "out")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_python_script_is_written_and_compiles(project_file, tmp_path):
    pytest.importorskip("deepgui.core.codegen")
    report = export_project(project_file, "python", tmp_path / "train")
    assert report.ok, report.message
    assert report.path.suffix == ".py" and report.size_bytes > 0
    compile(report.path.read_text(), str(report.path), "exec")
