"""The table of a weight per class, opened from the training form's Class weights field. It
only collects the numbers: the form sends them as one edit when the table is accepted, and
the core decides whether they hold."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from deepgui.core.training.config import class_weight_by_name

NO_CLASSES = "Preview the data first (Data tab ▸ Preview): its classes are listed here."
MAX_WEIGHT = 1000.0


class ClassWeightsDialog(QDialog):
    """One row per class of the loaded data with its weight (1 where none is given yet); a
    class the weights name but the data lacks is listed too, so accepting keeps it for the core
    to name."""

    def __init__(self, classes: list[str], weights: dict[str, float], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Class weights")
        weights = class_weight_by_name(weights, classes)  # "0": 2 is the first class's row
        names = list(classes) + [k for k in weights if k not in classes]
        self.table = QTableWidget(len(names), 2)
        self.table.setObjectName("classWeights")
        self.table.setHorizontalHeaderLabels(["Class", "Weight"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.spins: dict[str, QDoubleSpinBox] = {}
        for row, name in enumerate(names):
            item = QTableWidgetItem(name)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, 0, item)
            spin = QDoubleSpinBox()
            spin.setRange(0.0, MAX_WEIGHT)
            spin.setDecimals(3)
            spin.setSingleStep(0.5)
            spin.setValue(float(weights.get(name, 1.0)))
            self.table.setCellWidget(row, 1, spin)
            self.spins[name] = spin
        note = QLabel(
            "Each sample of a class counts this many times in the loss: raise a rare class's "
            "weight to make the model pay it more attention."
            if names
            else NO_CLASSES
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(names))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def weights(self) -> dict[str, float]:
        """Every listed class and its weight, by class name."""
        return {name: round(spin.value(), 6) for name, spin in self.spins.items()}
