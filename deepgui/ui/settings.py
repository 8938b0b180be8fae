"""Where the app keeps its settings, recent files and recovery files.

`DEEPGUI_CONFIG_DIR` moves all of it (tests point it at a temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

MAX_RECENT = 8


def config_dir() -> Path:
    override = os.environ.get("DEEPGUI_CONFIG_DIR")
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(base or Path.home() / ".config") / "deepgui"


def settings() -> QSettings:
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)


def recent_files() -> list[str]:
    value = settings().value("recent_files", [])
    if isinstance(value, str):  # QSettings returns a lone entry as a plain string
        value = [value]
    return [str(v) for v in value or [] if v]


def add_recent(path: str | os.PathLike) -> list[str]:
    path = str(Path(path).resolve())
    files = [path] + [f for f in recent_files() if f != path]
    files = files[:MAX_RECENT]
    s = settings()
    s.setValue("recent_files", files)
    s.setValue("last_project", path)
    s.sync()
    return files


def remove_recent(path: str) -> None:
    s = settings()
    s.setValue("recent_files", [f for f in recent_files() if f != path])
    s.sync()


def last_project() -> str | None:
    value = settings().value("last_project", "")
    return str(value) if value else None


def first_launch() -> bool:
    return not settings().value("launched_before", False, type=bool)


def mark_launched() -> None:
    s = settings()
    s.setValue("launched_before", True)
    s.sync()


def theme() -> str:
    """'system' (the default), 'light' or 'dark'."""
    value = str(settings().value("theme", "system"))
    return value if value in ("system", "light", "dark") else "system"


def set_theme(choice: str) -> None:
    s = settings()
    s.setValue("theme", choice)
    s.sync()


def window_layout() -> tuple[bytes, bytes] | None:
    """The main window's geometry and dock layout as last closed, or None the first time."""
    s = settings()
    geometry, state = s.value("window/geometry"), s.value("window/state")
    if geometry is None or state is None:
        return None
    try:
        return bytes(geometry), bytes(state)
    except TypeError:
        return None  # written by something else: the default layout instead


def set_window_layout(geometry: bytes, state: bytes) -> None:
    s = settings()
    s.setValue("window/geometry", geometry)
    s.setValue("window/state", state)
    s.sync()
