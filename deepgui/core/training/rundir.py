"""The run directory (shared/DESIGN.md, "A run directory") and its checkpoints.

    RUN_DIR/model.keras        the trained model
    RUN_DIR/history.csv        epoch (from 1) and every logged metric
    RUN_DIR/metrics.json       epochs_run, final, best, overfitting, wall_seconds,
                               samples_per_second, device, stopped_by (+ loss, test, ...)
    RUN_DIR/project.dgproj     the project as trained
    RUN_DIR/checkpoints/epoch_NNNN.npz (or .keras) + state.json   the last finished epoch

A checkpoint's model is written first and the state that names it second, both atomically, so a
run killed at any moment resumes from a consistent epoch.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.errors import TrainingError
from deepgui.core.project import atomic_write_text

CHECKPOINTS = "checkpoints"
STATE = "state.json"


def default_run_dir(project_path: Path | None, now: _dt.datetime | None = None) -> Path:
    """``runs/<timestamp>/`` beside the project (or the working folder for an unsaved one)."""
    base = Path(project_path).parent if project_path else Path.cwd()
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = base / "runs" / stamp
    i = 1
    while target.exists():
        target = base / "runs" / f"{stamp}-{i}"
        i += 1
    return target


def _clean(value: Any) -> Any:
    """JSON cannot hold NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(_clean(data), indent=1, allow_nan=False) + "\n")


def history_csv_text(rows: list[dict[str, Any]]) -> str:
    keys = ["epoch"] + sorted({k for r in rows for k in r if k != "epoch"})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=keys, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in keys})
    return buf.getvalue()


def write_history(run_dir: Path, rows: list[dict[str, Any]]) -> None:
    atomic_write_text(Path(run_dir) / "history.csv", history_csv_text(rows))


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / "history.csv"
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for raw in csv.DictReader(fh):
            row: dict[str, Any] = {}
            for k, v in raw.items():
                if v in ("", None):
                    continue
                row[k] = int(v) if k == "epoch" else float(v)
            rows.append(row)
    return rows


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(run_dir: Path, model, state: dict[str, Any], weights_only: bool = True) -> Path:
    """Save the model after a finished epoch, then the state that points at it.

    weights_only writes the model's and the optimizer's variables to an .npz (a few ms); the
    architecture comes back from the run's project copy. Otherwise the whole model is saved as
    .keras (tens of ms: too much to pay every epoch when a graph can rebuild it)."""
    folder = Path(run_dir) / CHECKPOINTS
    folder.mkdir(parents=True, exist_ok=True)
    epoch = int(state["epochs_done"])
    if weights_only:
        name = f"epoch_{epoch:04d}.npz"
        tmp = folder / f".{name}.tmp"
        with tmp.open("wb") as fh:
            np.savez(fh, **weight_arrays(model))
    else:
        name = f"epoch_{epoch:04d}.keras"
        tmp = folder / f".{name}.tmp.keras"
        model.save(tmp)
    os.replace(tmp, folder / name)
    write_json(folder / STATE, {**state, "model": name})
    for old in folder.glob("epoch_*.*"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return folder / name


def weight_arrays(model) -> dict[str, np.ndarray]:
    """The model's weights (w0, w1, …) and its optimizer's variables (o0, o1, …) as arrays."""
    arrays = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and optimizer.built:
        for i, v in enumerate(optimizer.variables):
            # numpy(), as get_weights uses: it also reads mirrored variables inside fit.
            arrays[f"o{i}"] = np.asarray(v.numpy())
    return arrays


def restore_weights(model, path: Path) -> None:
    """Put a weights-only checkpoint back into a compiled model of the same architecture."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            weights = [saved[f"w{i}"] for i in range(sum(k.startswith("w") for k in saved.files))]
            opt_values = [
                saved[f"o{i}"] for i in range(sum(k.startswith("o") for k in saved.files))
            ]
    except (OSError, ValueError, KeyError) as exc:
        raise TrainingError(f"{path}: the checkpoint cannot be read ({exc}).") from None
    try:
        model.set_weights(weights)
        optimizer = model.optimizer
        if opt_values:
            if not optimizer.built:
                optimizer.build(model.trainable_variables)
            if len(optimizer.variables) != len(opt_values):
                raise ValueError("the optimizer's state differs")
            for var, value in zip(optimizer.variables, opt_values, strict=True):
                var.assign(value)
    except ValueError as exc:
        raise TrainingError(f"{path}: the checkpoint does not fit this model ({exc}); "
                            "start a new run instead.") from None  # fmt: skip


def read_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    """The last checkpoint's state (with "model_path"), or None when the run has none."""
    path = Path(run_dir) / CHECKPOINTS / STATE
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainingError(f"{path}: the checkpoint state cannot be read ({exc}).") from None
    model_path = path.parent / str(state.get("model", ""))
    if not model_path.is_file():
        raise TrainingError(
            f"{path}: names a checkpoint model that is not there ({model_path.name})."
        )
    state["model_path"] = str(model_path)
    return state


# How a run may have ended and still go on from its last checkpoint.
RESUMABLE_ENDINGS = ("user", "error")


def is_resumable(run_dir: Path) -> bool:
    """A run with a checkpoint that did not finish its epochs: killed part-way (no final
    metrics), or stopped by the user or by an error before its last epoch."""
    run_dir = Path(run_dir)
    if not (run_dir / CHECKPOINTS / STATE).exists():
        return False
    metrics_path = run_dir / "metrics.json"
    if not metrics_path.exists():
        return True
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        done, planned = int(metrics["epochs_run"]), int(metrics["epochs_planned"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return metrics.get("stopped_by") in RESUMABLE_ENDINGS and done < planned


def mark_failed(run_dir: Path, reason: str, metrics: dict[str, Any], epochs_run: int) -> None:
    """A run that failed before the engine wrote its metrics (bad data, a model that cannot be
    built) still gets them, so it shows up marked failed instead of looking unfinished."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or (run_dir / "metrics.json").exists():
        return
    # A read-only or vanished folder: the message on screen still says what happened.
    with contextlib.suppress(OSError):
        write_json(run_dir / "metrics.json", {**metrics, "stopped_by": reason,
                                              "epochs_run": epochs_run})  # fmt: skip


# ----------------------------------------------------------------------------- listing runs
@dataclass
class RunSummary:
    path: Path
    name: str
    metrics: dict[str, Any]
    finished: bool

    @property
    def stopped_by(self) -> str:
        return str(self.metrics.get("stopped_by", "unfinished"))


def read_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """A run read back: {"path", "metrics", "history", "project", "model_path", "resumable"}."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise TrainingError(f"{run_dir}: no such run directory.")
    metrics: dict[str, Any] = {}
    mpath = run_dir / "metrics.json"
    if mpath.exists():
        try:
            metrics = json.loads(mpath.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TrainingError(f"{mpath}: cannot be read ({exc}).") from None
    model = run_dir / "model.keras"
    project = run_dir / "project.dgproj"
    return {
        "path": run_dir,
        "metrics": metrics,
        "history": read_history(run_dir),
        "project": project if project.exists() else None,
        "model_path": model if model.exists() else None,
        "resumable": is_resumable(run_dir),
    }


def list_runs(project_path: str | os.PathLike) -> list[RunSummary]:
    """The runs beside a project (``runs/*``), newest first."""
    root = Path(project_path).parent / "runs"
    if not root.is_dir():
        return []
    out = []
    for d in sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True):
        if not ((d / "metrics.json").exists() or (d / CHECKPOINTS).exists()):
            continue
        try:
            metrics = read_run(d)["metrics"]
        except TrainingError:
            metrics = {}
        out.append(RunSummary(d, d.name, metrics, finished=bool(metrics)))
    return out
