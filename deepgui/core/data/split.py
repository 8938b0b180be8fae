"""Train/validation/test splits that a seed reproduces."""

from __future__ import annotations

import numpy as np

from deepgui.core.errors import DatasetError


def split_indices(
    n: int,
    validation: float,
    test: float,
    *,
    shuffle: bool = True,
    seed: int = 0,
    labels: np.ndarray | None = None,
    what: str = "the data",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the train, validation and test rows. With `labels` and `shuffle` the split is
    stratified (each class in the same proportions everywhere); without `shuffle` the order is
    kept and the last rows become validation, then test, which suits time-ordered data."""
    if n == 0:
        raise DatasetError(f"{what} has no samples.")
    if not shuffle:
        n_test = int(round(n * test))
        n_val = int(round(n * validation))
        n_train = n - n_val - n_test
        idx = np.arange(n)
        train, val, tst = idx[:n_train], idx[n_train : n_train + n_val], idx[n_train + n_val :]
    elif labels is not None and labels.ndim == 1:
        # Stratified with exact totals: each class's shuffled members are spread evenly over
        # (0, 1), then all samples are ordered by that position, so any prefix holds every
        # class in its share.
        rng = np.random.default_rng(seed)
        position = np.empty(n)
        for cls in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == cls))
            position[members] = (np.arange(len(members)) + rng.random()) / len(members)
        idx = np.argsort(position)
        n_test = int(round(n * test))
        n_val = int(round(n * validation))
        tst, val = idx[:n_test], idx[n_test : n_test + n_val]
        # Mix the classes back together so a batch never holds one class only.
        train = rng.permutation(idx[n_test + n_val :])
    else:
        idx = np.random.default_rng(seed).permutation(n)
        n_test = int(round(n * test))
        n_val = int(round(n * validation))
        tst, val, train = idx[:n_test], idx[n_test : n_test + n_val], idx[n_test + n_val :]
    if len(train) == 0:
        raise DatasetError(
            f"{what} has only {n} samples: too few to keep any for training after the split."
        )
    if validation > 0 and len(val) == 0:
        raise DatasetError(
            f"{what} has only {n} samples: too few for a validation split of {validation:g}."
        )
    return train, val, tst


def take(x, idx: np.ndarray):
    """Rows `idx` of an array, or of every array in a dict of inputs."""
    if isinstance(x, dict):
        return {k: v[idx] for k, v in x.items()}
    return x[idx]
