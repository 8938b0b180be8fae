"""Looking inside a trained model: a layer's activations, Grad-CAM heat maps for image
classifiers, integrated gradients for tables and sequences, and `deepgui explain`, which writes
them for a data file. Qt-free: the app shows what this computes.

Integrated gradients run on the model as saved, so for a table run they start from the raw
columns the run's model.keras takes. The rule per input:
- a float input (a numeric column, an image, a series window) is integrated along a straight
  path from the baseline to the value; its default baseline is zero, or for a numeric table
  column the column's mean over the data explained, since zero in raw units (an income, an age)
  is no neutral point; a missing cell (NaN) is at the baseline and gets zero;
- any other input (a string category, free text, token ids) has no gradient through its
  lookup, so its attribution is the change in the explained score when the cell is replaced by
  an empty one (an empty string, or 0), the same gap integrated gradients measure.
A table column's attribution is its input's attributions summed over the input's own axes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np

from deepgui.core import fileio, run_layout
from deepgui.core import signature as signatures
from deepgui.core.errors import DeepGuiError
from deepgui.core.keras_layers import keras

HEAT_SUFFIX = ".npy"
OVERLAY_SUFFIX = ".png"
TABLE_FILE = "attributions.csv"
SERIES_FILE = "attributions.npy"


# ----------------------------------------------------------------------------- activations
def activations(model, layer_name: str, x) -> np.ndarray:
    """What the layer `layer_name` outputs for the inputs `x` (one array, or one per input)."""
    layer = _find(model, layer_name)
    with _watching(layer) as seen:
        model(_inputs(model, x), training=False)
    return np.asarray(seen[-1])


# ----------------------------------------------------------------------------- Grad-CAM
def last_conv_layer(model):
    """The last layer that outputs feature maps (batch, height, width, channels): a convolution
    where there is one, as Grad-CAM reads the finest maps that still keep where things are."""
    maps = [
        layer
        for layer in _all_layers(model)
        if not isinstance(layer, keras().layers.InputLayer | keras().Model) and _rank(layer) == 4
    ]
    convs = [layer for layer in maps if "Conv" in type(layer).__name__]
    if not (convs or maps):
        raise DeepGuiError("the model has no convolution to compute Grad-CAM on.")
    return (convs or maps)[-1]


def _rank(layer) -> int:
    try:
        return len(layer.output.shape)
    except (AttributeError, ValueError):  # a layer called more than once, or never
        return 0


def grad_cam(model, images, class_index=None, layer=None) -> np.ndarray:
    """One heat map per image, (n, height, width) in [0, 1] at the input's size: where the
    layer's feature maps (the last convolution unless `layer` names one) weighted by the
    gradient of the class's score (the predicted class unless `class_index`) are positive."""
    import tensorflow as tf  # the app's backend; the gradient needs its tape

    images = np.asarray(images, dtype=np.float32)
    conv = layer if layer is not None and not isinstance(layer, str) else _find(model, layer)
    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape, _watching(conv) as seen:
        out = _first_out(model(x, training=False))
        scores = _scores(out, class_index)
    if not seen:
        raise DeepGuiError(f"the layer {conv.name!r} is not on the model's way to its output.")
    maps = seen[-1]
    grads = tape.gradient(scores, maps)
    if grads is None:
        raise DeepGuiError(f"the model's output does not depend on the layer {conv.name!r}.")
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    heat = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))[..., None]
    heat = tf.image.resize(heat, images.shape[1:3], method="bilinear")[..., 0]
    top = tf.reduce_max(heat, axis=(1, 2), keepdims=True)
    return np.asarray(tf.math.divide_no_nan(heat, top))


def _find(model, name: str | None):
    """The layer named `name` (or the last convolution), looked for in nested models too: a
    run's model.keras wraps the network in its preprocessing."""
    if name is None:
        return last_conv_layer(model)
    for layer in _all_layers(model):
        if layer.name == name:
            return layer
    raise DeepGuiError(f"the model has no layer named {name!r}.")


def _all_layers(model) -> list:
    out = []
    for layer in model.layers:
        out.append(layer)
        if hasattr(layer, "layers"):
            out.extend(_all_layers(layer))
    return out


@contextlib.contextmanager
def _watching(layer):
    """What `layer` outputs while the model runs, kept on the gradient tape: the layer may be
    deep inside nested models, where no probe model can reach its output."""
    seen: list = []
    original = layer.call

    def call(*args, **kwargs):
        out = original(*args, **kwargs)
        seen.append(out)
        return out

    layer.call = call
    try:
        yield seen
    finally:
        del layer.call


def _scores(out, class_index):
    """The score explained per sample: the class's probability (the predicted class unless
    `class_index`), a sigmoid's own output, or a regression's value."""
    import tensorflow as tf

    out = tf.reshape(out, (tf.shape(out)[0], -1))
    if out.shape[-1] == 1:
        return out[:, 0]
    if class_index is None:
        index = tf.argmax(out, axis=-1)
    else:
        index = tf.broadcast_to(tf.cast(class_index, tf.int64), tf.shape(out)[:1])
    return tf.gather(out, index, axis=1, batch_dims=1)


# ----------------------------------------------------------------------------- integrated gradients
def integrated_gradients(model, x, baseline=None, steps: int = 32, class_index=None):
    """Per input value, its share of the explained score (the predicted class's probability
    unless `class_index`) against `baseline`, by the rule in this module's docstring. Returns
    an array shaped as `x`, or a list of them where `x` is a list (one per model input)."""
    import tensorflow as tf

    single = not isinstance(x, list | tuple)
    arrays = [np.asarray(a) for a in ([x] if single else x)]
    if baseline is None:
        bases = [np.zeros_like(a) if _is_float(a) else None for a in arrays]
    else:
        bases = [np.asarray(b) for b in ([baseline] if single else baseline)]
    names = [str(t.name) for t in model.inputs]

    def call(values):
        feed = values[0] if len(values) == 1 else dict(zip(names, values, strict=True))
        return _first_out(model(feed, training=False))

    fixed = [tf.convert_to_tensor(a) for a in arrays]
    target = class_index
    if target is None:
        out = np.asarray(call(fixed)).reshape(len(arrays[0]), -1)
        target = out.argmax(axis=1) if out.shape[1] > 1 else None
    floats = [i for i, a in enumerate(arrays) if _is_float(a)]
    results: list[np.ndarray] = [np.zeros(a.shape, np.float32) for a in arrays]
    if floats:
        # A missing cell stays missing all along the path (the model fills it), so it
        # moves nothing and gets zero.
        missing = {i: np.isnan(arrays[i].astype(np.float32)) for i in floats}
        x_f = {i: np.nan_to_num(arrays[i].astype(np.float32), nan=0.0) for i in floats}
        b_f = {i: np.asarray(bases[i], np.float32) * np.ones_like(x_f[i]) for i in floats}
        x_f = {i: np.where(missing[i], b_f[i], x_f[i]) for i in floats}
        total = {i: np.zeros_like(x_f[i]) for i in floats}
        for k in range(steps):
            alpha = (k + 0.5) / steps  # the midpoint rule
            values = list(fixed)
            points = {
                i: tf.convert_to_tensor(
                    np.where(missing[i], np.nan, b_f[i] + alpha * (x_f[i] - b_f[i])).astype(
                        np.float32
                    )
                )
                for i in floats
            }
            for i in floats:
                values[i] = points[i]
            with tf.GradientTape() as tape:
                tape.watch(list(points.values()))
                scores = _scores(call(values), target)
            grads = tape.gradient(scores, [points[i] for i in floats])
            for i, g in zip(floats, grads, strict=True):
                if g is not None:
                    total[i] += np.nan_to_num(np.asarray(g))
        for i in floats:
            results[i] = (x_f[i] - b_f[i]) * total[i] / steps
    score = np.asarray(_scores(call(fixed), target))
    for i, a in enumerate(arrays):
        if i in floats:
            continue
        empty = np.full_like(a, "" if a.dtype.kind in "OUS" else 0)
        values = list(fixed)
        values[i] = tf.convert_to_tensor(empty if bases[i] is None else bases[i])
        changed = np.asarray(_scores(call(values), target))
        results[i] = np.broadcast_to(
            ((score - changed) / max(1, int(np.prod(a.shape[1:])))).reshape(
                (-1,) + (1,) * (a.ndim - 1)
            ),
            a.shape,
        ).astype(np.float32)
    return results[0] if single else results


def _is_float(a: np.ndarray) -> bool:
    return np.asarray(a).dtype.kind == "f"


def _first(outputs):
    return outputs[0] if isinstance(outputs, list | tuple) else outputs


def _first_out(out):
    if isinstance(out, dict):
        return next(iter(out.values()))
    return _first(out)


def _inputs(model, x):
    if isinstance(x, list | tuple):
        if len(x) == 1:
            return x[0]
        return dict(zip([str(t.name) for t in model.inputs], x, strict=True))
    return x


# ----------------------------------------------------------------------------- deepgui explain
def check_output(path: str | os.PathLike, force: bool = False) -> Path:
    """Where explanations may be written: a new or empty folder (any folder with `force`),
    never one inside a run folder; DeepGuiError, one sentence, otherwise."""
    path = Path(path).expanduser()
    for folder in (path, *path.parents):
        if (folder / run_layout.MODEL).is_file() or (folder / signatures.RUN_FILE).is_file():
            raise DeepGuiError(
                f"{path}: is inside the run folder {folder}; write explanations elsewhere."
            )
    if path.exists() and not path.is_dir():
        raise DeepGuiError(f"{path}: is a file; give a folder to write explanations into.")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise DeepGuiError(
            f"{path} already holds files: choose another folder, or ask to replace them.",
            setting="force",
        )
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise DeepGuiError(f"{path}: cannot be written: {parent} is a file, not a folder.")
    return path


def load_keras(path: str | os.PathLike):
    """A run folder's or .keras file's model (explaining needs its layers and gradients) and
    the LoadedModel `predict.read_data` reads data for."""
    from deepgui.core.keras_import import load_model_file
    from deepgui.core.predict import LoadedModel

    path = Path(path).expanduser()
    if not path.exists():
        raise DeepGuiError(f"{path}: no such model file or run directory.")
    file = path / run_layout.MODEL if path.is_dir() else path
    if file.suffix.lower() not in (".keras", ".h5", ".hdf5") or not file.is_file():
        raise DeepGuiError(
            f"{path}: explaining needs a run folder or a .keras file, whose layers and "
            "gradients it reads."
        )
    model = load_model_file(file)
    names = [str(t.name) for t in model.inputs]
    by_name = isinstance(model.input, dict) or len(names) > 1
    shapes = [tuple(t.shape)[1:] for t in model.inputs]
    loaded = LoadedModel(file, "keras", names, shapes, by_name, signatures.find(path))
    return model, loaded


def explain_file(
    model_path: str | os.PathLike, data_path: str | os.PathLike | None, out: str | os.PathLike,
    force: bool = False, split: str | None = None,
) -> str:  # fmt: skip
    """Write the explanations of `data_path`, or (`split`: "train", "validation" or "test")
    of exactly the samples of that part of the run's own split, under `out` (see the module
    docstring and README); returns one sentence saying what was written."""
    from deepgui.core.predict import read_data, split_samples

    out = check_output(out, force)
    model, loaded = load_keras(model_path)
    if split is not None:
        samples = split_samples(loaded, model_path, split)
    else:
        samples = read_data(loaded, data_path)
    pre = loaded.signature.preprocessing if loaded.signature else None
    out.mkdir(parents=True, exist_ok=True)
    if pre is not None and pre.table:
        return _explain_table(model, loaded, samples, out, pre)
    x = samples.arrays[0]
    if len(samples.arrays) == 1 and x.ndim == 4 and _has_maps(model):
        return _explain_images(model, samples, out)
    values = integrated_gradients(model, list(samples.arrays))
    np.save(out / SERIES_FILE, values[0] if len(values) == 1 else np.concatenate(
        [v.reshape(len(v), -1) for v in values], axis=1))  # fmt: skip
    return f"Wrote the attributions of {len(samples.ids)} samples to {out / SERIES_FILE}."


def _has_maps(model) -> bool:
    try:
        last_conv_layer(model)
    except DeepGuiError:
        return False
    return True


def _explain_table(model, loaded, samples, out: Path, pre) -> str:
    arrays = list(samples.arrays)
    baseline = []
    for a in arrays:
        if _is_float(a):
            mean = np.nanmean(a, axis=0) if np.isfinite(a).any() else np.zeros(a.shape[1:])
            baseline.append(np.nan_to_num(mean).astype(np.float32)[None])
        else:
            baseline.append(None)
    baseline = [
        b if b is not None else np.full_like(a, "" if a.dtype.kind in "OUS" else 0)
        for a, b in zip(arrays, baseline, strict=True)
    ]
    values = integrated_gradients(model, arrays, baseline)
    column_of = {r.name: r.column for r in pre.inputs}
    summed = {n: v.reshape(len(v), -1).sum(axis=1) for n, v in zip(loaded.names, values,
                                                                    strict=True)}  # fmt: skip
    # The columns in the file's order, as the signature lists them.
    order = [r.name for r in pre.inputs if r.name in summed]
    order += [n for n in loaded.names if n not in order]
    header = ["row", *(column_of.get(n, n) for n in order)]
    per_column = [summed[n] for n in order]
    lines = [",".join(_cell(h) for h in header)]
    for row, cells in zip(samples.ids, zip(*per_column, strict=True), strict=True):
        lines.append(",".join([row, *(f"{c:.6g}" for c in cells)]))
    fileio.atomic_write_text(out / TABLE_FILE, "\n".join(lines) + "\n")
    return f"Wrote the attributions of {len(samples.ids)} rows to {out / TABLE_FILE}."


def _cell(text: str) -> str:
    return f'"{text}"' if any(c in text for c in ',"\n') else text


def _explain_images(model, samples, out: Path) -> str:
    from PIL import Image

    x = samples.arrays[0]
    labels = samples.labels or [None] * len(x)
    written = 0
    for start in range(0, len(x), 64):
        heats = grad_cam(model, x[start : start + 64])
        for heat, file, label in zip(
            heats, samples.ids[start : start + 64], labels[start : start + 64], strict=True
        ):
            source = Path(file)
            folder = out / (label or source.parent.name)
            folder.mkdir(parents=True, exist_ok=True)
            with Image.open(source) as image:
                original = image.convert("RGB")
            size = original.size  # (width, height)
            resized = Image.fromarray((heat * 255).astype(np.uint8)).resize(size, Image.BILINEAR)
            full = np.asarray(resized, dtype=np.float32) / 255.0
            np.save(folder / f"{source.stem}{HEAT_SUFFIX}", full)
            _overlay(np.asarray(original), full).save(folder / f"{source.stem}{OVERLAY_SUFFIX}")
            written += 1
    return f"Wrote Grad-CAM heat maps and overlays of {written} images under {out}."


def _overlay(image: np.ndarray, heat: np.ndarray):
    """The image with the heat drawn over it in red, stronger where the heat is."""
    from PIL import Image

    red = np.zeros_like(image, dtype=np.float32)
    red[..., 0] = 255.0
    alpha = 0.6 * heat[..., None]
    mixed = image.astype(np.float32) * (1 - alpha) + red * alpha
    return Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8))


def heat_contrast(heat: np.ndarray, ink: np.ndarray) -> float:
    """How much hotter the heat is on `ink` (a mask) than off it, on average."""
    on, off = heat[ink].mean(), heat[~ink].mean()
    return float(on / off) if off > 0 else float("inf")
