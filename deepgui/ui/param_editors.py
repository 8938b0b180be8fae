"""One editor widget per parameter kind of the catalogue (ParamSpec.kind). Each editor shows a
value, emits `edited(value)` when the user changes it, and can mark itself invalid."""

from __future__ import annotations

import ast
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)  # fmt: skip

from deepgui.core.catalogue import ParamSpec

INT_LIMIT = 2**31 - 1


class ParamEditor(QWidget):
    edited = Signal(object)

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError

    def parse_error(self) -> str | None:
        """Why the text typed cannot be read as a value (None when it can)."""
        return None

    def set_invalid(self, invalid: bool) -> None:
        self.setProperty("invalid", invalid)
        self.setStyleSheet(
            "QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox { border: 1px solid #d32f2f; }"
            if invalid
            else ""
        )


class IntEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QSpinBox()
        low = int(spec.min) if spec.min is not None else -INT_LIMIT
        high = int(spec.max) if spec.max is not None else INT_LIMIT
        self.box.setRange(low, high)
        self.box.setKeyboardTracking(False)  # one edit per finished number, not per digit
        self.box.valueChanged.connect(lambda v: self.edited.emit(int(v)))
        self.layout_.addWidget(self.box)

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        if isinstance(value, int) and not isinstance(value, bool):
            self.box.setValue(value)
        self.box.blockSignals(False)

    def value(self) -> int:
        return self.box.value()


class CompactDoubleSpinBox(QDoubleSpinBox):
    """Shows 0.5 rather than 0.500000 while keeping six decimals of precision."""

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"


class FloatEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = CompactDoubleSpinBox()
        self.box.setDecimals(6)
        self.box.setRange(
            spec.min if spec.min is not None else -1e9, spec.max if spec.max is not None else 1e9
        )
        bounded = spec.min is not None and spec.max is not None and spec.max - spec.min <= 1
        self.box.setSingleStep(0.05 if bounded else 0.1)
        self.box.setKeyboardTracking(False)
        self.box.valueChanged.connect(lambda v: self.edited.emit(float(v)))
        self.layout_.addWidget(self.box)

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.box.setValue(float(value))
        self.box.blockSignals(False)

    def value(self) -> float:
        return self.box.value()


class BoolEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QCheckBox()
        self.box.toggled.connect(lambda v: self.edited.emit(bool(v)))
        self.layout_.addWidget(self.box)

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)

    def value(self) -> bool:
        return self.box.isChecked()


class ChoiceEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QComboBox()
        # As narrow as six letters allow (it grows with the inspector): sized to its longest
        # choice, a row with a sweep's ⟳ beside it made the inspector scroll sideways.
        self.box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.box.setMinimumContentsLength(6)
        for choice in spec.choices:
            self.box.addItem("None" if choice is None else str(choice), choice)
        self.box.currentIndexChanged.connect(lambda i: self.edited.emit(self.box.itemData(i)))
        self.layout_.addWidget(self.box)

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        index = next((i for i in range(self.box.count()) if self.box.itemData(i) == value), -1)
        if index < 0:  # a value from an imported model the catalogue does not list
            self.box.addItem(repr(value) if not isinstance(value, str) else value, value)
            index = self.box.count() - 1
        self.box.setCurrentIndex(index)
        self.box.blockSignals(False)

    def value(self) -> Any:
        return self.box.currentData()


class TextEditor(ParamEditor):
    """Free text read as a Python literal: whole-number tuples, shapes, optional numbers."""

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.line = QLineEdit()
        hints = {"shape": "e.g. 28, 28, 1", "ints": "e.g. 3, 3", "optional_ints": "e.g. 2, 2 or empty",
                 "optional_int": "a whole number or empty", "optional_float": "a number or empty"}  # fmt: skip
        self.line.setPlaceholderText(hints.get(spec.kind, ""))
        self.line.editingFinished.connect(self._finished)
        self.layout_.addWidget(self.line)
        self._shown: Any = object()

    def set_value(self, value: Any) -> None:
        self._shown = value
        self.line.setText(format_literal(value))

    def _finished(self) -> None:
        if self.parse_error() is None and self.value() != self._shown:
            self._shown = self.value()
            self.edited.emit(self._shown)
        elif self.parse_error() is not None:
            self.edited.emit(Unparsed(self.line.text()))

    def parse_error(self) -> str | None:
        try:
            self.value()
        except ValueError as exc:
            return str(exc)
        return None

    def value(self) -> Any:
        return parse_literal(self.line.text(), self.spec.kind)


class Unparsed:
    """Text that could not be read as a value; the inspector reports it instead of pushing."""

    def __init__(self, text: str) -> None:
        self.text = text


def format_literal(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        if all(isinstance(v, int | float) or v is None for v in value):
            return ", ".join("None" if v is None else str(v) for v in value)
        return repr(tuple(value)) if not isinstance(value, list) else repr(value)
    return str(value)


def parse_literal(text: str, kind: str) -> Any:
    """Read what the user typed for a parameter of `kind`; ValueError says why it cannot be read."""
    text = text.strip()
    if not text or text.lower() == "none":
        return None
    if kind == "str":
        return text
    try:
        value = ast.literal_eval(
            text
            if not kind.endswith(("ints", "shape")) or text.startswith(("(", "["))
            else f"({text},)"
        )
    except (ValueError, SyntaxError):
        raise ValueError(
            f"{text!r} cannot be read; type numbers separated by commas, such as 3, 3."
        ) from None
    if isinstance(value, tuple):
        value = [list(v) if isinstance(v, tuple) else v for v in value]
    if kind in ("ints", "optional_ints", "shape") and isinstance(value, int):
        value = [value]
    if kind == "optional_float" and isinstance(value, int):
        value = float(value)
    return value


class RegularizerEditor(ParamEditor):
    """None, L1, L2 or L1L2 with its factors, in Keras's serialized form."""

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.kind = QComboBox()
        for label in ("None", "L1", "L2", "L1L2"):
            self.kind.addItem(label)
        self.l1 = self._factor("l1")
        self.l2 = self._factor("l2")
        self.layout_.addWidget(self.kind)
        self.labels = {}
        for label, box in (("l1", self.l1), ("l2", self.l2)):
            self.labels[label] = QLabel(label)
            self.layout_.addWidget(self.labels[label])
            self.layout_.addWidget(box, 1)
        self.kind.currentIndexChanged.connect(self._changed)
        self._enable()

    def _factor(self, name: str) -> QDoubleSpinBox:
        box = CompactDoubleSpinBox()
        box.setDecimals(6)
        box.setRange(0.0, 10.0)
        box.setSingleStep(1e-4)
        box.setValue(0.01)
        box.setKeyboardTracking(False)
        box.setObjectName(name)
        box.valueChanged.connect(self._changed)
        return box

    def _enable(self) -> None:
        # Only the factors the chosen kind uses are shown: the inspector is narrow.
        kind = self.kind.currentText()
        for name, box, used in (
            ("l1", self.l1, kind in ("L1", "L1L2")),
            ("l2", self.l2, kind in ("L2", "L1L2")),
        ):
            box.setVisible(used)
            self.labels[name].setVisible(used)

    def _changed(self, *_: Any) -> None:
        self._enable()
        self.edited.emit(self.value())

    def set_value(self, value: Any) -> None:
        for w in (self.kind, self.l1, self.l2):
            w.blockSignals(True)
        kind, config = "None", {}
        if isinstance(value, str):
            kind, config = value.upper().replace("_", ""), {}
        elif isinstance(value, dict):
            kind, config = value.get("class_name", "None"), value.get("config") or {}
        self.kind.setCurrentText(kind if kind in ("L1", "L2", "L1L2") else "None")
        for name, box in (("l1", self.l1), ("l2", self.l2)):
            if isinstance(config.get(name), int | float):
                box.setValue(float(config[name]))
        for w in (self.kind, self.l1, self.l2):
            w.blockSignals(False)
        self._enable()

    def value(self) -> Any:
        from deepgui.core.catalogue import regularizer

        kind = self.kind.currentText()
        return None if kind == "None" else regularizer(kind, self.l1.value(), self.l2.value())


_EDITORS = {"int": IntEditor, "float": FloatEditor, "bool": BoolEditor, "choice": ChoiceEditor,
            "regularizer": RegularizerEditor}  # fmt: skip


def editor_for(spec: ParamSpec) -> ParamEditor:
    """The editor for a parameter kind; anything else is typed as text."""
    return _EDITORS.get(spec.kind, TextEditor)(spec)
