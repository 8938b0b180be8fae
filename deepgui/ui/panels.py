"""The bottom tabs: Summary (like model.summary), Code (the generated Keras script), Problems
(every error and warning; clicking one selects its layer) and Training (filled by a later
part; until then it says how to start)."""

from __future__ import annotations

import copy
import re

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from deepgui.core.errors import DeepGuiError
from deepgui.ui.document import Document
from deepgui.ui.icons import icon
from deepgui.ui.inference import snapshot
from deepgui.ui.tasks import Background
from deepgui.ui.theme import is_dark


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    # Sized once after filling: ResizeToContents re-measures every row on every cell set,
    # which made a 300-row summary take seconds.
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table


def _fill(table: QTableWidget, rows: list[list[QTableWidgetItem]]) -> None:
    table.setUpdatesEnabled(False)
    try:
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, item in enumerate(row):
                table.setItem(i, j, item)
        for j in range(table.columnCount() - 1):
            table.resizeColumnToContents(j)
    finally:
        table.setUpdatesEnabled(True)


class SummaryPanel(QWidget):
    layer_clicked = Signal(str)

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.table = _table(["Layer (type)", "Output shape", "Param #", "Connected to"])
        self.table.cellClicked.connect(self._clicked)
        self.totals = QLabel()
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)
        self._ids: list[str] = []
        doc.info_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        from deepgui.core.shapes import summary_rows

        rows = summary_rows(self.doc.graph, self.doc.info)
        self._ids = [r["id"] for r in rows]
        cells = []
        for r in rows:
            texts = [f"{r['name']} ({r['type']})", r["output_shape"], f"{r['params']:,}",
                     ", ".join(r["connected_to"])]  # fmt: skip
            items = [QTableWidgetItem(t) for t in texts]
            items[2].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            cells.append(items)
        _fill(self.table, cells)
        total = sum(r["params"] for r in rows)
        trainable = sum(r["trainable"] for r in rows)
        pending = (
            " (working out shapes…)"
            if self.doc.inference_pending or not self.doc.keras_ready
            else ""
        )
        self.totals.setText(
            f"Total params: {total:,}   ·   Trainable params: {trainable:,}   ·   "
            f"Non-trainable params: {total - trainable:,}{pending}"
        )

    def _clicked(self, row: int, _col: int) -> None:
        if 0 <= row < len(self._ids):
            self.layer_clicked.emit(self._ids[row])


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, strings, numbers and comments, in colours readable on light and dark."""

    KEYWORDS = r"\b(?:import|from|as|def|return|class|if|else|elif|for|in|with|None|True|False|and|or|not|lambda|pass)\b"

    def __init__(self, document) -> None:
        super().__init__(document)
        dark = is_dark()
        colours = {
            "keyword": "#c792ea" if dark else "#7a2db0",
            "string": "#c3e88d" if dark else "#2f7a1f",
            "number": "#f78c6c" if dark else "#b35c00",
            "comment": "#7f8aa3" if dark else "#6b7385",
            "call": "#82aaff" if dark else "#1f56c2",
        }
        self.rules = []
        for pattern, kind in ((self.KEYWORDS, "keyword"), (r"\b[A-Za-z_][A-Za-z0-9_]*(?=\()", "call"),
                              (r"\b\d+(?:\.\d+)?(?:e-?\d+)?\b", "number"), (r"'[^'\n]*'|\"[^\"\n]*\"", "string"),
                              (r"#[^\n]*", "comment")):  # fmt: skip
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(colours[kind]))
            if kind == "keyword":
                fmt.setFontWeight(QFont.Weight.Bold)
            self.rules.append((re.compile(pattern), fmt))

    def highlightBlock(self, text: str) -> None:
        for regex, fmt in self.rules:
            for m in regex.finditer(text):
                self.setFormat(m.start(), m.end() - m.start(), fmt)


def generate_code(graph, dataset: dict, training: dict, name: str) -> str | None:
    """The Keras script from the core's code generator, or a comment saying why it cannot be
    written yet. Plain Python: runs in a worker thread."""
    from deepgui.core.codegen import generate_script

    try:
        return generate_script(graph, dataset or None, training or None, name=name)
    except DeepGuiError as exc:  # an unfinished graph: say why in the tab
        return f"# {exc}\n"
    except Exception as exc:  # the generator must never take the window down
        return f"# The script cannot be written yet: {exc}\n"


class CodePanel(QWidget):
    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(font)
        self.highlighter = PythonHighlighter(self.text.document())
        self.copy_button = QPushButton(icon("copy"), "Copy")
        self.copy_button.setToolTip("Copy the script to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("The Keras script this model stands for:"))
        bar.addStretch(1)
        bar.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.text)
        # The generator needs Keras: write the script once Keras has loaded (in the background),
        # only while the tab is visible, and after edits settle.
        self._stale = True
        self.background = Background(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._refresh_if_shown)
        doc.graph_changed.connect(self._mark_stale)
        doc.project_replaced.connect(self._mark_stale)
        doc.keras_loaded.connect(self._mark_stale)
        self.text.setPlainText("# Loading Keras: the script appears here in a moment.\n")

    def _mark_stale(self, *_args) -> None:
        self._stale = True
        self._timer.start()

    def _refresh_if_shown(self) -> None:
        if self.isVisible() and self.doc.keras_ready:
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._timer.start(0)

    def refresh(self) -> None:
        """Write the script in the background (300 layers take most of a second)."""
        self._stale = False
        project = self.doc.project
        args = (snapshot(project.graph), copy.deepcopy(project.dataset),
                copy.deepcopy(project.training), self.doc.files_name())  # fmt: skip
        self.background.run(
            "code", lambda: generate_code(*args), self._show,
            lambda message: self._show(f"# The script cannot be written yet: {message}\n"),
        )  # fmt: skip

    def _show(self, code: str) -> None:
        if code != self.text.toPlainText():
            self.text.setPlainText(code)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())


class ProblemsPanel(QWidget):
    layer_clicked = Signal(str)

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.table = _table(["", "Layer", "Problem"])
        self.table.cellClicked.connect(self._clicked)
        self.empty = QLabel("No problems: every layer has a shape.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty)
        layout.addWidget(self.table)
        self._ids: list[str] = []
        doc.info_changed.connect(self.refresh)
        self.refresh()

    def count(self) -> tuple[int, int]:
        errors = sum(1 for p in self.doc.problems if p[1] == "error")
        return errors, len(self.doc.problems) - errors

    def refresh(self) -> None:
        problems = self.doc.problems
        self._ids = [p[0] for p in problems]
        rows = []
        for nid, severity, message in problems:
            node = self.doc.graph.nodes.get(nid)
            item = QTableWidgetItem(message)
            item.setToolTip(message)
            rows.append(
                [
                    QTableWidgetItem(icon(severity), severity),
                    QTableWidgetItem(node.name if node else ""),
                    item,
                ]
            )
        _fill(self.table, rows)
        self.empty.setVisible(not problems)
        self.table.setVisible(bool(problems))
        if not self.doc.keras_ready:
            self.empty.setText("Loading Keras to work out shapes…")
        else:
            self.empty.setText("No problems: every layer has a shape.")

    def _clicked(self, row: int, _col: int) -> None:
        if 0 <= row < len(self._ids) and self._ids[row]:
            self.layer_clicked.emit(self._ids[row])


class TrainingPanel(QWidget):
    """Until training lands in the app, a clear empty state (no made-up curves)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        label = QLabel(
            "<p style='font-size:14px'><b>No training run yet.</b></p>"
            "<p>Run ▸ Train (F5) will train this model here, with live loss and accuracy curves.<br>"
            "From a terminal: <code>deepgui train PROJECT.dgproj</code></p>"
        )
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
