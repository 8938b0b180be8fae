"""The Configuration form's Early stopping group: whether training stops once a watched figure
stops improving, which figure, how patiently, which way it improves, and whether the best
weights are kept."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox

from deepgui.core.training.config import STOPPING_MODES, EarlyStopping, TrainingConfig, dict_at
from deepgui.ui.training.config_widgets import combo, spin
from deepgui.ui.training.fields import set_text

MONITORS = ["val_loss", "loss", "val_accuracy", "accuracy"]
# Early stopping's mode in words, in the core's order (config.STOPPING_MODES).
STOPPING_MODE_WORDS = dict(
    zip(STOPPING_MODES, ("Automatic (from its name)", "Lower", "Higher"), strict=True)
)


class EarlyStoppingGroup(QGroupBox):
    """Shows training.early_stopping; the form reads `value` and sends the edit."""

    def __init__(self) -> None:
        super().__init__("Early stopping")
        self.enabled = QCheckBox("Stop early when it stops improving")
        self.monitor = combo(MONITORS, editable=True)
        self.patience = spin(0, 1000)
        self.restore = QCheckBox("Keep the best weights")
        self.mode = QComboBox()  # which way the watched figure improves
        for mode, words in STOPPING_MODE_WORDS.items():
            self.mode.addItem(words, mode)
        self.mode.setToolTip(
            "Which way the watched figure improves. Automatic reads it from the name (loss and "
            "error go down, accuracy and AUC up); a metric of another name needs it said."
        )
        es_form = QFormLayout(self)
        es_form.addRow(self.enabled)
        es_form.addRow("Watch", self.monitor)
        es_form.addRow("Patience (epochs)", self.patience)
        es_form.addRow("Better when", self.mode)
        es_form.addRow(self.restore)

    def show_settings(self, cfg: TrainingConfig, _raw: dict, _refused: set[str]) -> None:
        stopping = cfg.early_stopping
        self.enabled.setChecked(stopping.enabled)
        set_text(self.monitor, stopping.monitor)
        self.patience.setValue(stopping.patience)
        self.restore.setChecked(stopping.restore_best_weights)
        self.mode.setCurrentIndex(max(0, self.mode.findData(stopping.mode)))

    def value(self, training: dict[str, Any]) -> dict[str, Any]:
        """The group as training.early_stopping (what else `training` has there kept)."""
        stopping = {
            **dict_at(training, "early_stopping"),
            "enabled": self.enabled.isChecked(),
            "monitor": self.monitor.currentText().strip() or EarlyStopping.monitor,
            "patience": self.patience.value(),
            "restore_best_weights": self.restore.isChecked(),
        }
        mode = self.mode.currentData()
        if mode != EarlyStopping.mode or "mode" in stopping:  # the default stays out of files
            stopping["mode"] = mode
        return stopping
