"""The data and configuration forms edit the project's dicts, preview the data, and check it
against the model before training."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.core.training.config import parse_training  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.helpers import add  # noqa: E402
from tests.test_ui_training_panel import digits_project  # noqa: E402

pytestmark = pytest.mark.ui


def test_configuration_form_edits_the_training_dict(qtbot, tmp_path):
    project = digits_project(tmp_path)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    form = panel.form
    assert form.epochs.value() == 3 and form.batch_size.value() == 64
    form.optimizer.setCurrentText("sgd")
    assert project.undo.undo_text() == "Change training settings" and not project.undo.is_clean
    form.epochs.setValue(7)
    form.schedule.setCurrentText("cosine")
    form.es_enabled.setChecked(True)
    form.metrics.setText("accuracy, top_k_categorical_accuracy")
    form.metrics.editingFinished.emit()
    cfg = parse_training(project.training)
    assert (cfg.optimizer, cfg.epochs, cfg.schedule.kind) == ("sgd", 7, "cosine")
    assert cfg.early_stopping.enabled and cfg.metrics == ["accuracy", "top_k_categorical_accuracy"]
    assert not form.schedule_every.isEnabled()  # only the step schedule uses it
    assert form.schedule_every.isHidden()
    assert form.error.text() == ""
    # The plateau schedule's own fields appear and reach the settings.
    form.schedule.setCurrentText("plateau")
    assert not form.schedule_patience.isHidden() and not form.schedule_min_lr.isHidden()
    form.schedule_patience.setValue(4)
    form.schedule_min_lr.setValue(1e-5)
    cfg = parse_training(project.training)
    assert (cfg.schedule.kind, cfg.schedule.patience) == ("plateau", 4)
    assert cfg.schedule.min_learning_rate == pytest.approx(1e-5)
    form.schedule.setCurrentText("cosine")
    assert form.schedule_patience.isHidden() and not form.schedule_min_lr.isHidden()
    # Devices found in the background join the menu; the choice is written as its spec.
    form.set_devices([("gpu:0", "GPU 0: Test card (80 GiB)")])
    form.device.setCurrentIndex(form.device.findData("gpu:0"))
    assert project.training["device"] == "gpu:0"
    # A bad value in the file is reported by the core's own sentence, naming the field.
    project.training["batch_size"] = 0
    form.load(project.training)
    assert "training.batch_size" in form.error.text()


def test_data_form_preview_and_check(qtbot, tmp_path):
    project = digits_project(tmp_path)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    view = panel.data_view
    assert view.source.currentData() == "builtin" and view.builtin.currentData() == "digits"

    view.refresh_preview()
    qtbot.waitUntil(lambda: view.last_preview is not None, timeout=60000)
    assert "image_arrays" in view.last_preview and view.stack.currentIndex() == 1
    assert len(view.last_preview["image_arrays"]) == 10  # a row of thumbnails per class
    assert "training" in view.status.text()

    with qtbot.waitSignal(view.checked, timeout=60000) as blocker:
        view.check()
    assert blocker.args[0] is True, blocker.args[1]

    project.graph.node_by_name("dense_1").config["units"] = 3
    with qtbot.waitSignal(view.checked, timeout=60000) as blocker:
        view.check()
    assert blocker.args[0] is False and "10" in blocker.args[1]

    # Iris: a CSV with a text target column; the table shows each column's inferred type.
    view.builtin.setCurrentIndex(view.builtin.findData("iris"))
    assert project.dataset["name"] == "iris"
    assert project.undo.undo_text() == "Change data settings"
    view.last_preview = None
    view.refresh_preview()
    qtbot.waitUntil(lambda: view.last_preview is not None, timeout=60000)
    assert view.stack.currentIndex() == 0
    headers = [view.table.horizontalHeaderItem(i).text() for i in range(view.table.columnCount())]
    assert headers[0] == "sepal_length\n(numeric)" and headers[-1] == "species\n(category)"
    assert view.table.rowCount() > 0

    view.builtin.setCurrentIndex(view.builtin.findData("sequence"))
    view.last_preview = None
    view.refresh_preview()
    qtbot.waitUntil(lambda: view.last_preview is not None, timeout=60000)
    assert view.stack.currentIndex() == 2 and view.sequence_plot.getPlotItem().listDataItems()

    # Split settings and a CSV source with a target column.
    view.source.setCurrentIndex(view.source.findData("csv"))
    view.path.setText("missing.csv")
    view.path.editingFinished.emit()
    view.target.setCurrentText("label")
    view.target.lineEdit().editingFinished.emit()
    view.validation.setValue(0.3)
    assert project.dataset["source"] == "csv" and project.dataset["path"] == "missing.csv"
    assert project.dataset["target"] == "label" and project.dataset["validation_split"] == 0.3
    assert "name" not in project.dataset and "window" not in project.dataset
    view.source.setCurrentIndex(view.source.findData("timeseries"))
    view.window.setValue(12)
    assert project.dataset["source"] == "timeseries" and project.dataset["window"] == 12
    assert project.dataset["horizon"] == 1
    view.source.setCurrentIndex(view.source.findData("csv"))
    view.last_preview = None
    view.refresh_preview()
    qtbot.waitUntil(lambda: view.last_preview is not None, timeout=60000)
    assert "missing.csv" in view.last_preview["error"] and "Traceback" not in view.status.text()


def test_an_unsaved_project_without_data_asks_for_it(qtbot):
    g = Graph()
    add(g, "Dense", add(g, "InputLayer", shape=[4]), units=1)
    project = Project(graph=g)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    assert not panel.start_training()
    assert "data" in panel.message.text().lower() and not panel.is_training()


def test_missing_values_choice_writes_the_field_and_the_preview_says_what_was_done(qtbot, tmp_path):
    (tmp_path / "gaps.csv").write_text(
        "size,colour,label\n1.0,red,a\n,blue,b\n3.0,,a\n4.0,red,\n5.0,blue,b\n6.0,red,a\n"
        "7.0,blue,b\n8.0,red,a\n"
    )
    g = Graph()
    add(g, "Dense", add(g, "InputLayer", shape=[4]), units=2, activation="softmax")
    project = Project(graph=g, dataset={"source": "csv", "path": "gaps.csv", "target": "label",
                                        "validation_split": 0.25})  # fmt: skip
    project.save(tmp_path / "gaps.dgproj")
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    view = panel.data_view
    assert view.missing.currentData() == "fill" and view.missing.isEnabled()

    def preview() -> str:
        view.last_preview = None
        qtbot.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.last_preview is not None, timeout=60000)
        return view.missing_label.text()

    assert preview() == (
        "2 missing cells filled inside the model; 1 row without a target left out."
    )
    view.missing.setCurrentIndex(view.missing.findData("drop"))
    assert project.dataset["missing"] == "drop" and view.missing_label.text() == ""
    assert preview() == "3 rows with missing values dropped (3 empty cells)."
    view.missing.setCurrentIndex(view.missing.findData("refuse"))
    assert project.dataset["missing"] == "refuse"
    assert preview() == ""
    assert "gaps.csv" in view.last_preview["error"] and "row" in view.status.text()
    # The field as saved comes back into the form; "error" is the old name of "refuse".
    view.load({**project.dataset, "missing": "error"})
    assert view.missing.currentData() == "refuse"
    view.source.setCurrentIndex(view.source.findData("npz"))
    assert not view.missing.isEnabled()  # arrays have no empty cells
