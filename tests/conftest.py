import gc
import os
import sys
import tempfile

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Determinism and a quiet CPU: tests share 2 cores.
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
# Unsaved projects keep their runs in a scratch area: the tests' own, never the user's.
os.environ.setdefault("DEEPGUI_SCRATCH", tempfile.mkdtemp(prefix="deepgui-test-scratch-"))


@pytest.fixture(autouse=True)
def _qt_garbage_on_the_gui_thread(request):
    """Qt widgets must be destroyed on the GUI thread. Left to itself, Python's cyclic GC can
    run in a training or inference thread and free a previous test's widgets there, which
    deadlocks or crashes Qt (the app guards against the same with a GUI-thread collector)."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def pytest_sessionfinish(session, exitstatus):
    """Free Qt's clipboard contents while Python still runs (see MainWindow.release_clipboard)."""
    if "deepgui.ui.main_window" in sys.modules:
        from PySide6.QtWidgets import QApplication

        if QApplication.instance() is not None:
            sys.modules["deepgui.ui.main_window"].MainWindow.release_clipboard()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that gave a window real dialogs and then failed part-way would leave them in
    place: pytest-qt closes the window at teardown, the window asks "Save changes?" in a real
    modal box, and nobody answers it (a full run hung there). Whatever the outcome, windows
    answer their questions without a dialog from here on."""
    try:
        return (yield)
    finally:
        _windows_ask_nothing()


def _windows_ask_nothing() -> None:
    if "deepgui.ui.main_window" not in sys.modules:
        return
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        return
    from tests.ui_support import FakeDialogs

    window_class = sys.modules["deepgui.ui.main_window"].MainWindow
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, window_class):
            widget.dialogs = FakeDialogs()
