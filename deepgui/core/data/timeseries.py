"""A time-series CSV cut into windows: each sample is `window` consecutive rows of the feature
columns, its label the target column `horizon` rows after the window ends. The split is in time
order (train first, then validation, then test) so no window sees its own future. Windows stay
in the data's own units; the model standardizes them with the training part's statistics (a
Rescaling layer inside it, see preprocessing.py); the target is left in its own units.

Options (spec.TimeseriesOptions): "path", "target", "window" (rows per sample, default 24),
"horizon" (default 1), "stride" (default 1), "features" (default every numeric column, the
target included); the spec's "missing": "refuse", "drop" removes the rows, "fill" carries the
last value forward."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from deepgui.core.data.base import LoadedData
from deepgui.core.data.preprocessing import array_preprocessing
from deepgui.core.data.table import describe_missing, read_csv, type_column
from deepgui.core.errors import DatasetError

if TYPE_CHECKING:
    from deepgui.core.data.spec import DataSpec, TimeseriesOptions


def load_timeseries(
    spec: DataSpec, opts: TimeseriesOptions, *, standardize: bool = True
) -> LoadedData:
    path, target = opts.path, opts.target
    window, horizon = opts.window, opts.horizon
    table = read_csv(path)
    if target is None:
        raise DatasetError(
            f'{path.name}: choose the column to forecast (the dataset field "target").'
        )
    table.index(target)
    if opts.features is not None:
        cols = [type_column(table, n, "numeric") for n in opts.features]
    else:  # a date or label column that is not numeric is left out
        cols = [c for c in (_try_numeric(table, h) for h in table.header) if c is not None]
    target_col = type_column(table, target, "numeric")
    names = [c.name for c in cols]
    values = np.stack([c.values for c in cols], axis=1)
    missing = np.stack([c.missing for c in cols], axis=1) | target_col.missing[:, None]
    tvals = target_col.values
    if missing.any():
        rows, which = np.nonzero(np.stack([c.missing for c in cols] + [target_col.missing], axis=1))
        all_names = [*names, target]
        if spec.missing == "refuse":
            where = [
                (int(table.row_numbers[r]), all_names[c])
                for r, c in zip(rows[:5], which[:5], strict=True)
            ]
            raise DatasetError(describe_missing(path, where, len(rows)))
        if spec.missing == "drop":
            keep = ~missing.any(axis=1)
            values, tvals = values[keep], tvals[keep]
        else:
            values, tvals = _forward_fill(values), _forward_fill(tvals[:, None])[:, 0]
    n = len(values)
    n_test = int(round(n * spec.test_split))
    n_val = int(round(n * spec.validation_split))
    bounds = [0, n - n_val - n_test, n - n_test, n]
    if bounds[1] < window + horizon:
        raise DatasetError(
            f"{path.name}: the training part has {bounds[1]} rows, too few for one window of "
            f"{window} rows plus a horizon of {horizon}; use a shorter window or more data."
        )
    mean = values[: bounds[1]].mean(axis=0)
    std = values[: bounds[1]].std(axis=0)
    std[std < 1e-12] = 1.0
    scaled = values.astype(np.float32)  # raw: the model standardizes
    parts = []
    for i, label in enumerate(("training", "validation", "test")):
        lo, hi = bounds[i], bounds[i + 1]
        x, y = windows(scaled[lo:hi], tvals[lo:hi], window, horizon, opts.stride)
        if len(x) == 0 and (i == 0 or hi > lo):
            raise DatasetError(
                f"{path.name}: the {label} part has {hi - lo} rows, too few for one window of {window} "
                f"rows plus a horizon of {horizon}; use a shorter window or more data."
            )
        parts.append((x, y))
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = parts
    if spec.shuffle:  # training windows only: the order inside each window stays
        order = np.random.default_rng(spec.seed).permutation(len(x_tr))
        x_tr, y_tr = x_tr[order], y_tr[order]
    return LoadedData(
        x_tr,
        y_tr,
        x_va,
        y_va,
        x_te,
        y_te,
        task="regression",
        feature_names=names,
        description=f"{path.name}: {n} rows in windows of {window}, forecasting {target!r} {horizon} ahead",
        preprocessing=array_preprocessing(
            (window, len(names)),
            "window",
            scale=[float(1 / v) for v in std] if standardize else None,
            offset=[float(-m / v) for m, v in zip(mean, std, strict=True)] if standardize else None,
        ),
    )


def windows(
    values: np.ndarray, target: np.ndarray, window: int, horizon: int, stride: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """(samples, window, features) and the target `horizon` rows after each window."""
    count = len(values) - window - horizon + 1
    if count <= 0:
        return np.zeros((0, window, values.shape[1]), np.float32), np.zeros(0, np.float32)
    starts = np.arange(0, count, stride)
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)  # (n, features, window)
    x = np.ascontiguousarray(view[starts].transpose(0, 2, 1))
    y = target[starts + window + horizon - 1].astype(np.float32)
    return x, y


def _try_numeric(table, name: str):
    col = type_column(table, name)  # a mostly numeric column with text in it is an error
    return col if col.kind == "numeric" else None


def _forward_fill(values: np.ndarray) -> np.ndarray:
    """Each gap takes the last value before it (the first value after it at the very start)."""
    out = values.copy()
    for j in range(out.shape[1]):
        col = out[:, j]
        ok = np.isfinite(col)
        if not ok.any():
            raise DatasetError(
                'A time-series column has no values at all; leave it out of "features".'
            )
        idx = np.where(ok, np.arange(len(col)), 0)
        np.maximum.accumulate(idx, out=idx)
        filled = col[idx]
        first = np.flatnonzero(ok)[0]
        filled[:first] = col[first]
        out[:, j] = filled
    return out
