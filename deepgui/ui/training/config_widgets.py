"""The small widgets the Configuration form's sections are made of: a choice, whole and real
number boxes, a sentence beside a field (red for the core's refusals), and a cell holding
items one above the other; and what each section gives the form to show a field."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.training.config import TrainingConfig
from deepgui.ui.theme import status_color

# What shows one field of the training dict: (the core's reading, the dict as the project has
# it, the fields the core refused) -> its widgets set.
FieldView = Callable[[TrainingConfig, dict, set[str]], None]


def combo(items: list[str], editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.addItems(items)
    box.setEditable(editable)
    return box


def spin(low: int, high: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    return box


def real(low: float, high: float, decimals: int, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    return box


def error_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {status_color(False)};")
    return label


def say(label: QLabel, text: str) -> None:
    """Set a sentence beside a field; the label takes no room while there is none."""
    label.setText(text)
    label.setVisible(bool(text))
    # A QFormLayout goes on laying out a wrapped label at an earlier height until told again
    # once the edit's other changes are laid out (PySide6 6.11): a long sentence, such as the
    # arguments an optimizer takes, was cut off.
    parent = label.parentWidget()
    holder = _layout_holding(parent.layout(), label) if parent is not None else None
    if holder is not None:
        QTimer.singleShot(0, label, holder.invalidate)


def _layout_holding(layout, widget: QWidget):
    """The layout, `layout` or one nested in it, that holds `widget` itself."""
    if layout is None:
        return None
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item.widget() is widget:
            return layout
        found = _layout_holding(item.layout(), widget)
        if found is not None:
            return found
    return None


def stacked(*items: QWidget | QHBoxLayout | QGridLayout) -> QWidget:
    """Items one above the other in one form cell (a field and the sentence about it)."""
    cell = QWidget()
    column = QVBoxLayout(cell)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    for item in items:
        if isinstance(item, QWidget):
            column.addWidget(item)
        else:
            column.addLayout(item)
    return cell
