"""Where the shipped resources live, in a checkout, an installed package or a frozen bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    override = os.environ.get("DEEPGUI_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def examples_dir() -> Path:
    return resources_dir() / "examples"


def datasets_dir() -> Path:
    return resources_dir() / "datasets"


def is_bundled_example(path: str | os.PathLike) -> bool:
    """Whether `path` lies in the shipped examples folder. A bundled example is a template,
    however it is opened (by path, File > Open, a recent file, File > Open Example): it opens
    as a new project, so its runs go to the scratch area and Save asks where, and nothing is
    ever written inside the install folder, which may be read-only and is replaced on update."""
    try:
        Path(path).resolve().relative_to(examples_dir().resolve())
    except (ValueError, OSError, RuntimeError):  # elsewhere, or a path that cannot resolve
        return False
    return True
