"""Live training curves (pyqtgraph): loss per batch (raw and smoothed) and per epoch,
validation per epoch, each metric, and the learning rate. A model with several outputs also
shows each output's loss (NAME_loss, Keras's name) beside the total, and each output's metrics
(NAME_accuracy, NAME_mae) in the metrics plot.

Points go into growing NumPy buffers as they arrive; the curves are redrawn from a timer at
most 30 times a second, never per batch (drawing per batch slowed training to 0.6x, see
shared/DESIGN.md). Peak downsampling and clip-to-view keep a million points smooth.

Each timer tick does one short slice of drawing, so a 10 ms timer elsewhere on the GUI thread
stays on time: it brings one plot up to date (the next one in turn that has new points), or
makes one new curve. Drawing all three plots in one go, with the curves, legend entries and
axes that change at an epoch's end, took 20-25 ms of the GUI thread at once on 2 cores.

Each plot can be shown in a window of its own (its button at the top left): the window holds
the plot itself, so it goes on following the run; closing it puts the plot back in the row.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFileDialog,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from deepgui.ui.icons import icon
from deepgui.ui.training.buffers import Series

COLORS = ["#4f7cff", "#e57a3a", "#2e9d5b", "#d9534f", "#8a5cf6", "#1ea5b5", "#c59a1c", "#e0558a"]
REDRAW_MS = 33  # at most ~30 redraws a second
MAX_REDRAW_MS = 1000
BUDGET = 0.05  # redrawing may take at most this share of the GUI thread's time
LR_KEYS = ("learning_rate", "lr")
PHASE_COLOR = "#8a5cf6"  # the fine-tuning line: apart from the curves' first colours
TITLES = {"loss": "Loss", "metrics": "Metrics", "learning_rate": "Learning rate"}
STRETCH = {"loss": 3, "metrics": 2, "learning_rate": 2}  # the loss plot is the widest


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def metric_base(key: str) -> str:
    return key[4:] if key.startswith("val_") else key


def is_loss(key: str) -> bool:
    """The total loss, or one output's (NAME_loss) for a model with several outputs."""
    base = metric_base(key)
    return base == "loss" or base.endswith("_loss")


class TimedPlotWidget(pg.PlotWidget):
    """A PlotWidget that remembers how long its last paint took (for the redraw budget)."""

    last_paint = 0.0

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        t = time.perf_counter()
        super().paintEvent(event)
        self.last_paint = time.perf_counter() - t


def follow_palette(widget: pg.PlotWidget) -> None:
    """A plot in the look's colours, light or dark, at once. pyqtgraph keeps colours of its own
    and caches the view's background (and here the axes) as pixmaps: without this a switch to
    the dark look showed in a plot only after it was resized."""
    palette = QApplication.palette()  # the look's own (a hidden tab's may lag behind)
    back = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    line = QColor(text)
    line.setAlpha(150)
    widget.setBackground(back)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(line)
        axis.setTextPen(text)
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(text)
        for _sample, label in legend.items:
            label.setText(label.text)  # the colour applies when the text is set
    widget.resetCachedContent()
    widget.viewport().update()


def make_plot(y_label: str) -> pg.PlotWidget:
    # No title: the y axis names what is plotted, and a short dock keeps its height for data.
    w = TimedPlotWidget()
    item = w.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.2)
    # Grid lines at the labelled ticks only: with pyqtgraph's two finer levels of lines too,
    # every change of the y range re-rendered the grid for 13 ms (4 ms with these).
    for name in ("left", "bottom"):
        item.getAxis(name).setStyle(maxTickLevel=0)
    item.setLabel("bottom", "epoch")
    item.setLabel("left", y_label)
    # A small legend: in a short plot a large one hid the curves it names.
    item.addLegend(offset=(-4, 4), labelTextSize="8pt", verSpacing=-8)
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    # Cache axes, title and legend as pixmaps: redrawing a curve then repaints only the curve,
    # not the text (text is most of a repaint's cost).
    for name in ("left", "bottom"):
        item.getAxis(name).enableAutoSIPrefix(False)  # "accuracy (x0.001)" confuses people
        item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    item.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    # Short enough for a laptop's bottom dock: the canvas stays the largest thing on screen.
    w.setMinimumSize(160, 100)
    follow_palette(w)
    return w


class PlotWindow(QWidget):
    """One plot in a window of its own. It holds the plot widget itself, so it shows the same
    live curves; closing it hands the plot back (`closed`)."""

    closed = Signal(str)

    def __init__(self, which: str, plot: pg.PlotWidget, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.which = which
        self.plot = plot
        self.setWindowTitle(f"{TITLES[which]} - deepgui")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(plot)
        self.resize(800, 500)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().closeEvent(event)
        self.closed.emit(self.which)


class LivePlots(QWidget):
    """Three plots (loss, metrics, learning rate) fed by `add_batch` and `add_epoch`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.steps_per_epoch = 1
        self.batch_loss = Series(4096, smoothing=0.9)
        self.batch_lr = Series(4096)
        self.epochs: dict[str, Series] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._drawn: dict[str, int] = {}
        # Epoch series whose curve is not made yet (made one per tick, see `tick`).
        self._unmade: list[str] = []
        self._turn = 0  # the plot `tick` looks at first
        # Shaded overfitting stretches: [loss plot's region, metrics plot's, start, end or None
        # while it lasts].
        self._regions: list[list] = []
        # The line where a fine-tuning run's second phase begins, on the loss and metrics plots.
        self._phase_lines: list[tuple[pg.PlotWidget, pg.InfiniteLine]] = []
        self.redraws = 0

        self.loss_plot = make_plot("loss")
        self.metric_plot = make_plot("metrics")
        self.lr_plot = make_plot("learning rate")
        self.plots = {
            "loss": self.loss_plot,
            "metrics": self.metric_plot,
            "learning_rate": self.lr_plot,
        }
        pen_raw = pg.mkPen(QColor(120, 130, 150, 90), width=1)
        # The raw batch losses are the faint line behind their smoothed curve: one legend entry.
        self._curves["batch_raw"] = self.loss_plot.plot(pen=pen_raw)
        self._curves["batch_smooth"] = self.loss_plot.plot(
            pen=pg.mkPen(color(0), width=2), name="batch loss (smoothed)"
        )
        self._curves["batch_lr"] = self.lr_plot.plot(pen=pg.mkPen(color(2), width=2))
        self.metric_plot.setXLink(self.loss_plot)
        self.lr_plot.setXLink(self.loss_plot)

        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip("Show the loss on a logarithmic axis")
        self.log_box.toggled.connect(self.set_log_scale)
        self.smooth_slider = QSlider(Qt.Orientation.Horizontal)
        self.smooth_slider.setRange(0, 99)
        self.smooth_slider.setValue(90)
        self.smooth_slider.setFixedWidth(90)
        self.smooth_slider.setToolTip("Smoothing of the per-batch loss")
        self.smooth_slider.valueChanged.connect(self._set_smoothing)
        # One button, its menu naming the plot: the row of options shares the tabs' row.
        self.export_button = QToolButton()
        self.export_button.setText("Export plot…")
        self.export_button.setToolTip("Save a plot as a PNG image or an SVG drawing")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for which, title in TITLES.items():
            menu.addAction(f"{title}…", lambda w=which: self._export_clicked(w))
        self.export_button.setMenu(menu)
        self.readout = QLabel("Hover over a plot to read its values.")
        self.readout.setObjectName("plotReadout")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # One row of options with the hover read-out, and the three plots side by side: the
        # bottom dock is wide and short, so a second row of plots would only make it taller.
        # The row of options is a widget of its own: the Training panel shows it in the row of
        # its tabs, where it costs the plots no height.
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setMinimumWidth(200)
        self.options = QWidget()
        bar = QHBoxLayout(self.options)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.log_box)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smooth_slider)
        bar.addSpacing(12)
        bar.addWidget(self.readout, 1)
        bar.addWidget(self.export_button)
        self._row = row = QHBoxLayout()
        row.setSpacing(4)
        for which, plot in self.plots.items():
            row.addWidget(plot, STRETCH[which])
            plot.pop_button = button = QToolButton(plot)  # over the plot's top left corner
            button.setAutoRaise(True)
            button.setIconSize(QSize(14, 14))
            button.setFixedSize(20, 20)
            button.move(2, 2)
            button.setToolTip(f"Show the {TITLES[which].lower()} plot in a window of its own")
            button.clicked.connect(lambda _=False, w=which: self.pop_out(w))
        # Plots shown in windows of their own, by name (see `pop_out`).
        self.windows: dict[str, PlotWindow] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.options)
        layout.addLayout(row, 1)
        self.follow_palette()

        self._proxies = [
            pg.SignalProxy(
                p.scene().sigMouseMoved, rateLimit=30, slot=lambda ev, p=p: self._hover(p, ev[0])
            )
            for p in self.plots.values()
        ]
        self._user_range = False
        for plot in self.plots.values():
            plot.getPlotItem().vb.sigRangeChangedManually.connect(self._user_ranged)
        self.last_cost = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.tick)

    # ------------------------------------------------------------------ look and windows
    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.follow_palette()

    def follow_palette(self) -> None:
        """Every plot (in the row or in a window of its own) in the look's colours, at once."""
        for plot in self.plots.values():
            follow_palette(plot)
            plot.pop_button.setIcon(icon("pop_out"))

    def row_height(self) -> int:
        """The height of the row of plots (what a plot in it gets)."""
        return self._row.geometry().height()

    def pop_out(self, which: str) -> PlotWindow:
        """Show the plot `which` ("loss", "metrics", "learning_rate") in a window of its own
        (raised if it is in one already). Closing the window puts the plot back."""
        window = self.windows.get(which)
        if window is None:
            plot = self.plots[which]
            plot.pop_button.hide()  # in its own window already
            window = self.windows[which] = PlotWindow(which, plot, self)
            window.closed.connect(self.put_back)
            plot.show()
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def put_back(self, which: str) -> None:
        """The plot of a closed window back in its place in the row."""
        window = self.windows.pop(which, None)
        if window is None:
            return
        plot = self.plots[which]
        here = [name for name in self.plots if name not in self.windows]  # in the row's order
        self._row.insertWidget(here.index(which), plot, STRETCH[which])
        plot.pop_button.show()
        plot.show()
        window.deleteLater()

    def _user_ranged(self, *_args) -> None:
        self._user_range = True  # the user zoomed or panned: leave the range to them

    # ------------------------------------------------------------------ feeding (GUI thread)
    def set_epochs(self, first: int, last: int) -> None:
        """Fix the x axis to the run's epochs, so it does not move (and repaint everything) as
        points arrive; the y axis is ranged by `_fit_y` in coarse steps for the same reason."""
        self.loss_plot.getPlotItem().enableAutoRange(x=False)
        self.loss_plot.setXRange(first, max(last, first + 1), padding=0.02)

    def reset(self, steps_per_epoch: int = 1) -> None:
        """Clear every curve for a new run."""
        self.steps_per_epoch = max(1, steps_per_epoch)
        self._user_range = False
        for plot in self.plots.values():
            # Autorange alone keeps the last range while there is no data to range to: empty
            # plots kept the axes of the project shown before.
            plot.getPlotItem().vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            plot.getPlotItem().enableAutoRange()
        self.batch_loss.clear()
        self.batch_lr.clear()
        for key in list(self.epochs):
            if key not in self._curves:
                continue  # its curve was never made
            for plot in self.plots.values():
                plot.getPlotItem().removeItem(self._curves[key])
            legend = self._legend_for(key)
            if legend is not None:
                legend.removeItem(self._curves[key])
            del self._curves[key]
        self.epochs.clear()
        self._unmade.clear()
        self._drawn.clear()
        for a, b, *_ in self._regions:
            self.loss_plot.removeItem(a)
            self.metric_plot.removeItem(b)
        self._regions.clear()
        self.mark_fine_tuning(None)
        self.readout.setText("Hover over a plot to read its values.")
        self.redraw()

    def add_batch(self, epoch: int, step: int, logs: dict[str, float]) -> None:
        x = (epoch - 1) + step / self.steps_per_epoch
        loss = logs.get("loss")
        if loss is not None:
            self.batch_loss.append(x, loss)
        lr = next((logs[k] for k in LR_KEYS if k in logs), None)
        if lr is not None:
            self.batch_lr.append(x, lr)

    def add_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            series = self.epochs.get(key)
            if series is None:
                # The curve (with its legend entry, a few ms each) comes with a later tick.
                series = self.epochs[key] = Series(256)
                self._unmade.append(key)
            series.append(float(epoch), float(value))

    def shade_overfitting(self, start_epoch: int) -> None:
        """Shade the plots from the start of `start_epoch` to the newest epoch."""
        x0 = float(start_epoch - 1)
        brush = pg.mkBrush(217, 83, 79, 45)
        a = pg.LinearRegionItem((x0, x0), movable=False, brush=brush)
        b = pg.LinearRegionItem((x0, x0), movable=False, brush=brush)
        for item in (a, b):
            item.setZValue(-10)
            item.setToolTip(f"Overfitting from epoch {start_epoch}")
        self.loss_plot.addItem(a)
        self.metric_plot.addItem(b)
        self._regions.append([a, b, x0, None])
        self._update_regions()

    def close_overfitting(self, end_epoch: int) -> None:
        """The stretch shaded last ended: validation loss reached a new best at `end_epoch`."""
        if self._regions and self._regions[-1][3] is None:
            self._regions[-1][3] = max(float(end_epoch - 1), self._regions[-1][2] + 0.05)
            self._update_regions()

    def mark_fine_tuning(self, from_epoch: int | None, note: str = "") -> None:
        """Mark where a fine-tuning run's second phase begins: a dashed, labelled line on the
        loss and metrics plots at the start of epoch `from_epoch` (1-based, the first epoch
        with the backbone's top layers training), with `note` (the engine's sentence) as its
        tooltip. None, or anything not an epoch number (an older metrics.json), takes the
        line away."""
        for plot, line in self._phase_lines:
            plot.getPlotItem().removeItem(line)
        self._phase_lines.clear()
        if isinstance(from_epoch, bool) or not isinstance(from_epoch, int | float):
            return
        if not (math.isfinite(from_epoch) and from_epoch >= 1):
            return
        # Epoch N's point is at x = N and its batches after N - 1: the phase starts at N - 1,
        # where an overfitting shade from epoch N starts too.
        x = float(from_epoch) - 1.0
        pen = pg.mkPen(PHASE_COLOR, width=1.5, style=Qt.PenStyle.DashLine)
        tip = note if isinstance(note, str) and note else (f"Fine-tuning from epoch {int(from_epoch)}: the backbone's top layers "
                       "train from here, at the lower learning rate")  # fmt: skip
        for plot in (self.loss_plot, self.metric_plot):
            line = pg.InfiniteLine(
                x, angle=90, movable=False, pen=pen, label="fine-tuning",
                labelOpts={"position": 0.9, "color": PHASE_COLOR},
            )  # fmt: skip
            line.setZValue(-5)
            line.setToolTip(tip)
            plot.getPlotItem().addItem(line, ignoreBounds=True)  # the axes stay the data's
            self._phase_lines.append((plot, line))

    @property
    def fine_tuning_marks(self) -> list[tuple[str, float, str]]:
        """(plot, x, label) of each fine-tuning line drawn."""
        names = {id(w): name for name, w in self.plots.items()}
        return [(names[id(p)], line.value(), line.label.format) for p, line in self._phase_lines]

    @property
    def overfitting_regions(self) -> list[tuple[float, float]]:
        return [tuple(a.getRegion()) for a, *_ in self._regions]

    def plot_of(self, key: str) -> str:
        """Which plot ("loss", "metrics", "learning_rate") draws the epoch series `key`."""
        if key in LR_KEYS:
            return "learning_rate"
        return "loss" if is_loss(key) else "metrics"

    def _make_curve(self, key: str) -> None:
        base = metric_base(key)
        val = key.startswith("val_")
        if key in LR_KEYS:
            plot, pen = self.lr_plot, pg.mkPen(color(3), width=2)
            symbol = "o"
        elif base == "loss":
            plot = self.loss_plot
            pen = pg.mkPen(color(1) if val else color(0), width=2.5)
            symbol = "o"
        elif is_loss(key):  # one output's loss: its own colour, dashed for validation
            plot = self.loss_plot
            i = sorted({metric_base(k) for k in self.epochs if is_loss(k)} - {"loss"}).index(base)
            style = Qt.PenStyle.DashLine if val else Qt.PenStyle.SolidLine
            pen = pg.mkPen(color(i + 4), width=1.5, style=style)
            symbol = "t" if val else "o"
        else:
            plot = self.metric_plot
            shown = {metric_base(k) for k in self.epochs if self.plot_of(k) == "metrics"}
            i = sorted(shown).index(base)
            style = Qt.PenStyle.DashLine if val else Qt.PenStyle.SolidLine
            pen = pg.mkPen(color(i + 2), width=2, style=style)
            symbol = "t" if val else "o"
        name = key + (" (epoch)" if base == "loss" and not val else "")
        curve = plot.plot(pen=pen, symbol=symbol, symbolSize=6, symbolBrush=pen.color(), name=name)
        self._curves[key] = curve

    def _legend_for(self, key: str):
        item = self._curves[key].getViewBox()
        for plot in self.plots.values():
            if plot.getPlotItem().vb is item:
                return plot.getPlotItem().legend
        return None

    # ------------------------------------------------------------------ drawing (timer)
    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.redraw()

    def redraw(self) -> None:
        """Bring every plot up to date now (the end of a run, an export, a test): make the
        curves not made yet, push the buffers into the curves that changed."""
        t = time.perf_counter()
        self.redraws += 1
        while self._unmade:
            self._make_curve(self._unmade.pop(0))
        for which in self.plots:
            self._draw_plot(which)
        self._adapt(time.perf_counter() - t)

    def tick(self) -> None:
        """One short slice of drawing (the timer's): make one new curve, or bring one plot up
        to date, the next in turn that has changes. The paint that follows is of that plot
        alone, in its own event; the loss plot still changes at least every third tick."""
        t = time.perf_counter()
        if self._unmade:
            key = self._unmade.pop(0)
            self._make_curve(key)
            self._draw_plot(self.plot_of(key))
        else:
            names = list(self.plots)
            for i in range(len(names)):
                which = names[(self._turn + i) % len(names)]
                if self._draw_plot(which):
                    self._turn = (self._turn + i + 1) % len(names)
                    break
            else:
                return  # nothing new: no drawing, no paint
        self.redraws += 1
        self._adapt(time.perf_counter() - t)

    def pending(self) -> bool:
        """Whether a plot shows less than its buffers hold."""
        return bool(self._unmade) or any(self._changed(which) for which in self.plots)

    def _adapt(self, seconds: float) -> None:
        """Adapt the redraw interval so drawing (here and in the paints it causes) stays
        within BUDGET."""
        cost = seconds + sum(p.last_paint for p in self.plots.values())
        self.last_cost = cost
        interval = int(min(MAX_REDRAW_MS, max(REDRAW_MS, 1000 * cost / BUDGET)))
        current = self.timer.interval()
        # Slower at once when a frame costs more (the budget holds from the next frame);
        # faster again only on a clear change, so the interval does not jitter.
        if interval > current or interval < 0.8 * current:
            self.timer.setInterval(interval)

    def _sources(self, which: str) -> dict[str, Series]:
        """The curves of one plot that exist, with the series each draws."""
        if which == "loss":
            out = {"batch_raw": self.batch_loss, "batch_smooth": self.batch_loss}
        elif which == "learning_rate":
            out = {"batch_lr": self.batch_lr}
        else:
            out = {}
        for key, series in self.epochs.items():
            if key in self._curves and self.plot_of(key) == which:
                out[key] = series
        return out

    def _changed(self, which: str) -> bool:
        return any(self._drawn.get(k) != s.version for k, s in self._sources(which).items())

    def _draw_plot(self, which: str) -> bool:
        """Push the series of one plot that changed into its curves, and range its y axis;
        False when nothing had changed."""
        changed = False
        for key, series in self._sources(which).items():
            if self._drawn.get(key) == series.version:
                continue
            self._drawn[key] = series.version
            y = series.smooth if key == "batch_smooth" else series.y
            self._curves[key].setData(series.x, y)
            changed = True
        if not changed:
            return False
        if which != "learning_rate":
            self._update_regions()
        if not self._user_range:
            self._fit_y(which)
        return True

    def _series_of(self, which: str) -> list[Series]:
        if which == "loss":
            out = [self.batch_loss] + [s for k, s in self.epochs.items() if is_loss(k)]
        elif which == "learning_rate":
            out = [self.batch_lr] + [self.epochs[k] for k in LR_KEYS if k in self.epochs]
        else:
            out = [s for k, s in self.epochs.items() if self.plot_of(k) == "metrics"]
        return [s for s in out if len(s)]

    def _fit_y(self, only: str | None = None) -> None:
        """Range each plot's y axis (or the plot `only`'s) to its data, changing it only when
        the data leaves the range or fills less than 40 % of it: a handful of changes per run,
        so the axes (text, the costly part of a repaint) are rarely redrawn."""
        for which, plot in self.plots.items():
            if only is not None and which != only:
                continue
            item = plot.getPlotItem()
            bounds = [s.bounds() for s in self._series_of(which)]
            bounds = [b for b in bounds if b[0] is not None]
            if not bounds:
                continue
            lo, hi = min(b[0] for b in bounds), max(b[1] for b in bounds)
            if which != "metrics" and self.log_box.isChecked():
                if hi <= 0:
                    continue
                lo = np.log10(lo) if lo > 0 else np.log10(hi) - 3
                hi = np.log10(hi)
            span = max(hi - lo, 1e-9 + 0.05 * abs(hi))  # a flat line gets a readable range
            vb = item.vb
            r0, r1 = vb.viewRange()[1]
            if not vb.state["autoRange"][1] and r0 <= lo and hi <= r1 and (r1 - r0) < 2.5 * span:
                continue
            vb.enableAutoRange(y=False)
            vb.setYRange(lo - 0.08 * span, hi + 0.08 * span, padding=0)

    def _update_regions(self) -> None:
        latest = max(self._last_x(), 0.0)
        for a, b, x0, x1 in self._regions:
            end = latest if x1 is None else x1
            region = (x0, max(end, x0 + 0.05))
            a.setRegion(region)
            b.setRegion(region)

    def _last_x(self) -> float:
        # Epoch ends only: a region that grew with every batch would repaint every frame.
        ends = [s.last()[0] for s in self.epochs.values() if len(s)]
        return max(ends, default=0.0)

    def curve_data(self, key: str):
        """The (x, y) arrays a curve currently draws ("batch_raw", "batch_smooth", "loss", …);
        (None, None) for a series whose curve is not made yet."""
        if key in self._unmade:
            return None, None
        curve = self._curves[key]
        # xData/yData are all the curve holds; getData() would be clipped to the view.
        return curve.xData, curve.yData

    # ------------------------------------------------------------------ options
    def set_log_scale(self, on: bool) -> None:
        self.loss_plot.getPlotItem().setLogMode(y=bool(on))
        self.lr_plot.getPlotItem().setLogMode(y=bool(on))
        for plot in (self.loss_plot, self.lr_plot):
            plot.getPlotItem().vb.enableAutoRange(y=True)  # re-ranged in the new scale
        self._fit_y()
        if self.log_box.isChecked() != bool(on):
            self.log_box.setChecked(bool(on))

    def _set_smoothing(self, value: int) -> None:
        # Recompute the smoothed copy once, here, rather than on every redraw.
        old = self.batch_loss
        fresh = Series(max(4096, len(old)), smoothing=value / 100.0)
        for x, y in zip(old.x.tolist(), old.y.tolist(), strict=True):
            fresh.append(x, y)
        self.batch_loss = fresh
        self._drawn.pop("batch_raw", None)
        self._drawn.pop("batch_smooth", None)
        self.redraw()

    def _hover(self, plot: pg.PlotWidget, pos) -> None:
        vb = plot.getPlotItem().vb
        if not plot.sceneBoundingRect().contains(pos):
            return
        point = vb.mapSceneToView(pos)
        text = self.readout_at(plot, point.x())
        if text:
            self.readout.setText(text)
            self.readout.setToolTip(text)  # whole, where the row cuts it short

    def readout_at(self, plot: pg.PlotWidget, x: float) -> str:
        """Values of the curves in `plot` nearest to epoch position `x`."""
        parts = []
        epoch = None
        for key, series in self.epochs.items():
            if self.plots[self.plot_of(key)] is not plot:
                continue
            hit = series.nearest(x)
            if hit is not None:
                epoch = int(hit[0])
                parts.append(f"{key} {hit[1]:.4g}")
        head = f"epoch {epoch}: " if epoch is not None else ""
        if plot is self.loss_plot:
            hit = self.batch_loss.nearest(x)
            if hit is not None:
                parts.append(f"batch loss {hit[1]:.4g} at {hit[0]:.2f}")
        return head + ", ".join(parts)

    # ------------------------------------------------------------------ export
    def export_plot(self, which: str, path: str | Path) -> Path:
        """Write one plot ("loss", "metrics", "learning_rate") as PNG or SVG (by suffix)."""
        import pyqtgraph.exporters as exporters

        self.redraw()
        path = Path(path)
        widget = self.plots[which]
        if path.suffix.lower() == ".svg":
            # pyqtgraph 0.14's SVGExporter cannot parse the paths Qt 6.11 writes; Qt's own SVG
            # generator renders the same scene as vectors.
            from PySide6.QtCore import QRect, QSize
            from PySide6.QtGui import QPainter
            from PySide6.QtSvg import QSvgGenerator

            size = widget.size() if widget.width() > 50 else QSize(800, 500)
            gen = QSvgGenerator()
            gen.setFileName(str(path))
            gen.setSize(size)
            gen.setViewBox(QRect(0, 0, size.width(), size.height()))
            gen.setTitle(f"deepgui {which}")
            painter = QPainter(gen)
            try:
                widget.scene().render(painter, QRectF(0, 0, size.width(), size.height()),
                                      widget.mapToScene(widget.viewport().rect()).boundingRect())  # fmt: skip
            finally:
                painter.end()
            if not path.exists():
                raise OSError(f"{path}: could not be written.")
        else:
            exporter = exporters.ImageExporter(widget.getPlotItem())
            exporter.parameters()["width"] = max(800, int(widget.getPlotItem().width()))
            if not exporter.export(str(path)) and not path.exists():
                raise OSError(f"{path}: could not be written.")
        return path

    def _export_clicked(self, which: str) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export plot", f"{which}.png", "PNG image (*.png);;SVG drawing (*.svg)"
        )
        if path:
            try:
                self.export_plot(which, path)
            except OSError as exc:
                self.readout.setText(f"The plot could not be exported: {exc}")
