"""The Export dialog: pick what to export (a training run's model, or the project as it is),
the format and its options, and a path; the export and its self-check run in the background
and the dialog shows the check's result."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.errors import DeepGuiError
from deepgui.core.project import Project
from deepgui.ui.dialogs import ask_replace
from deepgui.ui.tasks import Background
from deepgui.ui.theme import status_color

# (key, label, suffix, needs a run) — "csv" and "svg" are a run's history and curves.
FORMATS = [
    ("keras", "Keras model (.keras)", ".keras", False),
    ("savedmodel", "TensorFlow SavedModel (folder)", "", False),
    ("tflite", "TensorFlow Lite / LiteRT (.tflite)", ".tflite", False),
    ("onnx", "ONNX (.onnx)", ".onnx", False),
    ("python", "Python script that rebuilds and trains it (.py)", ".py", False),
    ("csv", "Training history (.csv)", ".csv", True),
    ("svg", "Training curves (.svg)", ".svg", True),
]
REPLACE_EXPORT = "deepgui replaces only an earlier export it wrote; anything else is left as it is."
QUANTIZE = [
    ("none", "None (float32)"),
    ("float16", "float16 weights"),
    ("dynamic", "Dynamic range"),
]


def export_sources(project: Project) -> list[tuple[str, object]]:
    """(label, source) pairs: each finished run of the project, saved or not (newest first),
    then the project itself (its graph with saved weights, if any)."""
    from deepgui.core.training.runs import project_runs

    sources: list[tuple[str, object]] = []
    for run in project_runs(project):
        if not run.has_model:
            continue
        m = run.metrics
        best = m.get("best") or {}
        values = best.get("metrics") or {}
        shown = [k for k in ("val_accuracy", "val_loss") if isinstance(values.get(k), float)]
        detail = ", ".join(f"{k} {values[k]:.4g}" for k in shown)
        if detail:
            detail = f"epoch {best.get('epoch')}: {detail}"
        label = f"Run {run.name}: {m.get('epochs_run', '?')} epochs, {m.get('stopped_by', '?')}"
        label += f" (best {detail})" if detail else ""
        what = run.describe()
        sources.append((f"{label} — {what}" if what else label, run.path))
    weights = project.weights_path
    state = "with its saved weights" if weights and weights.exists() else "untrained"
    sources.append((f"The model in the editor ({state})", project))
    return sources


class ExportDialog(QDialog):
    export_done = Signal(object)  # ExportReport or an error message (str)

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(620)
        self.resize(760, 10)
        self.project = project
        self.report = None
        self.background = Background(self)

        self.source = QComboBox()
        for label, source in export_sources(project):
            self.source.addItem(label, source)
            self.source.setItemData(self.source.count() - 1, label, Qt.ItemDataRole.ToolTipRole)
        # A run's long description must not make the dialog as wide as the screen.
        self.source.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.source.setMinimumContentsLength(40)
        self.source.view().setTextElideMode(Qt.TextElideMode.ElideRight)
        self.format = QComboBox()
        for key, label, _suffix, _run in FORMATS:
            self.format.addItem(label, key)
        self.quantize = QComboBox()
        for key, label in QUANTIZE:
            self.quantize.addItem(label, key)
        self.opset = QSpinBox()
        self.opset.setRange(9, 21)
        self.opset.setValue(13)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)

        form = QFormLayout()
        form.addRow("Export", self.source)
        form.addRow("Format", self.format)
        self._quantize_label = QLabel("TFLite quantization")
        form.addRow(self._quantize_label, self.quantize)
        self._opset_label = QLabel("ONNX opset")
        form.addRow(self._opset_label, self.opset)
        form.addRow("Save to", path_row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.result = QLabel("Every export is loaded back in its own runtime and compared with "
                             "the Keras model on sample inputs.")  # fmt: skip
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start_export)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.result)
        layout.addWidget(self.buttons)

        self.format.currentIndexChanged.connect(self._format_changed)
        self.source.currentIndexChanged.connect(self._format_changed)
        self.export_done.connect(self._finished)  # emitted from the worker: queued to here
        self._format_changed()

    # ------------------------------------------------------------------ state
    def _format_key(self) -> str:
        return self.format.currentData()

    def _format_changed(self) -> None:
        key = self._format_key()
        for widget in (self._quantize_label, self.quantize):
            widget.setVisible(key == "tflite")
        for widget in (self._opset_label, self.opset):
            widget.setVisible(key == "onnx")
        suffix = next(s for k, _l, s, _r in FORMATS if k == key)
        base = self.project.path.parent if self.project.path else Path.cwd()
        self.path.setText(str(base / f"{self.project.name}{suffix if suffix else '_savedmodel'}"))
        self.export_button.setEnabled(self.problem() is None)
        problem = self.problem()
        if problem:
            self._show(problem, ok=False)

    def problem(self) -> str | None:
        needs_run = next(r for k, _l, _s, r in FORMATS if k == self._format_key())
        if needs_run and isinstance(self.source.currentData(), Project):
            return (
                "The history and its curves come from a training run: train first, or pick a run."
            )
        return None

    def options(self) -> dict:
        key = self._format_key()
        if key == "tflite" and self.quantize.currentData() != "none":
            return {"quantize": self.quantize.currentData()}
        if key == "onnx":
            return {"opset": self.opset.value()}
        return {}

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text())
        if path:
            self.path.setText(path)

    # ------------------------------------------------------------------ export
    def start_export(self) -> None:
        """Run the export and its check in a worker thread; the window stays responsive."""
        if self.background.busy():
            return
        path = self.path.text().strip()
        if not path:
            self._show("Choose where to save the export.", ok=False)
            return
        source, fmt, options = self.source.currentData(), self._format_key(), self.options()
        # The user is asked before anything they have is replaced; Yes is the CLI's --force,
        # with which the core still replaces only what deepgui itself wrote there.
        taken = existing_outputs(source, fmt, path)
        force = bool(taken)
        if taken and not ask_replace(self, taken, "this export", REPLACE_EXPORT):
            self._show("Nothing was exported; choose another name to keep both.", ok=None)
            return
        if isinstance(source, Project):
            source = _detached(source)
        self.export_button.setEnabled(False)
        self.progress.show()
        self._show("Exporting and checking…", ok=None)
        from deepgui.core.export import export_project

        self.background.run(
            "export", lambda: export_project(source, fmt, path, force=force, **options),
            self.export_done.emit, self.export_done.emit,
        )  # fmt: skip

    def _finished(self, outcome) -> None:
        self.progress.hide()
        self.export_button.setEnabled(True)
        if isinstance(outcome, str):
            self._show(outcome, ok=False)
            return
        self.report = outcome
        self._show(result_text(outcome), ok=outcome.ok)

    def wait(self, timeout: float = 120.0) -> bool:
        """Wait for a running export (tests, and closing while one runs)."""
        self.background.wait(timeout)
        return not self.background.busy()

    def reject(self) -> None:
        if self.background.busy():
            self._show("An export is still running; it finishes in the background.", ok=None)
        super().reject()

    def _show(self, text: str, ok: bool | None) -> None:
        color = "" if ok is None else status_color(ok)
        self.result.setStyleSheet(f"color: {color};" if color else "")
        self.result.setText(text)


def result_text(report) -> str:
    """What the dialog says about a finished export. One that failed its own check must not
    read as a success: it says so first, then whether the file was kept."""
    message = report.message.strip()
    if report.ok:
        return f"✓ {message}"
    if not getattr(report, "kept", True):
        return f"✗ {message}"  # the core's sentence says what was deleted and what was left
    path = Path(report.path)
    return (f"✗ The export failed its check. {message} The file at {path} did not pass: "
            "do not use it.")  # fmt: skip


def existing_outputs(source: object, fmt: str, path: str) -> list[Path]:
    """What an export of `source` as `fmt` to `path` would write over: the artefact (the
    format's suffix added as the core adds it) and the files written beside it (a run's
    signature; a script's weights and signature). A name the core refuses anyway (a wrong
    suffix) gives none: the export then says why."""
    suffix = next(s for k, _l, s, _r in FORMATS if k == fmt)
    target = Path(path).expanduser()
    if suffix and target.suffix.lower() != suffix:
        if target.suffix:
            return []
        target = target.with_suffix(suffix)
    beside: list[Path] = []
    if not isinstance(source, Project):  # a run: its signature and weights go beside
        if fmt == "python":
            stem = target.stem
            beside = [target.with_name(f"{stem}.weights.h5"),
                      target.with_name(f"{stem}.signature.json")]  # fmt: skip
        elif fmt not in ("csv", "svg") and _has_signature(source):
            from deepgui.core.signature import sidecar_path

            beside = [sidecar_path(target)]
    return [p for p in (target, *beside) if p.exists() or p.is_symlink()]


def _has_signature(run) -> bool:
    from deepgui.core import signature

    try:
        return signature.find(run) is not None
    except DeepGuiError:
        return False  # a damaged one: the export names it


def _detached(project: Project) -> Project:
    """The project as it is now, so edits made while the export runs don't reach it."""
    return project.snapshot()
