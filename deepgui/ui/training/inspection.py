"""The run the Evaluation tab shows, opened once for its Activations and Why tabs: every
question about it (a layer's output, the explanations) is answered off the GUI thread
(deepgui/ui/tasks.py), from the run's saved model (core: explain_views.Inspection)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from deepgui.core import run_layout
from deepgui.core.explain_views import Inspection
from deepgui.ui.tasks import Background

NO_RUN = "Train a model to look inside it."


class RunInspection(QObject):
    """Asks the opened run; the run is read from `get_run_dir` at each question, since a
    project's first save moves its runs."""

    def __init__(self, get_run_dir: Callable[[], Any], parent=None) -> None:
        super().__init__(parent)
        self.background = Background(self)
        self._get_run_dir = get_run_dir
        self._opened: tuple[tuple, Inspection] | None = None
        self._lock = threading.Lock()  # two questions at once open the run once

    def key(self) -> tuple | None:
        """Which saved model the answers are of: the run and when its model was written (a
        resumed run writes it anew)."""
        run_dir = self._get_run_dir()
        if run_dir is None:
            return None
        model = Path(run_dir) / run_layout.MODEL
        try:
            return (str(run_dir), model.stat().st_mtime_ns)
        except OSError:
            return (str(run_dir), None)

    def ask(self, name: str, question: Callable[[Inspection], Any],
            on_done: Callable[[Any], None], on_error: Callable[[str], None]) -> None:  # fmt: skip
        """`question(inspection)` in the background; its answer, or one sentence, comes back
        to the GUI thread (a newer question of the same name makes an older answer stale)."""
        key = self.key()
        if key is None:
            on_error(NO_RUN)
            return
        self.background.run(name, lambda: question(self._open(key)), on_done, on_error)

    def _open(self, key: tuple) -> Inspection:
        with self._lock:
            if self._opened is None or self._opened[0] != key:
                self._opened = (key, Inspection(key[0]))
            return self._opened[1]

    def wait(self, timeout: float = 30.0) -> None:
        self.background.wait(timeout)


class InspectingView(QWidget):
    """A view of the opened run that reads it only when shown, and again only when the run (or
    its saved model) changed since: the Activations and Why tabs cost nothing until opened."""

    def __init__(self, inspection: RunInspection, parent=None) -> None:
        super().__init__(parent)
        self.inspection = inspection
        self._shown_key = None  # the run (and model) the view holds

    def run_changed(self) -> None:
        """Another run (or none): read it now if shown, else when shown."""
        self._shown_key = None
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._shown_key != self.inspection.key():
            self.refresh()

    def refresh(self) -> None:
        self._shown_key = self.inspection.key()
        self.read_run()

    def read_run(self) -> None:
        """Clear what the view shows and ask the run for what it needs."""
        raise NotImplementedError
