"""The dataset spec: validating a project's ``dataset`` dict, filling defaults, resolving paths,
and guessing a spec from a path given on the command line."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from deepgui.core.errors import DatasetError

SOURCES = ("builtin", "csv", "npz", "image_folder", "timeseries", "keras")
DEFAULTS: dict[str, Any] = {"validation_split": 0.2, "test_split": 0.0, "shuffle": True, "seed": 42}
MISSING_CHOICES = ("fill", "drop", "refuse", "error")  # "error": the old name of "refuse"
TASK_CHOICES = ("multiclass", "binary", "regression", "multilabel")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")


def normalize(spec: Any) -> dict[str, Any]:
    """A copy of `spec` with defaults filled in; DatasetError names the first bad field."""
    if not isinstance(spec, dict):
        raise DatasetError(
            'The dataset settings must be an object such as {"source": "builtin", "name": "digits"}.'
        )
    if not spec:
        raise DatasetError(
            'No data set is chosen: set the dataset\'s "source" (for example "builtin" with "name": "digits").'
        )
    out = {**DEFAULTS, **spec}
    source = out.get("source")
    if source not in SOURCES:
        raise DatasetError(
            f'The dataset field "source" is {source!r}; it must be one of {", ".join(SOURCES)}.'
        )
    for key in ("validation_split", "test_split"):
        value = out[key]
        if not _is_number(value) or not 0.0 <= value < 1.0:
            raise DatasetError(
                f'The dataset field "{key}" must be a fraction from 0 up to (not including) 1, not {value!r}.'
            )
    if out["validation_split"] + out["test_split"] >= 1.0:
        raise DatasetError(
            'The dataset fields "validation_split" and "test_split" add up to 1 or more: nothing is left to train on.'
        )
    if not isinstance(out["shuffle"], bool):
        raise DatasetError(
            f'The dataset field "shuffle" must be true or false, not {out["shuffle"]!r}.'
        )
    seed = out["seed"]
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise DatasetError(f'The dataset field "seed" must be a whole number from 0, not {seed!r}.')
    missing = out.setdefault("missing", "fill")
    if missing not in MISSING_CHOICES:
        raise DatasetError(
            f'The dataset field "missing" must be fill, drop or refuse, not {missing!r}.'
        )
    if missing == "error":
        out["missing"] = "refuse"
    task = out.get("task")
    if task is not None and task not in TASK_CHOICES:
        raise DatasetError(
            f'The dataset field "task" must be one of {", ".join(TASK_CHOICES)}, not {task!r}.'
        )
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def positive_int(
    spec: dict[str, Any], key: str, default: int | None = None, minimum: int = 1
) -> int:
    value = spec.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise DatasetError(
            f'The dataset field "{key}" must be a whole number from {minimum}, not {value!r}.'
        )
    return value


def resolve(
    spec: dict[str, Any], key: str, base_dir: Path | None, *, required: bool = True
) -> Path | None:
    """The path in `spec[key]`, relative to `base_dir`; DatasetError when it is needed and absent."""
    value = spec.get(key)
    if value is None or value == "":
        if required:
            raise DatasetError(f'The dataset field "{key}" is empty: choose the file to load.')
        return None
    if not isinstance(value, str):
        raise DatasetError(f'The dataset field "{key}" must be a path, not {value!r}.')
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if not path.exists():
        raise DatasetError(f'{path}: no such file or folder (dataset field "{key}").')
    return path


def spec_from_path(path: str, target: str | None = None) -> dict[str, Any]:
    """Guess the spec for a path from the command line: a folder of images, a .npz or a CSV.
    The path is made absolute, since a project's own relative paths are read from its folder."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DatasetError(f"{path}: no such file or folder.")
    p = p.resolve()
    if p.is_dir():
        spec: dict[str, Any] = {"source": "image_folder", "path": str(p)}
    elif p.suffix.lower() == ".npz":
        spec = {"source": "npz", "path": str(p)}
    elif p.suffix.lower() in CSV_SUFFIXES:
        spec = {"source": "csv", "path": str(p)}
        if target:
            spec["target"] = target
    else:
        raise DatasetError(
            f"{path}: cannot tell what kind of data this is; give a CSV file (.csv, .tsv), "
            "a NumPy file (.npz) or a folder with one subfolder of images per class."
        )
    if target and spec["source"] != "csv":
        raise DatasetError(f"{path}: --target names a CSV column, but this is not a CSV file.")
    return spec
