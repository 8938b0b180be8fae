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


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A table run and an image run on tests/rawdata.py's files, each trained through `deepgui
    train` in a process of its own, both at once: test_raw_model and test_export_script export
    and use the same two runs rather than training their own."""
    from types import SimpleNamespace

    from tests.rawdata import cnn_project, mixed_project, write_image_folder, write_mixed_csv
    from tests.test_raw_model import deepgui_at_once

    folder = tmp_path_factory.mktemp("trained")
    data = write_mixed_csv(folder / "customers.csv")
    images = write_image_folder(folder / "shapes")
    table, image = folder / "table_run", folder / "image_run"
    table_project = mixed_project(folder / "customers.dgproj")
    table_training, _ = deepgui_at_once(
        ("train", table_project, "--data", data, "--target", "decision", "--epochs", "15",
         "--out", table),
        ("train", cnn_project(folder / "shapes.dgproj"), "--data", images, "--out", image),
    )  # fmt: skip
    assert "filled inside the model" in table_training.stderr
    return SimpleNamespace(data=data, table=table, images=images, image=image)
