"""One training run, whichever front end asks for it: the app's Training panel, `deepgui train`
and a sweep's trials all start a run here, and differ only in the listener that shows its
progress.

    run = Run(project, RunRequest(epochs=5))
    run.plan(listener)      # the folder (locked), the data, the machines and the engine
    result = run.train(listener)
    run.release()

or `Run(...).execute(listener)` for all three. `plan` raises DeepGuiError, one sentence, for
anything that cannot be run (a front end says it and the run never starts); `train` never
raises: its outcome is the result's reason and the listener's `finished` event.

The rules of a run live here and in the modules it calls: prepare.py (where the run goes,
resume, which data and settings), engines.py (which engine: `auto` measures), distributed.py
(the ranks), engine.py and worker_process.py (the engines themselves, which write the run
folder named in rundir.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepgui.core import run_layout
from deepgui.core.data.check import refuse_unfit_inputs
from deepgui.core.errors import DeepGuiError
from deepgui.core.training import distributed, engines, rundir
from deepgui.core.training.engine import RunResult, TrainingListener, describe_error
from deepgui.core.training.evaluation import evaluate, from_worker
from deepgui.core.training.outputs import engine_for, refuse_cluster
from deepgui.core.training.prepare import PreparedRun, prepare_run
from deepgui.core.training.weights_fetch import fetch_imagenet_weights

DEFAULT_COORDINATOR = "127.0.0.1:7477"
DEFAULT_JOIN_SECONDS = 300


@dataclass(frozen=True)
class RunRequest:
    """What a front end asks of a run beyond the project's own settings; None keeps the
    project's. Named as settings (the CLI maps each to its flag when it shows an error)."""

    out: str | Path | None = None  # the run folder; a stopped run's folder resumes it
    data: str | None = None  # another data file of the project's kind
    target: str | list[str] | None = None
    epochs: int | None = None
    batch_size: int | None = None
    missing: str | None = None
    engine: str | None = None  # auto, tensorflow, xla or jax
    workers: int | None = None  # ranks on several machines (this one is rank 0)
    coordinator: str | None = None
    join_seconds: int = DEFAULT_JOIN_SECONDS


class Run:
    """Plans, trains and records one run. Its controls (stop, pause, resume) may be called from
    any thread, before the engine exists too: they are handed to it when it starts."""

    def __init__(self, project, request: RunRequest | None = None, *, data=None) -> None:
        self.project = project
        self.request = request or RunRequest()
        self.data = data  # loaded data a front end already holds (the app's Data panel)
        self.prepared: PreparedRun | None = None
        self.cluster = None
        self.engine_name = ""  # the engine chosen by plan()
        self.note = ""  # why that engine, when it is not simply the one asked for
        self.engine: engines.Engine | None = None
        self._lock = threading.Lock()
        self._stop = False
        self._pause = False

    # ------------------------------------------------------------------ decided before training
    @property
    def run_dir(self) -> Path | None:
        return self.prepared.run_dir if self.prepared is not None else None

    @property
    def resume(self) -> bool:
        return self.prepared is not None and self.prepared.resume

    @property
    def config(self):
        return self.prepared.config if self.prepared is not None else None

    @property
    def dataset_spec(self) -> dict[str, Any]:
        """The dataset as the run reads it, defaults filled in by the loader."""
        return getattr(self.data, "spec", None) or self.prepared.spec

    def plan(self, listener: TrainingListener | None = None) -> Run:
        """Decide the run: its folder (locked until release()), its data, its machines and its
        engine. DeepGuiError, one sentence, for anything that cannot be run."""
        listener = listener or TrainingListener()
        r = self.request
        self.prepared = prepare_run(self.project, r.out, data=r.data, target=r.target,
                                    epochs=r.epochs, batch_size=r.batch_size,
                                    missing=r.missing)  # fmt: skip
        try:
            self._plan(listener)
        except BaseException:
            self.release()
            raise
        return self

    def _plan(self, listener: TrainingListener) -> None:
        prepared, r = self.prepared, self.request
        if r.engine is not None and r.engine not in engines.ENGINES:
            raise DeepGuiError(
                f"The engine must be one of {', '.join(engines.ENGINES)}, not {r.engine!r}.",
                setting="engine",
            )
        self.cluster = self._cluster()
        if self.data is None or prepared.resume or r.data or r.target or r.missing:
            listener.waiting("Loading data…")
            self.data = prepared.load_data()
        # Data the model's Inputs cannot take is said now, before any engine starts.
        refuse_unfit_inputs(self.data, prepared.project.graph)
        # Before an engine builds the model (a measurement builds it too): said as it goes.
        fetch_imagenet_weights(prepared.project.graph, listener.downloading, lambda: self._stop)
        if self.cluster is not None:
            refuse_cluster(self.data)
            # The project's engine is a one-machine choice (TensorFlow by default): several
            # machines train with JAX unless the request asks otherwise or JAX cannot.
            listener.waiting("Checking that JAX can train this model…")
            self.cluster, note = engines.resolve_cluster(r.engine or "auto", prepared.project,
                                                         self.data, prepared.config,
                                                         self.cluster)  # fmt: skip
            self.engine_name, self.note = self.cluster.engine, note
            return
        if r.engine:
            prepared.config = prepared.config.with_overrides(engine=r.engine)
        config = prepared.config
        several = engine_for(self.data, config.engine)  # several outputs: TensorFlow here
        if several is not None:
            self.engine_name, self.note = several
            return
        if config.engine == "auto":
            listener.waiting("Measuring which engine trains this model fastest…")
        self.engine_name, self.note = engines.resolve(config.engine, prepared.project,
                                                      self.data, config)  # fmt: skip

    def _cluster(self):
        """The ranks the request (workers) or the project (training.ranks) asks for, as rank 0;
        None: this machine alone."""
        r, prepared = self.request, self.prepared
        workers, coordinator = r.workers, r.coordinator
        if workers is None:
            if coordinator:
                raise DeepGuiError(
                    "A coordinator needs the number of ranks (workers) too.", setting="workers"
                )
            if prepared.config.ranks <= 1:
                return None
            workers, coordinator = prepared.config.ranks, prepared.config.coordinator
        if workers > 1 and not coordinator:
            raise DeepGuiError(
                "Several ranks need a coordinator, HOST:PORT, the address of this machine "
                "that the other ranks reach (127.0.0.1:PORT when they all run here).",
                setting="coordinator",
            )
        if "jax" not in engines.available():
            # JAX's coordination service joins the ranks, whichever engine trains them.
            raise DeepGuiError(
                "Training on several ranks needs JAX, which is not installed here.",
                setting="workers",
            )
        if prepared.resume:
            raise DeepGuiError(f"{prepared.run_dir}: {distributed.RESUME_REFUSED}")
        return distributed.make_cluster(coordinator or DEFAULT_COORDINATOR, workers, 0,
                                        join_seconds=r.join_seconds)  # fmt: skip

    # ------------------------------------------------------------------ training
    def train(self, listener: TrainingListener | None = None) -> RunResult:
        """Train the planned run to its end. When `auto` chose JAX and the JAX process fails
        before its first epoch ends, the failure is JAX's own (TensorFlow was not tried):
        TensorFlow trains the run instead, and the listener hears why."""
        listener = listener or TrainingListener()
        if self.prepared is None:
            raise RuntimeError("Run.train() before Run.plan()")
        if self._stop:
            result = RunResult("user", {"stopped_by": "user",
                                        "message": "Stopped before training began."})  # fmt: skip
            listener.finished(result.reason, result.metrics)
            return result
        fallback = self._may_fall_back()
        result = self._train_with(self.engine_name, listener, quiet_failure=fallback)
        if fallback and result.reason == "error" and not result.history and not self._stop:
            why = " ".join(str(result.metrics.get("message", "")).split()).rstrip(".")
            self.engine_name = "tensorflow"
            self.note = f"JAX could not train this model ({why}), so TensorFlow trains it"
            listener.waiting(f"{self.note}…")
            result = self._train_with("tensorflow", listener)
        if result.reason in ("error", "nan_loss"):
            self._mark_failed(result)
        return result

    def _mark_failed(self, result: RunResult) -> None:
        """A run that failed before its engine wrote metrics.json, but after it wrote into the
        folder, is listed among the runs, marked failed (a folder holding only the lock goes
        when the run is released)."""
        run_dir = self.prepared.run_dir
        if not run_dir.is_dir() or {p.name for p in run_dir.iterdir()} <= {run_layout.LOCK}:
            return
        rundir.mark_failed(run_dir, result.reason, result.metrics, len(result.history))

    def evaluation(self, result: RunResult) -> dict[str, Any] | None:
        """The saved model's evaluation with its pictures, for a front end that shows it: the
        engine's own (in this process), a worker process's rebuilt with the images this
        process holds, or the model evaluated here when neither has one (a stopped run)."""
        evaluation = result.evaluation
        if evaluation is None and result.reason != "error":
            evaluation = from_worker(result.metrics.get("evaluation"), self.data)
        if evaluation is None and result.model is not None and result.reason != "error":
            try:
                evaluation = evaluate(result.model, self.data, self.prepared.config.batch_size)
            except Exception as exc:  # noqa: BLE001 - the run stands even if evaluation fails
                evaluation = {"error": describe_error(exc)}
        return evaluation

    def _may_fall_back(self) -> bool:
        """Only a choice auto made falls back: an engine asked for by name is kept."""
        return (self.engine_name == "jax" and self.cluster is None and not self.resume
                and self.prepared.config.engine == "auto")  # fmt: skip

    def _train_with(self, name: str, listener, *, quiet_failure: bool = False) -> RunResult:
        prepared = self.prepared
        relay = _HoldFailure(listener) if quiet_failure else listener
        engine = engines.make_engine(
            name, prepared.project, self.data, prepared.config, relay,
            dataset_spec=self.dataset_spec, run_dir=prepared.run_dir,
            resume=prepared.resume, cluster=self.cluster,
        )  # fmt: skip
        with self._lock:
            self.engine = engine
            if self._stop:
                engine.stop()
            elif self._pause:
                engine.pause()
        result = engine.run()
        if quiet_failure and not (result.reason == "error" and not result.history):
            relay.release()
        return result

    def execute(self, listener: TrainingListener | None = None) -> RunResult:
        """plan, train and release: for a front end that shows a plan's refusal as the run's
        outcome (the app). A refusal ends as reason "error" with its sentence."""
        listener = listener or TrainingListener()
        try:
            self.plan(listener)
        except DeepGuiError as exc:
            metrics = {"stopped_by": "error", "message": describe_error(exc)}
            listener.finished("error", metrics)
            return RunResult("error", metrics)
        try:
            return self.train(listener)
        finally:
            self.release()

    def release(self) -> None:
        if self.prepared is not None:
            self.prepared.release()

    # ------------------------------------------------------------------ control (any thread)
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

    def resume_training(self) -> None:
        """End a pause (not to be confused with `resume`, a run continuing a stopped one)."""
        with self._lock:
            self._pause = False
            if self.engine is not None:
                self.engine.resume()

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def is_paused(self) -> bool:
        return self._pause


class _HoldFailure(TrainingListener):
    """Passes every event on but an early failure's `finished`, which the run may answer by
    training with another engine; `release()` sends what was held."""

    def __init__(self, listener: TrainingListener) -> None:
        self.listener = listener
        self.held: tuple[str, dict[str, Any]] | None = None
        self.epochs = 0

    def started(self, steps_per_epoch, epochs, initial_epoch, info):
        self.listener.started(steps_per_epoch, epochs, initial_epoch, info)

    def epoch_started(self, epoch):
        self.listener.epoch_started(epoch)

    def batch_ended(self, step, logs):
        self.listener.batch_ended(step, logs)

    def epoch_ended(self, epoch, logs):
        self.epochs += 1
        self.listener.epoch_ended(epoch, logs)

    def overfitting_detected(self, report):
        self.listener.overfitting_detected(report)

    def waiting(self, text):
        self.listener.waiting(text)

    def paused(self):
        self.listener.paused()

    def resumed(self):
        self.listener.resumed()

    def finished(self, reason, metrics):
        if reason == "error" and self.epochs == 0:
            self.held = (reason, metrics)
        else:
            self.listener.finished(reason, metrics)

    def release(self) -> None:
        if self.held is not None:
            self.listener.finished(*self.held)
            self.held = None
