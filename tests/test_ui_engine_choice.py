"""The Training panel offers each engine with its measured speed on this model, so the choice
is one click, and the choice is an undoable edit of the project's training settings."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core.training import engines  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.test_ui_training_panel import digits_project  # noqa: E402

pytestmark = pytest.mark.ui


def test_measure_shows_each_engines_speed_and_a_click_chooses_one(qtbot, tmp_path, monkeypatch):
    project = digits_project(tmp_path, epochs=30)  # long enough for JAX's speed to pay
    seen = {}

    def probe(proj, data, config):  # the measurement itself is tested in test_engines
        seen["rows"], seen["batch"] = data.num_train, config.batch_size
        return {"tensorflow": 3300.0, "xla": 0.0, "jax": 10800.0}

    monkeypatch.setattr(engines, "probe", probe)
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    panel.show()
    form = panel.form
    assert form.engine.currentData() == "tensorflow"  # the default stays TensorFlow
    qtbot.mouseClick(form.measure, Qt.MouseButton.LeftButton)
    assert not form.measure.isEnabled() and "Measuring" in form.speeds.text()
    qtbot.waitUntil(lambda: form.measure.isEnabled(), timeout=60000)
    # It measured the project's own data, as training would load it.
    assert seen["rows"] > 1000 and seen["batch"] == 64
    texts = {form.engine.itemData(i): form.engine.itemText(i) for i in range(form.engine.count())}
    assert texts["jax"] == "JAX (worker process) · 10,800/s"
    assert texts["tensorflow"] == "TensorFlow · 3,300/s"
    assert texts["xla"].endswith("cannot train this model")
    assert texts["auto"].endswith(": JAX (worker process)")
    said = form.speeds.text()
    assert said.startswith(
        "Measured on this machine: JAX (worker process) 10,800 · TensorFlow 3,300 samples/s. "
        "Auto chose JAX (worker process) for this run of "
    ), said
    # What it compared: each engine's whole run, its fixed cost and its epochs, and why.
    assert "as it ends this run soonest" in said
    assert "s to start, compile and end" in said and "s of epochs at 10,800 samples/s" in said
    form.engine.setCurrentIndex(form.engine.findData("jax"))
    assert project.training["engine"] == "jax"
    project.undo.undo()
    assert project.training.get("engine", "tensorflow") == "tensorflow"
    assert form.engine.currentData() == "tensorflow"


def test_a_failed_measurement_says_why(qtbot, tmp_path, monkeypatch):
    project = digits_project(tmp_path)
    project.dataset = {"source": "csv", "path": str(tmp_path / "missing.csv")}
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    qtbot.mouseClick(panel.form.measure, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.form.measure.isEnabled(), timeout=60000)
    assert "missing.csv" in panel.form.speeds.text()
