"""The Configuration form's fine-tuning group: a pretrained backbone trained frozen for some
epochs, then its top layers at a lower rate. Offered while the network holds a backbone; a
note says why not, or that it is on without one (so it can be turned off)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLabel

from deepgui.core.training.config import TrainingConfig, dict_at, fine_tuning_as_written
from deepgui.ui.training.config_widgets import error_label, real, spin

NO_BACKBONE = "Needs a backbone: add one from the Backbones palette."
WITH_BACKBONE = "Trains the head first, then the backbone's top layers."
STRANDED = "No backbone in the network: turn fine-tuning off."


class FineTuningGroup(QGroupBox):
    """Shows training.fine_tuning and the core's sentence about it; the form reads `value` and
    sends the edit."""

    def __init__(self) -> None:
        super().__init__("Fine-tune the backbone")
        self.note = QLabel(NO_BACKBONE)
        self.note.setObjectName("fineTuningNote")
        self.note.setWordWrap(True)
        self.enabled = QCheckBox("Freeze the backbone, then fine-tune it")
        self.frozen = spin(1, 100000)
        self.frozen.setSuffix(" epochs")
        self.frozen.setToolTip("Epochs that train only the layers after the backbone")
        self.layers = spin(0, 100000)
        self.layers.setPrefix("top ")
        self.layers.setSuffix(" layers")
        self.layers.setSpecialValueText("all layers")  # 0: every layer of the backbone
        self.layers.setToolTip("The backbone's last layers that train after the frozen "
                               "epochs; 0 = all (BatchNormalization stays frozen)")  # fmt: skip
        self.lr = real(1e-8, 10.0, 8, 1e-5)
        self.lr.setToolTip("The learning rate once the backbone's layers train: low, so "
                           "what they learnt before is kept")  # fmt: skip
        self.error = error_label("fineTuningError")
        self.error.hide()
        box = QFormLayout(self)
        box.addRow(self.note)
        box.addRow(self.enabled)
        box.addRow("Frozen for", self.frozen)
        box.addRow("Then unfreeze", self.layers)
        box.addRow("At learning rate", self.lr)
        box.addRow(self.error)

    def show_settings(self, cfg: TrainingConfig, raw: dict, refused: set[str]) -> None:
        fine = fine_tuning_as_written(raw) if "fine_tuning" in refused else cfg.fine_tuning
        self.enabled.setChecked(fine.enabled)
        self.frozen.setValue(fine.frozen_epochs)
        self.layers.setValue(fine.unfreeze_layers)
        self.lr.setValue(fine.learning_rate)

    def show_offer(self, available: bool) -> None:
        """Offered when the network holds a backbone (`available`); turned on without one
        (the backbone deleted since), the group stays usable so it can be turned off."""
        enabled = self.enabled.isChecked()
        self.setEnabled(available or enabled)
        self.note.setText(WITH_BACKBONE if available else STRANDED if enabled else NO_BACKBONE)

    def value(self, training: dict[str, Any]) -> dict[str, Any]:
        """The group as training.fine_tuning (what else `training` has there kept)."""
        return {
            **dict_at(training, "fine_tuning"),
            "enabled": self.enabled.isChecked(),
            "frozen_epochs": self.frozen.value(),
            "unfreeze_layers": self.layers.value(),
            "learning_rate": round(self.lr.value(), 10),
        }
