"""The Sweep tab: search for better settings of the parameters marked ⟳, in the app.

The sweep itself is the core's (core/sweep/search.py); this view only starts it, shows its
trials as they end and applies the best as one undoable edit. The sweep runs in a background
QThread like a training run: its events become queued signals, and pause, resume and stop only
flip the sweep's flags, so the GUI thread never waits on it.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.errors import DeepGuiError
from deepgui.core.run_layout import runs_root
from deepgui.core.sweep import apply, axes, space, table
from deepgui.core.sweep.marks import MARK
from deepgui.core.sweep.search import (
    ALGORITHMS,
    DEFAULT_OBJECTIVE,
    DEFAULT_TRIALS,
    Sweep,
    SweepListener,
    SweepRequest,
    parse_objective,
    project_marks,
)
from deepgui.core.training.engine import TrainingListener, describe_error
from deepgui.ui.training.plots import color, follow_palette
from deepgui.ui.training.worker import ThreadJob

NO_MARKS = (
    f"Nothing is marked to vary: mark parameters with {MARK} in the inspector or in the "
    "training form, then start a sweep here."
)
BEST_COLOR = QColor("#fff2b3")  # the best row's background
TRAINING_NOW = "A run is training in this window: stop it, or let it end, before a sweep starts."


def sweep_folder(project, now: _dt.datetime | None = None) -> Path:
    """A fresh `<runs root>/sweep-<timestamp>/` among the project's runs (not created yet)."""
    root = runs_root(project)
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    target, i = root / f"sweep-{stamp}", 1
    while target.exists():
        target, i = root / f"sweep-{stamp}-{i}", i + 1
    return target


class _Relay(SweepListener):
    """The sweep's events (worker thread) -> the worker's signals. Plain values only."""

    def __init__(self, worker: SweepWorker) -> None:
        self.w = worker

    def trial_started(self, trial, epochs):
        self.w.trial_started.emit(int(trial.number), dict(trial.values), int(epochs))

    def trial_finished(self, trial):
        self.w.trial_finished.emit(trial)

    def training(self, trial):
        w, number = self.w, int(trial.number)

        class Epochs(TrainingListener):
            def epoch_ended(self, epoch, logs):
                values = {k: float(v) for k, v in (logs or {}).items() if _number(v)}
                w.epoch_ended.emit(number, int(epoch), values)

        return Epochs()

    def waiting(self, text):
        self.w.status.emit(str(text))


def _number(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


class SweepWorker(QObject):
    """Plans and runs one sweep in its thread, as `deepgui sweep` does in a terminal."""

    status = Signal(str)
    trial_started = Signal(int, object, int)  # number, values, epochs
    epoch_ended = Signal(int, int, object)  # trial, epoch, logs
    trial_finished = Signal(object)  # table.Trial
    finished = Signal(str, object, str)  # reason (or "error"), SweepOutcome or None, message

    def __init__(self, sweep: Sweep) -> None:
        super().__init__()
        self.sweep = sweep

    @Slot()
    def run(self) -> None:
        relay = _Relay(self)
        try:
            self.sweep.plan(relay)
        except DeepGuiError as exc:
            self.finished.emit("error", None, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a failure is an outcome, never a crash
            self.finished.emit("error", None, describe_error(exc))
            return
        try:
            self.status.emit(f"Sweeping into {self.sweep.folder}…")
            outcome = self.sweep.run(relay)
            self.finished.emit(outcome.reason, outcome, outcome.message)
        except DeepGuiError as exc:
            self.finished.emit("error", None, str(exc))
        except Exception as exc:  # noqa: BLE001
            self.finished.emit("error", None, describe_error(exc))
        finally:
            self.sweep.release()


class SweepJob(ThreadJob):
    """One sweep: its worker on a thread of its own."""

    def __init__(self, sweep: Sweep) -> None:
        super().__init__(SweepWorker(sweep), "sweep")


class SweepView(QWidget):
    """What varies, the search's settings, the trials as they end, the current trial's
    curves, the parameters against the objective, and Apply best."""

    def __init__(self, get_project: Callable[[], Any],
                 is_training: Callable[[], bool] = lambda: False, parent=None) -> None:  # fmt: skip
        super().__init__(parent)
        self.get_project = get_project
        self.is_training = is_training  # a run of the window's (the panel's): one at a time
        self.job: SweepJob | None = None
        self.sweep: Sweep | None = None
        self.swept = None  # the project the sweep searched for (Apply best writes into it only)
        self.names: list[str] = []  # what the running (or last) sweep varies
        self.axes: list[axes.Axis] = []  # the parallel plot's, the objective's last
        self.direction = "min"
        self.trials: dict[int, table.Trial] = {}
        self.best: table.Trial | None = None
        self.outcome_reason: str | None = None
        self.curve: dict[str, list[tuple[int, float]]] = {}
        self.parallel_lines: list[pg.PlotDataItem] = []
        self._paused = False
        # If the view goes away mid-sweep, the sweep must not go on without it.
        self._live: list[SweepJob] = []
        self.destroyed.connect(lambda _=None, box=self._live: [j.worker.sweep.stop() for j in box])

        self.marks = QLabel(NO_MARKS)
        self.marks.setWordWrap(True)
        self.marks.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.algorithm = QComboBox()
        self.algorithm.addItems(ALGORITHMS)
        self.trial_count = QSpinBox()
        self.trial_count.setRange(1, 10_000)
        self.trial_count.setValue(DEFAULT_TRIALS)
        self.epochs = QSpinBox()
        self.epochs.setRange(0, 100_000)
        self.epochs.setSpecialValueText("the project's")
        self.epochs.setToolTip("Epochs of each trial (Hyperband's most)")
        self.objective = QLineEdit(DEFAULT_OBJECTIVE)
        self.objective.setToolTip("A metric the runs log, such as val_loss or val_accuracy; "
                                  ":min or :max when its name does not say")  # fmt: skip
        self.minutes = QSpinBox()
        self.minutes.setRange(0, 100_000)
        self.minutes.setSpecialValueText("no limit")
        self.minutes.setSuffix(" min")
        self.minutes.setToolTip("The time budget: no trial starts, and the current one stops, "
                                "after this many minutes")  # fmt: skip
        self.patience = QSpinBox()
        self.patience.setRange(0, 100_000)
        self.patience.setSpecialValueText("the project's")
        self.patience.setSuffix(" epochs")
        self.patience.setToolTip("Early stopping per trial: a trial ends after this many epochs "
                                 "without its objective improving")  # fmt: skip
        self.parallel_count = QSpinBox()
        self.parallel_count.setRange(0, 256)
        self.parallel_count.setValue(1)
        self.parallel_count.setSpecialValueText("auto")
        self.parallel_count.setToolTip("Trials at once on this machine, each in its own process; "
                                       "auto: as many as the cores and memory allow")  # fmt: skip
        # Two compact rows: the tab must not ask the bottom dock for more height.
        settings = QGridLayout()
        settings.setVerticalSpacing(0)
        rows = ((("Algorithm", self.algorithm), ("Trials", self.trial_count),
                 ("Minutes", self.minutes), ("At once", self.parallel_count)),
                (("Objective", self.objective), ("Epochs", self.epochs),
                 ("Patience", self.patience)))  # fmt: skip
        for row, fields in enumerate(rows):
            for i, (label, field) in enumerate(fields):
                settings.addWidget(QLabel(label), row, 2 * i, Qt.AlignmentFlag.AlignRight)
                settings.addWidget(field, row, 2 * i + 1)
        varies = QFormLayout()
        varies.addRow("Varies:", self.marks)

        self.start_button = QPushButton("Start sweep")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.apply_button = QPushButton("Apply best")
        self.apply_button.setToolTip("Write the best trial's values into the project (one undo)")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button, self.apply_button):
            buttons.addWidget(b)
        buttons.addWidget(self.message, 1)

        self.table = QTableWidget(0, 3)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

        self.curves = pg.PlotWidget(title="Current trial")
        self.curves.addLegend(offset=(-5, 5))
        self.curves.setLabel("bottom", "epoch")
        self.curve_items: dict[str, pg.PlotDataItem] = {}
        self.parallel = pg.PlotWidget(title="Parameters and the objective")
        self.parallel.hideAxis("left")
        self.parallel.setMouseEnabled(False, False)

        # Side by side: the dock is often short, and each plot needs its height.
        main = QSplitter(Qt.Orientation.Horizontal)
        for i, part in enumerate((self.table, self.parallel, self.curves)):
            main.addWidget(part)
            main.setStretchFactor(i, (4, 4, 3)[i])
        # Shares of the width, not the parts' size hints (a table's is narrow): the table
        # shows a trial's number, status, objective and first values without scrolling.
        main.setSizes([400, 370, 280])
        # Its own minimum, not its plots' sum: the Sweep tab must not make the whole bottom dock
        # taller than the live plots need, or the canvas stops being the largest thing on screen
        # (with the settings' two rows above it, this and the tight spacing keep it so).
        main.setMinimumHeight(32)

        top = QHBoxLayout()
        top.addLayout(varies, 1)
        top.addLayout(settings)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)  # the tab's frame is margin enough
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(main, 1)
        self.follow_palette()

        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.apply_button.clicked.connect(self.apply_best)
        self.refresh_marks()
        self._set_buttons()

    def follow_palette(self) -> None:
        follow_palette(self.curves)
        follow_palette(self.parallel)
        self._draw_parallel()  # its tick labels take the look's text colour

    # ------------------------------------------------------------------ state
    def is_running(self) -> bool:
        return self.job is not None and self.job.is_running()

    def _set_buttons(self) -> None:
        running = self.job is not None
        self.start_button.setEnabled(not running and bool(self.names_marked()))
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if self._paused else "Pause")
        self.stop_button.setEnabled(running)
        # Apply best writes into the project the sweep searched for, never another one.
        ours = self.swept is not None and self.get_project() is self.swept
        self.apply_button.setEnabled(not running and self.best is not None and ours)
        for w in self.fields():
            w.setEnabled(not running)

    def fields(self) -> tuple[QWidget, ...]:
        return (self.algorithm, self.trial_count, self.minutes, self.parallel_count,
                self.objective, self.epochs, self.patience)  # fmt: skip

    def names_marked(self) -> list[str]:
        return project_marks(self.get_project())

    def refresh_marks(self) -> None:
        """List what the project marks to vary (it may have changed since last shown)."""
        marks = self.names_marked()
        self.marks.setText("\n".join(marks) if marks else NO_MARKS)
        if self.job is None:
            self.start_button.setEnabled(bool(marks))

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.refresh_marks()
        super().showEvent(event)

    # ------------------------------------------------------------------ control
    def request(self) -> SweepRequest:
        """The core's request, as `deepgui sweep` makes it from its flags."""
        parallel = self.parallel_count.value()
        return SweepRequest(
            out=sweep_folder(self.get_project()),
            trials=self.trial_count.value(),
            algorithm=self.algorithm.currentText(),
            objective=self.objective.text().strip(),
            minutes=float(self.minutes.value()) or None,
            epochs=self.epochs.value() or None,
            patience=self.patience.value() or None,
            parallel=parallel if parallel else "auto",
        )

    def start(self) -> None:
        if self.job is not None:
            return
        if self.is_training():
            self.message.setText(TRAINING_NOW)
            return
        project = self.get_project()
        request = self.request()
        try:
            objective, self.direction = parse_objective(request.objective)
            dims = space.dimensions(project, project_marks(project))
        except DeepGuiError as exc:
            self.message.setText(str(exc))
            return
        # The trials train a snapshot: the user may go on editing the project meanwhile.
        self.sweep = Sweep(project.snapshot(), request)
        self.swept = project
        self.names = [d.name for d in dims]  # NAME, as trials key it
        self.axes = [*(axes.parameter_axis(d) for d in dims), axes.objective_axis(objective, [])]
        self.trials, self.best, self.outcome_reason = {}, None, None
        self.table.setRowCount(0)
        self.table.setColumnCount(3 + len(self.names))
        self.table.setHorizontalHeaderLabels(["trial", "status", objective, *self.names])
        self._clear_curves()
        self._draw_parallel()
        self._paused = False
        self.job = SweepJob(self.sweep)
        self._live.append(self.job)
        w = self.job.worker
        w.status.connect(self.message.setText)
        w.trial_started.connect(self._trial_started)
        w.epoch_ended.connect(self._epoch_ended)
        w.trial_finished.connect(self._trial_finished)
        w.finished.connect(self._finished)
        self.message.setText("Starting the sweep…")
        self.job.start()
        self._set_buttons()

    def toggle_pause(self) -> None:
        if self.sweep is None or self.job is None:
            return
        if self._paused:
            self.sweep.resume()
            self.message.setText("Resumed.")
        else:
            self.sweep.pause()
            self.message.setText("Paused; Resume goes on with the trial in flight.")
        self._paused = not self._paused
        self._set_buttons()

    def stop(self) -> None:
        if self.sweep is not None and self.job is not None:
            self.sweep.stop()
            self.message.setText("Stopping after the batch in flight…")

    def follow_project(self) -> None:
        """The window's project was replaced (opened, new): a sweep of the one before stops,
        and its trials stay on show as that project's, which Apply best never writes into
        the new one."""
        if self.swept is None or self.get_project() is self.swept:
            return
        if self.job is not None:
            self.sweep.stop()
        self.message.setText(self._elsewhere())
        self._set_buttons()
        self.refresh_marks()

    def _elsewhere(self) -> str:
        name = self.swept.name
        if self.job is not None:
            return (f"Another project is open, so the sweep of {name} stops; its trials stay "
                    "below for reading.")  # fmt: skip
        return f"The trials below are of {name}, not of the project open now."

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop the sweep and wait (at most `timeout_ms`) for its thread. True when none is
        left running."""
        if self.job is None:
            return True
        self.sweep.stop()
        return self.job.wait(timeout_ms)

    def apply_best(self) -> None:
        """The best trial's values into the project: one edit on its undo stack."""
        if self.best is None:
            return
        n = self.best.number
        if self.get_project() is not self.swept:
            self.message.setText(self._elsewhere())
            return
        try:
            command = apply.apply_values(self.get_project(), self.best.values, f"Apply trial {n}")
        except DeepGuiError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(
            f"The project holds trial {n}'s values already."
            if command is None
            else f"Applied trial {n}'s values to the project (Undo takes them back)."
        )

    # ------------------------------------------------------------------ events (GUI thread)
    def _trial_started(self, number: int, values: dict, epochs: int) -> None:
        self.trials[number] = table.Trial(number, "running", values)
        self._show_row(self.trials[number])
        self._clear_curves()
        self.curves.setTitle(f"Trial {number}")
        self.message.setText(f"Trial {number} of {self.trial_count.value()}: {epochs} epochs…")

    def _epoch_ended(self, number: int, epoch: int, logs: dict) -> None:
        for key in ("loss", "val_loss"):
            if key in logs:
                self.curve.setdefault(key, []).append((epoch, logs[key]))
                item = self.curve_items.get(key)
                if item is None:
                    pen = pg.mkPen(color(1 if key.startswith("val_") else 0), width=2)
                    item = self.curves.plot([], [], pen=pen, name=key, symbol="o", symbolSize=5)
                    self.curve_items[key] = item
                xs, ys = zip(*self.curve[key], strict=True)
                item.setData(list(xs), list(ys))

    def _trial_finished(self, trial: table.Trial) -> None:
        self.trials[trial.number] = trial
        self._show_row(trial)
        self.best = table.best(list(self.trials.values()), self.direction)
        self._highlight_best()
        self._draw_parallel()

    def _finished(self, reason: str, outcome, message: str) -> None:
        self.outcome_reason = reason
        if outcome is not None:
            for trial in outcome.trials:
                self.trials[trial.number] = trial
                self._show_row(trial)
            self.best = outcome.best
            self._highlight_best()
            self._draw_parallel()
        self.job = None
        self._paused = False
        self._set_buttons()
        best = self.best
        if reason == "error" or reason == "failed":
            self.message.setText(message)
        elif best is None:
            self.message.setText("No trial completed, so there is no best trial.")
        else:
            ended = {"stopped": "Stopped", "time": "Out of time"}.get(reason, "Done")
            self.message.setText(f"{ended}: the best is {best.describe(self.sweep.objective)}.")
        if self.get_project() is not self.swept:
            self.message.setText(f"{self._elsewhere()} {self.message.text()}")

    # ------------------------------------------------------------------ drawing
    def _show_row(self, trial: table.Trial) -> None:
        row = self._row_of(trial.number)
        if row is None:
            row = self.table.rowCount()
            self.table.insertRow(row)
        score = "" if trial.objective is None else f"{trial.objective:.4g}"
        cells = [str(trial.number), trial.status, score,
                 *(_text(trial.values.get(n)) for n in self.names)]  # fmt: skip
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if trial.message:
                item.setToolTip(trial.message)
            self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()

    def _row_of(self, number: int) -> int | None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.text() == str(number):
                return row
        return None

    def best_row(self) -> int | None:
        return None if self.best is None else self._row_of(self.best.number)

    def _highlight_best(self) -> None:
        best = self.best_row()
        for row in range(self.table.rowCount()):
            for col in range(self.table.columnCount()):
                item = self.table.item(row, col)
                if item is None:
                    continue
                font = QFont(item.font())
                font.setBold(row == best)
                item.setFont(font)
                item.setBackground(QBrush(BEST_COLOR) if row == best else QBrush())
        # Bold text is wider: sized to it, the best row's cells are not cut to "comple...".
        self.table.resizeColumnsToContents()

    def _clear_curves(self) -> None:
        self.curve = {}
        for item in self.curve_items.values():
            self.curves.removeItem(item)
        self.curve_items = {}
        legend = self.curves.plotItem.legend
        if legend is not None:
            legend.clear()

    def _draw_parallel(self) -> None:
        """One vertical axis per parameter and one for the objective, each named and labelled
        with its scale (axes.py: a range's ends, a log range's powers of ten, the choices); one
        line per finished trial, coloured by its objective, the best thickest."""
        plot = self.parallel
        plot.clear()
        self.parallel_lines = []
        scored = [t for t in sorted(self.trials.values(), key=lambda t: t.number)
                  if t.status == table.COMPLETED and _number(t.objective)]  # fmt: skip
        if self.axes:
            name = self.axes[-1].name
            self.axes[-1] = axes.objective_axis(name, [t.objective for t in scored])
        shown = self.axes or [axes.objective_axis("objective", [])]
        # Every other name a line lower: long names side by side stay readable.
        names = [("\n" if x % 2 else "") + a.name for x, a in enumerate(shown)]
        bottom = plot.getAxis("bottom")
        bottom.setTicks([list(enumerate(names))])
        bottom.setHeight(2 * QFontMetrics(bottom.style["tickFont"] or self.font()).height() + 12)
        text = QApplication.palette().color(QPalette.ColorRole.WindowText)
        line = QColor(text)
        line.setAlpha(150)
        back = QColor(QApplication.palette().color(QPalette.ColorRole.Window))
        back.setAlpha(170)
        for x, axis in enumerate(shown):
            plot.addItem(pg.InfiniteLine(pos=x, angle=90, pen=pg.mkPen(line)))
            if axis.ticks:  # a short mark on the axis, its label to the right
                xs = [x + dx for _ in axis.ticks for dx in (-0.04, 0.04)]
                ys = [y for y, _ in axis.ticks for _ in (0, 1)]
                plot.plot(xs, ys, pen=pg.mkPen(line), connect="pairs")
            for y, label in axis.ticks:
                item = pg.TextItem(label, color=text, anchor=(0, 0.5), fill=back)
                item.setPos(x + 0.05, y)
                item.setZValue(20)  # above the trials' lines
                plot.addItem(item)
        plot.setYRange(-0.05, 1.05)
        plot.setXRange(-0.25, len(shown) - 0.4)
        if not scored:
            return
        for trial in scored:
            ys = [a.position(trial.values.get(n)) for a, n in zip(shown, self.names, strict=False)]
            ys.append(shown[-1].position(trial.objective))
            good = ys[-1] if self.direction == "max" else 1 - ys[-1]
            color = QColor.fromHsvF(0.66 * (1 - good), 0.85, 0.85)  # blue (poor) to red (best)
            best = self.best is not None and trial.number == self.best.number
            pen = pg.mkPen(color, width=5 if best else 1.5)
            # A value off its axis (a choice the mark no longer offers) is drawn mid-axis.
            item = plot.plot(list(range(len(ys))), [0.5 if y is None else y for y in ys], pen=pen)
            item.setZValue(10 if best else 1)
            item.trial = trial.number
            self.parallel_lines.append(item)

    def axis_ticks(self) -> dict[str, list[tuple[float, str]]]:
        """Each axis's labels as drawn: {axis name: [(height 0..1, label), ...]}."""
        return {a.name: list(a.ticks) for a in self.axes}


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
