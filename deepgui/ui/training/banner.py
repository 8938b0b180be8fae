"""The overfitting banner: what is happening, in plain words, and one button per remedy."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout


class OverfittingBanner(QFrame):
    """Hidden until `show_report`. `remedy_clicked(remedy)` asks the panel to apply one."""

    remedy_clicked = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("overfittingBanner")
        self.setStyleSheet(
            "#overfittingBanner { background: rgba(229, 122, 58, 40); border: 1px solid #e57a3a;"
            " border-radius: 6px; }"
        )
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.buttons_row = QHBoxLayout()
        self.close_button = QPushButton("Dismiss")
        self.close_button.setFlat(True)
        self.close_button.clicked.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        row = QHBoxLayout()
        row.addLayout(self.buttons_row)
        row.addStretch(1)
        row.addWidget(self.close_button)
        layout.addLayout(row)
        self.buttons: dict[str, QPushButton] = {}
        self.report = None
        self.hide()

    def show_report(self, report) -> None:
        """Explain `report` (an OverfittingReport) and offer its remedies."""
        self.report = report
        self.text.setText(
            f"<b>The model has started to overfit (from epoch {report.epoch}).</b> "
            f"It is memorising the training data instead of learning what generalises: "
            f"{report.reason}. The best model so far was at epoch {report.best_epoch}. "
            "Pick a remedy for the next run (each is one undoable edit):"
        )
        while self.buttons_row.count():
            item = self.buttons_row.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.buttons = {}
        for remedy in report.remedies:
            button = QPushButton(remedy.title)
            button.setToolTip(remedy.explanation)
            button.clicked.connect(lambda _=False, r=remedy: self.remedy_clicked.emit(r))
            self.buttons_row.addWidget(button)
            self.buttons[remedy.key] = button
        self.show()

    def mark_applied(self, key: str, text: str) -> None:
        button = self.buttons.get(key)
        if button is not None:
            button.setEnabled(False)
            button.setText(f"✓ {button.text()}")
        self.text.setText(self.text.text().split("Pick a remedy")[0] + text)
