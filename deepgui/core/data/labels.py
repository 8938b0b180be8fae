"""Turning a target column or array into labels: class indices (sparse) for classification,
floats for regression, 0/1 rows for multi-label; and deciding which task it is. The rule is the
exported script's own (deepgui/script_runtime.py), so a script labels its data as deepgui does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from deepgui import script_runtime
from deepgui.core.errors import DatasetError

# An integer target with more distinct values than this is a regression.
MAX_NUMERIC_CLASSES = script_runtime.MAX_NUMERIC_CLASSES


def encode_labels(
    values: Any,
    task: str | None = None,
    class_names: Sequence[str] | None = None,
    *,
    what: str = "the target",
) -> tuple[np.ndarray, str, list[str]]:
    """(labels, task, class_names). Given `task` and `class_names` (from the training split) the
    same encoding is applied again, so validation and test labels line up with training ones."""
    try:
        return script_runtime.encode_labels(values, task, class_names, what=what)
    except script_runtime.Problem as exc:
        raise DatasetError(str(exc)) from None
