"""The GUI thread stays responsive while a run trains: the live plots draw in short slices (one
plot per timer tick), the end of a run is shown over several event-loop turns, and a 10 ms
timer stays on time while a worker's signals stream in from another thread.

Timing bounds are generous (a loaded 2-core machine runs these); what they catch is a slice
that grows back to the 20-85 ms the plots and the end of a run used to take at once."""

from __future__ import annotations

import statistics
import threading
import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QThread, QTimer, Signal  # noqa: E402

from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.core.training import rundir  # noqa: E402
from deepgui.ui.training import panel as panel_module  # noqa: E402
from deepgui.ui.training.plots import LivePlots  # noqa: E402
from tests.helpers import add  # noqa: E402
from tests.machine import within  # noqa: E402

pytestmark = pytest.mark.ui

EPOCH_LOGS = ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")


def epoch_logs(epoch: int) -> dict[str, float]:
    return {"loss": 1.0 / epoch, "val_loss": 1.1 / epoch, "accuracy": 1 - 0.5 / epoch,
            "val_accuracy": 1 - 0.6 / epoch, "learning_rate": 0.001}  # fmt: skip


def fed_plots(qtbot, epochs: int = 40, steps: int = 125) -> LivePlots:
    """Plots on screen holding a realistic run: 5,000 batch points and 40 epochs."""
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(1100, 320)
    plots.show()
    qtbot.waitExposed(plots)
    plots.reset(steps)
    plots.set_epochs(0, epochs)
    rng = np.random.default_rng(0)
    for e in range(1, epochs + 1):
        for s in range(1, steps + 1):
            plots.add_batch(e, s, {"loss": 2.0 / (e + s / steps) + 0.05 * rng.random()})
        plots.add_epoch(e, epoch_logs(e))
    plots.redraw()
    qtbot.wait(20)
    return plots


def test_a_tick_brings_one_plot_up_to_date_and_redraw_all(qtbot):
    plots = fed_plots(qtbot, epochs=3, steps=10)
    assert not plots.pending()
    plots.add_batch(3, 10, {"loss": 0.5})
    plots.add_epoch(4, epoch_logs(4))  # new points on all three plots
    assert plots.pending()
    plots.tick()
    changed = [w for w in ("loss", "metrics", "learning_rate") if plots._changed(w)]
    assert len(changed) == 2  # one plot drawn, two left for the next ticks
    plots.tick()
    plots.tick()
    assert not plots.pending()
    assert list(plots.curve_data("accuracy")[0]) == [1, 2, 3, 4]
    plots.tick()  # nothing new: nothing drawn
    assert plots.redraws == 3 + 1 + 1  # reset, the full redraw, three ticks (not the idle one)
    # New series get their curve one per tick (a legend entry each); a full redraw makes all.
    plots.add_epoch(5, {**epoch_logs(5), "precision": 0.5, "val_precision": 0.4})
    assert plots.curve_data("precision") == (None, None)
    plots.tick()
    assert "precision" in plots._curves and "val_precision" not in plots._curves
    assert plots.readout_at(plots.metric_plot, 5).startswith("epoch 5")
    plots.redraw()
    assert len(plots.curve_data("val_precision")[0]) == 1 and not plots.pending()


def test_a_tick_with_thousands_of_points_is_a_short_slice(qtbot):
    plots = fed_plots(qtbot)
    assert len(plots.curve_data("batch_raw")[0]) == 5000
    ticks, paints = [], []
    for i in range(15):
        plots.add_batch(40, 125, {"loss": 0.05 + 0.001 * i})
        t = time.perf_counter()
        plots.tick()
        ticks.append(time.perf_counter() - t)
        t = time.perf_counter()
        plots.loss_plot.repaint()  # the paint the tick causes, now
        paints.append(time.perf_counter() - t)
    assert len(plots.curve_data("batch_raw")[0]) == 5015
    # Measured on 2 cores: about 0.5 ms a tick and 2-3 ms a paint.
    assert statistics.median(ticks) < 0.005, ticks
    assert statistics.median(paints) < 0.015, paints


class FakeWorker(QObject):
    """The worker's signals, emitted from a plain thread as a JAX worker's relay emits them."""

    status = Signal(str)
    started = Signal(int, int, int, object)
    epoch_started = Signal(int)
    batches_ended = Signal(object)
    epoch_ended = Signal(int, object)
    overfitting_detected = Signal(object)
    paused = Signal()
    resumed = Signal()
    finished = Signal(str, object, object)
    model = None

    def stop(self) -> None:
        pass


EPOCHS, STEPS = 8, 36


def evaluation_result(rng) -> dict:
    return {"split": "test", "count": 180, "metrics": {"loss": 0.1, "accuracy": 0.95},
            "confusion": np.diag(np.full(10, 18)), "class_names": [str(i) for i in range(10)],
            "y_true": np.arange(180) % 10, "y_pred": np.arange(180) % 10,
            "images": rng.random((16, 8, 8, 1)) * 16}  # fmt: skip


class FakeRun(QObject):
    """Stands in for TrainingRun: a thread streams a short run's events, every 3 ms a batch,
    bundled every 30 ms as the relay bundles them, then the finish with an evaluation."""

    def __init__(self, project, run_dir, data=None) -> None:
        super().__init__()
        self.worker = FakeWorker()
        self.thread = QThread()  # never started: the panel only connects to its signal
        self.done = False
        self.run_dir = run_dir
        self._pump: threading.Thread | None = None

    def start(self) -> None:
        w = self.worker

        def pump() -> None:
            rng = np.random.default_rng(0)
            info = {"batch_size": 32, "num_train": 1150, "num_val": 287, "device": "cpu",
                    "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}  # fmt: skip
            w.started.emit(STEPS, EPOCHS, 0, info)
            for e in range(1, EPOCHS + 1):
                w.epoch_started.emit(e)
                pending, last = [], time.perf_counter()
                for s in range(1, STEPS + 1):
                    time.sleep(0.003)
                    pending.append((s, {"loss": 2 / (e + s / STEPS), "accuracy": 0.5}, 0.003))
                    if time.perf_counter() - last >= 0.03:
                        w.batches_ended.emit(pending)
                        pending, last = [], time.perf_counter()
                if pending:
                    w.batches_ended.emit(pending)
                w.epoch_ended.emit(e, epoch_logs(e))
            metrics = {"stopped_by": "completed", "epochs_run": EPOCHS}
            rundir.write_json(self.run_dir / "metrics.json", metrics)  # as the engine does
            w.finished.emit("completed", metrics, evaluation_result(rng))

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()

    def is_running(self) -> bool:
        return self._pump is not None and self._pump.is_alive()

    def wait(self, timeout_ms: int) -> bool:
        if self._pump is not None:
            self._pump.join(timeout_ms / 1000)
        return not self.is_running()


def test_a_timer_stays_on_time_while_a_run_streams_in(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(panel_module, "TrainingRun", FakeRun)
    g = Graph()
    flat = add(g, "Flatten", add(g, "InputLayer", shape=[8, 8, 1]))
    add(g, "Dense", flat, units=10, activation="softmax")
    project = Project(graph=g, dataset={"source": "builtin", "name": "digits"},
                      training={"epochs": EPOCHS, "batch_size": 32})  # fmt: skip
    project.save(tmp_path / "p.dgproj")
    panel = panel_module.TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    panel.resize(1400, 800)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(300)  # the first paints (fonts, styles) are not the run's

    # Each step that shows the end of a run is timed as the panel runs it.
    steps_taken: list[float] = []
    finish_steps = panel._finish_steps

    def timed_steps(evaluation):
        it = finish_steps(evaluation)
        while True:
            t = time.perf_counter()
            try:
                next(it)
            except StopIteration:
                steps_taken.append(time.perf_counter() - t)
                return
            steps_taken.append(time.perf_counter() - t)
            yield

    monkeypatch.setattr(panel, "_finish_steps", timed_steps)

    late: list[float] = []
    clock = QElapsedTimer()
    last = [0]

    def on_tick() -> None:
        now = clock.nsecsElapsed()
        if last[0]:
            late.append(max(0.0, (now - last[0]) / 1e6 - 10.0))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)
    timer.timeout.connect(on_tick)
    clock.start()
    timer.start()
    with qtbot.waitSignal(panel.run_finished, timeout=30000) as done:
        assert panel.start_training()
    timer.stop()

    assert done.args == ["completed"]
    # Everything arrived and is shown by the time run_finished says so.
    assert panel.batches_seen == EPOCHS * STEPS and panel.epochs_seen == list(range(1, 9))
    assert len(panel.plots.curve_data("batch_raw")[0]) == EPOCHS * STEPS
    assert list(panel.plots.curve_data("val_accuracy")[0]) == list(range(1, 9))
    assert not panel.plots.pending()
    assert len(panel.evaluation._cell_texts) == 100 and panel.evaluation.samples_grid.count() == 16
    assert panel.runs.table.rowCount() == 1 and panel.train_button.isEnabled()
    # The end came in many short steps (drawn at once it took 70-85 ms).
    assert len(steps_taken) >= 10
    assert max(steps_taken) < within(0.06), steps_taken  # 30 ms measured on a quiet machine
    # The timer kept time, within a bound that catches a return of the one-go drawing. Not
    # yet the 5 ms aimed at: measured here 31-36 ms at p99, from the first legend entries'
    # text and the plots' paints at the window's size (1400x800).
    assert len(late) > 20  # the timer ran (fewer ticks on a loaded machine)
    assert np.percentile(late, 99) < within(100.0), sorted(late)[-10:]  # CI's cores are shared
