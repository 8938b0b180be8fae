"""The inspector: a form generated from the selected layer's catalogue spec. Every edit is one
SetConfig on the undo stack; a value the catalogue rejects is marked with its message and not
applied; layer names stay unique. A number or a choice can be marked to vary in a sweep (its ⟳
button: vary.py), one SetMark each."""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from deepgui.core import catalogue, node_kinds
from deepgui.core.catalogue import LayerSpec, ParamSpec, check_param
from deepgui.core.commands import ExpandBlock, SetConfig
from deepgui.core.sweep.marks import VARIED_KINDS
from deepgui.ui.document import Document
from deepgui.ui.node_details import ArgumentsForm, BackboneWeights, BlockPanel
from deepgui.ui.param_editors import ParamEditor, Unparsed, editor_for
from deepgui.ui.vary import VaryButton, edit_mark, with_vary_button


def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #d32f2f;")
    label.hide()
    return label


class ParamForm(QWidget):
    """Editors for every parameter of one spec; `changed(name, value)` on a valid edit. With
    `markable`, each number or choice has a ⟳ button: `vary_requested(name)` when it is clicked."""

    changed = Signal(str, object)
    vary_requested = Signal(str)

    def __init__(
        self, spec: LayerSpec, layer_name: str, parent=None, markable: bool = False
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self.layer_name = layer_name
        self.editors: dict[str, ParamEditor | LayerEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self.vary_buttons: dict[str, VaryButton] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # key parameters first, the rest in catalogue order
        ordered = sorted(spec.params, key=lambda p: p.name not in spec.summary_params)
        for p in ordered:
            editor = LayerEditor(p, layer_name) if p.kind == "layer" else editor_for(p)
            editor.edited.connect(lambda value, p=p: self._edited(p, value))
            label = QLabel(p.name.replace("_", " "))
            label.setToolTip(p.description)
            editor.setToolTip(p.description)
            error = _error_label()
            box = QWidget()
            col = QVBoxLayout(box)
            col.setContentsMargins(0, 0, 0, 0)
            col.setSpacing(2)
            if markable and p.kind in VARIED_KINDS:
                row, button = with_vary_button(editor)
                button.clicked.connect(lambda _=False, name=p.name: self.vary_requested.emit(name))
                self.vary_buttons[p.name] = button
                col.addWidget(row)
            else:
                col.addWidget(editor)
            col.addWidget(error)
            form.addRow(label, box)
            self.editors[p.name] = editor
            self.errors[p.name] = error

    def set_config(self, config: dict[str, Any]) -> None:
        for name, editor in self.editors.items():
            p = self.spec.param(name)
            editor.set_value(config.get(name, p.default if p else None))
            self.show_error(
                name,
                check_param(self.layer_name, p, config[name]) if p and name in config else None,
            )

    def show_marks(self, marks) -> None:
        """Each ⟳ button as the layer's marks have it (`marks(name)`: its SPEC and the
        sentence refusing it now, or (None, None))."""
        for name, button in self.vary_buttons.items():
            button.show_mark(*marks(name))

    def show_error(self, name: str, message: str | None) -> None:
        label, editor = self.errors[name], self.editors[name]
        label.setText(message or "")
        label.setVisible(bool(message))
        editor.set_invalid(bool(message))

    def _edited(self, p: ParamSpec, value: Any) -> None:
        if isinstance(value, Unparsed):
            self.show_error(
                p.name, f"{self.layer_name}: {p.name}: {editor_error(self.editors[p.name])}"
            )
            return
        message = check_param(self.layer_name, p, value) if p.kind != "layer" else None
        self.show_error(p.name, message)
        if message is None:
            self.changed.emit(p.name, value)


def editor_error(editor) -> str:
    return editor.parse_error() or "cannot be read."


class LayerEditor(QWidget):
    """The wrapped layer of Bidirectional: its type and, nested, its own parameters."""

    edited = Signal(object)

    def __init__(self, spec: ParamSpec, layer_name: str, parent=None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.layer_name = layer_name
        self.kind = QComboBox()
        for choice in spec.choices or ("LSTM", "GRU", "SimpleRNN"):
            self.kind.addItem(choice)
        self.kind.currentTextChanged.connect(self._kind_changed)
        self.frame = QFrame()
        self.frame.setFrameShape(QFrame.Shape.StyledPanel)
        self.inner_layout = QVBoxLayout(self.frame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.kind)
        layout.addWidget(self.frame)
        self.form: ParamForm | None = None
        self._value: dict[str, Any] = {"class_name": "LSTM", "config": {}}

    def set_value(self, value: Any) -> None:
        value = (
            copy.deepcopy(value)
            if isinstance(value, dict)
            else {"class_name": "LSTM", "config": {}}
        )
        self._value = value
        self.kind.blockSignals(True)
        self.kind.setCurrentText(value.get("class_name", "LSTM"))
        self.kind.blockSignals(False)
        self._build_form()

    def _build_form(self) -> None:
        if self.form is not None:
            self.form.setParent(None)
            self.form.deleteLater()
        spec = catalogue.get(self._value.get("class_name", "LSTM"))
        if spec is None:
            self.form = None
            return
        self.form = ParamForm(spec, f"{self.layer_name} ({spec.class_name})")
        self.form.set_config(self._value.get("config") or {})
        self.form.changed.connect(self._inner_changed)
        self.inner_layout.addWidget(self.form)

    def _kind_changed(self, class_name: str) -> None:
        inner = self._value.get("config") or {}
        spec = catalogue.get(class_name)
        config = spec.default_config() if spec else {}
        for key in ("units", "return_sequences", "activation", "dropout"):
            if key in inner and key in config:
                config[key] = inner[key]
        self._value = {"class_name": class_name, "config": config}
        self._build_form()
        self.edited.emit(copy.deepcopy(self._value))

    def _inner_changed(self, name: str, value: Any) -> None:
        self._value.setdefault("config", {})[name] = value
        self.edited.emit(copy.deepcopy(self._value))

    def set_invalid(self, invalid: bool) -> None:
        pass  # the nested form marks its own fields

    def parse_error(self) -> str | None:
        return None


class Inspector(QWidget):
    """Shows the selected layer's parameters; empty state when zero or several are selected."""

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.node_id: str | None = None
        self.form: ParamForm | None = None
        self.vary_dialog = None  # the mark being edited, while its editor is open
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.name_edit = QLineEdit()
        self.name_edit.editingFinished.connect(self._rename)
        self.name_error = _error_label()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.empty = QLabel("Select a layer on the canvas to edit its parameters.")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        head = QFormLayout()
        head.addRow("name", self.name_edit)
        head.addRow("", self.name_error)
        self.body_layout.addWidget(self.title)
        self.body_layout.addLayout(head)
        self.body_layout.addWidget(self.status)
        self.form_holder = QVBoxLayout()
        self.body_layout.addLayout(self.form_holder)
        self.body_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.body)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.empty)
        outer.addWidget(scroll)
        self.scroll = scroll
        doc.graph_changed.connect(self._on_graph_event)
        doc.info_changed.connect(self._show_status)
        doc.project_replaced.connect(lambda: self.show_node(None))
        doc.marks_changed.connect(self._marks_changed)
        self.show_node(None)

    def show_node(self, node_id: str | None) -> None:
        if node_id is not None and node_id not in self.doc.graph.nodes:
            node_id = None
        self.node_id = node_id
        self.empty.setVisible(node_id is None)
        self.scroll.setVisible(node_id is not None)
        if self.form is not None:
            self.form.setParent(None)
            self.form.deleteLater()
            self.form = None
        if node_id is None:
            return
        node = self.doc.graph.nodes[node_id]
        kind = node_kinds.kind(node)
        spec = catalogue.get(node.class_name) if kind == node_kinds.LAYER else None
        if kind == node_kinds.BACKBONE:
            spec = catalogue.get(node.class_name)
        description = node_kinds.why_locked(node) or (
            spec.description
            if spec
            else "A Keras operation between layers: its arguments are below."
            if kind == node_kinds.OPERATION
            else "Imported layer: its parameters are kept as they are."
        )
        self.title.setText(
            f"<b>{node_kinds.type_label(node)}</b><br><span style='color:gray'>{description}</span>"
        )
        self.name_edit.setText(node.name)
        self.name_error.hide()
        if node.shares or kind == node_kinds.LOCKED:
            pass  # nothing to edit but the name: why_locked says so
        elif spec is not None:
            self.form = ParamForm(spec, node.name, markable=True)
            self.form.set_config(node.config)
            self.form.changed.connect(self._param_changed)
            self.form.vary_requested.connect(self._vary)
            self._show_marks()
            self.form_holder.addWidget(self.form)
            if kind == node_kinds.BACKBONE:
                self.weights_row = BackboneWeights(node, self.form)
                self.weights_row.chosen.connect(lambda v: self._param_changed("weights", v))
                # Its own full-width row: beside a label it made the inspector scroll sideways.
                self.form.layout().addRow(QLabel("Weights from:"))
                self.form.layout().addRow(self.weights_row)
        elif kind == node_kinds.OPERATION:
            self.form = ArgumentsForm(node)
            self.form.changed.connect(self._param_changed)
            self.form_holder.addWidget(self.form)
        elif kind == node_kinds.BLOCK:
            self.form = BlockPanel(node)
            self.form.frozen_changed.connect(
                lambda frozen: self._param_changed("trainable", not frozen)
            )
            self.form.open_requested.connect(lambda: self._open_block(node.id))
            self.form_holder.addWidget(self.form)
        self._show_status()

    def _show_marks(self) -> None:
        if not isinstance(self.form, ParamForm) or self.node_id is None:
            return
        marks, node_id = self.doc.project.marks, self.node_id
        self.form.show_marks(lambda key: (marks.spec(node_id, key), marks.problem(node_id, key)))

    def _marks_changed(self, owner: str, _key: str) -> None:
        if owner == self.node_id:
            self._show_marks()

    def _vary(self, key: str) -> None:
        """The editor of the mark on one parameter; OK pushes one SetMark."""
        node = self.doc.graph.nodes.get(self.node_id) if self.node_id else None
        if node is not None:
            self.vary_dialog = edit_mark(self, self.doc.project, node.id, key,
                                         node.config.get(key), self.doc.push)  # fmt: skip
            self.vary_dialog.finished.connect(lambda _r: setattr(self, "vary_dialog", None))

    def _show_status(self) -> None:
        if self.node_id is None:
            return
        info = self.doc.info.get(self.node_id)
        if info is None:
            self.status.setText("Output shape: working it out…")
            return
        from deepgui.core.shapes import format_shape

        lines = [
            f"Output shape: <b>{format_shape(info.output_shape)}</b> · {info.params:,} parameters"
        ]
        lines += [f"<span style='color:#d32f2f'>{m}</span>" for m in info.errors]
        lines += [f"<span style='color:#b26a00'>{m}</span>" for m in info.warnings]
        self.status.setText("<br>".join(lines))

    def _on_graph_event(self, event: str, payload) -> None:
        if self.node_id is None:
            return
        if event == "node_removed" and payload.id == self.node_id:
            self.show_node(None)
        elif event == "node_changed" and payload.id == self.node_id:
            self.name_edit.setText(payload.name)
            if isinstance(self.form, ParamForm):
                self.form.layer_name = payload.name
                self.form.set_config(payload.config)
                self._show_marks()
            elif self.form is not None:  # operations and blocks: their form is made anew
                self.show_node(self.node_id)

    def _param_changed(self, name: str, value: Any) -> None:
        node = self.doc.graph.nodes.get(self.node_id)
        if node is None or node.config.get(name) == value:
            return
        config = copy.deepcopy(node.config)
        config[name] = value
        self.doc.push(SetConfig(node.id, config))

    def _open_block(self, node_id: str) -> None:
        from deepgui.core.errors import DeepGuiError

        try:
            self.doc.push(ExpandBlock(node_id))
        except DeepGuiError as exc:
            self.status.setText(f"<span style='color:#d32f2f'>{exc}</span>")

    def _rename(self) -> None:
        node = self.doc.graph.nodes.get(self.node_id) if self.node_id else None
        if node is None:
            return
        name = self.name_edit.text().strip()
        message = self.doc.graph.name_problem(node.id, name)  # the rule lives in the core
        self.name_error.setText(message or "")
        self.name_error.setVisible(bool(message))
        if message is None and name != node.name:
            config = copy.deepcopy(node.config)
            config["name"] = name
            self.doc.push(SetConfig(node.id, config))
