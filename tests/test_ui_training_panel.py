"""The Training panel end to end: a tiny model trains on the bundled digits in the worker
thread and its epochs reach the plots; stop, pause and resume; errors; shutdown."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.helpers import add  # noqa: E402

pytestmark = pytest.mark.ui


def digits_project(tmp_path, epochs: int = 3, batch_size: int = 64, **training) -> Project:
    g = Graph()
    inp = add(g, "InputLayer", shape=[8, 8, 1])
    flat = add(g, "Flatten", inp)
    hidden = add(g, "Dense", flat, units=16, activation="relu")
    add(g, "Dense", hidden, units=10, activation="softmax")
    project = Project(
        graph=g,
        dataset={"source": "builtin", "name": "digits", "validation_split": 0.2, "test_split": 0.1},
        training={"epochs": epochs, "batch_size": batch_size, "learning_rate": 0.01, **training},
    )
    project.save(tmp_path / "digits.dgproj")
    return project


@pytest.fixture
def panel_for(qtbot):
    made = []

    def make(project: Project) -> TrainingPanel:
        panel = TrainingPanel(lambda: project)
        qtbot.addWidget(panel)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        assert panel.shutdown(20000)


def test_training_delivers_epochs_into_the_plots(qtbot, tmp_path, panel_for):
    project = digits_project(tmp_path, epochs=3)
    panel = panel_for(project)
    with qtbot.waitSignal(panel.run_finished, timeout=90000) as blocker:
        assert panel.start_training()
        assert panel.is_training()
        assert not panel.train_button.isEnabled()
    assert blocker.args == ["completed"], panel.message.text()
    assert panel.epochs_seen == [1, 2, 3]
    x, y = panel.plots.curve_data("loss")
    assert list(x) == [1.0, 2.0, 3.0] and np.all(np.isfinite(y))
    assert len(panel.plots.curve_data("val_loss")[0]) == 3
    assert len(panel.plots.curve_data("accuracy")[0]) == 3
    steps = panel.steps_per_epoch
    assert panel.batches_seen == 3 * steps
    bx, _ = panel.plots.curve_data("batch_raw")
    assert len(bx) == 3 * steps and bx[-1] == pytest.approx(3.0)
    assert panel.rate.rate > 0 and panel.run_bar.value() == panel.run_bar.maximum()
    # The run directory is listed, and the evaluation holds a confusion matrix over 10 classes.
    assert panel.runs.table.rowCount() == 1
    assert panel.runs.runs[0].stopped_by == "completed"
    result = panel.evaluation.result
    assert result["split"] == "test" and result["confusion"].shape == (10, 10)
    assert result["confusion"].sum() == result["count"]
    qtbot.waitUntil(lambda: not panel.run.is_running(), timeout=5000)
    assert not panel.is_training() and panel.train_button.isEnabled()


def test_stop_pause_and_resume(qtbot, tmp_path, panel_for):
    project = digits_project(tmp_path, epochs=200, batch_size=16)
    panel = panel_for(project)
    panel.start_training()
    qtbot.waitUntil(lambda: panel.batches_seen >= 5, timeout=60000)
    with qtbot.waitSignal(panel.run.worker.paused, timeout=10000):
        panel.pause_training()
    assert not panel.pause_button.isEnabled() and panel.resume_button.isEnabled()
    seen = panel.batches_seen
    qtbot.wait(400)
    assert panel.batches_seen <= seen + 1  # at most the batch in flight when pause came
    # Batches coming again is what resuming means (waiting on the worker's `resumed` signal
    # itself raced with its delivery from the training thread under load).
    panel.resume_training()
    qtbot.waitUntil(lambda: panel.batches_seen > seen + 3, timeout=30000)
    assert panel.pause_button.isEnabled() and not panel.resume_button.isEnabled()
    with qtbot.waitSignal(panel.run_finished, timeout=30000) as blocker:
        panel.stop_training()
    assert blocker.args == ["user"]
    assert panel.last_metrics["stopped_by"] == "user"
    assert (panel.run_dir / "metrics.json").exists()


def test_bad_data_is_shown_and_the_run_marked_failed(qtbot, tmp_path, panel_for):
    project = digits_project(tmp_path)
    project.graph.node_by_name("dense_1").config["units"] = 7  # 10 classes, 7 outputs
    panel = panel_for(project)
    with qtbot.waitSignal(panel.run_finished, timeout=60000) as blocker:
        panel.start_training()
    assert blocker.args == ["error"]
    text = panel.message.text()
    assert "Training failed" in text and "10" in text and "Traceback" not in text
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=5000)
    assert panel.train_button.isEnabled()


def test_shutdown_during_training_leaves_no_thread(qtbot, tmp_path):
    project = digits_project(tmp_path, epochs=500, batch_size=8)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    before = threading.active_count()
    panel.start_training()
    qtbot.waitUntil(lambda: bool(panel.epochs_seen), timeout=60000)
    assert panel.run.is_running()
    assert panel.shutdown(20000)
    assert not panel.run.thread.isRunning()
    assert threading.active_count() <= before + 1  # the device probe may still be finishing
    # The finished epochs are checkpointed and the run is written.
    assert (panel.run_dir / "checkpoints").is_dir()


def test_confirm_stop_asks_only_while_training(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    project = digits_project(tmp_path, epochs=500, batch_size=8)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    asked = []

    def answer(reply):
        def question(*args, **kwargs):
            asked.append(args[2])
            return reply

        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    assert panel.confirm_stop() and not asked  # nothing running: nothing to ask
    panel.start_training()
    qtbot.waitUntil(lambda: panel.batches_seen > 0, timeout=60000)
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    assert not panel.confirm_stop("open another project")
    assert panel.run.is_running() and "open another project" in asked[-1]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    assert panel.confirm_stop()
    assert not panel.run.thread.isRunning()
