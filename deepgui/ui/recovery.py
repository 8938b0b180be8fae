"""Autosave to a recovery file, and finding the files a crashed session left behind.

Each running app writes `session-<pid>.dgproj` (a normal project file plus a `recovery` field
naming the file it was editing). A clean exit deletes it; a file whose process is gone is left
by a crash and is offered back at the next start. No Qt here."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from deepgui.core.errors import ProjectFormatError
from deepgui.core.project import Project, atomic_write_text, project_from_dict

_NAME = re.compile(r"session-(\d+)\.dgproj$")


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


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
        self.path.unlink(missing_ok=True)


def orphans(folder: Path) -> list[Path]:
    """Recovery files whose session is no longer running, newest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        m = _NAME.match(path.name)
        if m and not pid_alive(int(m.group(1))):
            found.append(path)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def original_path(path: Path) -> str | None:
    """The project file a recovery file was editing (None for an unsaved project)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return (data.get("recovery") or {}).get("path")
    except (OSError, ValueError, AttributeError):
        return None


def load_recovered(path: Path) -> Project:
    """The project as it was autosaved; its path is the file it was editing, if any."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProjectFormatError(f"{path}: the recovery file cannot be read ({exc}).") from None
    project = project_from_dict(data, source=str(path))
    original = (data.get("recovery") or {}).get("path")
    project.path = Path(original) if original else None
    return project
