"""Runs persist and reload: run directories written by the engine (as the CLI writes them) are
listed with their outcome, overlaid, reopened and deleted (after confirmation)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core.training import rundir, runs  # noqa: E402
from deepgui.core.training.config import TrainingConfig  # noqa: E402
from deepgui.core.training.engine import TrainingEngine  # noqa: E402
from deepgui.ui.training import data_access  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.test_ui_training_panel import digits_project  # noqa: E402

pytestmark = pytest.mark.ui


def test_runs_are_listed_overlaid_reopened_and_deleted(qtbot, tmp_path, monkeypatch):
    project = digits_project(tmp_path, epochs=2)
    # A run as the command line makes it: the same engine, the same run directory layout.
    data = data_access.load_dataset(project.dataset, tmp_path)
    cli_dir = tmp_path / "digits.runs" / "20260101-120000"  # the project's own runs folder
    engine = TrainingEngine(project.graph, data, TrainingConfig.from_dict(project.training),
                            project=project, dataset_spec=project.dataset, run_dir=cli_dir)  # fmt: skip
    assert engine.run().reason == "completed"
    failed = tmp_path / "digits.runs" / "20260101-130000"
    failed.mkdir()
    rundir.write_json(failed / "metrics.json", {"stopped_by": "error", "epochs_run": 0,
                                                "message": "The loss is unknown."})  # fmt: skip

    panel = TrainingPanel(lambda: project)  # a fresh panel: everything comes from disk
    qtbot.addWidget(panel)
    names = [r.name for r in panel.runs.runs]
    assert names == ["20260101-130000", "20260101-120000"]  # newest first
    cells = [panel.runs.table.item(1, j).text() for j in range(panel.runs.table.columnCount())]
    assert cells[1] == "completed" and cells[2] == "2" and "val_loss" in cells[3]
    assert "4 layers" in cells[7] and "params" in cells[7] and "digits" in cells[7]
    assert panel.runs.table.item(0, 1).text() == "error"

    panel.runs.select(["20260101-120000", "20260101-130000"])
    assert len(panel.runs.selected_runs()) == 2
    assert panel.runs.overlay() == 1  # the failed run has no history to draw
    panel.runs.overlay_metric.setCurrentText("loss")
    assert panel.runs.overlay() == 1

    panel.runs.select(["20260101-120000"])
    assert panel.runs.open_button.isEnabled()
    with qtbot.waitSignal(panel.open_project_requested, timeout=1000) as blocker:
        panel.runs.open_button.click()
    assert blocker.args == [str(cli_dir / "project.dgproj")]

    monkeypatch.setattr(panel.runs, "confirm_delete", lambda names: False)
    panel.runs.delete_button.click()
    assert cli_dir.exists()
    monkeypatch.setattr(panel.runs, "confirm_delete", lambda names: True)
    panel.runs.delete_button.click()
    assert not cli_dir.exists()
    assert [r.name for r in panel.runs.runs] == ["20260101-130000"]
    with pytest.raises(Exception, match="not one of this project's runs"):
        panel.runs.delete_runs([tmp_path])
    assert tmp_path.exists()


def test_two_projects_in_one_folder_each_see_only_their_runs(qtbot, tmp_path):
    first = digits_project(tmp_path, epochs=1)
    second = digits_project(tmp_path / "x", epochs=1)
    second.save(tmp_path / "other.dgproj")  # a second project beside the first
    for project in (first, second):
        data = data_access.load_dataset(project.dataset, tmp_path)
        cfg = TrainingConfig.from_dict(project.training)
        run_dir = runs.new_run_dir(project)
        TrainingEngine(project.graph, data, cfg, project=project, run_dir=run_dir).run()
    panel = TrainingPanel(lambda: first)
    qtbot.addWidget(panel)
    assert [r.path.parent.name for r in panel.runs.runs] == ["digits.runs"]
    panel.runs.set_project(second)
    assert [r.path.parent.name for r in panel.runs.runs] == ["other.runs"]
    # A run copied by hand into another project's folder is still not that project's.
    import shutil

    stray = tmp_path / "digits.runs" / "copied"
    shutil.copytree(panel.runs.runs[0].path, stray)
    panel.runs.set_project(first)
    assert "copied" not in [r.name for r in panel.runs.runs]


def test_a_killed_run_resumes_from_the_app(qtbot, tmp_path):
    """A run stopped part-way (here: killed after epoch 1, so no final metrics) is resumed from
    the Runs tab with one click and ends with all its epochs, continuing its own history."""
    project = digits_project(tmp_path, epochs=3)
    data = data_access.load_dataset(project.dataset, tmp_path)
    run_dir = runs.new_run_dir(project)
    cfg = TrainingConfig.from_dict({**project.training, "epochs": 1})
    TrainingEngine(project.graph, data, cfg, project=project, run_dir=run_dir).run()
    copy = run_dir / "project.dgproj"
    text = copy.read_text().replace('"epochs": 1', '"epochs": 3')
    copy.write_text(text)  # the run as it was meant: 3 epochs
    (run_dir / "metrics.json").unlink()  # killed: no final metrics
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    panel.show()
    panel.view_tabs.setCurrentWidget(panel.runs)
    panel.runs.select([run_dir.name])
    assert panel.runs.resume_button.isEnabled()
    assert "(can resume)" in panel.runs.table.item(0, 1).text()
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as done:
        qtbot.mouseClick(panel.runs.resume_button, Qt.MouseButton.LeftButton)
    assert done.args == ["completed"]
    metrics = rundir.read_run(run_dir)["metrics"]
    assert metrics["epochs_run"] == 3 and metrics["resumed_from_epoch"] == 1
    assert [r["epoch"] for r in rundir.read_history(run_dir)] == [1, 2, 3]
    assert [r.name for r in runs.project_runs(project)] == [run_dir.name]  # no second run


def test_another_project_after_a_run_shows_a_clean_panel(qtbot, tmp_path):
    project = digits_project(tmp_path, epochs=1)
    current = [project]
    panel = TrainingPanel(lambda: current[0])
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.run_finished, timeout=120_000):
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    assert panel.plots.epochs and panel.runs.table.rowCount() == 1, panel.message.text()
    assert panel.message.text().startswith("Training finished")
    from deepgui.core.project import Project

    current[0] = Project()  # File > New
    panel.reload()
    assert not panel.plots.epochs and panel.plots.readout.text().startswith("Hover")
    assert panel.message.text() == "Ready to train." and panel.speed.text() == ""
    assert panel.runs.table.rowCount() == 0 and panel.banner.isHidden()
    assert panel.evaluation.model is None and "Train a model" in panel.evaluation.summary.text()
    assert panel.run_dir is None and panel.epoch_bar.value() <= 0
