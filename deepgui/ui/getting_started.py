"""Help > Getting Started: the five steps from a model on the canvas to predictions on new data
(build, data, train, export, predict), shown once on the first launch and from the Help menu.

Short on purpose: one sentence or two a step, each naming the menu, panel or key that does it,
so a newcomer can follow it with the window beside it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

TITLE = "Getting started with deepgui"
INTRO = (
    "Five steps take you from a model to predictions on new data. The example that opens on "
    "the first start already has a model and data: press <b>F5</b> to watch it train."
)
# (what the step is called, what to do, in the words the window itself uses)
STEPS = (
    ("Build the model",
     "Drag layers from the <b>Layers</b> list onto the canvas (or press <b>Ctrl+K</b> and type "
     "a name), then drag from a layer's bottom port to the next layer's top port. Each box "
     "shows its output shape; the <b>Inspector</b> edits the selected layer."),
    ("Choose the data",
     "In the <b>Training</b> tab at the bottom, pick the <b>Source</b>: a built-in sample, a "
     "CSV file (and the column to predict), a folder of images with one subfolder per class, "
     "or a NumPy .npz file."),
    ("Train: press F5",
     "<b>F5</b> (Run ▸ Train) trains the model and plots its loss and accuracy as it learns. "
     "A banner says when it starts to overfit, with remedies. <b>Shift+F5</b> stops."),
    ("Export",
     "<b>File ▸ Export…</b> (Ctrl+E) saves the trained model as a .keras file, a SavedModel, "
     "TFLite, ONNX or a Python script, and checks that the file answers as the model does."),
    ("Predict",
     "<b>Run ▸ Predict on a File…</b> runs the trained model on new data: a CSV, an image, a "
     "folder of images or an .npz file, with one row per sample."),
)  # fmt: skip
OUTRO = (
    "<b>File ▸ Save</b> keeps the project with its runs. This page is under "
    "<b>Help ▸ Getting Started</b>; <b>F1</b> lists the keyboard shortcuts."
)


WIDTH = 600


class GettingStartedDialog(QDialog):
    """The steps as a short numbered page; not modal, so the window can be tried beside it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setObjectName("getting_started")
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        heading = QLabel(f"<h2 style='margin:0'>{TITLE}</h2>")
        layout.addWidget(heading)
        layout.addWidget(_text(INTRO))
        steps = QGridLayout()
        steps.setHorizontalSpacing(12)
        steps.setVerticalSpacing(10)
        for row, (name, what) in enumerate(STEPS):
            number = QLabel(str(row + 1))
            number.setObjectName("step_number")
            number.setAlignment(Qt.AlignmentFlag.AlignCenter)
            number.setFixedSize(28, 28)
            # The accent colour of the palette, so it reads in light and dark themes alike.
            number.setStyleSheet(
                "QLabel#step_number { border-radius: 14px; font-weight: bold;"
                " background: palette(highlight); color: palette(highlighted-text); }"
            )
            steps.addWidget(number, row, 0, Qt.AlignmentFlag.AlignTop)
            steps.addWidget(_text(f"<b>{name}</b><br>{what}"), row, 1)
        steps.setColumnStretch(1, 1)
        layout.addLayout(steps)
        layout.addWidget(_text(OUTRO))
        layout.addStretch(1)  # a taller window grows below the text, not between its lines
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        layout.addWidget(buttons)
        self.setMinimumWidth(WIDTH - 40)
        # Wrapped text: the height the page needs at its width, not the generic size hint.
        self.resize(WIDTH, layout.totalHeightForWidth(WIDTH))

    def text(self) -> str:
        """Everything the page says (its labels' rich text, in order)."""
        return "\n".join(label.text() for label in self.findChildren(QLabel))


def _text(html: str) -> QLabel:
    label = QLabel(html)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    return label
