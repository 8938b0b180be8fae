"""The Configuration form's Hardware group: the engine (with each one's measured speed), the
device, mixed precision, and the machines a run trains on (where this one listens, and the
command to type on each of the others)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from deepgui.core.training.config import TrainingConfig
from deepgui.core.training.distributed import make_cluster
from deepgui.core.training.engines import ENGINES, LABELS, Measurement, speeds_sentence
from deepgui.core.training.mirrored import TRUSTED_ONLY
from deepgui.ui.training.config_widgets import FieldView, say, spin
from deepgui.ui.training.fields import set_text

ENGINE_LABELS = {"auto": "Automatic (the quickest for this run)", **LABELS}


class HardwareGroup(QGroupBox):
    """What trains the run and where. It shows settings and measurements; the form reads its
    fields and sends the edits."""

    def __init__(self) -> None:
        super().__init__("Hardware")
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
        self.ranks = spin(1, 1024)
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
        for label in (self.speeds, self.join_command):
            label.hide()  # no room taken until there is something to say
        self._lay_out()

    def _lay_out(self) -> None:
        hw_form = QFormLayout(self)
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

    def field_views(self) -> dict[str, FieldView]:
        """Each field of the training dict this group shows, and what shows it."""
        return {
            "device": lambda cfg, _raw, _r: self.select_device(cfg.device),
            "engine": lambda cfg, _raw, _r: self.engine.setCurrentIndex(
                max(0, self.engine.findData(cfg.engine))
            ),
            "mixed_precision": lambda cfg, _raw, _r: self.mixed.setChecked(cfg.mixed_precision),
            "ranks": lambda cfg, _raw, _r: self.ranks.setValue(cfg.ranks),
            "coordinator": lambda cfg, _raw, _r: set_text(self.coordinator, cfg.coordinator),
        }

    def values(self) -> dict[str, Any]:
        """The group's fields as training settings."""
        return {
            "device": self.device.currentData() or TrainingConfig.device,
            "engine": self.engine.currentData() or TrainingConfig.engine,
            "ranks": self.ranks.value(),
            "coordinator": self.coordinator.text().strip(),
            "mixed_precision": self.mixed.isChecked(),
        }

    # ------------------------------------------------------------------ devices
    def add_devices(self, devices: list[tuple[str, str]], current: str) -> None:
        """Offer detected devices, (spec, label), keeping `current` chosen."""
        for spec, label in devices:
            if self.device.findData(spec) < 0:
                self.device.addItem(label, spec)
        self.select_device(current)

    def select_device(self, spec: str) -> None:
        i = self.device.findData(spec)
        if i < 0:
            self.device.addItem(spec, spec)
            i = self.device.count() - 1
        self.device.setCurrentIndex(i)

    def show_cluster(self, cfg: TrainingConfig) -> None:
        """With several machines: where this one listens, and what to type on the others
        (the core's own command line). JAX trains such a run whatever the engine choice, or
        TensorFlow for a model JAX cannot train, which is for trusted networks only."""
        several = cfg.ranks > 1
        self.coordinator.setEnabled(several)
        self.engine.setEnabled(not several)
        self.measure.setEnabled(not several)
        if not several:
            say(self.join_command, "")
            return
        cluster = make_cluster(cfg.coordinator, cfg.ranks)
        commands = "\n".join(cluster.command_for(r) for r in range(1, cluster.world))
        port = int(cluster.coordinator.rsplit(":", 1)[1])
        say(
            self.join_command,
            f"JAX trains it on {cluster.world} machines. On each of the others, run:\n"
            f"{commands}\nA model JAX cannot train is trained by TensorFlow instead, on ports "
            f"{port + 1}+rank too. {TRUSTED_ONLY}",
        )

    # ------------------------------------------------------------------ engines
    def show_measuring(self) -> None:
        self.measure.setEnabled(False)
        say(self.speeds, "Measuring each engine on a few batches of this model…")

    def clear_speeds(self) -> None:
        """No measurement shown: the engines by their names alone, Measure offered."""
        for i in range(self.engine.count()):
            self.engine.setItemText(i, ENGINE_LABELS[self.engine.itemData(i)])
        say(self.speeds, "")
        self.measure.setEnabled(self.ranks.value() <= 1)

    def show_speeds(self, measured: Measurement | None, message: str = "") -> None:
        """The measured samples/s beside each engine's name, and what Automatic would take for
        this run, so the choice is one click; `message` where nothing was measured."""
        self.measure.setEnabled(self.ranks.value() <= 1)
        if measured is None:
            say(self.speeds, message)
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
        # The core's sentence: what auto compared (each engine's whole run) and why.
        say(self.speeds, f"{speeds_sentence(speeds)} {_capitalised(measured.note)}.")


def _capitalised(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]
