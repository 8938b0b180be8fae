"""Every question the app asks the user, in one replaceable object, so tests can answer them
without a modal dialog; and the one question asked before anything a user has is written over
(`ask_replace`), which dialogs of their own (Export, Predict) ask directly."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

PROJECT_FILTER = "deepgui projects (*.dgproj)"
OPEN_FILTER = (
    "Projects and Keras models (*.dgproj *.keras *.h5 *.hdf5);;"
    + PROJECT_FILTER
    + ";;Keras models (*.keras *.h5 *.hdf5)"
)
MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5)"


class Dialogs:
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def unsaved_changes(self, name: str) -> str:
        """'save', 'discard' or 'cancel'."""
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save the changes to {name}?")
        box.setInformativeText("Your changes are lost if you don't save them.")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {
            QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard",
        }.get(QMessageBox.StandardButton(answer), "cancel")

    def offer_recovery(self, description: str) -> bool:
        answer = QMessageBox.question(
            self.parent,
            "Recover unsaved work?",
            f"deepgui closed unexpectedly while {description} had unsaved changes.\n\nRecover them?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def confirm(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(
            self.parent,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def replace(self, paths: Sequence[str | os.PathLike], what: str, detail: str = "") -> bool:
        """Whether `what` may be written over the existing `paths` (see ask_replace)."""
        return ask_replace(self.parent, paths, what, detail)

    def error(self, title: str, message: str) -> None:
        QMessageBox.warning(self.parent, title, message)

    def info(self, title: str, message: str) -> None:
        QMessageBox.information(self.parent, title, message)

    def open_file(self, caption: str = "Open", file_filter: str = OPEN_FILTER) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, caption, "", file_filter)
        return path or None

    def save_file(self, suggestion: str, file_filter: str = PROJECT_FILTER) -> str | None:
        path, _ = QFileDialog.getSaveFileName(
            self.parent, "Save project as", suggestion, file_filter
        )
        return path or None


def ask_replace(
    parent: QWidget | None,
    paths: Sequence[str | os.PathLike],
    what: str,
    detail: str = "",
) -> bool:
    """Ask before `what` ("this export") is written over files that exist: the question names
    each path; Replace says yes, Cancel (the default, and Esc) no."""
    paths = [Path(p) for p in paths]
    if len(paths) == 1:
        question = f"{paths[0]} already exists. Replace it with {what}?"
    else:
        others = ", ".join(p.name for p in paths[1:])
        question = f"{paths[0]} and {others} beside it already exist. Replace them with {what}?"
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Replace existing file?")
    box.setText(question)
    if detail:
        box.setInformativeText(detail)
    replace = box.addButton("Replace", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is replace


class CrashLogDialog(QDialog):
    """Help ▸ Crash Log: where the log is, its newest entries, and the two things a bug report
    needs of it: Copy (the entries with the path and the versions) and Open Folder (to attach
    the file itself). Says plainly when nothing has been logged."""

    def __init__(self, path: Path, text: str, about: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Crash log")
        self.path, self.text, self.about = Path(path), text, about
        if text:
            intro = (
                f"deepgui records crashes and unexpected errors in {self.path}. For a bug report, "
                "attach that file (Open Folder) or paste its newest entries (Copy)."
            )
        else:
            intro = (
                "No crashes recorded: deepgui has not crashed or met an unexpected error since "
                f"its log began. The log would be kept in {self.path}."
            )
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log = QPlainTextEdit(text)
        self.log.setReadOnly(True)
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log.setVisible(bool(text))
        self.log.moveCursor(self.log.textCursor().MoveOperation.End)  # the newest entry
        self.status = QLabel()
        self.status.setWordWrap(True)

        buttons = QDialogButtonBox()
        self.copy_button = QPushButton("Copy to Clipboard")
        self.folder_button = QPushButton("Open Folder")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.copy_button.setEnabled(bool(text))
        self.folder_button.setEnabled(self.path.parent.is_dir())
        self.copy_button.clicked.connect(self.copy)
        self.folder_button.clicked.connect(self.open_folder)
        close.clicked.connect(self.accept)
        close.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        # Wide enough for a path on one line; without a log, as tall as the wrapped sentence.
        self.resize(720, 460 if text else max(self.heightForWidth(720), self.sizeHint().height()))

    def report_text(self) -> str:
        """What Copy puts on the clipboard: the versions, where the log is, its entries."""
        head = [line for line in (self.about, f"Crash log: {self.path}") if line]
        return "\n".join(head) + "\n\n" + self.text + "\n"

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.report_text())
        self.status.setText("Copied: paste it into the bug report.")

    def open_folder(self) -> None:
        folder = self.path.parent
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.status.setText(f"No file manager could open {folder}; the path is above.")
