"""Resume keeps the history (issue 23, point 9): a run resumed from the Runs tab shows its earlier
epochs at once, from its checkpoint, and then continues them; the loss and the metrics plots
show the same epochs, from the first."""

from __future__ import annotations

import numpy as np
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

EPOCH_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate")


@pytest.mark.slow  # two real runs, one resumed
def test_a_resumed_run_shows_its_earlier_epochs_and_goes_on(qtbot, tmp_path):
    project = digits_project(tmp_path, epochs=4)
    data = data_access.load_dataset(project.dataset, tmp_path)
    run_dir = runs.new_run_dir(project)
    cfg = TrainingConfig.from_dict({**project.training, "epochs": 2})
    TrainingEngine(project.graph, data, cfg, project=project, run_dir=run_dir).run()
    copy = run_dir / "project.dgproj"
    copy.write_text(copy.read_text().replace('"epochs": 2', '"epochs": 4'))  # as it was meant
    (run_dir / "metrics.json").unlink()  # killed after epoch 2: no final metrics
    earlier = rundir.read_checkpoint(run_dir)["history"]
    assert [r["epoch"] for r in earlier] == [1, 2]

    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    panel.resize(1200, 500)
    panel.show()
    panel.view_tabs.setCurrentWidget(panel.runs)
    panel.runs.select([run_dir.name])
    plots = panel.plots
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as done:
        qtbot.mouseClick(panel.runs.resume_button, Qt.MouseButton.LeftButton)
        # At once, before the run reports anything: the epochs it goes on from, every plot.
        for key in EPOCH_KEYS:
            x, y = plots.curve_data(key)
            assert list(x) == [1.0, 2.0], key
            assert np.allclose(y, [r[key] for r in earlier]), key
        assert panel.view_tabs.currentWidget() is plots
    assert done.args == ["completed"], panel.message.text()

    # Then the new epochs follow them; the loss and the metrics plots have the same epochs.
    for key in EPOCH_KEYS:
        assert list(plots.curve_data(key)[0]) == [1.0, 2.0, 3.0, 4.0], key
    assert panel.epochs_seen == [1, 2, 3, 4] and [r["epoch"] for r in panel.history] == [1, 2, 3, 4]
    x0, x1 = plots.loss_plot.getPlotItem().vb.viewRange()[0]
    assert x0 <= 0.5 and x1 >= 4  # from the first epoch, not from where it resumed
    assert plots.metric_plot.getPlotItem().vb.viewRange()[0] == [x0, x1]
    # The batches drawn are the resumed epochs' (the earlier ones' were not kept).
    bx, _ = plots.curve_data("batch_raw")
    assert bx[0] > 2.0 and bx[-1] == pytest.approx(4.0)
    history = rundir.read_history(run_dir)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert np.allclose(plots.curve_data("loss")[1], [r["loss"] for r in history])
