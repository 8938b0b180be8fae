"""What "Predict on a file" offers before the user browses: the project's finished runs (their
trained models, newest first) and the data file the project trains on, when `predict` can read
it; and the signature that goes with what `deepgui summary` is given. Qt-free, so the choices
are the same wherever they are shown."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deepgui.core import run_layout, signature
from deepgui.core.data.builtin import builtin_path
from deepgui.core.data.spec import CSV_SUFFIXES, resolve
from deepgui.core.errors import DeepGuiError
from deepgui.core.training.runs import project_runs

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5", ".tflite", ".onnx")


def finished_runs(project) -> list[tuple[str, Path]]:
    """(label, run directory) for each run of the project that saved a trained model, newest
    first. A run that failed before saving one has nothing to predict with."""
    if project is None:
        return []
    out = []
    for run in project_runs(project):
        if not run.finished or not run.has_model:
            continue
        m = run.metrics
        final = m.get("final") or {}
        shown = [k for k in ("val_accuracy", "accuracy", "val_loss") if _number(final.get(k))]
        detail = f", {shown[0]} {final[shown[0]]:.4g}" if shown else ""
        label = f"Run {run.name}: {m.get('epochs_run', '?')} epochs, {run.stopped_by}{detail}"
        out.append((label, run.path))
    return out


def model_label(path: str | os.PathLike) -> str:
    """How a model chosen by browsing is named in the list."""
    p = Path(path)
    if p.is_dir() and (p / run_layout.MODEL).is_file():
        return f"Run folder {p.name}"
    if p.is_dir():
        return f"SavedModel {p.name}"
    return p.name


def is_model_path(path: str | os.PathLike) -> bool:
    """Whether `path` looks like something `predict.load` runs (it still checks on loading)."""
    p = Path(path)
    if p.is_dir():
        return (p / run_layout.MODEL).is_file() or (p / "saved_model.pb").is_file()
    return p.suffix.lower() in MODEL_SUFFIXES


def project_data_file(spec: dict[str, Any] | None, base_dir: Path | None) -> Path | None:
    """The file or folder the project trains on, when `predict` reads that kind (a CSV, an
    .npz, an image folder, a built-in sample); None for anything else or when it is missing."""
    if not spec:
        return None
    source = spec.get("source")
    try:
        if source == "builtin":
            path = builtin_path(spec)[1]
        elif source in ("csv", "npz", "image_folder"):
            path = resolve(spec, "path", base_dir)
        else:
            return None
    except DeepGuiError:
        return None
    if path is None or not path.exists():
        return None
    if path.is_file() and path.suffix.lower() not in (*CSV_SUFFIXES, ".npz"):
        return None
    return path


def of_source(path: str | os.PathLike, project=None) -> tuple[signature.Signature | None, str]:
    """The preprocessing that goes with what `deepgui summary` was given, and where it comes
    from: a model file's or run's own signature, else a project's newest run that has one."""
    found = signature.find(path) if Path(path).exists() else None
    if found is not None:
        return found, "the trained model"
    if project is not None and getattr(project, "path", None) is not None:
        for run in project_runs(project):
            if (run.path / signature.RUN_FILE).is_file():
                return signature.read(run.path / signature.RUN_FILE), f"its newest run {run.name}"
    return None, ""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
