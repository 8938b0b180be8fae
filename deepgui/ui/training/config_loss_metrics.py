"""The Configuration form's loss and metrics: the loss by name, or a Keras loss object imported
with a model (shown in words, kept until another is chosen); the metrics as a line of names and
as ticks for the extras that fit the data's task. Settings per output (a dict by output name)
are shown, not edited, here: one field cannot hold them, and an edit elsewhere must not flatten
them."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QGridLayout, QLineEdit, QWidget

from deepgui.core.training.config import (
    METRIC_LABELS,
    SPARSE_TOP_K,
    TOP_K,
    TrainingConfig,
    is_serialized,
    metric_choices,
)
from deepgui.core.training.settings_words import loss_object_text, per_output_text
from deepgui.ui.training.config_widgets import combo, stacked
from deepgui.ui.training.fields import set_text

LOSSES = ["auto", "sparse_categorical_crossentropy", "categorical_crossentropy",
          "binary_crossentropy", "mse", "mae", "huber"]  # fmt: skip
SERIALIZED_LOSS = "serialized"  # the loss choice's data for a Keras loss object the project keeps


class LossAndMetrics:
    """The loss choice (`loss`), and the metrics line with its ticks (`metrics_cell`). The form
    reads `loss_value` and `metrics_value` and sends the edit."""

    def __init__(self) -> None:
        self.loss = combo(LOSSES, editable=True)
        self.metrics = QLineEdit()
        self.metrics.setPlaceholderText("auto, or names such as accuracy, mae")
        # Keras's metrics that fit the data's task, as ticks that add or take out a name.
        self.metric_boxes = {name: QCheckBox(label) for name, label in METRIC_LABELS.items()}
        for name, box in self.metric_boxes.items():
            box.setObjectName(f"metric_{name}")
            box.setToolTip(f"Also report Keras's {name} during training")
            box.hide()  # until show_metric_boxes offers it
        # Which of loss and metrics the project gives per output (shown, not edited here).
        self.per_output = {"loss": False, "metrics": False}
        # A Keras loss object the project has: (the words the loss choice shows, the object).
        self._kept_loss: tuple[str, dict[str, Any]] | None = None

    def metrics_cell(self) -> QWidget:
        """The metrics line with the ticks under it, three a row: all six on one would widen
        the form past the settings column."""
        grid = QGridLayout()
        for i, box in enumerate(self.metric_boxes.values()):
            grid.addWidget(box, i // 3, i % 3)
        return stacked(self.metrics, grid)

    # ------------------------------------------------------------------ settings -> fields
    def show_loss(self, cfg: TrainingConfig, raw: dict, _refused: set[str]) -> None:
        loss = raw.get("loss")
        self.per_output["loss"] = isinstance(loss, dict) and not is_serialized(loss)
        self._offer_kept_loss(loss if is_serialized(loss) else None)
        self.loss.setEnabled(not self.per_output["loss"])
        if self.per_output["loss"]:
            set_text(self.loss, per_output_text(loss))
        elif self._kept_loss is not None:
            set_text(self.loss, self._kept_loss[0])
        else:
            set_text(self.loss, str(cfg.loss))

    def _offer_kept_loss(self, loss: dict[str, Any] | None) -> None:
        """A Keras loss object (from_logits=True, label smoothing: what no name says) becomes
        an entry of the loss choice, in words; choosing a name replaces it, choosing the entry
        again brings it back."""
        i = self.loss.findData(SERIALIZED_LOSS)
        if i >= 0:
            self.loss.removeItem(i)
        self._kept_loss = None
        if loss is not None:
            text = loss_object_text(loss)
            self.loss.insertItem(1, text, SERIALIZED_LOSS)
            self._kept_loss = (text, loss)

    def show_metrics(self, cfg: TrainingConfig, raw: dict, task: str | None,
                     num_classes: int) -> None:  # fmt: skip
        """The metrics as the project has them, and the ticks `task` offers."""
        metrics = raw.get("metrics")
        self.per_output["metrics"] = isinstance(metrics, dict)
        self.metrics.setEnabled(not self.per_output["metrics"])
        if isinstance(metrics, dict):
            set_text(self.metrics, per_output_text(metrics))
        else:
            set_text(self.metrics, "auto" if cfg.metrics == "auto" else ", ".join(cfg.metrics))
        self.show_metric_boxes(
            cfg.metrics if not isinstance(metrics, dict) else metrics, task, num_classes
        )

    def show_metric_boxes(self, metrics: Any, task: str | None, num_classes: int) -> None:
        """A tick for each extra metric that fits the data's task (and for one the settings
        list even so, so it can be taken out), ticked where the settings list it. Until the
        data is described (its preview, `task` None) every one is offered: the core refuses
        one that does not fit when training starts, in a sentence."""
        listed = {TOP_K if m == SPARSE_TOP_K else m for m in _metric_list(metrics)}
        offered = set(self.metric_boxes if task is None else metric_choices(task, num_classes))
        for name, box in self.metric_boxes.items():
            box.blockSignals(True)
            box.setChecked(name in listed)
            box.blockSignals(False)
            box.setVisible(name in offered or name in listed)
            box.setEnabled(not self.per_output["metrics"])

    # ------------------------------------------------------------------ fields -> settings
    def loss_value(self, training: dict[str, Any]) -> Any:
        if self.per_output["loss"]:  # per output: kept as the project (`training`) has it
            return training.get("loss")
        text = self.loss.currentText().strip() or TrainingConfig.loss
        if self._kept_loss is not None and text == self._kept_loss[0]:
            return self._kept_loss[1]  # the Keras loss object, as the project has it
        return text

    def metrics_value(self, training: dict[str, Any]) -> Any:
        if self.per_output["metrics"]:  # per output: kept as the project (`training`) has them
            return training.get("metrics")
        text = self.metrics.text().strip()
        return "auto" if text in ("", "auto") else [m.strip() for m in text.split(",") if m.strip()]

    def tick(self, name: str, ticked: bool, task: str | None, training: dict[str, Any]) -> None:
        """A tick adds its metric to the line (the task's own metric first, where the setting
        was "auto") or takes it out."""
        current = self.metrics_value(training)
        if current == "auto":
            current = ["mae"] if task == "regression" else ["accuracy"]
        gone = {name, SPARSE_TOP_K} if name == TOP_K else {name}
        names = [m for m in _metric_list(current) if m not in gone]
        if ticked:
            names.append(name)
        self.metrics.setText(", ".join(names) or "auto")


def _metric_list(metrics: Any) -> list[str]:
    """The names a metrics setting lists ([] for "auto" or one per output)."""
    return list(metrics) if isinstance(metrics, list) else []
