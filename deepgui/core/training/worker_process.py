"""Training in a worker process: the JAX engine (Keras's backend is fixed per process), and
training kept off the app's interpreter.

The parent (`WorkerEngine`, the same surface as `TrainingEngine`: run, stop, pause, resume)
hands the worker the network-ready arrays (the preprocessing stays with the parent, which
fitted it), starts ``python -m deepgui.core.training.worker_process RUN_DIR`` with
``KERAS_BACKEND`` set, relays the worker's events (one JSON object per line on its stdout) to
its listener, and writes control words (stop, pause, resume) to its stdin. The worker runs the
ordinary `TrainingEngine` into the run directory, so checkpoints, history and metrics are the
same files; at the end the parent puts the preprocessing in front of the trained network, as
the in-process engine does. A worker that crashes or runs out of memory ends the run with one
sentence; the app stays up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.data.base import LoadedData
from deepgui.core.training.engine import RunResult, TrainingListener
from deepgui.core.training.overfitting import OverfittingReport

WORK = ".worker"  # inside the run directory: what the parent hands the worker


class WorkerEngine:
    """Runs one training in a child process with the given Keras backend."""

    def __init__(self, backend: str, project, data: LoadedData, config, listener=None, *,
                 dataset_spec=None, run_dir: Path, resume: bool = False) -> None:  # fmt: skip
        self.backend = backend
        self.project = project
        self.data = data
        self.config = config
        self.listener = listener or TrainingListener()
        self.dataset_spec = dataset_spec
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.process: subprocess.Popen | None = None
        self._stop = False
        self._paused = False
        self._lock = threading.Lock()
        self.model = None

    # ------------------------------------------------------------------ control (any thread)
    def _send(self, word: str) -> None:
        with self._lock:
            process = self.process
            if process is None or process.poll() is not None:
                return
            try:
                process.stdin.write(word + "\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the worker is gone; its exit is reported by run()

    def stop(self) -> None:
        self._stop = True
        self._send("stop")

    def pause(self) -> None:
        if not self._stop:
            self._paused = True
            self._send("pause")

    def resume(self) -> None:
        self._paused = False
        self._send("resume")

    @property
    def is_paused(self) -> bool:
        return self._paused

    @property
    def stop_requested(self) -> bool:
        return self._stop

    # ------------------------------------------------------------------ the run
    def run(self) -> RunResult:
        from deepgui.core.training.engine import describe_error

        started = time.perf_counter()
        try:
            self._hand_over()
            reason, metrics = self._supervise()
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome
            reason, metrics = "error", {"stopped_by": "error", "message": describe_error(exc)}
        if reason != "error" or (self.run_dir / "history.csv").exists():
            try:
                self.model = self._wrap_model()
            except Exception as exc:  # noqa: BLE001 - the run's files stay; say what failed
                reason, metrics = "error", {**metrics, "stopped_by": "error",
                                            "message": describe_error(exc)}  # fmt: skip
        metrics.setdefault("wall_seconds", round(time.perf_counter() - started, 3))
        metrics["engine"] = self.backend
        if (self.run_dir / "metrics.json").exists():
            from deepgui.core.training import rundir

            rundir.write_json(self.run_dir / "metrics.json", metrics)
        self.listener.finished(reason, metrics)
        from deepgui.core.training.rundir import read_history

        history = read_history(self.run_dir) if self.run_dir.is_dir() else []
        return RunResult(reason, metrics, history, self.model, self.run_dir)

    def _hand_over(self) -> None:
        """The arrays and what the worker needs to know, written into the run directory."""
        work = self.run_dir / WORK
        work.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for split in ("train", "val", "test"):
            x, y = getattr(self.data, f"x_{split}"), getattr(self.data, f"y_{split}")
            if x is None or y is None:
                continue
            items = x.items() if isinstance(x, dict) else [("", x)]
            for name, values in items:
                arrays[f"x_{split}:{name}"] = np.asarray(values)
            arrays[f"y_{split}"] = np.asarray(y)
        np.savez(work / "data.npz", **arrays)
        project = self.project.to_dict()
        meta = {
            "project": project,
            "project_path": str(self.project.path) if self.project.path else None,
            "config": self.config.to_dict(),
            "dataset_spec": self.dataset_spec,
            "task": self.data.task,
            "class_names": list(self.data.class_names),
            "feature_names": list(self.data.feature_names),
            "description": self.data.description,
            "resume": self.resume,
        }
        (work / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    def _supervise(self) -> tuple[str, dict[str, Any]]:
        env = {**os.environ, "KERAS_BACKEND": self.backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
        command = [sys.executable, "-m", "deepgui.core.training.worker_process", str(self.run_dir)]
        with self._lock:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, env=env, bufsize=1,
            )  # fmt: skip
        if self._stop:
            self._send("stop")
        errors: list[str] = []
        drain = threading.Thread(target=lambda: errors.extend(self.process.stderr), daemon=True)
        drain.start()
        outcome: tuple[str, dict[str, Any]] | None = None
        for line in self.process.stdout:
            event = _parse(line)
            if event is None:
                continue
            if event["event"] == "finished":
                outcome = (event["reason"], event["metrics"])
            else:
                self._relay(event)
        code = self.process.wait()
        drain.join(5)
        if outcome is not None:
            return outcome
        return "error", {"stopped_by": "error", "message": _crash_sentence(code, errors)}

    def _relay(self, event: dict[str, Any]) -> None:
        kind, listener = event["event"], self.listener
        if kind == "started":
            listener.started(event["steps"], event["epochs"], event["initial"], event["info"])
        elif kind == "epoch_started":
            listener.epoch_started(event["epoch"])
        elif kind == "batch_ended":
            listener.batch_ended(event["step"], event["logs"])
        elif kind == "epoch_ended":
            listener.epoch_ended(event["epoch"], event["logs"])
        elif kind == "overfitting":
            report = OverfittingReport(**event["report"])
            if self.project is not None:
                from deepgui.core.training.remedies import suggest_remedies

                report.remedies = suggest_remedies(
                    self.project, self.data.num_train, event.get("params") or 0
                )
            listener.overfitting_detected(report)
        elif kind == "paused":
            listener.paused()
        elif kind == "resumed":
            listener.resumed()

    def _wrap_model(self):
        """The worker saved the bare network (it never saw the preprocessing): load it here,
        under this process's backend, and save it behind its preprocessing."""
        from deepgui.core import signature
        from deepgui.core.keras_layers import keras

        path = self.run_dir / "model.keras"
        if not path.is_file():
            return None
        network = keras().saving.load_model(path, safe_mode=True)
        pre = self.data.preprocessing
        if pre is not None:
            from deepgui.core.training.rundir import save_keras_model

            model = pre.wrap(network, name=f"{network.name}_with_preprocessing")
            save_keras_model(model, path)  # atomic; a full disk leaves no temporary file
        sig = signature.Signature(self.data.task, list(self.data.class_names), pre)
        signature.write(sig, self.run_dir / signature.RUN_FILE)
        raw, labels = self.data.raw_val, self.data.y_val
        if raw is None or labels is None:
            raw, labels = self.data.raw_train, self.data.y_train
        if raw is not None:
            signature.write_samples(self.run_dir, raw, labels)
        return network


def _parse(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None  # a library printing on stdout: not an event
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and "event" in event else None


def _crash_sentence(code: int, errors: list[str]) -> str:
    if code in (-9, 137):
        return ("The training worker was killed (out of memory?): lower the batch size or use "
                "a smaller model.")  # fmt: skip
    last = next((e.strip() for e in reversed(errors) if e.strip()), "")
    if "MemoryError" in last or "RESOURCE_EXHAUSTED" in last or "out of memory" in last.lower():
        return "The training worker ran out of memory: lower the batch size or use a smaller model."
    detail = f": {last[:200]}" if last else ""
    return f"The training worker stopped unexpectedly (exit status {code}){detail}."


# ----------------------------------------------------------------------------- the worker
class _PipeListener(TrainingListener):
    """The worker's listener: every event one JSON line on stdout."""

    def __init__(self, out) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.engine = None

    def _emit(self, **event: Any) -> None:
        with self.lock:
            self.out.write(json.dumps(event, default=_plain) + "\n")
            self.out.flush()

    def started(self, steps_per_epoch, epochs, initial_epoch, info):
        self._emit(event="started", steps=steps_per_epoch, epochs=epochs, initial=initial_epoch,
                   info=info)  # fmt: skip

    def epoch_started(self, epoch):
        self._emit(event="epoch_started", epoch=epoch)

    def batch_ended(self, step, logs):
        self._emit(event="batch_ended", step=step, logs=_floats(logs))

    def epoch_ended(self, epoch, logs):
        self._emit(event="epoch_ended", epoch=epoch, logs=_floats(logs))

    def overfitting_detected(self, report):
        params = self.engine.model.count_params() if self.engine and self.engine.model else 0
        fields = ("epoch", "detected_at", "kind", "reason", "best_epoch", "best_val_loss")
        self._emit(event="overfitting", report={f: getattr(report, f) for f in fields},
                   params=params)  # fmt: skip

    def paused(self):
        self._emit(event="paused")

    def resumed(self):
        self._emit(event="resumed")

    def finished(self, reason, metrics):
        self._emit(event="finished", reason=reason, metrics=metrics)


def _floats(logs: dict | None) -> dict[str, float]:
    return {k: float(np.asarray(v)) for k, v in (logs or {}).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic | np.ndarray):
        return np.asarray(value).tolist()
    return str(value)


def worker_main(run_dir: str) -> int:
    """The child: train the handed-over arrays into `run_dir`, events on stdout."""
    from deepgui.core.project import project_from_dict
    from deepgui.core.training.config import TrainingConfig
    from deepgui.core.training.engine import TrainingEngine

    out = sys.stdout
    sys.stdout = sys.stderr  # libraries' prints must not mix with the event stream
    run_dir_path = Path(run_dir)
    work = run_dir_path / WORK
    meta = json.loads((work / "meta.json").read_text(encoding="utf-8"))
    with np.load(work / "data.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    splits: dict[str, Any] = {}
    for key, values in arrays.items():
        if key.startswith("x_"):
            split, name = key[2:].split(":", 1)
            if name:
                splits.setdefault(f"x_{split}", {})[name] = values
            else:
                splits[f"x_{split}"] = values
        else:
            splits[key] = values
    data = LoadedData(
        splits["x_train"], splits["y_train"], splits.get("x_val"), splits.get("y_val"),
        splits.get("x_test"), splits.get("y_test"), task=meta["task"],
        class_names=meta["class_names"], feature_names=meta["feature_names"],
        description=meta["description"],
    )  # fmt: skip
    project = project_from_dict(meta["project"], source=str(work / "meta.json"))
    project.id = meta["project"].get("id") or project.id
    if meta.get("project_path"):
        project.path = Path(meta["project_path"])
    listener = _PipeListener(out)
    engine = TrainingEngine(
        project.graph, data, TrainingConfig.from_dict(meta["config"]), listener,
        project=project, dataset_spec=meta.get("dataset_spec"), run_dir=run_dir_path,
        resume=bool(meta.get("resume")),
    )  # fmt: skip
    listener.engine = engine

    def control() -> None:
        for line in sys.stdin:
            word = line.strip()
            if word == "stop":
                engine.stop()
            elif word == "pause":
                engine.pause()
            elif word == "resume":
                engine.resume()
        engine.stop()  # the parent went away: stop after the batch in flight

    threading.Thread(target=control, name="control", daemon=True).start()
    engine.run()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1]))
