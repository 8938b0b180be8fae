"""Starting the desktop app: `deepgui [FILE]` ends up in `run_app`.

The window paints before anything heavy loads: Keras (TensorFlow) is imported afterwards, in
the background, and shapes appear when it is ready.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from deepgui.core.errors import DeepGuiError
from deepgui.core.paths import examples_dir
from deepgui.core.project import Project, load_project
from deepgui.ui import settings
from deepgui.ui.gc_guard import GuiThreadCollector
from deepgui.ui.main_window import MainWindow
from deepgui.ui.theme import apply_theme

EXAMPLE = "digits_cnn.dgproj"


class Start(NamedTuple):
    project: Project
    pending: str | None  # a file to open once the window is up (a Keras model loads TensorFlow)
    name: str | None = None  # what to call an example opened as a new project


def initial_project(path: str | None) -> Start:
    """The project to show first. No FILE: the last project, else the bundled example."""
    if path is not None:
        p = Path(path)
        if p.suffix.lower() not in (".keras", ".h5", ".hdf5"):
            try:
                project = load_project(p)
            except DeepGuiError:
                return Start(Project(), str(p))  # opened again after show: the error is seen
            settings.add_recent(p)
            return Start(project, None)
        return Start(Project(), str(p))
    candidates = []
    last = settings.last_project()
    if last:
        candidates.append(Path(last))
    if settings.first_launch() or not last:
        candidates.append(examples_dir() / EXAMPLE)
    for candidate in candidates:
        if candidate.is_file():
            try:
                project = load_project(candidate)
            except DeepGuiError:
                continue
            if candidate.parent == examples_dir():
                project.path = None  # never overwrite the shipped example: Save asks where
                return Start(project, None, candidate.stem)
            return Start(project, None)
    return Start(Project(), None)


class _FirstPaint(QObject):
    """For the startup benchmark: prints when the window first paints, then quits."""

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            heavy = "tensorflow" in sys.modules or "keras" in sys.modules
            print(f"first-paint {time.time():.6f} tensorflow-loaded={heavy}", flush=True)
            watched.removeEventFilter(self)
            QTimer.singleShot(0, QApplication.instance().quit)
        return False


def run_app(path: str | None = None) -> int:
    """Open the desktop app on FILE (a project or a Keras model) or the usual start project."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if QApplication.instance() is None:
        # Fractional scale factors (150 %) drawn as they are, not rounded: crisp on HiDPI.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    # Python's cyclic GC may otherwise run in the training or inference thread and destroy
    # garbage Qt widgets there, which deadlocks or crashes Qt: collect on the GUI thread only.
    collector = GuiThreadCollector(interval_ms=500)
    app.setApplicationName("deepgui")
    app.setOrganizationName("deepgui")
    app.setDesktopFileName("deepgui")
    choice = settings.theme()
    apply_theme(app, None if choice == "system" else choice == "dark")
    project, pending, name = initial_project(path)
    window = MainWindow(project)
    if name:
        window.doc.display_name = name
        window.refresh_title()
    hints = app.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(lambda *_: _follow_system(app, window))
    probe = None
    if os.environ.get("DEEPGUI_STARTUP_PROBE"):
        probe = _FirstPaint()
        window.view.viewport().installEventFilter(probe)
    window.show()
    if probe is None:
        QTimer.singleShot(0, window.view.fit_all)
        QTimer.singleShot(50, lambda: _after_show(window, pending))
    settings.mark_launched()
    code = app.exec()
    window.doc.shutdown(wait_s=20.0)  # let a TensorFlow import in flight finish before exit
    collector.stop()
    MainWindow.release_clipboard()
    return code


def _follow_system(app: QApplication, window: MainWindow) -> None:
    if settings.theme() == "system":
        apply_theme(app)
        window.apply_theme()


def _after_show(window: MainWindow, pending: str | None) -> None:
    window.start_background()
    recovered = window.files.check_recovery()
    if pending and not recovered:
        window.files.open_path(pending, ask=False)
