"""Starting the desktop app: `deepgui [FILE]` ends up in `run_app`.

The window paints before anything heavy loads: Keras (TensorFlow) is imported afterwards, in
the background, and shapes appear when it is ready.

The app keeps a crash log in its config folder (`crash.log`): Python's faulthandler writes
every thread's stack there when the process dies of a signal (a segfault, an abort), and every
uncaught exception, in any thread, is written there too, so neither is lost when stderr is
silenced (as it is while TensorFlow loads) or there is no terminal. Help offers the log for a
bug report (`show_crash_log`).
"""

from __future__ import annotations

import datetime as _dt
import faulthandler
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from deepgui.core.errors import DeepGuiError
from deepgui.core.paths import examples_dir
from deepgui.core.project import Project
from deepgui.ui import settings
from deepgui.ui.files import load_for_editing
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
                project, template = load_for_editing(p)
            except DeepGuiError:
                return Start(Project(), str(p))  # opened again after show: the error is seen
            if template:  # a bundled example, as `make run` opens it: never written over
                return Start(project, None, template)
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
                project, template = load_for_editing(candidate)
            except DeepGuiError:
                continue
            return Start(project, None, template)
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


CRASH_LOG = "crash.log"
# The log keeps its newest part: a few hundred crashes' worth is plenty for a bug report.
MAX_LOG_BYTES = 1 << 20
_crash_file = None  # kept open for faulthandler, which writes to its descriptor when we die


def crash_log_path() -> Path:
    return settings.config_dir() / CRASH_LOG


def install_crash_log(path: Path | None = None) -> Path | None:
    """Send fatal signals (faulthandler, all threads) and uncaught exceptions (main thread,
    other threads, Qt slots) to the crash log. Returns the log's path, or None when it cannot
    be written (the app then runs without one). Uncaught exceptions still reach the previous
    hooks, so a terminal shows them as before."""
    global _crash_file
    path = Path(path) if path is not None else crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _trim(path)
        handle = open(path, "a", encoding="utf-8", errors="replace")  # noqa: SIM115 - kept open
    except OSError:
        return None
    if _crash_file is not None:
        _crash_file.close()
    _crash_file = handle
    faulthandler.enable(file=handle, all_threads=True)
    previous_hook = sys.excepthook
    previous_thread_hook = threading.excepthook

    def excepthook(kind, value, tb):
        log_exception(kind, value, tb)
        previous_hook(kind, value, tb)

    def thread_hook(args):
        where = f"thread {args.thread.name}" if args.thread is not None else "a thread"
        log_exception(args.exc_type, args.exc_value, args.exc_traceback, where)
        previous_thread_hook(args)

    sys.excepthook = excepthook
    threading.excepthook = thread_hook
    return path


def log_exception(kind, value, tb, where: str = "the main thread") -> None:
    """Append one uncaught exception, with its traceback, to the crash log."""
    handle = _crash_file
    if handle is None or kind is KeyboardInterrupt:
        return
    try:
        stamp = _dt.datetime.now().isoformat(timespec="seconds")
        handle.write(f"\n--- {stamp} uncaught exception in {where} (pid {os.getpid()})\n")
        handle.write("".join(traceback.format_exception(kind, value, tb)))
        handle.flush()
    except (OSError, ValueError):
        pass  # a full disk or a closed log: nothing more to do


def _trim(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        return
    if size > MAX_LOG_BYTES:
        with open(path, "rb") as fh:
            fh.seek(size - MAX_LOG_BYTES // 2)
            tail = fh.read()
        from deepgui.core.fileio import atomic_write_bytes

        atomic_write_bytes(path, b"[older entries removed]\n" + tail)


def crash_log_text(limit: int = 20_000) -> str:
    """The newest part of the crash log ("" when nothing has been logged)."""
    path = crash_log_path()
    try:
        data = path.read_bytes()[-limit:]
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace").strip()


def show_crash_log(parent=None) -> None:
    """Help > Crash Log: where the log is and its newest entries, with Copy and Open Folder
    for a bug report; says so when nothing has been logged. (The main window's Help menu
    calls this.)"""
    from deepgui.ui.dialogs import CrashLogDialog

    dialog = CrashLogDialog(crash_log_path(), crash_log_text(), versions(), parent)
    dialog.exec()


def versions() -> str:
    """The versions a bug report needs: deepgui's, Python's, Qt's and the system's."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import PySide6

    try:
        ours = version("deepgui")
    except PackageNotFoundError:
        ours = "development"
    return (
        f"deepgui {ours}, Python {platform.python_version()}, PySide6 {PySide6.__version__}, "
        f"{platform.platform()}"
    )


def run_app(path: str | None = None) -> int:
    """Open the desktop app on FILE (a project or a Keras model) or the usual start project."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    install_crash_log()
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
    probe = _FirstPaint() if os.environ.get("DEEPGUI_STARTUP_PROBE") else None
    window = open_window(path, probe)
    hints = app.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(lambda *_: _follow_system(app, window))
    code = app.exec()
    window.doc.shutdown(wait_s=20.0)  # let a TensorFlow import in flight finish before exit
    collector.stop()
    MainWindow.release_clipboard()
    return code


def open_window(path: str | None = None, probe: QObject | None = None) -> MainWindow:
    """The main window on FILE or the usual start project, shown; once it has painted, Keras
    loads, crashed work is offered back, FILE opens if it must wait (a Keras model), and on
    the first launch Help ▸ Getting Started shows. `probe` (the start-up benchmark's) watches
    the first paint instead of all that."""
    first = settings.first_launch()
    project, pending, name = initial_project(path)
    window = MainWindow(project)
    if name:
        window.doc.display_name = name
        window.refresh_title()
    if probe is not None:
        window.view.viewport().installEventFilter(probe)
    window.show()
    if probe is None:
        QTimer.singleShot(0, window.view.fit_all)
        QTimer.singleShot(50, lambda: _after_show(window, pending, welcome=first))
    settings.mark_launched()
    return window


def _follow_system(app: QApplication, window: MainWindow) -> None:
    if settings.theme() == "system":
        apply_theme(app)
        window.apply_theme()


def _after_show(window: MainWindow, pending: str | None, welcome: bool = False) -> None:
    window.start_background()
    recovered = window.files.check_recovery()
    if pending and not recovered:
        window.files.open_path(pending, ask=False)
    if welcome:
        window.show_getting_started()
