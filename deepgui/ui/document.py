"""The open project as the UI sees it: the core's Project plus Qt signals.

Every edit goes through `push` (a core command on the project's undo stack). Graph events are
forwarded as a Qt signal so views re-render what changed, and shape inference is re-run,
debounced, in the worker thread after any edit that can change a shape.
"""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from deepgui.core.commands import Command
from deepgui.core.errors import DeepGuiError
from deepgui.core.project import Project
from deepgui.ui.inference import InferenceResult, InferenceWorker, snapshot

# Moving a layer changes no shape, so it does not re-run inference.
_SHAPE_EVENTS = {"node_added", "node_removed", "node_changed", "edge_added", "edge_removed"}


class Document(QObject):
    graph_changed = Signal(str, object)  # (event, payload) exactly as the core announced it
    project_replaced = Signal()
    info_changed = Signal()  # new shapes, parameter counts and problems
    undo_changed = Signal()
    message = Signal(str)  # one sentence for the status bar
    keras_loaded = Signal()
    marks_changed = Signal(str, str)  # (layer id or "training", key): a sweep mark set or cleared

    def __init__(self, project: Project | None = None, debounce_ms: int = 120, parent=None) -> None:
        super().__init__(parent)
        self.project = project or Project()
        self.info: dict[str, Any] = {}  # node id -> shapes.NodeInfo
        self.problems: list[tuple[str, str, str]] = []
        self.inference_pending = False
        self.display_name: str | None = None  # set while an imported model is unsaved
        self.edits = 0  # counts undo-stack changes, so autosave knows when there is news
        self._generations = itertools.count(1)
        self._generation = 0
        self._first_generation = 0  # results older than the current project are dropped
        self._key = object()
        self._started = False  # Keras loads only once the window has painted
        self._worker = InferenceWorker(self)
        self._worker.finished.connect(self._on_inferred)
        self._worker.keras_loaded.connect(self._on_keras_loaded)
        self._worker.keras_failed.connect(self.message)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._request_inference)
        self._attach(self.project)

    # ------------------------------------------------------------------ project
    @property
    def graph(self):
        return self.project.graph

    @property
    def keras_ready(self) -> bool:
        return self._worker.ready

    def set_project(self, project: Project) -> None:
        self.project.graph.unsubscribe(self._on_graph_event)
        self.project = project
        self.info, self.problems = {}, []
        self._key = object()
        self._attach(project)
        self._first_generation = self._generation + 1
        self.project_replaced.emit()
        self.undo_changed.emit()
        self.info_changed.emit()
        self.schedule_inference(now=True)

    def _attach(self, project: Project) -> None:
        project.graph.subscribe(self._on_graph_event)
        stack = project.undo

        def changed() -> None:
            if stack is self.project.undo:
                self.edits += 1
                self.undo_changed.emit()

        stack.subscribe(changed)
        marks = project.marks

        def marked(owner: str, key: str) -> None:
            if marks is self.project.marks:
                self.marks_changed.emit(owner, key)

        marks.subscribe(marked)

    def files_name(self) -> str:
        """The name the project goes by (an imported model: its file's name)."""
        if self.project.path is None and self.display_name:
            return self.display_name
        return self.project.name

    @property
    def is_dirty(self) -> bool:
        return not self.project.undo.is_clean

    # ------------------------------------------------------------------ edits
    def push(self, command: Command) -> bool:
        """Apply one undoable edit; a refused edit becomes a status message, not an exception."""
        try:
            self.project.undo.push(command)
        except DeepGuiError as exc:
            self.message.emit(str(exc))
            return False
        return True

    def undo(self) -> None:
        self._guarded(self.project.undo.undo)

    def redo(self) -> None:
        self._guarded(self.project.undo.redo)

    def _guarded(self, action) -> None:
        try:
            action()
        except DeepGuiError as exc:
            self.message.emit(str(exc))

    def _on_graph_event(self, event: str, payload: Any) -> None:
        self.graph_changed.emit(event, payload)
        if event in _SHAPE_EVENTS:
            self.schedule_inference()

    # ------------------------------------------------------------------ inference
    def start_inference(self) -> None:
        """Load Keras in the background (after the window has painted) and infer shapes."""
        self._started = True
        self._worker.start()
        self.schedule_inference(now=True)

    def schedule_inference(self, now: bool = False) -> None:
        self.inference_pending = True
        if now:
            self._timer.start(0)
        else:
            self._timer.start()

    def _request_inference(self) -> None:
        if not self._started:
            return
        self._generation = next(self._generations)
        self._worker.request(self._key, snapshot(self.graph), self._generation)

    def _on_keras_loaded(self) -> None:
        self.keras_loaded.emit()
        self.message.emit("Keras loaded: shapes are up to date.")

    def _on_inferred(self, result: InferenceResult) -> None:
        if result.generation < self._first_generation:
            return
        self.info = result.info
        self.problems = [p for p in result.problems if not p[0] or p[0] in self.graph.nodes]
        self.inference_pending = result.generation != self._generation or self._timer.isActive()
        self.info_changed.emit()

    def shutdown(self, wait_s: float = 0.0) -> None:
        self._timer.stop()
        self._worker.stop()
        if wait_s:
            self._worker.join(wait_s)
