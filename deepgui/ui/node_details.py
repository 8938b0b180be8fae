"""The inspector's part for nodes that are not palette layers: an operation's arguments, a
block's frozen state and its layers, and why a locked node cannot be edited."""

from __future__ import annotations

import copy
import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deepgui.core import node_kinds
from deepgui.core.graph import Node


class ArgumentsForm(QWidget):
    """One field per argument Keras serializes for an operation, written as JSON (numbers,
    lists, true/false, null); `changed(name, value)` on a valid edit."""

    changed = Signal(str, object)

    def __init__(self, node: Node, parent=None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.fields: dict[str, QLineEdit] = {}
        self.error = QLabel()
        self.error.setStyleSheet("color: #d32f2f;")
        self.error.setWordWrap(True)
        self.error.hide()
        for key, value in node.config.items():
            if key == "name":
                continue
            edit = QLineEdit(json.dumps(value))
            edit.editingFinished.connect(lambda k=key: self._edited(k))
            form.addRow(key, edit)
            self.fields[key] = edit
        if not self.fields:
            form.addRow(QLabel("This operation has no arguments to set."))
        form.addRow(self.error)

    def _edited(self, key: str) -> None:
        text = self.fields[key].text()
        try:
            value = json.loads(text)
        except ValueError:
            self.error.setText(f"{key}: {text!r} is not a value (write 3, [2, 2], true or null).")
            self.error.show()
            return
        self.error.hide()
        self.changed.emit(key, value)


class BlockPanel(QWidget):
    """A block or backbone's frozen switch and a button that lists the layers inside it."""

    frozen_changed = Signal(bool)
    open_requested = Signal()

    def __init__(self, node: Node, parent=None) -> None:
        super().__init__(parent)
        self.node = node
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.frozen = QCheckBox("Frozen (its weights do not train)")
        self.frozen.setChecked(node_kinds.is_frozen(node))
        self.frozen.toggled.connect(self.frozen_changed.emit)
        layout.addWidget(self.frozen)
        if node_kinds.kind(node) == node_kinds.BLOCK:
            show = QPushButton("Show its layers…")
            show.clicked.connect(self.show_layers)
            layout.addWidget(show)
            self.open_button = QPushButton("Open for editing")
            editable = node_kinds.opens_for_editing(node)
            self.open_button.setEnabled(editable)
            self.open_button.setToolTip(
                "Its layers take its place on the canvas, with its weights (Undo closes it)."
                if editable
                else "It holds a class only Keras's own code builds, so it stays one block."
            )
            self.open_button.clicked.connect(self.open_requested.emit)
            layout.addWidget(self.open_button)
        self.dialog: QDialog | None = None

    def show_layers(self) -> None:
        self.dialog = BlockLayersDialog(self.node, self)
        self.dialog.show()


class BlockLayersDialog(QDialog):
    """The layers inside a block, one row each as Summary shows them (read only)."""

    def __init__(self, node: Node, parent=None) -> None:
        super().__init__(parent)
        from deepgui.core.errors import DeepGuiError
        from deepgui.core.keras_import import block_graph
        from deepgui.core.shapes import ShapeInference, summary_rows

        self.setWindowTitle(f"Layers of {node.name}")
        layout = QVBoxLayout(self)
        try:
            graph = block_graph(node)
            inference = ShapeInference(graph)
            inference.update()
            rows: list[dict[str, Any]] = summary_rows(graph, inference.info)
            note = f"{len(rows)} layers · {inference.total_params():,} parameters"
        except DeepGuiError as exc:
            rows, note = [], str(exc)
        layout.addWidget(QLabel(note))
        headers = ("Layer", "Type", "Output shape", "Params")
        self.table = QTableWidget(len(rows), len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        for r, row in enumerate(rows):
            cells = (row["name"], row["type"], row["output_shape"], f"{row['params']:,}")
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 480)


def with_frozen(node: Node, frozen: bool) -> dict[str, Any]:
    config = copy.deepcopy(node.config)
    config["trainable"] = not frozen
    return config


class BackboneWeights(QWidget):
    """Where a backbone's weights come from, in one click: ImageNet (Keras's cache, downloaded
    once), a .weights.h5 file the user picks, or none. `chosen(value)` with the new setting."""

    chosen = Signal(str)

    def __init__(self, node: Node, parent=None) -> None:
        super().__init__(parent)
        from PySide6.QtWidgets import QHBoxLayout

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        current = node.config.get("weights", "imagenet")
        for label, value in (("ImageNet", "imagenet"), ("None", "none")):
            button = QPushButton(label)
            button.setEnabled(current != value)
            button.clicked.connect(lambda _=False, v=value: self.chosen.emit(v))
            layout.addWidget(button)
        pick = QPushButton("File…")
        pick.setToolTip("Pick a .weights.h5 file saved from this backbone")
        pick.clicked.connect(self.pick_file)
        layout.addWidget(pick)

    def pick_file(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self, "Backbone weights", "", "Keras weights (*.weights.h5 *.h5)"
        )
        if path:
            self.chosen.emit(path)
