"""The names in a run folder, in one place: every module that reads or writes a run's files
takes them from here.

    MODEL        the trained model, taking the data as the user has it (model.keras)
    HISTORY      epoch (from 1) and every logged metric (history.csv)
    METRICS      how the run ended and what it measured (metrics.json)
    PROJECT      the project as trained (project.dgproj)
    SIGNATURE    what the model takes and gives, for predict and the exports (signature.json)
    SAMPLES      a few raw validation samples and their labels (samples.npz)
    SPLIT        which rows (or files) went to training, validation and test (split.json)
    CHECKPOINTS  the last finished epoch, with STATE naming its weights
    LOCK         held by the process training into the folder; it stays to mark the folder
                 as one deepgui made
    WORK         what a worker process is handed (its arrays and settings)

And where a project's runs live: a saved project ``folder/NAME.dgproj`` keeps them in
``folder/NAME.runs/<timestamp>/``, an unsaved one in a scratch area named after its id
(``$DEEPGUI_SCRATCH``, else the user's data folder), from which its first save moves them.
Below the project (its save moves its runs) and the training (which makes them).
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
from pathlib import Path

from deepgui.core.errors import DeepGuiError

MODEL = "model.keras"
HISTORY = "history.csv"
METRICS = "metrics.json"
PROJECT = "project.dgproj"
SIGNATURE = "signature.json"
SAMPLES = "samples.npz"
SPLIT = "split.json"
CHECKPOINTS = "checkpoints"
STATE = "state.json"
LOCK = ".deepgui-run.lock"
WORK = ".worker"

RUNS_SUFFIX = ".runs"


def run_folder_of(path: str | os.PathLike) -> Path | None:
    """The run folder `path` lies in (itself or any folder above it, links followed), else
    None. A run folder is one deepgui marked: its lock file (every run that wrote anything
    keeps it), or, for a run copied without it, three of the four files a run holds together
    (a person's own folder may well hold a project.dgproj beside a model.keras)."""
    try:
        where = Path(path).expanduser().absolute()
        folders = [where, *where.parents]
        resolved = Path(os.path.realpath(where))
        folders += [resolved, *resolved.parents]
    except (OSError, RuntimeError, ValueError):
        return None  # a path that cannot be followed is refused by the writer, in its words
    for folder in folders:
        try:
            if (folder / LOCK).is_file():
                return folder
            held = [(folder / name).is_file() for name in (METRICS, MODEL, SIGNATURE, PROJECT)]
            if sum(held) >= 3:
                return folder
        except (OSError, ValueError):
            continue
    return None


def refuse_inside_run(path: str | os.PathLike, what: str, error=DeepGuiError) -> None:
    """`error`, one sentence, when `path` lies in a run folder: deepgui's own, which no export,
    import or prediction writes into, even when asked to replace (predict and the exports read
    the run's files as the run wrote them)."""
    folder = run_folder_of(path)
    if folder is not None:
        raise error(
            f"{path}: is inside the run folder {folder}, which holds only what the run wrote; "
            f"write {what} somewhere else."
        )


def scratch_root() -> Path:
    """Where unsaved projects keep their runs."""
    override = os.environ.get("DEEPGUI_SCRATCH")
    if override:
        return Path(override)
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(data) / "deepgui" / "scratch"


def runs_root(project) -> Path:
    """The folder that holds this project's runs."""
    if project.path is not None:
        path = Path(project.path)
        return path.with_name(path.stem + RUNS_SUFFIX)
    return scratch_root() / project.id / "runs"


def is_scratch(root: Path) -> bool:
    try:
        Path(root).resolve().relative_to(scratch_root().resolve())
    except ValueError:
        return False
    return True


def new_run_dir(project, now: _dt.datetime | None = None) -> Path:
    """A fresh ``<runs root>/<timestamp>/`` for the next run (not created yet)."""
    root = runs_root(project)
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    target, i = root / stamp, 1
    while target.exists():
        target, i = root / f"{stamp}-{i}", i + 1
    return target


def relocate(old: Path, new: Path, *, move: bool) -> None:
    """Bring the runs from `old` to `new` (moved or copied); runs already at `new` stay."""
    old, new = Path(old), Path(new)
    if old == new or not old.is_dir():
        return
    new.mkdir(parents=True, exist_ok=True)
    for run in sorted(p for p in old.iterdir() if p.is_dir()):
        target = new / run.name
        if target.exists():
            continue
        if move:
            shutil.move(str(run), str(target))
        else:
            shutil.copytree(run, target)
    if move:
        try:
            old.rmdir()
            old.parent.rmdir()  # the scratch folder named after the id, when now empty
        except OSError:
            pass
