"""Leaving the app after copying layers: Qt's clipboard outlives the interpreter, so the copied
data must be given back first or the process crashes on exit (exit status 139)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("pytestqt")

pytestmark = pytest.mark.ui

SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtWidgets import QApplication
    from deepgui.core.project import Project
    from deepgui.ui.main_window import MainWindow

    app = QApplication([])
    window = MainWindow(Project(), autosave_ms=3_600_000)
    node = window.doc.graph.add_node("Dense", {"units": 4})
    window.scene.select_nodes([node.id])
    window.copy()
    if sys.argv[1] == "release":
        MainWindow.release_clipboard()
    """
)


def run(mode: str, tmp_path) -> subprocess.CompletedProcess:
    env = {"QT_QPA_PLATFORM": "offscreen", "DEEPGUI_CONFIG_DIR": str(tmp_path)}
    import os

    return subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], env={**os.environ, **env}, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip


def test_copied_layers_are_released_so_the_process_exits_cleanly(tmp_path):
    released = run("release", tmp_path)
    assert released.returncode == 0, released.stderr[-1500:]


def test_gui_thread_collector_collects_on_its_timer(qtbot):
    import gc

    from deepgui.ui.gc_guard import GuiThreadCollector

    original = gc.get_threshold()
    collector = GuiThreadCollector(interval_ms=10)
    try:
        assert not gc.isenabled()  # nothing collects behind the GUI thread's back
        gc.set_threshold(10, 10, 10)
        collector.threshold = gc.get_threshold()
        for _ in range(200):
            a, b = [], []
            a.append(b)
            b.append(a)  # cyclic garbage only the collector can free
        qtbot.waitUntil(lambda: gc.get_count()[0] <= 10, timeout=2000)
    finally:
        collector.stop()
        gc.set_threshold(*original)
    assert gc.isenabled()
