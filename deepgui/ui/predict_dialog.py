"""Predict on a file: choose a trained model (a run of the project, or any run folder or
exported model) and raw data (a CSV, an image, an image folder, an .npz); the core predicts in
the background and the dialog shows one row per sample, the summary, and saves the table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.errors import DeepGuiError
from deepgui.core.predict_sources import (
    finished_runs,
    is_model_path,
    model_label,
    project_data_file,
)
from deepgui.core.project import Project
from deepgui.ui.dialogs import ask_replace
from deepgui.ui.tasks import Background
from deepgui.ui.theme import status_color

MODEL_FILTER = "Trained models (*.keras *.h5 *.tflite *.onnx)"
DATA_FILTER = "Data (*.csv *.tsv *.txt *.npz *.png *.jpg *.jpeg *.gif *.bmp)"
REPLACE_PREDICTIONS = (
    "deepgui replaces only a predictions file it wrote; any other file is left as it is."
)


def predict_on(model_path: str, data_path: str):
    """The background job: the core's prediction, every failure as one DeepGuiError sentence
    naming the file (the runtimes raise their own errors, which no user should read)."""
    from deepgui.core.predict import predict_file

    try:
        return predict_file(model_path, data_path)
    except DeepGuiError:
        raise
    except Exception as exc:  # noqa: BLE001 - TensorFlow, ONNX Runtime, PIL: told in a sentence
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise DeepGuiError(
            f"{Path(model_path).name} could not predict on {Path(data_path).name} "
            f"({type(exc).__name__}{': ' + first if first else ''})."
        ) from None


class PredictionsTable(QAbstractTableModel):
    """The predictions' rows as the view asks for them (a file may have many thousands)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.header: list[str] = []
        self.rows: list[list[Any]] = []
        self._wrong: set[int] = set()

    def set_predictions(self, predictions) -> None:
        self.beginResetModel()
        header, rows = predictions.table() if predictions is not None else ([], [])
        self.header = list(header)
        if predictions is not None and predictions.labels is not None:
            self.header[-1] = f"true {header[-1]}"  # the file's own label column, last
        self.rows = rows
        self._wrong = set()
        if predictions is not None and predictions.accuracy is not None:
            truth = [str(v) for v in predictions.labels]
            self._wrong = {i for i, (p, t) in enumerate(zip(predictions.predicted, truth,
                                                             strict=True)) if p != t}  # fmt: skip
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 - Qt override
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802 - Qt override
        return 0 if parent.isValid() else len(self.header)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        value = self.rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and self.header[index.column()].startswith(
            "p("
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and index.row() in self._wrong:
            # A wrong prediction stands out against the file's own label (the look's red: read
            # at each paint, so it follows a light/dark switch).
            return QColor(status_color(False))
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.header[section] if section < len(self.header) else None
        return None


class PredictDialog(QDialog):
    """Non-modal: the window stays usable while a prediction runs."""

    def __init__(
        self, project: Project, parent: QWidget | None = None, model_path: str | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Predict on a file")
        self.setMinimumSize(760, 520)
        self.project = project
        self.predictions = None
        self.background = Background(self)

        self.model = QComboBox()
        self.model.setMinimumContentsLength(40)
        self.model.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        browse_run = QPushButton("Run folder…")
        browse_run.setToolTip("A run directory, or an exported SavedModel folder")
        browse_model = QPushButton("Model file…")
        browse_model.setToolTip("An exported .keras, .tflite or .onnx model")
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(browse_run)
        model_row.addWidget(browse_model)

        self.data = QLineEdit()
        self.data.setPlaceholderText("A CSV (with or without its target), an image, an image "
                                     "folder or an .npz")  # fmt: skip
        browse_file = QPushButton("File…")
        browse_folder = QPushButton("Folder…")
        browse_folder.setToolTip("A folder of images, or one subfolder of images per class")
        data_row = QHBoxLayout()
        data_row.addWidget(self.data, 1)
        data_row.addWidget(browse_file)
        data_row.addWidget(browse_folder)

        form = QFormLayout()
        form.addRow("Model", model_row)
        form.addRow("Data", data_row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(10)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.rows = PredictionsTable(self)
        self.table = QTableView()
        self.table.setModel(self.rows)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long image paths
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

        self.buttons = QDialogButtonBox()
        self.predict_button = self.buttons.addButton(
            "Predict", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.predict_button.setDefault(True)
        self.save_button = self.buttons.addButton(
            "Save as CSV…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.save_button.setEnabled(False)
        close = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)

        browse_run.clicked.connect(self._browse_run)
        browse_model.clicked.connect(self._browse_model)
        browse_file.clicked.connect(self._browse_data_file)
        browse_folder.clicked.connect(self._browse_data_folder)
        self.predict_button.clicked.connect(self.start)
        self.save_button.clicked.connect(self.save_dialog)
        close.clicked.connect(self.reject)
        self.model.currentIndexChanged.connect(self._refresh_buttons)
        self.data.textChanged.connect(self._refresh_buttons)

        self._fill_choices(model_path)

    # ------------------------------------------------------------------ choices
    def _fill_choices(self, model_path: str | None) -> None:
        for label, path in finished_runs(self.project):
            self.model.addItem(label, str(path))
        if model_path:
            self.add_model(model_path)
        base = self.project.path.parent if self.project.path else None
        data = project_data_file(self.project.dataset, base)
        if data is not None:
            self.data.setText(str(data))
        if self.model.count() == 0:
            self._show("No finished run yet: train the model first (F5), or choose a run "
                       "folder or an exported model.", ok=None)  # fmt: skip
        else:
            self._show("Choose the data and press Predict.", ok=None)
        self._refresh_buttons()

    def add_model(self, path: str) -> None:
        """Offer (and choose) a model picked by browsing."""
        i = self.model.findData(str(path))
        if i < 0:
            self.model.addItem(model_label(path), str(path))
            i = self.model.count() - 1
        self.model.setCurrentIndex(i)

    def model_path(self) -> str:
        return str(self.model.currentData() or "")

    def _browse_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Run folder or SavedModel", self._start())
        if not path:
            return
        if not is_model_path(path):
            self._show(f"{path}: holds no model.keras (a run) nor saved_model.pb (a SavedModel).",
                       ok=False)  # fmt: skip
            return
        self.add_model(path)

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Trained model", self._start(), MODEL_FILTER)
        if path:
            self.add_model(path)

    def _browse_data_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Data", self._data_start(), DATA_FILTER)
        if path:
            self.data.setText(path)

    def _browse_data_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Image folder", self._data_start())
        if path:
            self.data.setText(path)

    def _start(self) -> str:
        return str(self.project.path.parent) if self.project.path else ""

    def _data_start(self) -> str:
        text = self.data.text().strip()
        return str(Path(text).parent) if text else self._start()

    def _refresh_buttons(self, *_args) -> None:
        busy = not self.progress.isHidden()  # a prediction is running
        ready = bool(self.model_path() and self.data.text().strip())
        self.predict_button.setEnabled(ready and not busy)
        self.save_button.setEnabled(self.predictions is not None and not busy)

    # ------------------------------------------------------------------ predicting
    def start(self) -> None:
        """Predict in the background; the result or the one-sentence error comes back here."""
        model, data = self.model_path(), self.data.text().strip()
        if not model or not data:
            self._show("Choose a model and the data to predict on.", ok=False)
            return
        self.progress.show()
        self._show(f"Predicting with {model_label(model)} on {Path(data).name}…", ok=None)
        self.background.run("predict", lambda: predict_on(model, data), self._done, self._failed)
        self._refresh_buttons()

    def _done(self, predictions) -> None:
        self.progress.hide()
        self.predictions = predictions
        self.rows.set_predictions(predictions)
        self.table.resizeColumnsToContents()
        self._show(predictions.summary(), ok=True)
        self._refresh_buttons()

    def _failed(self, message: str) -> None:
        self.progress.hide()
        self.predictions = None
        self.rows.set_predictions(None)
        self._show(message, ok=False)
        self._refresh_buttons()

    def wait(self, timeout: float = 120.0) -> None:
        """Wait for a running prediction's thread (tests, closing)."""
        self.background.wait(timeout)

    # ------------------------------------------------------------------ saving
    def save_dialog(self) -> None:
        if self.predictions is None:
            return
        data = Path(self.data.text().strip())
        default = str(data.with_name(f"{data.stem}_predictions.csv"))
        # save() asks before it replaces anything, with deepgui's own rule: not the file
        # dialog too, which would ask a second time and then let any file be replaced.
        path, _ = QFileDialog.getSaveFileName(
            self, "Save predictions", default, "CSV (*.csv)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )  # fmt: skip
        if path:
            self.save(path)

    def save(self, path: str) -> bool:
        """Write the table as `deepgui predict -o` does; the file is replaced whole or not. An
        existing file is replaced only when the user says so, and only if it is a predictions
        file deepgui wrote (the data itself, say, never is)."""
        from deepgui.core.predict import write_predictions

        target = Path(path)
        taken = target.exists() or target.is_symlink()
        if taken and not ask_replace(self, [target], "these predictions", REPLACE_PREDICTIONS):
            self._show(f"Nothing was saved; {target} is as it was.", ok=None)
            return False
        try:
            write_predictions(self.predictions, target, force=taken)
        except DeepGuiError as exc:  # refused, or the disk said no: one sentence naming it
            self._show(str(exc), ok=False)
            return False
        except OSError as exc:
            self._show(f"{path}: could not be written ({exc.strerror or exc}).", ok=False)
            return False
        self._show(f"{self.predictions.summary()} Saved to {path}.", ok=True)
        return True

    def _show(self, text: str, ok: bool | None) -> None:
        color = status_color(False) if ok is False else ""
        self.status.setStyleSheet(f"color: {color};" if color else "")
        self.status.setText(text)
