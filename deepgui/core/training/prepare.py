"""Everything decided before a run starts, shared by `deepgui train` and the app: where the run
goes, whether it resumes a run that was stopped or killed, which data it trains on, and with
which settings. The one place those rules live.

The run folder is locked (rundir.RunLock) before anything in it is looked at, and stays locked
until the run is released: a second run into the same folder is refused with one sentence."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepgui.core import limits, run_layout
from deepgui.core.build import build_model
from deepgui.core.data import check_against_model, load_dataset, spec_from_path
from deepgui.core.data.check import summarize
from deepgui.core.errors import DeepGuiError
from deepgui.core.keras_layers import input_shape_of
from deepgui.core.project import load_project
from deepgui.core.training.config import TrainingConfig
from deepgui.core.training.outputs import model_losses
from deepgui.core.training.rundir import LOCK, RunLock, is_resumable, read_checkpoint
from deepgui.core.training.runs import new_run_dir

RUN_PROJECT = run_layout.PROJECT
# Settings of the split that a file of another kind still keeps.
SPLIT_KEYS = ("validation_split", "test_split", "shuffle", "seed", "missing")
MISSING_CHOICES = ("fill", "drop", "refuse")


@dataclass
class PreparedRun:
    project: Any  # the project to train: the run's own copy when it resumes
    spec: dict[str, Any]  # the dataset spec
    config: TrainingConfig
    run_dir: Path
    resume: bool
    lock: RunLock | None = field(default=None, repr=False)

    def release(self) -> None:
        """Unlock the run folder (removed when nothing was written into it). The lock is also
        released when this object is dropped, and by the kernel when the process ends."""
        if self.lock is not None:
            self.lock.release()

    @property
    def base_dir(self) -> Path | None:
        """Where the data's relative paths start: the project's folder."""
        return self.project.path.parent if self.project.path else None

    def load_data(self):
        """The data, with its preprocessing fitted on the training split."""
        inputs = self.project.graph.input_nodes()
        shape = None
        if len(inputs) == 1:
            try:
                shape = tuple(input_shape_of(inputs[0])[1:])
            except ValueError:
                shape = None
        return load_dataset(self.spec, self.base_dir, input_shape=shape, graph=self.project.graph)


def prepare_run(
    project,
    out: str | Path | None = None,
    *,
    data: str | None = None,
    target: str | list[str] | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    missing: str | None = None,
) -> PreparedRun:
    """Decide the run. `out` names its folder (default: a new one among the project's runs);
    a folder holding a stopped or killed run resumes it with the settings it started with.
    DeepGuiError, one sentence, for anything that cannot be run. The run folder is locked
    before anything in it is read: release() the result when the run is over."""
    if epochs is not None and epochs < 1:
        raise DeepGuiError(
            f"The number of epochs must be at least 1, not {epochs}.", setting="epochs"
        )
    if epochs is not None and limits.epochs_refusal(epochs):  # before the folder is locked
        raise DeepGuiError(
            f"The number of epochs {limits.epochs_refusal(epochs)}", setting="epochs"
        )
    if batch_size is not None and batch_size < 1:
        raise DeepGuiError(
            f"The batch size must be at least 1, not {batch_size}.", setting="batch_size"
        )
    if missing is not None and missing not in MISSING_CHOICES:
        raise DeepGuiError(
            f"Missing values must be filled, dropped or refused (fill, drop or refuse), not "
            f"{missing!r}.",
            setting="missing",
        )
    run_dir = Path(out).expanduser() if out else new_run_dir(project)
    lock = RunLock.acquire(run_dir)
    try:
        return _decide(project, run_dir, lock, data, target, epochs, batch_size, missing)
    except BaseException:
        lock.release()
        raise


def _decide(project, run_dir, lock, data, target, epochs, batch_size, missing) -> PreparedRun:
    resume = is_resumable(run_dir)
    if resume:
        read_checkpoint(run_dir)  # a damaged checkpoint is said now, in one sentence
    if resume and (run_dir / RUN_PROJECT).exists():
        trained = load_project(run_dir / RUN_PROJECT)
        trained.path = project.path  # relative data paths stay relative to the project
        trained.id = project.id
        project = trained
        spec = dict(project.dataset)
    else:
        resume = False
        check_new_run_dir(run_dir, ours=lock.existed)
        spec = dataset_spec(project.dataset, data, target)
    if not spec:
        where = project.path or "The project"
        raise DeepGuiError(
            f"{where}: has no dataset; choose its data (a CSV, an image folder or an .npz).",
            setting="data",
        )
    if missing:
        spec["missing"] = missing
    config = TrainingConfig.from_dict(project.training).with_overrides(
        epochs=epochs, batch_size=batch_size
    )
    return PreparedRun(project, spec, config, run_dir, resume, lock)


def check_new_run_dir(run_dir: Path, ours: bool = False) -> None:
    """A new run never writes over a finished run or files a person keeps there. The one thing
    it may replace is the project copy of a run of deepgui's own (`ours`: the folder has
    deepgui's lock file) that failed before it trained."""
    if run_dir.is_file():
        raise DeepGuiError(f"{run_dir}: is a file; a run needs a folder.", setting="out")
    if (run_dir / run_layout.METRICS).exists():
        raise DeepGuiError(
            f"{run_dir}: holds a finished run; choose another run folder.", setting="out"
        )
    if not run_dir.is_dir():
        return
    names = {p.name for p in run_dir.iterdir()} - {LOCK}
    if names == {RUN_PROJECT} and not ours:
        raise DeepGuiError(
            f"{run_dir}: holds {RUN_PROJECT}, which is not a run's copy deepgui wrote; choose a "
            "new run folder so that it is not overwritten.",
            setting="out",
        )
    if names - {RUN_PROJECT}:
        raise DeepGuiError(f"{run_dir}: is not empty; choose a new run folder.", setting="out")


def dataset_spec(
    spec: dict[str, Any], data: str | None = None, target: str | list[str] | None = None
) -> dict[str, Any]:
    """The project's dataset with a file given on the command line swapped in: another file of
    the same kind keeps the project's reading options (column kinds, text length, image
    size...); another kind keeps only the split. `target` is one column or a list of them."""
    spec = dict(spec or {})
    if data:
        new = dict(spec_from_path(data, target))
        if spec.get("source") == "timeseries" and new["source"] == "csv":
            new["source"] = "timeseries"  # a series stays one: its window and horizon kept
        same_kind = spec.get("source") == new["source"]
        for key, value in spec.items():
            if key in ("path", "validation_path", "test_path", "source", "name"):
                continue
            if (same_kind or key in SPLIT_KEYS) and key not in new:
                new[key] = value
        return new
    if target:
        spec["target"] = target
    return spec


def check_fit(project, base_dir: Path | None = None) -> tuple[bool, str]:
    """(fits, message): the project's data loaded as a run would load it, against its model
    built as a run would build it. The Data panel's check; it runs in the background."""
    snapshot = project.snapshot()
    if base_dir is not None and snapshot.path is None:
        snapshot.path = Path(base_dir) / "untitled.dgproj"  # relative data paths start here
    data = PreparedRun(snapshot, dict(project.dataset), TrainingConfig(), Path(), False).load_data()
    config = TrainingConfig.from_dict(project.training)
    model = build_model(project.graph)
    problems = check_against_model(data, model, model_losses(config, data, model))
    if problems:
        return False, " ".join(problems)
    return True, f"The data fits the model: {summarize(data)}"
