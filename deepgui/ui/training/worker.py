"""The training worker: a QObject moved to a QThread that runs the core engine.

The worker thread never touches a widget: the engine's events become Qt signals, which reach
the panel queued on the GUI thread. Control (stop, pause, resume) comes from the GUI thread and
only flips the engine's flags, so it never blocks. TensorFlow is first imported here, in the
background, when the first run starts.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from deepgui.core.errors import DeepGuiError
from deepgui.core.project import Project
from deepgui.core.training.engine import TrainingListener, describe_error


def snapshot_project(project: Project) -> Project:
    """A detached copy the worker may read while the user keeps editing the original."""
    return project.snapshot()


def current_learning_rate(engine) -> float | None:
    """The optimizer's learning rate now (schedules included); read in the worker thread."""
    try:
        import keras

        return float(keras.ops.convert_to_numpy(engine.model.optimizer.learning_rate))
    except Exception:  # noqa: BLE001 - a missing read-out must never stop training
        return None


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
        values = {k: float(v) for k, v in (logs or {}).items()}
        if "learning_rate" not in values:  # Keras logs it only with some callbacks
            rate = current_learning_rate(self.w.engine)
            if rate is not None:
                values["learning_rate"] = rate
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
    """Loads the data, runs one `TrainingEngine`, then computes the evaluation."""

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
        self.run_dir = run_dir
        self.data = data  # LoadedData given by the caller (benchmarks), else loaded here
        self.engine = None
        self.model = None
        self._lock = threading.Lock()
        self._stop = False
        self._pause = False
        self._reason = "error"
        self._metrics: dict[str, Any] = {}

    # ------------------------------------------------------------------ control (GUI thread)
    def stop(self) -> None:
        with self._lock:
            self._stop = True
            if self.engine is not None:
                self.engine.stop()

    def pause(self) -> None:
        with self._lock:
            self._pause = True
            if self.engine is not None:
                self.engine.pause()

    def resume(self) -> None:
        with self._lock:
            self._pause = False
            if self.engine is not None:
                self.engine.resume()

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
        from deepgui.core.training.prepare import prepare_run

        try:
            # The same decisions as `deepgui train`: resume a stopped run in place, or start
            # a new one, with the project's data and settings (its folder locked meanwhile).
            prepared = prepare_run(self.project, self.run_dir)
        except DeepGuiError as exc:
            return "error", {"stopped_by": "error", "message": str(exc)}, None
        try:
            return self._train(prepared)
        finally:
            prepared.release()

    def _train(self, prepared):
        from deepgui.core.training import distributed, engines
        from deepgui.core.training.evaluation import evaluate, from_worker
        from deepgui.core.training.outputs import engine_for, refuse_cluster

        config = prepared.config
        try:
            if self.data is None or prepared.resume:
                self.status.emit("Loading data…")
                self.data = prepared.load_data()
            project = prepared.project
            cluster = distributed.cluster_of(config, prepared.resume)
            several = engine_for(self.data, config.engine)  # several outputs: TensorFlow here
            if cluster is not None:
                refuse_cluster(self.data)
                # JAX, or TensorFlow for a model JAX cannot train (the engine choice is a
                # one-machine setting; the Training panel says so).
                self.status.emit("Checking that JAX can train this model…")
                cluster, note = engines.resolve_cluster("auto", project, self.data, config,
                                                        cluster)  # fmt: skip
                chosen, note = cluster.engine, f"rank 0 of {cluster.world}: {note}"
            elif several is not None:
                chosen, note = several
            else:
                if config.engine == "auto":
                    self.status.emit("Measuring which engine trains this model fastest…")
                chosen, note = engines.resolve(config.engine, project, self.data, config)
        except DeepGuiError as exc:
            return "error", {"stopped_by": "error", "message": str(exc)}, None
        if self._stop:
            return "user", {"stopped_by": "user", "message": "Stopped before training began."}, None
        self.status.emit(
            "Resuming from the last finished epoch…"
            if prepared.resume
            else f"Starting {engines.LABELS[chosen]}{f' ({note})' if note else ''}…"
        )
        engine = engines.make_engine(
            chosen, project, self.data, config, _Relay(self),
            dataset_spec=getattr(self.data, "spec", None) or prepared.spec,
            run_dir=prepared.run_dir, resume=prepared.resume, cluster=cluster,
        )  # fmt: skip
        with self._lock:
            self.engine = engine
            if self._stop:
                engine.stop()
            if self._pause:
                engine.pause()
        result = engine.run()
        self.model = result.model
        # The engine in this process has evaluated the saved model already; a worker process's
        # evaluation came back in its metrics, without the images, which this process has.
        # (Running the model here would be TensorFlow work holding the GUI's interpreter.)
        evaluation = getattr(result, "evaluation", None)
        if evaluation is None and result.reason != "error":
            evaluation = from_worker(result.metrics.get("evaluation"), self.data)
        if evaluation is None and result.model is not None and result.reason != "error":
            try:
                evaluation = evaluate(result.model, self.data, config.batch_size)
            except Exception as exc:  # noqa: BLE001 - the run stands even if evaluation fails
                evaluation = {"error": describe_error(exc)}
        return result.reason, result.metrics, evaluation


# Runs whose thread is alive. A QThread destroyed while running aborts the process, so a run is
# never owned by a widget: it is kept here until its thread has finished.
_LIVE: set[TrainingRun] = set()


class TrainingRun(QObject):
    """One run: owns the worker and its thread; kept alive until the thread has ended."""

    def __init__(self, project: Project, run_dir: Path | None, data=None) -> None:
        super().__init__()
        self.thread = QThread()
        self.thread.setObjectName("training")
        self.worker = TrainingWorker(project, run_dir, data)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # Direct: quit() is thread-safe, and a queued call would wait for a GUI thread that
        # may itself be waiting for this thread (shutdown).
        self.worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.done = False

    def start(self) -> None:
        # The training thread holds the GIL between TensorFlow ops; with Python's default 5 ms
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
