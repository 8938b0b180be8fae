"""The data panel: choose a source, preview it, set the target and the split, and check the
data against the model. It edits the project's ``dataset`` dict; loading happens off the GUI
thread and the data package decides what the data is."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.commands import REMOVE
from deepgui.core.data.check import summarize
from deepgui.core.data.describe import input_captions, missing_summary
from deepgui.core.data.preview import likely_target
from deepgui.core.errors import DatasetError
from deepgui.core.project import Project
from deepgui.core.settings import default
from deepgui.core.training.prepare import check_fit
from deepgui.ui.tasks import Background
from deepgui.ui.theme import status_color
from deepgui.ui.training import data_access
from deepgui.ui.training.fields import set_text, shown_after
from deepgui.ui.training.images import to_pixmap

SOURCES = [("builtin", "Built-in sample"), ("csv", "CSV file"), ("npz", "NumPy file (.npz)"),
           ("image_folder", "Image folder (one subfolder per class)"),
           ("timeseries", "Time series (CSV or .npz)")]  # fmt: skip
MISSING = [("fill", "Fill inside the model"), ("drop", "Drop rows"), ("refuse", "Refuse the file")]
MISSING_TIPS = {
    "fill": "Missing numbers become the training median and missing categories an 'unseen' "
    "slot, inside the trained model, so new data with gaps works too; rows without a target "
    "are left out",
    "drop": "Leave out every row that has an empty cell",
    "refuse": "Stop and name the rows and columns with empty cells, to fix the file first",
}
# Sources that read table cells, where the "missing" field applies (built-in tables included).
MISSING_SOURCES = ("builtin", "csv", "timeseries")
PREVIEW_ROWS = 50
NO_DATA = "No data is chosen yet: pick a source above, or open an example (File ▸ Open Example)."


def describe_inputs(data, graph) -> dict[str, Any]:
    """Input node id -> what it receives from `data` (core's InputCaption)."""
    if graph is None or data is None:
        return {}
    inputs = [(node.id, node.name) for node in graph.input_nodes()]
    return input_captions(data.preprocessing, inputs, data.feature_names)


def preview_of(spec: dict[str, Any], base_dir: Path | None, graph=None) -> dict[str, Any]:
    """What the preview shows (runs in the background): the data package's preview (table rows
    with column types, image files per class, sequences), a few images per class for image
    arrays, a one-line summary of the data as loaded and split, what was done about missing
    values, and what each Input layer of the graph receives."""
    out: dict[str, Any] = dict(data_access.preview(spec, base_dir, PREVIEW_ROWS))
    try:
        data = data_access.load_dataset(spec, base_dir, graph)
    except DatasetError as exc:
        if out.get("kind") != "table":
            raise
        # The table is still worth showing (its columns fill the target list); the sentence
        # says what loading it for training found.
        return {**out, "error": str(exc)}
    out["summary"] = summarize(data)
    out["task"], out["classes"] = data.task, list(data.class_names)  # the training form's offer
    out["missing"] = missing_summary(data.extras.get("missing"), data.spec.get("missing", "fill"))
    out["input_captions"] = describe_inputs(data, graph)
    x = data.x_train
    if out.get("kind") == "arrays" and not isinstance(x, dict) and np.ndim(x) == 4:
        x = np.asarray(x)
        per_class: dict[int, list[np.ndarray]] = {}
        if data.task in ("multiclass", "binary"):
            y = np.asarray(data.y_train).reshape(len(x), -1)[:, 0].astype(int)
            for i in range(min(len(x), 2000)):
                bucket = per_class.setdefault(int(y[i]), [])
                if len(bucket) < 6:
                    bucket.append(x[i])
        else:
            per_class[0] = list(x[:6])
        out["image_arrays"] = dict(sorted(per_class.items()))
        out["class_names"] = list(data.class_names) or ["samples"]
    return out


def _given(dataset: dict[str, Any], key: str) -> Any:
    """The field as the project sets it, else the core's one default."""
    return dataset[key] if key in dataset else default("dataset", key)


def _targets_of(dataset: dict[str, Any]) -> list[str]:
    """The dataset's target columns (one, or a list of them), as the form shows them."""
    target = dataset.get("target")
    if isinstance(target, list):
        return [str(t) for t in target]
    return [str(target)] if target else []


class DataView(QWidget):
    """Shows project.dataset; each edit the user makes is announced as `edited` (the keys that
    change, `REMOVE` for those that go). The form never writes the project: its owner pushes the
    edit as an undoable command, and `show_field` shows again the one field an undo changed."""

    edited = Signal(dict)
    checked = Signal(bool, str)  # fits, message
    # Input node id -> InputCaption once data is loaded (preview or a run's start); {} when the
    # data changed since, so the canvas stops showing what no longer holds.
    inputs_described = Signal(object)
    preview_changed = Signal(object)  # the preview shown (core/data/preview.py), or None

    def __init__(self, get_project: Callable[[], Project], parent=None) -> None:
        super().__init__(parent)
        self.get_project = get_project
        self.dataset: dict[str, Any] = {}
        self._shown: dict[str, Any] = {}  # the form's values as last loaded or sent
        self._seen: dict[str, Any] = {}  # the dataset as the form last showed it
        self._loading = False
        # The last previewed table's columns and their kinds (the target guess uses them).
        self.column_columns: list[str] = []
        self.column_kinds: list[str] = []
        self.background = Background(self)
        self.last_preview: dict[str, Any] | None = None
        self._run_worker = None  # the starting run whose loaded data is still to be described
        self._choose_target = False  # the user gave a new file: pick its target once it is read
        self._listed_for: dict[str, Any] | None = None  # whose columns the target list holds
        self._listed_path: str | None = None
        # A project without data shows none chosen (no source, no sample), never a default
        # that F5 would not train on.
        self.source = QComboBox()
        self.source.setPlaceholderText("Choose the data…")
        for key, label in SOURCES:
            self.source.addItem(label, key)
        self.builtin = QComboBox()
        self.builtin.setPlaceholderText("Choose a sample…")
        for name, description in data_access.builtin_datasets():
            self.builtin.addItem(name, name)
            self.builtin.setItemData(
                self.builtin.count() - 1, description, Qt.ItemDataRole.ToolTipRole
            )
        self.path = QLineEdit()
        self.path.setPlaceholderText("File or folder")
        self.browse = QPushButton("Browse…")
        self.target = QComboBox()
        self.target.setEditable(True)
        self.target.setToolTip("The column the model learns to predict")
        # More target columns, ticked: a model with one output layer per target, each output
        # named after its column (the project's "target" then lists them all).
        self.more_targets = QListWidget()
        self.more_targets.setToolTip(
            "Tick more columns to predict several targets at once: the model needs one output "
            "layer per target, named after its column"
        )
        self.more_targets.setMaximumHeight(84)
        self.validation = QDoubleSpinBox()
        self.test = QDoubleSpinBox()
        for box in (self.validation, self.test):
            box.setRange(0.0, 0.9)
            box.setSingleStep(0.05)
            box.setDecimals(2)
        self.window = QSpinBox()
        self.window.setRange(1, 100000)
        self.window.setToolTip("Rows per sample")
        self.horizon = QSpinBox()
        self.horizon.setRange(1, 100000)
        self.horizon.setToolTip("How many rows after the window the target is read")
        self.shuffle = QCheckBox("Shuffle before splitting")
        self.missing = QComboBox()
        for key, label in MISSING:
            self.missing.addItem(label, key)
            self.missing.setItemData(
                self.missing.count() - 1, MISSING_TIPS[key], Qt.ItemDataRole.ToolTipRole
            )
        self.missing.setToolTip("What to do with empty cells in the table")
        # Long item texts must not widen the form past its tab (the path row would be cut off).
        for combo in (self.source, self.builtin, self.target, self.missing):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(12)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        # Sized for typical seeds, not for 2**31: the split row must fit a narrow Data tab.
        self.seed.setMinimumWidth(64)
        self.preview_button = QPushButton("Preview")
        self.check_button = QPushButton("Check against the model")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.missing_label = QLabel()  # what loading did about empty cells, in plain words
        self.missing_label.setWordWrap(True)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        # The project as the check (or a run's start) saw it: its verdict goes once it changes.
        self._checked_as: str | None = None

        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        split_row = QHBoxLayout()
        split_row.addWidget(QLabel("validation"))
        split_row.addWidget(self.validation)
        split_row.addWidget(QLabel("test"))
        split_row.addWidget(self.test)
        split_row.addWidget(QLabel("seed"))
        split_row.addWidget(self.seed)
        form = QFormLayout()
        form.addRow("Source", self.source)
        form.addRow("Sample", self.builtin)
        form.addRow("Path", path_row)
        form.addRow("Target column", self.target)
        self.more_label = QLabel("More targets")
        form.addRow(self.more_label, self.more_targets)
        form.addRow("Missing values", self.missing)
        series_row = QHBoxLayout()
        series_row.addWidget(QLabel("window"))
        series_row.addWidget(self.window)
        series_row.addWidget(QLabel("horizon"))
        series_row.addWidget(self.horizon)
        series_row.addStretch(1)
        self.series_label = QLabel("Time series")
        form.addRow(self.series_label, series_row)
        form.addRow("Split", split_row)
        form.addRow("", self.shuffle)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.check_button)
        buttons.addStretch(1)

        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.thumbs = QWidget()
        self.thumbs_grid = QGridLayout(self.thumbs)
        thumbs_scroll = QScrollArea()
        thumbs_scroll.setWidgetResizable(True)
        thumbs_scroll.setWidget(self.thumbs)
        self.sequence_plot = pg.PlotWidget(title="First sequence")
        self.sequence_plot.setBackground(None)
        self.sequence_plot.setLabel("bottom", "time step")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(thumbs_scroll)
        self.stack.addWidget(self.sequence_plot)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.missing_label)
        layout.addWidget(self.check_label)
        layout.addWidget(self.stack, 1)

        self.source.currentIndexChanged.connect(self._write)
        self.builtin.currentIndexChanged.connect(self._write)
        self.path.editingFinished.connect(self._write)
        self.target.currentIndexChanged.connect(self._write)
        self.target.lineEdit().editingFinished.connect(self._write)
        self.more_targets.itemChanged.connect(self._write)
        for w in (self.validation, self.test, self.seed, self.window, self.horizon):
            w.valueChanged.connect(self._write)
        self.shuffle.toggled.connect(self._write)
        self.missing.currentIndexChanged.connect(self._write)
        self.browse.clicked.connect(self._browse)
        self.preview_button.clicked.connect(self.refresh_preview)
        self.check_button.clicked.connect(self.check)

    # ------------------------------------------------------------------ model -> form
    def _field_views(self) -> dict[str, Callable[[dict[str, Any]], None]]:
        """Each field of the dataset dict and what shows it (the sample shown is the source's;
        another file's columns leave the target list). A field the project does not set shows
        the core's default, never what the form showed for the last project."""

        def number(box: QSpinBox | QDoubleSpinBox, key: str, kind: type) -> Callable:
            return lambda dataset: box.setValue(kind(_given(dataset, key)))

        return {
            "source": self._show_source,
            "name": self._show_sample,
            "path": self._show_path,
            "target": self._show_targets,
            "validation_split": number(self.validation, "validation_split", float),
            "test_split": number(self.test, "test_split", float),
            "shuffle": lambda dataset: self.shuffle.setChecked(bool(_given(dataset, "shuffle"))),
            "seed": number(self.seed, "seed", int),
            "window": number(self.window, "window", int),
            "horizon": number(self.horizon, "horizon", int),
            "missing": self._show_missing,
        }

    def load(self, dataset: dict[str, Any]) -> None:
        """Show `dataset` (the project's own dict; read only, never written here)."""
        if dataset is not self.dataset:
            self.clear_preview()  # another project: nothing of the last one's data stays
            self._choose_target = False
        self.dataset = dataset
        self._loading = True
        try:
            for show in self._field_views().values():
                show(dataset)
            self._enable_fields()
        finally:
            self._loading = False
        self._shown = self.values()
        self._data_changed(dataset)

    def show_field(self, dataset: dict[str, Any], key: str) -> None:
        """One field of the project's dataset changed (an undo): its own widget shows it; every
        other widget keeps what it shows, a path being typed in too."""
        if dataset is not self.dataset:
            self.load(dataset)  # another dict: nothing the form shows is known to hold
            return
        show = self._field_views().get(key)  # None: a field the form has no widget for
        self._loading = True
        try:
            if show is not None:
                show(dataset)
            self._enable_fields()
        finally:
            self._loading = False
        self._shown = shown_after(self._shown, self.values(), {key})
        self._data_changed(dataset)

    def _data_changed(self, dataset: dict[str, Any]) -> None:
        """The form shows `dataset` now: what was said about the data shown before goes, and
        a file's columns are read for the target list."""
        self._seen = copy.deepcopy(dataset)
        self.check_label.setText("")
        source = dataset.get("source")
        if not source:
            self.status.setText(NO_DATA)
        elif self.source.currentIndex() < 0:  # a source the file names that this tab lacks
            self.status.setText(
                f"This project's data comes from the {source!r} source, set in its file; "
                "choosing a source here replaces it."
            )
        else:
            self.status.setText("")
        self.missing_label.setText("")
        self._read_columns()

    def _show_source(self, dataset: dict[str, Any]) -> None:
        self.source.setCurrentIndex(self.source.findData(dataset.get("source")))  # -1: none
        self._show_sample(dataset)

    def _show_sample(self, dataset: dict[str, Any]) -> None:
        name = dataset.get("name") if dataset.get("source") == "builtin" else None
        self.builtin.setCurrentIndex(self.builtin.findData(name))

    def _show_path(self, dataset: dict[str, Any]) -> None:
        set_text(self.path, str(dataset.get("path", "")))
        if dataset is not self._listed_for or dataset.get("path") != self._listed_path:
            self.target.clear()  # another file's columns
            self.more_targets.clear()
            self._show_targets(dataset)

    def _show_targets(self, dataset: dict[str, Any]) -> None:
        targets = _targets_of(dataset)
        set_text(self.target, targets[0] if targets else "")
        self._tick_targets(targets[1:])

    def _show_missing(self, dataset: dict[str, Any]) -> None:
        missing = _given(dataset, "missing")
        index = self.missing.findData({"error": "refuse"}.get(missing, missing))
        fallback = self.missing.findData(default("dataset", "missing"))
        self.missing.setCurrentIndex(index if index >= 0 else fallback)

    def _enable_fields(self) -> None:
        source = self.source.currentData()
        # Until a source is chosen there is nothing to set: a split without data is no dataset.
        for w in (self.validation, self.test, self.seed, self.shuffle, self.preview_button,
                  self.check_button):  # fmt: skip
            w.setEnabled(source is not None)
        self.builtin.setEnabled(source == "builtin")
        self.path.setEnabled(source not in ("builtin", None))
        self.browse.setEnabled(source not in ("builtin", None))
        self.target.setEnabled(source in ("csv", "timeseries"))
        self.more_targets.setVisible(source == "csv")  # a time series forecasts one column
        self.more_label.setVisible(source == "csv")
        for w in (self.window, self.horizon):
            w.setEnabled(source == "timeseries")
        self.missing.setEnabled(source in MISSING_SOURCES)

    # ------------------------------------------------------------------ form -> model
    def values(self) -> dict[str, Any]:
        """What the form shows; without a source chosen, only the fields every source takes
        (so choosing one writes the source and what the user set, not the defaults shown)."""
        source = self.source.currentData()
        out: dict[str, Any] = {"source": source} if source else {}
        if source is None:
            out["missing"] = self.missing.currentData()
        elif source == "builtin":
            out["name"] = self.builtin.currentData()
        else:
            out["path"] = self.path.text().strip()
        target = self.target.currentText().strip()
        if source in ("csv", "timeseries") and target:
            # Until the file's columns are listed, the project's own further targets stand.
            listed = self._ticked() if self.more_targets.count() else _targets_of(self.dataset)[1:]
            more = [c for c in listed if c != target] if source == "csv" else []
            out["target"] = [target, *more] if more else target
        if source == "timeseries":
            out.update(window=self.window.value(), horizon=self.horizon.value())
        if source in MISSING_SOURCES:
            out["missing"] = self.missing.currentData()
        out.update(validation_split=round(self.validation.value(), 4),
                   test_split=round(self.test.value(), 4),
                   shuffle=self.shuffle.isChecked(), seed=self.seed.value())  # fmt: skip
        return out

    def _write(self, *_args) -> None:
        if self._loading:
            return
        if self.source.currentData() == "builtin" and self.builtin.currentIndex() < 0:
            self._loading = True  # the built-in source chosen: its first sample, shown
            self.builtin.setCurrentIndex(0)
            self._loading = False
        self._enable_fields()
        new = self.values()
        if "source" not in new:
            return  # no data chosen: nothing to write
        # Only what the user changed: a field the form merely shows is never written back.
        changes: dict[str, Any] = {k: v for k, v in new.items() if self._shown.get(k) != v}
        if new["source"] != self._shown.get("source"):
            drop = set(self.dataset) - set(new)  # another kind of source: its options go
        else:
            drop = {k for k in ("name", "path", "target") if k in self.dataset and k not in new}
        changes.update(dict.fromkeys(drop, REMOVE))
        new_file = "path" in changes or "source" in changes
        self._shown = new
        if changes:
            self.check_label.setText("")
            self.missing_label.setText("")
            if self.status.text() == NO_DATA:
                self.status.setText("")  # a source is chosen now
            self.inputs_described.emit({})
            self.edited.emit(changes)
            self._seen = copy.deepcopy(self.dataset)  # the edit is in the project now
        if new_file and new["source"] in ("csv", "timeseries") and new.get("path"):
            self._choose_target = not new.get("target")
            self._loading = True  # another file's columns go; the target typed stays
            text = self.target.currentText()
            self.target.clear()
            self.target.setCurrentText(text)
            self.more_targets.clear()
            self._loading = False
            self._listed_for = None
            self._read_columns()

    def shows(self, dataset: dict[str, Any]) -> bool:
        """Whether the form shows `dataset` as it is (after an undo it may not)."""
        return dataset is self.dataset and dataset == self._seen

    def _browse(self) -> None:
        source = self.source.currentData()
        if source == "image_folder":
            path = QFileDialog.getExistingDirectory(self, "Image folder")
        else:
            filt = "NumPy (*.npz)" if source == "npz" else "Data (*.csv *.tsv *.txt *.npz)"
            path, _ = QFileDialog.getOpenFileName(self, "Data file", "", filt)
        if path:
            self.path.setText(path)
            self._write()
            self.refresh_preview()

    # ------------------------------------------------------------------ preview and check
    def _base_dir(self) -> Path | None:
        project = self.get_project()
        return project.path.parent if project.path else None

    def refresh_preview(self) -> None:
        spec, base = copy.deepcopy(self.dataset), self._base_dir()
        graph = self.get_project().graph.copy()
        self.status.setText("Loading the preview…")
        self.background.run("preview", lambda: preview_of(spec, base, graph),
                            self._while_shown(self._show_preview),
                            self._while_shown(self._preview_failed))  # fmt: skip

    def _while_shown(self, handler: Callable[[Any], None]) -> Callable[[Any], None]:
        """`handler` for a background answer about the data shown now: dropped when another
        project's data replaced it meanwhile (its words would be about the wrong project)."""
        dataset = self.dataset
        return lambda answer: handler(answer) if self.dataset is dataset else None

    def clear_preview(self) -> None:
        self.last_preview = None
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self._show_images({}, [])
        self.sequence_plot.clear()
        self.stack.setCurrentIndex(0)
        self.inputs_described.emit({})
        self.preview_changed.emit(None)

    def _preview_failed(self, message: str) -> None:
        self.last_preview = {"error": message}
        self.status.setText(f"<span style='color:{status_color(False)}'>{message}</span>")
        self.missing_label.setText("")
        self.inputs_described.emit({})
        self.preview_changed.emit(self.last_preview)

    def _show_preview(self, out: dict[str, Any]) -> None:
        self.last_preview = out
        if out.get("error"):
            self.status.setText(f"<span style='color:{status_color(False)}'>{out['error']}</span>")
        else:
            self.status.setText(out.get("summary", ""))
        self.missing_label.setText(out.get("missing", ""))
        self.inputs_described.emit(out.get("input_captions") or {})
        self.preview_changed.emit(out)
        kind = out.get("kind")
        if kind == "table":
            self.column_columns, self.column_kinds = out["columns"], out["types"]
            self._show_table(out["columns"], out["types"], out["rows"])
            self.stack.setCurrentIndex(0)
        elif "image_arrays" in out:
            pics = {k: [to_pixmap(img, 48) for img in v] for k, v in out["image_arrays"].items()}
            self._show_images(pics, out.get("class_names") or [])
            self.stack.setCurrentIndex(1)
        elif kind == "images":
            names = out.get("class_names") or []
            pics = {i: [QPixmap(f).scaled(48, 48, Qt.AspectRatioMode.KeepAspectRatio)
                        for f in out["files"].get(name, [])]
                    for i, name in enumerate(names)}  # fmt: skip
            self._show_images(pics, [f"{n} ({out['counts'].get(n, 0)})" for n in names])
            self.stack.setCurrentIndex(1)
        elif kind == "sequences":
            self.sequence_plot.clear()
            labels = out.get("labels") or []
            for i, series in enumerate(out["series"][:4]):
                seq = np.asarray(series, dtype=float)
                ys = seq[:, 0] if seq.ndim == 2 else seq
                name = f"sample {i + 1}" + (f" (label {labels[i]})" if i < len(labels) else "")
                self.sequence_plot.plot(ys, pen=pg.mkPen(pg.intColor(i, 4), width=2), name=name)
            self.sequence_plot.setTitle("First sequences")
            self.stack.setCurrentIndex(2)
        elif kind == "arrays" and out.get("samples"):
            rows = [[f"{v:.4g}" for v in np.ravel(s)[:50]] for s in out["samples"]]
            width = max(len(r) for r in rows)
            self._show_table([f"x{i}" for i in range(width)], ["numeric"] * width, rows)
            self.stack.setCurrentIndex(0)

    def _show_table(self, columns: list[str], kinds: list[str], rows: list[list[str]]) -> None:
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(
            [f"{c}\n({k})" for c, k in zip(columns, kinds, strict=False)]
        )
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                self.table.setItem(i, j, QTableWidgetItem(cell))
        self.table.resizeColumnsToContents()
        self.offer_columns(columns, choose=True)

    def offer_columns(self, columns: list[str], choose: bool) -> None:
        """Every column of the table in the target list. Without a target yet and when the user
        asked (`choose`: a preview, a new file), the core's likely target is chosen, as an edit of the project like any other; opening a project changes nothing."""
        current = self.target.currentText().strip()
        ticked = self._ticked() or _targets_of(self.dataset)[1:]
        self._listed_for, self._listed_path = self.dataset, self.dataset.get("path")
        self._loading = True
        try:
            self.more_targets.clear()
            for column in columns:
                item = QListWidgetItem(column)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Unchecked)
                self.more_targets.addItem(item)
            self._tick_targets(ticked)
            self.target.clear()
            self.target.addItems(columns)
            self.target.setMaxVisibleItems(min(max(len(columns), 10), 30))
            index = self.target.findText(current) if current else -1
            self.target.setCurrentIndex(index)  # the list follows the target (-1: none yet)
            self.target.setCurrentText(current)
        finally:
            self._loading = False
        if (
            choose
            and not current
            and columns
            and self.source.currentData() in ("csv", "timeseries")
        ):
            # The core's guess (a column named like a target, else the last of categories,
            # whose kinds the preview knows), written through _write as any choice.

            kinds = self.column_kinds if self.column_columns == columns else []
            self.target.setCurrentIndex(columns.index(likely_target(columns, kinds)))
            if self.last_preview is not None and self.last_preview.get("error"):
                self.refresh_preview()  # loading failed for want of a target: again with it

    def _ticked(self) -> list[str]:
        """The columns ticked as more targets, in the table's order."""
        items = (self.more_targets.item(i) for i in range(self.more_targets.count()))
        return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]

    def _tick_targets(self, names: list[str]) -> None:
        """Tick exactly `names` among the listed columns (another file's are not listed)."""
        loading, self._loading = self._loading, True
        try:
            for i in range(self.more_targets.count()):
                item = self.more_targets.item(i)
                state = Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked
                item.setCheckState(state)
        finally:
            self._loading = loading

    def _read_columns(self) -> None:
        """Fill the target list from the file's header as soon as there is a file (the user
        need not preview first); reading a few rows in the background."""
        spec = copy.deepcopy(self.dataset)
        if spec.get("source") not in ("csv", "timeseries") or not spec.get("path"):
            return
        listed = self._listed_for is self.dataset and self._listed_path == spec.get("path")
        if listed and self.target.count():
            return  # listed already
        self._listed_for, self._listed_path = self.dataset, spec.get("path")
        base = self._base_dir()
        self.background.run("columns", lambda: data_access.preview(spec, base, 1),
                            self._while_shown(self._columns_read), lambda _message: None)  # fmt: skip

    def _columns_read(self, out: dict[str, Any]) -> None:
        choose, self._choose_target = self._choose_target, False
        if out.get("kind") == "table":
            self.offer_columns(list(out["columns"]), choose)

    def _show_images(self, images: dict[int, list[QPixmap]], names: list[str]) -> None:
        while self.thumbs_grid.count():
            w = self.thumbs_grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        for row, (cls, pics) in enumerate(images.items()):
            name = names[cls] if 0 <= cls < len(names) else str(cls)
            self.thumbs_grid.addWidget(QLabel(name), row, 0)
            for col, pix in enumerate(pics):
                label = QLabel()
                label.setPixmap(pix)
                self.thumbs_grid.addWidget(label, row, col + 1)

    def follow_run(self, worker) -> None:
        """Describe what a starting run loaded, once it has (the worker's data is set before
        its `started`; `finished` covers a run that failed after loading)."""
        self._run_worker = worker
        self._checked_as = self.get_project().fingerprint()  # what its start will vouch for
        worker.started.connect(self._run_data_loaded)
        worker.finished.connect(self._run_data_loaded)

    def _run_data_loaded(self, *_args) -> None:
        # A method of this widget, so the worker thread's signal is queued to the GUI thread.
        data = getattr(self._run_worker, "data", None)
        if data is None:
            return
        self._run_worker = None  # once per run
        self.inputs_described.emit(describe_inputs(data, self.get_project().graph))
        spec = getattr(data, "spec", None) or {}
        self.missing_label.setText(
            missing_summary(data.extras.get("missing"), spec.get("missing", "fill"))
        )

    def check(self) -> None:
        """Load the data and build the model in the background; say whether they fit."""
        from deepgui.ui.training.worker import snapshot_project

        project = snapshot_project(self.get_project())
        base = self._base_dir()
        self._checked_as = checked_as = self.get_project().fingerprint()
        self.check_label.setText("Checking the data against the model…")

        def answer(result: tuple[bool, str]) -> None:
            if self._checked_as == checked_as:  # else the project changed since: no verdict
                self._checked(result)

        self.background.run("check", lambda: check_fit(project, base), answer,
                            lambda m: answer((False, m)))  # fmt: skip

    def revisit(self) -> None:
        """The project moved (an edit, an undo): a verdict about it as it was no longer stands
        once the model, the data or the settings differ (a save or an undo back keeps it)."""
        if self.check_label.text() and self.get_project().fingerprint() != self._checked_as:
            self._checked_as = None
            self.check_label.setText("")

    def _checked(self, result: tuple[bool, str]) -> None:
        ok, message = result
        colour = status_color(ok)
        self.check_label.setText(
            f"<span style='color:{colour}'>{'✓' if ok else '✗'} {message}</span>"
        )
        self.checked.emit(ok, message)
