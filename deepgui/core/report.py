"""The numbers a data scientist reads of a model's predictions, in NumPy alone (deepgui does
not ship scikit-learn; the tests check every figure against it):

- per class: precision, recall, F1 and support, with their macro and weighted averages and the
  accuracy, all from the confusion matrix (so a stored matrix gives them back);
- for two classes: the ROC and precision-recall curves of the positive class's scores, the
  area under the ROC curve (trapezoids) and the average precision (scikit-learn's step sum,
  not the trapezoids, which overstate it), and the matrix at any decision threshold;
- for values: mean absolute error, root mean squared error, R² and the residuals.

A class without predictions has precision 0, one without samples recall 0 (scikit-learn's
``zero_division=0``); an AUC that two classes are needed for is None when one is missing."""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgui.core.errors import DeepGuiError

# A new binary run's threshold on the positive class's probability (Keras's own accuracy's).
DEFAULT_THRESHOLD = 0.5


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    m = np.zeros((n, n), dtype=np.int64)
    yt = np.asarray(y_true).astype(int).ravel()
    yp = np.asarray(y_pred).astype(int).ravel()
    ok = (yt >= 0) & (yt < n) & (yp >= 0) & (yp < n)
    np.add.at(m, (yt[ok], yp[ok]), 1)
    return m


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    top, bottom = np.asarray(top, float), np.asarray(bottom, float)
    return np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)


def per_class(matrix: np.ndarray, class_names: list[str] | None = None) -> dict[str, Any]:
    """{"classes": [{"class", "precision", "recall", "f1", "support"}, ...] in class order,
    "macro" and "weighted" (the same keys, "class" the average's name, support the total),
    "accuracy"}: plain floats and ints, as metrics.json keeps them."""
    m = np.asarray(matrix, dtype=float)
    n = len(m)
    names = list(class_names or [])
    tp = np.diag(m)
    support = m.sum(axis=1)
    precision = _ratio(tp, m.sum(axis=0))
    recall = _ratio(tp, support)
    f1 = _ratio(2 * tp, m.sum(axis=0) + support)  # 2PR/(P+R), without a 0/0
    rows = [
        {"class": names[i] if i < len(names) else str(i), "precision": float(precision[i]),
         "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
        for i in range(n)
    ]  # fmt: skip
    total = float(support.sum())
    weights = support / total if total else np.zeros(n)

    def average(name: str, w: np.ndarray) -> dict[str, Any]:
        return {"class": name, "precision": float(precision @ w), "recall": float(recall @ w),
                "f1": float(f1 @ w), "support": int(total)}  # fmt: skip

    return {
        "classes": rows,
        "macro": average("macro avg", np.full(n, 1 / n) if n else np.zeros(0)),
        "weighted": average("weighted avg", weights),
        "accuracy": float(tp.sum() / total) if total else 0.0,
    }


def report(y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """`per_class` of labels (class indices) against predictions."""
    n = max(len(class_names), 1)
    return per_class(confusion_matrix(y_true, y_pred, n), class_names)


# ----------------------------------------------------------------------------- two classes
def positive_scores(pred: np.ndarray) -> np.ndarray:
    """The positive (second) class's probability per sample: a sigmoid unit's output, or the
    second column of two softmax units."""
    pred = np.asarray(pred, dtype=np.float64)
    pred = pred.reshape(len(pred), -1)
    return pred[:, 1] if pred.shape[1] >= 2 else pred[:, 0]


def decide(scores: np.ndarray, threshold: float) -> np.ndarray:
    """The class (0 or 1) of each score: the positive one from the threshold up."""
    return (np.asarray(scores, dtype=np.float64) >= threshold).astype(np.int64)


def _counts(y_true: np.ndarray, scores: np.ndarray):
    """True and false positives at each distinct score taken as the threshold, highest first
    (scikit-learn's _binary_clf_curve)."""
    y = np.asarray(y_true).astype(int).ravel() == 1
    s = np.asarray(scores, dtype=np.float64).ravel()
    order = np.argsort(s, kind="mergesort")[::-1]
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1] if len(s) else np.zeros(0, int)
    tps = np.cumsum(y)[last].astype(float)
    fps = (last + 1) - tps
    return fps, tps, s[last]


def roc_curve(y_true: np.ndarray, scores: np.ndarray):
    """(false positive rate, true positive rate, threshold) from (0, 0) at an infinite
    threshold down to (1, 1); rates are NaN when a class is missing."""
    fps, tps, thresholds = _counts(y_true, scores)
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    with np.errstate(invalid="ignore", divide="ignore"):
        fpr = fps / fps[-1] if fps[-1] > 0 else np.full_like(fps, np.nan)
        tpr = tps / tps[-1] if tps[-1] > 0 else np.full_like(tps, np.nan)
    return fpr, tpr, np.r_[np.inf, thresholds]


def pr_curve(y_true: np.ndarray, scores: np.ndarray):
    """(precision, recall, threshold) by falling threshold, ending at recall 0 precision 1 as
    scikit-learn's does (reversed: its curve runs from the lowest threshold)."""
    fps, tps, thresholds = _counts(y_true, scores)
    precision = _ratio(tps, tps + fps)
    recall = tps / tps[-1] if len(tps) and tps[-1] > 0 else np.full_like(tps, np.nan)
    return np.r_[1.0, precision], np.r_[0.0, recall], np.r_[np.inf, thresholds]


def _both_classes(y_true: np.ndarray) -> bool:
    y = np.asarray(y_true).astype(int).ravel()
    return bool((y == 1).any() and (y != 1).any())


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    """The area under the ROC curve (trapezoids); None without both classes."""
    if not _both_classes(y_true):
        return None
    fpr, tpr, _ = roc_curve(y_true, scores)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    """Precision at each threshold weighted by the recall it adds (scikit-learn's
    average_precision_score); None without a positive sample."""
    y = np.asarray(y_true).astype(int).ravel()
    if not (y == 1).any():
        return None
    precision, recall, _ = pr_curve(y_true, scores)
    return float(np.sum(np.diff(recall) * precision[1:]))


def at_threshold(y_true: np.ndarray, scores: np.ndarray, threshold: float):
    """The confusion matrix (2x2) at `threshold` and the point it is on each curve:
    (matrix, (fpr, tpr), (recall, precision))."""
    matrix = confusion_matrix(y_true, decide(scores, threshold), 2)
    (tn, fp), (fn, tp) = matrix.tolist()
    fpr = fp / (fp + tn) if fp + tn else float("nan")
    tpr = tp / (tp + fn) if tp + fn else float("nan")
    precision = tp / (tp + fp) if tp + fp else 1.0  # nothing predicted positive: the curve's end
    return matrix, (fpr, tpr), (tpr, precision)


def check_threshold(value: Any, what: str = "The decision threshold") -> float:
    """The threshold as a float in [0, 1]; DeepGuiError, one sentence, otherwise."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        t = float("nan")
    if isinstance(value, bool) or not np.isfinite(t) or not 0.0 <= t <= 1.0:
        raise DeepGuiError(f"{what} must be a number from 0 to 1, not {value!r}.")
    return t


# ----------------------------------------------------------------------------- values
def regression_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """{"mae", "rmse", "r2"} (R² as scikit-learn's r2_score: 1 for a perfect fit of a constant
    target, 0 for an imperfect one)."""
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if not len(t):
        return {"mae": float("nan"), "rmse": float("nan"), "r2": float("nan")}
    error = p - t
    ss_res = float(np.sum(error**2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    perfect = 1.0 if ss_res == 0 else 0.0  # a constant target: scikit-learn's force_finite
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else perfect
    return {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(ss_res / len(t))),
            "r2": float(r2)}  # fmt: skip


def residuals(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Actual minus predicted: above zero where the model guessed low."""
    return np.asarray(y_true, dtype=np.float64).ravel() - np.asarray(y_pred, np.float64).ravel()
