"""What one process hands another to train on: the network-ready arrays of a `LoadedData`
and a JSON description (project, settings, task). One format for every hand-over: the app or
`deepgui train` to its JAX worker process, the engine probe to its JAX process, and the chief
of a run on several machines to every other rank (as bytes, through JAX's collectives).

The preprocessing never travels: the process that fitted it keeps it and puts it in front of
the trained network at the end.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.data.base import LoadedData
from deepgui.core.project import project_from_dict

SPLITS = ("train", "val", "test")
DATA_FILE, META_FILE = "data.npz", "meta.json"


def arrays_of(data: LoadedData, limit: int | None = None) -> dict[str, np.ndarray]:
    """The splits as flat npz entries: ``x_SPLIT:INPUT`` (INPUT empty for one unnamed input)
    and ``y_SPLIT``. `limit` keeps the first rows of the training split only (the probe)."""
    arrays: dict[str, np.ndarray] = {}
    for split in SPLITS if limit is None else ("train",):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        if x is None or y is None:
            continue
        items = x.items() if isinstance(x, dict) else [("", x)]
        for name, values in items:
            arrays[f"x_{split}:{name}"] = np.asarray(values)[:limit]
        arrays[f"y_{split}"] = np.asarray(y)[:limit]
    return arrays


def data_of(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> LoadedData:
    """The inverse of `arrays_of`, with the task and names from `meta`."""
    splits: dict[str, Any] = {}
    for key, values in arrays.items():
        if key.startswith("x_"):
            split, name = key[2:].split(":", 1)
            if name:
                splits.setdefault(f"x_{split}", {})[name] = values
            else:
                splits[f"x_{split}"] = values
        else:
            splits[key] = values
    return LoadedData(
        splits["x_train"], splits["y_train"], splits.get("x_val"), splits.get("y_val"),
        splits.get("x_test"), splits.get("y_test"), task=meta.get("task", "multiclass"),
        class_names=list(meta.get("class_names", [])),
        feature_names=list(meta.get("feature_names", [])),
        description=meta.get("description", ""),
    )  # fmt: skip


def describe(data: LoadedData, project, config, **more: Any) -> dict[str, Any]:
    """The JSON half of a hand-over."""
    return {
        "project": project.to_dict(),
        "project_path": str(project.path) if getattr(project, "path", None) else None,
        "config": config.to_dict(),
        "task": data.task,
        "class_names": list(data.class_names),
        "feature_names": list(data.feature_names),
        "description": data.description,
        **more,
    }


def write(folder: Path, data: LoadedData, meta: dict[str, Any], limit: int | None = None) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / DATA_FILE, **arrays_of(data, limit))
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")


def read(folder: Path) -> tuple[LoadedData, dict[str, Any]]:
    folder = Path(folder)
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    with np.load(folder / DATA_FILE, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return data_of(arrays, meta), meta


def to_bytes(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> bytes:
    """One blob: the meta as one more npz entry (bytes of UTF-8 JSON)."""
    buffer = io.BytesIO()
    text = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    np.savez(buffer, __meta__=text, **arrays)
    return buffer.getvalue()


def from_bytes(blob: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    return arrays, meta


def project_of(meta: dict[str, Any], source: str):
    """The project a hand-over describes, with its id and (when it had one) its path."""
    project = project_from_dict(meta["project"], source=source)
    project.id = meta["project"].get("id") or project.id
    if meta.get("project_path"):
        project.path = Path(meta["project_path"])
    return project
