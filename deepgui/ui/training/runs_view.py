"""The runs of the open project (written by the engine from the app or the CLI alike): what
each trained, its best and final metrics and why it stopped; overlay, resume, reopen, delete.
Which runs belong to the project is the core's decision (core/training/runs.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deepgui.core import run_layout
from deepgui.core.errors import DeepGuiError, TrainingError
from deepgui.core.training import runs as project_runs
from deepgui.ui.theme import status_color
from deepgui.ui.training.plots import follow_palette
from deepgui.ui.training.run_compare import CompareRunsWindow
from deepgui.ui.training.run_curves import draw_runs

COLUMNS = ["Run", "Stopped by", "Epochs", "Best", "Final loss", "Final val_loss", "Test",
           "Trained", "Samples/s", "Device"]  # fmt: skip


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def run_row(summary) -> list[str]:
    m = summary.metrics
    best = m.get("best") or {}
    best_text = ""
    if best:
        monitor = best.get("monitor", "val_loss")
        best_text = (
            f"{monitor} {_fmt((best.get('metrics') or {}).get(monitor))} @ {best.get('epoch')}"
        )
    final = m.get("final") or {}
    test = m.get("test") or {}
    test_text = ", ".join(f"{k} {_fmt(v)}" for k, v in list(test.items())[:2])
    stopped = summary.stopped_by + (" (can resume)" if summary.resumable else "")
    return [summary.name, stopped, _fmt(m.get("epochs_run")), best_text,
            _fmt(final.get("loss")), _fmt(final.get("val_loss")), test_text,
            summary.describe(), _fmt(m.get("samples_per_second")),
            _fmt(m.get("device"))]  # fmt: skip


def overfitting_text(metrics: dict[str, Any]) -> str:
    """The run's overfitting flags as the core revised them: a later new best of validation
    loss withdraws a flag, and the text says so rather than list it as if it held."""
    parts = []
    for flag in metrics.get("overfitting") or []:
        if not isinstance(flag, dict) or "epoch" not in flag:
            continue
        text = f"from epoch {flag['epoch']}"
        withdrawn = flag.get("withdrawn") if flag.get("status") == "withdrawn" else None
        if isinstance(withdrawn, dict):
            text += f" (withdrawn: a new best at epoch {withdrawn.get('best_epoch')})"
        parts.append(text)
    return ", ".join(parts) or "none"


class RunsView(QWidget):
    open_project_requested = Signal(str)
    resume_requested = Signal(str)  # the run folder to continue

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.project = None
        self.runs: list[project_runs.RunInfo] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        # Not "metric": that would hide QWidget.metric(), which Qt calls to draw the widget.
        self.overlay_metric = QComboBox()
        self.overlay_metric.addItems(["val_loss", "loss", "val_accuracy", "accuracy"])
        self.overlay_metric.setEditable(True)
        self.overlay_metric.currentTextChanged.connect(lambda _t: self.overlay())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip(
            "Continue the selected run from its last finished epoch, with its own settings"
        )
        self.resume_button.clicked.connect(self._resume_clicked)
        self.open_button = QPushButton("Open run's project")
        self.open_button.clicked.connect(self._open_clicked)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self._delete_clicked)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip(
            "Show what differs between the two selected runs: the layers and settings each "
            "trained, their curves and their scores"
        )
        self.compare_button.clicked.connect(self._compare_clicked)
        self.compare_window = None  # the comparison last opened (one at a time)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = pg.PlotWidget(title="Selected runs")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("bottom", "epoch")
        self.plot.addLegend(offset=(-10, 10))
        self.plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)

        bar = QHBoxLayout()
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.resume_button)
        bar.addWidget(self.open_button)
        bar.addWidget(self.compare_button)
        bar.addWidget(self.delete_button)
        bar.addStretch(1)
        bar.addWidget(QLabel("Overlay"))
        bar.addWidget(self.overlay_metric)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.plot, 1)
        rl.addWidget(self.details)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([600, 400])
        split.setMinimumHeight(48)  # so the Runs tab never makes the bottom dock taller
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)  # the tab's frame is margin enough
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        self._selection_changed()
        self.follow_palette()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.follow_palette()

    def follow_palette(self) -> None:
        """The overlay plot and the failed runs' red in the look's colours, at once."""
        follow_palette(self.plot)
        self.plot.getPlotItem().titleLabel.setText(
            "Selected runs", color=QApplication.palette().color(QPalette.ColorRole.WindowText)
        )
        red = pg.mkColor(status_color(False))
        for i, run in enumerate(self.runs):
            item = self.table.item(i, 1)
            if item is not None and run.stopped_by in ("error", "nan_loss"):
                item.setForeground(red)

    def set_project(self, project) -> None:
        self.project = project
        self.table.clearSelection()
        self.refresh()

    def runs_root(self) -> Path | None:
        return project_runs.runs_root(self.project) if self.project is not None else None

    def refresh(self) -> None:
        selected = {r.name for r in self.selected_runs()}
        self.runs = project_runs.project_runs(self.project) if self.project is not None else []
        self.table.setRowCount(len(self.runs))
        for i, run in enumerate(self.runs):
            for j, text in enumerate(run_row(run)):
                item = QTableWidgetItem(text)
                if j == 1 and run.stopped_by in ("error", "nan_loss"):
                    item.setForeground(pg.mkColor(status_color(False)))
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        for i, run in enumerate(self.runs):
            if run.name in selected:
                self.table.selectRow(i)
        self._selection_changed()

    def selected_runs(self) -> list:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.runs[r] for r in rows if r < len(self.runs)]

    def select(self, names: list[str]) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for i, run in enumerate(self.runs):
            if run.name in names:
                self.table.selectRow(i)
        self.table.setSelectionMode(mode)

    def _selection_changed(self) -> None:
        runs = self.selected_runs()
        self.open_button.setEnabled(len(runs) == 1 and (runs[0].path / "project.dgproj").exists())
        self.resume_button.setEnabled(len(runs) == 1 and runs[0].resumable)
        self.delete_button.setEnabled(bool(runs))
        self.compare_button.setEnabled(
            len(runs) == 2 and all((r.path / run_layout.PROJECT).is_file() for r in runs)
        )
        if len(runs) == 1:
            m = runs[0].metrics
            self.details.setText(
                f"<b>{runs[0].name}</b>: {runs[0].describe()}. "
                f"{m.get('message', '')} device {m.get('device', '?')}, "
                f"loss {m.get('loss', '?')}, seed {m.get('seed', '?')}, "
                f"{m.get('wall_seconds', '?')} s, overfitting: {overfitting_text(m)}"
            )
        else:
            self.details.setText(
                f"{len(runs)} runs selected." if runs else "Select runs to compare."
            )
        self.overlay()

    def overlay(self) -> int:
        """Draw the chosen metric of every selected run; returns how many curves were drawn."""
        key = self.overlay_metric.currentText().strip()
        return draw_runs(self.plot, [(run.name, run.path) for run in self.selected_runs()], key)

    def _resume_clicked(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 1 and runs[0].resumable:
            self.resume_requested.emit(str(runs[0].path))

    def _open_clicked(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 1:
            self.open_project_requested.emit(str(runs[0].path / "project.dgproj"))

    def confirm_delete(self, names: list[str]) -> bool:
        text = (
            f"Delete {len(names)} run(s) ({', '.join(names[:3])}{'…' if len(names) > 3 else ''})?"
        )
        answer = QMessageBox.question(self, "Delete runs", text + " Their files are removed.")
        return answer == QMessageBox.StandardButton.Yes

    def _compare_clicked(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 2:
            self.compare(runs)

    def compare(self, runs: list) -> QWidget | None:
        """Open the comparison of two runs, the earlier as A; None, with the reason said
        under the table, when one cannot be read."""
        first, second = sorted(runs, key=lambda r: r.name)  # run folders are timestamps
        try:
            window = CompareRunsWindow(first.path, second.path, self)
        except DeepGuiError as exc:
            self.details.setText(str(exc))
            return None
        if self.compare_window is not None:
            self.compare_window.close()
            self.compare_window.deleteLater()
        self.compare_window = window
        window.show()
        window.raise_()
        return window

    def _delete_clicked(self) -> None:
        runs = self.selected_runs()
        if runs and self.confirm_delete([r.name for r in runs]):
            self.delete_runs([r.path for r in runs])

    def delete_runs(self, paths: list[Path]) -> None:
        root = self.runs_root()
        if root is None:
            return
        root = root.resolve()
        for path in paths:
            path = Path(path).resolve()
            if path.parent != root:  # never remove anything outside this project's runs folder
                raise TrainingError(f"{path} is not one of this project's runs.")
            shutil.rmtree(path, ignore_errors=True)
        self.refresh()
