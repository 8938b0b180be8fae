"""The UI's one helper for background work (importing a model, writing the code panel's script,
loading a preview, checking data against the model, predicting, exporting): a plain thread runs
a plain function, and its result or one-sentence failure comes back to the GUI thread through a
queued signal, so no widget is touched off the GUI thread. Newer jobs of the same name make
older results stale. (Two workers live longer and keep their own threads: shape inference,
which holds its Keras import and cache, and the training run, which is paused and stopped.)"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from deepgui.core.errors import DeepGuiError
from deepgui.core.training.engine import describe_error


class Background(QObject):
    """Runs one job at a time per name; a newer job of the same name makes older results stale.

    Why not superqt's `create_worker`/`thread_worker` (issue 19): its workers are QRunnables on
    Qt's global thread pool, whose threads are not daemons: Qt waits for them when the
    application ends, so quitting during an export or a TensorFlow import hangs until that job
    is done (measured: a 3 s pool job kept the process alive 3.4 s, a daemon thread 0.25 s),
    and a job here cannot be interrupted. It also swaps the process-wide `warnings.showwarning`
    from the pool thread, knows no stale results (the tickets below would stay), and gives
    `wait`/`busy` only for every worker in the process at once. Here each job is a daemon
    thread joined with a timeout, and the result crosses to the GUI thread by a queued signal.
    """

    succeeded = Signal(str, int, object)  # name, ticket, result
    failed = Signal(str, int, str)  # name, ticket, one-sentence message

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._tickets: dict[str, int] = {}
        self._handlers: dict[str, tuple[Callable, Callable]] = {}
        self._threads: list[threading.Thread] = []
        self.succeeded.connect(self._on_succeeded)
        self.failed.connect(self._on_failed)

    def run(self, name: str, fn: Callable[[], Any], on_done: Callable[[Any], None],
            on_error: Callable[[str], None]) -> int:  # fmt: skip
        ticket = self._tickets.get(name, 0) + 1
        self._tickets[name] = ticket
        self._handlers[name] = (on_done, on_error)

        def job() -> None:
            try:
                result = fn()
            except DeepGuiError as exc:
                outcome = (self.failed, str(exc))
            except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
                outcome = (self.failed, describe_error(exc))
            else:
                outcome = (self.succeeded, result)
            # The widget may have been closed meanwhile; then nobody is waiting for the answer.
            with contextlib.suppress(RuntimeError):
                outcome[0].emit(name, ticket, outcome[1])

        thread = threading.Thread(target=job, name=f"deepgui-{name}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return ticket

    def busy(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def wait(self, timeout: float = 5.0) -> None:
        for t in list(self._threads):
            t.join(timeout)

    def _on_succeeded(self, name: str, ticket: int, result: Any) -> None:
        if self._tickets.get(name) == ticket:
            self._handlers[name][0](result)

    def _on_failed(self, name: str, ticket: int, message: str) -> None:
        if self._tickets.get(name) == ticket:
            self._handlers[name][1](message)
