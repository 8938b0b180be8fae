"""Evaluation after training: held-out metrics, a confusion-matrix heat map, sample
predictions (images with predicted and true labels, or predicted against actual), and a way
to the Predict dialog for the run. A model with several outputs shows one output at a time,
chosen from a list (the core evaluates each).

Beside the matrix, in tabs: precision, recall, F1 and support per class with their averages;
for two classes the ROC and precision-recall curves with their areas, and a decision threshold
(slider and box) whose point is marked on both curves and which counts the matrix and the table
anew as it moves; a moment after it stops, the run keeps it (core: evaluation.set_threshold,
which predict and later exports read). For values: predicted against actual and the
residuals, with MAE, RMSE and R². Two more tabs look inside the run's saved model: its layers'
activations and why it predicts what it does (activations_view.py, explain_view.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from deepgui.core import report
from deepgui.core.errors import DeepGuiError
from deepgui.core.training.evaluation import (
    at_threshold,
    from_stored,
    set_threshold,
    with_run_images,
)
from deepgui.ui.theme import status_color
from deepgui.ui.training.activations_view import ActivationsView
from deepgui.ui.training.explain_view import WhyView
from deepgui.ui.training.images import to_pixmap
from deepgui.ui.training.inspection import RunInspection

EMPTY = "Train a model to see how it does on data it has not seen."
# What one step of `result_steps` draws: about 1-2 ms of the GUI thread each on 2 cores.
CELLS_PER_STEP = 10
SAMPLES_PER_STEP = 4
ROWS_PER_STEP = 25
# The slider's steps over [0, 1]; the box takes any value to three decimals.
SLIDER_STEPS = 1000
# How long the threshold rests before the run keeps it (a drag writes the run's files once).
SAVE_DELAY_MS = 400
TABLE_COLUMNS = ("class", "precision", "recall", "F1", "support")


class EvaluationView(QWidget):
    predict_requested = Signal()  # "Predict on a file…": the dialog, on this run
    threshold_saved = Signal(float)  # the run now keeps this threshold

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.result: dict[str, Any] | None = None
        self.model = None
        self.run_dir = None  # the run shown, whose threshold a move changes
        self.shown: dict[str, Any] | None = None  # the output drawn (of several: the chosen)
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

        self.class_table = QTableWidget(0, len(TABLE_COLUMNS))
        self.class_table.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        self.class_table.verticalHeader().hide()
        self.class_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.class_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.class_table.setToolTip(
            "Precision: of the samples predicted as the class, the share that are. Recall: of "
            "the class's samples, the share found. F1: their harmonic mean. Support: samples."
        )
        self.roc_plot = pg.PlotWidget()
        self.roc_plot.setLabel("bottom", "false positive rate")
        self.roc_plot.setLabel("left", "true positive rate")
        self.pr_plot = pg.PlotWidget()
        self.pr_plot.setLabel("bottom", "recall")
        self.pr_plot.setLabel("left", "precision")
        self.roc_marker = pg.ScatterPlotItem(size=11, brush=pg.mkBrush(255, 140, 0))
        self.pr_marker = pg.ScatterPlotItem(size=11, brush=pg.mkBrush(255, 140, 0))
        curves = QWidget()
        both = QHBoxLayout(curves)
        both.setContentsMargins(0, 0, 0, 0)
        both.addWidget(self.roc_plot)
        both.addWidget(self.pr_plot)
        self.residual_plot = pg.PlotWidget()
        self.residual_plot.setLabel("bottom", "predicted")
        self.residual_plot.setLabel("left", "actual - predicted")
        self.residual_plot.setToolTip("Residuals: on the dashed line, exactly right")
        self.pages = QTabWidget()
        self.pages.addTab(self.left, "Matrix")
        self.pages.addTab(self.class_table, "Per class")
        self.pages.addTab(curves, "ROC and PR")
        self.pages.addTab(self.residual_plot, "Residuals")
        self.curves_page, self.residual_page = curves, self.residual_plot
        # Look inside the run's saved model, off the GUI thread, once a tab is opened.
        self.inspection = RunInspection(lambda: self.run_dir, self)
        self.activations_view = ActivationsView(self.inspection)
        self.why_view = WhyView(self.inspection)
        self.pages.addTab(self.activations_view, "Activations")
        self.pages.addTab(self.why_view, "Why")
        self._look_inside(False)

        # Two classes: the probability of the second from which it is predicted.
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(0, SLIDER_STEPS)
        self.threshold_box = QDoubleSpinBox()
        self.threshold_box.setRange(0.0, 1.0)
        self.threshold_box.setDecimals(3)
        self.threshold_box.setSingleStep(0.01)
        self.threshold_note = QLabel("")
        self.threshold_row = QWidget()
        row = QHBoxLayout(self.threshold_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Decision threshold"))
        row.addWidget(self.threshold_slider, 1)
        row.addWidget(self.threshold_box)
        row.addWidget(self.threshold_note)
        self.threshold_row.setToolTip(
            "The probability of the second class from which a sample is predicted as it: "
            "lower finds more of it (recall), higher is surer when it says so (precision)."
        )
        self.threshold_row.hide()
        self.threshold_slider.valueChanged.connect(lambda v: self.move_threshold(v / SLIDER_STEPS))
        self.threshold_box.valueChanged.connect(self.move_threshold)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_threshold)
        self._unsaved = False  # a moved threshold the run does not keep yet

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
        left = QVBoxLayout()
        left.addWidget(self.threshold_row)
        left.addWidget(self.pages, 1)
        body.addLayout(left, 3)
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

    def follow_palette(self, *only: pg.PlotWidget) -> None:
        """Plots in the window's colours, light or dark (pyqtgraph keeps its own otherwise:
        the matrix stayed on a light grey in the dark look); `only` these when given (each
        plot restyled costs a few milliseconds)."""
        palette = QApplication.palette()  # the look's own (a hidden tab's may lag behind)
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.WindowText)
        plots = only or (self.confusion_plot, self.scatter_plot, self.roc_plot, self.pr_plot,
                         self.residual_plot, self.activations_view.plot, self.why_view.bars,
                         *self.why_view.step_plots)  # fmt: skip
        for plot in plots:
            plot.setBackground(base)
            item = plot.getPlotItem()
            for name in ("left", "bottom"):
                axis = item.getAxis(name)
                axis.setTextPen(text)
                axis.setPen(text)
                axis.label.setDefaultTextColor(text)

    def clear(self, text: str = "Training…") -> None:
        self.save_threshold()  # a threshold still resting is kept before the run goes
        self.result = None
        self.model = None
        self.shown = None
        self.threshold_row.hide()
        self.class_table.setRowCount(0)
        for plot in (self.roc_plot, self.pr_plot, self.residual_plot):
            plot.clear()
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
        self._look_inside(False)

    def _look_inside(self, shown: bool) -> None:
        """The Activations and Why tabs, for a run whose saved model they read."""
        for page in (self.activations_view, self.why_view):
            self.pages.setTabVisible(self.pages.indexOf(page), shown)
            page.run_changed()

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
        self.run_dir = run_dir
        self._look_inside(run_dir is not None)
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

    def show_result(self, result: dict[str, Any] | None, model=None, run_dir=None) -> None:
        for _ in self.result_steps(result, model, run_dir):
            pass

    def result_steps(
        self, result: dict[str, Any] | None, model=None, run_dir=None
    ) -> Iterator[None]:
        """`show_result` in short steps (the caller runs one per event-loop turn, so the end
        of a run does not hold the GUI thread: the matrix's cells and the sample pictures took
        about 70 ms at once). The result and the summary are set at the first step. `run_dir`:
        the run that keeps a moved threshold."""
        self.save_threshold()
        self.result, self.model, self.run_dir = result, model, run_dir
        self._look_inside(run_dir is not None and bool(result) and "error" not in result)
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
        values = result.get("regression")
        if values:  # MAE, RMSE and R² of the values (Keras logs only what was asked for)
            metrics += "; " + ", ".join(f"{k.upper().replace('R2', 'R²')} {v:.4g}"
                                        for k, v in values.items())  # fmt: skip
        return f"on the {result['split']} split ({result['count']} samples): {metrics}."

    def _draw(self, result: dict[str, Any]) -> None:
        for _ in self._draw_steps(result):
            pass

    def _draw_steps(self, result: dict[str, Any]) -> Iterator[None]:
        """The matrix (classes) or the scatter (values), the tabs beside it, and the sample
        predictions."""
        self.body.show()
        self.shown = result
        classes = "confusion" in result
        scored = result.get("y_score") is not None and not (self.result or {}).get("outputs")
        self.pages.setTabText(0, "Matrix" if classes else "Predicted vs actual")
        self.pages.setTabVisible(1, classes)
        self.pages.setTabVisible(2, scored)
        self.pages.setTabVisible(3, not classes)
        self.threshold_row.setVisible(scored)
        if classes:
            yield from self._confusion_steps(result["confusion"], result["class_names"])
            self.left.setCurrentWidget(self.confusion_plot)
            yield from self._table_steps(result.get("report"))
            if scored:
                self._show_curves(result)
        else:
            self._show_scatter(result["y_true"], result["y_pred"])
            self.left.setCurrentWidget(self.scatter_plot)
            self._show_residuals(result["y_true"], result["y_pred"])
        yield
        yield from self._samples_steps(result)

    # ------------------------------------------------------------------ per class
    def _table_steps(self, figures: dict[str, Any] | None) -> Iterator[None]:
        """One row per class, then the macro and weighted averages."""
        rows = [] if not figures else [*figures["classes"], figures["macro"], figures["weighted"]]
        self.class_table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            if i and i % ROWS_PER_STEP == 0:
                yield
            cells = [str(row["class"]), *(f"{row[k]:.4f}" for k in ("precision", "recall", "f1")),
                     str(row["support"])]  # fmt: skip
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if i >= len(rows) - 2:  # the averages, apart from the classes
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                self.class_table.setItem(i, j, item)

    def table_rows(self) -> list[list[str]]:
        """The per-class table as shown, row by row (for tests and screenshots)."""
        return [
            [self.class_table.item(i, j).text() for j in range(self.class_table.columnCount())]
            for i in range(self.class_table.rowCount())
        ]

    # ------------------------------------------------------------------ two classes
    def _show_curves(self, result: dict[str, Any]) -> None:
        y, scores = result["y_true"], result["y_score"]
        fpr, tpr, _ = report.roc_curve(y, scores)
        precision, recall, _ = report.pr_curve(y, scores)
        pen = pg.mkPen(79, 124, 255, width=2)
        self.roc_plot.clear()
        self.roc_plot.plot([0, 1], [0, 1], pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
        self.roc_plot.plot(np.nan_to_num(fpr), np.nan_to_num(tpr), pen=pen)
        self.roc_plot.addItem(self.roc_marker)
        self.pr_plot.clear()
        self.pr_plot.plot(np.nan_to_num(recall), precision, pen=pen)
        self.pr_plot.addItem(self.pr_marker)
        self.roc_plot.setTitle(f"ROC, AUC {_area(result.get('roc_auc'))}")
        self.pr_plot.setTitle(f"Precision-recall, AP {_area(result.get('average_precision'))}")
        self._show_threshold(float(result.get("threshold", report.DEFAULT_THRESHOLD)))

    def _show_threshold(self, t: float) -> None:
        """The slider, the box and both markers at `t` (without moving it again)."""
        for widget, value in ((self.threshold_slider, round(t * SLIDER_STEPS)),
                              (self.threshold_box, t)):  # fmt: skip
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        shown = self.shown or {}
        if shown.get("y_score") is None:
            return
        _, (fpr, tpr), (recall, precision) = report.at_threshold(shown["y_true"],
                                                                  shown["y_score"], t)  # fmt: skip
        self.roc_marker.setData([fpr], [tpr])
        self.pr_marker.setData([recall], [precision])
        self.threshold_note.setText(f"precision {precision:.3f}, recall {recall:.3f}")

    @property
    def threshold(self) -> float | None:
        shown = self.shown or {}
        return shown.get("threshold") if shown.get("y_score") is not None else None

    def move_threshold(self, t: float) -> None:
        """The matrix, the table, the samples and the markers at threshold `t`, at once; the
        run keeps it once it rests (SAVE_DELAY_MS)."""
        shown = self.shown
        if shown is None or shown.get("y_score") is None or self.result is None:
            return
        t = min(max(float(t), 0.0), 1.0)
        moved = at_threshold(shown, t)
        self.result = self.shown = moved
        self._show_threshold(t)
        for _ in self._confusion_steps(moved["confusion"], moved["class_names"]):
            pass
        for _ in self._table_steps(moved["report"]):
            pass
        for _ in self._samples_steps(moved):
            pass
        if self.run_dir is not None:
            self._unsaved = True
            self._save_timer.start()

    def save_threshold(self) -> None:
        """Keep the threshold shown in the run (its signature and evaluation), if it moved."""
        if not self._unsaved:
            return
        self._unsaved = False
        self._save_timer.stop()
        t = self.threshold
        if t is None or self.run_dir is None:
            return
        try:
            set_threshold(self.run_dir, t)
        except (DeepGuiError, OSError) as exc:
            self.threshold_note.setText(f"Not kept: {exc}")
            return
        self.threshold_saved.emit(float(t))

    # ------------------------------------------------------------------ values
    def _show_residuals(self, actual: np.ndarray, predicted: np.ndarray) -> None:
        self.residual_plot.clear()
        self.residual_plot.plot(predicted, report.residuals(actual, predicted), pen=None,
                                symbol="o", symbolSize=5,
                                symbolBrush=pg.mkBrush(79, 124, 255, 150))  # fmt: skip
        self.residual_plot.addItem(pg.InfiniteLine(pos=0, angle=0,
                                   pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine)))  # fmt: skip

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
        self.follow_palette(self.confusion_plot)

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


def _area(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
