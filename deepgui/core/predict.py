"""Predicting with a trained model on raw data: `deepgui predict` and the app's "Predict on a
file". The model is a run directory or an artefact `deepgui export` wrote (.keras, SavedModel,
.tflite, .onnx), run in its own runtime; the data is what the user has (a CSV with or without
its target column, an image file or folder, an .npz). The signature beside the model says which
columns go in, how string columns become numbers where the format needs it, and the class names.

A model trained on a time series reads a CSV as training cut it: every window of the columns it
was trained on, one step apart, one prediction per window; the columns `row` (the spreadsheet row
the prediction is for, counted on past the end of the file), the file's time column where it has
one, `reads` (the rows the window read) and `prediction`, then the target's own value where the
file has it.

A model with two classes decides its label at the decision threshold its signature carries
(the probability of the second class from which that class is predicted; 0.5 unless the user
moved it). `--split PART` predicts on exactly the rows of the run's own data that went to that
part of its split (run_split.py, `split_samples`).

A model with several outputs gives one set of columns per output, named after it (its target
column): for classes NAME (the predicted class) and NAME_p(CLASS) per class, for a value NAME;
where the data holds a target column, its values follow as NAME_true.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import fileio, run_layout, run_split
from deepgui.core import signature as signatures
from deepgui.core.data.arrays import read_npz
from deepgui.core.data.spec import CSV_SUFFIXES, IMAGE_SUFFIXES
from deepgui.core.data.table import missing_mask, read_csv, type_column
from deepgui.core.data.timeseries import forecast_windows
from deepgui.core.errors import DeepGuiError
from deepgui.core.export.formats import _litert_interpreter
from deepgui.core.export.samples import as_model_input, to_numpy_list
from deepgui.core.keras_import import load_model_file
from deepgui.core.keras_layers import keras
from deepgui.core.report import decide
from deepgui.core.training.rundir import read_run

BATCH = 4096


@dataclass
class LoadedModel:
    """A model ready to run: its format, its inputs, and its signature when it has one."""

    path: Path
    fmt: str
    names: list[str]  # input names, in the order the runner takes them
    shapes: list[tuple]  # per input, without the batch axis
    by_name: bool  # a table: one named input per column
    signature: signatures.Signature | None
    run: Any = field(repr=False, default=None)  # list of arrays -> list of outputs

    @property
    def classes(self) -> list[str]:
        return list(self.signature.classes) if self.signature else []

    @property
    def task(self) -> str:
        return self.signature.task if self.signature else "multiclass"


@dataclass
class Samples:
    """Raw data read for a model: the arrays it takes, one id per sample, and the true labels
    (class names or numbers) when the data has them."""

    arrays: list[np.ndarray]
    ids: list[str]
    labels: list[Any] | None = None
    label_name: str = "label"  # the target column's name, for a table
    # Several target columns (a model with several outputs): each one's values by name, for
    # those the data holds.
    targets: dict[str, list[Any]] = field(default_factory=dict)
    # Columns shown between the id and the prediction: (name, one cell per sample).
    columns: list[tuple[str, list[str]]] = field(default_factory=list)
    what: str = ""  # what the samples are, for the summary ("" for "N samples")

    def take(self, positions: np.ndarray) -> Samples:
        """These samples at `positions` (in that order): their arrays, ids, labels and columns."""
        at = np.asarray(positions, dtype=np.int64)

        def pick(values: list[Any]) -> list[Any]:
            return [values[i] for i in at]

        return Samples(
            [a[at] for a in self.arrays], pick(self.ids),
            None if self.labels is None else pick(self.labels), self.label_name,
            {k: pick(v) for k, v in self.targets.items()},
            [(name, pick(cells)) for name, cells in self.columns], self.what,
        )  # fmt: skip


@dataclass
class Predictions:
    ids: list[str]
    outputs: np.ndarray  # (n, k) probabilities, or (n, 1) values for a regression
    classes: list[str]
    task: str
    labels: list[Any] | None = None
    label_name: str = "label"
    columns: list[tuple[str, list[str]]] = field(default_factory=list)  # see Samples
    what: str = ""
    threshold: float | None = None  # two classes: the second from this probability up

    @property
    def predicted(self) -> list[Any]:
        if self.task == "regression":
            return [float(v) for v in self.outputs[:, 0]]
        if self.task == "multilabel":
            return [
                ";".join(c for c, p in zip(self.classes, row, strict=True) if p >= 0.5)
                for row in self.probabilities
            ]
        return [self.classes[i] for i in self.class_indices]

    @property
    def class_indices(self) -> np.ndarray:
        """The predicted class of each sample, by index: two classes at the threshold."""
        probabilities = self.probabilities
        if self.threshold is not None and probabilities.shape[1] == 2:
            return decide(probabilities[:, 1], self.threshold)
        return probabilities.argmax(axis=1)

    @property
    def probabilities(self) -> np.ndarray:
        """One column per class: a single sigmoid output becomes (1 - p, p)."""
        out = self.outputs
        if self.task != "regression" and out.shape[1] == 1 and len(self.classes) == 2:
            return np.concatenate([1.0 - out, out], axis=1)
        return out

    @property
    def accuracy(self) -> float | None:
        """The share of samples predicted right, when the data had labels (classification)."""
        if self.labels is None or self.task in ("regression", "multilabel") or not self.ids:
            return None
        # A row whose label cell is empty has no truth to score against.
        pairs = [(p, str(t)) for p, t in zip(self.predicted, self.labels, strict=True)
                 if str(t).strip() not in ("", "nan", "None")]  # fmt: skip
        if not pairs:
            return None
        return float(np.mean([p == t for p, t in pairs]))

    @property
    def mean_absolute_error(self) -> tuple[float, int] | None:
        """A regression's mean absolute error against the values the data holds, and how many
        it holds."""
        if self.labels is None or self.task != "regression":
            return None
        truth = np.array([_number(v) for v in self.labels], dtype=np.float64)
        known = np.isfinite(truth)
        if not known.any():
            return None
        return float(np.abs(self.outputs[known, 0] - truth[known]).mean()), int(known.sum())

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """The rows `deepgui predict` writes: id, prediction, one probability per class."""
        first = "file" if self.ids and not self.ids[0].isdigit() else "row"
        extra = [name for name, _ in self.columns]
        ids = [[i, *cells] for i, *cells in
               zip(self.ids, *(values for _, values in self.columns), strict=True)]  # fmt: skip
        if self.task == "regression":
            header = [first, *extra, "prediction"]
            rows = [[*i, f"{p:.6g}"] for i, p in zip(ids, self.predicted, strict=True)]
        else:
            header = [first, *extra, "predicted", *(f"p({c})" for c in self.classes)]
            rows = [
                [*i, label, *(f"{p:.6f}" for p in probs)]
                for i, label, probs in zip(ids, self.predicted, self.probabilities, strict=True)
            ]
        if self.labels is not None:
            header.append(self.label_name)
            for row, label in zip(rows, self.labels, strict=True):
                row.append(label)
        return header, rows

    def csv_text(self) -> str:
        return _csv_text(*self.table())

    def summary(self) -> str:
        n = len(self.ids)
        text = f"Predicted {self.what or f'{n} sample' + 's' * (n != 1)}"
        accuracy = self.accuracy
        error = self.mean_absolute_error
        if accuracy is not None:
            text += f"; accuracy {accuracy:.4f} against the labels in the data"
        elif error is not None:
            text += (
                f"; mean absolute error {error[0]:.4g} against the {error[1]} values in the data"
            )
        elif self.task in ("multiclass", "binary") and n == 1 and len(self.outputs[0]) > 1:
            # One sample: its label and how sure the model is, not a count of one.
            best = int(np.argmax(self.outputs[0]))
            text += f": {self.predicted[0]} ({self.outputs[0][best]:.1%})"
        elif self.task != "regression" and n:
            counts = {c: 0 for c in self.classes}
            for label in self.predicted:
                counts[label] = counts.get(label, 0) + 1
            top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
            text += "; " + ", ".join(f"{c}: {k}" for c, k in top)
        return text + "."


@dataclass
class MultiPredictions:
    """The predictions of a model with several outputs: one `Predictions` per output, named
    after it (see the module docstring for the columns)."""

    ids: list[str]
    parts: list[Predictions]
    # A single-output view's fields, empty here: the app marks wrong rows of one label only.
    labels = None
    accuracy = None
    predicted: list[Any] = field(default_factory=list)

    def table(self) -> tuple[list[str], list[list[Any]]]:
        first = "file" if self.ids and not self.ids[0].isdigit() else "row"
        header = [first]
        columns: list[list[list[Any]]] = []  # per output, the cells of each row
        for part in self.parts:
            name = part.label_name
            if part.task == "regression":
                header.append(name)
                columns.append([[f"{v:.6g}"] for v in part.predicted])
            else:
                header += [name, *(f"{name}_p({c})" for c in part.classes)]
                columns.append([[label, *(f"{p:.6f}" for p in probs)] for label, probs in
                                zip(part.predicted, part.probabilities, strict=True)])  # fmt: skip
        for part in self.parts:
            if part.labels is not None:
                header.append(f"{part.label_name}_true")
                columns.append([[label] for label in part.labels])
        rows = [[i] for i in self.ids]
        for cells in columns:
            for row, more in zip(rows, cells, strict=True):
                row.extend(more)
        return header, rows

    def csv_text(self) -> str:
        return _csv_text(*self.table())

    def scores(self) -> dict[str, tuple[str, float]]:
        """Each output's score against the target column in the data, where it has one: the
        accuracy of classes, the mean absolute error of values."""
        out = {}
        for part in self.parts:
            if part.accuracy is not None:
                out[part.label_name] = ("accuracy", part.accuracy)
            elif part.task == "regression" and part.labels is not None:
                truth = np.array([_number(v) for v in part.labels], dtype=np.float64)
                known = np.isfinite(truth)
                if known.any():
                    error = np.abs(part.outputs[known, 0] - truth[known]).mean()
                    out[part.label_name] = ("mean absolute error", float(error))
        return out

    def summary(self) -> str:
        n = len(self.ids)
        text = f"Predicted {n} sample{'s' * (n != 1)} for the outputs "
        text += ", ".join(p.label_name for p in self.parts)
        scores = self.scores()
        if scores:
            shown = ", ".join(f"{name} {what} {value:.4f}" for name, (what, value) in
                              scores.items())  # fmt: skip
            text += f"; against the data's own values: {shown}"
        return text + "."


def _csv_text(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


# ----------------------------------------------------------------------------- the model
def load(path: str | os.PathLike, trust: bool = False) -> LoadedModel:
    """A run directory or an exported artefact, loaded in its own runtime. A SavedModel runs
    only when its signature's content hash says deepgui exported it as it is, or with `trust`
    (refuse_foreign_savedmodel); a model whose weights are not finite does not run."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DeepGuiError(f"{path}: no such model file or run directory.")
    sig = signatures.find(path)
    if path.is_dir() and (path / run_layout.MODEL).is_file():
        return _keras(path / run_layout.MODEL, sig, run=path)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        if not trust:
            refuse_foreign_savedmodel(path)
        return _savedmodel(path, sig)
    suffix = path.suffix.lower()
    if suffix in (".keras", ".h5", ".hdf5"):
        return _keras(path, sig)
    if suffix == ".tflite":
        return _tflite(path, sig)
    if suffix == ".onnx":
        return _onnx(path, sig)
    raise DeepGuiError(
        f"{path}: is not a model deepgui can run; give a run directory, a .keras, .tflite or "
        ".onnx file or a SavedModel folder."
    )


# Why a SavedModel deepgui did not export is not run: the README's user section says it too.
_SAVEDMODEL_IS_A_PROGRAM = (
    "a SavedModel is a program that can run any TensorFlow operation, writing files included; "
    "if you trust where it came from, deepgui predict (or evaluate) --trust runs it, and with "
    "it every operation it holds"
)


def refuse_foreign_savedmodel(path: Path) -> None:
    """DeepGuiError, one sentence, unless the signature beside the SavedModel folder `path`
    records the content hash of exactly the files it holds (deepgui exported it so)."""
    sidecar = signatures.sidecar_path(path)
    recorded = signatures.read(sidecar).sha256 if sidecar.is_file() else None
    if recorded is None:
        raise DeepGuiError(
            f"{path}: is a SavedModel deepgui did not export (no signature beside it records "
            f"its contents), and {_SAVEDMODEL_IS_A_PROGRAM}."
        )
    if signatures.content_hash(path) != recorded:
        raise DeepGuiError(
            f"{path}: its files are not the ones {sidecar.name} recorded when deepgui exported "
            f"it, and {_SAVEDMODEL_IS_A_PROGRAM}."
        )


def _keras(path: Path, sig, run: Path | None = None) -> LoadedModel:
    model = load_model_file(path)
    _refuse_non_finite(model, path, run)
    names = [str(t.name) for t in model.inputs]
    by_name = isinstance(model.input, dict) or len(names) > 1

    def run(arrays: list[np.ndarray]) -> list[np.ndarray]:
        return to_numpy_list(model(as_model_input(arrays, names), training=False))

    shapes = [tuple(t.shape)[1:] for t in model.inputs]
    return LoadedModel(path, "keras", names, shapes, by_name, sig, run)


def _refuse_non_finite(model, path: Path, run: Path | None) -> None:
    """A model whose weights are NaN or infinite (its training diverged) predicts nothing: its
    outputs would be NaN, and any score against them meaningless."""
    for weights in model.get_weights():
        weights = np.asarray(weights)
        if weights.dtype.kind == "f" and not np.isfinite(weights).all():
            break
    else:
        return
    if run is None:
        raise DeepGuiError(
            f"{path}: its weights are NaN or infinite (its training diverged), so it predicts "
            "nothing; train it again, with a lower learning rate."
        )
    raise DeepGuiError(
        f"{run}: this run {_run_state(run)}, and its model's weights are NaN or infinite, so it "
        "predicts nothing; train it again, with a lower learning rate."
    )


def _run_state(run: Path) -> str:
    """How the run ended, from its metrics.json, as a clause ("stopped when its loss became
    NaN")."""
    try:
        metrics = read_run(run)["metrics"]
    except DeepGuiError:
        metrics = {}
    ended = metrics.get("stopped_by")
    if ended is None:
        return "has no metrics.json saying how it ended"
    return {
        "nan_loss": "stopped when its loss became NaN",
        "error": "failed",
        "user": "was stopped",
        "completed": "completed its epochs",
        "early_stopping": "ended by early stopping",
    }.get(ended, f"ended ({ended!r})")


def _savedmodel(path: Path, sig) -> LoadedModel:
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures.get("serving_default")
    if serve is None:
        raise DeepGuiError(f"{path}: this SavedModel has no serving signature to run.")
    specs = serve.structured_input_signature[1]
    names = sorted(specs)
    shapes = [tuple(specs[n].shape)[1:] for n in names]

    def run(arrays: list[np.ndarray]) -> list[np.ndarray]:
        result = serve(**{n: tf.constant(a) for n, a in zip(names, arrays, strict=True)})
        keys = sorted(result, key=_trailing_number)
        return [np.asarray(result[k]) for k in keys]

    run.keep = loaded  # variables are freed when the loaded object is (shared/DESIGN.md)
    return LoadedModel(path, "savedmodel", names, shapes, len(names) > 1, sig, run)


def _tflite(path: Path, sig) -> LoadedModel:
    interpreter = _litert_interpreter(path)
    runner = interpreter.get_signature_runner()
    details = runner.get_input_details()
    names = sorted(details)
    shapes = [tuple(int(d) for d in details[n]["shape_signature"])[1:] for n in names]
    fixed = int(details[names[0]]["shape_signature"][0]) if names else -1

    def run(arrays: list[np.ndarray]) -> list[np.ndarray]:
        total = len(arrays[0])
        step = fixed if fixed > 0 else total
        chunks = []
        for start in range(0, total, step):
            feed = {
                n: np.ascontiguousarray(a[start : start + step], dtype=details[n]["dtype"])
                for n, a in zip(names, arrays, strict=True)
            }
            short = fixed > 0 and len(next(iter(feed.values()))) < fixed
            if short:  # a fixed-batch model takes the tail padded
                pad = fixed - len(next(iter(feed.values())))
                feed = {n: np.concatenate([a, np.repeat(a[-1:], pad, 0)]) for n, a in feed.items()}
            result = runner(**feed)
            outs = [result[k] for k in sorted(result, key=_trailing_number)]
            chunks.append([o[: step - pad] if short else o for o in outs])
        return [np.concatenate(parts) for parts in zip(*chunks, strict=True)]

    return LoadedModel(path, "tflite", names, shapes, len(names) > 1, sig, run)


def _onnx(path: Path, sig) -> LoadedModel:
    import onnxruntime as ort  # onnxruntime: imported when an .onnx model runs

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    names = [i.name for i in inputs]
    types = {i.name: _ONNX_TYPES.get(i.type, np.float32) for i in inputs}
    shapes = [tuple(d if isinstance(d, int) else None for d in i.shape)[1:] for i in inputs]

    def run(arrays: list[np.ndarray]) -> list[np.ndarray]:
        feed = {n: np.asarray(a, dtype=types[n]) for n, a in zip(names, arrays, strict=True)}
        return [np.asarray(o) for o in session.run(None, feed)]

    return LoadedModel(path, "onnx", names, shapes, len(names) > 1, sig, run)


_ONNX_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}


def _trailing_number(key: str) -> tuple[int, str]:
    digits = "".join(c for c in reversed(key) if c.isdigit())[::-1]
    tail = key[len(key) - len(digits) :] if digits and key.endswith(digits) else ""
    return (int(tail) if tail else -1, key)


# ----------------------------------------------------------------------------- the data
def read_data(model: LoadedModel, path: str | os.PathLike) -> Samples:
    """Raw data from `path`, shaped as `model` takes it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DeepGuiError(f"{path}: no such file or folder.")
    if not path.is_dir():  # devices and pipes are refused before anything reads them
        fileio.check_file(path, "data file", error=DeepGuiError)
    pre = model.signature.preprocessing if model.signature else None
    suffix = path.suffix.lower()
    is_csv = path.is_file() and suffix in CSV_SUFFIXES
    if pre is not None and (pre.table or pre.series) and not is_csv:
        what = "a folder" if path.is_dir() else f"a {suffix or 'suffix-less'} file"
        columns = [r.column for r in pre.inputs if r.column]
        columns = columns or list((pre.series or {}).get("columns") or [])
        named = f" with the columns {_listed(columns)}" if columns else ""
        raise DeepGuiError(
            f"{path}: this model was trained on a table, so it reads a CSV{named}, not {what}."
        )
    if is_csv:
        if pre is not None and pre.series:
            return _read_series(model, path, pre.series)
        if pre is None or not pre.table:
            raise DeepGuiError(
                f"{path}: this model was not trained on a table, so it cannot read a CSV; give "
                "it data of the kind it was trained on (images, an image folder or an .npz)."
            )
        return _read_table(model, path)
    if path.is_dir() or suffix in IMAGE_SUFFIXES:
        return _read_images(model, path)
    if suffix == ".npz":
        return read_npz_samples(model, path)
    raise DeepGuiError(
        f"{path}: cannot tell what kind of data this is; give a CSV file, an image, a folder "
        "of images or an .npz file."
    )


def _listed(columns: list[str], shown: int = 5) -> str:
    """'a', 'b' and 'c'; or the first few and "and N more" when there are many."""
    names = [repr(c) for c in columns]
    if len(names) > shown:
        return f"{', '.join(names[:shown])} and {len(names) - shown} more"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _read_table(model: LoadedModel, path: Path) -> Samples:
    sig = model.signature
    pre = sig.preprocessing
    table = read_csv(path)
    absent = [r.column for r in pre.inputs if r.column not in table.header]
    if absent:
        raise DeepGuiError(
            f"{path.name}: lacks the column{'s' * (len(absent) > 1)} {_listed(absent)}, which "
            f"the model was trained on; it takes {_listed([r.column for r in pre.inputs])}."
        )
    raw: dict[str, np.ndarray] = {}
    for r in pre.inputs:
        if r.kind == "numeric":
            col = type_column(table, r.column, "numeric")
            raw[r.name] = np.where(col.missing, np.nan, col.values).astype(np.float32)
        else:
            cells = table.column(r.column)
            raw[r.name] = np.where(missing_mask(cells), "", cells).astype(object)
    if sig.strings_as_numbers:
        raw = pre.numbers_for_strings(raw)
    labels = None
    targets = pre.targets
    if len(targets) == 1 and targets[0] in table.header:
        cells = table.column(targets[0])
        labels = [_label(c) for c in cells]
    found = {}
    if len(targets) > 1:  # one column of true values per output, where the file has it
        found = {t: [_label(c) for c in table.column(t)] for t in targets if t in table.header}
    arrays = []
    for name, shape in zip(model.names, model.shapes, strict=True):
        if name not in raw:
            raise DeepGuiError(f"{model.path}: its input {name!r} is not in its signature.")
        values = raw[name]
        arrays.append(values[:, None] if values.ndim == 1 and len(shape) == 1 else values)
    ids = [str(int(n)) for n in table.row_numbers]
    name = targets[0] if len(targets) == 1 else "label"
    return Samples(arrays, ids, labels, name, targets=found)


def _read_series(model: LoadedModel, path: Path, series: dict[str, Any]) -> Samples:
    """Every window of a time-series CSV, cut as the run cut its training windows."""
    cut = forecast_windows(path, series)
    takes = tuple(model.shapes[0]) if len(model.shapes) == 1 else ()
    if len(takes) != 2 or any(
        d not in (None, w) for d, w in zip(takes, cut.x.shape[1:], strict=True)
    ):
        raise DeepGuiError(
            f"{model.path}: does not take windows of {cut.x.shape[1]} rows of "
            f"{cut.x.shape[2]} columns as its signature says; it is not the model the "
            "signature belongs to."
        )
    columns = []
    if cut.time is not None and cut.time[0] not in ("row", "reads", "prediction"):
        columns.append(cut.time)
    columns.append(("reads", cut.reads))
    target = series.get("target") or "label"
    n, window = len(cut.rows), series["window"]
    what = (
        f"{n} step{'s' * (n != 1)} of {target!r} from windows of {window} rows, for rows "
        f"{cut.rows[0]}-{cut.rows[-1]}"
    )
    if cut.beyond:
        what += f" (the last {cut.beyond} past the end of the file)"
    return Samples([cut.x], [str(r) for r in cut.rows], cut.truth, target,
                   columns=columns, what=what)  # fmt: skip


def _label(cell: str) -> Any:
    text = str(cell)
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value.is_integer() else text


def _image_settings(model: LoadedModel) -> tuple[tuple[int, int], str]:
    pre = model.signature.preprocessing if model.signature else None
    if pre is not None and pre.image:
        return (int(pre.image["height"]), int(pre.image["width"])), pre.image["color_mode"]
    shape = model.shapes[0] if len(model.shapes) == 1 else ()
    if len(shape) != 3 or not shape[0] or not shape[1]:
        raise DeepGuiError(f"{model.path}: does not take images.")
    mode = {1: "grayscale", 3: "rgb", 4: "rgba"}.get(shape[2], "rgb")
    return (int(shape[0]), int(shape[1])), mode


def _read_images(model: LoadedModel, path: Path) -> Samples:
    labels: list[str] | None = None
    if path.is_file():
        files = [str(path)]
    else:
        subfolders = sorted(p for p in path.iterdir() if p.is_dir())
        by_class = {
            d.name: sorted(
                str(f) for f in d.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()
            )
            for d in subfolders
        }
        by_class = {c: fs for c, fs in by_class.items() if fs}
        if by_class:
            files = [f for fs in by_class.values() for f in fs]
            labels = [c for c, fs in by_class.items() for _ in fs]
        else:
            files = sorted(
                str(f) for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file()
            )
        if not files:
            raise DeepGuiError(f"{path}: holds no images (png, jpg, gif or bmp).")
    return read_image_files(model, files, labels, path)


def read_image_files(
    model: LoadedModel, files: list[str], labels: list[str] | None, path: Path
) -> Samples:
    """The images `files` (read from `path`), sized and coloured as `model` takes them."""
    size, mode = _image_settings(model)
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}.get(mode, 3)
    needed = len(files) * size[0] * size[1] * channels * 4
    if needed > fileio.memory_budget():
        raise DeepGuiError(
            f"{path}: {len(files)} images of {size[0]}x{size[1]} would take "
            f"{fileio.amount(needed)} in memory, more than this computer can spare."
        )
    utils = keras().utils
    images = []
    for f in files:
        try:
            image = utils.load_img(f, color_mode=mode, target_size=size, interpolation="bilinear")
        except Exception as exc:  # noqa: BLE001 - PIL's errors do not name the file
            raise DeepGuiError(f"{f}: is not a readable image ({type(exc).__name__}).") from None
        images.append(utils.img_to_array(image, dtype="float32"))
    x = np.stack(images)
    return Samples([x], files, labels)


def read_npz_samples(model: LoadedModel, path: Path, key: str | None = None) -> Samples:
    """The samples of an .npz: its array `key` (with the labels named alike: x_val, y_val) or
    the first of x, x_test, x_val and x_train."""
    arrays = read_npz(path)
    names = [key] if key is not None else ["x", "x_test", "x_val", "x_train"]
    x = next((arrays[k] for k in names if k in arrays), None)
    if x is None:
        raise DeepGuiError(f'{path.name}: has no array "{names[0]}" to predict on.')
    labels_of = ["y" + k[1:] for k in names]
    y = next((arrays[k] for k in labels_of if k in arrays), None)
    labels = None
    if y is not None and len(y) == len(x):
        classes = model.classes
        y = np.asarray(y).reshape(len(y), -1)[:, 0] if np.ndim(y) > 1 else np.asarray(y)
        if classes and y.dtype.kind in "iu":
            labels = [classes[int(v)] if 0 <= int(v) < len(classes) else str(v) for v in y]
        else:
            labels = [_label(v) for v in y]
    dtype = np.int32 if np.asarray(x).dtype.kind in "iu" else np.float32
    return Samples([np.asarray(x, dtype=dtype)], [str(i) for i in range(len(x))], labels)


# ----------------------------------------------------------------------------- predicting
def predict(model: LoadedModel, samples: Samples) -> Predictions | MultiPredictions:
    n = len(samples.ids)
    if len(samples.arrays) != len(model.names):
        raise DeepGuiError(
            f"{model.path}: takes {len(model.names)} inputs ({_listed(model.names)}), but the "
            f"data gives {len(samples.arrays)}; give it data of the kind it was trained on."
        )
    outs = []
    for start in range(0, n, BATCH):
        part = [a[start : start + BATCH] for a in samples.arrays]
        outs.append([np.asarray(o, dtype=np.float64).reshape(len(part[0]), -1)
                     for o in model.run(part)])  # fmt: skip
    several = signatures.output_columns(model.signature) if model.signature else []
    if len(several) > 1 or (outs and len(outs[0]) > 1):
        return _predict_outputs(model, samples, outs, several)
    outputs = np.concatenate([o[0] for o in outs]) if outs else np.zeros((0, 1))
    classes = model.classes or [str(i) for i in range(max(outputs.shape[1], 2))]
    task = model.task
    if task != "regression" and outputs.shape[1] == 1 and len(classes) > 2:
        task = "regression"
    threshold = model.signature.decision_threshold if model.signature else None
    return Predictions(samples.ids, outputs, classes, task, samples.labels, samples.label_name,
                       samples.columns, samples.what, threshold)  # fmt: skip


def _predict_outputs(
    model: LoadedModel, samples: Samples, outs: list[list[np.ndarray]], columns: list[dict]
) -> MultiPredictions:
    """Each output's predictions, named, typed and classed by the signature; a model without
    one names its outputs output_0, output_1, ... (one unit: a value; more: class indices)."""
    count = len(outs[0]) if outs else len(columns)
    arrays = [np.concatenate([o[i] for o in outs]) for i in range(count)] if outs else []
    if len(columns) <= 1:
        columns = [
            {"name": f"output_{i}", "task": "regression" if a.shape[1] == 1 else "multiclass",
             "classes": []}
            for i, a in enumerate(arrays)
        ]  # fmt: skip
    if not arrays:
        arrays = [np.zeros((0, max(len(c["classes"]), 1))) for c in columns]
    if len(arrays) != len(columns):
        raise DeepGuiError(
            f"{model.path}: returns {len(arrays)} outputs but its signature lists "
            f"{len(columns)} ({', '.join(c['name'] for c in columns)})."
        )
    parts = []
    for info, out in zip(columns, arrays, strict=True):
        classes = list(info["classes"]) or [str(i) for i in range(max(out.shape[1], 2))]
        task = info["task"]
        if task != "regression" and out.shape[1] == 1 and len(classes) > 2:
            task = "regression"
        labels = samples.targets.get(info["name"])
        parts.append(Predictions(samples.ids, out, classes, task, labels, info["name"]))
    return MultiPredictions(samples.ids, parts)


# ----------------------------------------------------------------------------- writing
def check_output(path: str | os.PathLike, force: bool = False) -> Path:
    """Where predictions may be written: DeepGuiError, one sentence, for a folder, a file that
    exists (unless `force`, and then only a predictions file deepgui wrote) or a folder that
    cannot be written."""
    return check_csv_output(path, force, "a predictions file", _is_predictions_file)


def check_csv_output(
    path: str | os.PathLike, force: bool, what: str, ours: Callable[[Path], bool]
) -> Path:
    """Where a CSV deepgui writes (predictions, an evaluation report) may go: never over a
    folder, over a file unless `force`, nor even then over a file `ours` does not recognise
    as `what` deepgui wrote."""
    path = Path(path).expanduser()
    run_layout.refuse_inside_run(path, what)
    if path.is_dir():
        raise DeepGuiError(f"{path}: is a folder; give a file name ending in .csv.")
    if path.exists() or path.is_symlink():
        if not force:
            raise DeepGuiError(
                f"{path} already exists: choose another name, or ask to replace it.",
                setting="force",
            )
        if not ours(path):
            raise DeepGuiError(
                f"{path} is not {what} deepgui wrote, so it is not replaced: move it away or "
                "choose another name."
            )
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise DeepGuiError(f"{path}: cannot be written: {parent} is a file, not a folder.")
    fileio.writable_folder(path.parent)
    return path


def _is_predictions_file(path: Path) -> bool:
    try:
        head = fileio.read_bytes(path, "predictions file", 1 << 34)[:4096]
    except DeepGuiError:
        return False
    first = head.split(b"\n", 1)[0]
    # One output: "predicted" or "prediction"; several: NAME_p(CLASS) or NAME_true columns.
    ours = b"predict" in first or b"_p(" in first or b"_true" in first
    return first.startswith((b"row,", b"file,")) and ours


def write_predictions(
    predictions: Predictions | MultiPredictions, path: str | os.PathLike, force: bool = False
):
    """Write the predictions CSV atomically; nothing that was there is replaced unless `force`
    (see check_output)."""
    path = check_output(path, force)
    fileio.atomic_write_text(path, predictions.csv_text())
    return path


def predict_file(
    model_path: str | os.PathLike,
    data_path: str | os.PathLike | None = None,
    split: str | None = None,
    trust: bool = False,
) -> Predictions | MultiPredictions:
    """Predict on a data file, or (`split`: "train", "validation" or "test") on the rows of
    that part of the run's own split. `trust`: run a SavedModel deepgui did not export."""
    model = load(model_path, trust=trust)
    if split is not None:
        return predict(model, split_samples(model, model_path, split))
    return predict(model, read_data(model, data_path))


# ----------------------------------------------------------------------------- the run's split
def split_samples(model: LoadedModel, run_dir: str | os.PathLike, part: str) -> Samples:
    """The raw samples of the run's `part` ("train", "validation" or "test"), read from the
    run's own data as `read_data` reads data, in the run's order; DeepGuiError, one sentence,
    where they cannot be (no split, no such part, the data moved or changed)."""
    if part not in run_split.PARTS:
        raise DeepGuiError(
            f"The split part must be one of {', '.join(run_split.PARTS)}, not {part!r}.",
            setting="split",
        )
    split = run_split.read(run_dir)
    info = split["parts"].get(part)
    if info is None:
        held = " and ".join(p for p in run_split.PARTS if p in split["parts"])
        raise DeepGuiError(f"{run_dir}: its split has no {part} part, only {held}.",
                           setting="split")  # fmt: skip
    if "keras" in info:
        raise DeepGuiError(
            f"{run_dir}: trained on Keras's {info['keras']!r} set, which predict does not read; "
            "its split lists the positions in that set's own arrays."
        )
    of, noun = split["of"], run_split.NOUNS[split["of"]]
    path = Path(info.get("path", ""))
    if not path.exists():
        raise DeepGuiError(
            f"{path}: no such file or folder; the run read its {part} {noun} from it."
        )
    if of == "files":
        return _split_files(model, path, info["files"], part)
    # An .npz's array; a CSV's rows or a series' windows: every one, then the part's.
    found = (
        read_npz_samples(model, path, info.get("key"))
        if of == "samples"
        else read_data(model, path)
    )
    at = np.asarray(info["rows"], dtype=np.int64)
    if len(at) and int(at.max()) >= len(found.ids):
        raise DeepGuiError(
            f"{path}: has fewer {noun} ({len(found.ids)}) than when the run was trained on it, "
            f"so its {part} {noun} cannot be found; it has changed since."
        )
    taken = found.take(at)
    taken.what = f"the {len(at)} {noun} of the run's {part} split"
    return taken


def _split_files(model: LoadedModel, root: Path, files: list[str], part: str) -> Samples:
    """The part's images, by their paths inside `root`; labelled by their class folder."""
    paths = [root / f for f in files]
    gone = [f for f, p in zip(files, paths, strict=True) if not p.is_file()]
    if gone:
        raise DeepGuiError(
            f"{root}: {len(gone)} of the run's {part} images are gone (the first, {gone[0]!r}); "
            "the folder has changed since the run was trained on it."
        )
    labels = [Path(f).parts[0] if len(Path(f).parts) > 1 else "" for f in files]
    found = read_image_files(model, [str(p) for p in paths], labels, root)
    found.what = f"the {len(files)} images of the run's {part} split"
    return found
