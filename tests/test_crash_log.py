"""The app's crash log: uncaught exceptions from any thread and fatal signals end up in
``crash.log`` in the config folder, even while stderr is silenced."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def hooks():
    saved = sys.excepthook, threading.excepthook
    yield
    sys.excepthook, threading.excepthook = saved
    import faulthandler

    faulthandler.enable(file=sys.__stderr__)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_uncaught_exceptions_of_any_thread_are_logged(tmp_path, monkeypatch, hooks):
    from deepgui.ui import app

    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path))
    path = app.install_crash_log()
    assert path == tmp_path / "crash.log"

    def fail():
        raise RuntimeError("a worker thread broke")

    thread = threading.Thread(target=fail, name="worker")
    thread.start()
    thread.join()
    try:
        raise ValueError("the main thread broke")
    except ValueError:
        app.log_exception(*sys.exc_info())
    text = app.crash_log_text()
    assert "uncaught exception in thread worker" in text and "a worker thread broke" in text
    assert "the main thread broke" in text and "Traceback" in text


def test_a_fatal_signal_is_logged_with_every_thread(tmp_path):
    code = (
        f"import os, faulthandler; os.environ['DEEPGUI_CONFIG_DIR'] = {str(tmp_path)!r}\n"
        "from deepgui.ui import app\n"
        "app.install_crash_log()\n"
        "faulthandler._sigsegv()\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode != 0
    text = (tmp_path / "crash.log").read_text(errors="replace")
    assert "Segmentation fault" in text and "most recent call first" in text


def test_the_log_keeps_its_newest_part(tmp_path, monkeypatch, hooks):
    from deepgui.ui import app

    log = tmp_path / "crash.log"
    log.write_bytes(b"old\n" * (app.MAX_LOG_BYTES // 2))
    app.install_crash_log(log)
    assert log.stat().st_size <= app.MAX_LOG_BYTES // 2 + 100
    assert log.read_text().startswith("[older entries removed]")


# ----------------------------------------------------------------------------- Help ▸ Crash Log
def _help_action(window, words: str):
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    return next(a for a in help_menu.actions() if words in a.text().replace("&", ""))


def _with_dialog(qtbot, window, handle) -> None:
    """Choose Help ▸ Crash Log… and, while its modal dialog is up, let `handle` use it."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from deepgui.ui.dialogs import CrashLogDialog

    handled = []

    def poll():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, CrashLogDialog) and dialog.isVisible() and not handled:
            handled.append(dialog)
            handle(dialog)

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(20)
    try:
        _help_action(window, "Crash Log").trigger()
    finally:
        timer.stop()
    assert handled, "the crash log dialog did not show"


@pytest.mark.ui
def test_help_crash_log_shows_the_log_to_copy_or_attach(qtbot, tmp_path, monkeypatch, hooks):
    from PySide6.QtCore import QObject, Qt, QUrl, Slot
    from PySide6.QtGui import QDesktopServices
    from PySide6.QtWidgets import QApplication

    from deepgui.ui import app
    from tests.ui_support import open_window

    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path))
    app.install_crash_log()
    try:
        raise RuntimeError("the canvas broke")
    except RuntimeError:
        app.log_exception(*sys.exc_info())
    window = open_window(qtbot)

    class FileManager(QObject):  # where Open Folder goes: the desktop's file manager
        def __init__(self):
            super().__init__()
            self.opened = []

        @Slot(QUrl)
        def show(self, url):
            self.opened.append(url.toLocalFile())

    manager = FileManager()
    QDesktopServices.setUrlHandler("file", manager, "show")
    seen = {}

    def handle(dialog):
        seen["intro"], seen["log"] = dialog.intro.text(), dialog.log.toPlainText()
        qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
        seen["status"] = dialog.status.text()
        qtbot.mouseClick(dialog.folder_button, Qt.MouseButton.LeftButton)
        dialog.accept()

    try:
        _with_dialog(qtbot, window, handle)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    log = str(tmp_path / "crash.log")
    assert log in seen["intro"] and "bug report" in seen["intro"]
    assert "RuntimeError: the canvas broke" in seen["log"] and "Traceback" in seen["log"]
    copied = QApplication.clipboard().text()
    assert copied.startswith("deepgui ") and log in copied and "the canvas broke" in copied
    assert "Copied" in seen["status"]
    assert manager.opened == [str(tmp_path)]


@pytest.mark.ui
def test_help_crash_log_says_plainly_when_there_is_none(qtbot, tmp_path, monkeypatch, hooks):
    from deepgui.ui import app
    from tests.ui_support import open_window

    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path))
    app.install_crash_log()  # every start opens the log: an empty one means no crash
    window = open_window(qtbot)
    seen = {}

    def handle(dialog):
        seen["intro"] = dialog.intro.text()
        seen["copy"] = dialog.copy_button.isEnabled()
        seen["log shown"] = dialog.log.isVisible()
        dialog.accept()

    _with_dialog(qtbot, window, handle)
    assert seen["intro"].startswith("No crashes recorded")
    assert str(tmp_path / "crash.log") in seen["intro"]
    assert not seen["copy"] and not seen["log shown"]
