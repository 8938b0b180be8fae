"""Autosave to a recovery file, and finding the files a crashed session left behind.

Each running app writes `session-<pid>.dgproj` (a normal project file plus a `recovery` field
naming the file it was editing). A clean exit deletes it; a file whose process is gone is left
by a crash and is offered back at the next start. No Qt here.

Whatever else is in the folder (a damaged file, a link to nowhere, a name with a pid no system
has, a folder) never stops the app from starting: a recovery file that cannot be read is moved
aside into `unreadable/`, never deleted, and the message that reports it names where it went.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from pathlib import Path

from deepgui.core import fileio
from deepgui.core.errors import DeepGuiError, ProjectFormatError
from deepgui.core.fileio import pid_alive
from deepgui.core.project import Project, atomic_write_text, parse_json, project_from_dict

_NAME = re.compile(r"session-(\d{1,12})\.dgproj$")
UNREADABLE = "unreadable"
# An autosaved project is kilobytes; a file far bigger is not one.
MAX_BYTES = 64 * fileio.MiB


class RecoveryFile:
    """This session's recovery file."""

    def __init__(self, folder: Path, pid: int | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / f"session-{pid or os.getpid()}.dgproj"

    def write(self, project: Project) -> Path:
        data = project.to_dict()
        data["recovery"] = {
            "path": str(project.path) if project.path else None,
            "saved_at": time.time(),
        }
        atomic_write_text(
            self.path, json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n"
        )
        return self.path

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


def orphans(folder: Path) -> list[Path]:
    """What crashed sessions left: everything named like a recovery file whose session is no
    longer running, newest first, whatever it is (a link to nowhere, a pipe or a folder too:
    reading one then says what it is, and `screen` moves it aside and names it). Never raises."""
    folder = Path(folder)
    try:
        entries = list(folder.iterdir()) if folder.is_dir() else []
    except OSError:
        return []
    found = []
    for path in entries:
        m = _NAME.match(path.name)
        if not m or pid_alive(int(m.group(1))):
            continue
        try:
            mtime = path.lstat().st_mtime  # the entry itself: a link to nowhere has one too
        except OSError:  # gone meanwhile
            continue
        found.append((mtime, path))
    return [p for _, p in sorted(found, key=lambda item: item[0], reverse=True)]


def _read(path: Path) -> dict:
    """The recovery file's JSON object; ProjectFormatError, one sentence, for anything else."""
    text = fileio.read_text(path, "recovery file", MAX_BYTES, error=ProjectFormatError)
    data = parse_json(text, str(path))
    if not isinstance(data, dict):
        raise ProjectFormatError(f"{path}: is not a recovery file (not a JSON object).")
    return data


def _original(data: dict) -> str | None:
    recovery = data.get("recovery")
    if not isinstance(recovery, dict):
        return None
    path = recovery.get("path")
    if not isinstance(path, str) or not path or "\x00" in path or len(path) > 4096:
        return None
    return path


def original_path(path: Path) -> str | None:
    """The project file a recovery file was editing (None for an unsaved project, or for a file
    that cannot be read: loading it then says why)."""
    try:
        return _original(_read(Path(path)))
    except DeepGuiError:
        return None


def load_recovered(path: Path) -> Project:
    """The project as it was autosaved; its path is the file it was editing, if any. A file
    that cannot be recovered is moved aside (never deleted) and the ProjectFormatError names
    where it went."""
    path = Path(path)
    try:
        data = _read(path)
        project = project_from_dict(data, source=str(path))
    except DeepGuiError as exc:
        moved = set_aside(path)
        where = f" It was moved to {moved}." if moved else ""
        raise ProjectFormatError(
            f"The work autosaved in {path.name} cannot be recovered: {exc}{where}"
        ) from None
    original = _original(data)
    project.path = Path(original) if original else None
    return project


def screen(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The crashed sessions' recovery files that can be recovered (newest first), and, for each
    one that cannot, where it was moved and why: for a start-up that offers only work it can
    give back and says which files it set aside."""
    good, bad = [], []
    for path in orphans(folder):
        try:
            project_from_dict(_read(path), source=str(path))
        except DeepGuiError as exc:
            why = str(exc)
        except Exception as exc:  # noqa: BLE001 - a damaged file must never stop the start
            why = f"{path}: cannot be read as a recovery file ({type(exc).__name__})."
        else:
            good.append(path)
            continue
        bad.append((set_aside(path) or path, why))
    return good, bad


def set_aside(path: Path) -> Path | None:
    """Move an unreadable recovery file into `unreadable/` beside it (kept for a bug report,
    out of the next start's way); None when even that fails (it is then left where it is)."""
    path = Path(path)
    folder = path.parent / UNREADABLE
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        folder.mkdir(exist_ok=True)
        target = folder / f"{path.name}.{stamp}"
        i = 1
        while target.exists() or target.is_symlink():
            target, i = folder / f"{path.name}.{stamp}-{i}", i + 1
        os.replace(path, target)
    except OSError:
        return None
    return target
