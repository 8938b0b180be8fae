"""The Configuration form's class weights: none, balanced, or a weight per class, given in the
table of class_weights.py; a weight per class is shown in a few words under the choice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from deepgui.core.training.config import TrainingConfig
from deepgui.core.training.settings_words import weights_text
from deepgui.ui.training.class_weights import ClassWeightsDialog
from deepgui.ui.training.config_widgets import say, stacked

PER_CLASS = "per_class"  # the class-weight choice's data for a weight per class
CLASS_WEIGHT_CHOICES = (("None", "none"), ("Balanced", "balanced"), ("Per class…", PER_CLASS))


class ClassWeightChoice(QObject):
    """The choice, the table's Edit button and the weights in words (`cell`, a row of the
    form). A weighting the user chose is announced as `chosen` (a table, once accepted), for
    the form to send; a table cancelled puts back what the form last sent (`last_sent()`)."""

    chosen = Signal()

    def __init__(self, form: QWidget, classes: Callable[[], list[str]],
                 last_sent: Callable[[], Any]) -> None:  # fmt: skip
        super().__init__(form)
        self._form = form  # the table's parent
        self._classes = classes  # the loaded data's class names, which the table lists
        self._last_sent = last_sent
        self.choice = QComboBox()
        for label, data in CLASS_WEIGHT_CHOICES:
            self.choice.addItem(label, data)
        self.choice.setToolTip(
            "How much each class counts in the loss: all alike, inversely to how often it "
            "occurs (Balanced), or a weight you give each class"
        )
        self.edit = QPushButton("Edit…")
        self.edit.setToolTip("The weight of each class")
        self.info = QLabel()
        self.info.setObjectName("classWeights")
        self.info.setWordWrap(True)
        # The weight per class held: the project's, or the table's once accepted.
        self.weights: dict[str, float] = {}
        self.dialog: ClassWeightsDialog | None = None  # while it is open
        self._quiet = False  # while the choice is set from the settings, not by the user
        self.choice.currentIndexChanged.connect(self._chosen)
        self.edit.clicked.connect(self.open_table)

    def cell(self) -> QWidget:
        row = QHBoxLayout()
        row.addWidget(self.choice, 1)
        row.addWidget(self.edit)
        return stacked(row, self.info)

    def show_settings(self, cfg: TrainingConfig, raw: dict, refused: set[str]) -> None:
        value = raw.get("class_weight") if "class_weight" in refused else cfg.class_weight
        if isinstance(value, dict):
            self.weights = {str(k): v for k, v in value.items()}
            choice = PER_CLASS
        else:
            choice = value if value in ("none", "balanced") else "none"
        self._select(choice)

    def value(self) -> str | dict[str, float]:
        choice = self.choice.currentData()
        return dict(self.weights) if choice == PER_CLASS else choice

    def _show_weights(self) -> None:
        per_class = self.choice.currentData() == PER_CLASS
        self.edit.setVisible(per_class)
        say(self.info, weights_text(self.weights) if per_class else "")

    def _chosen(self, *_args) -> None:
        if self._quiet:
            return
        if self.choice.currentData() == PER_CLASS:
            self.open_table()  # announced once the table is accepted
            return
        self._show_weights()
        self.chosen.emit()

    def open_table(self) -> None:
        """The table of a weight per class; accepted, it is one edit; cancelled, the choice
        goes back to what the project holds."""
        dialog = ClassWeightsDialog(self._classes(), self.weights, self._form)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._given(dialog))
        dialog.rejected.connect(lambda: self._dropped(dialog))
        dialog.open()

    def _given(self, dialog: ClassWeightsDialog) -> None:
        self.dialog = None
        self.weights = dialog.weights()
        self._select(PER_CLASS)
        self.chosen.emit()

    def _dropped(self, dialog: ClassWeightsDialog) -> None:
        self.dialog = None
        shown = self._last_sent()
        if isinstance(shown, dict):
            self.weights = dict(shown)
        self._select(PER_CLASS if isinstance(shown, dict) else shown)

    def _select(self, choice: str) -> None:
        self._quiet = True
        try:
            self.choice.setCurrentIndex(max(0, self.choice.findData(choice)))
        finally:
            self._quiet = False
        self._show_weights()
