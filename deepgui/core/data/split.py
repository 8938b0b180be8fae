"""Train/validation/test splits that a seed reproduces. The rule is the exported script's own
(deepgui/script_runtime.py), so a script splits its data exactly as deepgui does."""

from __future__ import annotations

import numpy as np

from deepgui import script_runtime
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
    try:
        return script_runtime.split_indices(
            n, validation, test, shuffle=shuffle, seed=seed, labels=labels, what=what
        )
    except script_runtime.Problem as exc:
        raise DatasetError(str(exc)) from None


def take(x, idx: np.ndarray):
    """Rows `idx` of an array, or of every array in a dict of inputs."""
    if isinstance(x, dict):
        return {k: v[idx] for k, v in x.items()}
    return x[idx]
