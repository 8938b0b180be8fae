"""The run directory (shared/DESIGN.md, "A run directory") and its checkpoints.

    RUN_DIR/model.keras        the trained model
    RUN_DIR/history.csv        epoch (from 1) and every logged metric
    RUN_DIR/metrics.json       epochs_run, final, best, overfitting (each flag "active" or
                               "withdrawn" by a later best), wall_seconds, samples_per_second,
                               device, stopped_by (+ loss, test, evaluation: the saved model's
                               scores, confusion matrix and a few predictions, ...); task and
                               classes, and for several targets "outputs": [{"name", "task",
                               "classes"}] in the model's output order (task "multioutput")
    RUN_DIR/project.dgproj     the project as trained
    RUN_DIR/checkpoints/epoch_NNNN.npz (or .keras) + state.json   the last finished epoch
    RUN_DIR/.deepgui-run.lock  held (flock) by the process training into the folder

A checkpoint's model is written first and the state that names it second, both atomically, so a
run killed at any moment resumes from a consistent epoch. A checkpoint is only ever written for
finite weights, so the last one is always a usable model. The lock file stays when the run
ends: it marks the folder as one deepgui made.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import fileio, run_layout
from deepgui.core.data.arrays import check_npz
from deepgui.core.errors import DeepGuiError, TrainingError
from deepgui.core.project import atomic_write_text

CHECKPOINTS, STATE, LOCK = run_layout.CHECKPOINTS, run_layout.STATE, run_layout.LOCK
_CHECKPOINT_NAME = re.compile(r"epoch_\d{4,}\.(npz|keras)")
# A state file is a few kilobytes per epoch of history; bigger is not one.
MAX_STATE_BYTES = 256 * fileio.MiB


# Not the filelock package (tried for issue 19, point 8): filelock 4.x probes the run folder
# with temporary files of its own and truncates the lock file when it opens it, while this lock
# file must stay in the folder as the mark of a run folder (`existed`, run_layout.LOCK) and
# carry the holder's pid, which a refused second run reads for its sentence. An fcntl/msvcrt
# lock on a file opened here keeps both.
class RunLock:
    """An exclusive lock on a run folder, held while a process trains into it: a second run
    into the same folder is refused with one sentence instead of both writing over each other.
    The kernel releases it when the process ends, however it ends (kill -9 included)."""

    def __init__(
        self, run_dir: Path, fd: int, existed: bool, created: Path | None,
        before: frozenset[str] = frozenset(),
    ) -> None:  # fmt: skip
        self.run_dir = run_dir
        self._fd: int | None = fd
        self.existed = existed  # the folder was a deepgui run folder before this lock
        self._created = created  # the outermost folder this lock made (None: none)
        self._before = before  # what the folder held before this lock (its names)

    @classmethod
    def acquire(cls, run_dir: str | os.PathLike) -> RunLock:
        """Lock `run_dir` (made if missing); TrainingError when another process holds it or the
        folder cannot be written."""
        run_dir = Path(run_dir)
        if run_dir.exists() and not run_dir.is_dir():
            raise TrainingError(f"{run_dir}: is a file; a run needs a folder.")
        missing = [p for p in (run_dir, *run_dir.parents) if not p.exists()]
        created = missing[-1] if missing else None
        lock_path = run_dir / LOCK
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            existed = lock_path.is_file()
            before = frozenset(p.name for p in run_dir.iterdir())
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise TrainingError(f"{run_dir}: cannot be written to: {fileio.why(exc)}.") from None
        except BaseException:  # a stop raised by a signal handler before the lock was taken
            _remove_made(run_dir, created)
            raise
        if not _try_lock(fd):
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (process {holder})" if holder else ""
            raise TrainingError(
                f"{run_dir}: another training run is writing to this folder{who}; wait for it "
                "to finish or choose another folder."
            )
        lock = cls(run_dir, fd, existed, created, before)
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass  # the pid is a courtesy for the message above; the lock is what counts
        except BaseException:  # SIGTERM's exception here: the folder goes back as it was
            lock.release()
            raise
        return lock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Unlock. A run that wrote nothing (refused: a project's folder, a person's folder, a
        finished run) leaves the folder as it found it: the lock file this lock made goes, and
        so does a folder this lock made that now holds nothing."""
        if self._fd is None:
            return
        try:
            if not self.existed and {p.name for p in self.run_dir.iterdir()} == self._before | {
                LOCK
            }:
                (self.run_dir / LOCK).unlink()
        except OSError:
            pass
        finally:
            os.close(self._fd)
            self._fd = None
        _remove_made(self.run_dir, self._created)

    def __del__(self) -> None:  # a lock forgotten by its owner is released with it
        if getattr(self, "_fd", None) is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)


def _remove_made(run_dir: Path, created: Path | None) -> None:
    """The folders a lock made for `run_dir` (NAME.runs/ too, for a first run), where they
    hold nothing."""
    if created is None:
        return
    folder = run_dir
    with contextlib.suppress(OSError):
        while not any(folder.iterdir()):
            folder.rmdir()
            if folder == created:
                break
            folder = folder.parent


def _try_lock(fd: int) -> bool:
    try:
        import fcntl  # POSIX's lock; Windows has msvcrt's
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except (OSError, AttributeError, ValueError):
        return None


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
    atomic_write_text(Path(run_dir) / run_layout.HISTORY, history_csv_text(rows))


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    """history.csv as rows; TrainingError, naming it, for a damaged one."""
    path = Path(run_dir) / run_layout.HISTORY
    if not path.exists():
        return []
    text = fileio.read_text(path, "history file", MAX_STATE_BYTES, error=TrainingError)
    rows = []
    try:
        for raw in csv.DictReader(io.StringIO(text, newline="")):
            row: dict[str, Any] = {}
            for k, v in raw.items():
                if k is None or v in ("", None) or not isinstance(v, str):
                    continue
                row[k] = int(v) if k == "epoch" else float(v)
            rows.append(row)
    except (ValueError, csv.Error) as exc:
        raise TrainingError(f"{path}: is damaged ({exc}).") from None
    return rows


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(
    run_dir: Path, model, state: dict[str, Any], weights_only: bool = True
) -> Path | None:
    """Save the model after a finished epoch, then the state that points at it.

    weights_only writes the model's and the optimizer's variables to an .npz (a few ms); the
    architecture comes back from the run's project copy. Otherwise the whole model is saved as
    .keras (tens of ms: too much to pay every epoch when a graph can rebuild it). Weights that
    are not finite are not saved (None is returned): the last checkpoint stays the last usable
    model. A failed write (a full disk) leaves no temporary file and the previous checkpoint."""
    folder = Path(run_dir) / CHECKPOINTS
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fileio.write_error(folder, exc) from None
    epoch = int(state["epochs_done"])
    if weights_only:
        arrays = weight_arrays(model)
        if not all_finite(arrays.values()):
            return None
        name = f"epoch_{epoch:04d}.npz"
        with fileio.staged(folder / name) as tmp, tmp.open("wb") as fh:
            np.savez(fh, **arrays)
    else:
        if not all_finite(model.get_weights()):
            return None
        name = f"epoch_{epoch:04d}.keras"
        with fileio.staged(folder / name, suffix=".keras") as tmp:
            _save_keras(model, tmp, folder / name)
    write_json(folder / STATE, {**state, "model": name})
    for old in folder.glob("epoch_*.*"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return folder / name


def _save_keras(model, tmp: Path, target: Path) -> None:
    """model.save, with a full disk reported by name (h5py and zipfile word it their ways)."""
    try:
        model.save(tmp)
    except Exception as exc:  # noqa: BLE001 - a write error inside Keras's own writer
        problem = fileio.disk_problem(exc)
        if problem is None:
            raise
        raise fileio.WriteError(f"{target}: cannot be written: {problem}.") from None


def save_keras_model(model, path: Path) -> Path:
    """A whole model as ``.keras``, atomically: a failure leaves what was at `path`."""
    with fileio.staged(path, suffix=".keras") as tmp:
        _save_keras(model, tmp, path)
    return path


def all_finite(arrays) -> bool:
    """Whether every float array among `arrays` holds only finite numbers."""
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            return False
    return True


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
        check_npz(path)
        with np.load(path, allow_pickle=False) as saved:
            weights = [saved[f"w{i}"] for i in range(sum(k.startswith("w") for k in saved.files))]
            opt_values = [
                saved[f"o{i}"] for i in range(sum(k.startswith("o") for k in saved.files))
            ]
    except (OSError, ValueError, KeyError, EOFError, MemoryError) as exc:
        raise TrainingError(f"{path}: the checkpoint cannot be read ({exc}).") from None
    except DeepGuiError as exc:
        raise TrainingError(f"the checkpoint cannot be read: {exc}") from None
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
    except (ValueError, TypeError) as exc:
        raise TrainingError(f"{path}: the checkpoint does not fit this model ({exc}); "
                            "start a new run instead.") from None  # fmt: skip


def read_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    """The last checkpoint's state (with "model_path"), or None when the run has none.
    TrainingError, one sentence naming the file, for a damaged one."""
    path = Path(run_dir) / CHECKPOINTS / STATE
    if not path.exists() and not path.is_symlink():
        return None
    text = fileio.read_text(path, "checkpoint state", MAX_STATE_BYTES, error=TrainingError)
    try:
        state = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise TrainingError(f"{path}: the checkpoint state is damaged ({exc}).") from None
    if not isinstance(state, dict):
        raise TrainingError(f"{path}: the checkpoint state is damaged (not a JSON object).")
    done = state.get("epochs_done")
    if not isinstance(done, int) or isinstance(done, bool) or done < 1:
        raise TrainingError(
            f"{path}: the checkpoint state is damaged (epochs_done must be a whole number from "
            f"1, not {done!r})."
        )
    for key, kind in (("history", list), ("overfitting", list)):
        if not isinstance(state.get(key, []), kind):
            raise TrainingError(f"{path}: the checkpoint state is damaged ({key} is not a list).")
    if not all(isinstance(r, dict) for r in state.get("history", [])):
        raise TrainingError(
            f"{path}: the checkpoint state is damaged (a history row is not an object)."
        )
    for key in ("train_seconds", "samples", "wall_seconds"):
        value = state.get(key, 0)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise TrainingError(f"{path}: the checkpoint state is damaged ({key} is not a number).")
    name = state.get("model")
    if not isinstance(name, str) or not _CHECKPOINT_NAME.fullmatch(name):
        raise TrainingError(
            f"{path}: the checkpoint state is damaged (it names the model {name!r})."
        )
    model_path = path.parent / name
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
    metrics_path = run_dir / run_layout.METRICS
    if not metrics_path.exists():
        return True
    try:
        metrics = json.loads(fileio.read_text(metrics_path, "metrics file", MAX_STATE_BYTES))
        done, planned = int(metrics["epochs_run"]), int(metrics["epochs_planned"])
    except (DeepGuiError, ValueError, KeyError, TypeError, RecursionError, OverflowError):
        return False
    return metrics.get("stopped_by") in RESUMABLE_ENDINGS and done < planned


def mark_failed(run_dir: Path, reason: str, metrics: dict[str, Any], epochs_run: int) -> None:
    """A run that failed before the engine wrote its metrics (bad data, a model that cannot be
    built) still gets them, so it shows up marked failed instead of looking unfinished."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or (run_dir / run_layout.METRICS).exists():
        return
    # A read-only or vanished folder: the message on screen still says what happened.
    with contextlib.suppress(OSError):
        write_json(run_dir / run_layout.METRICS, {**metrics, "stopped_by": reason,
                                              "epochs_run": epochs_run})  # fmt: skip


# ----------------------------------------------------------------------------- reading a run
def read_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """A run read back: {"path", "metrics", "history", "project", "model_path", "resumable"}."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise TrainingError(f"{run_dir}: no such run directory.")
    metrics: dict[str, Any] = {}
    mpath = run_dir / run_layout.METRICS
    if mpath.exists():
        try:
            metrics = json.loads(fileio.read_text(mpath, "metrics file", MAX_STATE_BYTES))
        except DeepGuiError as exc:
            raise TrainingError(str(exc)) from None
        except (ValueError, RecursionError) as exc:
            raise TrainingError(f"{mpath}: cannot be read ({exc}).") from None
        if not isinstance(metrics, dict):
            raise TrainingError(f"{mpath}: cannot be read (not a JSON object).")
    model = run_dir / run_layout.MODEL
    project = run_dir / run_layout.PROJECT
    return {
        "path": run_dir,
        "metrics": metrics,
        "history": read_history(run_dir),
        "project": project if project.exists() else None,
        "model_path": model if model.exists() else None,
        "resumable": is_resumable(run_dir),
    }
