"""The training worker: a QObject moved to a QThread that runs the core engine.

The worker thread never touches a widget: the engine's events become Qt signals, which reach
the panel queued on the GUI thread. Control (stop, pause, resume) comes from the GUI thread and
only flips the engine's flags, so it never blocks. TensorFlow is first imported here, in the
background, when the first run starts.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from deepgui.core.errors import DeepGuiError
from deepgui.core.project import Project
from deepgui.core.training.engine import TrainingListener, describe_error
from deepgui.core.training.run import Run, RunRequest


def snapshot_project(project: Project) -> Project:
    """A detached copy the worker may read while the user keeps editing the original."""
    return project.snapshot()


# Batches are handed to the GUI thread in bundles at most this often: every queued call makes
# the GUI thread take the GIL from the training thread, and hundreds a second slow it down.
EMIT_EVERY = 0.03


class _Relay(TrainingListener):
    """Engine events (worker thread) -> the worker's signals. Plain values only."""

    def __init__(self, worker: TrainingWorker) -> None:
        self.w = worker
        self._t_batch = 0.0
        self._t_emit = 0.0
        self._pending: list[tuple[int, dict[str, float], float]] = []

    def flush(self) -> None:
        if self._pending:
            bundle, self._pending = self._pending, []
            self._t_emit = time.perf_counter()
            self.w.batches_ended.emit(bundle)

    def started(self, steps_per_epoch, epochs, initial_epoch, info):
        self._t_batch = time.perf_counter()
        self.w.started.emit(int(steps_per_epoch), int(epochs), int(initial_epoch), dict(info))

    def epoch_started(self, epoch):
        self._t_batch = time.perf_counter()
        self.w.epoch_started.emit(int(epoch))

    def batch_ended(self, step, logs):
        now = time.perf_counter()
        seconds, self._t_batch = now - self._t_batch, now
        values = {k: float(v) for k, v in (logs or {}).items()}
        self._pending.append((int(step), values, seconds))
        if now - self._t_emit >= EMIT_EVERY:
            self.flush()

    def epoch_ended(self, epoch, logs):
        self.flush()
        # The engine's epoch logs carry the learning rate (engine.py), a worker process's too.
        values = {k: float(v) for k, v in (logs or {}).items()}
        self.w.epoch_ended.emit(int(epoch), values)

    def overfitting_detected(self, report):
        self.w.overfitting_detected.emit(report)

    def waiting(self, text):
        """A run on several machines waits for its other ranks: say so, with their command."""
        self.w.status.emit(str(text))

    def paused(self):
        self.flush()
        self.w.paused.emit()

    def resumed(self):
        self._t_batch = time.perf_counter()  # the pause is not batch time
        self.w.resumed.emit()

    def finished(self, reason, metrics):
        self.flush()
        self.w._reason, self.w._metrics = reason, metrics


class TrainingWorker(QObject):
    """Drives one run of the core (core/training/run.py) in its thread, as `deepgui train`
    does in a terminal: plan, train, and the evaluation the Training panel shows."""

    status = Signal(str)  # what it is doing before the first batch ("Loading data…")
    started = Signal(int, int, int, object)  # steps per epoch, epochs, initial epoch, info
    epoch_started = Signal(int)
    # [(step in epoch, logs, seconds since the previous batch), ...], oldest first
    batches_ended = Signal(object)
    epoch_ended = Signal(int, object)
    overfitting_detected = Signal(object)  # OverfittingReport (remedies filled by the engine)
    paused = Signal()
    resumed = Signal()
    finished = Signal(str, object, object)  # reason, metrics, evaluation dict (or None)

    def __init__(self, project: Project, run_dir: Path | None, data=None) -> None:
        super().__init__()
        self.project = snapshot_project(project)
        # `data`: LoadedData the caller holds already (benchmarks), else the run loads it.
        self.training_run = Run(self.project, RunRequest(out=run_dir), data=data)
        self.model = None
        self._reason = "error"
        self._metrics: dict[str, Any] = {}

    @property
    def engine(self):
        return self.training_run.engine

    @property
    def data(self):
        return self.training_run.data

    # ------------------------------------------------------------------ control (GUI thread)
    def stop(self) -> None:
        self.training_run.stop()

    def pause(self) -> None:
        self.training_run.pause()

    def resume(self) -> None:
        self.training_run.resume_training()

    # ------------------------------------------------------------------ the run (worker thread)
    @Slot()
    def run(self) -> None:
        evaluation = None
        try:
            reason, metrics, evaluation = self._run()
        except Exception as exc:  # noqa: BLE001 - a failure is an outcome, never a crash
            reason, metrics = "error", {"stopped_by": "error", "message": describe_error(exc)}
        self.finished.emit(reason, metrics, evaluation)

    def _run(self):
        from deepgui.core.training import engines

        the_run, relay = self.training_run, _Relay(self)
        try:
            # The same decisions as `deepgui train`: resume a stopped run in place, or start
            # a new one, with the project's data and settings (its folder locked meanwhile).
            the_run.plan(relay)
        except DeepGuiError as exc:
            return "error", {"stopped_by": "error", "message": str(exc)}, None
        try:
            note = f" ({the_run.note})" if the_run.note else ""
            self.status.emit(
                "Resuming from the last finished epoch…"
                if the_run.resume
                else f"Starting {engines.LABELS[the_run.engine_name]}{note}…"
            )
            result = the_run.train(relay)
            self.model = result.model
            # (Running the model here is TensorFlow work in this thread, never the GUI's.)
            evaluation = the_run.evaluation(result)
        finally:
            the_run.release()
        return result.reason, result.metrics, evaluation


# Jobs whose thread is alive. A QThread destroyed while running aborts the process, so a job is
# never owned by a widget: it is kept here until its thread has finished.
_LIVE: set[ThreadJob] = set()


class ThreadJob(QObject):
    """A worker object (a `run` slot, a `finished` signal) on a thread of its own: a run, a
    sweep; kept alive until the thread has ended."""

    def __init__(self, worker: QObject, name: str) -> None:
        super().__init__()
        self.thread = QThread()
        self.thread.setObjectName(name)
        self.worker = worker
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # Direct: quit() is thread-safe, and a queued call would wait for a GUI thread that
        # may itself be waiting for this thread (shutdown).
        self.worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)

    def start(self) -> None:
        # The worker's thread holds the GIL between TensorFlow ops; with Python's default 5 ms
        # switch interval the GUI thread can wait several intervals for it, so ask for 1 ms.
        sys.setswitchinterval(min(sys.getswitchinterval(), 0.001))
        _LIVE.add(self)
        self.thread.finished.connect(lambda: _LIVE.discard(self))
        self.thread.start()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def wait(self, timeout_ms: int) -> bool:
        """Wait for the thread to end (bounded). True when it has."""
        if not self.thread.isRunning():
            return True
        return self.thread.wait(max(0, int(timeout_ms)))


class TrainingRun(ThreadJob):
    """One run: its worker on the training thread."""

    def __init__(self, project: Project, run_dir: Path | None, data=None) -> None:
        super().__init__(TrainingWorker(project, run_dir, data), "training")
        self.done = False
