"""Training in the app's Training panel (worker thread, live plots redrawn from a timer) against
a plain Keras script on the same model, data and batch size, in one process, both orders.

The app trains twice per repeat, started from its panel as a user would: with the TensorFlow
engine (training in the app's QThread, in this interpreter) and with the JAX worker engine
(training.engine "jax": the same QThread starts and supervises a child process that trains,
so this interpreter only relays its events and draws). The plain script is TensorFlow Keras.

Prints medians of:
- throughput: samples per second of training time (each epoch from its first batch to the end
  of its last, validation excluded, measured the same way in both), and the app/plain ratio
  (aim: at least 0.95 with TensorFlow in the QThread, 0.98 with the JAX worker);
- wall clock of the whole fit (the app also writes a checkpoint every epoch; the JAX worker's
  process start-up is in its wall);
- event-loop lateness of a 10 ms QTimer on the GUI thread while the app trains: p50, p99
  (aim: under 20 ms with TensorFlow in the QThread, at most 5 ms with the JAX worker) and the
  maximum; by part of the run (start-up to epoch 2, epochs 2..N, the ending after the last
  epoch); and, of the ticks over 5 ms late, how much of their lateness was the GUI thread's own
  CPU time rather than waiting for the GIL or a core;
- the same timer with nothing training, and while a plain JAX Keras script of the same model
  trains in a child process with nothing else in this process: what the machine's cores alone
  leave the GUI thread while a worker process trains (the floor for the JAX worker's figure).

    .venv/bin/python benchmarks/bench_ui_training.py [--epochs 6] [--repeats 2] [--no-jax]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from deepgui.core import catalogue  # noqa: E402
from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402

BATCH = 32


def make_project(folder: Path, epochs: int, engine: str = "tensorflow") -> Project:
    g = Graph()

    def add(cls, *after, **params):
        spec = catalogue.get(cls)
        cfg = spec.default_config() if spec else {}
        cfg.update(params)
        node = g.add_node(cls, cfg)
        for port, src in enumerate(after):
            g.connect(src.id, node.id, port)
        return node

    inp = add("InputLayer", shape=[8, 8, 1])
    conv = add("Conv2D", inp, filters=32, kernel_size=[3, 3], activation="relu", padding="same")
    flat = add("Flatten", conv)
    hid = add("Dense", flat, units=128, activation="relu")
    add("Dense", hid, units=10, activation="softmax")
    project = Project(
        graph=g,
        dataset={"source": "builtin", "name": "digits", "validation_split": 0.2},
        training={"epochs": epochs, "batch_size": BATCH, "learning_rate": 0.001, "device": "cpu",
                  "engine": engine},
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    project.save(folder / "bench.dgproj")
    return project


def epoch_timer(keras):
    """Times each epoch's training part exactly as the engine does (first batch to test)."""

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []
            self.t0 = self.t_end = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.t0, self.t_end = time.perf_counter(), 0.0

        def on_test_begin(self, logs=None):
            self.t_end = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append((self.t_end or time.perf_counter()) - self.t0)

    return Timer()


def plain_keras(project: Project, data, epochs: int) -> dict:
    import keras

    from deepgui.core.build import build_model

    keras.utils.set_random_seed(42)
    model = build_model(project.graph)
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])  # fmt: skip
    timer = epoch_timer(keras)
    t = time.perf_counter()
    model.fit(data.x_train, data.y_train, batch_size=BATCH, epochs=epochs,
              validation_data=(data.x_val, data.y_val), callbacks=[timer], verbose=0)  # fmt: skip
    wall = time.perf_counter() - t
    # The first epoch traces the function: compare the steady state.
    steady = sum(timer.seconds[1:])
    return {"rate": data.num_train * (epochs - 1) / steady, "wall": wall}


def engine_alone(project: Project, data, epochs: int, folder: Path) -> dict:
    """The core engine with no UI (as the CLI runs it), timed per batch like the app."""
    from deepgui.core.training.config import TrainingConfig
    from deepgui.core.training.engine import TrainingEngine, TrainingListener

    class Timer(TrainingListener):
        def __init__(self):
            self.t = 0.0
            self.per_epoch: dict[int, float] = {}
            self.epoch = 0

        def epoch_started(self, epoch):
            self.epoch, self.t = epoch, time.perf_counter()

        def batch_ended(self, step, logs):
            now = time.perf_counter()
            self.per_epoch[self.epoch] = self.per_epoch.get(self.epoch, 0.0) + now - self.t
            self.t = now

    timer = Timer()
    cfg = TrainingConfig.from_dict(project.training).with_overrides(epochs=epochs)
    run_dir = Path(tempfile.mkdtemp(dir=folder))
    t = time.perf_counter()
    TrainingEngine(project.graph, data, cfg, timer, project=project, run_dir=run_dir).run()
    wall = time.perf_counter() - t
    steady = sum(v for e, v in timer.per_epoch.items() if e >= 2)
    return {"rate": data.num_train * (len(timer.per_epoch) - 1) / steady, "wall": wall}


def in_app(app: QApplication, project: Project, epochs: int) -> dict:
    """One run started from the Training panel, with the engine in the project's settings."""
    from deepgui.ui.training.panel import TrainingPanel

    switch = sys.getswitchinterval()  # the run lowers it for this process: put it back after
    panel = TrainingPanel(lambda: project)
    panel.resize(1400, 800)
    panel.show()
    app.processEvents()
    epoch_times: list[float] = []
    starts: dict[int, float] = {}
    lateness: list[float] = []
    clock = QElapsedTimer()
    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.setInterval(10)
    last = [0]
    training = [False]

    steady_lateness: list[float] = []
    epochs_lateness: list[float] = []
    start_lateness: list[float] = []
    ending_lateness: list[float] = []
    # For each late tick (over 5 ms), how much of its interval the GUI thread itself ran
    # (its CPU time: drawing, handling events) against how much it waited (for the GIL or a core).
    late_own: list[float] = []
    late_wait: list[float] = []
    cpu_last = [0.0]

    def on_tick():
        now = clock.nsecsElapsed()
        cpu = time.thread_time()
        if training[0] and last[0]:
            late = max(0.0, (now - last[0]) / 1e6 - 10.0)
            lateness.append(late)
            if panel.current_epoch < 2:  # start-up: data, model, the first epoch compiles
                start_lateness.append(late)
            else:  # after the model is built and fit is traced
                steady_lateness.append(late)
                # The last epoch's end shown: what is left is the ending (the final save and
                # the evaluation; for a worker, its exit and the model's hand-back).
                ending = len(panel.epochs_seen) >= panel.total_epochs
                (ending_lateness if ending else epochs_lateness).append(late)
            if late > 5.0:
                own = min(late, (cpu - cpu_last[0]) * 1000)
                late_own.append(own)
                late_wait.append(late - own)
        last[0] = now
        cpu_last[0] = cpu

    tick.timeout.connect(on_tick)
    done = []
    panel.run_finished.connect(done.append)

    def started(*_):
        training[0] = True

    t_wall = [0.0]
    panel.run_started.connect(lambda: t_wall.__setitem__(0, time.perf_counter()))
    clock.start()
    tick.start()
    assert panel.start_training()
    w = panel.run.worker
    w.started.connect(started)
    # Batch timing from the relay: the worker measures each batch; an epoch's training time
    # is the sum of its batch times (the same span the plain script's timer measures).
    # Plain functions, so they run in order with the signals (no widget is touched).
    current = [0]

    def on_epoch(epoch):
        current[0] = epoch
        starts[epoch] = 0.0

    def on_batches(batches):
        for _step, _logs, seconds in batches:
            starts[current[0]] = starts.get(current[0], 0.0) + seconds

    w.epoch_started.connect(on_epoch)
    w.batches_ended.connect(on_batches)
    loop = QEventLoop()
    panel.run_finished.connect(loop.quit)
    cpu0 = time.thread_time()
    if not done:
        loop.exec()
    gui_cpu = time.thread_time() - cpu0
    training[0] = False
    wall = time.perf_counter() - t_wall[0]
    tick.stop()
    panel.shutdown(10000)
    epoch_times = [starts[e] for e in sorted(starts)]
    steady = sum(epoch_times[1:])
    metrics = panel.last_metrics
    n = metrics.get("epochs_run", epochs)
    panel.close()
    panel.deleteLater()
    app.processEvents()
    sys.setswitchinterval(switch)
    if done[0] != "completed" or metrics.get("engine") != project.training["engine"]:
        raise SystemExit(f"the app's {project.training['engine']} run ended {done[0]!r} with "
                         f"engine {metrics.get('engine')!r}: {metrics.get('message')}")  # fmt: skip
    lat = np.array(lateness) if lateness else np.zeros(1)
    steady_lat = np.array(steady_lateness) if steady_lateness else np.zeros(1)
    epochs_lat = np.array(epochs_lateness) if epochs_lateness else np.zeros(1)
    start_lat = np.array(start_lateness) if start_lateness else np.zeros(1)
    ending_lat = np.array(ending_lateness) if ending_lateness else np.zeros(1)
    return {
        "rate": panel.num_train * (n - 1) / steady if steady else 0.0,
        "engine_rate": metrics.get("samples_per_second", 0.0),
        "wall": wall,
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
        "max": float(lat.max()),
        "steady_p99": float(np.percentile(steady_lat, 99)),
        "steady_max": float(steady_lat.max()),
        "start_p99": float(np.percentile(start_lat, 99)),
        "start_max": float(start_lat.max()),
        "start_s": sum(10.0 + late for late in start_lateness) / 1000,
        "epochs_p99": float(np.percentile(epochs_lat, 99)),
        "epochs_max": float(epochs_lat.max()),
        "epochs_s": sum(10.0 + late for late in epochs_lateness) / 1000,
        "ending_p99": float(np.percentile(ending_lat, 99)),
        "ending_max": float(ending_lat.max()),
        "ending_s": sum(10.0 + late for late in ending_lateness) / 1000,
        "ticks": len(lateness),
        "gui_cpu": gui_cpu / wall,
        "late_ticks": len(late_own),
        "late_own": float(sum(late_own)),
        "late_wait": float(sum(late_wait)),
        "reason": done[0],
    }


def phases(runs: list[dict]) -> str:
    """p99 and max lateness in each part of a run: start-up to epoch 2 (data, model, the
    first epoch compiling; a worker's process start), epochs 2..N, and the ending (after the
    last epoch: the final save and evaluation; a worker's exit and the model's hand-back)."""
    med = statistics.median
    parts = [
        f"{label} ({med(x[key + '_s'] for x in runs):.1f} s) p99 "
        f"{med(x[key + '_p99'] for x in runs):.2f} ms, max {max(x[key + '_max'] for x in runs):.1f} ms"
        for key, label in (("start", "start-up"), ("epochs", "epochs 2..N"), ("ending", "ending"))
    ]
    return "    by part: " + "; ".join(parts)


def late_split(runs: list[dict]) -> str:
    n = sum(x["late_ticks"] for x in runs)
    own, wait = sum(x["late_own"] for x in runs), sum(x["late_wait"] for x in runs)
    share = own / (own + wait) if own + wait else 0.0
    return (f"  ticks over 5 ms late: {n}; of their lateness {share:.0%} was the GUI thread's own "
            f"work (its CPU time: drawing, events), {1 - share:.0%} waiting for the GIL or a "
            "core")  # fmt: skip


CHILD = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
sys.path.insert(0, {root!r})
import numpy as np
import keras
from deepgui.core.build import build_model
from deepgui.core.project import load_project
arrays = np.load({npz!r})
model = build_model(load_project({project!r}).graph)
model.compile(optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
fit = dict(x=arrays["x"], y=arrays["y"], batch_size={batch}, verbose=0)
model.fit(epochs=1, **fit)  # compiles
print("training", flush=True)
model.fit(epochs={epochs}, **fit)
"""


def child_lateness(app: QApplication, project: Project, data, epochs: int, folder: Path) -> dict:
    """The same 10 ms timer while a plain JAX Keras script of the same model trains in a child
    process and this process does nothing else: what the machine's cores alone allow the GUI
    thread while a worker process trains (the floor for the JAX worker's figure)."""
    import subprocess
    import threading

    npz = folder / "child.npz"
    if not npz.exists():
        np.savez(npz, x=data.x_train, y=data.y_train)
    code = CHILD.format(root=str(Path(__file__).resolve().parents[1]), npz=str(npz),
                        project=str(project.path), batch=BATCH, epochs=epochs)  # fmt: skip
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=env)  # fmt: skip
    go = threading.Event()
    threading.Thread(target=lambda: [go.set() for line in child.stdout if "training" in line],
                     daemon=True).start()  # fmt: skip
    return timer_lateness(lambda: child.poll() is not None, go.is_set)


def idle_lateness(app: QApplication, seconds: float = 3.0) -> dict:
    """The same 10 ms timer with nothing training: what the machine itself adds."""
    clock = QElapsedTimer()
    clock.start()
    return timer_lateness(lambda: clock.elapsed() >= seconds * 1000, lambda: True)


def timer_lateness(done, counting) -> dict:
    """A 10 ms precise timer on this thread until `done()`: the lateness of its ticks while
    `counting()`, as p50, p99, max (ms) and the number of ticks counted."""
    clock = QElapsedTimer()
    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.setInterval(10)
    late: list[float] = []
    last = [0]
    loop = QEventLoop()

    def on_tick():
        now = clock.nsecsElapsed()
        if done():
            loop.quit()
        elif counting() and last[0]:
            late.append(max(0.0, (now - last[0]) / 1e6 - 10.0))
        last[0] = now

    tick.timeout.connect(on_tick)
    clock.start()
    tick.start()
    loop.exec()
    tick.stop()
    lat = np.array(late) if late else np.zeros(1)
    return {"p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)),
            "max": float(lat.max()), "ticks": len(late)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-jax", dest="jax", action="store_false",
                        help="skip the app with the JAX worker engine")  # fmt: skip
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="sys.setswitchinterval for both (seconds)",
    )
    args = parser.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    app = QApplication.instance() or QApplication(sys.argv)
    from deepgui.core.data import load_dataset

    folder = Path(tempfile.mkdtemp(prefix="deepgui-bench-"))
    project = make_project(folder, args.epochs)
    data = load_dataset(project.dataset, folder)
    from deepgui.core.training import engines

    if args.jax and "jax" not in engines.available():
        print("JAX is not installed here: the app with the JAX worker is skipped")
        args.jax = False
    # Its own folder: its runs are kept apart from the TensorFlow ones.
    project_jax = make_project(folder / "jax", args.epochs, engine="jax") if args.jax else None
    import keras  # noqa: F401 - import TensorFlow before timing anything

    plain_keras(project, data, 2)  # warm up TensorFlow in this process
    idle = idle_lateness(app)
    plains, apps, engines_alone, apps_jax, floors = [], [], [], [], []
    for r in range(args.repeats):
        order = ["plain", "engine", "app", *(["app_jax", "floor"] if args.jax else [])]
        for which in order if r % 2 == 0 else order[::-1]:
            if which == "plain":
                out = plain_keras(project, data, args.epochs)
                plains.append(out)
            elif which == "engine":
                out = engine_alone(project, data, args.epochs, folder)
                engines_alone.append(out)
            elif which == "app_jax":
                out = in_app(app, project_jax, args.epochs)
                apps_jax.append(out)
            elif which == "floor":
                out = child_lateness(app, project, data, args.epochs, folder)
                floors.append(out)
            else:
                out = in_app(app, project, args.epochs)
                apps.append(out)
            shown = {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}
            print(f"  run {r + 1} {which}: {shown}", flush=True)
    med = statistics.median
    p_rate, a_rate = med(x["rate"] for x in plains), med(x["rate"] for x in apps)
    p_wall, a_wall = med(x["wall"] for x in plains), med(x["wall"] for x in apps)
    print(f"model: Conv2D(32)-Dense(128)-Dense(10) on digits ({data.num_train} training samples), "
          f"batch {BATCH}, {args.epochs} epochs, {args.repeats} repeats each, both orders")  # fmt: skip
    print(f"plain Keras      : {p_rate:10.0f} samples/s (median)   fit wall {p_wall:6.2f} s")
    print(f"app, live plots  : {a_rate:10.0f} samples/s (median)   run wall {a_wall:6.2f} s")
    e_rate = med(x["rate"] for x in engines_alone)
    e_wall = med(x["wall"] for x in engines_alone)
    print(f"engine, no UI    : {e_rate:10.0f} samples/s (median)   run wall {e_wall:6.2f} s")
    print(
        f"throughput ratio engine (no UI)/plain: {e_rate / p_rate:.3f}; app/engine: {a_rate / e_rate:.3f}"
    )
    print(f"throughput ratio app/plain: {a_rate / p_rate:.3f}   (aim >= 0.95)")
    print(f"wall ratio plain/app (incl. per-epoch checkpoints): {p_wall / a_wall:.3f}")
    print(f"event-loop lateness of a 10 ms timer while training: p50 {med(x['p50'] for x in apps):.2f} ms, "
          f"p99 {med(x['p99'] for x in apps):.2f} ms (aim < 20), max {max(x['max'] for x in apps):.1f} ms "
          f"over {sum(x['ticks'] for x in apps)} ticks")  # fmt: skip
    print(
        f"  from epoch 2 on (model built, fit traced): p99 {med(x['steady_p99'] for x in apps):.2f} ms, "
        f"max {max(x['steady_max'] for x in apps):.1f} ms"
    )
    print(
        f"  the same timer with nothing training (machine baseline): p99 {idle['p99']:.2f} ms, "
        f"max {idle['max']:.1f} ms"
    )
    print(phases(apps))
    print(f"GUI thread CPU while training: {med(x['gui_cpu'] for x in apps):.1%} of wall time")
    print(late_split(apps))
    if not apps_jax:
        return
    j_rate, j_wall = med(x["rate"] for x in apps_jax), med(x["wall"] for x in apps_jax)
    print("app, JAX worker engine (training in a child process; the panel relays and draws):")
    print(f"app, JAX worker  : {j_rate:10.0f} samples/s (median)   run wall {j_wall:6.2f} s   "
          f"(the worker's own figure {med(x['engine_rate'] for x in apps_jax):.0f})")  # fmt: skip
    j_ratio, j_p99 = j_rate / p_rate, med(x["p99"] for x in apps_jax)
    print(f"throughput ratio app (JAX worker)/plain TF script: {j_ratio:.3f}   (aim >= 0.98: "
          f"{'meets' if j_ratio >= 0.98 else 'BELOW'}); app (JAX worker)/app (TensorFlow): "
          f"{j_rate / a_rate:.3f}")  # fmt: skip
    print(f"wall ratio plain/app (JAX worker, its start-up included): {p_wall / j_wall:.3f}")
    print(f"event-loop lateness of a 10 ms timer while the JAX worker trains: p50 "
          f"{med(x['p50'] for x in apps_jax):.2f} ms, p99 {j_p99:.2f} ms (aim <= 5: "
          f"{'meets' if j_p99 <= 5 else 'ABOVE'}), max {max(x['max'] for x in apps_jax):.1f} ms "
          f"over {sum(x['ticks'] for x in apps_jax)} ticks")  # fmt: skip
    print(
        f"  from epoch 2 on: p99 {med(x['steady_p99'] for x in apps_jax):.2f} ms, "
        f"max {max(x['steady_max'] for x in apps_jax):.1f} ms"
    )
    print(phases(apps_jax))
    print(
        f"GUI thread CPU while the JAX worker trains: {med(x['gui_cpu'] for x in apps_jax):.1%} "
        "of wall time"
    )
    print(late_split(apps_jax))
    print(f"  the same timer while a plain JAX Keras script trains in a child process, nothing in "
          f"this process (the machine's floor): p50 {med(x['p50'] for x in floors):.2f} ms, p99 "
          f"{med(x['p99'] for x in floors):.2f} ms, max {max(x['max'] for x in floors):.1f} ms "
          f"over {sum(x['ticks'] for x in floors)} ticks")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
