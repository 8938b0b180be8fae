"""A time-series CSV cut into windows: each sample is `window` consecutive rows of the feature
columns, its label the target column `horizon` rows after the window ends. The split is in time
order (train first, then validation, then test) so no window sees its own future. Windows stay
in the data's own units; the model standardizes them with the training part's statistics (a
Rescaling layer inside it, see preprocessing.py); the target is left in its own units.

Options (spec.TimeseriesOptions): "path", "target", "window" (rows per sample, default 24),
"horizon" (default 1), "stride" (default 1), "features" (default every numeric column, the
target included); the spec's "missing": "refuse", "drop" removes the rows, "fill" carries the
last value forward. The run records these (Preprocessing.series) so that `forecast_windows` cuts
a raw CSV for `deepgui predict` the same way, one window per step."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    values, tvals, _kept = _without_gaps(path, table, cols, target_col, spec.missing)
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
    parts, starts = [], []
    for i, label in enumerate(("training", "validation", "test")):
        lo, hi = bounds[i], bounds[i + 1]
        x, y = windows(scaled[lo:hi], tvals[lo:hi], window, horizon, opts.stride)
        if len(x) == 0 and (i == 0 or hi > lo):
            raise DatasetError(
                f"{path.name}: the {label} part has {hi - lo} rows, too few for one window of {window} "
                f"rows plus a horizon of {horizon}; use a shorter window or more data."
            )
        parts.append((x, y))
        # Where each window starts among the rows kept: `forecast_windows`' own numbering.
        starts.append(lo + np.arange(0, len(x) * opts.stride, opts.stride)[: len(x)])
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = parts
    if spec.shuffle:  # training windows only: the order inside each window stays
        order = np.random.default_rng(spec.seed).permutation(len(x_tr))
        x_tr, y_tr = x_tr[order], y_tr[order]
        starts[0] = starts[0][order]
    preprocessing = array_preprocessing(
        (window, len(names)),
        "window",
        scale=[float(1 / v) for v in std] if standardize else None,
        offset=[float(-m / v) for m, v in zip(mean, std, strict=True)] if standardize else None,
    )
    # What `deepgui predict` needs to window a CSV as these windows were cut (every step).
    preprocessing.series = {"columns": names, "target": target, "window": window,
                            "horizon": horizon, "missing": spec.missing}  # fmt: skip
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
        preprocessing=preprocessing,
        split={
            "of": "windows",
            **{
                part: {"path": str(path), "rows": rows}
                for part, rows in zip(("train", "validation", "test"), starts, strict=True)
            },
        },
    )


def _without_gaps(
    path, table, cols: list, target_col, policy: str, refusal=describe_missing
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The feature values and the target (NaN throughout without a target column) with their
    gaps dealt with as `policy` says ("refuse", "drop" the rows, "fill" forward), and the
    table index of each row kept. `refusal(path, [(row, column)...], total)` words a refusal."""
    values = np.stack([c.values for c in cols], axis=1)
    checked = [*cols, target_col] if target_col is not None else list(cols)
    tvals = target_col.values if target_col is not None else np.full(len(values), np.nan)
    kept = np.arange(len(values))
    gaps = np.stack([c.missing for c in checked], axis=1)
    if not gaps.any():
        return values, tvals, kept
    if policy == "refuse":
        rows, which = np.nonzero(gaps)
        where = [(int(table.row_numbers[r]), checked[c].name)
                 for r, c in zip(rows[:5], which[:5], strict=True)]  # fmt: skip
        raise DatasetError(refusal(path, where, len(rows)))
    if policy == "drop":
        keep = ~gaps.any(axis=1)
        return values[keep], tvals[keep], kept[keep]
    if target_col is not None:
        tvals = _forward_fill(tvals[:, None])[:, 0]
    return _forward_fill(values), tvals, kept


@dataclass
class ForecastWindows:
    """A CSV cut into every window a trained series model reads, for `deepgui predict`."""

    x: np.ndarray  # (windows, window, features), raw: the model standardizes
    rows: list[int]  # the spreadsheet row each window forecasts; past the end, counted on
    reads: list[str]  # the rows each window reads, "first-last"
    truth: list[str] | None  # the target in the row forecast ("" unknown); None: no such column
    time: tuple[str, list[str]] | None  # the file's time column (its first one the model
    # does not read) in the row forecast, "" past the end
    beyond: int  # windows whose row lies past the end of the file


def forecast_windows(path, series: dict[str, Any]) -> ForecastWindows:
    """Every window of `path` (a CSV) as a run trained on `series` (Preprocessing.series) cut
    them, with the same columns, gaps dealt with the same way, one step apart: the last ones
    forecast rows past the end of the file. DatasetError, one sentence, for a file that lacks
    a column or has too few rows."""
    path = Path(path)
    columns, target = list(series["columns"]), series.get("target")
    window, horizon = int(series["window"]), int(series.get("horizon", 1))
    table = read_csv(path)
    absent = [c for c in columns if c not in table.header]
    if absent:
        raise DatasetError(
            f"{path.name}: lacks the column{'s' * (len(absent) > 1)} "
            f"{', '.join(map(repr, absent))}, which the model reads in each window of "
            f"{window} rows; it reads {', '.join(map(repr, columns))}."
        )
    cols = [type_column(table, n, "numeric") for n in columns]
    target_col = None
    if target in table.header:
        target_col = type_column(table, target, "numeric")
    values, _target, kept = _without_gaps(
        path, table, cols, target_col, series.get("missing", "fill"), _refused
    )
    n = len(values)
    if n < window:
        left = " once the rows with gaps are left out" if n < table.n_rows else ""
        raise DatasetError(
            f"{path.name}: has {n} rows{left}, too few for one window of {window} rows, "
            "which the model reads for each forecast."
        )
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)
    x = np.ascontiguousarray(view.transpose(0, 2, 1), dtype=np.float32)
    starts = np.arange(len(x))
    ahead = starts + window + horizon - 1  # the position each window forecasts
    inside = ahead < n
    numbers = table.row_numbers[kept]
    last = int(numbers[-1])
    rows = [int(numbers[a]) if ok else last + int(a) - n + 1
            for a, ok in zip(ahead, inside, strict=True)]  # fmt: skip
    reads = [f"{int(numbers[s])}-{int(numbers[s + window - 1])}" for s in starts]

    def cells(name: str) -> list[str]:
        column = table.column(name)
        return [str(column[kept[a]]) if ok else "" for a, ok in zip(ahead, inside, strict=True)]

    truth = None
    if target_col is not None:  # the file's own value, never one filled in
        raw = np.where(target_col.missing, np.nan, target_col.values)[kept]
        truth = [f"{raw[a]:.6g}" if ok and np.isfinite(raw[a]) else ""
                 for a, ok in zip(ahead, inside, strict=True)]  # fmt: skip
    spare = [h for h in table.header if h not in columns and h != target]
    time = (spare[0], cells(spare[0])) if spare else None
    return ForecastWindows(x, rows, reads, truth, time, int((~inside).sum()))


def _refused(path, cells: list[tuple[int, str]], total: int) -> str:
    shown = ", ".join(f"row {r} column {c!r}" for r, c in cells[:5])
    more = f" and {total - 5} more" if total > 5 else ""
    noun = "value is" if total == 1 else "values are"
    return (
        f"{path.name}: {total} {noun} missing ({shown}{more}), and the model was trained with "
        "missing values refused; fill them in or leave those rows out."
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
