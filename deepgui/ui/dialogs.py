"""Every question the app asks the user, in one replaceable object, so tests can answer them
without a modal dialog."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

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
