"""The Evaluation tab's Activations page: a layer of the run's saved model (from a list, or
the layer selected on the canvas) and one of the evaluation samples, and what that layer
outputs for it: feature maps as an image grid, a vector as a heat strip, a sequence as time
steps by features (core: explain_views decides which, and computes it off the GUI thread)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from deepgui.core.explain_views import MAPS, ActivationPicture
from deepgui.ui.training.images import to_pixmap
from deepgui.ui.training.inspection import InspectingView, RunInspection

WAITING = "Reading the run's model…"


class ActivationsView(InspectingView):
    def __init__(self, inspection: RunInspection, parent=None) -> None:
        super().__init__(inspection, parent)
        self.picture: ActivationPicture | None = None  # the output drawn
        self._wanted_layer: str | None = None  # the canvas's layer, once the list has it
        self.layer_choice = QComboBox()
        self.layer_choice.setToolTip("The layer whose output is shown (or select it on the canvas)")
        self.sample_choice = QComboBox()
        self.sample_choice.setToolTip("One of the evaluation samples")
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
        self._fill([], [])
        self.status.setText(WAITING)
        self.inspection.ask("activation-lists", lambda i: (i.layers, i.overview()),
                            lambda lists: self._fill(*lists), self._failed)  # fmt: skip

    def _fill(self, layers: list[str], samples: list) -> None:
        for combo in (self.layer_choice, self.sample_choice):
            combo.blockSignals(True)
            combo.clear()
        self.layer_choice.addItems(layers)
        for s in samples:
            icon = QIcon(to_pixmap(s.picture, 32)) if _is_image(s.picture) else QIcon()
            self.sample_choice.addItem(icon, s.label)
        if self._wanted_layer in layers:
            self.layer_choice.setCurrentText(self._wanted_layer)
        elif layers:  # the last convolution, or the last layer: what the model decided on
            maps = [n for n in layers if "conv" in n.lower()]
            self.layer_choice.setCurrentText((maps or layers)[-1])
        for combo in (self.layer_choice, self.sample_choice):
            combo.blockSignals(False)
        if layers and samples:
            self.status.setText("")
            self.show_activation()

    def follow_layer(self, name: str) -> None:
        """The layer selected on the canvas, when the run's model has it."""
        self._wanted_layer = name
        if self.layer_choice.findText(name) >= 0:
            self.layer_choice.setCurrentText(name)

    # ------------------------------------------------------------------ one output
    def show_activation(self) -> None:
        layer, sample = self.layer_choice.currentText(), self.sample_choice.currentIndex()
        if not layer or sample < 0:
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
