"""CSV data: a target column (or several, one per model output) and feature columns read raw,
one named input per column; the preprocessing (standardization, missing values, category
lookups, TextVectorization) is fitted on the training rows as Keras layers (preprocessing.py)
that travel inside the trained model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgui.core.data.base import MULTI_OUTPUT, LoadedData, OutputInfo
from deepgui.core.data.labels import encode_labels
from deepgui.core.data.preprocessing import (
    Group,
    Preprocessing,
    category_input,
    numeric_input,
    safe_input_name,
    text_input,
)
from deepgui.core.data.spec import target_columns
from deepgui.core.data.split import split_indices
from deepgui.core.data.table import (
    Column,
    Table,
    describe_missing,
    read_csv,
    type_column,
)
from deepgui.core.errors import DatasetError

if TYPE_CHECKING:
    from deepgui.core.data.spec import CsvOptions, DataSpec


def load_csv(spec: DataSpec, opts: CsvOptions, *, standardize: bool = True) -> LoadedData:
    """`standardize` False leaves numeric columns in their own units (the network scales them).
    Several target columns give data with one target per model output (LoadedData.outputs)."""
    path, targets = opts.path, target_columns(opts.target)
    table = read_csv(path)
    if not targets:
        raise DatasetError(
            f'{path.name}: choose the target column (the dataset field "target"); its columns are '
            + ", ".join(repr(h) for h in table.header)  # all of them: the target is often last
            + "."
        )
    for target in targets:
        table.index(target)
    for name, _ in opts.columns:
        table.index(name)
    kinds: dict[str, str | None] = {**dict(opts.columns), **dict.fromkeys(targets)}
    features = [h for h in table.header if h not in targets and kinds.get(h) != "ignore"]
    if not features:
        shown = repr(targets[0]) if len(targets) == 1 else ", ".join(map(repr, targets))
        noun = "target" if len(targets) == 1 else "targets"
        raise DatasetError(f"{path.name}: has no columns besides the {noun} {shown} to learn from.")

    missing_counts = {"cells": 0, "filled": 0, "rows_dropped": 0}
    kept: dict[int, np.ndarray] = {}  # by table: the positions of the rows left, for the split

    def typed(t: Table, forced: dict[str, str | None]) -> dict[str, Column]:
        cols = {n: type_column(t, n, forced.get(n)) for n in [*features, *targets]}
        keep = _rows_to_keep(t, cols, set(targets), spec.missing, missing_counts)
        kept[id(t)] = np.arange(t.n_rows) if keep is None else keep
        if keep is not None:
            cols = {
                n: Column(c.name, c.kind, c.values[keep], c.missing[keep], c.categories)
                for n, c in cols.items()
            }
        return cols

    train_cols = typed(table, kinds)
    forced = {n: c.kind for n, c in train_cols.items()}
    for target in targets:
        forced[target] = "numeric" if forced[target] == "numeric" else "category"
    others = {}  # separate validation and test files, typed as the training file was
    for key, other_path in (("val", opts.validation_path), ("test", opts.test_path)):
        if other_path is not None:
            other = _read_extra(other_path, table)
            others[key] = (other, typed(other, forced))

    # One target keeps the spec's task and class names; several each find their own.
    one = len(targets) == 1
    labels: dict[str, tuple[np.ndarray, str, list[str]]] = {
        t: encode_labels(
            train_cols[t].values,
            spec.task if one else None,
            spec.class_names if one else None,
            what=f"{path.name} column {t!r}",
        )  # fmt: skip
        for t in targets
    }
    classified = [t for t in targets if labels[t][1] in ("multiclass", "binary")]
    n_rows = len(labels[targets[0]][0])
    val_frac = 0.0 if "val" in others else spec.validation_split
    test_frac = 0.0 if "test" in others else spec.test_split
    train_idx, val_idx, test_idx = split_indices(
        n_rows,
        val_frac,
        test_frac,
        shuffle=spec.shuffle,
        seed=spec.seed,
        labels=labels[classified[0]][0] if classified else None,  # stratified by the first
        what=path.name,
    )
    taken: set[str] = set()
    names = {n: safe_input_name(n, taken) for n in features}
    inputs = []
    for n in features:
        col = train_cols[n]
        if col.kind == "numeric":
            values = np.where(col.missing, np.nan, col.values)[train_idx]
            inputs.append(numeric_input(names[n], n, values, standardize))
        elif col.kind == "category":
            inputs.append(
                category_input(names[n], n, col.values[train_idx], col.missing[train_idx])
            )
        else:
            inputs.append(
                text_input(
                    names[n], n, col.values[train_idx], opts.sequence_length, opts.max_tokens
                )
            )
    texts = [r.name for r in inputs if r.kind == "text"]
    tabular = [r.name for r in inputs if r.kind != "text"]
    groups = [Group(r.column, [r.name]) for r in inputs if r.kind == "text"]
    if tabular:
        groups.append(Group("features", tabular))
    preprocessing = Preprocessing(
        inputs, groups, table=True, target=targets[0] if one else list(targets)
    )

    def raw(cols: dict[str, Column], rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        out = {}
        for n in features:
            col = cols[n]
            values = col.values if rows is None else col.values[rows]
            missing = col.missing if rows is None else col.missing[rows]
            if col.kind == "numeric":
                out[names[n]] = np.where(missing, np.nan, values).astype(np.float32)
            else:
                out[names[n]] = np.where(missing, "", values).astype(object)
        return out

    def y_of(rows: np.ndarray) -> Any:
        if one:
            return labels[targets[0]][0][rows]
        return {t: labels[t][0][rows] for t in targets}

    def whole(key: str) -> tuple[Any, Any]:
        other, cols = others[key]
        found = {
            t: encode_labels(
                cols[t].values,
                labels[t][1],
                labels[t][2],
                what=f"{other.path.name} column {t!r}",
            )[0]  # fmt: skip
            for t in targets
        }
        return raw(cols), found[targets[0]] if one else found

    x_train, y_train = raw(train_cols, train_idx), y_of(train_idx)
    x_val, y_val = whole("val") if "val" in others else (raw(train_cols, val_idx), y_of(val_idx))
    x_test, y_test = (
        whole("test") if "test" in others else (raw(train_cols, test_idx), y_of(test_idx))
    )
    feature_names = [f for r in inputs for f in _feature_names(r)]
    extras: dict[str, Any] = {
        "column_kinds": {r.column: r.kind for r in inputs},
        "missing": missing_counts,
    }
    if texts:
        vocab = {r.column: ["", "[UNK]", *r.vocabulary] for r in inputs if r.kind == "text"}
        extras["vocabulary"] = vocab
        extras["vocabulary_size"] = max(len(v) for v in vocab.values())
    if one:
        _, task, class_names = labels[targets[0]]
        outputs: list[OutputInfo] = []
        description = f"{path.name}: {n_rows} rows, target {targets[0]!r}"
    else:
        task, class_names = MULTI_OUTPUT, []
        outputs = [OutputInfo(t, labels[t][1], tuple(labels[t][2])) for t in targets]
        description = f"{path.name}: {n_rows} rows, targets {', '.join(map(repr, targets))}"
    rows_of = kept[id(table)]
    split = {"of": "rows", "train": {"path": str(path), "rows": rows_of[train_idx]},
             "validation": {"path": str(path), "rows": rows_of[val_idx]},
             "test": {"path": str(path), "rows": rows_of[test_idx]}}  # fmt: skip
    for key, (other, _) in others.items():  # a separate file: every row it kept
        split["validation" if key == "val" else "test"] = {"path": str(other.path),
                                                           "rows": kept[id(other)]}  # fmt: skip
    return LoadedData(
        x_train,
        y_train,
        x_val,
        y_val,
        x_test,
        y_test,
        task=task,
        class_names=class_names,
        feature_names=feature_names,
        description=description,
        extras=extras,
        preprocessing=preprocessing,
        outputs=outputs,
        split=split,
    )


def _feature_names(r) -> list[str]:
    """The network's feature columns this input becomes (text goes to its own input)."""
    if r.kind == "category" and r.one_hot:
        return [f"{r.column}=[unseen]", *(f"{r.column}={c}" for c in r.vocabulary)]
    return [] if r.kind == "text" else [r.column]


def _read_extra(path: Path, train: Table) -> Table:
    """A separate validation or test file, which must have the training file's columns."""
    other = read_csv(path)
    present = set(other.header)
    for name in train.header:
        if name not in present:
            raise DatasetError(
                f"{path.name} has no column {name!r}, which {train.path.name} has; both need the same columns."
            )
    return other


def _rows_to_keep(
    table: Table, cols: dict[str, Column], targets: set[str], policy: str, counts: dict[str, int]
) -> np.ndarray | None:
    """Report missing cells by row and column, or the rows to keep: "drop" leaves out every row
    with a gap, "fill" only rows whose target is missing (a label cannot be made up; features are
    filled inside the model, from the training split). `counts` adds up what was done."""
    where: list[tuple[int, str]] = []
    total = 0
    bad_rows = np.zeros(table.n_rows, bool)
    for name, col in cols.items():
        if col.kind == "text" and name not in targets:
            continue  # an empty text is still a text
        if col.missing.any():
            rows = np.flatnonzero(col.missing)
            total += len(rows)
            where.extend((int(table.row_numbers[r]), name) for r in rows[:5])
            if policy == "drop" or name in targets:
                bad_rows |= col.missing
    if total == 0:
        return None
    if policy == "refuse":
        where.sort()
        raise DatasetError(describe_missing(table.path, where, total))
    if bad_rows.all():
        raise DatasetError(
            f"{table.path.name}: every row has a missing value, so none is left after dropping them."
        )
    dropped = int(bad_rows.sum())
    counts["cells"] += total
    counts["rows_dropped"] += dropped
    if policy == "fill":
        counts["filled"] += int(sum(c.missing[~bad_rows].sum() for n, c in cols.items()
                                    if n not in targets and c.kind != "text"))  # fmt: skip
    return np.flatnonzero(~bad_rows) if bad_rows.any() else None
