"""Runs persist and reload: run directories written by the engine (as the CLI writes them) are
listed with their outcome, overlaid, reopened and deleted (after confirmation)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from deepgui.core.training import rundir  # noqa: E402
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
    cli_dir = tmp_path / "runs" / "20260101-120000"
    engine = TrainingEngine(project.graph, data, TrainingConfig.from_dict(project.training),
                            project=project, dataset_spec=project.dataset, run_dir=cli_dir)  # fmt: skip
    assert engine.run().reason == "completed"
    failed = tmp_path / "runs" / "20260101-130000"
    failed.mkdir()
    rundir.write_json(failed / "metrics.json", {"stopped_by": "error", "epochs_run": 0,
                                                "message": "The loss is unknown."})  # fmt: skip

    panel = TrainingPanel(lambda: project)  # a fresh panel: everything comes from disk
    qtbot.addWidget(panel)
    names = [r.name for r in panel.runs.runs]
    assert names == ["20260101-130000", "20260101-120000"]  # newest first
    cells = [panel.runs.table.item(1, j).text() for j in range(panel.runs.table.columnCount())]
    assert cells[1] == "completed" and cells[2] == "2" and "val_loss" in cells[3]
    assert panel.runs.table.item(0, 1).text() == "error"

    panel.runs.select(["20260101-120000", "20260101-130000"])
    assert len(panel.runs.selected_runs()) == 2
    assert panel.runs.overlay() == 1  # the failed run has no history to draw
    panel.runs.metric.setCurrentText("loss")
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
