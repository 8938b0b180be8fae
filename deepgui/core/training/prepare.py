"""Everything decided before a run starts, shared by `deepgui train` and the app: where the run
goes, whether it resumes a run that was stopped or killed, which data it trains on, and with
which settings. The one place those rules live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepgui.core.errors import DeepGuiError
from deepgui.core.training.config import TrainingConfig
from deepgui.core.training.rundir import is_resumable
from deepgui.core.training.runs import new_run_dir

RUN_PROJECT = "project.dgproj"
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

    @property
    def base_dir(self) -> Path | None:
        """Where the data's relative paths start: the project's folder."""
        return self.project.path.parent if self.project.path else None

    def load_data(self):
        """The data, with its preprocessing fitted on the training split."""
        from deepgui.core.data import load_dataset
        from deepgui.core.keras_layers import input_shape_of

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
    target: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    missing: str | None = None,
) -> PreparedRun:
    """Decide the run. `out` names its folder (default: a new one among the project's runs);
    a folder holding a stopped or killed run resumes it with the settings it started with.
    DeepGuiError, one sentence, for anything that cannot be run."""
    from deepgui.core.project import load_project

    if epochs is not None and epochs < 1:
        raise DeepGuiError(f"--epochs must be at least 1, not {epochs}.")
    if batch_size is not None and batch_size < 1:
        raise DeepGuiError(f"--batch-size must be at least 1, not {batch_size}.")
    if missing is not None and missing not in MISSING_CHOICES:
        raise DeepGuiError(f"--missing must be fill, drop or refuse, not {missing!r}.")
    run_dir = Path(out) if out else new_run_dir(project)
    resume = is_resumable(run_dir)
    if resume and (run_dir / RUN_PROJECT).exists():
        trained = load_project(run_dir / RUN_PROJECT)
        trained.path = project.path  # relative data paths stay relative to the project
        trained.id = project.id
        project = trained
        spec = dict(project.dataset)
    else:
        check_new_run_dir(run_dir)
        spec = dataset_spec(project.dataset, data, target)
    if not spec:
        where = project.path or "The project"
        raise DeepGuiError(
            f"{where}: has no dataset; give one with --data PATH (CSV, image folder or .npz)."
        )
    if missing:
        spec["missing"] = missing
    config = TrainingConfig.from_dict(project.training).with_overrides(
        epochs=epochs, batch_size=batch_size
    )
    return PreparedRun(project, spec, config, run_dir, resume)


def check_new_run_dir(run_dir: Path) -> None:
    """A new run never writes over a finished run or files a person keeps there (a run that
    failed early leaves only its project copy, which may go)."""
    if (run_dir / "metrics.json").exists():
        raise DeepGuiError(f"{run_dir}: holds a finished run; choose another --out.")
    if run_dir.is_file():
        raise DeepGuiError(f"{run_dir}: is a file; --out needs a folder.")
    if run_dir.is_dir() and any(p.name != RUN_PROJECT for p in run_dir.iterdir()):
        raise DeepGuiError(f"{run_dir}: is not empty; choose a new folder for --out.")


def dataset_spec(
    spec: dict[str, Any], data: str | None = None, target: str | None = None
) -> dict[str, Any]:
    """The project's dataset with a file given on the command line swapped in: another file of
    the same kind keeps the project's reading options (column kinds, text length, image
    size...); another kind keeps only the split."""
    spec = dict(spec or {})
    if data:
        from deepgui.core.data import spec_from_path

        new = dict(spec_from_path(data, target))
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
