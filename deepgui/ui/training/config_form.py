"""The training configuration form. It shows the project's ``training`` dict and announces each
edit; the core (`parse_training`) decides what is valid, and its sentence is shown beside the
field it names.

What the form cannot edit field by field is shown as it is and kept as it is when another field
changes: a Keras schedule or a Keras loss object imported with a model, losses and metrics per
output. The optimizer's further arguments are one "name=value, ..." line (read and written by
the core's settings_edit.py).

The fields a sweep can vary (the optimizer, the learning rate, ...) have a ⟳ button; the form
announces a click as `vary_requested(field)`, and its owner opens the mark's editor.

Its sections are modules beside it, each showing its fields and reading them back while this
form sends the edits: config_schedule, config_loss_metrics, config_class_weight,
config_early_stopping, config_fine_tuning and config_hardware; config_widgets holds the small
widgets they share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from deepgui.core.commands import REMOVE
from deepgui.core.errors import TrainingError
from deepgui.core.graph import Graph
from deepgui.core.training.config import (
    KERAS_SCHEDULE,
    OPTIMIZERS,
    TrainingConfig,
    field_of,
    holds_backbone,
    parse_training,
    read_leniently,
)
from deepgui.core.training.engines import Measurement
from deepgui.core.training.settings_edit import (
    OPTION_FIELDS,
    OPTIONS_EXAMPLE,
    applied,
    option_fields,
    options_text,
)
from deepgui.ui.training.class_weights import ClassWeightsDialog
from deepgui.ui.training.config_class_weight import ClassWeightChoice
from deepgui.ui.training.config_early_stopping import EarlyStoppingGroup
from deepgui.ui.training.config_fine_tuning import FineTuningGroup
from deepgui.ui.training.config_hardware import HardwareGroup
from deepgui.ui.training.config_loss_metrics import LossAndMetrics
from deepgui.ui.training.config_schedule import ScheduleFields
from deepgui.ui.training.config_widgets import FieldView, combo, error_label, real, say, spin
from deepgui.ui.training.fields import set_text, shown_after
from deepgui.ui.vary import VaryButton, with_vary_button


class TrainingForm(QWidget):
    """Shows project.training; each edit the user makes is announced as `edited` (the keys that
    change and their new values, REMOVE for a key taken out). The form never writes the
    project: its owner turns the edit into an undoable command, and `show_field` shows again
    the one field an undo changed."""

    edited = Signal(dict)
    measure_requested = Signal()  # the user asked for each engine's speed on this model
    vary_requested = Signal(str)  # the ⟳ of a field was clicked: edit its mark for a sweep

    def __init__(self, parent=None, get_graph: Callable[[], Graph | None] | None = None) -> None:
        super().__init__(parent)
        # The network, asked at each load whether it holds a backbone to fine-tune.
        self.get_graph = get_graph or (lambda: None)
        self.training: dict[str, Any] = {}
        self._options_problem = ""  # why the options line cannot be read, or ""
        # The loaded data's task and class names (set_data): which metrics fit, which classes
        # are weighed; None until the data is known.
        self.task: str | None = None
        self.classes: list[str] = []
        self._shown: dict[str, Any] = {}  # the form's values as last loaded or sent
        self._loading = False
        # The settings of the project a measurement in flight is for: its answer is shown only
        # while that project is (speeds belong to the model they were measured on).
        self._measuring_for: dict[str, Any] | None = None
        self.vary_buttons: dict[str, VaryButton] = {}
        self._make_fields()
        self._lay_out()
        self._connect()

    def _make_fields(self) -> None:
        self.optimizer = combo(list(OPTIMIZERS))
        self.learning_rate = real(1e-6, 10.0, 6, 0.0005)
        self.options = QLineEdit()
        self.options.setPlaceholderText(f"none; e.g. {OPTIONS_EXAMPLE}")
        self.options.setToolTip(
            "Further arguments of the Keras optimizer, as name=value separated by commas "
            "(momentum, nesterov, beta_1, epsilon, clipnorm, ...)"
        )
        self.options_error = error_label("optionsError")
        self.options_error.hide()
        self.batch_size = spin(1, 1 << 16)
        self.epochs = spin(1, 100000)
        self.error = error_label("formError")
        self.schedule_fields = ScheduleFields()
        self.loss_metrics = LossAndMetrics()
        self.class_weights = ClassWeightChoice(
            self,
            classes=lambda: self.classes,
            last_sent=lambda: self._shown.get("class_weight", TrainingConfig.class_weight),
        )
        self.stopping = EarlyStoppingGroup()
        self.ft_group = FineTuningGroup()
        self.hardware = HardwareGroup()
        self._name_section_fields()

    def _name_section_fields(self) -> None:
        """The sections' fields under the form's own names, as its owner and tests know them."""
        sched, scoring, weights = self.schedule_fields, self.loss_metrics, self.class_weights
        self.schedule, self.schedule_info = sched.kind, sched.info
        self.schedule_factor, self.schedule_every = sched.factor, sched.every
        self.schedule_decay, self.schedule_patience = sched.decay, sched.patience
        self.schedule_min_lr = sched.min_lr
        self.loss, self.metrics = scoring.loss, scoring.metrics
        self.metric_boxes = scoring.metric_boxes
        self.class_weight, self.class_weight_edit = weights.choice, weights.edit
        self.class_weight_info = weights.info
        es, ft, hw = self.stopping, self.ft_group, self.hardware
        self.es_enabled, self.es_monitor, self.es_patience = es.enabled, es.monitor, es.patience
        self.es_restore, self.es_mode = es.restore, es.mode
        self.ft_note, self.ft_enabled, self.ft_error = ft.note, ft.enabled, ft.error
        self.ft_frozen, self.ft_layers, self.ft_lr = ft.frozen, ft.layers, ft.lr
        self.engine, self.measure, self.speeds = hw.engine, hw.measure, hw.speeds
        self.device, self.mixed, self.ranks = hw.device, hw.mixed, hw.ranks
        self.coordinator, self.join_command = hw.coordinator, hw.join_command

    @property
    def class_weight_dialog(self) -> ClassWeightsDialog | None:
        """The table of a weight per class, while it is open."""
        return self.class_weights.dialog

    def _lay_out(self) -> None:
        # Long names (a loss, an engine measured, a GPU) must not widen the form past the
        # settings column: that gave the Configuration tab a sideways scroll bar.
        for choice in (self.loss, self.es_monitor, self.schedule, self.engine, self.device):
            choice.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            choice.setMinimumContentsLength(16)
        form = QFormLayout()
        form.addRow("Optimizer", self._varied("optimizer", self.optimizer))
        form.addRow("Learning rate", self._varied("learning_rate", self.learning_rate))
        form.addRow("Options", self.options)
        # The whole width under it: the core's sentence can list every argument there is.
        form.addRow(self.options_error)
        form.addRow("Schedule", self.schedule)
        form.addRow("", self.schedule_fields.details)
        form.addRow("Loss", self._varied("loss", self.loss))
        form.addRow("Metrics", self.loss_metrics.metrics_cell())
        form.addRow("Class weights", self.class_weights.cell())
        form.addRow("Batch size", self._varied("batch_size", self.batch_size))
        form.addRow("Epochs", self._varied("epochs", self.epochs))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.stopping)
        layout.addWidget(self.ft_group)
        layout.addWidget(self.hardware)
        layout.addWidget(self.error)
        layout.addStretch(1)

    def _varied(self, key: str, field: QWidget) -> QWidget:
        """`field` with its ⟳ button after it (a field a sweep can vary)."""
        row, button = with_vary_button(field)
        button.clicked.connect(lambda _=False: self.vary_requested.emit(key))
        self.vary_buttons[key] = button
        return row

    def show_marks(self, marks: Callable[[str], tuple[str | None, str | None]]) -> None:
        """Each ⟳ button as the project's marks have it (`marks(field)`: its SPEC and the
        sentence refusing it now, or (None, None))."""
        for key, button in self.vary_buttons.items():
            button.show_mark(*marks(key))

    def _connect(self) -> None:
        self.optimizer.currentIndexChanged.connect(self._optimizer_changed)
        for w in (self.schedule, self.device, self.engine, self.es_monitor, self.es_mode,
                  self.loss):  # fmt: skip
            w.currentIndexChanged.connect(self._write)
        self.measure.clicked.connect(self._ask_to_measure)
        for w in (self.loss, self.es_monitor):
            w.lineEdit().editingFinished.connect(self._write)
        for line in (self.metrics, self.coordinator, self.options):
            line.editingFinished.connect(self._write)
        for w in (self.learning_rate, self.schedule_factor, self.schedule_decay, self.batch_size,
                  self.epochs, self.es_patience, self.schedule_every, self.schedule_patience,
                  self.schedule_min_lr, self.ranks, self.ft_frozen, self.ft_layers,
                  self.ft_lr):  # fmt: skip
            w.valueChanged.connect(self._write)
        for w in (self.es_enabled, self.es_restore, self.mixed, self.ft_enabled):
            w.toggled.connect(self._write)
        for name, box in self.metric_boxes.items():
            box.toggled.connect(functools.partial(self._metric_ticked, name))
        self.class_weights.chosen.connect(self._write)

    # ------------------------------------------------------------------ devices and engines
    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """Add detected devices: (spec, label), e.g. ("gpu:0", "GPU 0: NVIDIA H100 (80 GB)")."""
        current = self.training.get("device", TrainingConfig.device)
        self._loading = True
        self.hardware.add_devices(devices, current)
        self._loading = False
        self._shown = self.values()

    def _ask_to_measure(self) -> None:
        self.hardware.show_measuring()
        self._measuring_for = self.training
        self.measure_requested.emit()

    def clear_speeds(self) -> None:
        """No measurement shown: the engines by their names alone, Measure offered."""
        self._measuring_for = None
        self.hardware.clear_speeds()

    def show_speeds(self, measured: Measurement | None, message: str = "") -> None:
        """The measured samples/s beside each engine's name, and what Automatic would take for
        this run, so the choice is one click. An answer for a project no longer shown is
        dropped."""
        if self._measuring_for is not self.training:
            return
        self.hardware.show_speeds(measured, message)

    # ------------------------------------------------------------------ model -> form
    def _field_views(self) -> dict[str, FieldView]:
        """Each field of the training dict and what shows it (config_widgets.FieldView). The
        options line shows the optimizer's own fields and its options; choosing another
        optimizer, too."""
        return {
            "optimizer": self._show_optimizer,
            **dict.fromkeys(OPTION_FIELDS, self._show_options),
            "learning_rate": lambda cfg, _raw, _r: self.learning_rate.setValue(cfg.learning_rate),
            "schedule": self.schedule_fields.show_settings,
            "loss": self.loss_metrics.show_loss,
            "metrics": self._show_metrics,
            "class_weight": self.class_weights.show_settings,
            "batch_size": lambda cfg, _raw, _r: self.batch_size.setValue(cfg.batch_size),
            "epochs": lambda cfg, _raw, _r: self.epochs.setValue(cfg.epochs),
            "early_stopping": self.stopping.show_settings,
            "fine_tuning": self.ft_group.show_settings,
            **self.hardware.field_views(),
        }

    def load(self, training: dict[str, Any]) -> None:
        """Show `training` (the project's own dict; read only, never written here)."""
        if training is not self.training:
            self.clear_speeds()  # another project: the last one's measurement is not its own
        self.training = training
        raw = training if isinstance(training, dict) else {}
        cfg, refused, problem = read_leniently(training)
        self._loading = True
        try:
            for show in dict.fromkeys(self._field_views().values()):  # each once, in order
                show(cfg, raw, refused)
        finally:
            self._loading = False
        # What the form shows now: an edit sends only the fields that differ from it (a file
        # without some settings must not have them all written by the first edit).
        self._shown = self.values()
        self._show_state(cfg, problem)

    def show_field(self, training: dict[str, Any], key: str) -> None:
        """One field of the project's training settings changed (an undo, a remedy): its own
        widgets show it; every other widget keeps what it shows, a line being typed in too.
        The sentences and the enabled fields follow the whole of the settings."""
        if training is not self.training:
            self.load(training)  # another dict: nothing the form shows is known to hold
            return
        cfg, refused, problem = read_leniently(training)
        show = self._field_views().get(key)  # None: a field the form has no widget for
        if show is not None:
            self._loading = True
            try:
                show(cfg, training, refused)
            finally:
                self._loading = False
            self._shown = shown_after(self._shown, self.values(), {key})
        self._show_state(cfg, problem)

    def graph_changed(self) -> None:
        """The network changed: fine-tuning is offered when it holds a backbone."""
        self._show_fine_tuning_offer()

    def _show_state(self, cfg: TrainingConfig, problem: str) -> None:
        """What follows from all the settings rather than one: the fields the schedule uses, the
        machines' commands, whether fine-tuning is offered, the core's sentence."""
        self._show_schedule_kind(self.schedule.currentData())
        self.hardware.show_cluster(cfg)
        self._show_fine_tuning_offer()
        self._show_problem(problem)

    def _show_optimizer(self, cfg: TrainingConfig, raw: dict, refused: set[str]) -> None:
        self.optimizer.setCurrentText(cfg.optimizer)
        self._show_options(cfg, raw, refused)

    def _show_options(self, cfg: TrainingConfig, raw: dict, _refused: set[str]) -> None:
        set_text(self.options, options_text(raw, cfg.optimizer))

    def _show_metrics(self, cfg: TrainingConfig, raw: dict, _refused: set[str]) -> None:
        self.loss_metrics.show_metrics(cfg, raw, self.task, len(self.classes))

    def _show_schedule_kind(self, kind: str) -> None:
        """Only the numbers the chosen schedule uses. An imported Keras schedule sets the rate
        itself: the field shows its rate at step 0."""
        self.schedule_fields.show_kind(kind, self.training)
        imported = kind == KERAS_SCHEDULE
        self.learning_rate.setEnabled(not imported)
        self.learning_rate.setToolTip(
            "Set by the imported schedule: its rate at the first step" if imported else ""
        )

    def _show_fine_tuning_offer(self) -> None:
        self.ft_group.show_offer(holds_backbone(self.get_graph()))

    def _show_problem(self, message: str) -> None:
        """The core's sentence beside the field it names (the options line, the fine-tuning
        group), else below the form; an options line that cannot be read says so first."""
        field = field_of(message)
        beside = field in OPTION_FIELDS or field == "fine_tuning"
        say(
            self.options_error, self._options_problem or (message if field in OPTION_FIELDS else "")
        )
        say(self.ft_error, message if field == "fine_tuning" else "")
        self.error.setText("" if beside else message)

    # ------------------------------------------------------------------ form -> model
    def values(self) -> dict[str, Any]:
        """The form as a training dict (only the keys it edits; REMOVE for a key it takes out)."""
        optimizer = self.optimizer.currentText()
        return {
            "optimizer": optimizer,
            "learning_rate": round(self.learning_rate.value(), 8),
            **self._optimizer_settings(optimizer),
            "schedule": self.schedule_fields.value(self.training),
            "loss": self.loss_metrics.loss_value(self.training),
            "metrics": self.loss_metrics.metrics_value(self.training),
            "class_weight": self.class_weights.value(),
            "batch_size": self.batch_size.value(),
            "epochs": self.epochs.value(),
            "early_stopping": self.stopping.value(self.training),
            "fine_tuning": self.ft_group.value(self.training),
            **self.hardware.values(),
        }

    def _optimizer_settings(self, optimizer: str) -> dict[str, Any]:
        """The options line as the fields it sets (settings_edit.option_fields). While the line
        cannot be read, what was last shown stands."""
        try:
            fields = option_fields(self.options.text(), optimizer)
        except ValueError as exc:
            self._options_problem = str(exc)
            return {k: self._shown[k] for k in OPTION_FIELDS if k in self._shown}
        self._options_problem = ""
        return fields

    # ------------------------------------------------------------------ data facts
    def set_data(self, task: str | None, classes: list[str]) -> None:
        """The loaded data's task and class names (None: not known): which metrics are offered
        and which classes the per-class table lists."""
        self.task, self.classes = task, [str(c) for c in classes]
        self.loss_metrics.show_metric_boxes(self.values()["metrics"], self.task, len(self.classes))

    def _metric_ticked(self, name: str, ticked: bool) -> None:
        """A tick adds its metric to the list or takes it out; the metrics line shows the list,
        sent as one edit."""
        if self._loading:
            return
        self.loss_metrics.tick(name, ticked, self.task, self.training)
        self._write()

    def _optimizer_changed(self, *_args) -> None:
        if self._loading:
            return
        # The line shows the new optimizer's own fields as the project has them: sgd's
        # momentum stays in the project under nadam (which ignores it), so switching back
        # finds it again.
        settings = applied(self.training, self._shown)
        self.options.setText(options_text(settings, self.optimizer.currentText()))
        self._write()

    def _write(self, *_args) -> None:
        if self._loading:
            return
        new = self.values()
        self._show_schedule_kind(new["schedule"]["kind"])
        self.loss_metrics.show_metric_boxes(new["metrics"], self.task, len(self.classes))
        try:
            cfg = parse_training(applied(self.training, new))
        except TrainingError as exc:
            self._show_problem(str(exc))
        else:
            self._show_problem("")
            self.hardware.show_cluster(cfg)
        self._show_fine_tuning_offer()
        # Only what differs from what the form showed; taking out a key the project lacks is
        # no change.
        changes = {k: v for k, v in new.items()
                   if self._shown.get(k) != v and not (v is REMOVE and k not in self.training)}  # fmt: skip
        self._shown = new
        if changes:
            self.edited.emit(changes)
