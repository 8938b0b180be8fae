"""Sample inputs for the self-checks, and the comparison of two sets of outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from deepgui.core.errors import ExportError

# A free dimension other than the batch (a sequence of any length) is sampled at this length.
FREE_DIM = 8
SAMPLE_BATCH = 4


def input_names(model) -> list[str]:
    """The model's input names, in the order of `model.inputs`."""
    return [str(getattr(t, "name", f"input_{i}")) for i, t in enumerate(model.inputs)]


def random_inputs(model, batch: int = SAMPLE_BATCH, seed: int = 0) -> list[np.ndarray]:
    """One random array per model input, shaped and typed as that input declares."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        dims = list(tensor.shape)
        shape = [batch if dims and dims[0] is None else dims[0], *dims[1:]] if dims else []
        shape = [FREE_DIM if d is None else int(d) for d in shape]
        dtype = numpy_dtype(tensor)
        if dtype.kind == "O":  # a raw text or category column
            arrays.append(np.full(shape, "", dtype=object))
        elif np.issubdtype(dtype, np.integer):
            # Token ids: 0 and 1 are valid for any Embedding.
            arrays.append(rng.integers(0, 2, size=shape).astype(dtype))
        elif dtype == np.bool_:
            arrays.append(rng.integers(0, 2, size=shape).astype(bool))
        else:
            arrays.append(rng.standard_normal(shape).astype(dtype))
    return arrays


def normalize_inputs(model, samples: Any) -> list[np.ndarray]:
    """Given samples (one array, a list in input order, or a dict by input name) as a list."""
    names = input_names(model)
    if isinstance(samples, Mapping):
        missing = [n for n in names if n not in samples]
        if missing:
            raise ExportError(f"The sample inputs lack the model input {missing[0]!r}.")
        arrays = [samples[n] for n in names]
    elif isinstance(samples, Sequence) and not isinstance(samples, str | bytes):
        arrays = list(samples)
    else:
        arrays = [samples]
    if len(arrays) != len(names):
        raise ExportError(
            f"The model has {len(names)} inputs but {len(arrays)} sample arrays were given."
        )
    out = []
    for tensor, array in zip(model.inputs, arrays, strict=True):
        array = np.asarray(array).astype(numpy_dtype(tensor), copy=False)
        if array.ndim == 1 and len(tensor.shape) == 2:
            array = array[:, None]  # a table column given as a plain list of values
        out.append(array)
    return out


def numpy_dtype(tensor) -> np.dtype:
    """The NumPy dtype of a model input; strings are Python objects."""
    name = str(getattr(tensor, "dtype", "float32"))
    return np.dtype(object) if name == "string" else np.dtype(name)


def as_model_input(arrays: list[np.ndarray], names: Sequence[str] | None = None) -> Any:
    """What a model is called with: the array itself for one input, else a dict by input name
    (which Keras matches to list-input and dict-input models alike), or the list without names."""
    if len(arrays) == 1:
        return arrays[0]
    if names is not None:
        return dict(zip(names, arrays, strict=True))
    return list(arrays)


def to_numpy_list(outputs: Any, order: Sequence[str] | None = None) -> list[np.ndarray]:
    """Flatten a model's outputs (one tensor, a list, or a dict) into a list of arrays."""
    if isinstance(outputs, Mapping):
        keys = list(order) if order and all(k in outputs for k in order) else list(outputs)
        outputs = [outputs[k] for k in keys]
    elif not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return [np.asarray(_to_numpy(o)) for o in outputs]


def _to_numpy(value: Any) -> Any:
    if hasattr(value, "numpy"):
        return value.numpy()
    try:
        from keras import ops  # Keras brings TensorFlow (seconds): imported when used

        return ops.convert_to_numpy(value)
    except Exception:  # plain arrays and lists
        return value


def reference_outputs(model, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The Keras model's own outputs on the sample inputs (inference mode)."""
    return to_numpy_list(model(as_model_input(arrays, input_names(model)), training=False))


def max_abs_diff(expected: list[np.ndarray], actual: list[np.ndarray]) -> float:
    """The largest absolute difference over all outputs; infinity when shapes or counts differ
    or a value is NaN on one side only."""
    if len(expected) != len(actual):
        return float("inf")
    worst = 0.0
    for exp, act in zip(expected, actual, strict=True):
        exp = np.asarray(exp, dtype=np.float64)
        act = np.asarray(act, dtype=np.float64)
        if exp.shape != act.shape:
            if exp.size != act.size:
                return float("inf")
            act = act.reshape(exp.shape)
        both_nan = np.isnan(exp) & np.isnan(act)
        diff = np.where(both_nan, 0.0, np.abs(exp - act))
        if np.isnan(diff).any():
            return float("inf")
        if diff.size:
            worst = max(worst, float(diff.max()))
    return worst


def output_scale(expected: list[np.ndarray]) -> float:
    """The largest finite magnitude among the reference outputs, at least 1."""
    scale = 1.0
    for exp in expected:
        exp = np.asarray(exp, dtype=np.float64)
        finite = exp[np.isfinite(exp)]
        if finite.size:
            scale = max(scale, float(np.abs(finite).max()))
    return scale
