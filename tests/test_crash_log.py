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
