"""Which engine trains a run: TensorFlow (in this process), TensorFlow with XLA (in this
process, compiled), or JAX (in a worker process, since Keras's backend is fixed per process).
`auto` takes the fastest engine that can run the model, measured by a short probe whose figures
are cached per machine and model shape. The CLI (`--engine`) and the app decide through here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from deepgui.core.build import build_model
from deepgui.core.project import atomic_write_text
from deepgui.core.training import handover, worker_process
from deepgui.core.training.config import (
    ENGINES,  # noqa: F401 (the app and the run find it here)
    TrainingConfig,
    make_optimizer,
)
from deepgui.core.training.engine import RunResult, TrainingEngine, describe_error
from deepgui.core.training.mirrored import TRUSTED_ONLY
from deepgui.core.training.prepare import PreparedRun

LABELS = {"tensorflow": "TensorFlow", "xla": "TensorFlow with XLA", "jax": "JAX (worker process)"}
PROBE_BATCHES = 24
PROBE_FILE = "engine_probe.json"


def available() -> list[str]:
    """The engines this installation can run."""
    out = ["tensorflow", "xla"]
    if importlib.util.find_spec("jax") is not None:
        out.append("jax")
    return out


def resolve(requested: str, project, data, config) -> tuple[str, str]:
    """(engine, note): the engine to use and, when it is not the one asked for, why."""
    if requested == "auto":
        return choose(project, data, config)
    if requested == "jax" and "jax" not in available():
        return "tensorflow", "JAX is not installed here; TensorFlow trains it"
    return requested, ""


def resolve_cluster(requested: str, project, data, config, cluster):
    """(cluster, note): the engine of a run on several ranks. JAX with Keras's distribution
    API, unless TensorFlow is asked for or JAX cannot train the model: then TensorFlow's
    MultiWorkerMirroredStrategy (mirrored.py), which is for trusted networks only."""
    if requested in ("tensorflow", "xla"):
        why = f"{LABELS[requested]} was asked for"
    else:
        failure = jax_failure(project, data, config)
        if failure is None:
            note = f"JAX on {cluster.world} ranks, data parallel"
            return dataclasses.replace(cluster, engine="jax"), note
        why = f"JAX cannot train this model ({failure})"
    note = (f"{why}, so TensorFlow's MultiWorkerMirroredStrategy trains it on {cluster.world} "
            f"ranks. {TRUSTED_ONLY}")  # fmt: skip
    return dataclasses.replace(cluster, engine="tensorflow"), note


def jax_failure(project, data, config) -> str | None:
    """None when JAX trains this model (known from the probe's figures, or tried on two
    batches in a JAX process); otherwise what went wrong, in a few words."""
    known = cached(model_key(project, data, config))
    if known is not None and known.get("jax", 0.0) > 0:
        return None
    try:
        out = _run_in_worker(project, data, config, min(data.num_train, 2 * config.batch_size),
                             "--check")  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        return f"the JAX process did not run: {exc}"
    last = out.stdout.strip().splitlines()[-1:] if out.stdout.strip() else []
    if out.returncode == 0 and last == ["ok"]:
        return None
    text = last[0] if last else (out.stderr.strip().splitlines() or ["it exited"])[-1]
    return text[:200]


def choose(project, data, config, speeds: dict[str, float] | None = None) -> tuple[str, str]:
    """`auto`: the engine that ends this run soonest, predicted from each engine's measured
    speed and fixed cost (start-up, compiling, ending). A worker process that trains three
    times faster still loses a short run to its few seconds of start-up; TensorFlow is kept
    unless another engine saves at least SAVING of the run and a second."""
    samples = data.num_train * config.epochs
    if speeds is None:
        key = model_key(project, data, config)
        if cached(key) is None and samples < SHORT_RUN_SAMPLES:
            return "tensorflow", (f"auto chose TensorFlow: a short run ({samples:,} samples) "
                                  "ends sooner than measuring the engines would")  # fmt: skip
        speeds = probe(project, data, config)
    times = {e: predicted_seconds(speeds, e, samples) for e in rates(speeds)}
    times = {e: t for e, t in times.items() if t is not None}
    if not times:
        return "tensorflow", "no engine could be measured; TensorFlow trains it"
    fastest = best = min(times, key=times.get)
    base = times.get("tensorflow")
    if base is not None and best != "tensorflow":
        saved = base - times[best]
        if saved < max(MIN_SAVING_SECONDS, SAVING * base):
            best = "tensorflow"
    return best, _choice_sentence(speeds, times, samples, best, fastest)


def _choice_sentence(speeds, times, samples: int, best: str, fastest: str) -> str:
    """What auto compared and why it took `best`, in one sentence: each engine's predicted
    whole run, split into its fixed cost (start-up, compiling, ending) and its epochs."""

    def parts(engine: str) -> str:
        fixed = speeds.get(f"{engine}:fixed", 0.0)
        return (
            f"{LABELS[engine]} {times[engine]:,.1f} s ({fixed:,.1f} s to start, compile and "
            f"end, {times[engine] - fixed:,.1f} s of epochs at {speeds[engine]:,.0f} samples/s)"
        )

    shown = ", ".join(parts(e) for e in sorted(times, key=times.get))
    if best != fastest:
        why = (
            f"{LABELS[fastest]} would save less than {SAVING:.0%} and {MIN_SAVING_SECONDS:g} s, "
            "not worth a worker process"
        )
    else:
        why = "it ends this run soonest"
    return f"auto chose {LABELS[best]} for this run of {samples:,} samples, as {why}: {shown}"


SHORT_RUN_SAMPLES = 100_000  # about 20 s of TensorFlow on a small CPU: not worth a probe
SAVING, MIN_SAVING_SECONDS = 0.10, 1.0


def rates(speeds: dict[str, float]) -> dict[str, float]:
    """The samples/s of each engine in a probe's figures (without their fixed costs)."""
    return {e: s for e, s in speeds.items() if ":" not in e and e in LABELS}


def predicted_seconds(speeds: dict[str, float], engine: str, samples: int) -> float | None:
    rate = speeds.get(engine, 0.0)
    if rate <= 0:
        return None
    return speeds.get(f"{engine}:fixed", 0.0) + samples / rate


@runtime_checkable
class Engine(Protocol):
    """One run's training as a front end holds it: TrainingEngine (in this process) and
    WorkerEngine (supervising a worker process) are both one. `run` trains to the end on the
    thread that calls it and never raises; the controls may be called from any other thread,
    and act after the batch in flight."""

    def run(self) -> RunResult: ...

    def stop(self) -> None:
        """Stop after the batch in flight; also ends a pause."""

    def pause(self) -> None:
        """Hold before the next batch until resume() or stop()."""

    def resume(self) -> None: ...

    @property
    def is_paused(self) -> bool: ...

    @property
    def stop_requested(self) -> bool: ...


def make_engine(engine: str, project, data, config, listener, *, dataset_spec, run_dir,
                resume: bool = False, cluster=None) -> Engine:  # fmt: skip
    """The engine for one run: TrainingEngine in this process (XLA compiles), or a
    WorkerEngine supervising a worker process (JAX, or rank 0 of `cluster`, a run on several
    machines, with the cluster's engine)."""
    if engine == "jax" or cluster is not None:
        backend = cluster.engine if cluster is not None else "jax"
        return worker_process.WorkerEngine(
            backend, project, data, config, listener, dataset_spec=dataset_spec, run_dir=run_dir,
            resume=resume, cluster=cluster,
        )  # fmt: skip
    config = config.with_overrides(engine=engine)
    return TrainingEngine(project.graph, data, config, listener, project=project,
                          dataset_spec=dataset_spec, run_dir=run_dir, resume=resume)  # fmt: skip


@dataclass
class Measurement:
    """Each engine's samples/s on a project's model, and what `auto` takes for its run."""

    speeds: dict[str, float]
    auto: str
    note: str


def measure_project(project) -> Measurement:
    """Each engine measured on the project's model and data (cached per machine and model
    shape, so a second call answers at once): the Training panel's engine choice."""
    config = TrainingConfig.from_dict(project.training)
    data = PreparedRun(project, dict(project.dataset), config, Path(), False).load_data()
    speeds = probe(project, data, config)
    auto, note = choose(project, data, config, speeds)
    return Measurement(rates(speeds), auto, note)


def speeds_sentence(speeds: dict[str, float]) -> str:
    """'JAX (worker process) 10,478 · TensorFlow 3,301 samples/s' (fastest first), or why not."""
    usable = sorted(((s, e) for e, s in rates(speeds).items() if s > 0), reverse=True)
    if not usable:
        return "No engine could train this model in the measurement."
    shown = " · ".join(f"{LABELS[e]} {s:,.0f}" for s, e in usable)
    return f"Measured on this machine: {shown} samples/s."


# ----------------------------------------------------------------------------- the probe
def model_key(project, data, config) -> str:
    """What decides the speeds: the machine, the layers and shapes, the batch size."""
    graph = project.graph.to_dict()
    for node in graph.get("nodes", []):
        node.get("config", {}).pop("name", None)
        node.pop("id", None)
    what = {
        "machine": [platform.machine(), platform.processor(), os.cpu_count()],
        "graph": graph["nodes"],
        "edges": len(graph.get("edges", [])),
        "shape": list(data.sample_shape),
        "batch": config.batch_size,
        "engines": available(),
        "probe": 2,  # speeds and fixed costs (the first version kept only speeds)
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _cache_path() -> Path:
    base = os.environ.get("DEEPGUI_CONFIG_DIR") or os.path.join(Path.home(), ".config", "deepgui")
    return Path(base) / PROBE_FILE


def cached(key: str) -> dict[str, float] | None:
    try:
        data = json.loads(_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get(key) if isinstance(data, dict) else None
    return {str(k): float(v) for k, v in entry.items()} if isinstance(entry, dict) else None


def _remember(key: str, speeds: dict[str, float]) -> None:
    path = _cache_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    data[key] = speeds
    with contextlib.suppress(OSError):  # a read-only config folder: the probe runs again next time
        atomic_write_text(path, json.dumps(data, indent=1))


def probe(project, data, config) -> dict[str, float]:
    """Samples per second of each available engine on this model and data (a few batches each,
    after compiling); cached per machine and model shape."""
    key = model_key(project, data, config)
    speeds = cached(key)
    if speeds is not None:
        return speeds
    speeds = {}
    for engine in available():
        try:
            if engine == "jax":
                rate, fixed = _probe_in_worker(project, data, config)
            else:
                jit = True if engine == "xla" else "auto"  # as the engines themselves compile
                rate, fixed = probe_here(project.graph, data, config, jit=jit)
        except Exception:  # noqa: BLE001 - an engine that cannot run the model is not chosen
            rate, fixed = 0.0, 0.0
        speeds[engine], speeds[f"{engine}:fixed"] = rate, round(fixed, 3)
    _remember(key, speeds)
    return speeds


def probe_here(graph, data, config, jit: bool | str = "auto") -> tuple[float, float]:
    """Train a fresh copy of the model on a few batches with this process's backend: samples/s
    of the third epoch of one `fit` (under JAX the first two still compile; a second `fit`
    call would compile again), and the seconds the three epochs took beyond three at that
    speed (the compiling, a fixed cost of every run)."""
    n = min(data.num_train, PROBE_BATCHES * config.batch_size)
    x = data.x_train
    x = {k: v[:n] for k, v in x.items()} if isinstance(x, dict) else x[:n]
    y = data.y_train[:n]
    model = _compiled(graph, data, config, PROBE_BATCHES, jit)
    from deepgui.core.training.callbacks import EpochClock  # imports Keras

    clock = EpochClock()
    model.fit(x, y, batch_size=config.batch_size, epochs=3, verbose=0, callbacks=[clock])
    marks = clock.marks
    steady = marks[5] - marks[4]
    return n / steady, max(0.0, marks[5] - marks[0] - 3 * steady)


# What a JAX run does after training that the probe does not: the parent loads the network,
# puts the preprocessing in front and saves it (measured 1.5-1.7 s on the bundled examples).
JAX_ENDING_SECONDS = 1.5


def _run_in_worker(project, data, config, rows: int, *args: str):
    """The probe (probe_entry.py) run in a JAX process on the first `rows` training rows, handed over as a
    JAX run's are; the finished process."""
    with tempfile.TemporaryDirectory(prefix="deepgui-probe-") as folder:
        handover.write(Path(folder), data, handover.describe(data, project, config), limit=rows)
        return subprocess.run(
            [sys.executable, "-m", "deepgui.core.training.probe_entry", folder, *args],
            capture_output=True, text=True, env=worker_process.worker_environment("jax"),
            timeout=300,
        )  # fmt: skip


def _probe_in_worker(project, data, config) -> tuple[float, float]:
    n = min(data.num_train, PROBE_BATCHES * config.batch_size)
    started = time.perf_counter()
    out = _run_in_worker(project, data, config, n)
    wall = time.perf_counter() - started
    if out.returncode != 0:
        return 0.0, 0.0
    rate, fixed = (float(v) for v in out.stdout.strip().splitlines()[-1].split())
    # The process's start and imports count as fixed costs too: all but the steady epochs.
    steady = 3 * n / rate
    return rate, max(fixed, wall - steady) + JAX_ENDING_SECONDS


def probe_main(folder: str, check: bool = False) -> None:
    """In the JAX process: the probe on the arrays handed over, or with `check`, whether the
    model trains at all ("ok", or the error's first line)."""
    data, meta = handover.read(Path(folder))
    project = handover.project_of(meta, str(Path(folder) / handover.META_FILE))
    config = TrainingConfig.from_dict(meta["config"])
    if not check:
        rate, fixed = probe_here(project.graph, data, config)
        print(rate, fixed)
        return
    try:
        train_briefly(project.graph, data, config)
    except Exception as exc:  # noqa: BLE001 - the answer is what failed
        print(" ".join(describe_error(exc).split()) or type(exc).__name__)
        sys.exit(1)
    print("ok")


def train_briefly(graph, data, config) -> None:
    """One epoch of the rows given, as a run would train them: raises what the run would."""
    model = _compiled(graph, data, config, 2)
    model.fit(data.x_train, data.y_train, batch_size=config.batch_size, epochs=1, verbose=0)


def _compiled(graph, data, config, steps: int, jit: bool | str = "auto"):
    """A fresh copy of the model, compiled with the run's optimizer and loss."""
    model = build_model(graph)
    units = model.outputs[0].shape[-1]
    model.compile(optimizer=make_optimizer(config, steps),
                  loss=config.resolved_loss(data, units), jit_compile=jit)  # fmt: skip
    return model
