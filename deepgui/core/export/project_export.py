"""`export_project`: export from what a user has on disk: a project (its graph and saved
weights), a run directory (its trained ``model.keras``) or a Keras model file. Also the formats
that need the project rather than the model: the Python script, the history and its plots."""

from __future__ import annotations

import csv
import math
import os
import shutil
from pathlib import Path
from typing import Any

from deepgui.core.errors import DeepGuiError, ExportError
from deepgui.core.export.model_export import canonical_format, export_model
from deepgui.core.export.plots import export_plots
from deepgui.core.export.report import ExportReport, artefact_size, human_size
from deepgui.core.project import Project, atomic_write_text, load_project

RUN_MODEL = "model.keras"
RUN_PROJECT = "project.dgproj"
RUN_HISTORY = "history.csv"
# Formats that come from the project or the run rather than from the model.
PROJECT_FORMATS = {"python": ".py", "csv": ".csv", "svg": ".svg"}


def export_project(
    source: Project | str | os.PathLike, fmt: str, path: str | os.PathLike, **options: Any
) -> ExportReport:
    """Export a project, a run directory or a ``.keras`` file as `fmt` (see export_model for
    the model formats and their options; also "python", and from a run "csv" and "svg")."""
    key = str(fmt).strip().lower()
    if key in PROJECT_FORMATS:
        path = _with_suffix(Path(path).expanduser(), PROJECT_FORMATS[key])
        if key == "python":
            return export_script(_project_of(source), path)
        return _export_history(source, key, path)
    fmt = canonical_format(fmt)  # a bad format is reported before anything slow is loaded
    model, note = load_source_model(source)
    sig = samples = None
    if not isinstance(source, Project):
        from deepgui.core import signature

        sig = signature.find(source)
        if Path(source).is_dir():
            samples = signature.read_samples(Path(source))
    if sig is None:
        return export_model(model, fmt, path, note=note, **options)
    from deepgui.core.export.raw_export import export_with_signature

    raw = samples[0] if samples is not None else None
    return export_with_signature(model, sig, fmt, path, raw, note=note, **options)


def load_source_model(source: Project | str | os.PathLike) -> tuple[Any, str]:
    """The Keras model to export, and a note when it has no trained weights."""
    if isinstance(source, Project):
        return _model_of_project(source)
    src = Path(source).expanduser()
    if src.is_dir():
        model_file = src / RUN_MODEL
        if not model_file.is_file():
            raise ExportError(f"{src}: is not a run directory (it has no {RUN_MODEL}).")
        return _load_keras_file(model_file), ""
    if not src.exists():
        raise ExportError(f"{src}: no such project, model file or run directory.")
    if src.suffix.lower() in (".keras", ".h5", ".hdf5"):
        return _load_keras_file(src), ""
    return _model_of_project(load_project(src))


def _model_of_project(project: Project) -> tuple[Any, str]:
    from deepgui.core.build import build_model

    model = build_model(project.graph, name=_model_name(project))
    weights = project.weights_path
    if weights is None or not weights.is_file():
        return model, "; untrained: the project has no saved weights"
    from deepgui.core.weights import load_weights

    fresh = load_weights(model, weights)
    if fresh:
        shown = ", ".join(fresh[:3]) + (", ..." if len(fresh) > 3 else "")
        return model, f"; layers {shown} have no saved weights and keep initial values"
    return model, ""


def _model_name(project: Project) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in project.name)
    return name if name and not name[0].isdigit() else f"model_{name}"


def _load_keras_file(path: Path):
    from deepgui.core.keras_import import load_model_file

    try:
        return load_model_file(path)
    except DeepGuiError as exc:
        raise ExportError(str(exc)) from None
    except Exception as exc:
        raise ExportError(f"{path}: cannot be loaded as a Keras model ({exc}).") from None


def _project_of(source: Project | str | os.PathLike) -> Project:
    if isinstance(source, Project):
        return source
    src = Path(source).expanduser()
    if src.is_dir():
        if not (src / RUN_PROJECT).is_file():
            raise ExportError(f"{src}: has no {RUN_PROJECT}, so no script can be written for it.")
        return load_project(src / RUN_PROJECT)
    if src.suffix.lower() in (".keras", ".h5", ".hdf5"):
        raise ExportError(
            f"{src}: a script needs a project; import the model first (deepgui import)."
        )
    return load_project(src)


def export_script(project: Project, path: Path) -> ExportReport:
    """Write the Python script that rebuilds, loads the data and trains as the project does.
    Its check compiles it; running it is the test suite's job (it trains)."""
    try:
        from deepgui.core.codegen import generate_script
    except ImportError:
        raise ExportError("Python export is not available in this build of deepgui.") from None
    base_dir = project.path.parent if project.path else None
    script = generate_script(
        project.graph, project.dataset, project.training, name=project.name, base_dir=base_dir
    )
    try:
        atomic_write_text(path, script)
    except OSError as exc:
        raise ExportError(f"{path}: cannot be written ({exc.strerror or exc}).") from None
    size = artefact_size(path)
    try:
        compile(script, str(path), "exec")
    except SyntaxError as exc:
        message = f"Wrote Python script {path}, but its check FAILED: line {exc.lineno} is not valid Python ({exc.msg})."
        return ExportReport(path, "python", size, None, None, False, message)
    message = (
        f"Wrote Python script {path} ({human_size(size)}); it compiles, and running it rebuilds "
        "the model, loads the same data and trains it with the same settings."
    )
    return ExportReport(path, "python", size, None, None, True, message)


def read_history_csv(path: Path) -> dict[str, list[float]]:
    """A run's ``history.csv`` as metric name -> values (NaN where a cell is empty)."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ExportError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    history: dict[str, list[float]] = {}
    for row in rows:
        for key, cell in row.items():
            if key is None or key == "epoch":
                continue
            try:
                value = float(cell) if cell not in (None, "") else math.nan
            except ValueError:
                raise ExportError(f"{path}: column {key!r} holds {cell!r}, not a number.") from None
            history.setdefault(key, []).append(value)
    return history


def _export_history(source: Project | str | os.PathLike, key: str, path: Path) -> ExportReport:
    if isinstance(source, Project) or not Path(source).is_dir():
        raise ExportError(
            f"The {'history' if key == 'csv' else 'plots'} come from a training run: "
            "give its run directory instead of the project."
        )
    history_file = Path(source) / RUN_HISTORY
    if not history_file.is_file():
        raise ExportError(f"{source}: has no {RUN_HISTORY}; train the model first.")
    history = read_history_csv(history_file)
    try:
        if key == "csv":
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(history_file, path)
        else:
            export_plots(history, path)
    except OSError as exc:
        raise ExportError(f"{path}: cannot be written ({exc.strerror or exc}).") from None
    epochs = max((len(v) for v in history.values()), default=0)
    what = "training history" if key == "csv" else "training curves"
    message = f"Wrote the {what} of {epochs} epochs to {path} ({human_size(artefact_size(path))})."
    return ExportReport(path, key, artefact_size(path), None, None, True, message)


def _with_suffix(path: Path, suffix: str) -> Path:
    if path.suffix.lower() == suffix:
        return path
    if path.suffix:
        raise ExportError(
            f"{path}: this export must end with {suffix}; name it {path.stem}{suffix}."
        )
    return path.with_suffix(suffix)
