"""What every export hands back: where the artefact went and whether it checked out."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ExportReport:
    """The outcome of one export and its self-check.

    `max_abs_diff` is the largest absolute difference between the artefact's outputs and the
    Keras model's on the same sample inputs (None where nothing numeric was compared, as for a
    script); `ok` is False when that difference exceeds `tolerance` or the check could not run.
    `kept` is False when the exporter deleted an artefact that failed its check: whatever is at
    `path` then is what was there before (an earlier export), not this one.
    """

    path: Path
    format: str
    size_bytes: int
    max_abs_diff: float | None
    tolerance: float | None
    ok: bool
    message: str
    kept: bool = True

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def artefact_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (a SavedModel is a folder)."""
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size if path.exists() else 0


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
