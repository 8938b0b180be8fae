"""The Evaluation tab's Why page: why the run's model predicts what it does, on the evaluation
samples, beside a gallery of its most confidently wrong samples (core: explain_views picks
them and computes every explanation off the GUI thread).

Images: the Grad-CAM heat (integrated gradients where the model has no feature maps) drawn
over each sample, with a toggle to see the samples without it. A table: one bar per column,
its attribution for the selected row or, averaged, over the validation split. A series: the
attribution of each time step and feature, beside the window itself."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.explain_views import (
    COLUMNS,
    GRAD_CAM,
    PIXELS,
    STEPS,
    Explained,
    Why,
    overlay,
    ranked,
)
from deepgui.ui.theme import status_color
from deepgui.ui.training.images import to_pixmap
from deepgui.ui.training.inspection import InspectingView, RunInspection

WAITING = "Explaining the evaluation samples and looking for the surest mistakes…"
THIS_ROW, AVERAGE = "the selected row", "averaged over the validation split"
AVERAGE_CAPTION = "Mean size of each column's attribution over the validation split"
ICON = 56  # a sample's picture in the lists
PICTURE = 160  # the selected sample's
POSITIVE, NEGATIVE = QColor(79, 124, 255), QColor(255, 140, 0)
ROLE = Qt.ItemDataRole.UserRole


class WhyView(InspectingView):
    def __init__(self, inspection: RunInspection, parent=None) -> None:
        super().__init__(inspection, parent)
        self.why: Why | None = None
        self.selected: Explained | None = None
        self.bars_shown: list[tuple[str, float]] = []  # the bar chart, top bar first
        self._average: list[tuple[str, float]] | None = None  # over the validation split
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.heat_toggle = QCheckBox("Show heat")
        self.heat_toggle.setToolTip("Where the model looked: red over the parts that raised "
                                    "the predicted class's score")  # fmt: skip
        self.heat_toggle.setChecked(True)
        self.heat_toggle.hide()
        self.scope = QComboBox()
        self.scope.addItems([THIS_ROW, AVERAGE])
        self.scope.setToolTip("Each column's attribution for one row, or its mean size over "
                              "the validation split")  # fmt: skip
        self.scope.hide()

        self.samples = _list()
        self.gallery = _list()
        self.gallery.setToolTip("The wrong predictions the model was surest of, surest first")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(40, 40)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.bars = pg.PlotWidget()
        self.bars.setLabel("bottom", "attribution")
        self.bars.getPlotItem().invertY(True)
        self.bars.setMenuEnabled(False)
        # A series: the window's values over time, and below, on the same time axis, each
        # step's attribution (summed over the features).
        self.steps = QWidget()
        pair = QVBoxLayout(self.steps)
        pair.setContentsMargins(0, 0, 0, 0)
        pair.setSpacing(0)
        self.window_plot, self.attribution_plot = pg.PlotWidget(), pg.PlotWidget()
        self.attribution_plot.setLabel("bottom", "time step")
        self.attribution_plot.setXLink(self.window_plot)
        self.step_plots = [self.window_plot, self.attribution_plot]
        for plot in self.step_plots:
            plot.setMenuEnabled(False)
            plot.setMinimumHeight(20)
            pair.addWidget(plot)
        self.detail = QStackedWidget()
        for page in (self.picture, self.bars, self.steps):
            page.setMinimumHeight(40)
            self.detail.addWidget(page)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)

        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.heat_toggle)
        top.addWidget(self.scope)
        middle = QVBoxLayout()
        middle.addWidget(self.detail, 1)
        middle.addWidget(self.caption)
        body = QHBoxLayout()
        body.addLayout(_titled("Evaluation samples", self.samples), 2)
        body.addLayout(middle, 3)
        body.addLayout(_titled("Most confidently wrong", self.gallery), 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addLayout(body, 1)

        for widget in (self.samples, self.gallery):
            widget.currentItemChanged.connect(lambda item, _old, w=widget: self._picked(w, item))
        self.heat_toggle.toggled.connect(lambda _: self._redraw())
        self.scope.currentTextChanged.connect(lambda _: self._show_columns())

    # ------------------------------------------------------------------ the run
    def read_run(self) -> None:
        self.why, self.selected, self.bars_shown, self._average = None, None, [], None
        self.samples.clear()
        self.gallery.clear()
        self.picture.clear()
        self.bars.clear()
        self.caption.setText("")
        self.status.setText(WAITING)
        self.inspection.ask("why", lambda i: i.why(), self._show_why, self._failed)

    def _failed(self, message: str) -> None:
        self.status.setText(message)

    def _show_why(self, why: Why) -> None:
        self.why = why
        images = why.kind in (GRAD_CAM, PIXELS)
        self.heat_toggle.setVisible(images)
        self.scope.setVisible(why.kind == COLUMNS)
        method = {GRAD_CAM: "Grad-CAM", PIXELS: "integrated gradients"}.get(
            why.kind, "integrated gradients")  # fmt: skip
        wrong = (f"the {len(why.wrong)} surest mistakes of {why.looked_at}" if why.wrong
                 else f"no mistakes in {why.looked_at}")  # fmt: skip
        self.status.setText(f"Explained by {method}; {wrong}.")
        self._redraw()
        for widget, shown in ((self.samples, why.samples), (self.gallery, why.wrong)):
            if shown:
                widget.setCurrentRow(0)
                break

    def _redraw(self) -> None:
        """Both lists as they are now (with or without the heat), keeping the selection."""
        if self.why is None:
            return
        for widget, shown in ((self.samples, self.why.samples), (self.gallery, self.why.wrong)):
            row = widget.currentRow()
            widget.blockSignals(True)
            widget.clear()
            images = self.why.kind in (GRAD_CAM, PIXELS)
            widget.setViewMode(QListView.ViewMode.IconMode if images
                               else QListView.ViewMode.ListMode)  # fmt: skip
            if not shown:
                placeholder = QListWidgetItem(
                    "None: every prediction here is right."
                    if widget is self.gallery
                    else "No samples."
                )
                placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
                widget.addItem(placeholder)
            for explained in shown:
                item = QListWidgetItem(_short(explained) if images else _line(explained))
                item.setToolTip(explained.label)
                item.setData(ROLE, explained)
                item.setForeground(QColor(status_color(not explained.wrong)))
                if images:
                    item.setIcon(QIcon(to_pixmap(self.drawn(explained), ICON)))
                widget.addItem(item)
            widget.setCurrentRow(row)
            widget.blockSignals(False)
        if self.selected is not None:
            self._explain(self.selected)

    def drawn(self, explained: Explained) -> np.ndarray:
        """A sample's picture as shown: with its heat over it while the toggle is on."""
        if self.heat_toggle.isChecked() and explained.heat is not None:
            return overlay(explained.picture, explained.heat)
        return explained.picture

    def _picked(self, widget: QListWidget, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        other = self.gallery if widget is self.samples else self.samples
        other.blockSignals(True)
        other.setCurrentRow(-1)
        other.blockSignals(False)
        self._explain(item.data(ROLE))

    # ------------------------------------------------------------------ one sample
    def _explain(self, explained: Explained) -> None:
        self.selected = explained
        kind = self.why.kind if self.why else None
        self.caption.setText(explained.label)
        if kind in (GRAD_CAM, PIXELS):
            self.detail.setCurrentWidget(self.picture)
            self.picture.setPixmap(to_pixmap(self.drawn(explained), PICTURE))
        elif kind == STEPS:
            self.detail.setCurrentWidget(self.steps)
            self._draw_steps(explained)
        else:
            self.detail.setCurrentWidget(self.bars)
            self._show_columns()

    def _draw_steps(self, explained: Explained) -> None:
        window = np.asarray(explained.picture, np.float32)
        per_step = np.asarray(explained.heat, np.float32).reshape(len(window), -1).sum(axis=1)
        steps = np.arange(len(window))
        self.window_plot.clear()
        for f in range(window.shape[1]):
            color = pg.intColor(f, hues=max(window.shape[1], 1)) if window.shape[1] > 1 else (
                POSITIVE)  # fmt: skip
            self.window_plot.plot(steps, window[:, f], pen=pg.mkPen(color, width=2))
        self.attribution_plot.clear()
        self.attribution_plot.addItem(pg.BarGraphItem(
            x=steps, height=per_step, width=0.8,
            brushes=[POSITIVE if v >= 0 else NEGATIVE for v in per_step]))  # fmt: skip
        summed = ", summed over its features" if window.shape[1] > 1 else ""
        self.caption.setText(f"{explained.label}; below, each time step's attribution{summed}")

    def _show_columns(self) -> None:
        if self.scope.currentText() == AVERAGE:
            if self._average is not None:
                self._draw_bars(self._average, AVERAGE_CAPTION)
                return
            self.caption.setText("Averaging over the validation split…")
            self.inspection.ask("why-average", lambda i: i.column_average(),
                                self._show_average, self._failed)  # fmt: skip
        elif self.selected is not None:
            self.caption.setText(self.selected.label)
            names = [n for n, _ in self.selected.columns]
            values = np.array([v for _, v in self.selected.columns])
            self._draw_bars(ranked(names, values), self.selected.label)

    def _show_average(self, columns: list[tuple[str, float]]) -> None:
        self._average = columns
        if self.scope.currentText() == AVERAGE:
            self._draw_bars(columns, AVERAGE_CAPTION)

    def _draw_bars(self, columns: list[tuple[str, float]], caption: str) -> None:
        """One horizontal bar per column, the largest in size on top."""
        self.bars_shown = list(columns)
        self.bars.clear()
        values = np.array([v for _, v in columns], dtype=float)
        y = np.arange(len(columns))
        brushes = [POSITIVE if v >= 0 else NEGATIVE for v in values]
        self.bars.addItem(pg.BarGraphItem(x0=np.minimum(values, 0), y=y, height=0.7,
                                          width=np.abs(values), brushes=brushes))  # fmt: skip
        self.bars.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen("#888")))
        self.bars.getPlotItem().getAxis("left").setTicks([[(i, n[:18]) for i, (n, _)
                                                            in enumerate(columns)]])  # fmt: skip
        self.bars.autoRange(padding=0.05)
        self.caption.setText(caption)


def _list() -> QListWidget:
    widget = QListWidget()
    widget.setIconSize(QSize(ICON, ICON))
    widget.setResizeMode(QListView.ResizeMode.Adjust)
    widget.setMovement(QListView.Movement.Static)
    widget.setWordWrap(True)
    widget.setMinimumHeight(40)
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
    return widget


def _titled(title: str, widget: QWidget) -> QVBoxLayout:
    box = QVBoxLayout()
    box.addWidget(QLabel(title))
    box.addWidget(widget, 1)
    return box


def _line(explained: Explained) -> str:
    """In a list of rows: the prediction, and the true label where it differs."""
    sure = "" if explained.confidence is None else f" ({explained.confidence:.2f})"
    true = f", true {explained.true}" if explained.wrong else ""
    return f"{explained.name}: {explained.predicted}{sure}{true}"


def _short(explained: Explained) -> str:
    """Under a picture: predicted and true."""
    return explained.predicted if explained.true is None else (
        f"{explained.predicted} / {explained.true}")  # fmt: skip
