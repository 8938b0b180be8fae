"""A project opened again shows its last run's evaluation as it ended, confusion matrix included,
drawn from what the run kept in its folder (metrics.json's "evaluation"); a run from before runs
kept one shows its scores. The Runs tab says which overfitting warnings a later best withdrew."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.core.training import runs  # noqa: E402
from deepgui.core.training.overfitting import OverfittingDetector, revise  # noqa: E402
from tests.helpers import add  # noqa: E402
from tests.rawdata import deepgui  # noqa: E402
from tests.ui_support import open_window  # noqa: E402

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """A flower classifier trained as a user trains it on a server: `deepgui train`."""
    folder = tmp_path_factory.mktemp("flowers")
    g = Graph()
    hidden = add(g, "Dense", add(g, "InputLayer", shape=[4]), units=16, activation="relu")
    add(g, "Dense", hidden, units=3, activation="softmax")
    project = Project(graph=g, dataset={"source": "builtin", "name": "iris"},
                      training={"epochs": 8, "batch_size": 16, "learning_rate": 0.02, "seed": 1})  # fmt: skip
    path = folder / "flowers.dgproj"
    project.save(path)
    deepgui("train", path)
    (run,) = [r.path for r in runs.project_runs(project)]
    return path, run


def reopen(qtbot, path: Path):
    """The window, the project file dropped on it, the Training tab and its Evaluation tab
    clicked: what a user does to look at the last run again."""
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    w = open_window(qtbot)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    point = w.view.viewport().rect().center()
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(w.view.viewport(), QDragEnterEvent(point, *args))
    QApplication.sendEvent(w.view.viewport(), QDropEvent(QPointF(point), *args))
    assert w.doc.project.path == path
    tab_bar = w.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton,
                     pos=tab_bar.tabRect(w.tabs.indexOf(w.training)).center())  # fmt: skip
    panel = w.training
    bar = panel.view_tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton,
                     pos=bar.tabRect(panel.view_tabs.indexOf(panel.evaluation)).center())  # fmt: skip
    return w, panel


@pytest.mark.slow  # a real run through `deepgui train`
def test_a_reopened_run_shows_its_confusion_matrix(qtbot, trained, monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    path, run = trained
    kept = json.loads((run / "metrics.json").read_text())["evaluation"]
    matrix = kept["confusion"]
    assert kept["class_names"] == ["setosa", "versicolor", "virginica"]
    assert sum(map(sum, matrix)) == kept["count"] > 0
    w, panel = reopen(qtbot, path)
    try:
        view = panel.evaluation
        assert view.isVisible() and view.body.isVisible()
        assert view.left.currentWidget() is view.confusion_plot and view.confusion_plot.isVisible()
        assert view.confusion_image.image.T.tolist() == matrix  # rows true, columns predicted
        cells = [[item.textItem.toPlainText() for item in view._cell_texts[i * 3 : i * 3 + 3]]
                 for i in range(3)]  # fmt: skip
        assert cells == [[str(n) for n in row] for row in matrix]
        ticks = view.confusion_plot.getPlotItem().getAxis("bottom")._tickLevels[0]
        assert [name for _pos, name in ticks] == kept["class_names"]
        accuracy = kept["metrics"]["accuracy"]
        summary = view.summary.text()
        assert summary.startswith(f"Last run, {run.name}, on the {kept['split']} split "
                                  f"({kept['count']} samples): ")  # fmt: skip
        assert f"accuracy {accuracy:.4g}" in summary and "Train again" not in summary
        assert view.samples_grid.count() == min(16, kept["count"])
        first = view.samples_grid.itemAt(0).widget().findChildren(type(view.summary))[-1].text()
        names = kept["class_names"]
        assert first == f"pred {names[kept['y_pred'][0]]}\ntrue {names[kept['y_true'][0]]}"
        assert view.predict_button.isEnabled()
    finally:
        w.doc.shutdown()


@pytest.mark.slow  # a real run through `deepgui train`
def test_a_run_from_before_shows_its_scores(qtbot, trained, monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    path, run = trained
    metrics_file = run / "metrics.json"
    original = metrics_file.read_text()
    metrics = json.loads(original)
    del metrics["evaluation"]  # what runs kept before they kept their evaluation
    metrics_file.write_text(json.dumps(metrics))
    try:
        w, panel = reopen(qtbot, path)
        view = panel.evaluation
        assert view.body.isHidden()
        best = metrics["best"]
        val_loss = best["metrics"]["val_loss"]
        assert view.summary.text().startswith(
            f"Last run, {run.name}, at its best epoch {best['epoch']}: "
        )
        assert f"val_loss {val_loss:.4g}" in view.summary.text()
        assert "Train again for the confusion matrix" in view.summary.text()
        w.doc.shutdown()
    finally:
        metrics_file.write_text(original)


@pytest.mark.slow  # a real run through `deepgui train`
def test_the_runs_tab_says_which_warnings_a_new_best_withdrew(qtbot, trained, monkeypatch,
                                                              tmp_path):  # fmt: skip
    """The run's warnings as the core revised them: one a later best contradicts reads so."""
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    path, run = trained
    metrics_file = run / "metrics.json"
    original = metrics_file.read_text()
    loss = [1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2]
    val = [1.0, 0.8, 0.7, 0.75, 0.8, 0.85, 0.8, 0.7, 0.66, 0.65]
    rows = [{"epoch": i, "loss": a, "val_loss": b} for i, (a, b) in enumerate(zip(loss, val,
            strict=True), start=1)]  # fmt: skip
    detector = OverfittingDetector(patience=3, gap=10.0)
    flags = [r.to_dict() for r in (detector.update(row["epoch"], row) for row in rows) if r]
    metrics = {**json.loads(original), "overfitting": revise(flags, rows)}
    metrics_file.write_text(json.dumps(metrics))
    try:
        w, panel = reopen(qtbot, path)
        tabs = panel.view_tabs
        qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton,
                         pos=tabs.tabBar().tabRect(tabs.indexOf(panel.runs)).center())  # fmt: skip
        table = panel.runs.table
        cell = table.visualItemRect(table.item(0, 0)).center()
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
        details = panel.runs.details.text()
        assert "overfitting: from epoch 4 (withdrawn: a new best at epoch 10)" in details
        w.doc.shutdown()
    finally:
        metrics_file.write_text(original)


def test_a_stored_regression_draws_predicted_against_actual(qtbot):
    """What a regression run keeps (a sample of its points) comes back as the scatter; a kept
    evaluation that does not read as one falls back to the scores."""
    import numpy as np

    from deepgui.core.training.evaluation import from_stored, stored
    from deepgui.ui.training.evaluation_view import EvaluationView

    actual = np.linspace(0, 1, 500)
    result = {"split": "validation", "task": "regression", "count": 500,
              "metrics": {"loss": 0.01, "mae": 0.05}, "class_names": [],
              "y_true": actual, "y_pred": actual + 0.01}  # fmt: skip
    kept = json.loads(json.dumps(stored(result)))  # through the JSON of metrics.json
    assert len(kept["y_true"]) == 300
    view = EvaluationView()
    qtbot.addWidget(view)
    view.show_stored("20260101-120000", {"evaluation": kept, "test": {"loss": 0.01}})
    assert view.left.currentWidget() is view.scatter_plot
    xs, ys = view.scatter_plot.getPlotItem().listDataItems()[0].getData()
    assert np.allclose(xs, actual[:300]) and np.allclose(ys, actual[:300] + 0.01)
    assert view.summary.text() == (
        "Last run, 20260101-120000, on the validation split (500 samples): loss 0.01, mae 0.05."
    )
    broken = {**kept, "y_pred": kept["y_pred"][:5]}
    assert from_stored(broken) is None and from_stored("oops") is None
    view.show_stored("20260101-120000", {"evaluation": broken, "test": {"loss": 0.01}})
    assert view.body.isHidden()
    assert view.summary.text().startswith("Last run, 20260101-120000, on the test split: loss")
