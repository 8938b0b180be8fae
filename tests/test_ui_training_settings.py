"""The training form shows what a model brought (an optimizer's options, a Keras schedule, a
Keras loss object) and keeps it when another field changes; it offers fine-tuning when the
network holds a backbone; the plots mark where a fine-tuning run's second phase begins."""

from __future__ import annotations

import copy
import json

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core import backbones  # noqa: E402
from deepgui.core.commands import AddNode  # noqa: E402
from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.core.training import runs  # noqa: E402
from deepgui.core.training.config import FineTuning, parse_training  # noqa: E402
from deepgui.ui.training.config_fine_tuning import NO_BACKBONE, STRANDED, WITH_BACKBONE  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.test_ui_training_panel import digits_project  # noqa: E402

pytestmark = pytest.mark.ui

# What keras.optimizers.schedules.serialize and keras.losses.serialize write, as an imported
# model's compile settings bring them.
SCHEDULE = {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
            "config": {"initial_learning_rate": 0.01, "decay_steps": 1000, "decay_rate": 0.9,
                       "staircase": False, "name": "ExponentialDecay"},
            "registered_name": None}  # fmt: skip
LOSS = {"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
        "config": {"name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
                   "from_logits": True, "ignore_class": None},
        "registered_name": None}  # fmt: skip
OPTIMIZERS = {
    # SGD's own fields are top-level keys; nadam ignores a momentum left from an SGD.
    "sgd": ({"optimizer": "sgd", "momentum": 0.9, "nesterov": True,
             "optimizer_options": {"clipnorm": 1.0}},
            "momentum=0.9, nesterov=True, clipnorm=1.0"),
    "nadam": ({"optimizer": "nadam", "momentum": 0.9,
               "optimizer_options": {"beta_1": 0.8, "clipnorm": 1.0}},
              "beta_1=0.8, clipnorm=1.0"),
}  # fmt: skip


def panel_of(qtbot, project: Project) -> TrainingPanel:
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    return panel


def type_options(form, text: str) -> None:
    """Type a line into the options field and leave it (Return), as a person does."""
    form.options.setFocus()
    form.options.selectAll()
    form.options.clear()
    form.options.insert(text)
    form.options.editingFinished.emit()


def backbone_project(epochs: int = 6) -> Project:
    """A palette backbone between an image input and a classifier head."""
    graph = Graph()
    image = graph.add_node("InputLayer", {"name": "image", "shape": [64, 64, 3]})
    block = graph.add_node("MobileNetV2", {**backbones.default_config(), "weights": "none"})
    head = graph.add_node("Dense", {"units": 3, "activation": "softmax"})
    graph.connect(image.id, block.id)
    graph.connect(block.id, head.id)
    return Project(graph=graph, training={"epochs": epochs})


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_imported_settings_are_shown_and_kept_when_another_field_changes(
    qtbot, tmp_path, optimizer
):
    settings, options_line = OPTIMIZERS[optimizer]
    project = digits_project(
        tmp_path, schedule={"kind": "keras", "config": SCHEDULE}, loss=LOSS, **settings
    )
    before = copy.deepcopy(project.training)
    form = panel_of(qtbot, project).form
    assert form.optimizer.currentText() == optimizer
    assert form.options.text() == options_line
    assert form.schedule.currentData() == "keras"
    assert form.schedule.currentText() == "ExponentialDecay (imported)"
    assert form.schedule_info.text().startswith(
        "ExponentialDecay(initial_learning_rate=0.01, decay_steps=1000, decay_rate=0.9), "
    )
    assert not form.schedule_info.isHidden() and not form.learning_rate.isEnabled()
    assert form.loss.currentText() == "SparseCategoricalCrossentropy, from_logits=True"
    assert [label.text() for label in (form.error, form.options_error, form.ft_error)] == [""] * 3

    form.epochs.setValue(7)
    form.metrics.setText("accuracy")
    form.metrics.editingFinished.emit()
    assert project.training == {**before, "epochs": 7, "metrics": ["accuracy"]}
    assert form.loss.currentText() == "SparseCategoricalCrossentropy, from_logits=True"
    project.undo.undo()
    project.undo.undo()
    assert project.training == before
    assert form.epochs.value() == 3 and form.options.text() == options_line


def test_the_options_line_is_checked_by_the_core_and_sets_each_field(qtbot, tmp_path):
    project = digits_project(tmp_path, optimizer="nadam")
    form = panel_of(qtbot, project).form
    assert form.options.text() == "" and form.options_error.isHidden()
    # Typing changes nothing until the line is committed (Return or leaving it).
    qtbot.keyClicks(form.options, "beta_1=0.8, clipnorm=1.0")
    assert "optimizer_options" not in project.training and not project.undo.can_undo()
    qtbot.keyClick(form.options, Qt.Key.Key_Return)
    assert project.training["optimizer_options"] == {"beta_1": 0.8, "clipnorm": 1.0}
    assert project.undo.undo_text() == "Change training settings"
    project.undo.undo()
    assert "optimizer_options" not in project.training and form.options.text() == ""
    project.undo.redo()
    assert form.options.text() == "beta_1=0.8, clipnorm=1.0"

    # An argument Nadam does not take: the core's sentence, beside the line.
    type_options(form, "beta_9=0.8")
    assert form.options_error.text().startswith(
        "training.optimizer_options.beta_9 is not an argument of keras.optimizers.Nadam"
    )
    assert not form.options_error.isHidden() and form.error.text() == ""
    # A line that is not name=value: said beside it, and nothing is written.
    kept = copy.deepcopy(project.training)
    type_options(form, "beta_1 0.8")
    assert project.training == kept
    assert form.options_error.text().startswith("Write each option as name=value")
    type_options(form, "clipnorm=1.0")
    assert form.options_error.isHidden() and form.options_error.text() == ""

    # SGD's own settings (momentum, nesterov) go to their own fields, the rest to its options.
    form.optimizer.setCurrentText("sgd")
    assert form.options.text() == "clipnorm=1.0"
    type_options(form, "momentum=0.9, nesterov=true, clipnorm=1.0")
    cfg = parse_training(project.training)
    assert (cfg.momentum, cfg.nesterov, cfg.optimizer_options) == (0.9, True, {"clipnorm": 1.0})
    # Under nadam, which has no momentum, the line leaves it be; back on sgd it is there.
    form.optimizer.setCurrentText("nadam")
    assert form.options.text() == "clipnorm=1.0" and project.training["momentum"] == 0.9
    form.optimizer.setCurrentText("sgd")
    assert form.options.text() == "momentum=0.9, nesterov=True, clipnorm=1.0"
    # Left out of the line, an own field goes back to the core's default.
    type_options(form, "clipnorm=1.0")
    assert "momentum" not in project.training and "nesterov" not in project.training


def test_choosing_another_schedule_replaces_the_imported_one_in_one_step(qtbot, tmp_path):
    project = digits_project(tmp_path, schedule={"kind": "keras", "config": SCHEDULE})
    form = panel_of(qtbot, project).form
    form.schedule.setCurrentIndex(form.schedule.findData("cosine"))
    assert parse_training(project.training).schedule.kind == "cosine"
    assert form.learning_rate.isEnabled() and form.schedule_info.isHidden()
    assert form.schedule.findData("keras") >= 0  # still offered: choosing it brings it back
    project.undo.undo()
    assert project.training["schedule"] == {"kind": "keras", "config": SCHEDULE}
    assert form.schedule.currentData() == "keras" and not form.learning_rate.isEnabled()


def test_fine_tuning_is_offered_for_a_backbone_and_checked_by_the_core(qtbot, tmp_path):
    plain = panel_of(qtbot, digits_project(tmp_path)).form
    assert not plain.ft_group.isEnabled() and plain.ft_note.text() == NO_BACKBONE

    project = backbone_project(epochs=6)
    form = panel_of(qtbot, project).form
    assert form.ft_group.isEnabled() and form.ft_note.text() == WITH_BACKBONE
    form.ft_enabled.setChecked(True)
    assert project.training["fine_tuning"] == {
        "enabled": True, "frozen_epochs": 5, "unfreeze_layers": 20, "learning_rate": 1e-5,
    }  # fmt: skip
    form.ft_frozen.setValue(6)
    assert form.ft_error.text() == (
        "training.fine_tuning.frozen_epochs must be less than training.epochs (6) to leave "
        "epochs for fine-tuning, not 6."
    )
    assert form.error.text() == ""
    form.ft_frozen.setValue(2)
    form.ft_layers.setValue(0)
    form.ft_lr.setValue(1e-4)
    assert form.ft_error.isHidden() and form.ft_layers.text() == "all layers"
    assert parse_training(project.training).fine_tuning == FineTuning(True, 2, 0, 1e-4)

    # Too few epochs for the frozen ones: the sentence again, and a reload (the stack moved)
    # still shows every field as the project has it.
    form.epochs.setValue(2)
    form.load(project.training)
    assert form.epochs.value() == 2 and form.ft_enabled.isChecked()
    assert (form.ft_frozen.value(), form.ft_layers.value()) == (2, 0)
    assert "training.fine_tuning.frozen_epochs" in form.ft_error.text()
    project.undo.undo()  # the epochs
    assert project.training["epochs"] == 6 and form.ft_error.text() == ""
    project.undo.undo()  # the fine-tuning edits, one step
    assert "fine_tuning" not in project.training and not form.ft_enabled.isChecked()


def test_fine_tuning_follows_the_network(qtbot, tmp_path):
    """Turned on, then the backbone gone: it can still be turned off. A backbone added on the
    canvas (a command on the same stack) offers it."""
    project = digits_project(tmp_path, fine_tuning={"enabled": True, "frozen_epochs": 1})
    form = panel_of(qtbot, project).form
    assert form.ft_group.isEnabled() and form.ft_note.text() == STRANDED
    form.ft_enabled.setChecked(False)
    assert not form.ft_group.isEnabled() and not project.training["fine_tuning"]["enabled"]
    project.undo.push(AddNode("MobileNetV2", {**backbones.default_config(), "weights": "none"}))
    assert form.ft_group.isEnabled() and form.ft_note.text() == WITH_BACKBONE


def test_the_plots_mark_where_fine_tuning_begins(qtbot, tmp_path):
    project = digits_project(tmp_path)
    panel = panel_of(qtbot, project)
    plots = panel.plots
    note = "Fine-tuning: the backbone is frozen for epochs 1-3, then every layer of it trains."
    panel._on_started(10, 8, 0, {"fine_tuning_from": 4, "fine_tuning_note": note})
    # Epoch 4 starts where epoch 3's point is: the phase line is at x = 3.
    assert plots.fine_tuning_marks == [
        ("loss", 3.0, "fine-tuning"),
        ("metrics", 3.0, "fine-tuning"),
    ]
    assert [line.toolTip() for _, line in plots._phase_lines] == [note, note]
    for epoch in range(1, 6):
        plots.add_epoch(epoch, {"loss": 1 / epoch, "accuracy": epoch / 6})
    plots.redraw()
    assert not plots.grab().isNull()
    plots.reset(1)
    assert plots.fine_tuning_marks == []
    panel._on_started(10, 8, 0, {"batch_size": 64})  # a run without fine-tuning
    assert plots.fine_tuning_marks == []


def test_a_reopened_fine_tuning_run_shows_its_phase_line(qtbot, tmp_path):
    project = digits_project(tmp_path)
    run = runs.runs_root(project) / "20260101-120000"
    run.mkdir(parents=True)
    (run / "project.dgproj").write_text(project.path.read_text())
    rows = ["epoch,loss,val_loss,accuracy,val_accuracy"]
    rows += [f"{e},{1 / e:.4f},{1.2 / e:.4f},{0.5 + e / 20:.3f},{0.45 + e / 20:.3f}"
             for e in range(1, 7)]  # fmt: skip
    (run / "history.csv").write_text("\n".join(rows) + "\n")
    metrics = {"epochs_run": 6, "stopped_by": "completed", "epochs_planned": 6,
               "best": {"epoch": 6, "monitor": "val_loss", "metrics": {"val_loss": 0.2}},
               "overfitting": [],
               "fine_tuning": {"from_epoch": 4, "learning_rate": 1e-5, "unfrozen_layers": 20}}  # fmt: skip
    (run / "metrics.json").write_text(json.dumps(metrics))
    panel = panel_of(qtbot, project)
    assert panel.run_dir == run
    assert [(w, x) for w, x, _ in panel.plots.fine_tuning_marks] == [
        ("loss", 3.0),
        ("metrics", 3.0),
    ]


def test_the_options_line_reads_what_it_writes():
    from deepgui.core.training.settings_edit import options_text, parse_options

    line = "beta_1=0.8, exclude=[0.9, 0.99], note='a, b', amsgrad=true, ema=None, mode=sum"
    parsed = parse_options(line)
    assert parsed == {"beta_1": 0.8, "exclude": [0.9, 0.99], "note": "a, b", "amsgrad": True,
                      "ema": None, "mode": "sum"}  # fmt: skip
    assert parse_options(options_text({"optimizer_options": parsed}, "nadam")) == parsed
    assert parse_options(" , ") == {}
    for bad in ("beta_1", "=1", "beta 1=2", "beta_1="):
        with pytest.raises(ValueError, match="name=value"):
            parse_options(bad)
