"""The learning rate reaches the listener with every epoch, whichever engine trains: the JAX
worker's parent has no optimizer to read, so the rate must come in the epoch's event, as it
does from the engine in this process; the app's learning-rate plot draws it live."""

from __future__ import annotations

import pytest

from deepgui.core.data import load_dataset
from deepgui.core.graph import Graph
from deepgui.core.project import Project
from deepgui.core.training import TrainingConfig, TrainingListener, engines
from tests.helpers import add

pytest.importorskip("jax")

RATE = 0.005


class EpochLogs(TrainingListener):
    def __init__(self) -> None:
        self.logs: list[dict[str, float]] = []

    def epoch_ended(self, epoch, logs):
        self.logs.append(dict(logs))


def iris_project(tmp_path) -> Project:
    g = Graph()
    hidden = add(g, "Dense", add(g, "InputLayer", shape=[4]), units=8, activation="relu")
    add(g, "Dense", hidden, units=3, activation="softmax")
    project = Project(graph=g, dataset={"source": "builtin", "name": "iris"},
                      training={"epochs": 2, "batch_size": 32, "learning_rate": RATE})  # fmt: skip
    project.save(tmp_path / "iris.dgproj")
    return project


def epoch_logs(name: str, project: Project, tmp_path) -> list[dict[str, float]]:
    data = load_dataset(project.dataset, graph=project.graph)
    config = TrainingConfig.from_dict(project.training)
    events = EpochLogs()
    engine = engines.make_engine(name, project, data, config, events,
                                 dataset_spec=project.dataset, run_dir=tmp_path / name)  # fmt: skip
    result = engine.run()
    assert result.reason == "completed", result.metrics.get("message")
    return events.logs


def test_the_jax_workers_epoch_events_carry_the_learning_rate_as_tensorflows_do(tmp_path):
    project = iris_project(tmp_path)
    by_engine = {name: epoch_logs(name, project, tmp_path) for name in ("jax", "tensorflow")}
    for name, logs in by_engine.items():
        assert len(logs) == 2, name
        assert [row.get("learning_rate") for row in logs] == [pytest.approx(RATE)] * 2, name
    # The same keys from both engines: what the app draws does not depend on where it trained.
    assert by_engine["jax"][0].keys() == by_engine["tensorflow"][0].keys()


@pytest.mark.ui
def test_the_apps_learning_rate_plot_fills_while_the_jax_worker_trains(qtbot, tmp_path):
    pytest.importorskip("pytestqt")
    from deepgui.ui.training.panel import TrainingPanel
    from tests.test_ui_training_panel import digits_project

    project = digits_project(tmp_path, epochs=2, batch_size=64, engine="jax", learning_rate=RATE)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(panel.run_finished, timeout=120000) as blocker:
            assert panel.start_training()
        assert blocker.args == ["completed"], panel.message.text()
        assert panel.last_metrics["engine"] == "jax"
        # Drawn from the epochs' events as they came (the relay's rows), not a reopened history.
        assert [row.get("learning_rate") for row in panel.history] == [pytest.approx(RATE)] * 2
        x, y = panel.plots.curve_data("learning_rate")
        assert list(x) == [1.0, 2.0] and list(y) == [pytest.approx(RATE)] * 2
    finally:
        assert panel.shutdown(20000)


def test_the_terminal_line_shows_a_small_learning_rate_in_significant_digits():
    from deepgui.train_cli import _fmt_logs

    assert _fmt_logs({"loss": 0.5, "learning_rate": 1e-5}) == "learning_rate 1e-05 loss 0.5000"
