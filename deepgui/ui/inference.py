"""Shape inference off the UI thread.

Importing Keras (TensorFlow) takes seconds and inferring a large graph can take a second more,
so both happen in one worker thread. The UI thread hands over a snapshot of the graph (never
the live graph, which it keeps editing); the worker answers through a queued Qt signal, so no
Qt object is touched outside the UI thread. Requests that arrive while the worker is busy
collapse into the newest one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from deepgui.core.graph import Graph


@dataclass
class InferenceResult:
    """What one inference run found, for one generation of one project."""

    generation: int
    info: dict = field(default_factory=dict)  # node id -> shapes.NodeInfo
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def snapshot(graph: Graph) -> Graph:
    """A detached copy the worker may read while the UI edits the original. Revisions are kept
    so the worker's cache still recognises unchanged layers."""
    return graph.snapshot()


class InferenceWorker(QObject):
    """Owns one background thread: imports Keras once, then runs ShapeInference on request."""

    keras_loaded = Signal()
    keras_failed = Signal(str)
    finished = Signal(object)  # InferenceResult

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: tuple[object, Graph, int] | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self.ready = False

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shape-inference", daemon=True)
            self._thread.start()

    def request(self, key: object, graph: Graph, generation: int) -> None:
        """Infer `graph` (a snapshot) for project `key`; only the newest request is kept."""
        with self._lock:
            self._pending = (key, graph, generation)
        self._wake.set()
        self.start()

    def stop(self) -> None:
        self._closing = True
        self._wake.set()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end (an import of TensorFlow in flight finishes first:
        leaving the interpreter under it can crash at exit). True when it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            from deepgui.core.keras_layers import keras

            keras()
            from deepgui.core.shapes import ShapeInference
        except Exception as exc:  # a broken TensorFlow install must not take the window down
            self._emit(
                self.keras_failed, f"Keras could not be loaded, so shapes are unknown: {exc}"
            )
            return
        self.ready = True
        if not self._emit(self.keras_loaded):
            return
        engine: ShapeInference | None = None
        engine_key: object = None
        while not self._closing:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                job, self._pending = self._pending, None
            if job is None or self._closing:
                continue
            key, graph, generation = job
            if engine is None or key != engine_key:
                engine, engine_key = ShapeInference(graph), key
            engine.graph = graph
            try:
                info = dict(engine.update())
                problems = engine.problems()
            except Exception as exc:  # inference must never kill the worker
                info, problems = {}, [("", "error", f"Shape inference failed: {exc}")]
            if not self._emit(self.finished, InferenceResult(generation, info, problems)):
                return

    def _emit(self, signal, *args) -> bool:
        """Emit unless the window went away meanwhile (then the thread just ends)."""
        if self._closing:
            return False
        try:
            signal.emit(*args)
        except RuntimeError:  # the Qt side was deleted
            self._closing = True
            return False
        return True
