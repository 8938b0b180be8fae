"""Import a Keras model (``.keras`` or ``.h5``) as an editable project, weights kept.

The model becomes a graph as keras_graph reads it (its names are here too, where callers look
for them); this module loads model files and makes the project: its training settings from
what the model was compiled with, its weights file beside it. Loading always uses
``safe_mode=True``, so a file can never run code (Lambda layers and classes Keras cannot find
are refused with one sentence).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from deepgui.core import fileio, run_layout, weights
from deepgui.core.compile_settings import training_from_model_file
from deepgui.core.data.preprocessing import network_of
from deepgui.core.errors import DeepGuiError, ModelImportError
from deepgui.core.keras_graph import (  # noqa: F401 (the app and the tests find them here)
    block_graph,
    graph_from_model,
    import_model,
)
from deepgui.core.keras_layers import file_named_in, keras
from deepgui.core.project import FORMAT, Project, ProjectFormatError, parse_json, weights_path_for
from deepgui.core.training.config import is_serialized

_CLASS_RE = re.compile(
    r"(?:Could not locate class|Unknown layer|unknown class)[^'\"]*['\"]([\w.]+)['\"]", re.I
)


# A Keras model file bigger than this is not one a person builds or edits here.
MAX_MODEL_BYTES = 8 * fileio.GiB
# The model description (config.json in a .keras archive): a few megabytes at most.
MAX_CONFIG_BYTES = 64 * fileio.MiB


def load_model_file(path: str | os.PathLike) -> Any:
    """Load a ``.keras`` or ``.h5`` model safely; every failure is a ModelImportError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".keras", ".h5", ".hdf5"):
        raise ModelImportError(f"{path}: is not a Keras model file (expected .keras or .h5).")
    fileio.check_file(path, "Keras model file", MAX_MODEL_BYTES, error=ModelImportError)
    config = _stored_config(path)
    if config is not None:
        _refuse_unsafe(path, config)
    k = keras()
    try:
        return k.saving.load_model(path, compile=False, safe_mode=True)
    except RecursionError:
        raise ModelImportError(f"{path}: its model description is nested too deeply.") from None
    except Exception as exc:  # Keras raises many kinds; each becomes one sentence
        raise ModelImportError(_explain_load_error(path, exc)) from None


def _stored_config(path: Path) -> Any:
    """The model description a file holds, read without Keras (None when it cannot be found
    this way: Keras then reads the file and says what is wrong)."""
    text = None
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                info = archive.getinfo("config.json")
                if info.file_size > MAX_CONFIG_BYTES:
                    raise ModelImportError(
                        f"{path}: its model description claims {fileio.amount(info.file_size)}, "
                        "more than a model description takes."
                    )
                text = _json_text(archive.read(info), path)
        else:
            import h5py  # h5py (60 ms): only an .h5 model file needs it

            with h5py.File(path, "r") as fh:
                raw = fh.attrs.get("model_config")
                text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except ModelImportError:
        raise
    except Exception:  # noqa: BLE001 - not found or not readable this way: Keras will say
        return None
    if not isinstance(text, str):
        return None

    try:
        return parse_json(text, str(path))
    except ProjectFormatError:
        raise ModelImportError(
            f"{path}: its model description is damaged or nested too deeply."
        ) from None


def _json_text(raw: bytes, path: Path) -> str:
    """config.json's text, decoded as Keras decodes it (json.loads on the bytes: UTF-8, 16 or
    32, told by its first bytes), so the check below reads what Keras would build from."""
    try:
        return raw.decode(json.detect_encoding(raw), "surrogatepass")
    except (UnicodeDecodeError, LookupError):
        raise ModelImportError(
            f"{path}: its model description (config.json) is not text in UTF-8, 16 or 32."
        ) from None


def _refuse_unsafe(path: Path, config: Any) -> None:
    """A layer config naming a file (a vocabulary path) would make Keras read that file: refused
    before Keras sees it, whatever safe mode would say."""
    named = file_named_in(config)
    if named is not None:
        name, key, value = named
        raise ModelImportError(
            f"{path}: layer {name} takes its {key} from the file {value!r}, "
            "outside the model file; deepgui never reads files a model names."
        )


def load_network_file(path: str | os.PathLike) -> Any:
    """The editable network of a model file: a trained run's model.keras carries its data
    preprocessing in front of the network; the editor takes the network (the preprocessing is
    fitted again on the data whenever it trains)."""
    model = load_model_file(path)  # its errors name the file already
    try:
        return network_of(model)
    except DeepGuiError as exc:
        raise ModelImportError(f"{path}: {exc}") from None


def _explain_load_error(path: Path, exc: Exception) -> str:
    text = str(exc)
    if "Lambda" in text and ("safe_mode" in text or "unsafe" in text.lower()):
        return (
            f"{path}: contains a Lambda layer (Python code), which deepgui never loads for safety: "
            "replace it with built-in layers."
        )
    if "vocabulary file" in text.lower():
        return (
            f"{path}: names a vocabulary file outside the model file; deepgui never reads files "
            "a model names."
        )
    if "safe_mode" in text:
        return f"{path}: holds Python code that deepgui never loads for safety."
    m = _CLASS_RE.search(text)
    if m:
        return (
            f"{path}: uses the custom layer class {m.group(1)}, which deepgui does not support: "
            "use built-in Keras layers."
        )
    if isinstance(exc, OSError | ValueError) and (
        "signature" in text or "zip" in text.lower() or "HDF5" in text
    ):
        return f"{path}: is damaged or not a Keras model file."
    first = re.sub(
        r"\s+", " ", next((ln for ln in text.splitlines() if ln.strip()), type(exc).__name__)
    )
    if len(first) > 200:
        first = first[:197] + "..."
    return f"{path}: cannot be loaded as a Keras model ({first.strip()})."


def project_from_model_file(path: str | os.PathLike) -> tuple[Project, Any]:
    """A new (unsaved) project holding the file's model as a graph, its training settings as
    it was compiled, and the loaded model."""
    model = load_network_file(path)
    graph = import_model(model).graph
    project = Project(graph=graph)
    _take_training(project, path, model)
    return project, model


def _take_training(project: Project, path: str | os.PathLike, model: Any) -> None:
    """Read what the file was compiled with into the project's training settings (the
    optimizer, its arguments and schedule, losses, loss weights, metrics), keyed by the
    project's output names, and keep a note of what could not be read."""
    training, notes = training_from_model_file(path)
    # The importer may rename a layer to fit the name rule: per-output settings follow.
    producers = [getattr(t, "_keras_history", (None,))[0] for t in model.outputs]
    renamed = {
        getattr(layer, "name", None): node.name
        for layer, node in zip(producers, project.graph.output_nodes(), strict=False)
    }
    for key in ("loss", "metrics", "loss_weights"):
        value = training.get(key)
        if isinstance(value, dict) and not is_serialized(value):
            training[key] = {renamed.get(k, k): v for k, v in value.items()}
    project.training = training
    project.import_notes = notes


def import_model_file(
    model_path: str | os.PathLike, project_path: str | os.PathLike, force: bool = False
) -> Project:
    """`deepgui import`: load a model file, save it as a project and its weights beside it.

    Neither the project file nor its ``NAME.weights.h5`` is overwritten unless `force` (and even
    then only files deepgui wrote are replaced). Nothing is written unless the whole import
    succeeds; the weights are written first, so no project is left pointing at missing ones."""
    return import_model_file_and_model(model_path, project_path, force)[0]


def import_model_file_and_model(
    model_path: str | os.PathLike, project_path: str | os.PathLike, force: bool = False
) -> tuple[Project, Any]:
    """`import_model_file`, also handing back the loaded Keras model."""
    project_path = check_import_target(project_path, force)
    model = load_network_file(model_path)
    result = import_model(model)
    project = Project(graph=result.graph)
    _take_training(project, model_path, model)
    data = weights.weights_bytes(
        {result.graph.nodes[nid].name: layer for nid, layer in result.layers.items()}
    )
    text = project.to_json()
    # Both files are written whole under temporary names first; only then is either renamed
    # into place, so a full disk or a kill part-way leaves whatever was there before.
    try:
        with fileio.staged(weights_path_for(project_path), suffix=".h5") as weights_tmp:
            weights_tmp.write_bytes(data)
            with fileio.staged(project_path) as project_tmp:
                project_tmp.write_text(text, encoding="utf-8")
    except fileio.WriteError as exc:
        raise ModelImportError(str(exc)) from None
    project.path = project_path
    project.undo.set_clean()
    return project, model


def check_import_target(project_path: str | os.PathLike, force: bool = False) -> Path:
    """Where an import may write its project: ModelImportError, one sentence, when the name is
    not a project's, its folder cannot take it, or either file exists (without `force`)."""
    project_path = Path(project_path).expanduser()
    if project_path.suffix != ".dgproj":
        raise ModelImportError(f"{project_path}: a project file must end in .dgproj.")
    run_layout.refuse_inside_run(project_path, "the project", error=ModelImportError)
    if project_path.is_dir():
        raise ModelImportError(f"{project_path}: is a folder; give a file name ending in .dgproj.")
    for parent in project_path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ModelImportError(f"{project_path}: cannot be written: {parent} is a file.")
            break
    weights_file = weights_path_for(project_path)
    for target in (project_path, weights_file):
        if (target.exists() or target.is_symlink()) and not force:
            raise ModelImportError(
                f"{target} already exists: choose another name, or ask to replace it.",
                setting="force",
            )
    if weights_file.exists() and not weights.is_weights_file(weights_file):
        raise ModelImportError(
            f"{weights_file} is not a weights file deepgui wrote, so it is not replaced: move "
            "it away or choose another name."
        )
    if project_path.exists() and not _is_project_file(project_path):
        raise ModelImportError(
            f"{project_path} is not a deepgui project, so it is not replaced: move it away or "
            "choose another name."
        )
    try:
        fileio.writable_folder(project_path.parent)
    except fileio.WriteError as exc:
        raise ModelImportError(str(exc)) from None
    return project_path


def _is_project_file(path: Path) -> bool:
    try:
        head = fileio.read_bytes(path, "project file", 64 * fileio.MiB)[:4096]
    except DeepGuiError:
        return False
    return f'"{FORMAT}"'.encode() in head
