"""What the app's Look inside views show, decided here (Qt-free; deepgui/core/explain.py
computes): a layer's output for one sample, and why the run's model predicts what it does.

The rules:
- A layer's output is drawn by its shape without the batch axis (`activation_kind`): height x
  width x channels are feature maps, tiled into one image grid on one colour scale (a dead map
  looks dead); time x features is a sequence, drawn as that image; a vector is a heat strip;
  several leading axes are averaged down to feature maps.
- An explanation fits the input (`explanation_kind`): one image input gets Grad-CAM when the
  model has feature maps and predicts classes, else integrated gradients summed over channels;
  one time x features input (a series window) gets integrated gradients per time step and
  feature; anything else (a table's columns, a vector) gets integrated gradients per column.
- The most confidently wrong samples (`confidently_wrong`) are the wrongly predicted ones,
  surest first (by the predicted class's probability); for values, the largest errors first.
- Averaged over a split, a column's attribution is its mean absolute attribution
  (`column_importance`): signed attributions of opposite rows would cancel out.

`Inspection` opens a run folder once (its model.keras, signature and sample rows) and answers
the views' questions (a sample for the Activations tab comes from the evaluation samples or
from the Data panel's preview, `preview_samples`, read from its file as predict reads it); each answer is computed off the GUI thread, one at a time (a lock: the
explanations watch a layer by replacing its call while the model runs).
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import explain, run_layout, signature
from deepgui.core.errors import DeepGuiError

MAPS, SEQUENCE, VECTOR = "maps", "sequence", "vector"
GRAD_CAM, PIXELS, STEPS, COLUMNS = "grad_cam", "pixels", "steps", "columns"
SHOWN_SAMPLES = 16  # the Evaluation tab's sample predictions (evaluation.SAMPLES)
GALLERY = 12
MAX_MAPS = 64  # feature maps tiled at most; a wider layer shows its first ones
AVERAGE_ROWS = 1000  # rows a split's average attribution reads at most
POOL_ROWS = 2000  # rows the gallery looks through at most
IG_STEPS = 32
PARTS = {"training": "train", "validation": "validation", "test": "test"}


# ----------------------------------------------------------------------------- the rules
def activation_kind(shape: tuple) -> str:
    """How a layer's output of this shape (without the batch axis) is drawn."""
    rank = len(shape)
    if rank >= 3:
        return MAPS
    return SEQUENCE if rank == 2 else VECTOR


@dataclass
class ActivationPicture:
    """One sample's output of one layer, as one image (rows x columns, NaN between tiles)."""

    layer: str
    shape: tuple  # the layer's output for one sample, without the batch axis
    kind: str
    image: np.ndarray
    shown_maps: int = 0  # feature maps tiled (of shape[-1])
    grid: tuple[int, int] = (0, 0)  # tiles down, tiles across

    @property
    def caption(self) -> str:
        dims = " × ".join(str(d) for d in self.shape) or "1"
        if self.kind == MAPS:
            total = self.shape[-1]
            more = f", the first {self.shown_maps}" if self.shown_maps < total else ""
            return f"{self.layer}: {dims}, {total} feature maps{more} (one colour scale)"
        if self.kind == SEQUENCE:
            return f"{self.layer}: {dims}, time steps down, features across"
        return f"{self.layer}: {dims} values"


def activation_picture(layer: str, output: np.ndarray) -> ActivationPicture:
    """One sample's layer output (without the batch axis) as the picture its kind calls for."""
    out = np.asarray(output, dtype=np.float32)
    shape = tuple(int(d) for d in out.shape)
    kind = activation_kind(shape)
    if kind == MAPS:
        maps = out.reshape((-1, *shape[-3:])).mean(axis=0) if out.ndim > 3 else out
        image, shown, grid = tile_maps(maps)
        return ActivationPicture(layer, shape, kind, image, shown, grid)
    if kind == SEQUENCE:
        return ActivationPicture(layer, shape, kind, out)
    return ActivationPicture(layer, shape, kind, out.reshape(1, -1))


def tile_maps(maps: np.ndarray, limit: int = MAX_MAPS):
    """Feature maps (height, width, channels) side by side in a near-square grid, one NaN
    pixel between them: (image, maps shown, (tiles down, tiles across))."""
    h, w, c = maps.shape
    shown = min(c, limit)
    across = math.ceil(math.sqrt(shown))
    down = math.ceil(shown / across)
    image = np.full((down * (h + 1) - 1, across * (w + 1) - 1), np.nan, np.float32)
    for i in range(shown):
        r, col = divmod(i, across)
        image[r * (h + 1) : r * (h + 1) + h, col * (w + 1) : col * (w + 1) + w] = maps[..., i]
    return image, shown, (down, across)


def explanation_kind(shapes: list[tuple], task: str, has_maps: bool) -> str:
    """Which explanation fits a model with inputs of these shapes (without the batch axis)."""
    if len(shapes) == 1 and len(shapes[0]) == 3:
        return GRAD_CAM if has_maps and task in ("multiclass", "binary") else PIXELS
    if len(shapes) == 1 and len(shapes[0]) == 2:
        return STEPS
    return COLUMNS


def confidently_wrong(
    true: np.ndarray, predicted: np.ndarray, confidence: np.ndarray, limit: int = GALLERY
) -> np.ndarray:
    """The positions of the wrong predictions, surest first (see the module docstring): for
    classes, `confidence` is the predicted class's probability; a true label below zero is
    unknown and never counted wrong."""
    true, predicted = np.asarray(true), np.asarray(predicted)
    wrong = np.flatnonzero((true >= 0) & (true != predicted))
    order = np.argsort(-np.asarray(confidence)[wrong], kind="stable")
    return wrong[order][:limit]


def largest_errors(true: np.ndarray, predicted: np.ndarray, limit: int = GALLERY) -> np.ndarray:
    """For values: the positions of the largest absolute errors, largest first."""
    error = np.abs(np.asarray(true, dtype=float) - np.asarray(predicted, dtype=float))
    error = np.nan_to_num(error, nan=-1.0)
    return np.argsort(-error, kind="stable")[:limit]


def column_importance(per_row: np.ndarray) -> np.ndarray:
    """Per column, the mean absolute attribution over the rows (rows x columns)."""
    a = np.abs(np.asarray(per_row, dtype=np.float64))
    return a.mean(axis=0) if len(a) else np.zeros(a.shape[1:])


def ranked(names: list[str], values: np.ndarray) -> list[tuple[str, float]]:
    """The columns and their attributions, the largest in size first."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(-np.abs(values), kind="stable")
    return [(names[i], float(values[i])) for i in order]


def overlay(image: np.ndarray, heat: np.ndarray, strength: float = 0.6) -> np.ndarray:
    """The image (any range, gray or colour) stretched to 0-255 in colour, with the heat
    (in [0, 1], the image's height and width) in red over it, stronger where it is hotter."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 2:
        a = a[..., None]
    a = a[..., :3]
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    a = np.nan_to_num((a - lo) / (hi - lo) * 255 if hi > lo else np.zeros_like(a))
    if a.shape[-1] != 3:
        a = np.repeat(a[..., :1], 3, axis=-1)
    alpha = strength * np.clip(np.asarray(heat, np.float32), 0, 1)[..., None]
    red = np.zeros_like(a)
    red[..., 0] = 255.0
    return np.clip(a * (1 - alpha) + red * alpha, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- answers
@dataclass
class Explained:
    """One sample, what the model made of it, and why."""

    name: str  # "#3", "row 12" or an image's file name
    true: str | None
    predicted: str
    confidence: float | None  # the predicted class's probability (None for values)
    wrong: bool
    picture: np.ndarray | None = None  # the input as drawn: an image or time x features
    heat: np.ndarray | None = None  # images: height x width in [0, 1]; series: as the input
    columns: list[tuple[str, float]] = field(default_factory=list)  # tables, in column order

    @property
    def label(self) -> str:
        sure = "" if self.confidence is None else f" ({self.confidence:.2f})"
        true = "" if self.true is None else f", true {self.true}"
        return f"{self.name}: pred {self.predicted}{sure}{true}"


@dataclass
class Why:
    """The explanations of the evaluation samples, the gallery of the most confidently wrong
    ones, and where the gallery looked."""

    kind: str
    samples: list[Explained]
    wrong: list[Explained]
    looked_at: str  # "the 64 images of the run's validation split"


@dataclass(frozen=True)
class PreviewSample:
    """One item of the Data panel's preview, offered to the Activations tab beside the
    evaluation samples, and where to read it: a row (by its id as predict names it: a CSV's
    row number, an .npz array's position) or an image file (no row)."""

    label: str
    path: str
    row: str | None = None
    array: str | None = None  # the .npz array the preview shows (x, else x_train)


def preview_samples(preview: dict[str, Any] | None) -> list[PreviewSample]:
    """The items of a data preview (core/data/preview.py's dict) a sample can be taken from:
    a table's first rows, the image files shown per class, an .npz's first samples. Nothing for
    a downloadable Keras set (the preview reads none of it)."""
    preview = preview or {}
    path, kind = preview.get("path"), preview.get("kind")
    if not path or preview.get("error"):
        return []
    if kind == "table":
        numbers = preview.get("row_numbers") or []
        return [PreviewSample(f"Data preview: row {n}", path, row=str(n)) for n in numbers]
    if kind == "images":
        return [PreviewSample(f"Data preview: {name}/{Path(f).name}", f)
                for name, files in (preview.get("files") or {}).items() for f in files]  # fmt: skip
    if kind in ("arrays", "sequences"):
        count = len(preview.get("samples") or preview.get("series") or [])
        array = "x" if "x" in (preview.get("arrays") or {}) else "x_train"
        return [PreviewSample(f"Data preview: sample {i + 1}", path, row=str(i), array=array)
                for i in range(count)]  # fmt: skip
    return []


@dataclass
class _Batch:
    arrays: list[np.ndarray]  # one per model input, in the model's order
    names: list[str]
    true: np.ndarray | None  # class indices (-1 unknown) or values; None without labels
    what: str = ""

    def __len__(self) -> int:
        return len(self.arrays[0]) if self.arrays else 0

    def take(self, at) -> _Batch:
        at = np.asarray(at, dtype=np.int64)
        true = None if self.true is None else self.true[at]
        return _Batch([a[at] for a in self.arrays], [self.names[i] for i in at], true,
                      self.what)  # fmt: skip


class Inspection:
    """A run folder opened for looking inside (see the module docstring)."""

    def __init__(self, run_dir: str | Path, split: str | None = None) -> None:
        self.run_dir = Path(run_dir)
        if not (self.run_dir / run_layout.MODEL).is_file():
            raise DeepGuiError(
                f"{self.run_dir}: has no saved model ({run_layout.MODEL}) to look inside."
            )
        try:
            self.model, self.loaded = explain.load_keras(self.run_dir)
        except DeepGuiError:
            raise
        except Exception as exc:  # noqa: BLE001 - Keras's own errors, said in one sentence
            raise DeepGuiError(
                f"{self.run_dir / run_layout.MODEL}: the model cannot be loaded "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})."
            ) from None
        self.lock = threading.Lock()
        self._preview_read = None  # (the file and its time, what predict read from it)
        sig = self.loaded.signature
        self.task = self.loaded.task
        self.classes = self.loaded.classes
        self.threshold = sig.decision_threshold if sig else None
        self.several_outputs = bool(sig and sig.outputs) or len(self.model.outputs) > 1
        pre = sig.preprocessing if sig else None
        column_of = {r.name: r.column for r in pre.inputs} if pre is not None else {}
        self.input_names = [column_of.get(n) or n for n in self.loaded.names]
        self.split = split or self._evaluated_split()
        self.shown = self._sample_rows()
        self.layers = self._layer_names()
        shapes = [tuple(a.shape[1:]) for a in self.shown.arrays]
        self.kind = explanation_kind(shapes, self.task, explain._has_maps(self.model))
        # One vector input (an .npz's rows): a column per feature.
        if len(shapes) == 1 and len(shapes[0]) == 1 and shapes[0][0] > 1:
            self.input_names = [f"feature {i + 1}" for i in range(shapes[0][0])]

    # ------------------------------------------------------------------ what is there
    def _evaluated_split(self) -> str:
        try:
            metrics = json.loads((self.run_dir / run_layout.METRICS).read_text("utf-8"))
            return str((metrics.get("evaluation") or {}).get("split") or "validation")
        except (OSError, ValueError, AttributeError):
            return "validation"

    def _layer_names(self) -> list[str]:
        """The model's layers whose outputs can be looked at, each name once: not its inputs,
        nor the models nested in it (their layers are listed)."""
        k = explain.keras()
        names: list[str] = []
        for layer in explain._all_layers(self.model):
            if isinstance(layer, k.layers.InputLayer | k.Model) or layer.name in names:
                continue
            names.append(layer.name)
        return names

    def _sample_rows(self) -> _Batch:
        """The run's sample rows (samples.npz: the first rows of the split it evaluated, the
        ones its Evaluation tab shows), shaped as the model takes them."""
        kept = signature.read_samples(self.run_dir)
        if kept is None:
            raise DeepGuiError(
                f"{self.run_dir}: keeps no sample rows ({signature.SAMPLES_FILE}); train it "
                "again to look inside it."
            )
        x, labels = kept
        if isinstance(x, dict):
            column_of = dict(zip(self.loaded.names, self.input_names, strict=True))
            missing = [n for n in self.loaded.names if n not in x and column_of[n] not in x]
            if missing:
                raise DeepGuiError(
                    f"{self.run_dir}: its sample rows lack the input {missing[0]!r}."
                )
            arrays = [np.asarray(x[n] if n in x else x[column_of[n]]) for n in self.loaded.names]
        else:
            arrays = [np.asarray(x)]
        arrays = [_as_input(a, shape) for a, shape in zip(arrays, self.loaded.shapes,
                                                            strict=True)]  # fmt: skip
        n = len(arrays[0])
        true = None if labels is None or isinstance(labels, dict) else self._true(labels)
        return _Batch(arrays, [f"#{i + 1}" for i in range(n)], true, "the sample rows")

    def _true(self, labels) -> np.ndarray:
        """Labels as class indices (-1 for one not among the classes) or values."""
        y = np.asarray(labels)
        if self.task not in ("multiclass", "binary"):
            return y.reshape(len(y), -1)[:, 0].astype(float)
        if y.dtype.kind in "OUS":
            index = {c: i for i, c in enumerate(self.classes)}
            return np.array([index.get(str(v), -1) for v in y], dtype=np.int64)
        if y.ndim == 2 and y.shape[1] > 1:  # one-hot
            return y.argmax(axis=1)
        return y.reshape(len(y), -1)[:, 0].astype(np.int64)

    def _pool(self) -> _Batch:
        """The split the run evaluated on, from its data (the gallery looks through it); the
        sample rows where the data cannot be read again (moved, changed, a Keras set)."""
        from deepgui.core.predict import split_samples  # reads data: TensorFlow, loaded late

        try:
            found = split_samples(self.loaded, self.run_dir, PARTS.get(self.split, "validation"))
        except DeepGuiError:
            return self.shown
        names = [_short(i) for i in found.ids]
        true = None if found.labels is None else self._true(found.labels)
        batch = _Batch([np.asarray(a) for a in found.arrays], names, true, found.what)
        return batch.take(np.arange(min(len(batch), POOL_ROWS)))

    # ------------------------------------------------------------------ activations
    def layer_output(self, layer: str, sample: int | PreviewSample) -> ActivationPicture:
        """What `layer` outputs for the evaluation sample at `sample`, or for an item of the
        Data panel's preview."""
        if isinstance(sample, PreviewSample):
            arrays = self._preview_arrays(sample)
        elif not 0 <= sample < len(self.shown):
            raise DeepGuiError(f"There is no sample {sample + 1}; the run keeps {len(self.shown)}.")
        else:
            arrays = self.shown.take([sample]).arrays
        with self.lock:
            out = explain.activations(self.model, layer, arrays)
        if out.ndim == 0 or len(out) != 1:
            raise DeepGuiError(f"The layer {layer!r} gives no output per sample to draw.")
        return activation_picture(layer, out[0])

    def fitting(self, samples: list[PreviewSample]) -> list[PreviewSample]:
        """The preview's items this model reads: a table's rows for a model trained on a
        table (not a series: its windows span rows), images and .npz rows for the others."""
        pre = self.loaded.signature.preprocessing if self.loaded.signature else None
        table = pre is not None and bool(pre.table) and not pre.series
        raw_arrays = pre is None or not (pre.table or pre.series)
        return [s for s in samples
                if (table if s.row is not None and s.array is None else raw_arrays)]  # fmt: skip

    def _preview_arrays(self, sample: PreviewSample) -> list[np.ndarray]:
        """The preview item's input, read from its file as `deepgui predict` reads it (the
        model takes raw data: its preprocessing is inside it)."""
        from deepgui.core import predict  # reads data: TensorFlow, loaded late

        path = Path(sample.path)
        key = (str(path), path.stat().st_mtime_ns if path.exists() else None, sample.array)
        if self._preview_read is None or self._preview_read[0] != key:
            read = (predict.read_npz_samples(self.loaded, path, sample.array) if sample.array
                    else predict.read_data(self.loaded, path))  # fmt: skip
            self._preview_read = (key, read)
        read = self._preview_read[1]
        at = [0] if sample.row is None else [i for i, n in enumerate(read.ids) if n == sample.row]
        if not at:
            raise DeepGuiError(f"{path.name}: row {sample.row} is no longer in the file.")
        return [_as_input(np.asarray(a)[at[:1]], shape)
                for a, shape in zip(read.arrays, self.loaded.shapes, strict=True)]  # fmt: skip

    def overview(self, shown: int = SHOWN_SAMPLES) -> list[Explained]:
        """The evaluation samples with what the model predicts for each, unexplained (the
        Activations tab's list of samples)."""
        batch = self.shown.take(np.arange(min(shown, len(self.shown))))
        return self._explained(batch, why=False)

    # ------------------------------------------------------------------ why
    def why(self, shown: int = SHOWN_SAMPLES, gallery: int = GALLERY) -> Why:
        """The evaluation samples explained, and the gallery of the most confidently wrong."""
        self._one_output()
        samples = self._explained(self.shown.take(np.arange(min(shown, len(self.shown)))))
        pool = self._pool()
        true = pool.true
        if true is None or not len(pool):
            return Why(self.kind, samples, [], f"{pool.what or 'the samples'}, without labels")
        probabilities = self._probabilities(pool.arrays)
        predicted, confidence = self._decided(probabilities)
        if self.task in ("multiclass", "binary"):
            at = confidently_wrong(true, predicted, confidence, gallery)
        else:
            at = largest_errors(true, predicted, gallery)
        return Why(self.kind, samples, self._explained(pool.take(at)), pool.what)

    def column_average(self) -> list[tuple[str, float]]:
        """Each column's mean absolute attribution over the validation split (over the split
        evaluated, or the sample rows, where the run keeps none), the largest first."""
        self._one_output()
        from deepgui.core.predict import split_samples  # reads data: TensorFlow, loaded late

        try:
            found = split_samples(self.loaded, self.run_dir, "validation")
            rows = _Batch([np.asarray(a) for a in found.arrays], list(found.ids), None)
        except DeepGuiError:
            rows = self._pool()
        rows = rows.take(np.arange(min(len(rows), AVERAGE_ROWS)))
        per_row = self._column_attributions(rows.arrays, self._baseline(rows.arrays))
        return ranked(self.input_names, column_importance(per_row))

    def _one_output(self) -> None:
        if self.several_outputs:
            raise DeepGuiError(
                "Explanations are for a model with one output; this one has several."
            )

    def _probabilities(self, arrays: list[np.ndarray]) -> np.ndarray:
        """The model's output per sample, one column per class (a sigmoid's as two). Called
        directly in chunks: `predict` traced a new function for each new number of rows."""
        parts = []
        with self.lock:
            for start in range(0, len(arrays[0]), 256):
                chunk = [a[start : start + 256] for a in arrays]
                out = self.model(explain._inputs(self.model, chunk), training=False)
                parts.append(np.asarray(explain._first_out(out), dtype=np.float64))
        out = np.concatenate(parts).reshape(len(arrays[0]), -1)
        if self.task == "binary" and out.shape[1] == 1:
            return np.concatenate([1.0 - out, out], axis=1)
        return out

    def _decided(self, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The predicted class (two at the run's threshold) and its probability; for values,
        the value and no probability."""
        if self.task not in ("multiclass", "binary"):
            values = probabilities[:, 0]
            return values, np.full(len(values), np.nan)
        if self.task == "binary" and self.threshold is not None and probabilities.shape[1] == 2:
            from deepgui.core.report import decide

            predicted = decide(probabilities[:, 1], self.threshold)
        else:
            predicted = probabilities.argmax(axis=1)
        confidence = probabilities[np.arange(len(predicted)), predicted]
        return predicted, confidence

    def _name(self, index: float) -> str:
        if self.task not in ("multiclass", "binary"):
            return f"{float(index):.3g}"
        i = int(index)
        return self.classes[i] if 0 <= i < len(self.classes) else str(i)

    def _explained(self, batch: _Batch, why: bool = True) -> list[Explained]:
        if not len(batch):
            return []
        probabilities = self._probabilities(batch.arrays)
        predicted, confidence = self._decided(probabilities)
        classes = self.task in ("multiclass", "binary")
        heats: list[Any] = [None] * len(batch)
        columns: list[list[tuple[str, float]]] = [[] for _ in range(len(batch))]
        x = batch.arrays[0]
        kind = self.kind if why else None
        with self.lock:
            if kind == GRAD_CAM:
                heats = list(explain.grad_cam(self.model, x.astype(np.float32),
                                              predicted if classes else None))  # fmt: skip
            elif kind == PIXELS:
                a = np.abs(explain.integrated_gradients(self.model, x.astype(np.float32),
                                                        steps=IG_STEPS)).sum(axis=-1)  # fmt: skip
                top = a.reshape(len(a), -1).max(axis=1).reshape(-1, 1, 1)
                heats = list(np.divide(a, top, out=np.zeros_like(a), where=top > 0))
            elif kind == STEPS:
                heats = list(explain.integrated_gradients(self.model, x.astype(np.float32),
                                                          steps=IG_STEPS))  # fmt: skip
        if kind == COLUMNS:
            per_row = self._column_attributions(batch.arrays, self._baseline(self.shown.arrays))
            columns = [list(zip(self.input_names, map(float, row), strict=True))
                       for row in per_row]  # fmt: skip
        out = []
        for i in range(len(batch)):
            true = None if batch.true is None else batch.true[i]
            unknown = true is None or (classes and int(true) < 0)
            wrong = not unknown and (int(true) != int(predicted[i]) if classes else False)
            out.append(Explained(
                batch.names[i], None if unknown else self._name(true), self._name(predicted[i]),
                float(confidence[i]) if classes else None, wrong,
                x[i] if self.kind != COLUMNS else None, heats[i], columns[i],
            ))  # fmt: skip
        return out

    def _baseline(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """Integrated gradients' starting point for a table: each numeric column's mean over
        these rows (zero in raw units is no neutral point), an empty cell for the others."""
        out = []
        for a in arrays:
            if a.dtype.kind == "f":
                finite = np.isfinite(a).any()
                mean = np.nanmean(a, axis=0) if finite else np.zeros(a.shape[1:])
                out.append(np.nan_to_num(mean).astype(np.float32)[None])
            else:
                out.append(np.full_like(a[:1], "" if a.dtype.kind in "OUS" else 0))
        return out

    def _column_attributions(self, arrays: list[np.ndarray], baseline) -> np.ndarray:
        """Rows x columns: each input's attributions summed over its own axes; one input that
        is a vector gives one column per feature."""
        base = [np.broadcast_to(b, a.shape).copy() if b.shape[0] == 1 else b
                for a, b in zip(arrays, baseline, strict=True)]  # fmt: skip
        with self.lock:
            values = explain.integrated_gradients(self.model, list(arrays), base, steps=IG_STEPS)
        if len(values) == 1 and values[0].ndim == 2:  # one vector: a column per feature
            return values[0]
        return np.stack([v.reshape(len(v), -1).sum(axis=1) for v in values], axis=1)


def _as_input(a: np.ndarray, shape: tuple) -> np.ndarray:
    """Sample rows shaped as the model's input: a table's column kept flat gets its axis."""
    want = tuple(shape)
    if a.ndim == 1 and len(want) == 1 and want[0] in (1, None):
        return a.reshape(-1, 1)
    return a


def _short(sample_id: str) -> str:
    """A sample's id as a gallery shows it: an image's file name, else the row."""
    if "/" in sample_id or "\\" in sample_id:
        return Path(sample_id).name
    return f"row {sample_id}" if sample_id.isdigit() else sample_id
