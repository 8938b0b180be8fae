"""How a trained model does on data it has not seen: test metrics, the confusion matrix and a
few sample predictions (what the app's Evaluation view shows; computed off the GUI thread)."""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgui.core.data.base import LoadedData

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
