"""The Training panel's Sweep tab: what the project marks to vary, a sweep started from it
filling the trial table live, the best trial highlighted and drawn thickest among the
parallel coordinates, and Apply best as one undo step on the project."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("pytestqt")
pytest.importorskip("keras_tuner")

from deepgui.core.paths import examples_dir  # noqa: E402
from deepgui.core.project import Project, load_project  # noqa: E402
from deepgui.core.sweep.marks import TRAINING, set_mark  # noqa: E402
from deepgui.core.sweep.table import COMPLETED, Trial  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from deepgui.ui.training.sweep_view import BEST_COLOR, NO_MARKS, TRAINING_NOW  # noqa: E402
from tests.helpers import add  # noqa: E402

pytestmark = pytest.mark.ui


def marked_iris(tmp_path) -> Project:
    path = tmp_path / "iris_dense.dgproj"
    shutil.copy(examples_dir() / "iris_dense.dgproj", path)
    project = load_project(path)
    dense = project.graph.node_by_name("dense")
    project.undo.push(set_mark(project, dense.id, "units", "2,8,32"))
    project.undo.push(set_mark(project, TRAINING, "learning_rate", "1e-3..1e-1:log"))
    return project


def test_the_tab_lists_the_marks_as_they_are_set_and_undone(qtbot):
    project = Project()
    inp = add(project.graph, "InputLayer", shape=[4], name="features")
    hidden = add(project.graph, "Dense", inp, units=32, name="hidden")
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    view = panel.sweep
    assert view.marks.text() == NO_MARKS and "⟳" in NO_MARKS
    assert not view.start_button.isEnabled()

    project.undo.push(set_mark(project, hidden.id, "units", "16,32"))
    assert view.marks.text() == "hidden.units=16,32" and view.start_button.isEnabled()
    project.undo.undo()
    assert view.marks.text() == NO_MARKS and not view.start_button.isEnabled()


@pytest.mark.slow  # three short trainings and KerasTuner's import: about 15 s, more on a busy machine
def test_a_sweep_started_in_the_tab_fills_the_table_and_applies_the_best(qtbot, tmp_path):
    project = marked_iris(tmp_path)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    panel.show()
    view = panel.sweep
    panel.view_tabs.setCurrentWidget(view)
    assert view.marks.text().splitlines() == ["dense.units=2,8,32",
                                              "training.learning_rate=1e-3..1e-1:log"]  # fmt: skip
    view.trial_count.setValue(3)
    view.epochs.setValue(1)
    view.objective.setText("val_accuracy")
    epochs_heard: list[int] = []
    qtbot.waitUntil(lambda: view.start_button.isEnabled())
    view.start_button.click()
    assert view.job is not None and not view.start_button.isEnabled()
    view.job.worker.epoch_ended.connect(lambda n, e, logs: epochs_heard.append(n))
    qtbot.waitUntil(lambda: view.job is None, timeout=120_000)

    assert view.outcome_reason == "completed", view.message.text()
    t = view.table
    headers = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    assert headers == ["trial", "status", "val_accuracy", "dense.units", "training.learning_rate"]
    assert t.rowCount() == 3
    assert [t.item(r, 1).text() for r in range(3)] == ["completed"] * 3
    assert all(float(t.item(r, 2).text()) >= 0 for r in range(3))
    assert sorted(set(epochs_heard)) == [1, 2, 3]  # each trial's curve was fed
    # The best row, and only it, is highlighted.
    best = view.best
    assert best is not None
    best_row = view.best_row()
    assert t.item(best_row, 0).text() == str(best.number)
    for r in range(3):
        shaded = t.item(r, 0).background().color() == BEST_COLOR
        assert shaded == (r == best_row) and t.item(r, 0).font().bold() == (r == best_row)
    # One polyline per trial across the 3 axes; the best is the thickest.
    lines = view.parallel_lines
    assert len(lines) == 3 and all(len(line.xData) == 3 for line in lines)
    widths = {line.trial: line.opts["pen"].widthF() for line in lines}
    assert max(widths, key=widths.get) == best.number
    assert sum(w == max(widths.values()) for w in widths.values()) == 1

    # Apply best: the trial's values in the project, as one undo step.
    dense = project.graph.node_by_name("dense")
    before = (dense.config["units"], project.training["learning_rate"])
    assert view.apply_button.isEnabled()
    view.apply_button.click()
    after = (project.graph.node(dense.id).config["units"], project.training["learning_rate"])
    assert after == (best.values["dense.units"], best.values["training.learning_rate"])
    assert after != before
    assert project.undo.undo_text().startswith(f"Apply trial {best.number}")
    project.undo.undo()
    assert (project.graph.node(dense.id).config["units"], project.training["learning_rate"]) == (
        before
    )
    # The sweep's folder is among the project's runs.
    assert best.run_dir.parent.parent == tmp_path / "iris_dense.runs"
    assert best.run_dir.parent.name.startswith("sweep-")


@pytest.mark.slow  # KerasTuner's import and a part of a trial: about 15 s, more when busy
def test_a_sweep_pauses_resumes_and_stops_from_the_tab_and_the_panel_shuts_it_down(qtbot, tmp_path):
    project = marked_iris(tmp_path)
    project.training["epochs"] = 200  # long enough to be stopped mid-trial
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    view = panel.sweep
    view.trial_count.setValue(3)
    view.start_button.click()
    epochs: list[int] = []
    view.job.worker.epoch_ended.connect(lambda n, e, logs: epochs.append(e))
    qtbot.waitUntil(lambda: len(epochs) >= 1, timeout=60_000)

    view.pause_button.click()
    assert view.pause_button.text() == "Resume"
    qtbot.wait(500)  # the batch in flight ends
    held = len(epochs)
    qtbot.wait(1500)
    assert len(epochs) == held  # paused: no epoch ends
    view.pause_button.click()
    assert view.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(epochs) > held, timeout=30_000)
    view.stop_button.click()
    qtbot.waitUntil(lambda: view.job is None, timeout=60_000)
    assert view.outcome_reason == "stopped"
    assert view.table.item(0, 1).text() == "stopped" and view.table.rowCount() == 1
    assert view.start_button.isEnabled() and not view.stop_button.isEnabled()

    # Closing the window (the panel's shutdown) stops a running sweep and waits for it.
    view.start_button.click()
    job = view.job
    assert panel.shutdown(60_000) and not job.is_running()


def test_the_settings_go_into_the_sweep_as_the_command_line_gives_them(qtbot, tmp_path):
    project = marked_iris(tmp_path)
    project.dataset = {}  # the sweep's planning stops at once, saying so
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    view = panel.sweep
    defaults = view.request()
    assert (defaults.minutes, defaults.patience, defaults.parallel) == (None, None, 1)
    assert view.parallel_count.text() == "1" and view.minutes.text() == "no limit"
    view.parallel_count.setValue(0)
    assert view.parallel_count.text() == "auto"
    view.minutes.setValue(5)
    view.patience.setValue(3)
    view.start_button.click()
    request = view.sweep.request
    assert (request.minutes, request.patience, request.parallel) == (5.0, 3, "auto")
    assert not view.parallel_count.isEnabled() and not view.minutes.isEnabled()
    qtbot.waitUntil(lambda: view.job is None, timeout=30_000)
    assert "has no dataset" in view.message.text()
    view.parallel_count.setValue(2)
    assert view.request().parallel == 2 and view.parallel_count.isEnabled()
    # The settings' second row costs the bottom dock no height: the tab asks for no more
    # than the live plots do.
    assert view.minimumSizeHint().height() <= panel.plots.minimumSizeHint().height()


def test_the_parallel_plot_names_each_axis_and_shows_its_scale(qtbot, tmp_path):
    project = marked_iris(tmp_path)
    project.dataset = {}
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    view = panel.sweep
    view.objective.setText("val_accuracy")
    view.start_button.click()
    qtbot.waitUntil(lambda: view.job is None, timeout=30_000)
    # Named below each axis, every other name a line lower (long names side by side).
    names = [name for _, name in view.parallel.getAxis("bottom")._tickLevels[0]]
    assert names[1].startswith("\n") and not names[0].startswith("\n")
    names = [name.strip() for name in names]
    assert names == ["dense.units", "training.learning_rate (log)", "val_accuracy"]
    ticks = view.axis_ticks()
    assert ticks["dense.units"] == [(0.0, "2"), (0.5, "8"), (1.0, "32")]
    assert ticks["training.learning_rate (log)"] == [(0.0, "0.001"), (0.5, "0.01"), (1.0, "0.1")]
    assert ticks["val_accuracy"] == []  # no trial has ended

    for number, units, rate, score in ((1, 8, 0.01, 0.6), (2, 32, 0.1, 0.9)):
        values = {"dense.units": units, "training.learning_rate": rate}
        view._trial_finished(Trial(number, COMPLETED, values, objective=score))
    assert view.axis_ticks()["val_accuracy"] == [(0.0, "0.6"), (1.0, "0.9")]
    labels = {item.toPlainText() for item in view.parallel.getPlotItem().items
              if hasattr(item, "toPlainText")}  # fmt: skip
    assert {"2", "8", "32", "0.001", "0.01", "0.1", "0.6", "0.9"} <= labels
    lines = {line.trial: list(line.yData) for line in view.parallel_lines}
    # 0.01 sits mid-axis on the log scale (a linear one would put it at 0.09).
    assert lines[1] == pytest.approx([0.5, 0.5, 0.0])
    assert lines[2] == pytest.approx([1.0, 1.0, 1.0])


@pytest.mark.slow  # a run and a sweep trained a little each: about 10 s, 25 s on a busy machine
def test_one_thing_trains_at_a_time_and_a_new_project_stops_the_sweep(qtbot, tmp_path, monkeypatch):
    from tests.ui_support import open_window

    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    project = marked_iris(tmp_path)
    project.training["epochs"] = 200  # long enough to be stopped mid-run
    window = open_window(qtbot, project)
    try:
        panel = window.training_panel()
        view = panel.sweep
        # A run trains: the sweep does not start, and says why.
        epochs: list[int] = []
        assert panel.start_training()
        panel.run.worker.epoch_ended.connect(lambda e, logs: epochs.append(e))
        qtbot.waitUntil(lambda: len(epochs) >= 1, timeout=60_000)
        view.start_button.click()
        assert view.job is None and view.message.text() == TRAINING_NOW
        panel.stop_training()
        qtbot.waitUntil(lambda: not panel.is_training(), timeout=60_000)

        # A sweep runs: a run does not start, and says why.
        view.trial_count.setValue(3)
        view.start_button.click()
        assert view.job is not None
        trial_epochs: list[int] = []
        view.job.worker.epoch_ended.connect(lambda n, e, logs: trial_epochs.append(e))
        qtbot.waitUntil(lambda: len(trial_epochs) >= 1, timeout=60_000)
        run_before = panel.run
        panel.train_button.click()
        assert panel.run is run_before and "A sweep is running" in panel.message.text()

        # File > New: the sweep of the project before stops; its trials stay, as its own.
        window.files.new_project()
        new = window.doc.project
        assert new is not project
        assert "the sweep of iris_dense stops" in view.message.text()
        qtbot.waitUntil(lambda: view.job is None, timeout=60_000)
        assert view.outcome_reason == "stopped"
        assert view.table.rowCount() == 1 and view.table.item(0, 1).text() == "stopped"
        assert "of iris_dense, not of the project open now" in view.message.text()
        assert not view.apply_button.isEnabled()
        view.best = Trial(1, COMPLETED, {"training.learning_rate": 0.05}, objective=0.1)
        view.apply_best()  # as if the button were still there: nothing goes into the new one
        assert not new.undo.can_undo() and "learning_rate" not in new.training
    finally:
        panel.shutdown(60_000)
        window.doc.shutdown()
