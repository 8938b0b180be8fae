"""What the app's data panel shows before anything is trained: plain JSON-able data, no Qt, and
for the downloadable Keras sets nothing is downloaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.data import images
from deepgui.core.data.arrays import read_npz
from deepgui.core.data.keras_sets import KERAS_SETS
from deepgui.core.data.shipped import BUILTIN
from deepgui.core.data.spec import (
    BuiltinOptions,
    CsvOptions,
    DataSpec,
    ImageOptions,
    KerasOptions,
    NpzOptions,
    TimeseriesOptions,
)
from deepgui.core.data.table import read_csv, type_column
from deepgui.core.errors import DatasetError


def preview(
    spec_dict: dict[str, Any], base_dir: Path | None = None, rows: int = 20
) -> dict[str, Any]:
    """{"kind": "table" | "images" | "arrays" | "sequences" | "keras", ...}: for tables the column
    names, inferred types and first rows; for image folders a few files per class; for arrays and
    sequences their shapes and a few samples. The spec is read (and checked) as loading reads it,
    so the panel reports a bad field before training does."""
    match DataSpec.from_dict(spec_dict, base_dir).options:
        case BuiltinOptions(name=name, path=path):
            how = BUILTIN[name][2]
            if path.suffix == ".csv":
                return {**_table(path, rows), "target": how["target"], "name": name}
            return {**_arrays(path, rows), "name": name, "class_names": how["class_names"]}
        case KerasOptions(name=name):
            text, classes = KERAS_SETS[name]
            return {"kind": "keras", "name": name, "description": text, "class_names": classes}
        case CsvOptions(path=path, target=target) | TimeseriesOptions(path=path, target=target):
            return {**_table(path, rows), "target": target}
        case NpzOptions(path=path):
            return _arrays(path, rows)
        case ImageOptions(path=path):
            return _images(path, rows)
    raise AssertionError("every source has a case above")


# Column names that say "this is what to predict", compared without case or separators.
TARGET_NAMES = (
    "target", "label", "labels", "class", "classes", "category", "species", "y", "outcome",
    "diagnosis", "result", "survived", "churn", "default", "variety", "quality", "grade",
)  # fmt: skip


def likely_target(columns: list[str], kinds: list[str]) -> str | None:
    """The column a table most likely predicts: one named like a target (target, label,
    class, species, y, ...), else the last column of categories, else the last column. Not
    simply the last: penguins ends with `year`, which would train as a 3-class problem."""
    if not columns:
        return None

    def squeezed(name: str) -> str:
        return "".join(ch for ch in name.lower() if ch.isalnum())

    for column in columns:
        if squeezed(column) in TARGET_NAMES:
            return column
    categories = [c for c, k in zip(columns, kinds, strict=False) if k == "category"]
    return categories[-1] if categories else columns[-1]


def _table(path: Path, rows: int) -> dict[str, Any]:
    table = read_csv(path, max_rows=max(rows, 200))  # types are guessed from the first rows
    types = []
    for name in table.header:
        try:
            types.append(type_column(table, name).kind)
        except DatasetError:
            types.append("mixed")
    first = [[str(c[i]) for c in table.cells] for i in range(min(rows, table.n_rows))]
    return {
        "kind": "table",
        "path": str(path),
        "columns": table.header,
        "types": types,
        "suggested_target": likely_target(table.header, types),
        "rows": first,
        "row_numbers": table.row_numbers[: len(first)].tolist(),
    }


def _arrays(path: Path, rows: int) -> dict[str, Any]:
    arrays = read_npz(path)
    info = {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()}
    x = arrays.get("x", arrays.get("x_train"))
    y = arrays.get("y", arrays.get("y_train"))
    x = x if x is not None and x.ndim > 0 else None  # a lone number is no sample
    y = y if y is not None and y.ndim > 0 else None
    out: dict[str, Any] = {"kind": "arrays", "path": str(path), "arrays": info}
    if x is not None and x.ndim == 3:  # (samples, steps, features): a few whole series
        out["kind"] = "sequences"
        out["series"] = np.asarray(x[: min(rows, 8)], np.float64).round(4).tolist()
    elif x is not None:
        out["samples"] = np.asarray(x[: min(rows, 8)], np.float64).round(4).tolist()
    if y is not None:
        out["labels"] = np.asarray(y[: min(rows, 8)]).tolist()
    return out


def _images(path: Path, rows: int) -> dict[str, Any]:
    classes = images.class_folders(path)
    per_class = max(1, min(rows, 5))
    return {
        "kind": "images",
        "path": str(path),
        "class_names": list(classes),
        "counts": {c: len(f) for c, f in classes.items()},
        "files": {c: [str(p) for p in f[:per_class]] for c, f in classes.items()},
    }
