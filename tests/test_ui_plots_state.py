"""The plots' state belongs to its project (issue 23, point 4): opening another project resets the
axes, and a project opened again shows its last run's learning rate and the pictures of its
sample predictions, from what the run folder keeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QLabel  # noqa: E402

from deepgui.core import signature  # noqa: E402
from deepgui.core.project import Project, load_project  # noqa: E402
from deepgui.core.training import rundir, runs  # noqa: E402
from deepgui.core.training.config import TrainingConfig  # noqa: E402
from deepgui.core.training.engine import TrainingEngine  # noqa: E402
from deepgui.ui.training import data_access  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.test_ui_training_panel import digits_project  # noqa: E402

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """The digits project (with a test split) trained for 2 epochs, as the CLI trains it."""
    folder = tmp_path_factory.mktemp("digits")
    project = digits_project(folder, epochs=2)
    data = data_access.load_dataset(project.dataset, folder)
    run_dir = runs.new_run_dir(project)
    engine = TrainingEngine(project.graph, data, TrainingConfig.from_dict(project.training),
                            project=project, dataset_spec=project.dataset, run_dir=run_dir)  # fmt: skip
    assert engine.run().reason == "completed"
    return folder / "digits.dgproj", run_dir


def test_another_project_resets_the_axes(qtbot):
    current = [Project()]
    panel = TrainingPanel(lambda: current[0])
    qtbot.addWidget(panel)
    plots = panel.plots
    plots.set_epochs(0, 50)
    for epoch in range(1, 51):
        plots.add_epoch(epoch, {"loss": 5.0 / epoch, "accuracy": epoch / 50, "learning_rate": 0.1})
    plots.redraw()
    assert plots.loss_plot.getPlotItem().vb.viewRange()[0][1] >= 50

    current[0] = Project()  # another project (File > New, another example), with no runs
    panel.reload()
    for which, plot in plots.plots.items():
        vb = plot.getPlotItem().vb
        (x0, x1), (y0, y1) = vb.viewRange()
        assert (x0, x1, y0, y1) == (0, 1, 0, 1), (which, vb.viewRange())
        assert all(vb.state["autoRange"]), which  # the next data ranges the axes afresh


def reopened(qtbot, path: Path) -> TrainingPanel:
    project = load_project(path)
    panel = TrainingPanel(lambda: project)  # a fresh panel: everything comes from disk
    qtbot.addWidget(panel)
    return panel


def test_a_reopened_run_shows_its_learning_rate(qtbot, trained):
    path, run = trained
    rows = rundir.read_history(run)
    assert [r.get("learning_rate") for r in rows] == [pytest.approx(0.01)] * 2  # kept per epoch
    panel = reopened(qtbot, path)
    x, y = panel.plots.curve_data("learning_rate")
    assert list(x) == [1.0, 2.0] and np.allclose(y, 0.01)
    assert panel.plots.plot_of("learning_rate") == "learning_rate"
    lo, hi = panel.plots.lr_plot.getPlotItem().vb.viewRange()[1]
    assert lo <= 0.01 <= hi  # in view, not only in the data


def test_a_reopened_run_shows_the_pictures_of_its_predictions(qtbot, trained):
    path, run = trained
    panel = reopened(qtbot, path)
    result = panel.evaluation.result
    assert result["split"] == "test" and len(result["y_true"]) == 16
    # The run's sample rows are the evaluated split's first rows: the pictures of those 16.
    raw, labels = signature.read_samples(run)
    assert np.array_equal(labels[:16], result["y_true"])
    assert result["images"].shape == (16, 8, 8, 1)
    assert np.array_equal(result["images"], raw[:16].astype(np.float32))
    grid = panel.evaluation.samples_grid
    assert grid.count() == 16
    for i in range(grid.count()):
        pictures = [label.pixmap() for label in grid.itemAt(i).widget().findChildren(QLabel)]
        assert any(p is not None and not p.isNull() for p in pictures), i


def test_sample_rows_of_another_split_give_no_pictures(qtbot, trained, tmp_path):
    """A run from before the sample rows were the evaluated split's: its predictions are shown
    without pictures rather than with another row's."""
    import shutil

    path, run = trained
    copy = tmp_path / "copy.runs" / run.name
    shutil.copytree(run, copy)
    raw, labels = signature.read_samples(copy)
    signature.write_samples(copy, raw[::-1].copy(), labels[::-1].copy())  # other rows
    from deepgui.core.training.evaluation import from_stored, with_run_images

    kept = from_stored(rundir.read_run(copy)["metrics"]["evaluation"])
    assert "images" not in with_run_images(kept, copy)
    assert "images" in with_run_images(kept, run)
