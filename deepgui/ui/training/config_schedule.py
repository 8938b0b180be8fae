"""The Configuration form's learning-rate schedule: the kind chosen, the numbers that kind uses
(only those shown, which keeps the form narrow), and a Keras schedule imported with a model, in
words, offered as a choice of its own so that choosing it again brings it back."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel

from deepgui.core.training.config import (
    KERAS_SCHEDULE,
    SCHEDULES,
    TrainingConfig,
    dict_at,
    is_serialized,
)
from deepgui.core.training.settings_words import schedule_text
from deepgui.ui.training.config_widgets import real, say, spin, stacked


class ScheduleFields:
    """The schedule's choice (`kind`, a row of the form) and its numbers with the imported
    schedule's words below them (`details`, the row under it). The form reads `value` and
    sends the edit."""

    def __init__(self) -> None:
        self.kind = QComboBox()
        for kind in SCHEDULES:
            self.kind.addItem(kind, kind)
        self.factor = real(0.01, 1.0, 3, 0.05)
        self.every = spin(1, 10000)
        self.decay = real(0.01, 1.0, 3, 0.01)
        self.patience = spin(1, 1000)
        self.min_lr = real(0.0, 1.0, 7, 1e-6)
        self.info = QLabel()  # a Keras schedule imported with a model, in words
        self.info.setObjectName("importedSchedule")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setToolTip("Keras's own schedule, imported with the model: choosing "
                             "another schedule replaces it (Undo brings it back)")  # fmt: skip
        # The schedule's own numbers on a row of their own: beside the choice they made the
        # form wider than the Training tab's settings column.
        row = QHBoxLayout()
        self._labels = {}
        for label, w in (("factor", self.factor), ("every (epochs)", self.every),
                         ("decay per epoch", self.decay), ("patience", self.patience),
                         ("min lr", self.min_lr)):  # fmt: skip
            text = QLabel(label)
            self._labels[w] = text
            row.addWidget(text)
            row.addWidget(w)
        row.addStretch(1)
        self.details = stacked(row, self.info)

    def show_settings(self, cfg: TrainingConfig, raw: dict, refused: set[str]) -> None:
        self._offer_imported(raw)
        kind = cfg.schedule.kind
        if "schedule" in refused:  # shown as the project has it, beside the core's sentence
            kind = dict_at(raw, "schedule").get("kind", kind)
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.factor.setValue(cfg.schedule.factor)
        self.every.setValue(cfg.schedule.every_epochs)
        self.decay.setValue(cfg.schedule.decay_rate)
        self.patience.setValue(cfg.schedule.patience)
        self.min_lr.setValue(cfg.schedule.min_learning_rate)

    def _offer_imported(self, raw: dict) -> None:
        """An entry in the schedule choice for a Keras schedule the project keeps, also while
        another kind is chosen (the core keeps its config then): choosing it brings it back."""
        i = self.kind.findData(KERAS_SCHEDULE)
        if i >= 0:
            self.kind.removeItem(i)
        config = dict_at(raw, "schedule").get("config")
        if is_serialized(config):
            self.kind.addItem(f"{config['class_name']} (imported)", KERAS_SCHEDULE)

    def show_kind(self, kind: str, training: dict[str, Any]) -> None:
        """Show only the numbers `kind` uses, and an imported schedule (`training`'s) in words
        while it is chosen."""
        for w, used in ((self.factor, kind in ("step", "plateau")),
                        (self.every, kind == "step"),
                        (self.decay, kind == "exponential"),
                        (self.patience, kind == "plateau"),
                        (self.min_lr, kind in ("cosine", "plateau"))):  # fmt: skip
            w.setEnabled(used)
            w.setVisible(used)
            self._labels[w].setVisible(used)
        config = dict_at(training, "schedule").get("config")
        words = ""
        if kind == KERAS_SCHEDULE and is_serialized(config):
            words = f"{schedule_text(config)}, counted in optimizer steps."
        say(self.info, words)

    def value(self, training: dict[str, Any]) -> dict[str, Any]:
        """The fields as training.schedule; an imported schedule's config in `training` stays."""
        return {
            **dict_at(training, "schedule"),
            "kind": self.kind.currentData(),
            "factor": self.factor.value(),
            "every_epochs": self.every.value(),
            "decay_rate": self.decay.value(),
            "patience": self.patience.value(),
            "min_learning_rate": self.min_lr.value(),
        }
