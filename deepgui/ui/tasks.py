"""One plain function at a time in a background thread, its result delivered on the UI thread
through a queued signal. Newer requests supersede older ones: only the latest result counts."""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class LatestTask(QObject):
    """Runs `fn(*args)` off the UI thread; `finished(result)` fires only for the newest call."""

    _done = Signal(int, object)
    finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._counter = itertools.count(1)
        self._latest = 0
        self._done.connect(self._deliver)
        self.busy = False

    def run(self, fn: Callable[..., Any], *args: Any) -> None:
        ticket = next(self._counter)
        self._latest = ticket
        self.busy = True

        def work() -> None:
            try:
                result = fn(*args)
            except Exception as exc:  # reported as the result: the caller decides what to show
                result = exc
            with contextlib.suppress(RuntimeError):  # the owner went away meanwhile
                self._done.emit(ticket, result)

        threading.Thread(target=work, name="ui-task", daemon=True).start()

    def _deliver(self, ticket: int, result: Any) -> None:
        if ticket == self._latest:
            self.busy = False
            self.finished.emit(result)
