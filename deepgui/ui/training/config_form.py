"""The training configuration form. It edits the project's ``training`` dict in place and
shows what `parse_training` says about it; the core decides what is valid."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.errors import TrainingError
from deepgui.core.training.config import OPTIMIZERS, SCHEDULES, TrainingConfig, parse_training
from deepgui.core.training.distributed import make_cluster
from deepgui.core.training.engines import ENGINES, LABELS, Measurement, speeds_sentence
from deepgui.core.training.mirrored import TRUSTED_ONLY

LOSSES = ["auto", "sparse_categorical_crossentropy", "categorical_crossentropy",
          "binary_crossentropy", "mse", "mae", "huber"]  # fmt: skip
MONITORS = ["val_loss", "loss", "val_accuracy", "accuracy"]
ENGINE_LABELS = {"auto": "Automatic (the quickest for this run)", **LABELS}


def _combo(items: list[str], editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.addItems(items)
    box.setEditable(editable)
    return box


def _spin(low: int, high: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    return box


def _real(low: float, high: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    return box


def _per_output_text(setting: dict[str, Any]) -> str:
    """Settings per output in a few words: 'per output: kind auto; price mae, mse'."""
    parts = []
    for name, value in setting.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
        parts.append(f"{name} {shown}")
    return "per output: " + "; ".join(parts)


class TrainingForm(QWidget):
    """Shows project.training; each edit the user makes is announced as `edited` (the keys that
    change and their new values). The form never writes the project: its owner turns the edit
    into an undoable command, and the form shows the project again when the stack moves."""

    edited = Signal(dict)
    measure_requested = Signal()  # the user asked for each engine's speed on this model

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.training: dict[str, Any] = {}
        # Which of loss and metrics the project gives per output (shown, not edited here).
        self._per_output = {"loss": False, "metrics": False}
        self._shown: dict[str, Any] = {}  # the form's values as last loaded or sent
        self._loading = False
        self.optimizer = _combo(list(OPTIMIZERS))
        self.learning_rate = _real(1e-6, 10.0, 6, 0.0005)
        self.schedule = _combo(list(SCHEDULES))
        self.schedule_factor = _real(0.01, 1.0, 3, 0.05)
        self.schedule_every = _spin(1, 10000)
        self.schedule_decay = _real(0.01, 1.0, 3, 0.01)
        self.schedule_patience = _spin(1, 1000)
        self.schedule_min_lr = _real(0.0, 1.0, 7, 1e-6)
        self.loss = _combo(LOSSES, editable=True)
        self.metrics = QLineEdit()
        self.metrics.setPlaceholderText("auto, or names such as accuracy, mae")
        self.batch_size = _spin(1, 1 << 16)
        self.epochs = _spin(1, 100000)
        self.es_enabled = QCheckBox("Stop early when it stops improving")
        self.es_monitor = _combo(MONITORS, editable=True)
        self.es_patience = _spin(0, 1000)
        self.es_restore = QCheckBox("Keep the best weights")
        self.device = QComboBox()
        self.device.addItem("Automatic (first GPU, else CPU)", "auto")
        self.device.addItem("CPU", "cpu")
        self.mixed = QCheckBox("Mixed precision (float16 on GPUs that support it)")
        self.engine = QComboBox()
        for name in ENGINES:
            self.engine.addItem(ENGINE_LABELS[name], name)
        self.engine.setToolTip(
            "What trains the model. JAX trains in a worker process, which keeps the window "
            "responsive; Automatic measures each engine once for this model and machine."
        )
        self.measure = QPushButton("Measure")
        self.measure.setToolTip("Train a few batches with each engine and show their speeds")
        self.ranks = _spin(1, 1024)
        self.ranks.setToolTip("Train on this many machines: this one and the others, each "
                              "started with the command shown below")  # fmt: skip
        self.coordinator = QLineEdit()
        self.coordinator.setPlaceholderText("HOST:PORT of this machine, e.g. 10.0.0.5:7477")
        self.join_command = QLabel()
        self.join_command.setObjectName("joinCommand")
        self.join_command.setWordWrap(True)
        self.join_command.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.speeds = QLabel()
        self.speeds.setObjectName("engineSpeeds")
        self.speeds.setWordWrap(True)
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d9534f;")

        # The schedule's own numbers on a row of their own: beside the choice they made the
        # form wider than the Training tab's settings column.
        sched_row = QHBoxLayout()
        self._schedule_labels = {}
        for label, w in (("factor", self.schedule_factor), ("every (epochs)", self.schedule_every),
                         ("decay per epoch", self.schedule_decay),
                         ("patience", self.schedule_patience),
                         ("min lr", self.schedule_min_lr)):  # fmt: skip
            text = QLabel(label)
            self._schedule_labels[w] = text
            sched_row.addWidget(text)
            sched_row.addWidget(w)
        sched_row.addStretch(1)
        for combo in (self.loss, self.es_monitor):  # long loss names must not widen the form
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(16)
        form = QFormLayout()
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Schedule", self.schedule)
        form.addRow("", sched_row)
        form.addRow("Loss", self.loss)
        form.addRow("Metrics", self.metrics)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)
        es = QGroupBox("Early stopping")
        es_form = QFormLayout(es)
        es_form.addRow(self.es_enabled)
        es_form.addRow("Watch", self.es_monitor)
        es_form.addRow("Patience (epochs)", self.es_patience)
        es_form.addRow(self.es_restore)
        hw = QGroupBox("Hardware")
        hw_form = QFormLayout(hw)
        engine_row = QHBoxLayout()
        engine_row.addWidget(self.engine, 1)
        engine_row.addWidget(self.measure)
        hw_form.addRow("Engine", engine_row)
        hw_form.addRow(self.speeds)
        hw_form.addRow("Device", self.device)
        hw_form.addRow(self.mixed)
        hw_form.addRow("Machines", self.ranks)
        hw_form.addRow("Listen on", self.coordinator)
        hw_form.addRow(self.join_command)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(es)
        layout.addWidget(hw)
        layout.addWidget(self.error)
        layout.addStretch(1)

        for w in (self.optimizer, self.schedule, self.device, self.engine, self.es_monitor,
                  self.loss):  # fmt: skip
            w.currentIndexChanged.connect(self._write)
        self.measure.clicked.connect(self._ask_to_measure)
        for w in (self.loss, self.es_monitor):
            w.lineEdit().editingFinished.connect(self._write)
        self.metrics.editingFinished.connect(self._write)
        self.coordinator.editingFinished.connect(self._write)
        for w in (self.learning_rate, self.schedule_factor, self.schedule_decay, self.batch_size,
                  self.epochs, self.es_patience, self.schedule_every, self.schedule_patience,
                  self.schedule_min_lr, self.ranks):  # fmt: skip
            w.valueChanged.connect(self._write)
        for w in (self.es_enabled, self.es_restore, self.mixed):
            w.toggled.connect(self._write)

    # ------------------------------------------------------------------ devices
    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """Add detected devices: (spec, label), e.g. ("gpu:0", "GPU 0: NVIDIA H100 (80 GB)")."""
        current = self.training.get("device", "auto")
        self._loading = True
        for spec, label in devices:
            if self.device.findData(spec) < 0:
                self.device.addItem(label, spec)
        self._select_device(current)
        self._loading = False
        self._shown = self.values()

    def _select_device(self, spec: str) -> None:
        i = self.device.findData(spec)
        if i < 0:
            self.device.addItem(spec, spec)
            i = self.device.count() - 1
        self.device.setCurrentIndex(i)

    def _show_cluster(self, cfg: TrainingConfig) -> None:
        """With several machines: where this one listens, and what to type on the others
        (the core's own command line). JAX trains such a run whatever the engine choice, or
        TensorFlow for a model JAX cannot train, which is for trusted networks only."""
        several = cfg.ranks > 1
        self.coordinator.setEnabled(several)
        self.engine.setEnabled(not several)
        self.measure.setEnabled(not several)
        if not several:
            self.join_command.setText("")
            return
        cluster = make_cluster(cfg.coordinator, cfg.ranks)
        commands = "\n".join(cluster.command_for(r) for r in range(1, cluster.world))
        port = int(cluster.coordinator.rsplit(":", 1)[1])
        self.join_command.setText(
            f"JAX trains it on {cluster.world} machines. On each of the others, run:\n"
            f"{commands}\nA model JAX cannot train is trained by TensorFlow instead, on ports "
            f"{port + 1}+rank too. {TRUSTED_ONLY}"
        )

    # ------------------------------------------------------------------ engines
    def _ask_to_measure(self) -> None:
        self.measure.setEnabled(False)
        self.speeds.setText("Measuring each engine on a few batches of this model…")
        self.measure_requested.emit()

    def show_speeds(self, measured: Measurement | None, message: str = "") -> None:
        """The measured samples/s beside each engine's name, and what Automatic would take for
        this run, so the choice is one click."""
        self.measure.setEnabled(self.ranks.value() <= 1)
        if measured is None:
            self.speeds.setText(message)
            return
        speeds = measured.speeds
        for i in range(self.engine.count()):
            name = self.engine.itemData(i)
            label = ENGINE_LABELS[name]
            if name == "auto":
                label += f": {ENGINE_LABELS[measured.auto]}"
            elif speeds.get(name, 0) > 0:
                label += f" · {speeds[name]:,.0f}/s"
            elif name in speeds:
                label += " · cannot train this model"
            self.engine.setItemText(i, label)
        self.speeds.setText(f"{speeds_sentence(speeds)} Automatic takes "
                            f"{ENGINE_LABELS[measured.auto]} for this run.")  # fmt: skip

    # ------------------------------------------------------------------ model -> form
    def load(self, training: dict[str, Any]) -> None:
        """Show `training` (the project's own dict; read only, never written here)."""
        self.training = training
        self._loading = True
        try:
            try:
                cfg = parse_training(training)
            except TrainingError as exc:
                cfg = TrainingConfig()
                self.error.setText(str(exc))
            else:
                self.error.setText("")
            self.optimizer.setCurrentText(cfg.optimizer)
            self.learning_rate.setValue(cfg.learning_rate)
            self.schedule.setCurrentText(cfg.schedule.kind)
            self.schedule_factor.setValue(cfg.schedule.factor)
            self.schedule_every.setValue(cfg.schedule.every_epochs)
            self.schedule_decay.setValue(cfg.schedule.decay_rate)
            self.schedule_patience.setValue(cfg.schedule.patience)
            self.schedule_min_lr.setValue(cfg.schedule.min_learning_rate)
            # Settings per output (a dict by output name) are shown, not edited, here: the
            # form's one field cannot hold them, and an edit elsewhere must not flatten them.
            loss, metrics = training.get("loss"), training.get("metrics")
            self._per_output = {
                "loss": isinstance(loss, dict),
                "metrics": isinstance(metrics, dict),
            }
            self.loss.setEnabled(not self._per_output["loss"])
            self.metrics.setEnabled(not self._per_output["metrics"])
            if isinstance(loss, dict):
                self.loss.setCurrentText(_per_output_text(loss))
            else:
                self.loss.setCurrentText(str(cfg.loss))
            if isinstance(metrics, dict):
                self.metrics.setText(_per_output_text(metrics))
            else:
                self.metrics.setText("auto" if cfg.metrics == "auto" else ", ".join(cfg.metrics))
            self.batch_size.setValue(cfg.batch_size)
            self.epochs.setValue(cfg.epochs)
            self.es_enabled.setChecked(cfg.early_stopping.enabled)
            self.es_monitor.setCurrentText(cfg.early_stopping.monitor)
            self.es_patience.setValue(cfg.early_stopping.patience)
            self.es_restore.setChecked(cfg.early_stopping.restore_best_weights)
            self._select_device(cfg.device)
            self.engine.setCurrentIndex(max(0, self.engine.findData(cfg.engine)))
            self.mixed.setChecked(cfg.mixed_precision)
            self.ranks.setValue(cfg.ranks)
            self.coordinator.setText(cfg.coordinator)
            self._enable_schedule_fields(cfg.schedule.kind)
            self._show_cluster(cfg)
        finally:
            self._loading = False
        # What the form shows now: an edit sends only the fields that differ from it (a file
        # without some settings must not have them all written by the first edit).
        self._shown = self.values()

    def _enable_schedule_fields(self, kind: str) -> None:
        """Show only the fields the chosen schedule uses (keeps the form narrow)."""
        for w, used in ((self.schedule_factor, kind in ("step", "plateau")),
                        (self.schedule_every, kind == "step"),
                        (self.schedule_decay, kind == "exponential"),
                        (self.schedule_patience, kind == "plateau"),
                        (self.schedule_min_lr, kind in ("cosine", "plateau"))):  # fmt: skip
            w.setEnabled(used)
            w.setVisible(used)
            self._schedule_labels[w].setVisible(used)

    # ------------------------------------------------------------------ form -> model
    def values(self) -> dict[str, Any]:
        """The form as a training dict (only the keys it edits)."""
        metrics_text = self.metrics.text().strip()
        metrics: Any = (
            "auto"
            if metrics_text in ("", "auto")
            else [m.strip() for m in metrics_text.split(",") if m.strip()]
        )
        if self._per_output["metrics"]:  # per output: kept as the project has them
            metrics = self.training.get("metrics")
        loss = self.loss.currentText().strip() or "auto"
        if self._per_output["loss"]:
            loss = self.training.get("loss")
        return {
            "optimizer": self.optimizer.currentText(),
            "learning_rate": round(self.learning_rate.value(), 8),
            "schedule": {
                **(self.training.get("schedule") or {}),
                "kind": self.schedule.currentText(),
                "factor": self.schedule_factor.value(),
                "every_epochs": self.schedule_every.value(),
                "decay_rate": self.schedule_decay.value(),
                "patience": self.schedule_patience.value(),
                "min_learning_rate": self.schedule_min_lr.value(),
            },  # fmt: skip
            "loss": loss,
            "metrics": metrics,
            "batch_size": self.batch_size.value(),
            "epochs": self.epochs.value(),
            "early_stopping": {
                "enabled": self.es_enabled.isChecked(),
                "monitor": self.es_monitor.currentText().strip() or "val_loss",
                "patience": self.es_patience.value(),
                "restore_best_weights": self.es_restore.isChecked(),
            },  # fmt: skip
            "device": self.device.currentData() or "auto",
            "engine": self.engine.currentData() or "tensorflow",
            "ranks": self.ranks.value(),
            "coordinator": self.coordinator.text().strip(),
            "mixed_precision": self.mixed.isChecked(),
        }

    def _write(self, *_args) -> None:
        if self._loading:
            return
        new = self.values()
        self._enable_schedule_fields(new["schedule"]["kind"])
        try:
            cfg = parse_training({**self.training, **new})
        except TrainingError as exc:
            self.error.setText(str(exc))
        else:
            self.error.setText("")
            self._show_cluster(cfg)
        changes = {k: v for k, v in new.items() if self._shown.get(k) != v}
        self._shown = new
        if changes:
            self.edited.emit(changes)
