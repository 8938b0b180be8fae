"""State belongs to its project: an engine measurement shown beside the engine choice is the
measured project's, so File ▸ New and another example show none, and a measurement that comes
back after the project was replaced is dropped."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core.paths import examples_dir  # noqa: E402
from deepgui.core.training import engines  # noqa: E402
from deepgui.ui.training.config_hardware import ENGINE_LABELS  # noqa: E402
from tests.ui_support import open_window  # noqa: E402

pytestmark = pytest.mark.ui

SPEEDS = {"tensorflow": 3300.0, "xla": 0.0, "jax": 10800.0}


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    w = open_window(qtbot)
    yield w
    if w._training_panel is not None:
        w.training.shutdown()
    w.doc.shutdown()


def shows_no_measurement(form) -> bool:
    texts = {form.engine.itemData(i): form.engine.itemText(i) for i in range(form.engine.count())}
    return texts == ENGINE_LABELS and form.speeds.text() == "" and form.measure.isEnabled()


def measure(qtbot, form) -> None:
    qtbot.mouseClick(form.measure, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.measure.isEnabled(), timeout=60_000)


def test_a_measurement_stays_with_the_project_it_was_measured_for(window, qtbot, monkeypatch):
    # The measurement itself is test_engines'; here it comes back through the panel's own path
    # (Measure, the background job, the core's choice) with known speeds.
    monkeypatch.setattr(engines, "probe", lambda project, data, config: dict(SPEEDS))
    window.files.open_example(examples_dir() / "digits_cnn.dgproj")
    panel = window.training_panel()
    window.tabs.setCurrentWidget(panel)
    form = panel.form
    assert shows_no_measurement(form)
    measure(qtbot, form)
    assert "10,800" in form.speeds.text() and "/s" in form.engine.itemText(1)

    window.actions["new"].trigger()  # File ▸ New
    assert shows_no_measurement(form)

    window.files.open_example(examples_dir() / "digits_cnn.dgproj")
    measure(qtbot, form)
    assert not shows_no_measurement(form)
    window.files.open_example(examples_dir() / "iris_dense.dgproj")  # another example
    assert shows_no_measurement(form)


def test_a_measurement_that_ends_after_file_new_is_dropped(window, qtbot, monkeypatch):
    started, release = threading.Event(), threading.Event()

    def probe(project, data, config):
        started.set()
        release.wait(30)
        return dict(SPEEDS)

    monkeypatch.setattr(engines, "probe", probe)
    window.files.open_example(examples_dir() / "digits_cnn.dgproj")
    panel = window.training_panel()
    form = panel.form
    qtbot.mouseClick(form.measure, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(started.is_set, timeout=30_000)
    window.actions["new"].trigger()
    release.set()
    panel.background.wait(30)
    qtbot.wait(100)  # the answer, queued to the GUI thread, has arrived
    assert shows_no_measurement(form)
