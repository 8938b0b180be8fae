"""Training in a worker process: the JAX engine (Keras's backend is fixed per process), and
training kept off the app's interpreter.

The parent (`WorkerEngine`, an `engines.Engine` as `TrainingEngine` is: run, stop, pause, resume)
hands the worker the network-ready arrays (the preprocessing stays with the parent, which
fitted it), starts ``python -m deepgui.core.training.worker_entry RUN_DIR`` with
``KERAS_BACKEND`` set, relays the worker's events (one JSON object per line on its stdout) to
its listener, and writes control words (stop, pause, resume) to its stdin. The worker runs the
ordinary `TrainingEngine` into the run directory, so checkpoints, history and metrics are the
same files; at the end the parent puts the preprocessing in front of the trained network, as
the in-process engine does. A worker that crashes or runs out of memory ends the run with one
sentence; the app stays up.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import run_layout, run_split, signature
from deepgui.core.data.base import LoadedData
from deepgui.core.data.preprocessing import Preprocessing
from deepgui.core.errors import TrainingError
from deepgui.core.keras_layers import keras
from deepgui.core.training import distributed, feeds, handover, rundir
from deepgui.core.training.config import TrainingConfig
from deepgui.core.training.distributed import Cluster
from deepgui.core.training.engine import (
    RunResult,
    TrainingEngine,
    TrainingListener,
    describe_error,
    present,
    test_scores,
)
from deepgui.core.training.overfitting import OverfittingReport
from deepgui.core.training.remedies import suggest_remedies
from deepgui.core.training.rundir import read_history, save_keras_model

WORK = run_layout.WORK  # inside the run directory: what the parent hands the worker


class WorkerEngine:
    """Runs one training in a child process with the given Keras backend."""

    def __init__(self, backend: str, project, data: LoadedData, config, listener=None, *,
                 dataset_spec=None, run_dir: Path, resume: bool = False,
                 cluster: Cluster | None = None) -> None:  # fmt: skip
        self.backend = backend
        self.cluster = cluster  # rank 0 of a run on several machines (distributed.py)
        self.project = project
        self.data = data
        self.config = config
        self.listener = listener or TrainingListener()
        self.dataset_spec = dataset_spec
        self.run_dir = Path(run_dir)
        self.resume_run = resume  # continue a stopped run (not resume(), which ends a pause)
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
        started = time.perf_counter()
        try:
            self._hand_over()
            reason, metrics = self._supervise()
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome
            reason, metrics = "error", {"stopped_by": "error", "message": describe_error(exc)}
        if reason != "error" or (self.run_dir / run_layout.HISTORY).exists():
            try:
                self.model = self._wrap_model()
            except Exception as exc:  # noqa: BLE001 - the run's files stay; say what failed
                reason, metrics = "error", {**metrics, "stopped_by": "error",
                                            "message": describe_error(exc)}  # fmt: skip
        if self.cluster is not None and reason != "error" and self.model is not None:
            self._test(metrics)
        metrics.setdefault("wall_seconds", round(time.perf_counter() - started, 3))
        metrics["engine"] = self.backend
        if (self.run_dir / run_layout.METRICS).exists():
            rundir.write_json(self.run_dir / run_layout.METRICS, metrics)
        self.listener.finished(reason, metrics)

        history = read_history(self.run_dir) if self.run_dir.is_dir() else []
        return RunResult(reason, metrics, history, self.model, self.run_dir)

    def _test(self, metrics: dict[str, Any]) -> None:
        """The ranks of a cluster leave the test split alone (engine.py); the chief's saved
        network is tested here, as a one-machine run would test it."""
        if present(self.data.x_test, self.data.y_test):
            metrics.update(test_scores(self.model, self.data, self.config.batch_size))

    def _hand_over(self) -> None:
        """The arrays and what the worker needs to know, written into the run directory."""
        if self.data.multi_output:  # the hand-over carries one label array per split
            raise TrainingError(
                f"A model with several outputs trains with TensorFlow in this process, not "
                f"with {self.backend} in a worker: choose the TensorFlow engine."
            )
        more: dict[str, Any] = {"dataset_spec": self.dataset_spec, "resume": self.resume_run}
        if self.cluster is not None:
            more["cluster"] = self.cluster.to_dict()
            pre = self.data.preprocessing
            if pre is not None:  # every rank saves a model that takes the raw data
                more["preprocessing"] = pre.to_dict()
            if self.config.seed is None:
                # Every rank must draw the same initial weights and dropout masks.
                self.config = self.config.with_overrides(seed=secrets.randbelow(2**31))
        run_split.write(self.run_dir, self.data)  # the worker is handed arrays, not their rows
        handover.write(self.run_dir / WORK, self.data,
                       handover.describe(self.data, self.project, self.config, **more))  # fmt: skip

    def _supervise(self) -> tuple[str, dict[str, Any]]:
        env = child_environment(worker_environment(self.backend, self.config.device))
        command = [sys.executable, "-m", "deepgui.core.training.worker_entry", str(self.run_dir)]
        with self._lock:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, env=env, bufsize=1, start_new_session=True,
            )  # fmt: skip
        if self._stop:
            self._send("stop")
        errors: list[str] = []
        drain = threading.Thread(target=lambda: errors.extend(self.process.stderr), daemon=True)
        drain.start()
        outcome: tuple[str, dict[str, Any]] | None = None
        for line in self.process.stdout:
            event = parse_event(line)
            if event is None:
                continue
            if event["event"] == "finished":
                outcome = (event["reason"], event["metrics"])
            else:
                self._relay(event)
        code = end_process(self.process, self._grace())
        drain.join(5)
        if outcome is not None:
            if self.cluster is not None and outcome[0] == "error":
                outcome[1]["message"] = cluster_sentence(outcome[1].get("message", ""), errors)
            return outcome
        return "error", {"stopped_by": "error", "message": crash_sentence(code, errors)}

    def _grace(self) -> float:
        return grace_seconds(self.cluster)

    def _relay(self, event: dict[str, Any]) -> None:
        if event["event"] != "overfitting":
            relay_progress(event, self.listener)
            return
        report = OverfittingReport(**event["report"])
        if self.project is not None:
            report.remedies = suggest_remedies(
                self.project, self.data.num_train, event.get("params") or 0
            )
        self.listener.overfitting_detected(report)

    def _wrap_model(self):
        """The worker saved the bare network (it never saw the preprocessing): load it here,
        under this process's backend, and save it behind its preprocessing."""
        network = wrap_saved_network(self.run_dir, self.data.preprocessing, self.data.task,
                                     list(self.data.class_names))  # fmt: skip
        if network is None:
            return None

        raw, labels = self.data.raw_val, self.data.y_val
        if raw is None or labels is None:
            raw, labels = self.data.raw_train, self.data.y_train
        if raw is not None:
            signature.write_samples(self.run_dir, raw, labels)
        return network


def relay_progress(event: dict[str, Any], listener) -> None:
    """A worker's progress event (one parsed JSON line) as the listener's call. The app's
    worker engine and `deepgui worker`'s terminal both relay through here; overfitting and
    finished need their receiver's own handling."""
    kind = event["event"]
    if kind in ("waiting", "note"):
        waiting = getattr(listener, "waiting", None)  # optional: not every listener shows it
        if waiting is not None:
            waiting(event["text"])
    elif kind == "started":
        listener.started(event["steps"], event["epochs"], event["initial"], event["info"])
    elif kind == "epoch_started":
        listener.epoch_started(event["epoch"])
    elif kind == "batch_ended":
        listener.batch_ended(event["step"], event["logs"])
    elif kind == "epoch_ended":
        listener.epoch_ended(event["epoch"], event["logs"])
    elif kind == "paused":
        listener.paused()
    elif kind == "resumed":
        listener.resumed()


def grace_seconds(cluster: Cluster | None) -> float:
    """How long a worker that has reported its end may take to leave: a rank of a cluster
    waits for the others at shutdown, at most one heartbeat period."""
    return 10.0 + (cluster.heartbeat_seconds if cluster is not None else 0)


def wrap_saved_network(run_dir: Path, pre, task: str, class_names: list[str]):
    """Put the preprocessing in front of the network a worker saved in RUN_DIR/model.keras
    and write the run's signature; returns the bare network (None when nothing was saved)."""
    path = Path(run_dir) / run_layout.MODEL
    if not path.is_file():
        return None
    network = keras().saving.load_model(path, safe_mode=True)
    if pre is not None:
        model = pre.wrap(network, name=f"{network.name}_with_preprocessing")
        save_keras_model(model, path)  # atomic; a full disk leaves no temporary file
    signature.write(signature.Signature(task, class_names, pre), Path(run_dir) / signature.RUN_FILE)
    return network


def parse_event(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None  # a library printing on stdout: not an event
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and "event" in event else None


def crash_sentence(code: int, errors: list[str]) -> str:
    if code in (-9, 137):
        return ("The training worker was killed (out of memory?): lower the batch size or use "
                "a smaller model.")  # fmt: skip
    last = next((e.strip() for e in reversed(errors) if e.strip()), "")
    text = " ".join(errors[-200:])
    if "MemoryError" in last or "RESOURCE_EXHAUSTED" in last or "out of memory" in last.lower():
        return "The training worker ran out of memory: lower the batch size or use a smaller model."
    if _PEER_GONE.search(text):
        return cluster_sentence("", errors)
    detail = f": {last[:200]}" if last else ""
    return f"The training worker stopped unexpectedly (exit status {code}){detail}."


_PEER_GONE = re.compile(r"heartbeat|Gloo|Connection reset|connection refused|UNAVAILABLE|"
                        r"coordination service|Barrier failed", re.IGNORECASE)  # fmt: skip


def cluster_sentence(message: str, errors: list[str]) -> str:
    """A run on several machines that failed because a rank went away says so, not what the
    collective that noticed it printed."""
    if not _PEER_GONE.search(message + " " + " ".join(errors[-200:])):
        return message
    return ("Another rank of the run stopped (its process or machine went away, or the network "
            "between them failed), so every rank ended; the last finished epoch's checkpoint "
            "is kept.")  # fmt: skip


def worker_environment(backend: str, device: str = "auto") -> dict[str, str]:
    """The child's environment: its Keras backend, and the devices it may use (JAX takes every
    device it sees, so the choice is made by what it is shown)."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if backend == "tensorflow":
        # A TensorFlow rank of a cluster: JAX only carries the ranks' messages (mirrored.py).
        env["JAX_PLATFORMS"] = "cpu"
    if device == "cpu":
        env["JAX_PLATFORMS"] = "cpu"
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif device.startswith("gpu:") and "," not in device:
        env["CUDA_VISIBLE_DEVICES"] = device[4:]
    elif device.startswith("gpu:"):
        env["CUDA_VISIBLE_DEVICES"] = ",".join(p.strip()[4:] for p in device.split(","))
    elif device.startswith("cpu:") and "," in device:
        # Several CPU devices: XLA splits the processor into that many, as TensorFlow's
        # logical CPU devices do (mostly to try a multi-device run without GPUs).
        env["JAX_PLATFORMS"] = "cpu"
        flags = env.get("XLA_FLAGS", "")
        count = len(device.split(","))
        env["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
    return env


def gpu_count() -> int | None:
    """The NVIDIA GPUs a child would be shown, counted without loading a framework (seconds):
    CUDA_VISIBLE_DEVICES when set, else the driver's list; None when it cannot be told here
    (another platform, or another vendor's driver)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        count = 0
        for entry in visible.split(","):  # CUDA stops at the first entry it cannot use
            entry = entry.strip()
            if not (entry.isdigit() or entry.startswith(("GPU-", "MIG-"))):
                break
            count += 1
        return count
    if not sys.platform.startswith("linux") or Path("/dev/kfd").exists():
        return None
    driver = Path("/proc/driver/nvidia/gpus")
    listed = sum(1 for _ in driver.iterdir()) if driver.is_dir() else 0
    # A container may be shown the device nodes without the driver's /proc entries.
    nodes = sum(1 for node in Path("/dev").glob("nvidia*") if node.name[6:].isdigit())
    if not listed and not nodes and Path("/dev/nvidiactl").exists():
        return None  # a driver without a GPU listed: cannot be told here
    return max(listed, nodes)


def device_problem(spec: str) -> str | None:
    """Why this machine cannot train on the devices `spec` names, in words; None when it can,
    or when that cannot be told without loading a framework."""
    wanted = [int(p.strip()[4:]) for p in spec.split(",") if p.strip().startswith("gpu:")]
    count = gpu_count() if wanted else None
    if count is None or all(n < count for n in wanted):
        return None
    has = (f"it has {count}: gpu:0 to gpu:{count - 1}" if count > 1 else
           "it has one: gpu:0" if count == 1 else "it has none; give cpu or auto")  # fmt: skip
    return f"{spec} names a GPU this machine does not have ({has})."


def end_process(process: subprocess.Popen, grace: float) -> int:
    """Wait for a child that has finished its work; one that lingers past `grace` seconds (a
    rank waiting for others that are gone) is killed with everything it started."""
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        return kill_group(process)


def kill_group(process: subprocess.Popen) -> int:
    """End a child started in a session of its own, with everything it started: SIGTERM to its
    process group, SIGKILL when that is not heeded within 3 s; its exit status."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            return process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            continue
    return process.wait()


# ----------------------------------------------------------------------------- the worker
PARENT_PID = "DEEPGUI_PARENT_PID"  # the launcher's pid, in the child's environment
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """The child's first act: end when its launcher dies. The child runs in a session of its own
    (a Ctrl+C at the terminal reaches its launcher, which stops it after the batch in flight),
    so a launcher killed with its process group would leave it training. On Linux the kernel
    sends SIGKILL at the launcher's death (the last finished epoch's checkpoint is on disk);
    elsewhere `ParentWords` ends it when the launcher's pipe closes."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    parent = os.environ.get(PARENT_PID, "")
    if parent.isdigit() and os.getppid() != int(parent):
        os._exit(1)  # the launcher died before the signal was asked for


def child_environment(env: dict[str, str]) -> dict[str, str]:
    """`env` with this process named as the child's launcher (die_with_parent)."""
    return {**env, PARENT_PID: str(os.getpid())}


class ParentWords:
    """The launcher's control words (stop, pause, resume) on stdin, read from the child's first
    moment: a word that comes before training starts waits for it, and the pipe's end (the
    launcher went away) ends the child at once before training, and during training stops it
    after the batch in flight (a rank leaves at once: the other ranks notice and end)."""

    started: ParentWords

    def __init__(self, leave_at_end: bool) -> None:
        self.leave_at_end = leave_at_end
        self.target = None
        self.waiting: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, name="control", daemon=True).start()

    @classmethod
    def start(cls, leave_at_end: bool) -> None:
        cls.started = cls(leave_at_end)

    def attach(self, target) -> None:
        """From now on the words go to `target` (stop, pause, resume)."""
        with self.lock:
            self.target, waiting, self.waiting = target, self.waiting, []
        for word in waiting:
            self._apply(target, word)

    def _read(self) -> None:
        for line in sys.stdin:
            word = line.strip()
            with self.lock:
                target = self.target
                if target is None:
                    self.waiting.append(word)
            if target is not None:
                self._apply(target, word)
        with self.lock:
            target = self.target
        if target is None or self.leave_at_end:
            os._exit(1)
        target.stop()

    @staticmethod
    def _apply(target, word: str) -> None:
        if word in ("stop", "pause", "resume"):
            getattr(target, word)()


class _PipeListener(TrainingListener):
    """The worker's listener: every event one JSON line on stdout."""

    def __init__(self, out) -> None:
        self.out = out
        self.lock = threading.Lock()

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
        fields = ("epoch", "detected_at", "kind", "reason", "best_epoch", "best_val_loss")
        self._emit(event="overfitting", report={f: getattr(report, f) for f in fields},
                   params=report.params)  # fmt: skip

    def waiting(self, text):
        self._emit(event="waiting", text=text)

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
    """The child: train the handed-over arrays into `run_dir`, events on stdout. As rank 0 of
    a cluster it first waits for the other ranks and hands them the same arrays."""
    out = sys.stdout
    sys.stdout = sys.stderr  # libraries' prints must not mix with the event stream
    listener = _PipeListener(out)
    ParentWords.start(leave_at_end=False)
    run_dir_path = Path(run_dir)
    work = run_dir_path / WORK
    data, meta = handover.read(work)
    # Several devices of this machine alone need no cluster: the engine's feed spreads the
    # run over them (feeds.local), as it does in this process under TensorFlow.
    cluster = Cluster.from_dict(meta["cluster"]) if meta.get("cluster") else None
    if cluster is not None:
        if cluster.world > 1:
            others = "; ".join(cluster.command_for(r) for r in range(1, cluster.world))
            listener.waiting(f"Waiting at {cluster.coordinator} for {cluster.world - 1} more "
                             f"rank(s) to join: {others}")  # fmt: skip
        try:
            cluster = distributed.join(cluster)
            distributed.use_engine(cluster)
            if cluster.world > 1:
                _share_with_ranks(meta, data)
        except Exception as exc:  # noqa: BLE001 - one sentence, then leave
            listener.finished("error", {"stopped_by": "error", "message": describe_error(exc)})
            return 1
    project = handover.project_of(meta, str(work / handover.META_FILE))
    return _train(project, data, meta, run_dir_path, listener, cluster)


def _share_with_ranks(meta: dict[str, Any], data: LoadedData) -> None:
    """Rank 0: the project, settings and arrays to every other rank, with the project's stored
    weights (the ranks must start alike)."""
    arrays = handover.arrays_of(data)
    project = handover.project_of(meta, "the hand-over")
    weights = project.weights_path
    if weights is not None and weights.is_file():
        arrays["__weights__"] = np.frombuffer(weights.read_bytes(), dtype=np.uint8)
    distributed.share(handover.to_bytes(arrays, {k: v for k, v in meta.items()
                                                 if k != "project_path"}))  # fmt: skip


def rank_main(coordinator: str, rank: int, world: int, out_dir: str,
              join_seconds: int = distributed.JOIN_SECONDS,
              deadline: float | None = None) -> int:  # fmt: skip
    """A rank other than 0 (`deepgui worker` starts it): join the chief by `deadline`
    (time.time(); its launcher's join timeout), take the hand-over, train into `out_dir`, events
    on stdout for the launcher to print."""
    out = sys.stdout
    sys.stdout = sys.stderr
    listener = _PipeListener(out)
    ParentWords.start(leave_at_end=True)
    run_dir = Path(out_dir)
    try:
        cluster = distributed.make_cluster(coordinator, world, rank, join_seconds=join_seconds)
        # The chief's engine decides this rank's backend.
        cluster = distributed.join(cluster, deadline)
        if cluster.engine == "jax":
            without_tensorflow()
        distributed.use_engine(cluster)
        arrays, meta = handover.from_bytes(distributed.share(None))
    except Exception as exc:  # noqa: BLE001 - one sentence, then leave
        listener.finished("error", {"stopped_by": "error", "message": describe_error(exc)})
        return 1
    weights = arrays.pop("__weights__", None)
    data = handover.data_of(arrays, meta)
    meta["project_path"] = str(run_dir / run_layout.PROJECT)
    project = handover.project_of(meta, f"rank {rank}'s hand-over")
    run_dir.mkdir(parents=True, exist_ok=True)
    if weights is not None and project.weights_path is not None:
        project.weights_path.write_bytes(weights.tobytes())
    meta["resume"] = False
    return _train(project, data, meta, run_dir, listener, cluster)


def _train(project, data, meta, run_dir: Path, listener: _PipeListener, cluster) -> int:
    config = TrainingConfig.from_dict(meta["config"])
    feed = None  # this machine alone: the engine chooses its feed by training.device
    if cluster is not None:
        try:  # before any TensorFlow operation runs (TensorFlow's strategy needs it so)
            feed = feeds.of_cluster(cluster, config.device, config.mixed_precision)
        except Exception as exc:  # noqa: BLE001 - one sentence, then leave
            listener.finished("error", {"stopped_by": "error", "message": describe_error(exc)})
            return 1
        import keras  # Keras brings TensorFlow (seconds): imported when used

        # Every variable a rank creates, even the shape check's throwaway ones, must hold the
        # same values on every rank: seed before the engine builds anything.
        keras.utils.set_random_seed(config.seed or 0)
    engine = TrainingEngine(
        project.graph, data, config, listener, project=project,
        dataset_spec=meta.get("dataset_spec"), run_dir=run_dir,
        resume=bool(meta.get("resume")), feed=feed,
    )  # fmt: skip

    # A rank of a cluster stops and pauses when the ranks agree to (feeds.Feed, SyncControl).
    ParentWords.started.attach(feed if feed is not None else engine)
    result = engine.run()
    if cluster is not None and not cluster.is_chief and meta.get("preprocessing"):
        # This rank's run folder holds a model that takes the raw data, as the chief's does.
        import keras  # Keras brings TensorFlow (seconds): imported when used

        # Loading under the run's distribution would lay the weights out over every rank,
        # which have left by now: this is this rank's own copy.
        if cluster.engine == "jax":
            keras.distribution.set_distribution(None)
        try:
            pre = Preprocessing.from_dict(meta["preprocessing"])
            wrap_saved_network(run_dir, pre, data.task, list(data.class_names))
        except Exception as exc:  # noqa: BLE001 - the bare network stays; say why
            listener.waiting(f"The model in {run_dir} is the bare network (without its "
                             f"preprocessing): {exc}")  # fmt: skip
    return 0 if result.reason != "error" else 1


def without_tensorflow() -> None:
    """A JAX process never needs TensorFlow, yet Keras imports it the first time it serializes
    a layer (to ask whether it is there): 2-3 s of every worker's start. Tell Keras's lazy
    module it is absent. (Not by a None in sys.modules: Keras takes any "tensorflow" entry
    there as TensorFlow running, and its preprocessing layers, Rescaling first, then fail.)"""
    if os.environ.get("KERAS_BACKEND") == "jax" and "tensorflow" not in sys.modules:
        # Keras brings TensorFlow (seconds): imported when used
        from keras.src.utils import module_utils

        module_utils.tensorflow._available = False
