"""Marking a setting to vary in a sweep, where it is set: a small ⟳ button beside the field
(the inspector's parameters, the training form) opens a compact editor of choices or a range;
OK pushes one SetMark. The core (sweep/marks.py, space.py) decides what a mark may be."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)  # fmt: skip

from deepgui.core.commands import Command
from deepgui.core.sweep import marks
from deepgui.core.sweep.marks import MARK
from deepgui.ui.theme import status_color

MARK_COLOR = "#7e57c2"  # white on it reads at WCAG AA; the same on the canvas's badge
UNMARKED_TIP = "Vary in a sweep…"


class VaryButton(QToolButton):
    """⟳ beside a field: faint while the field is not marked, tinted with its mark's SPEC in
    the tooltip when it is (red when the project's rules refuse the mark now)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setText(MARK)
        self.setAutoRaise(True)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFixedWidth(20)  # the inspector is narrow: the ⟳ must not widen its rows much
        self.spec: str | None = None
        self.show_mark(None)

    def show_mark(self, spec: str | None, problem: str | None = None) -> None:
        self.spec = spec
        if spec is None:
            self.setToolTip(UNMARKED_TIP)
            self.setStyleSheet("QToolButton { color: palette(mid); }")
            return
        colour = status_color(False) if problem else MARK_COLOR
        self.setToolTip(f"Varied in a sweep: {spec}" + (f"\n{problem}" if problem else "")
                        + "\nClick to change or remove the mark.")  # fmt: skip
        self.setStyleSheet(f"QToolButton {{ color: white; background: {colour}; "
                           "border-radius: 3px; }")  # fmt: skip


def with_vary_button(field: QWidget) -> tuple[QWidget, VaryButton]:
    """`field` and a VaryButton after it, in one row."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(field, 1)
    button = VaryButton()
    layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
    return row, button


class VaryDialog(QDialog):
    """Choices (a, b, c) or, for a number, a range (low, high, log scale). OK checks the
    mark with the core and stays open with its sentence when refused; `chosen(spec)` with the
    SPEC, or with None when the mark is removed."""

    chosen = Signal(object)

    def __init__(self, name: str, spec: str | None, numeric: bool, current: Any,
                 check: Callable[[str], str | None], parent=None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle(f"Vary {name}")
        self.check = check
        parts = marks.spec_parts(spec)
        self.as_choices = QRadioButton("Choices")
        self.as_range = QRadioButton("Range")
        self.choices = QLineEdit(", ".join(parts.choices) or marks.value_text(current))
        self.choices.setPlaceholderText("e.g. 16, 32, 64")
        self.low = QLineEdit(parts.low)
        self.high = QLineEdit(parts.high)
        self.low.setPlaceholderText("low")
        self.high.setPlaceholderText("high")
        self.log = QCheckBox("log scale")
        self.log.setChecked(parts.log)
        self.as_range.setEnabled(numeric)
        (self.as_range if parts.is_range and numeric else self.as_choices).setChecked(True)
        self.problem = QLabel()
        self.problem.setObjectName("varyProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {status_color(False)};")
        self.problem.hide()

        grid = QGridLayout()
        grid.addWidget(self.as_choices, 0, 0)
        grid.addWidget(self.choices, 0, 1, 1, 4)
        grid.addWidget(self.as_range, 1, 0)
        grid.addWidget(self.low, 1, 1)
        grid.addWidget(QLabel("to"), 1, 2)
        grid.addWidget(self.high, 1, 3)
        grid.addWidget(self.log, 1, 4)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.remove = self.buttons.addButton(
            "Remove mark", QDialogButtonBox.ButtonRole.DestructiveRole
        )
        self.remove.setVisible(spec is not None)
        layout = QVBoxLayout(self)
        what = QLabel(f"Try these values of <b>{name}</b> in a sweep:")
        layout.addWidget(what)
        layout.addLayout(grid)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        self.choices.textEdited.connect(lambda _t: self.as_choices.setChecked(True))
        for w in (self.low, self.high):
            w.textEdited.connect(lambda _t: self.as_range.setChecked(True))
        self.log.toggled.connect(lambda _on: self.as_range.setChecked(True))
        for w in (self.low, self.high, self.log):
            w.setEnabled(numeric)  # a word takes choices only
        self.buttons.accepted.connect(self._ok)
        self.buttons.rejected.connect(self.reject)
        self.remove.clicked.connect(self._remove)

    def spec(self) -> str:
        """The SPEC the editor shows."""
        if self.as_range.isChecked():
            return marks.range_spec(self.low.text(), self.high.text(), self.log.isChecked())
        return marks.choices_spec(self.choices.text())

    def _ok(self) -> None:
        spec = self.spec()
        problem = self.check(spec)
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        if problem is None:
            self.chosen.emit(spec)
            self.accept()

    def _remove(self) -> None:
        self.chosen.emit(None)
        self.accept()


def edit_mark(parent: QWidget, project, owner: str, key: str, current: Any,
              push: Callable[[Command], Any]) -> VaryDialog:  # fmt: skip
    """Open the editor of one setting's mark (not blocking); what the user chooses is pushed
    as one SetMark through `push`."""
    name = project.marks.name(owner, key)
    dialog = VaryDialog(
        name,
        project.marks.spec(owner, key),
        numeric=marks.number_kind(project, owner, key) is not None,
        current=current,
        check=lambda spec: marks.check(project, owner, key, spec),
        parent=parent,
    )
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def chosen(spec: str | None) -> None:
        command = marks.set_mark(project, owner, key, spec)
        if command is not None:
            push(command)

    dialog.chosen.connect(chosen)
    dialog.open()
    return dialog
