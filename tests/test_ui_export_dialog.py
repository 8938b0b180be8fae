"""The Export dialog: sources (runs, then the editor's model), options per format, the export
running in the background and its self-check shown."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("pytestqt")

from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.export_dialog import ExportDialog  # noqa: E402
from tests.helpers import small_cnn  # noqa: E402

pytestmark = pytest.mark.ui


@pytest.fixture
def project_with_run(tmp_path):
    from deepgui.core.build import build_model

    graph, _ = small_cnn()
    project = Project(graph=graph)
    project.save(tmp_path / "digits.dgproj")
    run = tmp_path / "digits.runs" / "20261125-101010"
    run.mkdir(parents=True)
    build_model(graph).save(run / "model.keras")
    best = {"epoch": 3, "monitor": "val_loss", "metrics": {"loss": 0.3, "val_loss": 0.25}}
    metrics = {"epochs_run": 3, "stopped_by": "completed", "best": best}
    (run / "metrics.json").write_text(json.dumps(metrics))
    (run / "history.csv").write_text("epoch,loss,val_loss\n1,0.9,0.8\n2,0.5,0.4\n3,0.3,0.25\n")
    # The run keeps its own copy, which names the project it belongs to.
    Project(graph=graph.copy(), id=project.id).save(run / "project.dgproj")
    return project, run


def test_runs_are_offered_first_and_the_editor_model_last(qtbot, project_with_run):
    project, run = project_with_run
    dialog = ExportDialog(project)
    qtbot.addWidget(dialog)
    assert dialog.source.count() == 2
    assert dialog.source.itemData(0) == run
    assert "3 epochs, completed (best epoch 3: val_loss 0.25)" in dialog.source.itemText(0)
    assert "untrained" in dialog.source.itemText(1)


def test_options_follow_the_format(qtbot, project_with_run):
    dialog = ExportDialog(project_with_run[0])
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("tflite"))
    dialog.quantize.setCurrentIndex(dialog.quantize.findData("float16"))
    assert dialog.options() == {"quantize": "float16"}
    assert dialog.path.text().endswith("digits.tflite")
    dialog.format.setCurrentIndex(dialog.format.findData("onnx"))
    dialog.opset.setValue(15)
    assert dialog.options() == {"opset": 15}


def test_history_needs_a_run(qtbot, project_with_run):
    dialog = ExportDialog(project_with_run[0])
    qtbot.addWidget(dialog)
    dialog.source.setCurrentIndex(1)  # the editor's model
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    assert not dialog.export_button.isEnabled()
    assert "train first, or pick a run" in dialog.result.text()
    dialog.source.setCurrentIndex(0)
    assert dialog.export_button.isEnabled()


def test_export_runs_in_background_and_shows_the_check(qtbot, project_with_run, tmp_path):
    dialog = ExportDialog(project_with_run[0])
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "out.keras"))
    with qtbot.waitSignal(dialog.export_done, timeout=120_000):
        dialog.start_export()
        assert not dialog.export_button.isEnabled()  # returned at once; the work goes on
    assert dialog.report is not None and dialog.report.ok
    assert (tmp_path / "out.keras").exists()
    assert "largest difference" in dialog.result.text()
    assert dialog.export_button.isEnabled()


def test_a_failed_export_is_shown_not_raised(qtbot, project_with_run, tmp_path):
    dialog = ExportDialog(project_with_run[0])
    qtbot.addWidget(dialog)
    dialog.path.setText(str(tmp_path / "wrong.onnx"))  # .onnx suffix for the keras format
    with qtbot.waitSignal(dialog.export_done, timeout=120_000):
        dialog.start_export()
    assert dialog.report is None
    assert "wrong.onnx" in dialog.result.text()


def test_an_unsaved_projects_run_exports_before_and_after_save_as(qtbot, tmp_path):
    """Train an unsaved project, export its run, Save As elsewhere, export the run again."""
    from PySide6.QtCore import Qt

    from deepgui.core.data import load_dataset
    from deepgui.core.training import TrainingConfig, TrainingEngine, runs
    from tests.helpers import add

    graph = Project().graph
    add(graph, "Dense", add(graph, "InputLayer", shape=[4]), units=3, activation="softmax")
    project = Project(graph=graph, dataset={"source": "builtin", "name": "iris"})
    data = load_dataset(project.dataset, graph=graph)
    config = TrainingConfig.from_dict({"epochs": 1})
    TrainingEngine(graph, data, config, project=project, run_dir=runs.new_run_dir(project)).run()

    for round_, folder in enumerate(("before", "after")):
        dialog = ExportDialog(project)
        qtbot.addWidget(dialog)
        assert dialog.source.count() == 2 and "1 epochs, completed" in dialog.source.itemText(0)
        assert "2 layers" in dialog.source.itemText(0)
        dialog.source.setCurrentIndex(0)
        dialog.path.setText(str(tmp_path / folder / "iris.keras"))
        with qtbot.waitSignal(dialog.export_done, timeout=120_000):
            qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        assert dialog.report is not None and dialog.report.ok, dialog.result.text()
        assert "iris.keras.signature.json" in dialog.result.text()
        if round_ == 0:
            project.save(tmp_path / "elsewhere" / "iris.dgproj")
            assert dialog.source.itemData(0) != runs.project_runs(project)[0].path
    assert runs.project_runs(project)[0].path.parent == tmp_path / "elsewhere" / "iris.runs"
