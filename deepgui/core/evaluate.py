"""`deepgui evaluate`: a trained model scored against the labels in raw data (a file, or a part
of the run's own split), with the figures the Evaluation tab shows (report.py): precision,
recall, F1 and support per class with their macro and weighted averages; for two classes the
ROC AUC and average precision of the second class's probability, labels decided at the run's
threshold; for values MAE, RMSE and R².

The report file has one row per class (columns class, precision, recall, f1, support); a
regression's has one row per score (columns metric, value)."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import fileio, report
from deepgui.core.errors import DeepGuiError
from deepgui.core.predict import (
    Predictions,
    check_csv_output,
    load,
    predict,
    read_data,
    split_samples,
)

CLASS_COLUMNS = ("class", "precision", "recall", "f1", "support")
VALUE_COLUMNS = ("metric", "value")
# Labels that mean "not known" in a CSV cell.
_UNKNOWN = ("", "nan", "None")


@dataclass
class Evaluation:
    task: str
    count: int  # the samples scored (those with a label)
    what: str = ""  # where they came from, for the heading
    per_class: dict[str, Any] | None = None  # report.per_class
    roc_auc: float | None = None
    average_precision: float | None = None
    threshold: float | None = None
    positive: str = ""  # the class the threshold and the AUCs are about
    scores: dict[str, float] = field(default_factory=dict)  # a regression's

    def lines(self) -> list[str]:
        """What `deepgui evaluate` prints: the table, then the averages and areas."""
        if self.per_class is None:
            head = f"Scored {self.what or f'{self.count} samples'}:"
            return [head, *(f"  {name.upper():<5} {value:.4f}" for name, value in
                            self.scores.items())]  # fmt: skip
        rows = [*self.per_class["classes"], self.per_class["macro"], self.per_class["weighted"]]
        width = max(len("class"), *(len(str(r["class"])) for r in rows))
        out = [f"{'class':<{width}}  precision  recall      f1  support"]
        for i, r in enumerate(rows):
            if i == len(self.per_class["classes"]):
                out.append("")
            out.append(f"{str(r['class']):<{width}}  {r['precision']:9.4f}  {r['recall']:6.4f}  "
                       f"{r['f1']:6.4f}  {r['support']:7d}")  # fmt: skip
        out.append("")
        out.append(
            f"accuracy {self.per_class['accuracy']:.4f} on {self.what or f'{self.count} samples'}"
        )
        if self.threshold is not None:
            areas = [f"ROC AUC {_shown(self.roc_auc)}",
                     f"average precision {_shown(self.average_precision)}"]  # fmt: skip
            out.append(f"{', '.join(areas)} for {self.positive!r}; labels decided at the "
                       f"threshold {self.threshold:g}")  # fmt: skip
        return out

    def csv_text(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if self.per_class is None:
            writer.writerow(VALUE_COLUMNS)
            writer.writerows([name, f"{value:.6g}"] for name, value in self.scores.items())
        else:
            writer.writerow(CLASS_COLUMNS)
            for r in self.per_class["classes"]:
                writer.writerow([r["class"], f"{r['precision']:.6f}", f"{r['recall']:.6f}",
                                 f"{r['f1']:.6f}", r["support"]])  # fmt: skip
        return buf.getvalue()


def _shown(value: float | None) -> str:
    return "n/a (one class only)" if value is None else f"{value:.4f}"


def evaluate_file(
    model_path: str | os.PathLike,
    data_path: str | os.PathLike | None = None,
    split: str | None = None,
    trust: bool = False,
) -> Evaluation:
    """The model at `model_path` (a run or an export) scored on `data_path`, or on the rows of
    the run's `split` part; DeepGuiError, one sentence, for data without labels or a model
    this does not score (several outputs, several labels per sample). `trust`: run a
    SavedModel deepgui did not export."""
    model = load(model_path, trust=trust)
    if split is not None:
        samples = split_samples(model, model_path, split)
    else:
        samples = read_data(model, data_path)
    where = data_path if split is None else f"the run's {split} split"
    found = predict(model, samples)
    if not isinstance(found, Predictions):
        raise DeepGuiError(
            f"{model_path}: has several outputs; evaluate scores a model with one (predict "
            "gives each output's columns and scores)."
        )
    if found.task == "multilabel":
        raise DeepGuiError(f"{model_path}: gives several labels per sample, which evaluate does "
                           "not score; predict lists them.")  # fmt: skip
    if found.labels is None:
        raise DeepGuiError(
            f"{where}: has no labels ({found.label_name!r}) to score the predictions against."
        )
    if found.task == "regression":
        return _values(found)
    return _classes(found, str(where))


def _values(found: Predictions) -> Evaluation:
    truth = np.array([_number(v) for v in found.labels], dtype=np.float64)
    known = np.isfinite(truth)
    if not known.any():
        raise DeepGuiError("None of the samples has a number to score the predictions against.")
    scores = report.regression_scores(truth[known], found.outputs[known, 0])
    return Evaluation("regression", int(known.sum()), found.what, scores=scores)


def _classes(found: Predictions, where: str) -> Evaluation:
    index = {c: i for i, c in enumerate(found.classes)}
    labelled = [i for i, t in enumerate(found.labels) if str(t).strip() not in _UNKNOWN]
    unknown = sorted({str(found.labels[i]) for i in labelled} - set(index))
    if unknown:
        raise DeepGuiError(
            f"{where}: has the label {unknown[0]!r}, which is not one of the model's classes "
            f"({', '.join(found.classes)})."
        )
    if not labelled:
        raise DeepGuiError(f"{where}: has no labelled samples to score the predictions against.")
    at = np.asarray(labelled, dtype=np.int64)
    y_true = np.array([index[str(found.labels[i])] for i in labelled], dtype=np.int64)
    y_pred = found.class_indices[at]
    out = Evaluation(found.task, len(at), found.what,
                     per_class=report.report(y_true, y_pred, found.classes))  # fmt: skip
    if len(found.classes) == 2:
        scores = found.probabilities[at, 1]
        out.roc_auc = report.roc_auc(y_true, scores)
        out.average_precision = report.average_precision(y_true, scores)
        out.threshold = found.threshold if found.threshold is not None else report.DEFAULT_THRESHOLD
        out.positive = found.classes[1]
    return out


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def check_output(path: str | os.PathLike, force: bool = False) -> Path:
    """Where the report may be written: DeepGuiError, one sentence, for a folder or a file that
    exists (unless `force`, and then only a report deepgui wrote)."""
    return check_csv_output(path, force, "a report", _is_report_file)


def _is_report_file(path: Path) -> bool:
    try:
        first = fileio.read_bytes(path, "report file", 1 << 20)[:200].split(b"\n", 1)[0]
    except DeepGuiError:
        return False
    return first.strip() in (",".join(CLASS_COLUMNS).encode(), ",".join(VALUE_COLUMNS).encode())


def write_report(evaluation: Evaluation, path: str | os.PathLike, force: bool = False) -> Path:
    path = check_output(path, force)
    fileio.atomic_write_text(path, evaluation.csv_text())
    return path
