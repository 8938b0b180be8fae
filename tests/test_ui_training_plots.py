"""Live plots: buffers, redraw from a timer, log scale, hover read-out, export, shading, long
runs, and many thousands of signals from another thread (guards the PySide6 emit bug)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QObject, Signal  # noqa: E402

from deepgui.ui.training.buffers import RateMeter, Series, format_seconds  # noqa: E402
from deepgui.ui.training.plots import BUDGET, MAX_REDRAW_MS, REDRAW_MS, LivePlots  # noqa: E402

pytestmark = pytest.mark.ui


def test_series_grows_by_doubling_and_smooths():
    s = Series(capacity=4, smoothing=0.5)
    for i in range(10):
        s.append(i, 2.0)
    assert len(s) == 10 and list(s.x) == list(range(10))
    assert np.allclose(s.smooth, 2.0)  # the debiased average of a constant is that constant
    s2 = Series(smoothing=0.9)
    for v in [0.0, 10.0] * 50:
        s2.append(0, v)
    assert 3.0 < s2.smooth[-1] < 7.0 and np.ptp(s2.smooth[-20:]) < np.ptp(s2.y[-20:])
    assert s.nearest(3.4) == (3.0, 2.0) and s.nearest(100) == (9.0, 2.0)
    s.clear()
    assert len(s) == 0 and s.nearest(1) is None


def test_rate_and_eta():
    r = RateMeter()
    assert r.eta(100) is None
    r.add(100, 0.5)
    r.add(100, 0.5)
    assert r.rate == pytest.approx(200) and r.eta(400) == pytest.approx(2.0)
    assert format_seconds(3725) == "1:02:05" and format_seconds(65) == "1:05"


def feed(plots: LivePlots, epochs: int, steps: int) -> None:
    plots.reset(steps)
    for e in range(1, epochs + 1):
        for s in range(1, steps + 1):
            plots.add_batch(e, s, {"loss": 1.0 / (e + s / steps)})
        plots.add_epoch(e, {"loss": 1.0 / e, "val_loss": 1.2 / e + 0.01 * e,
                            "accuracy": 1 - 1 / (e + 1), "val_accuracy": 0.9, "learning_rate": 0.01})  # fmt: skip


def test_plots_hold_the_data_after_a_redraw(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    feed(plots, epochs=5, steps=10)
    assert plots.curve_data("loss")[0] is None or len(plots.curve_data("loss")[0]) == 0
    plots.redraw()
    x, y = plots.curve_data("batch_raw")
    assert len(x) == 50 and x[-1] == pytest.approx(5.0)
    assert list(plots.curve_data("loss")[0]) == [1, 2, 3, 4, 5]
    assert len(plots.curve_data("val_accuracy")[1]) == 5
    assert len(plots.curve_data("learning_rate")[0]) == 5
    sx, sy = plots.curve_data("batch_smooth")
    assert len(sy) == 50 and np.all(np.isfinite(sy))
    # Each curve lives on its own plot.
    assert plots._curves["accuracy"].getViewBox() is plots.metric_plot.getPlotItem().vb
    assert plots._curves["learning_rate"].getViewBox() is plots.lr_plot.getPlotItem().vb
    # Hover read-out names the nearest epoch's values.
    text = plots.readout_at(plots.loss_plot, 2.9)
    assert text.startswith("epoch 3") and "val_loss" in text and "batch loss" in text
    # Smoothing can be changed afterwards; the raw data stays.
    plots.smooth_slider.setValue(0)
    assert np.allclose(plots.curve_data("batch_smooth")[1], plots.curve_data("batch_raw")[1])


def test_log_scale_shading_and_export(qtbot, tmp_path):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(900, 500)
    feed(plots, epochs=6, steps=5)
    plots.shade_overfitting(4)
    plots.redraw()
    assert plots.overfitting_regions == [(3.0, 6.0)]
    plots.log_box.setChecked(True)
    assert plots.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    png = plots.export_plot("loss", tmp_path / "loss.png")
    svg = plots.export_plot("metrics", tmp_path / "metrics.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text(encoding="utf-8")[:2000]
    plots.reset(1)
    assert plots.overfitting_regions == [] and "loss" not in plots._curves


def test_a_million_points_stay_within_the_redraw_budget(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.resize(900, 500)
    plots.show()
    plots.reset(1000)
    n = 1_000_000
    xs = np.arange(1, n + 1) / 1000.0
    for x in xs[:1000]:
        plots.batch_loss.append(x, 1.0 / x)
    # Bulk-fill the rest through the same buffer (appending a million one by one is the
    # stress test's job, not this one's).
    s = plots.batch_loss
    while len(s._x) < n:
        s._grow()
    s._x[:n], s._y[:n], s._s[:n] = xs, 1.0 / xs, 1.0 / xs
    s.n = n
    s.version += 1
    plots.redraw()
    qtbot.wait(50)
    for _ in range(5):
        s.append(s.x[-1] + 0.001, 0.001)
        plots.redraw()
        plots.loss_plot.repaint()  # paint it now: downsampling and clipping happen here
    assert len(plots.curve_data("batch_raw")[0]) == n + 5
    # However long a frame takes, the timer spaces redraws so drawing stays within budget.
    interval = plots.timer.interval() / 1000
    assert REDRAW_MS <= plots.timer.interval() <= MAX_REDRAW_MS
    assert plots.last_cost / interval <= 1.3 * BUDGET or plots.timer.interval() == MAX_REDRAW_MS


class Emitter(QObject):
    batches = Signal(object)


def test_stress_20000_batch_signals_from_a_thread(qtbot):
    """20,000 queued batch updates from another thread into the panel's plot: no crash (PySide6
    6.12 on Python 3.11 aborted after ~570 emits), and every point arrives."""
    from deepgui.core.project import Project
    from deepgui.ui.training.panel import TrainingPanel

    panel = TrainingPanel(lambda: Project())
    qtbot.addWidget(panel)
    panel.plots.reset(100)
    panel.current_epoch, panel.batch_size, panel.num_train = 1, 32, 3200
    emitter = Emitter()
    emitter.batches.connect(panel._on_batches)  # panel lives on the GUI thread: queued
    panel.plots.start()
    n = 20_000

    def pump() -> None:
        for i in range(n):
            logs = {"loss": 1.0 + (i % 7) * 0.01, "accuracy": 0.5}
            emitter.batches.emit([(i % 100 + 1, logs, 0.001)])  # one signal per batch

    thread = threading.Thread(target=pump)
    thread.start()
    qtbot.waitUntil(lambda: panel.batches_seen == n, timeout=60000)
    thread.join()
    panel.plots.stop()
    assert len(panel.plots.curve_data("batch_raw")[0]) == n
    assert panel.plots.redraws >= 1
    assert panel.rate.rate > 0
