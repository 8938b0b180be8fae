"""Evaluation after training: held-out metrics, a confusion-matrix heat map, sample
predictions (images with predicted and true labels, or predicted against actual), and a way
to the Predict dialog for the run. A model with several outputs shows one output at a time,
chosen from a list (the core evaluates each)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.training.evaluation import from_stored, with_run_images
from deepgui.ui.theme import status_color
from deepgui.ui.training.images import to_pixmap

EMPTY = "Train a model to see how it does on data it has not seen."
# What one step of `result_steps` draws: about 1-2 ms of the GUI thread each on 2 cores.
CELLS_PER_STEP = 10
SAMPLES_PER_STEP = 4


class EvaluationView(QWidget):
    predict_requested = Signal()  # "Predict on a file…": the dialog, on this run

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.result: dict[str, Any] | None = None
        self.model = None
        self.summary = QLabel(EMPTY)
        self.summary.setWordWrap(True)
        self.predict_button = QPushButton("Predict on a file…")
        self.predict_button.setEnabled(False)
        self.predict_button.clicked.connect(self._predict_clicked)
        self.output_choice = QComboBox()
        self.output_choice.setToolTip("The output whose predictions are shown")
        self.output_choice.hide()
        self.output_choice.currentIndexChanged.connect(self._show_output)

        # No title: the axes say "true" and "predicted", and a short dock keeps its height for
        # the cells.
        self.confusion_plot = pg.PlotWidget()
        self.confusion_plot.setToolTip(
            "Confusion matrix: rows are the true classes, columns the predicted ones"
        )
        self.confusion_image = pg.ImageItem()
        self.confusion_image.setColorMap(pg.colormap.get("viridis"))
        self.confusion_plot.addItem(self.confusion_image)
        self.confusion_plot.getPlotItem().invertY(True)
        self.confusion_plot.setAspectLocked(True)
        self._cell_texts: list[pg.TextItem] = []
        self.scatter_plot = pg.PlotWidget()
        self.scatter_plot.setLabel("bottom", "actual")
        self.scatter_plot.setLabel("left", "predicted")
        self.scatter_plot.setToolTip("Predicted against actual: on the dashed line, exactly right")
        self.left = QStackedWidget()
        self.left.addWidget(self.confusion_plot)
        self.left.addWidget(self.scatter_plot)

        self.samples = QWidget()
        self.samples_grid = QGridLayout(self.samples)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.samples)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.output_choice)
        top.addWidget(self.predict_button)
        right = QVBoxLayout()
        right.addWidget(QLabel("Sample predictions"))
        right.addWidget(scroll, 2)
        # The matrix and samples only once there are some: empty axes said nothing.
        self.body = QWidget()
        body = QHBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.left, 3)
        body.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.body, 1)
        self.body.hide()
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.predict_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        top.setAlignment(self.predict_button, Qt.AlignmentFlag.AlignTop)
        top.setAlignment(self.output_choice, Qt.AlignmentFlag.AlignTop)
        self.follow_palette()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.follow_palette()

    def follow_palette(self) -> None:
        """Plots in the window's colours, light or dark (pyqtgraph keeps its own otherwise:
        the matrix stayed on a light grey in the dark look)."""
        palette = QApplication.palette()  # the look's own (a hidden tab's may lag behind)
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.WindowText)
        for plot in (self.confusion_plot, self.scatter_plot):
            plot.setBackground(base)
            item = plot.getPlotItem()
            for name in ("left", "bottom"):
                axis = item.getAxis(name)
                axis.setTextPen(text)
                axis.setPen(text)
                axis.label.setDefaultTextColor(text)

    def clear(self, text: str = "Training…") -> None:
        self.result = None
        self.model = None
        self.predict_button.setEnabled(False)
        self.summary.setText(text)
        self._clear_samples()
        self.confusion_image.clear()
        for t in self._cell_texts:
            self.confusion_plot.removeItem(t)
        self._cell_texts = []
        item = self.confusion_plot.getPlotItem()
        for name in ("left", "bottom"):
            item.getAxis(name).setTicks(None)  # the last matrix's class names go with it
        self.scatter_plot.clear()
        self.body.hide()
        self._offer_outputs(None)

    def _offer_outputs(self, result: dict[str, Any] | None) -> None:
        """The list of outputs, for a result with several (the first is drawn at first)."""
        parts = (result or {}).get("outputs") or []
        self.output_choice.blockSignals(True)
        try:
            self.output_choice.clear()
            self.output_choice.addItems([str(p.get("name", i)) for i, p in enumerate(parts)])
            self.output_choice.setCurrentIndex(0 if parts else -1)
        finally:
            self.output_choice.blockSignals(False)
        self.output_choice.setVisible(len(parts) > 1)

    def _show_output(self, index: int) -> None:
        parts = (self.result or {}).get("outputs") or []
        if 0 <= index < len(parts):
            self._draw(parts[index])

    def show_stored(self, run_name: str, metrics: dict[str, Any], run_dir=None) -> None:
        """A reopened project's last run, from its metrics.json: the evaluation the run kept
        (its scores, confusion matrix or predicted against actual, and a few predictions, with
        their pictures from the run folder's sample rows when it has them); a run from before
        runs kept one shows its held-out scores."""
        self.clear(EMPTY)
        self.predict_button.setEnabled(True)  # the Predict dialog runs the run's own model
        kept = from_stored(metrics.get("evaluation"))
        if run_dir is not None:
            kept = with_run_images(kept, run_dir)
        if kept is not None:
            self.result = kept
            self._offer_outputs(kept)
            self._draw(kept)
            self.summary.setText(f"Last run, {run_name}, {self._scores_text(kept)}")
            return
        test = {k: v for k, v in (metrics.get("test") or {}).items() if isinstance(v, float)}
        best = metrics.get("best") or {}
        if test:
            scores = ", ".join(f"{k} {v:.4g}" for k, v in test.items())
            text = f"Last run, {run_name}, on the test split: {scores}."
        elif best.get("metrics"):
            shown = {k: v for k, v in best["metrics"].items() if k.startswith("val_")}
            scores = ", ".join(f"{k} {v:.4g}" for k, v in shown.items()) or "no validation"
            text = f"Last run, {run_name}, at its best epoch {best.get('epoch')}: {scores}."
        else:
            text = f"Last run, {run_name}: no scores were recorded."
        self.summary.setText(
            f"{text} Train again for the confusion matrix and sample predictions, or predict "
            "on a file with this run."
        )

    def show_result(self, result: dict[str, Any] | None, model=None) -> None:
        for _ in self.result_steps(result, model):
            pass

    def result_steps(self, result: dict[str, Any] | None, model=None) -> Iterator[None]:
        """`show_result` in short steps (the caller runs one per event-loop turn, so the end
        of a run does not hold the GUI thread: the matrix's cells and the sample pictures took
        about 70 ms at once). The result and the summary are set at the first step."""
        self.result, self.model = result, model
        self.predict_button.setEnabled(model is not None)
        self.body.hide()
        if not result:
            self.summary.setText("No evaluation: the run did not produce a model.")
            return
        if "error" in result:
            self.summary.setText(f"Evaluation failed: {result['error']}")
            return
        text = self._scores_text(result)
        self.summary.setText(text[0].upper() + text[1:])
        self._offer_outputs(result)
        yield
        yield from self._draw_steps(result)

    @staticmethod
    def _scores_text(result: dict[str, Any]) -> str:
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in result["metrics"].items())
        return f"on the {result['split']} split ({result['count']} samples): {metrics}."

    def _draw(self, result: dict[str, Any]) -> None:
        for _ in self._draw_steps(result):
            pass

    def _draw_steps(self, result: dict[str, Any]) -> Iterator[None]:
        """The matrix (classes) or the scatter (values), and the sample predictions."""
        self.body.show()
        if "confusion" in result:
            yield from self._confusion_steps(result["confusion"], result["class_names"])
            self.left.setCurrentWidget(self.confusion_plot)
        else:
            self._show_scatter(result["y_true"], result["y_pred"])
            self.left.setCurrentWidget(self.scatter_plot)
        yield
        yield from self._samples_steps(result)

    def _confusion_steps(self, matrix: np.ndarray, names: list[str]) -> Iterator[None]:
        m = np.asarray(matrix, dtype=float)
        # ImageItem's first axis is x: transpose so rows are true classes (y), columns predicted.
        self.confusion_image.setImage(m.T, levels=(0, max(1.0, m.max())))
        for t in self._cell_texts:
            self.confusion_plot.removeItem(t)
        self._cell_texts = []
        n = len(m)
        if n <= 20:
            font = QFont()
            font.setPixelSize(10 if n > 6 else 12)  # inside a cell, not over its neighbours
            for i in range(n):
                for j in range(n):
                    if len(self._cell_texts) % CELLS_PER_STEP == 0:
                        yield
                    t = pg.TextItem(str(int(m[i, j])), anchor=(0.5, 0.5),
                                    color="w" if m[i, j] < 0.6 * m.max() else "k")  # fmt: skip
                    t.setFont(font)
                    t.setPos(j + 0.5, i + 0.5)
                    self.confusion_plot.addItem(t)
                    self._cell_texts.append(t)
            yield
        labels = [(i + 0.5, (names[i] if i < len(names) else str(i))[:10]) for i in range(n)]
        item = self.confusion_plot.getPlotItem()
        item.getAxis("bottom").setTicks([labels])
        item.getAxis("left").setTicks([labels])
        item.setLabel("bottom", "predicted")
        item.setLabel("left", "true")
        self.follow_palette()

    def _show_scatter(self, actual: np.ndarray, predicted: np.ndarray) -> None:
        self.scatter_plot.clear()
        self.scatter_plot.plot(actual, predicted, pen=None, symbol="o", symbolSize=5,
                               symbolBrush=pg.mkBrush(79, 124, 255, 150))  # fmt: skip
        lo = float(min(np.min(actual), np.min(predicted)))
        hi = float(max(np.max(actual), np.max(predicted)))
        self.scatter_plot.plot([lo, hi], [lo, hi], pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))

    def _clear_samples(self) -> None:
        while self.samples_grid.count():
            w = self.samples_grid.takeAt(0).widget()
            if w is not None:
                w.hide()  # gone from the screen now; deleted when the event loop gets to it
                w.deleteLater()

    def _samples_steps(self, result: dict[str, Any]) -> Iterator[None]:
        self._clear_samples()
        names = result.get("class_names") or []

        def name(i: int) -> str:
            return names[i] if 0 <= i < len(names) else str(i)

        images = result.get("images")
        y_true, y_pred = result["y_true"], result["y_pred"]
        count = len(images) if images is not None else min(16, len(y_true))
        for k in range(count):
            if k % SAMPLES_PER_STEP == 0:
                yield
            cell = QWidget()
            v = QVBoxLayout(cell)
            v.setContentsMargins(2, 2, 2, 2)
            if images is not None:
                pic = QLabel()
                pic.setPixmap(to_pixmap(images[k], 64))
                pic.setAlignment(Qt.AlignmentFlag.AlignCenter)
                v.addWidget(pic)
            if "confusion" in result:
                ok = int(y_true[k]) == int(y_pred[k])
                text = f"pred {name(int(y_pred[k]))}\ntrue {name(int(y_true[k]))}"
            else:
                ok = True
                text = f"pred {y_pred[k]:.3g}\ntrue {y_true[k]:.3g}"
            label = QLabel(text)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setStyleSheet(f"color: {status_color(ok)};")
            v.addWidget(label)
            self.samples_grid.addWidget(cell, k // 4, k % 4)

    # ------------------------------------------------------------------ predict on a file
    def _predict_clicked(self) -> None:
        # The raw-data prediction (the model takes the data as the user has it): the
        # Predict dialog, on the run just evaluated.
        self.predict_requested.emit()
