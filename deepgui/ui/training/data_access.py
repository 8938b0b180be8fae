"""The data package's public functions, as the panel calls them.

The panel only presents what `deepgui.core.data` decides. While a function is not there yet
(the data package landing), a minimal stand-in covers built-in samples and .npz files so the
training tab still trains; the stand-ins go away by themselves once the real ones exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.data.base import LoadedData
from deepgui.core.errors import DatasetError
from deepgui.core.paths import datasets_dir


def _core(name: str):
    try:
        import deepgui.core.data as data
    except ImportError:  # pragma: no cover - the package exists; its modules may not
        return None
    return getattr(data, name, None)


def builtin_datasets() -> list[tuple[str, str]]:
    """(name, description) of every bundled sample."""
    fn = _core("builtin_datasets")
    if fn is not None:
        out = []
        for item in fn():
            if isinstance(item, tuple | list):
                out.append((str(item[0]), str(item[-1]) if len(item) > 1 else ""))
            elif isinstance(item, dict):
                out.append((str(item.get("name")), str(item.get("description", ""))))
            else:
                out.append(
                    (str(getattr(item, "name", item)), str(getattr(item, "description", "")))
                )
        return out
    folder = datasets_dir()
    return [(p.stem, p.name) for p in sorted(folder.glob("*")) if p.suffix in (".npz", ".csv")]


def load_dataset(spec: dict[str, Any], base_dir: Path | None) -> LoadedData:
    """LoadedData for a project's dataset dict; DatasetError names the problem."""
    fn = _core("load_dataset")
    if fn is not None:
        return fn(spec, base_dir)
    return _fallback_load(spec, base_dir)


def check_against_model(data: LoadedData, model, loss: str) -> list[str]:
    fn = _core("check_against_model")
    if fn is not None:
        return list(fn(data, model, loss))
    from deepgui.core.training.engine import _basic_check

    return _basic_check(data, model, loss)


def _fallback_load(spec: dict[str, Any], base_dir: Path | None) -> LoadedData:
    from deepgui.core.data.spec import normalize, resolve
    from deepgui.core.data.split import split_indices, take

    spec = normalize(spec)
    source = spec["source"]
    if source == "builtin":
        name = str(spec.get("name", ""))
        path = datasets_dir() / f"{name}.npz"
        if not path.exists():
            csv = datasets_dir() / f"{name}.csv"
            if csv.exists():
                return _csv({**spec, "source": "csv", "path": str(csv)}, base_dir)
            raise DatasetError(f'There is no built-in data set called "{name}".')
    elif source == "npz":
        path = resolve(spec, "path", base_dir)
    elif source == "csv":
        return _csv(spec, base_dir)
    else:
        raise DatasetError(
            f'Data sources of kind "{source}" need the data package, not yet installed.'
        )
    with np.load(path, allow_pickle=False) as npz:
        if "x" not in npz or "y" not in npz:
            raise DatasetError(f"{path.name} must hold arrays named x and y.")
        x, y = npz["x"].astype("float32"), npz["y"]
    if np.issubdtype(y.dtype, np.integer):
        task, classes = "multiclass", [str(c) for c in range(int(y.max()) + 1)]
        labels = y.astype("int64")
        if x.max() > 1.5 and x.ndim == 4:
            x = x / float(x.max())
    else:
        task, classes, labels = "regression", [], None
        y = y.astype("float32")
    train, val, test = split_indices(
        len(y), spec["validation_split"], spec["test_split"], shuffle=spec["shuffle"],
        seed=spec["seed"], labels=labels, what=path.name,
    )  # fmt: skip
    return LoadedData(
        take(x, train), y[train], take(x, val) if len(val) else None, y[val] if len(val) else None,
        take(x, test) if len(test) else None, y[test] if len(test) else None,
        task=task, class_names=classes, description=path.name,
    )  # fmt: skip


def _csv(spec: dict[str, Any], base_dir: Path | None) -> LoadedData:
    try:
        from deepgui.core.data.tabular import load_csv
    except ImportError:
        raise DatasetError("CSV files need the data package, not yet installed.") from None
    return load_csv(spec, base_dir)


def csv_columns(path: Path, rows: int = 50) -> tuple[list[str], list[str], list[list[str]]]:
    """Header, inferred kind per column and the first rows of a CSV, for the preview table."""
    from deepgui.core.data.table import read_csv, type_column

    table = read_csv(Path(path), max_rows=rows)
    kinds = []
    for name in table.header:
        try:
            kinds.append(type_column(table, name).kind)
        except DatasetError:
            kinds.append("?")
    cells = [[str(c[i]) for c in table.cells] for i in range(table.n_rows)]
    return table.header, kinds, cells
