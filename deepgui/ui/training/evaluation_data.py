"""Predictions for a file the user picks in the Evaluation view (Qt-free, run in the
background). The evaluation itself is the core's (deepgui.core.training.evaluation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.errors import DatasetError
from deepgui.core.training.evaluation import SAMPLES, confusion_matrix, evaluate, labels_from

__all__ = ["confusion_matrix", "evaluate", "labels_from", "load_inputs", "predict_file"]


def load_inputs(path: Path, input_shape: tuple) -> np.ndarray:
    """Samples from a file the user picked: .npz (array x, or its only array), .npy, or a CSV
    of numbers with a header row. Shaped to the model's input (without the batch axis)."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                keys = list(npz.keys())
                key = "x" if "x" in keys else keys[0] if len(keys) == 1 else None
                if key is None:
                    raise DatasetError(f"{path.name} holds several arrays; name the inputs x.")
                x = npz[key]
        elif suffix == ".npy":
            x = np.load(path, allow_pickle=False)
        elif suffix in (".csv", ".tsv", ".txt"):
            delim = "\t" if suffix == ".tsv" else ","
            x = np.loadtxt(path, delimiter=delim, skiprows=1, ndmin=2, dtype=np.float32)
        else:
            raise DatasetError(f"{path.name}: pick a .npz, .npy or .csv file of inputs.")
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path.name} cannot be read as model inputs ({exc}).") from None
    x = np.asarray(x, dtype=np.float32)
    want = tuple(int(d) for d in input_shape if d is not None)
    if tuple(x.shape[1:]) == want:
        return x
    if tuple(x.shape) == want:  # one sample
        return x[None]
    if want and x.ndim >= 2 and int(np.prod(x.shape[1:])) == int(np.prod(want)):
        return x.reshape((len(x), *want))
    if x.ndim == 2 and len(want) >= 1 and x.shape[1] == int(np.prod(want)) + 1:
        raise DatasetError(f"{path.name} has one column too many: remove the target column.")
    raise DatasetError(f"{path.name} holds samples of shape {tuple(x.shape[1:])} but the model "
                       f"expects {want}.")  # fmt: skip


def predict_file(model, path: Path, class_names: list[str], limit: int = 1000) -> dict[str, Any]:
    """Predictions for the samples in `path` (at most `limit`)."""
    shape = tuple(model.inputs[0].shape[1:])
    x = load_inputs(path, shape)[:limit]
    pred = np.asarray(model.predict(x, verbose=0))
    flat = pred.reshape(len(pred), -1)
    rows = []
    for p in flat:
        if len(p) > 1 and class_names:
            i = int(p.argmax())
            name = class_names[i] if i < len(class_names) else str(i)
            rows.append((name, float(p[i])))
        elif len(p) == 1 and class_names and len(class_names) == 2:
            i = int(p[0] >= 0.5)
            rows.append((class_names[i], float(p[0] if i else 1 - p[0])))
        else:
            rows.append((", ".join(f"{v:.4g}" for v in p[:6]), None))
    images = x[:SAMPLES] if x.ndim == 4 else None
    return {"path": str(path), "rows": rows, "images": images}
