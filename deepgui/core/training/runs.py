"""A project's runs, and what each one trained.

Where they live (run_layout: ``folder/NAME.runs/<timestamp>/`` beside a saved project, a
scratch area for an unsaved one) is decided below the project, which moves them when it is
saved; those names are here too, where the app and the tests look for them. A run belongs to
the project whose id its project copy carries, so two projects in one folder never see each
other's runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepgui.core import run_layout
from deepgui.core.run_layout import (  # noqa: F401 (the app and the tests find them here)
    RUNS_SUFFIX,
    is_scratch,
    new_run_dir,
    relocate,
    runs_root,
    scratch_root,
)
from deepgui.core.training.rundir import CHECKPOINTS, is_resumable


@dataclass
class RunInfo:
    """One run of a project, and what it trained, for the Runs tab and the Export dialog."""

    path: Path
    metrics: dict[str, Any]
    trained: dict[str, Any]  # layers, params, data, settings

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def finished(self) -> bool:
        return bool(self.metrics)

    @property
    def resumable(self) -> bool:
        return is_resumable(self.path)

    @property
    def has_model(self) -> bool:
        return (self.path / run_layout.MODEL).is_file()

    @property
    def stopped_by(self) -> str:
        return str(self.metrics.get("stopped_by", "unfinished"))

    def describe(self) -> str:
        """One line: what it trained and how it ended."""
        t = self.trained
        parts = []
        if t.get("layers"):
            parts.append(f"{t['layers']} layer{'s' * (t['layers'] != 1)}")
        if t.get("params"):
            parts.append(f"{t['params']:,} params")
        if t.get("data"):
            parts.append(str(t["data"]))
        settings = [f"{t[k]}" for k in ("optimizer",) if t.get(k)]
        if t.get("learning_rate"):
            settings.append(f"lr {t['learning_rate']:g}")
        if t.get("epochs"):
            settings.append(f"{t['epochs']} epochs")
        if t.get("batch_size"):
            settings.append(f"batch {t['batch_size']}")
        if settings:
            parts.append(", ".join(settings))
        return "; ".join(parts)


def project_runs(project) -> list[RunInfo]:
    """This project's runs, newest first: finished ones and ones that can resume."""
    root = runs_root(project)
    if not root.is_dir():
        return []
    out = []
    for d in sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True):
        if not ((d / run_layout.METRICS).exists() or (d / CHECKPOINTS).exists()):
            continue
        copy = _read_json(d / run_layout.PROJECT)
        if copy.get("id") not in (None, project.id):
            continue  # another project's run, copied or moved here by hand
        out.append(RunInfo(d, _read_json(d / run_layout.METRICS), _trained(copy, d)))
    return out


def _trained(copy: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    metrics = _read_json(run_dir / run_layout.METRICS)
    training = copy.get("training") or {}
    nodes = (copy.get("graph") or {}).get("nodes") or []
    dataset = copy.get("dataset") or {}
    data = metrics.get("data") or dataset.get("name") or Path(str(dataset.get("path", ""))).name
    return {
        "layers": len(nodes),
        "params": metrics.get("params"),
        "data": data,
        "optimizer": training.get("optimizer"),
        "learning_rate": training.get("learning_rate"),
        "epochs": training.get("epochs"),
        "batch_size": training.get("batch_size"),
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}
