"""Run ▸ Predict on a File: a model trained here for real (iris, 2 epochs) predicts on the iris
CSV in the background; the table, the summary with accuracy, saving, and errors as one
sentence."""

from __future__ import annotations

import csv

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core.data import load_dataset  # noqa: E402
from deepgui.core.paths import datasets_dir, examples_dir  # noqa: E402
from deepgui.core.project import load_project  # noqa: E402
from deepgui.core.training import runs  # noqa: E402
from deepgui.core.training.config import TrainingConfig  # noqa: E402
from deepgui.core.training.engine import TrainingEngine  # noqa: E402
from deepgui.ui import predict_dialog  # noqa: E402
from deepgui.ui.main_window import MainWindow  # noqa: E402

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    """The iris example saved in a folder beside its one finished run (trained for 2 epochs)."""
    root = tmp_path_factory.mktemp("iris")
    project = load_project(examples_dir() / "iris_dense.dgproj")
    project.save(root / "iris.dgproj")
    data = load_dataset(project.dataset, root, graph=project.graph)
    config = TrainingConfig.from_dict({**project.training, "epochs": 2})
    run_dir = runs.new_run_dir(project)
    result = TrainingEngine(project.graph, data, config, project=project,
                            dataset_spec=project.dataset, run_dir=run_dir).run()  # fmt: skip
    assert result.reason == "completed", result.metrics
    return project.path, run_dir


@pytest.fixture
def dialog(qtbot, iris_run, tmp_path, monkeypatch):
    """The dialog as Run ▸ Predict on a File opens it, over the iris project."""
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    window = MainWindow(load_project(iris_run[0]), autosave_ms=3_600_000)
    qtbot.addWidget(window)
    window.actions["predict"].trigger()
    d = window._predict
    qtbot.waitExposed(d)
    yield d
    d.wait(60)
    window.doc.shutdown()


def predict(qtbot, d) -> None:
    qtbot.mouseClick(d.predict_button, Qt.MouseButton.LeftButton)
    assert not d.predict_button.isEnabled() and not d.progress.isHidden()  # running, window free
    qtbot.waitUntil(lambda: d.progress.isHidden(), timeout=60_000)


def test_predicts_with_the_latest_run_on_the_iris_csv_and_saves_it(
    dialog, qtbot, iris_run, tmp_path, monkeypatch
):
    d = dialog
    _, run_dir = iris_run
    # The project's latest finished run and the data it trains on are chosen already.
    assert d.model_path() == str(run_dir)
    assert d.data.text() == str(datasets_dir() / "iris.csv")
    assert not d.save_button.isEnabled()
    predict(qtbot, d)
    assert d.rows.rowCount() == 150
    header = [d.rows.headerData(i, Qt.Orientation.Horizontal) for i in range(d.rows.columnCount())]
    assert header[:5] == ["row", "predicted", "p(setosa)", "p(versicolor)", "p(virginica)"]
    assert header[5] in ("true label", "true species")  # the CSV's label column
    accuracy = d.predictions.accuracy
    assert (
        d.status.text()
        == f"Predicted 150 samples; accuracy {accuracy:.4f} against the labels in the data."
    )
    assert d.save_button.isEnabled()

    out = tmp_path / "predictions.csv"
    monkeypatch.setattr(
        predict_dialog.QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "")
    )
    qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
    rows = list(csv.reader(out.open()))
    assert (
        rows[0][:2] == ["row", "predicted"]
        and rows[0][-1] in ("label", "species")
        and len(rows) == 151
    )
    assert str(out) in d.status.text()


def test_bad_data_is_one_sentence_in_the_dialog(dialog, qtbot, tmp_path):
    d = dialog
    d.data.setText(str(tmp_path / "nothing.csv"))
    predict(qtbot, d)
    assert "nothing.csv: no such file or folder." in d.status.text()
    assert d.rows.rowCount() == 0 and not d.save_button.isEnabled()

    lacking = tmp_path / "three_columns.csv"
    lacking.write_text("sepal_length,sepal_width,petal_length\n5.1,3.5,1.4\n")
    d.data.setText(str(lacking))
    predict(qtbot, d)
    text = d.status.text()
    assert "three_columns.csv" in text and "'petal_width'" in text
    assert "Traceback" not in text and "\n" not in text

    d.add_model(str(tmp_path))  # a folder without a model
    predict(qtbot, d)
    assert "is not a model deepgui can run" in d.status.text()
