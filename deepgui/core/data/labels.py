"""Turning a target column or array into labels: class indices (sparse) for classification,
floats for regression, 0/1 rows for multi-label; and deciding which task it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from deepgui.core.errors import DatasetError

MAX_NUMERIC_CLASSES = 20  # an integer target with more distinct values than this is a regression


def encode_labels(
    values: Any,
    task: str | None = None,
    class_names: Sequence[str] | None = None,
    *,
    what: str = "the target",
) -> tuple[np.ndarray, str, list[str]]:
    """(labels, task, class_names). Given `task` and `class_names` (from the training split) the
    same encoding is applied again, so validation and test labels line up with training ones."""
    y = np.asarray(values)
    if y.ndim == 0 or len(y) == 0:
        raise DatasetError(f"{what} has no labels.")
    if class_names is not None and not (
        isinstance(class_names, list | tuple) and all(isinstance(c, str) for c in class_names)
    ):
        raise DatasetError('The dataset field "class_names" must be a list of strings.')
    class_names = list(class_names) if class_names is not None else None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim > 1:
        return _encode_matrix(y, task, class_names, what)
    text = y.dtype.kind in "USO"
    if not text and not np.isfinite(y.astype(np.float64)).all():
        raise DatasetError(
            f"{what} holds NaN or infinite labels; remove those samples or fill them in."
        )
    if task == "regression":
        if text:
            raise DatasetError(
                f"{what} holds text, so it cannot be a regression target; choose a numeric column or a classification task."
            )
        return y.astype(np.float32), "regression", []
    uniq = inverse = None
    if task is None and not text and class_names is None:
        integral = np.all(np.mod(y, 1) == 0)
        if integral:
            uniq, inverse = np.unique(y, return_inverse=True)
        if not integral or len(uniq) > MAX_NUMERIC_CLASSES:
            return y.astype(np.float32), "regression", []
    if task == "multilabel":
        raise DatasetError(
            f"{what} has one label per sample; a multi-label task needs a 0/1 column per class."
        )
    if class_names is not None and not text and not all(_is_number(c) for c in class_names):
        # Integer labels with named classes (["cat", "dog"]): the label is the index.
        if np.all(np.mod(y, 1) == 0) and y.min() >= 0 and y.max() < len(class_names):
            return (
                y.astype(np.int32),
                task or ("binary" if len(class_names) == 2 else "multiclass"),
                list(class_names),
            )
        raise DatasetError(
            f"{what} holds labels outside 0..{len(class_names) - 1} for the {len(class_names)} named classes."
        )
    if uniq is None:
        uniq, inverse = np.unique(y, return_inverse=True)
    names = [_name(u) for u in uniq]
    if class_names is None:
        class_names = names
        mapping = np.arange(len(uniq))
    else:
        lookup = {c: i for i, c in enumerate(class_names)}
        unknown = [n for n in names if n not in lookup]
        if unknown:
            raise DatasetError(
                f"{what} has the label {unknown[0]!r}, which is not among the classes "
                f"({', '.join(class_names[:10])}); the training data must contain every class."
            )
        mapping = np.array([lookup[n] for n in names], dtype=np.int64)
    if len(class_names) < 2:
        raise DatasetError(
            f"{what} has only one class ({class_names[0]!r}); a classifier needs at least two."
        )
    if task == "binary" and len(class_names) != 2:
        raise DatasetError(
            f"{what} has {len(class_names)} classes, so it is not a binary task; use multiclass."
        )
    task = task or ("binary" if len(class_names) == 2 else "multiclass")
    return mapping[inverse.reshape(-1)].astype(np.int32), task, list(class_names)


def _encode_matrix(y: np.ndarray, task: str | None, class_names: list[str] | None, what: str):
    if y.ndim != 2:
        raise DatasetError(
            f"{what} has labels of shape {y.shape[1:]} per sample; give one label, or one column per class."
        )
    if y.dtype.kind in "USO":
        raise DatasetError(f"{what} holds text in a label matrix; give numbers.")
    y = y.astype(np.float32)
    binary = np.isin(y, (0.0, 1.0)).all()
    one_hot = binary and np.all(y.sum(axis=1) == 1)
    names = class_names or [str(i) for i in range(y.shape[1])]
    if task == "regression" or (task is None and not binary):
        return y, "regression", []
    if not binary:
        raise DatasetError(
            f"{what} is a matrix of non-0/1 values, which cannot be class labels; use regression."
        )
    if len(names) != y.shape[1]:
        raise DatasetError(f"{what} has {y.shape[1]} label columns but {len(names)} class names.")
    if task == "multilabel" or (task is None and not one_hot):
        return y, "multilabel", names
    # One-hot rows become class indices: every multiclass label in deepgui is sparse.
    labels = y.argmax(axis=1).astype(np.int32)
    return labels, task or ("binary" if y.shape[1] == 2 else "multiclass"), names


def _name(value: Any) -> str:
    if isinstance(value, str | np.str_):
        return str(value)
    f = float(value)
    return str(int(f)) if f.is_integer() else repr(f)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
