"""Training in the app's Training panel (worker thread, live plots redrawn from a timer) against
a plain Keras script on the same model, data and batch size, in one process, both orders.

Prints medians of:
- throughput: samples per second of training time (each epoch from its first batch to the end
  of its last, validation excluded, measured the same way in both), and the app/plain ratio
  (aim: at least 0.95);
- wall clock of the whole fit (the app also writes a checkpoint every epoch);
- event-loop lateness of a 10 ms QTimer on the GUI thread while the app trains: p50, p99
  (aim: under 20 ms) and the maximum.

    .venv/bin/python benchmarks/bench_ui_training.py [--epochs 6] [--repeats 2]
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


def make_project(folder: Path, epochs: int) -> Project:
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
        training={"epochs": epochs, "batch_size": BATCH, "learning_rate": 0.001, "device": "cpu"},
    )
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
    from deepgui.ui.training.panel import TrainingPanel

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

    def on_tick():
        now = clock.nsecsElapsed()
        if training[0] and last[0]:
            late = max(0.0, (now - last[0]) / 1e6 - 10.0)
            lateness.append(late)
            if panel.current_epoch >= 2:  # after the model is built and fit is traced
                steady_lateness.append(late)
        last[0] = now

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
    lat = np.array(lateness) if lateness else np.zeros(1)
    steady_lat = np.array(steady_lateness) if steady_lateness else np.zeros(1)
    return {
        "rate": panel.num_train * (n - 1) / steady if steady else 0.0,
        "engine_rate": metrics.get("samples_per_second", 0.0),
        "wall": wall,
        "p50": float(np.percentile(lat, 50)),
        "p99": float(np.percentile(lat, 99)),
        "max": float(lat.max()),
        "steady_p99": float(np.percentile(steady_lat, 99)),
        "steady_max": float(steady_lat.max()),
        "ticks": len(lateness),
        "gui_cpu": gui_cpu / wall,
        "reason": done[0],
    }


def idle_lateness(app: QApplication, seconds: float = 3.0) -> dict:
    """The same 10 ms timer with nothing training: what the machine itself adds."""
    clock = QElapsedTimer()
    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.setInterval(10)
    late: list[float] = []
    last = [0]

    def on_tick():
        now = clock.nsecsElapsed()
        if last[0]:
            late.append(max(0.0, (now - last[0]) / 1e6 - 10.0))
        last[0] = now

    tick.timeout.connect(on_tick)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    clock.start()
    tick.start()
    loop.exec()
    tick.stop()
    lat = np.array(late)
    return {"p99": float(np.percentile(lat, 99)), "max": float(lat.max())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
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
    import keras  # noqa: F401 - import TensorFlow before timing anything

    plain_keras(project, data, 2)  # warm up TensorFlow in this process
    idle = idle_lateness(app)
    plains, apps, engines = [], [], []
    for r in range(args.repeats):
        order = ("plain", "engine", "app") if r % 2 == 0 else ("app", "engine", "plain")
        for which in order:
            if which == "plain":
                out = plain_keras(project, data, args.epochs)
                plains.append(out)
            elif which == "engine":
                out = engine_alone(project, data, args.epochs, folder)
                engines.append(out)
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
    e_rate = med(x["rate"] for x in engines)
    print(
        f"engine, no UI    : {e_rate:10.0f} samples/s (median)   run wall {med(x['wall'] for x in engines):6.2f} s"
    )
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
    print(f"GUI thread CPU while training: {med(x['gui_cpu'] for x in apps):.1%} of wall time")


if __name__ == "__main__":
    main()
