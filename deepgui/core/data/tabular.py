"""CSV data: a target column, numeric columns standardized with the training split's statistics,
string columns one-hot or integer-encoded, free text through Keras's TextVectorization."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.data.base import LoadedData
from deepgui.core.data.labels import encode_labels
from deepgui.core.data.spec import positive_int, resolve
from deepgui.core.data.split import split_indices
from deepgui.core.data.table import (
    MAX_ONE_HOT,
    Column,
    Table,
    describe_missing,
    read_csv,
    type_column,
)
from deepgui.core.errors import DatasetError


@dataclass
class ColumnPlan:
    """How one feature column becomes numbers, fitted on the training rows only."""

    name: str
    kind: str
    mean: float = 0.0
    std: float = 1.0
    categories: list[str] = field(default_factory=list)
    fill: Any = None
    vectorizer: Any = None

    @property
    def one_hot(self) -> bool:
        return self.kind == "category" and len(self.categories) <= MAX_ONE_HOT

    def feature_names(self) -> list[str]:
        if self.kind == "numeric" or (self.kind == "category" and not self.one_hot):
            return [self.name]
        if self.one_hot:
            return [f"{self.name}={c}" for c in self.categories]
        return []

    def transform(self, col: Column) -> np.ndarray:
        if self.kind == "numeric":
            values = (
                np.where(col.missing, self.fill, col.values)
                if self.fill is not None
                else col.values
            )
            return ((values - self.mean) / self.std).astype(np.float32)[:, None]
        strings = (
            np.where(col.missing, self.fill, col.values) if self.fill is not None else col.values
        )
        codes = _codes(self.categories, strings)
        if not self.one_hot:  # unseen categories become -1
            return codes.astype(np.float32)[:, None]
        out = np.zeros((len(codes), len(self.categories)), np.float32)
        seen = codes >= 0
        out[np.flatnonzero(seen), codes[seen]] = 1.0
        return out


def _codes(categories: list[str], strings: np.ndarray) -> np.ndarray:
    """Index of each string in `categories` (sorted, as np.unique gives them); -1 if unseen."""
    if not categories:
        return np.full(len(strings), -1, np.int64)
    cats = np.array(categories)
    strings = np.asarray(strings, dtype=str)
    pos = np.clip(np.searchsorted(cats, strings), 0, len(cats) - 1)
    return np.where(cats[pos] == strings, pos, -1).astype(np.int64)


def fit_plan(col: Column, rows: np.ndarray, missing_policy: str) -> ColumnPlan:
    plan = ColumnPlan(col.name, col.kind)
    present = rows[~col.missing[rows]]
    if col.kind == "numeric":
        values = col.values[present]
        if len(values):
            plan.mean = float(values.mean())
            std = float(values.std())
            plan.std = std if std > 1e-12 else 1.0  # a constant column stays 0, not NaN
        if missing_policy == "fill":
            plan.fill = plan.mean
    elif col.kind == "category":
        uniq, counts = np.unique(col.values[present], return_counts=True)
        plan.categories = [str(u) for u in uniq]
        if missing_policy == "fill":
            plan.fill = str(uniq[np.argmax(counts)]) if len(uniq) else ""
    else:
        plan.fill = "" if missing_policy == "fill" else None
    return plan


def load_csv(spec: dict[str, Any], base_dir: Path | None) -> LoadedData:
    path = resolve(spec, "path", base_dir)
    target = spec.get("target")
    table = read_csv(path)
    if not isinstance(target, str) or not target:
        raise DatasetError(
            f'{path.name}: choose the target column (the dataset field "target"); its columns are '
            + ", ".join(repr(h) for h in table.header[:12])
            + "."
        )
    table.index(target)
    kinds = spec.get("columns") or {}
    if not isinstance(kinds, dict):
        raise DatasetError(
            'The dataset field "columns" must map column names to "numeric", "category", "text" or "ignore".'
        )
    for name in kinds:
        table.index(name)
    kinds = {**kinds, target: None}
    features = [h for h in table.header if h != target and kinds.get(h) != "ignore"]
    if not features:
        raise DatasetError(
            f"{path.name}: has no columns besides the target {target!r} to learn from."
        )

    def typed(t: Table, forced: dict[str, str | None]) -> dict[str, Column]:
        cols = {n: type_column(t, n, forced.get(n)) for n in [*features, target]}
        keep = _rows_to_keep(t, cols, target, spec["missing"])
        if keep is not None:
            cols = {
                n: Column(c.name, c.kind, c.values[keep], c.missing[keep], c.categories)
                for n, c in cols.items()
            }
        return cols

    train_cols = typed(table, kinds)
    forced = {n: c.kind for n, c in train_cols.items()}
    forced[target] = "numeric" if forced[target] == "numeric" else "category"
    others = {}
    for key in ("validation_path", "test_path"):
        other = _read_extra(spec, key, base_dir, table)
        if other is not None:
            others[key] = (other, typed(other, forced))

    what = f"{path.name} column {target!r}"
    y_all, task, class_names = encode_labels(
        train_cols[target].values, spec.get("task"), spec.get("class_names"), what=what
    )
    n_rows = len(y_all)
    val_frac = 0.0 if "validation_path" in others else spec["validation_split"]
    test_frac = 0.0 if "test_path" in others else spec["test_split"]
    train_idx, val_idx, test_idx = split_indices(
        n_rows,
        val_frac,
        test_frac,
        shuffle=spec["shuffle"],
        seed=spec["seed"],
        labels=y_all if task in ("multiclass", "binary") else None,
        what=path.name,
    )
    plans = {n: fit_plan(train_cols[n], train_idx, spec["missing"]) for n in features}
    text_length = positive_int(spec, "sequence_length", 64)
    for plan in plans.values():
        if plan.kind == "text":
            plan.vectorizer = _adapt_text(
                train_cols[plan.name].values[train_idx], spec, text_length
            )

    def rows_of(cols: dict[str, Column], rows: np.ndarray) -> tuple[Any, np.ndarray]:
        sub = {
            n: Column(n, cols[n].kind, cols[n].values[rows], cols[n].missing[rows])
            for n in features
        }
        return _assemble(plans, sub), y_all[rows]

    def whole(key: str) -> tuple[Any, np.ndarray]:
        other, cols = others[key]
        labels = encode_labels(
            cols[target].values, task, class_names, what=f"{other.path.name} column {target!r}"
        )[0]
        return _assemble(plans, {n: cols[n] for n in features}), labels

    x_train, y_train = rows_of(train_cols, train_idx)
    x_val, y_val = (
        whole("validation_path") if "validation_path" in others else rows_of(train_cols, val_idx)
    )
    x_test, y_test = whole("test_path") if "test_path" in others else rows_of(train_cols, test_idx)
    names = [f for p in plans.values() for f in p.feature_names()]
    extras: dict[str, Any] = {
        "standardization": {p.name: (p.mean, p.std) for p in plans.values() if p.kind == "numeric"},
        "categories": {p.name: p.categories for p in plans.values() if p.kind == "category"},
        "column_kinds": {p.name: p.kind for p in plans.values()},
    }
    texts = {p.name: p.vectorizer for p in plans.values() if p.kind == "text"}
    if texts:
        extras["text_vectorizers"] = texts
        extras["vocabulary"] = {n: v.get_vocabulary() for n, v in texts.items()}
        extras["vocabulary_size"] = max(len(v) for v in extras["vocabulary"].values())
    return LoadedData(
        x_train,
        y_train,
        x_val,
        y_val,
        x_test,
        y_test,
        task=task,
        class_names=class_names,
        feature_names=names,
        description=f"{path.name}: {n_rows} rows, target {target!r}",
        extras=extras,
    )


def _read_extra(
    spec: dict[str, Any], key: str, base_dir: Path | None, train: Table
) -> Table | None:
    path = resolve(spec, key, base_dir, required=False)
    if path is None:
        return None
    other = read_csv(path)
    for name in train.header:
        if name not in other.header:
            raise DatasetError(
                f"{path.name} has no column {name!r}, which {train.path.name} has; both need the same columns."
            )
    return other


def _rows_to_keep(
    table: Table, cols: dict[str, Column], target: str, policy: str
) -> np.ndarray | None:
    """Report missing cells by row and column, or the rows to keep: "drop" leaves out every row
    with a gap, "fill" only rows whose target is missing (a label cannot be made up; features are
    filled later from the training split)."""
    where: list[tuple[int, str]] = []
    total = 0
    bad_rows = np.zeros(table.n_rows, bool)
    for name, col in cols.items():
        if col.kind == "text" and name != target:
            continue  # an empty text is still a text
        if col.missing.any():
            rows = np.flatnonzero(col.missing)
            total += len(rows)
            where.extend((int(table.row_numbers[r]), name) for r in rows[:5])
            if policy == "drop" or name == target:
                bad_rows |= col.missing
    if total == 0:
        return None
    if policy == "error":
        where.sort()
        raise DatasetError(describe_missing(table.path, where, total))
    if bad_rows.all():
        raise DatasetError(
            f"{table.path.name}: every row has a missing value, so none is left after dropping them."
        )
    return np.flatnonzero(~bad_rows) if bad_rows.any() else None


def _assemble(plans: dict[str, ColumnPlan], cols: dict[str, Column]) -> Any:
    """One float matrix of the tabular features; text columns as integer sequences. With both,
    a dict keyed by input name: each text column by its own name, the rest as "features"."""
    tabular = [plans[n].transform(c) for n, c in cols.items() if plans[n].kind != "text"]
    texts = {
        n: _vectorize(plans[n].vectorizer, c.values)
        for n, c in cols.items()
        if plans[n].kind == "text"
    }
    if not texts:
        return np.concatenate(tabular, axis=1)
    if not tabular and len(texts) == 1:
        return next(iter(texts.values()))
    out = dict(texts)
    if tabular:
        out["features"] = np.concatenate(tabular, axis=1)
    return out


def _adapt_text(texts: np.ndarray, spec: dict[str, Any], length: int):
    from deepgui.core.keras_layers import keras

    k = keras()
    max_tokens = positive_int(spec, "max_tokens", 20000, minimum=3)
    layer = k.layers.TextVectorization(
        max_tokens=max_tokens, output_mode="int", output_sequence_length=length
    )
    layer.adapt(np.asarray(texts, dtype=object).astype(str), batch_size=4096)
    return layer


def _vectorize(layer, texts: np.ndarray) -> np.ndarray:
    return np.asarray(layer(np.asarray(texts, dtype=object).astype(str))).astype(np.int32)
