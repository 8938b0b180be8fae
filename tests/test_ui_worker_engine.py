"""The app with the JAX engine: training runs in a worker process supervised by the panel's
thread. Its events reach the plots, stop takes effect within a second, a worker that dies ends
the run with a sentence while the app stays up, and the app can be the chief of a run on
several machines, showing the command that joins the others."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("jax")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from tests.test_ui_training_panel import digits_project, panel_for  # noqa: E402, F401

pytestmark = [pytest.mark.ui, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]


def test_the_jax_worker_trains_stops_at_once_and_a_crash_is_a_sentence(qtbot, tmp_path, panel_for):  # noqa: F811
    project = digits_project(tmp_path, epochs=300, batch_size=16, engine="jax",
                             learning_rate=0.005)  # fmt: skip
    panel = panel_for(project)
    assert panel.form.engine.currentData() == "jax"
    assert panel.start_training()
    qtbot.waitUntil(lambda: len(panel.epochs_seen) >= 1, timeout=120000)
    assert panel.batches_seen >= panel.steps_per_epoch

    # The learning-rate plot fills live from the worker's epoch events.
    def rates():
        drawn = panel.plots.curve_data("learning_rate")[1]
        return [] if drawn is None else list(drawn)

    qtbot.waitUntil(lambda: len(rates()) >= 1, timeout=10000)
    assert rates()[0] == pytest.approx(0.005)
    # The pace as the panel sees it (the relay's lag is in both counts, and cancels).
    t0, b0 = time.perf_counter(), panel.batches_seen
    qtbot.wait(1000)
    per_second = (panel.batches_seen - b0) / (time.perf_counter() - t0)
    with qtbot.waitSignal(panel.run_finished, timeout=30000) as blocker:
        at_stop = panel.batches_seen
        panel.stop_training()
    # Training stopped within a second: no more batches came than a second's worth.
    assert panel.batches_seen - at_stop <= per_second * 1.0 + 5
    assert blocker.args == ["user"]
    assert panel.last_metrics["engine"] == "jax"
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=20000)

    # The worker process dies (killed, out of memory): one sentence, the app goes on.
    assert panel.start_training()
    qtbot.waitUntil(lambda: panel.batches_seen >= 3, timeout=120000)
    process = panel.run.worker.engine.process
    with qtbot.waitSignal(panel.run_finished, timeout=30000) as blocker:
        os.kill(process.pid, signal.SIGKILL)
    assert blocker.args == ["error"]
    text = panel.message.text()
    assert "training worker was killed" in text and "Traceback" not in text
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=20000)
    assert panel.train_button.isEnabled()  # the app is up and ready for the next run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_app_is_the_chief_of_a_run_on_two_machines(qtbot, tmp_path, panel_for):  # noqa: F811
    project = digits_project(tmp_path, epochs=2, batch_size=32)
    panel = panel_for(project)
    panel.show()
    form = panel.form
    form.ranks.setValue(2)
    address = f"127.0.0.1:{free_port()}"
    form.coordinator.clear()
    QTest.keyClicks(form.coordinator, address)
    QTest.keyClick(form.coordinator, Qt.Key.Key_Return)
    assert project.training["ranks"] == 2 and project.training["coordinator"] == address
    command = f"deepgui worker --coordinator {address} --rank 1 --world 2"
    assert command in form.join_command.text()
    assert not form.engine.isEnabled()  # JAX trains it, whatever the choice
    assert "trusted network" in form.join_command.text()  # TensorFlow's fallback is marked
    assert panel.start_training()
    qtbot.waitUntil(lambda: "Waiting at" in panel.message.text(), timeout=60000)
    assert command in panel.message.text()
    rank = subprocess.Popen(
        [sys.executable, "-m", "deepgui", *command.split()[1:], "--out", str(tmp_path / "r1")],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with qtbot.waitSignal(panel.run_finished, timeout=180000) as blocker:
        pass
    out, err = rank.communicate(timeout=60)
    assert blocker.args == ["completed"], panel.message.text()
    assert rank.returncode == 0, err[-1500:]
    assert panel.epochs_seen == [1, 2] and panel.last_metrics["engine"] == "jax"
    assert (tmp_path / "r1" / "model.keras").is_file()

    # A bad address is the core's sentence, naming the field.
    form.coordinator.setText("0.0.0.0:7477")
    QTest.keyClick(form.coordinator, Qt.Key.Key_Return)
    assert "training.coordinator" in form.error.text() and "wildcard" in form.error.text()
