"""Several targets in the app: the Data panel ticks more target columns beside the first, the
live plots draw each output's loss and metrics, the Evaluation view shows one output at a
time, and settings given per output survive an edit of the training form."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.training.config_form import TrainingForm  # noqa: E402
from deepgui.ui.training.data_view import DataView  # noqa: E402
from deepgui.ui.training.evaluation_view import EvaluationView  # noqa: E402
from deepgui.ui.training.plots import LivePlots  # noqa: E402
from tests.test_multi_output import write_csv  # noqa: E402

pytestmark = pytest.mark.ui


def ticked(view: DataView) -> list[str]:
    items = [view.more_targets.item(i) for i in range(view.more_targets.count())]
    return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]


def test_the_data_panel_ticks_more_targets(qtbot, tmp_path):
    path = write_csv(tmp_path / "x.csv", rows=30)
    project = Project(dataset={"source": "csv", "path": str(path), "target": ["kind", "price"]})
    edits: list[dict] = []
    view = DataView(lambda: project)
    qtbot.addWidget(view)
    view.edited.connect(lambda changes: (edits.append(changes), project.dataset.update(changes)))
    view.load(project.dataset)
    qtbot.waitUntil(lambda: view.more_targets.count() == 5, timeout=10_000)
    assert view.target.currentText() == "kind" and ticked(view) == ["price"]
    assert edits == []  # showing the project changes nothing
    item = view.more_targets.findItems("x2", Qt.MatchFlag.MatchExactly)[0]
    item.setCheckState(Qt.CheckState.Checked)
    assert project.dataset["target"] == ["kind", "x2", "price"]  # the table's order
    for name in ("x2", "price"):
        view.more_targets.findItems(name, Qt.MatchFlag.MatchExactly)[0].setCheckState(
            Qt.CheckState.Unchecked
        )
    assert project.dataset["target"] == "kind"  # one target is the plain name, as before
    # Choosing a ticked column as the first target does not list it twice.
    view.more_targets.findItems("price", Qt.MatchFlag.MatchExactly)[0].setCheckState(
        Qt.CheckState.Checked
    )
    view.target.setCurrentText("price")
    view.target.lineEdit().editingFinished.emit()
    assert project.dataset["target"] == "price"


def test_the_plots_draw_each_outputs_loss_and_metrics(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.reset(4)
    for epoch in (1, 2, 3):
        plots.add_batch(epoch, 4, {"loss": 2.0 / epoch})
        plots.add_epoch(epoch, {
            "loss": 2.0 / epoch, "val_loss": 2.2 / epoch,
            "kind_loss": 1.0 / epoch, "val_kind_loss": 1.1 / epoch,
            "price_loss": 1.0 / epoch, "val_price_loss": 1.1 / epoch,
            "kind_accuracy": 0.5 + 0.1 * epoch, "price_mae": 1.0 / epoch,
        })  # fmt: skip
    plots.redraw()
    loss_box = plots.loss_plot.getPlotItem().vb
    for key in ("loss", "kind_loss", "val_kind_loss", "price_loss"):
        assert plots._curves[key].getViewBox() is loss_box, key
        assert list(plots.curve_data(key)[0]) == [1, 2, 3]
    metrics_box = plots.metric_plot.getPlotItem().vb
    for key in ("kind_accuracy", "price_mae"):
        assert plots._curves[key].getViewBox() is metrics_box, key
    colours = {plots._curves[k].opts["pen"].color().name() for k in ("kind_loss", "price_loss")}
    assert len(colours) == 2  # each output its own colour
    assert "kind_loss" in plots.readout_at(plots.loss_plot, 2.0)


def test_the_evaluation_view_shows_one_output_at_a_time(qtbot):
    view = EvaluationView()
    qtbot.addWidget(view)
    kind = {"name": "kind", "task": "multiclass", "class_names": ["a", "b"], "split": "test",
            "count": 3, "metrics": {"accuracy": 0.6}, "confusion": np.array([[1, 0], [1, 1]]),
            "y_true": np.array([0, 1, 1]), "y_pred": np.array([0, 0, 1])}  # fmt: skip
    price = {"name": "price", "task": "regression", "class_names": [], "split": "test",
             "count": 3, "metrics": {"mae": 0.2}, "y_true": np.array([1.0, 2.0, 3.0]),
             "y_pred": np.array([1.1, 2.2, 2.9])}  # fmt: skip
    result = {**kind, "metrics": {"loss": 1.0, "kind_accuracy": 0.6, "price_mae": 0.2},
              "outputs": [kind, price]}  # fmt: skip
    view.show_result(result)
    assert not view.output_choice.isHidden() and view.output_choice.count() == 2
    assert view.left.currentWidget() is view.confusion_plot
    assert "price_mae" in view.summary.text()
    view.output_choice.setCurrentIndex(1)
    assert view.left.currentWidget() is view.scatter_plot
    view.clear()
    assert view.output_choice.isHidden()


def test_settings_per_output_survive_an_edit_of_the_form(qtbot):
    training = {"epochs": 3, "loss": {"kind": "auto", "price": "huber"},
                "metrics": {"price": ["mae", "mse"]}}  # fmt: skip
    sent: list[dict] = []
    form = TrainingForm()
    qtbot.addWidget(form)
    form.edited.connect(sent.append)
    form.load(training)
    assert not form.loss.isEnabled() and "price huber" in form.loss.currentText()
    assert not form.metrics.isEnabled() and "price mae, mse" in form.metrics.text()
    form.epochs.setValue(5)
    assert sent and all("loss" not in c and "metrics" not in c for c in sent)
    assert form.values()["loss"] == training["loss"]
