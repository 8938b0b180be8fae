"""`export_project`: export from what a user has on disk: a project (its graph and saved
weights), a run directory (its trained ``model.keras``) or a Keras model file. Also the formats
that need the project rather than the model: the Python script, the history and its plots."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import fileio, run_layout, signature
from deepgui.core.build import build_model
from deepgui.core.codegen import generate_script
from deepgui.core.compile_settings import compile_for_export
from deepgui.core.data.arrays import check_npz
from deepgui.core.errors import DeepGuiError, ExportError
from deepgui.core.export.model_export import (
    _refuse_non_finite,
    _replace,
    _staging,
    canonical_format,
    check_targets,
    export_model,
    target_path,
)
from deepgui.core.export.plots import export_plots
from deepgui.core.export.raw_export import export_with_signature
from deepgui.core.export.report import ExportReport, artefact_size, human_size
from deepgui.core.keras_import import load_model_file
from deepgui.core.project import Project, atomic_write_text, load_project
from deepgui.core.training.rundir import read_run
from deepgui.core.weights import load_weights

RUN_MODEL, RUN_PROJECT, RUN_HISTORY = run_layout.MODEL, run_layout.PROJECT, run_layout.HISTORY
# Formats that come from the project or the run rather than from the model.
PROJECT_FORMATS = {"python": ".py", "csv": ".csv", "svg": ".svg"}


def export_project(
    source: Project | str | os.PathLike,
    fmt: str,
    path: str | os.PathLike,
    force: bool = False,
    **options: Any,
) -> ExportReport:
    """Export a project, a run directory or a ``.keras`` file as `fmt` (see export_model for
    the model formats and their options; also "python", and from a run "csv" and "svg").
    Nothing that exists is replaced unless `force`, and then only an earlier export."""
    key = str(fmt).strip().lower()
    if key in PROJECT_FORMATS:
        path = _with_suffix(Path(path).expanduser(), PROJECT_FORMATS[key])
        if key == "python":
            return export_script(_project_of(source), path, force=force)
        return _export_history(source, key, path, force=force)
    fmt = canonical_format(fmt)  # a bad format is reported before anything slow is loaded
    target = target_path(fmt, path)
    beside = (signature.sidecar_path(target),) if fmt == "savedmodel" else ()
    check_targets(fmt, target, force, beside=beside)  # before the model loads: said at once
    model, note = load_source_model(source)
    if fmt == "keras":
        note += _compile_like_project(model, source)
    sig = raw = None
    if not isinstance(source, Project):
        sig = signature.find(source)
        if Path(source).is_dir():
            raw = _samples_of(Path(source))
    if sig is None:
        return export_model(model, fmt, path, note=note, force=force, **options)

    return export_with_signature(model, sig, fmt, path, raw, note=note, force=force, **options)


def load_source_model(source: Project | str | os.PathLike) -> tuple[Any, str]:
    """The Keras model to export, and a note when it has no trained weights."""
    if isinstance(source, Project):
        return _model_of_project(source)
    src = Path(source).expanduser()
    if src.is_dir():
        model_file = src / RUN_MODEL
        if not model_file.is_file():
            raise ExportError(_no_model(src))
        return _load_keras_file(model_file), ""
    if not src.exists():
        raise ExportError(f"{src}: no such project, model file or run directory.")
    if src.suffix.lower() in (".keras", ".h5", ".hdf5"):
        return _load_keras_file(src), ""
    return _model_of_project(load_project(src))


def _no_model(run: Path) -> str:
    """Why a folder has no model to export: not a run, or a run that kept none."""
    try:
        metrics = read_run(run)["metrics"]
    except DeepGuiError:
        metrics = {}
    if metrics.get("stopped_by") == "nan_loss":
        return (
            f"{run}: this run has no trained model: its loss became NaN before any epoch "
            "finished with usable weights. Train again with a lower learning rate."
        )
    if metrics or (run / RUN_PROJECT).is_file():
        return (
            f"{run}: this run saved no trained model ({RUN_MODEL}), so there is nothing to export."
        )
    return f"{run}: is not a run directory (it has no {RUN_MODEL})."


def _model_of_project(project: Project) -> tuple[Any, str]:
    model = build_model(project.graph, name=_model_name(project))
    weights = project.weights_path
    if weights is None or not weights.is_file():
        return model, "; untrained: the project has no saved weights"

    fresh = load_weights(model, weights)
    if fresh:
        shown = ", ".join(fresh[:3]) + (", ..." if len(fresh) > 3 else "")
        return model, f"; layers {shown} have no saved weights and keep initial values"
    return model, ""


def _model_name(project: Project) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in project.name)
    return name if name and not name[0].isdigit() else f"model_{name}"


def _load_keras_file(path: Path):
    try:
        return load_model_file(path)
    except DeepGuiError as exc:
        raise ExportError(str(exc)) from None
    except Exception as exc:
        raise ExportError(f"{path}: cannot be loaded as a Keras model ({exc}).") from None


def _compile_like_project(model, source) -> str:
    """Compile the model with the project's training settings, so that the .keras file keeps
    them (optimizer, its arguments and schedule, losses, loss weights, metrics) as a Keras
    user's own file would. A run's "auto" loss and metrics are the ones it trained with.
    Returns a note for what could not be kept ('' when all was)."""
    if not isinstance(source, Project) and Path(source).suffix.lower() in (".keras", ".h5"):
        return ""  # a model file keeps what it was compiled with
    try:
        project = _project_of(source)
    except DeepGuiError:
        return ""
    training = dict(project.training)
    src = None if isinstance(source, Project) else Path(source).expanduser()
    if src is not None and src.is_dir():
        try:
            metrics = read_run(src)["metrics"]
        except DeepGuiError:
            metrics = {}
        if training.get("loss", "auto") == "auto" and metrics.get("loss"):
            training["loss"] = metrics["loss"]
    try:
        notes = compile_for_export(model, training)
    except DeepGuiError as exc:
        return f"; without its training settings ({exc})"
    return "".join(f"; {n[0].lower()}{n[1:].rstrip('.')}" for n in notes)


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


def export_script(project: Project, path: Path, force: bool = False) -> ExportReport:
    """Write the Python program that stands alone (Keras and NumPy, no deepgui): the network,
    the preprocessing layers, training with the project's settings, and predicting. From a
    training run it also writes the run's trained weights beside it (``NAME.weights.h5``, with
    ``NAME.signature.json``) and checks that the model the script's code builds, with those
    weights loaded, gives the run model's outputs on the run's sample rows. From a project the
    script's `train` makes the weights; its check is that it compiles."""
    run = _run_of(project)
    beside = (_weights_beside(path), _signature_beside(path))
    check_targets("python", path, force, beside=beside if run is not None else ())
    sig = _run_signature(run) if run is not None else None
    trained = None
    if sig is not None:
        pre = sig.preprocessing.to_dict()
        trained = {"task": sig.task, "classes": list(sig.classes), "preprocessing": pre,
                   "outputs": list(sig.outputs)}  # fmt: skip
    script = generate_script(
        project.graph,
        project.dataset,
        project.training,
        name=path.stem if run is not None else project.name,
        base_dir=_data_folder(project, run),
        trained=trained,
        file_stem=path.stem,
    )
    try:
        compile(script, str(path), "exec")
    except SyntaxError as exc:  # a bug of ours: nothing is written
        raise ExportError(
            f"The Python script could not be written: its line {exc.lineno} is not valid Python "
            f"({exc.msg})."
        ) from None
    model = _load_keras_file(run / RUN_MODEL) if trained else None
    if model is None:  # from a project: nothing to check beyond compiling
        try:
            atomic_write_text(path, script)
        except OSError as exc:
            raise ExportError(str(fileio.write_error(path, exc))) from None
        size = artefact_size(path)
        message = (
            f"Wrote Python script {path} ({human_size(size)}); it compiles, and it needs only "
            "Keras and NumPy to train the model with the project's settings and then predict."
        )
        return ExportReport(path, "python", size, None, None, True, message)

    _refuse_non_finite(model, _samples_of(run))
    weights = _weights_beside(path)
    # The script, its weights and its signature are written and checked in a folder beside
    # `path` under their own names, and moved into place only when the check passes.
    with _staging(path) as staging:
        staged = staging / path.name
        try:
            _write_run_weights(model, sig, staged)
            atomic_write_text(staged, script)
        except OSError as exc:
            raise ExportError(str(fileio.write_error(path, exc))) from None
        size = artefact_size(staged)
        try:
            diff = _check_script(script, staged, model, run)
        except Exception as exc:  # noqa: BLE001 - any failure of the script's own code is the verdict
            what = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            reason = f"the model its code builds could not run ({what.rstrip('.')})"
            return _script_not_kept(path, size, None, reason)
        if diff is not None and diff > SCRIPT_TOLERANCE:
            reason = (
                f"the model its code builds differs from the run's by up to {diff:.3g} on the "
                "run's sample rows"
            )
            return _script_not_kept(path, size, diff, reason)
        try:  # the weights first: a script never points at missing ones
            for part in (_weights_beside(staged), _signature_beside(staged), staged):
                _replace(part, path.with_name(part.name), staging / "previous")
        except OSError as exc:
            raise ExportError(str(fileio.write_error(path, exc))) from None
    if diff is None:
        message = (
            f"Wrote Python script {path} with the trained weights in {weights.name}; it needs "
            "only Keras and NumPy, and the run kept no sample rows to check it on."
        )
        return ExportReport(path, "python", size, None, None, True, message)
    message = (
        f"Wrote Python script {path} with the trained weights in {weights.name}; checked: the "
        f"model its code builds gives the run's outputs on {_sample_rows(run)} sample rows "
        f"(largest difference {diff:.2g})."
    )
    return ExportReport(path, "python", size, diff, SCRIPT_TOLERANCE, True, message)


def _script_not_kept(path: Path, size: int, diff: float | None, reason: str) -> ExportReport:
    where = (
        f"the earlier {path} is left as it was"
        if path.exists()
        else f"nothing was written to {path}"
    )
    message = (
        f"The Python script failed its check, so it and its weights were deleted and {where}: "
        f"{reason}."
    )
    return ExportReport(path, "python", size, diff, SCRIPT_TOLERANCE, False, message, kept=False)


# The script's model and the run's are the same layers on the same machine: only float noise.
SCRIPT_TOLERANCE = 1e-5


def _run_of(project: Project) -> Path | None:
    """The run directory a project was loaded from (its ``project.dgproj`` copy), if it was."""
    if project.path is None or project.path.name != RUN_PROJECT:
        return None
    folder = project.path.parent
    return folder if (folder / RUN_MODEL).is_file() else None


def _run_signature(run: Path):
    """The run's signature when it has preprocessing to write into the script (runs from
    before signatures get a script that trains, like a project's)."""
    path = run / signature.RUN_FILE
    if not path.is_file():
        return None
    try:
        sig = signature.read(path)
    except DeepGuiError as exc:
        raise ExportError(str(exc)) from None
    return sig if sig.preprocessing is not None else None


def _data_folder(project: Project, run: Path | None) -> Path | None:
    """Where the data's relative paths are read from: the project's folder; for a run (its
    project copy sits in the run) the folder the run was made beside, ``PROJECT/runs/NAME``,
    unless the path is found from the run itself."""
    if project.path is None:
        return None
    if run is None:
        return project.path.parent
    relative = [
        v
        for k, v in project.dataset.items()
        if k in ("path", "validation_path", "test_path") and isinstance(v, str) and v
    ]
    if all(Path(v).expanduser().is_absolute() or (run / v).exists() for v in relative):
        return run
    return run.parent.parent


def _samples_of(run: Path):
    """The run's raw sample rows (checked before they are read), or None."""
    path = run / signature.SAMPLES_FILE
    if not path.is_file():
        return None
    try:
        check_npz(path)
        samples = signature.read_samples(run)
    except DeepGuiError as exc:
        raise ExportError(str(exc)) from None
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise ExportError(f"{path}: the run's sample rows cannot be read ({exc}).") from None
    return samples[0] if samples is not None else None


def _weights_beside(path: Path) -> Path:
    return path.with_name(f"{path.stem}.weights.h5")


def _signature_beside(path: Path) -> Path:
    return path.with_name(f"{path.stem}.signature.json")


def _write_run_weights(model, sig, path: Path) -> None:
    """The run model's weights beside the script (written whole, then renamed into place), and
    its signature: the constants that go with them, which the script prefers when present."""
    target = _weights_beside(path)
    # Keras insists on the .weights.h5 ending, so the temporary file keeps it.
    with fileio.staged(target, suffix=".weights.h5") as tmp:
        try:
            model.save_weights(tmp)
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - h5py wraps a full disk in its own errors
            raise fileio.write_error(target, exc) from None
    signature.write(sig, _signature_beside(path))


def _check_script(script: str, path: Path, model, run: Path) -> float | None:
    """Run the script's own definitions here: build the model from its constants and code,
    load the weights written beside it, and compare with the run's model on the run's raw
    sample rows. The largest absolute difference (None: the run kept no samples)."""
    raw = _samples_of(run)
    if raw is None:
        return None
    if isinstance(raw, dict):  # columns as the script reads them: one column per sample row
        raw = {k: (v[:, None] if v.ndim == 1 else v) for k, v in raw.items()}
    namespace: dict[str, Any] = {"__name__": "deepgui_export_check", "__file__": str(path)}
    exec(compile(script, str(path), "exec"), namespace)  # our own generated code
    built = namespace["build_model"](namespace["PREPROCESSING"], namespace["build_network"]())
    built.load_weights(_weights_beside(path))
    run_outputs = namespace["run_outputs"]  # every output, in the model's order
    ours, theirs = run_outputs(built, raw), run_outputs(model, raw)
    if len(ours) != len(theirs):
        return float("inf")
    return max(float(np.max(np.abs(a - b), initial=0.0)) for a, b in zip(ours, theirs, strict=True))


def _sample_rows(run: Path) -> int:
    raw = _samples_of(run)
    if raw is None:
        return 0
    return len(next(iter(raw.values()))) if isinstance(raw, dict) else len(raw)


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


def _export_history(
    source: Project | str | os.PathLike, key: str, path: Path, force: bool = False
) -> ExportReport:
    if isinstance(source, Project) or not Path(source).is_dir():
        raise ExportError(
            f"The {'history' if key == 'csv' else 'plots'} come from a training run: "
            "give its run directory instead of the project."
        )
    history_file = Path(source) / RUN_HISTORY
    if not history_file.is_file():
        raise ExportError(f"{source}: has no {RUN_HISTORY}; train the model first.")
    check_targets(key, path, force)
    history = read_history_csv(history_file)
    try:
        if key == "csv":
            text = fileio.read_text(history_file, "history file", 1 << 30, error=ExportError)
            fileio.atomic_write_text(path, text)
        else:
            export_plots(history, path)
    except OSError as exc:
        raise ExportError(str(fileio.write_error(path, exc))) from None
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
