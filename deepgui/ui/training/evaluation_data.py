"""What the Evaluation view shows, computed in the worker thread (Qt-free): test metrics,
the confusion matrix, sample predictions, and predictions for a file the user picks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.data.base import LoadedData
from deepgui.core.errors import DatasetError

SAMPLES = 16


def _split(data: LoadedData):
    """The split to evaluate on: test if there is one, else validation, else training."""
    for name, x, y in (("test", data.x_test, data.y_test), ("validation", data.x_val, data.y_val)):
        if x is not None and y is not None and len(y):
            return name, x, y
    return "training", data.x_train, data.y_train


def labels_from(pred: np.ndarray, task: str) -> np.ndarray:
    pred = np.asarray(pred)
    if task == "multiclass":
        return pred.reshape(len(pred), -1).argmax(axis=1)
    if task == "binary":
        return (pred.reshape(len(pred), -1)[:, 0] >= 0.5).astype(int)
    return pred


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    m = np.zeros((n, n), dtype=np.int64)
    yt = np.asarray(y_true).astype(int).ravel()
    yp = np.asarray(y_pred).astype(int).ravel()
    ok = (yt >= 0) & (yt < n) & (yp >= 0) & (yp < n)
    np.add.at(m, (yt[ok], yp[ok]), 1)
    return m


def evaluate(model, data: LoadedData, batch_size: int = 32, limit: int = 5000) -> dict[str, Any]:
    """Metrics, predictions and (for classes) the confusion matrix on the held-out split."""
    split, x, y = _split(data)
    n = min(len(y), limit)
    x = {k: v[:n] for k, v in x.items()} if isinstance(x, dict) else x[:n]
    y = np.asarray(y[:n])
    metrics = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    pred = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    out: dict[str, Any] = {
        "split": split,
        "task": data.task,
        "metrics": {k: float(v) for k, v in metrics.items()},
        "class_names": list(data.class_names),
        "count": n,
    }
    take = np.arange(min(SAMPLES, n))
    if data.task in ("multiclass", "binary"):
        k = max(data.num_classes, 2 if data.task == "binary" else 1)
        labels = labels_from(pred, data.task)
        y_true = y.reshape(len(y), -1)[:, 0] if data.task == "binary" else y
        out["confusion"] = confusion_matrix(y_true, labels, k)
        out["y_true"], out["y_pred"] = np.asarray(y_true).astype(int), labels
    else:
        out["y_true"] = y.reshape(len(y), -1)[:, 0].astype(float)
        out["y_pred"] = pred.reshape(len(pred), -1)[:, 0].astype(float)
    if not isinstance(x, dict) and np.ndim(x) == 4:  # images: keep a few to show
        out["images"] = np.asarray(x[take], dtype=np.float32)
        out["image_index"] = take
    return out


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
