"""The Evaluation tab's Activations page: a layer of the run's saved model (from a list, or
the layer selected on the canvas) and a sample (one of the evaluation samples, or a row or
image of the Data panel's preview), and what that layer
outputs for it: feature maps as an image grid, a vector as a heat strip, a sequence as time
steps by features (core: explain_views decides which, and computes it off the GUI thread)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from deepgui.core.explain_views import MAPS, ActivationPicture, PreviewSample, preview_samples
from deepgui.ui.training.images import to_pixmap
from deepgui.ui.training.inspection import InspectingView, RunInspection

WAITING = "Reading the run's model…"


class ActivationsView(InspectingView):
    def __init__(self, inspection: RunInspection, parent=None) -> None:
        super().__init__(inspection, parent)
        self.picture: ActivationPicture | None = None  # the output drawn
        self._wanted_layer: str | None = None  # the canvas's layer, once the list has it
        self._samples: list = []  # the evaluation samples (explain_views.Explained)
        self._offered: list[PreviewSample] = []  # the data preview's items
        self._fitting: list[PreviewSample] = []  # those the run's model reads
        self.layer_choice = QComboBox()
        self.layer_choice.setToolTip("The layer whose output is shown (or select it on the canvas)")
        self.sample_choice = QComboBox()
        self.sample_choice.setToolTip(
            "One of the evaluation samples, or a row or image of the Data panel's preview"
        )
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.getPlotItem().invertY(True)
        self.plot.getPlotItem().hideAxis("bottom")
        self.plot.getPlotItem().hideAxis("left")
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        self.plot.setMinimumHeight(40)
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        row = QHBoxLayout()
        row.addWidget(QLabel("Layer"))
        row.addWidget(self.layer_choice, 1)
        row.addWidget(QLabel("Sample"))
        row.addWidget(self.sample_choice, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        self.layer_choice.currentIndexChanged.connect(lambda _: self.show_activation())
        self.sample_choice.currentIndexChanged.connect(lambda _: self.show_activation())

    # ------------------------------------------------------------------ the run
    def read_run(self) -> None:
        self.picture = None
        self.image.clear()
        self._fitting = []
        self._fill([], [])
        self.status.setText(WAITING)
        self.inspection.ask("activation-lists", lambda i: (i.layers, i.overview()),
                            lambda lists: self._fill(*lists), self._failed)  # fmt: skip
        self._ask_fitting()

    def _fill(self, layers: list[str], samples: list) -> None:
        self._samples = samples
        for combo in (self.layer_choice, self.sample_choice):
            combo.blockSignals(True)
            combo.clear()
        self.layer_choice.addItems(layers)
        self._fill_samples()
        if self._wanted_layer in layers:
            self.layer_choice.setCurrentText(self._wanted_layer)
        elif layers:  # the last convolution, or the last layer: what the model decided on
            maps = [n for n in layers if "conv" in n.lower()]
            self.layer_choice.setCurrentText((maps or layers)[-1])
        for combo in (self.layer_choice, self.sample_choice):
            combo.blockSignals(False)
        if layers and self.sample_choice.count():
            self.status.setText("")
            self.show_activation()

    def _fill_samples(self) -> None:
        """The evaluation samples, then the preview's items the model reads; the choice kept
        where it is still offered."""
        combo = self.sample_choice
        kept = combo.currentData()
        blocked = combo.blockSignals(True)
        combo.clear()
        for i, s in enumerate(self._samples):
            icon = QIcon(to_pixmap(s.picture, 32)) if _is_image(s.picture) else QIcon()
            combo.addItem(icon, s.label, f"evaluation {i}")
        if self._samples and self._fitting:
            combo.insertSeparator(combo.count())
        for item in self._fitting:
            image_file = item.row is None
            icon = QIcon(QPixmap(item.path).scaled(32, 32)) if image_file else QIcon()
            combo.addItem(icon, item.label, f"preview {item.label}")
        at = combo.findData(kept) if kept is not None else -1
        combo.setCurrentIndex(at if at >= 0 else (0 if combo.count() else -1))
        combo.blockSignals(blocked)

    def set_preview(self, preview: dict | None) -> None:
        """The Data panel shows another preview: its items are offered, once the run's model
        says which it reads (a table's rows only to a model trained on a table)."""
        self._offered = preview_samples(preview)
        if not self._offered:
            self._fitting = []
            self._fill_samples()
            return
        if self._shown_key is not None and self._shown_key == self.inspection.key():
            self._ask_fitting()  # else read with the run, when the view shows it

    def _ask_fitting(self) -> None:
        offered = self._offered
        if offered:  # a run that cannot be read says so through the lists' question
            self.inspection.ask("activation-preview", lambda i: i.fitting(offered),
                                self._preview_fitting, lambda _message: None)  # fmt: skip

    def _preview_fitting(self, fitting: list[PreviewSample]) -> None:
        self._fitting = fitting
        before = self.sample_choice.currentData()
        self._fill_samples()
        if self.layer_choice.count() and self.sample_choice.currentData() != before:
            self.show_activation()

    def follow_layer(self, name: str) -> None:
        """The layer selected on the canvas, when the run's model has it."""
        self._wanted_layer = name
        if self.layer_choice.findText(name) >= 0:
            self.layer_choice.setCurrentText(name)

    # ------------------------------------------------------------------ one output
    def chosen_sample(self) -> int | PreviewSample | None:
        """The sample chosen: an evaluation sample's position, or a preview item."""
        key = self.sample_choice.currentData()
        if not isinstance(key, str):
            return None
        where, _, which = key.partition(" ")
        if where == "evaluation":
            return int(which)
        return next((item for item in self._fitting if item.label == which), None)

    def show_activation(self) -> None:
        layer, sample = self.layer_choice.currentText(), self.chosen_sample()
        if not layer or sample is None:
            return
        self.status.setText(f"Computing {layer}'s output…")
        self.inspection.ask("activation", lambda i: i.layer_output(layer, sample),
                            self._draw, self._failed)  # fmt: skip

    def _draw(self, picture: ActivationPicture) -> None:
        self.picture = picture
        image = picture.image
        finite = image[np.isfinite(image)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.image.setImage(image, levels=(lo, hi if hi > lo else lo + 1))
        self.plot.setAspectLocked(picture.kind == MAPS)
        self.plot.autoRange(padding=0.02)
        self.status.setText(f"{picture.caption}; from {lo:.3g} (dark) to {hi:.3g} (bright).")

    def _failed(self, message: str) -> None:
        self.picture = None
        self.image.clear()
        self.status.setText(message)


def _is_image(picture) -> bool:
    return picture is not None and np.ndim(picture) == 3 and np.shape(picture)[-1] in (1, 3, 4)
