"""Room to watch a run at 1366x768 (issue 23, point 6): while a run trains the plots get at least
40 % of the window's height, and a plot can be shown in a window of its own that follows the run.

The run is a stand-in for the training thread that sends the worker's own signals to the panel
(the panel's real path from a worker's events to the plots), so no model is trained here."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject, QThread, Signal  # noqa: E402

from deepgui.ui.training import panel as panel_module  # noqa: E402
from tests.test_ui_training_panel import digits_project  # noqa: E402
from tests.ui_support import open_window, painted_afresh  # noqa: E402

pytestmark = pytest.mark.ui

INFO = {"batch_size": 64, "num_train": 1257, "num_val": 360, "device": "cpu",
        "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}  # fmt: skip


class FakeWorker(QObject):
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


class FakeRun(QObject):
    """Stands in for TrainingRun: the test sends the worker's events itself."""

    made: list[FakeRun] = []

    def __init__(self, project, run_dir, data=None) -> None:
        super().__init__()
        self.worker = FakeWorker()
        self.thread = QThread()  # never started: the panel only connects to its signal
        self.run_dir = run_dir
        self.done = False
        FakeRun.made.append(self)

    def start(self) -> None:
        pass

    def is_running(self) -> bool:
        return False

    def wait(self, timeout_ms: int) -> bool:
        return True


def epoch(worker: FakeWorker, n: int, steps: int = 4) -> None:
    """One epoch's events, as the relay sends them."""
    worker.epoch_started.emit(n)
    worker.batches_ended.emit([(s, {"loss": 2.0 / (n + s / steps)}, 0.01)
                               for s in range(1, steps + 1)])  # fmt: skip
    worker.epoch_ended.emit(n, {"loss": 1.0 / n, "val_loss": 1.2 / n, "accuracy": 1 - 0.5 / n,
                                "val_accuracy": 1 - 0.6 / n, "learning_rate": 0.01})  # fmt: skip


def end_runs() -> None:
    """Every run ended, so that closing the window (pytest-qt does, before fixtures are torn
    down) does not ask whether to stop one still training, and wait for an answer."""
    for run in FakeRun.made:
        if not run.done:
            run.worker.finished.emit("user", {"stopped_by": "user", "epochs_run": 0}, None)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(panel_module, "TrainingRun", FakeRun)
    FakeRun.made.clear()
    w = open_window(qtbot, digits_project(tmp_path, epochs=6), size=(1366, 768))
    yield w
    w.doc.shutdown()


def test_the_plots_get_40_percent_of_a_laptop_window_while_a_run_trains(qtbot, window):
    try:
        watch_a_run_at_a_laptop_size(qtbot, window)
    finally:
        end_runs()


def watch_a_run_at_a_laptop_size(qtbot, w) -> None:
    assert (w.width(), w.height()) == (1366, 768)
    panel = w.training_panel()
    w.tabs.setCurrentWidget(panel)
    qtbot.wait(50)
    before = panel.plots.loss_plot.height()
    assert before < 0.4 * w.height()  # what a project shows before it trains

    w.train()  # F5
    (run,) = FakeRun.made
    run.worker.started.emit(4, 6, 0, INFO)
    epoch(run.worker, 1)
    qtbot.waitUntil(lambda: panel.plots.loss_plot.height() >= 0.4 * w.height(), timeout=3000)
    for plot in panel.plots.plots.values():
        assert plot.isVisible() and plot.height() >= 0.4 * w.height()
    # The canvas is still there, and the plots' options sit in the row of the tabs.
    assert w.view.height() >= 150
    assert panel.plots.options.isVisible()
    assert panel.view_tabs.cornerWidget() is panel.plots.options
    panel.view_tabs.setCurrentWidget(panel.runs)
    assert not panel.plots.options.isVisible()  # the plots' options go with the plots
    panel.view_tabs.setCurrentWidget(panel.plots)
    run.worker.finished.emit("completed", {"stopped_by": "completed", "epochs_run": 1}, None)
    qtbot.waitUntil(lambda: panel.train_button.isEnabled(), timeout=3000)


def curve_pixels(widget) -> int:
    """How many pixels of `widget` are drawn in the epoch loss curve's colour (#4f7cff)."""
    pixels = painted_afresh(widget).astype(int)
    want = np.array([79, 124, 255])
    return int((np.abs(pixels - want).max(axis=-1) < 30).sum())


def test_a_plot_in_a_window_of_its_own_follows_the_run(qtbot, window):
    try:
        pop_a_plot_out(qtbot, window)
    finally:
        end_runs()


def pop_a_plot_out(qtbot, w) -> None:
    w.train()
    panel = w.training
    plots = panel.plots
    (run,) = FakeRun.made
    run.worker.started.emit(4, 6, 0, INFO)
    epoch(run.worker, 1)
    epoch(run.worker, 2)
    plots.redraw()

    qtbot.mouseClick(plots.loss_plot.pop_button, panel_module.Qt.MouseButton.LeftButton)
    popped = plots.windows["loss"]
    qtbot.waitExposed(popped)
    assert popped.isWindow() and popped.isVisible() and "Loss" in popped.windowTitle()
    assert plots.loss_plot.window() is popped and not plots.isAncestorOf(plots.loss_plot)
    assert plots.loss_plot.height() > 300  # the window's size, not the dock's
    assert list(plots.curve_data("loss")[0]) == [1.0, 2.0]
    shown = curve_pixels(popped)
    assert shown > 50  # the window shows the epoch curve

    epoch(run.worker, 3)  # a new epoch arrives from the run
    qtbot.waitUntil(lambda: not plots.pending(), timeout=3000)
    assert list(plots.curve_data("loss")[0]) == [1.0, 2.0, 3.0]
    assert plots.loss_plot.window() is popped
    assert curve_pixels(popped) > shown  # and it follows: the curve grew in the window

    popped.close()  # puts the plot back where it was, first in the row
    assert "loss" not in plots.windows
    assert plots.isAncestorOf(plots.loss_plot) and plots._row.indexOf(plots.loss_plot) == 0
    assert plots.loss_plot.pop_button.isVisible()
    epoch(run.worker, 4)
    plots.redraw()
    assert list(plots.curve_data("loss")[0]) == [1.0, 2.0, 3.0, 4.0]
