"""The training form's Class weights field and metric ticks (issue 21, point 2): the metrics
offered are those that fit the loaded data's task, a tick is one undoable edit of
training.metrics; Per class… opens a table of the data's classes, and accepting it is one
undoable edit of training.class_weight, cancelling it none."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from deepgui.core.training.config import TOP_K  # noqa: E402
from deepgui.ui.training.config_class_weight import PER_CLASS  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.test_ui_training_panel import digits_project  # noqa: E402

pytestmark = pytest.mark.ui
DIGITS = [str(d) for d in range(10)]


def _panel(qtbot, project) -> TrainingPanel:
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    panel.show()
    # Until the data is described every extra metric is offered, and no class is known.
    assert all(not box.isHidden() for box in panel.form.metric_boxes.values())
    # The data's preview tells the form its task and classes.
    panel.data_view.refresh_preview()
    qtbot.waitUntil(lambda: panel.form.task is not None, timeout=60_000)
    return panel


def _choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def test_metric_ticks_fit_the_task_and_each_is_one_undo_step(qtbot, tmp_path):
    project = digits_project(tmp_path)
    panel = _panel(qtbot, project)
    form = panel.form
    assert form.task == "multiclass" and form.classes == DIGITS
    boxes = form.metric_boxes
    assert not boxes[TOP_K].isHidden()  # ten classes: top-5 says something
    # Precision, recall and AUC of one sigmoid per class do not fit ten softmax classes.
    assert all(boxes[m].isHidden() for m in ("auc", "precision", "recall", "r2_score"))

    boxes[TOP_K].setChecked(True)
    assert project.training["metrics"] == ["accuracy", TOP_K]
    assert form.metrics.text() == f"accuracy, {TOP_K}"
    project.undo.undo()
    assert "metrics" not in project.training
    assert not boxes[TOP_K].isChecked() and form.metrics.text() == "auto"
    assert not project.undo.can_undo()

    # Two classes: the one-against-the-rest metrics are offered instead.
    form.set_data("binary", ["no", "yes"])
    assert not boxes["auc"].isHidden() and boxes[TOP_K].isHidden()


def test_class_weights_none_balanced_and_per_class_are_undoable_edits(qtbot, tmp_path):
    project = digits_project(tmp_path)
    panel = _panel(qtbot, project)
    form = panel.form
    assert form.class_weight.currentData() == "none"
    assert form.class_weight_edit.isHidden()

    _choose(form.class_weight, "balanced")
    assert project.training["class_weight"] == "balanced"

    # Per class…: the table of the data's classes; nothing is sent until it is accepted.
    _choose(form.class_weight, PER_CLASS)
    dialog = form.class_weight_dialog
    assert dialog is not None and list(dialog.spins) == DIGITS
    assert project.training["class_weight"] == "balanced"
    dialog.spins["3"].setValue(4.0)
    dialog.accept()
    weights = project.training["class_weight"]
    assert weights == {d: (4.0 if d == "3" else 1.0) for d in DIGITS}
    assert not form.class_weight_edit.isHidden() and "3 4" in form.class_weight_info.text()

    # Cancelling the table changes nothing and shows what the project holds.
    form.class_weight_edit.click()
    form.class_weight_dialog.spins["0"].setValue(9.0)
    form.class_weight_dialog.reject()
    assert project.training["class_weight"] == weights
    assert form.class_weight.currentData() == PER_CLASS

    # One edit of one field merges with the one before it (as typing does): one undo step
    # takes class_weight back out; redo shows the weights again.
    project.undo.undo()
    assert "class_weight" not in project.training
    assert form.class_weight.currentData() == "none" and form.class_weight_edit.isHidden()
    assert not project.undo.can_undo()
    project.undo.redo()
    assert project.training["class_weight"] == weights
    assert form.class_weight.currentData() == PER_CLASS

    # Choosing Per class… and cancelling goes back to the project's choice.
    _choose(form.class_weight, "none")
    assert project.training["class_weight"] == "none"
    _choose(form.class_weight, PER_CLASS)
    form.class_weight_dialog.reject()
    assert form.class_weight.currentData() == "none" and project.training["class_weight"] == "none"


def test_weights_given_by_class_index_open_on_their_classes_rows(qtbot):
    """The project file may weigh a class by its index ("3": 4); the table shows it on that
    class's row, so accepting it does not weigh the class twice."""
    from deepgui.ui.training.class_weights import ClassWeightsDialog

    dialog = ClassWeightsDialog(DIGITS, {"3": 4.0, "cow": 2.0})
    qtbot.addWidget(dialog)
    assert list(dialog.spins) == [*DIGITS, "cow"]
    dialog = ClassWeightsDialog(["cat", "dog"], {"1": 4.0})
    qtbot.addWidget(dialog)
    assert dialog.weights() == {"cat": 1.0, "dog": 4.0}
