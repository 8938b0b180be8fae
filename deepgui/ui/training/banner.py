"""The overfitting banner: what is happening, in plain words, and one button per remedy.

What it says is the core's (`overfitting.assess`): it is revisited after every epoch, so it never
contradicts the run's own best epoch, and a remedy reads "applied" only while its edit is in
effect (undo takes the word back)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from deepgui.core.training.overfitting import OverfittingStatus, assess

_STYLE = {
    True: "#overfittingBanner { background: rgba(229, 122, 58, 40); border: 1px solid #e57a3a;"
    " border-radius: 6px; }",
    False: "#overfittingBanner { background: rgba(46, 157, 91, 30); border: 1px solid #2e9d5b;"
    " border-radius: 6px; }",
}


class OverfittingBanner(QFrame):
    """Hidden until `show_report`. `remedy_clicked(remedy)` asks the panel to apply one."""

    remedy_clicked = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("overfittingBanner")
        self.setStyleSheet(_STYLE[True])
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.applied_text = QLabel()  # which remedies are in effect, each sentence whole
        self.applied_text.setWordWrap(True)
        self.applied_text.hide()
        self.buttons_row = QHBoxLayout()
        self.close_button = QPushButton("Dismiss")
        self.close_button.setFlat(True)
        self.close_button.clicked.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(4)
        layout.addWidget(self.text)
        row = QHBoxLayout()
        row.addLayout(self.buttons_row)
        row.addStretch(1)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        layout.addWidget(self.applied_text)
        self.buttons: dict[str, QPushButton] = {}
        self.titles: dict[str, str] = {}
        self.applied: dict[str, object] = {}  # remedy key -> its RemedyEdit on the undo stack
        self.report = None
        self.status: OverfittingStatus | None = None
        self.hide()

    def clear(self) -> None:
        """Another run or project: nothing to say."""
        self.report, self.status = None, None
        self.hide()

    def show_report(self, report, rows: list[dict] | None = None) -> None:
        """Explain `report` (an OverfittingReport) and offer its remedies; `rows` are the
        run's epochs so far (for the best epoch the banner names)."""
        self.report = report
        while self.buttons_row.count():
            item = self.buttons_row.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.buttons, self.titles, self.applied = {}, {}, {}
        for remedy in report.remedies:
            button = QPushButton(remedy.title)
            button.setToolTip(remedy.explanation)
            button.clicked.connect(lambda _=False, r=remedy: self.remedy_clicked.emit(r))
            self.buttons_row.addWidget(button)
            self.buttons[remedy.key] = button
            self.titles[remedy.key] = remedy.title
        self.revisit(rows or [])
        self.refresh_applied()
        self.show()

    def revisit(self, rows: list[dict]) -> OverfittingStatus | None:
        """Say again what the report means now that these epochs have been seen."""
        if self.report is None:
            return None
        self.status = status = assess(self.report, rows)
        self.text.setText(f"<b>{escape(status.headline)}</b> {escape(status.explanation)}")
        self.setStyleSheet(_STYLE[status.active])
        return status

    def mark_applied(self, key: str, edit) -> None:
        """The remedy `key` was applied as `edit` (a RemedyEdit on the project's undo stack)."""
        self.applied[key] = edit
        self.refresh_applied()

    def refresh_applied(self) -> None:
        """Follow the undo stack: a remedy undone is offered again, one redone is applied."""
        sentences = []
        for key, button in self.buttons.items():
            edit = self.applied.get(key)
            on = bool(edit is not None and getattr(edit, "in_effect", False))
            button.setEnabled(not on)
            button.setText(f"✓ {self.titles[key]}" if on else self.titles[key])
            if on:
                what = getattr(edit, "text", "") or self.titles[key]
                sentences.append(f"<b>{escape(what)}</b> applied.")
        if sentences:
            sentences.append("Undo with Ctrl+Z; train again to compare.")
        self.applied_text.setText(" ".join(sentences))
        self.applied_text.setVisible(bool(sentences))
