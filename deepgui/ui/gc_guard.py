"""Python's cyclic garbage collection, moved to the GUI thread.

Left to itself the collector runs in whichever thread happens to allocate, such as the training
or shape-inference worker; if it frees a garbage Qt widget there, Qt deadlocks or crashes.
pyqtgraph ships the same idea (`pyqtgraph.util.garbage_collector`), but importing it pulls all of
pyqtgraph into start-up (~0.4 s), so the few lines live here.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    """Disables automatic collection and collects, generation by generation, on a timer."""

    def __init__(self, interval_ms: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        # Like the interpreter's own thresholds: older generations only when younger overflow.
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self.threshold[generation]:
                break
            gc.collect(generation)

    def stop(self) -> None:
        self.timer.stop()
        gc.enable()
