"""Help > Getting Started (issue 23, point 14): the steps from building to predicting, shown on
the first launch and not after it, from the Help menu at any time; and the first window says
that F5 trains."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QLabel  # noqa: E402

from deepgui.ui.main_window import MainWindow  # noqa: E402
from tests.ui_support import FakeDialogs, open_window  # noqa: E402

pytestmark = pytest.mark.ui


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def _help_action(w: MainWindow, text: str):
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == "Help")
    return next(a for a in help_menu.actions() if a.text().replace("&", "") == text)


def test_the_help_menu_opens_the_steps_in_order(qtbot, config):
    w = open_window(qtbot)
    assert w.getting_started is None or not w.getting_started.isVisible()
    _help_action(w, "Getting Started").trigger()
    page = w.getting_started
    qtbot.waitUntil(page.isVisible)
    assert not page.isModal()  # tried beside the window
    text = page.text()
    steps = ["Build the model", "Choose the data", "Train: press F5", "Export", "Predict"]
    at = [text.index(step) for step in steps]
    assert at == sorted(at), text
    for words in ("Ctrl+K", "Training", "Source", "CSV", "F5", "File ▸ Export",
                  "Run ▸ Predict on a File"):  # fmt: skip
        assert words in text, words
    assert len(text) < 2500  # a page, not a manual
    # Shown again, it is the same page brought to the front, not a second one.
    page.close()
    _help_action(w, "Getting Started").trigger()
    assert w.getting_started is page and page.isVisible()
    page.close()


def test_the_first_window_says_that_f5_trains(qtbot, config):
    w = open_window(qtbot)
    said = [
        label.text()
        for label in w.statusBar().findChildren(QLabel)
        if label.isVisible() and "F5" in label.text()
    ]
    assert said and "train" in said[0].lower(), said


def test_shown_on_the_first_launch_and_not_on_the_second(qtbot, config, monkeypatch):
    from deepgui.ui import app

    started: list[MainWindow] = []
    # Keras is not needed to see the page: the windows skip loading it.
    monkeypatch.setattr(MainWindow, "start_background", lambda self: started.append(self))

    def launch() -> MainWindow:
        w = app.open_window(None)
        w.dialogs = FakeDialogs()  # before anything is asked, after the first paint
        qtbot.addWidget(w)
        qtbot.waitUntil(lambda: w in started, timeout=10_000)
        qtbot.wait(50)
        return w

    first = launch()
    assert len(first.doc.graph) > 0  # the example that trains as it is
    assert first.getting_started is not None
    qtbot.waitUntil(first.getting_started.isVisible)
    first.getting_started.close()
    first.close()

    second = launch()
    assert second.getting_started is None
    second.close()
