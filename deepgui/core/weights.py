"""A project's weights beside it (``NAME.weights.h5``), keyed by layer name.

Keyed by name rather than by position so that a model rebuilt from the graph (whose layer order
may differ from the original's) gets every layer's weights back, and a layer the user has
edited since is simply left freshly initialised and reported.

File layout: ``/layers/<layer name>/<i>`` holds the i-th array of ``layer.weights``, with the
variable's path as the ``name`` attribute for people reading the file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import fileio
from deepgui.core.errors import ProjectFormatError
from deepgui.core.keras_graph import import_model
from deepgui.core.keras_layers import keras

FORMAT = "deepgui-weights"
VERSION = 1


def save_weights(model: Any, path: str | os.PathLike) -> Path:
    """Write every layer's weights of `model` to `path` (atomically).

    A model holding models as layers is stored under the names its imported graph gives the
    flattened layers, so the weights load into ``build_model(graph_from_model(model))``."""
    model_class = keras().Model
    if any(isinstance(layer, model_class) for layer in model.layers):
        result = import_model(model)
        named = {result.graph.nodes[nid].name: layer for nid, layer in result.layers.items()}
        return save_layer_weights(named, path)
    return save_layer_weights({layer.name: layer for layer in model.layers}, path)


def save_layer_weights(layers: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write the weights of each layer under the given name; layers without weights are skipped.

    The HDF5 file is made in memory and written with plain Python file calls (atomically), so
    a full or read-only disk is one WriteError naming the path: libhdf5 never meets the error
    (it cannot always recover from one, and has crashed the process at exit)."""
    return fileio.atomic_write_bytes(Path(path), weights_bytes(layers))


def weights_bytes(layers: Mapping[str, Any]) -> bytes:
    """The weights file for `layers` (name -> layer), as bytes."""
    import h5py  # h5py (60 ms): imported when a weights file is read or written

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as fh:
        fh.attrs["format"] = FORMAT
        fh.attrs["version"] = VERSION
        group = fh.create_group("layers")
        for name, layer in layers.items():
            variables = list(getattr(layer, "weights", []))
            if not variables:
                continue
            sub = group.create_group(name)
            for i, variable in enumerate(variables):
                data = sub.create_dataset(str(i), data=np.asarray(variable.numpy()))
                data.attrs["name"] = str(getattr(variable, "path", variable.name))
    return buffer.getvalue()


def is_weights_file(path: str | os.PathLike) -> bool:
    """Whether `path` is a weights file deepgui wrote (its format attribute says so)."""
    try:
        read_weights(path, arrays=False)
    except ProjectFormatError:
        return False
    return True


# Weights of a model edited here fit in a few gigabytes; a bigger file is not read.
MAX_BYTES = 16 * fileio.GiB


def read_weights(path: str | os.PathLike, arrays: bool = True) -> dict[str, list[Any]]:
    """Every stored layer's arrays, by layer name (with `arrays` False, only the names are
    checked). ProjectFormatError for a bad file, or one that is not a regular file."""
    import h5py  # h5py (60 ms): imported when a weights file is read or written

    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise ProjectFormatError(f"{path}: no such weights file.")
    fileio.check_file(path, "weights file", MAX_BYTES, error=ProjectFormatError)
    try:
        with h5py.File(path, "r") as fh:
            if fh.attrs.get("format") != FORMAT or "layers" not in fh:
                raise ProjectFormatError(f"{path}: is not a deepgui weights file.")
            version = int(fh.attrs.get("version", 0))
            if version > VERSION:
                raise ProjectFormatError(
                    f"{path}: was written by a newer deepgui (weights version {version})."
                )
            out: dict[str, list[Any]] = {}
            for name, group in fh["layers"].items():
                keys = sorted(group.keys(), key=int)
                out[name] = [group[k][()] for k in keys] if arrays else []
            return out
    except ProjectFormatError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ProjectFormatError(f"{path}: is damaged and cannot be read ({first}).") from None


def load_weights(model: Any, path: str | os.PathLike, strict: bool = False) -> list[str]:
    """Load stored weights into `model`'s layers by name.

    Returns the names of the layers that have weights but kept their fresh initial values: those
    whose stored shapes no longer match (the user edited them) and those not in the file (added
    since). With ``strict=True`` a shape mismatch raises ProjectFormatError instead."""
    stored = read_weights(path)
    by_path: dict[str, Any] | None = None
    reinitialised = []
    for layer in model.layers:
        variables = list(layer.weights)
        if not variables:
            continue
        arrays = stored.get(layer.name)
        if arrays is None:
            # A layer that was inside a block (a model used as a layer) before the block was
            # opened for editing: its arrays are stored under the block, by variable path.
            by_path = read_paths(path) if by_path is None else by_path
            arrays = _arrays_by_path(variables, by_path)
        problem = _mismatch(layer.name, variables, arrays)
        if problem:
            if strict and arrays is not None:
                raise ProjectFormatError(f"{path}: {problem}")
            reinitialised.append(layer.name)
            continue
        for variable, array in zip(variables, arrays, strict=True):
            variable.assign(array.astype(_dtype_name(variable)))
        # Layers that derive state from their variables (Normalization's mean and variance)
        # recompute it here, as Keras's own loader does.
        finalize = getattr(layer, "finalize_state", None)
        if callable(finalize):
            finalize()
    return reinitialised


def read_paths(path: str | os.PathLike) -> dict[str, Any]:
    """Every stored array by its variable's path (``block/top/kernel``)."""
    import h5py  # h5py (60 ms): imported when a weights file is read or written

    out: dict[str, Any] = {}
    try:
        with h5py.File(path, "r") as fh:
            for group in fh["layers"].values():
                for data in group.values():
                    name = data.attrs.get("name")
                    if isinstance(name, bytes):
                        name = name.decode("utf-8")
                    if isinstance(name, str):
                        out[name] = data[()]
    except (OSError, KeyError, ValueError):
        return {}
    return out


def _arrays_by_path(variables: list[Any], by_path: dict[str, Any]) -> list[Any] | None:
    """The arrays stored for these variables under a block's path (one match each), else
    None."""
    found = []
    for variable in variables:
        own = str(getattr(variable, "path", variable.name))
        matches = [
            array for name, array in by_path.items() if name == own or name.endswith("/" + own)
        ]
        if len(matches) != 1:
            return None
        found.append(matches[0])
    return found


def _dtype_name(variable: Any) -> str:
    dtype = variable.dtype
    return getattr(dtype, "name", None) or str(dtype)


def _mismatch(name: str, variables: list[Any], arrays: list[Any] | None) -> str | None:
    """Why stored arrays do not fit a layer, in one sentence; None when they fit."""
    if arrays is None:
        return f"{name} has no stored weights."
    if len(arrays) != len(variables):
        return (
            f"{name} now has {len(variables)} weight arrays but {len(arrays)} are stored: "
            "it was changed and starts from fresh weights."
        )
    for variable, array in zip(variables, arrays, strict=True):
        if tuple(variable.shape) != tuple(array.shape):
            return (
                f"{name} weight {variable.name} is now {tuple(variable.shape)} but "
                f"{tuple(array.shape)} is stored: it was changed and starts from fresh weights."
            )
    return None
