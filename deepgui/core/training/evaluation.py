"""How a trained model does on data it has not seen: test metrics, the confusion matrix and a
few sample predictions (what the app's Evaluation view shows; computed off the GUI thread).

Classes also get precision, recall, F1 and support per class with their averages ("report",
report.per_class); two classes the positive class's scores ("y_score"), their ROC AUC and
average precision, and the decision threshold the labels were decided at ("threshold": the
run's, which the user may move: `at_threshold`, `set_threshold`); values their MAE, RMSE and R²
("regression").

A model with several outputs is evaluated output by output: the result's "outputs" holds one
evaluation of that form per output (with its "name"), and the result itself is the first
output's, with every output's metrics, so a view that knows one output shows the first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import fileio, report, run_layout, signature
from deepgui.core.data.arrays import check_npz
from deepgui.core.data.base import LoadedData, rows
from deepgui.core.data.check import output_names
from deepgui.core.errors import DeepGuiError
from deepgui.core.report import DEFAULT_THRESHOLD, confusion_matrix  # noqa: F401

SAMPLES = 16


def _split(data: LoadedData):
    """The split to evaluate on: test if there is one, else validation, else training."""
    for name, x, y in (("test", data.x_test, data.y_test), ("validation", data.x_val, data.y_val)):
        if x is not None and y is not None and rows(y):
            return name, x, y
    return "training", data.x_train, data.y_train


def labels_from(pred: np.ndarray, task: str, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    pred = np.asarray(pred)
    if task == "multiclass":
        return pred.reshape(len(pred), -1).argmax(axis=1)
    if task == "binary":
        return report.decide(report.positive_scores(pred), threshold)
    return pred


def evaluate(
    model,
    data: LoadedData,
    batch_size: int = 32,
    limit: int = 5000,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Metrics, predictions and (for classes) the confusion matrix on the held-out split;
    two classes decided at `threshold`."""
    split, x, y = _split(data)
    n = min(rows(y), limit)
    x = {k: v[:n] for k, v in x.items()} if isinstance(x, dict) else x[:n]
    if data.multi_output:
        return _evaluate_outputs(model, data, split, x, {k: v[:n] for k, v in y.items()},
                                 batch_size)  # fmt: skip
    y = np.asarray(y[:n])
    metrics = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    pred = np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
    out = _predictions(data.task, list(data.class_names), y, pred, threshold)
    out.update(split=split, metrics={k: float(v) for k, v in metrics.items()}, count=n)
    if not isinstance(x, dict) and np.ndim(x) == 4:  # images: keep a few to show
        take = np.arange(min(SAMPLES, n))
        out["images"] = np.asarray(x[take], dtype=np.float32)
        out["image_index"] = take
    return out


def _evaluate_outputs(model, data: LoadedData, split: str, x, y: dict, batch_size: int):
    """Each output against its target (see the module docstring)."""
    metrics = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    metrics = {k: float(v) for k, v in metrics.items()}
    predicted = model.predict(x, batch_size=batch_size, verbose=0)
    names = output_names(model)
    if isinstance(predicted, dict):
        predicted = [predicted[n] for n in names]
    by_name = dict(zip(names, predicted, strict=True))
    count = rows(y)
    parts = []
    for info in data.outputs:
        part = _predictions(info.task, list(info.class_names), np.asarray(y[info.name]),
                            np.asarray(by_name[info.name]))  # fmt: skip
        mine = {k[len(info.name) + 1 :]: v for k, v in metrics.items()
                if k.startswith(f"{info.name}_")}  # fmt: skip
        part.update(name=info.name, split=split, metrics=mine, count=count)
        parts.append(part)
    return {**parts[0], "metrics": metrics, "outputs": parts}


def _predictions(
    task: str,
    class_names: list[str],
    y: np.ndarray,
    pred: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
):
    """The task, class names and predicted against true values of one output; for classes
    the confusion matrix and the per-class report, for two the scores and their curves' areas,
    for values the regression scores (see the module docstring)."""
    n = len(y)
    pred = np.asarray(pred)
    out: dict[str, Any] = {"task": task, "class_names": list(class_names)}
    if task in ("multiclass", "binary"):
        k = max(len(class_names), 2 if task == "binary" else 1)
        labels = labels_from(pred, task, threshold)
        y_true = y.reshape(n, -1)[:, 0] if task == "binary" else y
        out["confusion"] = confusion_matrix(y_true, labels, k)
        out["y_true"], out["y_pred"] = np.asarray(y_true).astype(int), labels
        out["report"] = report.per_class(out["confusion"], list(class_names))
        if task == "binary":
            out["y_score"] = report.positive_scores(pred)
            out.update(_areas(out["y_true"], out["y_score"]), threshold=float(threshold))
    else:
        out["y_true"] = y.reshape(n, -1)[:, 0].astype(float)
        out["y_pred"] = pred.reshape(len(pred), -1)[:, 0].astype(float)
        if task == "regression":
            out["regression"] = report.regression_scores(out["y_true"], out["y_pred"])
    return out


def _areas(y_true: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    return {"roc_auc": report.roc_auc(y_true, scores),
            "average_precision": report.average_precision(y_true, scores)}  # fmt: skip


def at_threshold(result: dict[str, Any], threshold: float) -> dict[str, Any]:
    """A two-class evaluation with its labels decided at `threshold`: its predictions, confusion
    matrix and report follow; the scores, their areas and Keras's own metrics stay."""
    t = report.check_threshold(threshold)
    if result.get("task") != "binary" or result.get("y_score") is None:
        raise DeepGuiError("Only a model with two classes has a decision threshold.")
    y_pred = report.decide(result["y_score"], t)
    matrix = confusion_matrix(result["y_true"], y_pred, 2)
    return {**result, "y_pred": y_pred, "confusion": matrix, "threshold": t,
            "report": report.per_class(matrix, list(result.get("class_names") or []))}  # fmt: skip


# What metrics.json keeps of the evaluation, so that a reopened run draws it without its model
# or data: a confusion matrix up to this many classes (10,000 cells), the first SAMPLES
# predictions, and for a regression this many points of predicted against actual.
STORED_CLASSES = 100
STORED_POINTS = 300
# Two classes keep every evaluated score (as many as `evaluate` takes, about 60 kB), so that a
# moved threshold counts the matrix anew exactly.
STORED_SCORES = 5000


def stored(result: dict[str, Any]) -> dict[str, Any]:
    """`evaluate`'s result as metrics.json's ``evaluation`` (plain JSON, a few kilobytes):
    split, count, metrics, class names, the confusion matrix and a few predictions (and so
    for each output of several, in "outputs"). The images are not kept."""
    out = _stored_one(result)
    if result.get("outputs"):
        out["outputs"] = [{**_stored_one(part), "name": str(part["name"])}
                          for part in result["outputs"]]  # fmt: skip
    return out


def _stored_one(result: dict[str, Any]) -> dict[str, Any]:
    classes = "confusion" in result
    scored = result.get("y_score") is not None
    take = (STORED_SCORES if scored else SAMPLES) if classes else STORED_POINTS
    out: dict[str, Any] = {
        "split": str(result["split"]),
        "task": str(result["task"]),
        "count": int(result["count"]),
        "metrics": {k: float(v) for k, v in result["metrics"].items()},
        "class_names": [str(c) for c in result.get("class_names") or []],
    }
    cast = int if classes else float
    out["y_true"] = [cast(v) for v in np.asarray(result["y_true"]).ravel()[:take]]
    out["y_pred"] = [cast(v) for v in np.asarray(result["y_pred"]).ravel()[:take]]
    if classes and len(result["confusion"]) <= STORED_CLASSES:
        out["confusion"] = np.asarray(result["confusion"]).astype(int).tolist()
    if result.get("report") is not None:
        out["report"] = result["report"]
    if scored:
        out["y_score"] = [round(float(v), 6) for v in np.asarray(result["y_score"]).ravel()[:take]]
        out["threshold"] = float(result.get("threshold", DEFAULT_THRESHOLD))
        out.update({k: _number(result.get(k)) for k in ("roc_auc", "average_precision")})
    if result.get("regression") is not None:
        out["regression"] = {k: _number(v) for k, v in result["regression"].items()}
    return out


def _number(value: Any) -> float | None:
    """A float JSON can hold (None for a missing or non-finite one)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if np.isfinite(value) else None


def from_stored(data: Any) -> dict[str, Any] | None:
    """A stored evaluation in `evaluate`'s form (NumPy arrays), or None for a run that kept
    none (older runs) or one that does not read as one: its scores are shown instead."""
    out = _from_stored_one(data)
    if out is None or not isinstance(data.get("outputs"), list):
        return out
    parts = [_from_stored_one(part) for part in data["outputs"]]
    if any(p is None or not isinstance(d.get("name"), str) for p, d in
           zip(parts, data["outputs"], strict=True)):  # fmt: skip
        return out
    out["outputs"] = [{**p, "name": d["name"]} for p, d in zip(parts, data["outputs"],
                                                                 strict=True)]  # fmt: skip
    return out


def _from_stored_one(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    try:
        metrics = {str(k): float(v) for k, v in data["metrics"].items() if v is not None}
        out: dict[str, Any] = {
            "split": str(data["split"]),
            "task": str(data["task"]),
            "count": int(data["count"]),
            "metrics": metrics,
            "class_names": [str(c) for c in data.get("class_names") or []],
        }
        classes = data["task"] in ("multiclass", "binary")
        kind = np.int64 if classes else np.float64
        y_true = np.asarray(data["y_true"], dtype=kind).ravel()
        y_pred = np.asarray(data["y_pred"], dtype=kind).ravel()
        if len(y_true) != len(y_pred):
            return None
        out["y_true"], out["y_pred"] = y_true, y_pred
        if classes:
            matrix = np.asarray(data["confusion"], dtype=np.int64)
            if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or (matrix < 0).any():
                return None
            out["confusion"] = matrix
            # Runs from before the report kept none: its figures follow from the matrix.
            out["report"] = report.per_class(matrix, out["class_names"])
            _scores_from_stored(data, out)
        elif not len(y_true):
            return None
        elif isinstance(data.get("regression"), dict):
            out["regression"] = {str(k): float("nan") if v is None else float(v)
                                 for k, v in data["regression"].items()}  # fmt: skip
    except (KeyError, TypeError, ValueError, AttributeError, DeepGuiError):
        return None
    return out


def _scores_from_stored(data: dict[str, Any], out: dict[str, Any]) -> None:
    """A stored two-class evaluation's scores, areas and threshold, when it kept them (one
    score per stored label; a run from before thresholds kept none)."""
    if out["task"] != "binary" or data.get("y_score") is None:
        return
    scores = np.asarray(data["y_score"], dtype=np.float64).ravel()
    if len(scores) != len(out["y_true"]) or not np.isfinite(scores).all():
        return
    out["y_score"] = scores
    out["threshold"] = report.check_threshold(data.get("threshold", DEFAULT_THRESHOLD))
    for key in ("roc_auc", "average_precision"):
        value = data.get(key)
        out[key] = None if value is None else float(value)


def with_run_images(result: dict[str, Any] | None, run_dir) -> dict[str, Any] | None:
    """A stored evaluation (`from_stored`) with the pictures of its sample predictions, from
    the run's sample rows (samples.npz: the first raw rows of the split it evaluated): when
    those rows are images and their labels are the ones the evaluation shows. A run whose
    sample rows are of another split (one trained before they were the evaluated split's),
    or not images, is shown as it was, without pictures."""
    if result is None or result.get("outputs") or "images" in result:
        return result

    path = Path(run_dir) / signature.SAMPLES_FILE
    if not path.is_file():
        return result
    try:
        check_npz(path)  # its headers checked before anything is read
        x, labels = signature.read_samples(Path(run_dir))
    except (DeepGuiError, OSError, ValueError, KeyError, EOFError, TypeError):
        return result
    x = np.asarray(x) if not isinstance(x, dict) else None
    if x is None or x.ndim != 4 or x.shape[-1] not in (1, 3, 4) or x.dtype.kind not in "uif":
        return result
    n = min(SAMPLES, len(result["y_true"]))
    if labels is None or isinstance(labels, dict) or not n or len(x) < n or len(labels) < n:
        return result
    y = np.asarray(labels[:n])
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot
        y = y.argmax(axis=1)
    try:
        same = np.allclose(y.reshape(n, -1)[:, 0].astype(float),
                           np.asarray(result["y_true"][:n], dtype=float))  # fmt: skip
    except (TypeError, ValueError):
        return result
    if not same:
        return result
    return {**result, "images": x[:n].astype(np.float32), "image_index": np.arange(n)}


def from_worker(data_stored: Any, data: LoadedData) -> dict[str, Any] | None:
    """The evaluation a worker process kept in its metrics (the stored form), with the sample
    images it could not send put back from this process's copy of the split: what the
    Evaluation view draws, without running the model a second time here."""
    out = from_stored(data_stored)
    if out is None:
        return None
    x = {"test": data.x_test, "validation": data.x_val, "training": data.x_train}.get(out["split"])
    if x is not None and not isinstance(x, dict) and np.ndim(x) == 4:
        take = np.arange(min(SAMPLES, len(out["y_true"]), len(x)))
        out["images"] = np.asarray(x[take], dtype=np.float32)
        out["image_index"] = take
    return out


def set_threshold(run_dir: str | Path, threshold: Any) -> dict[str, Any] | None:
    """Move a two-class run's decision threshold: its signature.json (which `predict` and every
    export made after take it from) and its metrics.json's evaluation (labels, matrix, report)
    are rewritten, each atomically, the signature first. Returns the evaluation at the new
    threshold (None for a run that kept no scores). DeepGuiError, one sentence, for a bad value
    or a run without two classes."""
    run_dir = Path(run_dir)
    t = report.check_threshold(threshold)
    path = run_dir / run_layout.SIGNATURE
    try:
        data = json.loads(fileio.read_text(path, "signature file", fileio.MiB * 64))
    except ValueError as exc:
        raise DeepGuiError(f"{path}: cannot be read as JSON ({exc}).") from None
    sig = signature.Signature.from_dict(data, str(path))
    if sig.decision_threshold is None:
        raise DeepGuiError(
            f"{run_dir}: only a model with two classes has a decision threshold; this run's "
            f"task is {sig.task}."
        )
    metrics_path = run_dir / run_layout.METRICS
    metrics: dict[str, Any] = {}
    if metrics_path.is_file():
        try:
            metrics = json.loads(fileio.read_text(metrics_path, "metrics file", fileio.MiB * 64))
        except ValueError:
            metrics = {}
    kept = from_stored(metrics.get("evaluation")) if isinstance(metrics, dict) else None
    moved = at_threshold(kept, t) if kept is not None and kept.get("y_score") is not None else None
    # The keys as they are, the threshold changed: nothing the file holds is lost.
    fileio.atomic_write_text(path, json.dumps({**data, "threshold": t}, indent=1,
                                              ensure_ascii=False) + "\n")  # fmt: skip
    if moved is not None:
        metrics["evaluation"] = {**metrics["evaluation"], **stored(moved)}
        fileio.atomic_write_text(
            metrics_path, json.dumps(metrics, indent=1, allow_nan=False) + "\n"
        )
    return moved
