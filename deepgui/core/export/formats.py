"""One writer and one loader-runner per format. Each loader runs the artefact in the runtime it
is meant for (Keras, TensorFlow's SavedModel loader, the LiteRT interpreter, onnxruntime), so the
self-check tests what a deployment would run, not the Keras model again."""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.errors import ExportError
from deepgui.core.export.samples import as_model_input, input_names, to_numpy_list

QUANTIZE_CHOICES = (None, "float16", "dynamic")


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    suffix: str  # "" for a folder
    # Base of the default tolerance, scaled by the largest output magnitude.
    tolerance: float
    needs: str = ""  # the pip packages it needs beyond TensorFlow/Keras


FORMATS: dict[str, Format] = {
    "keras": Format("keras", "Keras", ".keras", 1e-5),
    "savedmodel": Format("savedmodel", "SavedModel", "", 1e-4),
    "tflite": Format("tflite", "TFLite", ".tflite", 1e-4, "ai-edge-litert"),
    "onnx": Format("onnx", "ONNX", ".onnx", 1e-4, "tf2onnx onnx onnxruntime"),
}
# Quantized TFLite models differ from the float model by design; these bound the usual error.
QUANTIZED_TOLERANCE = {"float16": 1e-2, "dynamic": 5e-2}
ALIASES = {
    "litert": "tflite",
    "tf_saved_model": "savedmodel",
    "saved_model": "savedmodel",
}


def _missing(fmt: Format, exc: ImportError) -> ExportError:
    return ExportError(
        f"{fmt.label} export needs the packages {fmt.needs.replace(' ', ', ')}, which are not "
        f"installed ({exc}): install them with pip install {fmt.needs}."
    )


# --- writers ------------------------------------------------------------------------------


def write(fmt: str, model, path: Path, options: dict[str, Any]) -> list[str]:
    """Write `model` to `path` in `fmt`; exceptions propagate to the caller, which words them.
    Returns the TensorFlow ops the ONNX converter had no ONNX op for (it writes the model
    anyway, and onnxruntime then refuses it): the reason a failed check gives."""
    if fmt == "keras":
        model.save(str(path))
    elif fmt == "savedmodel":
        model.export(str(path), format="tf_saved_model", verbose=False)
    elif fmt == "tflite":
        write_tflite(model, path, options.get("quantize"), options.get("batch_size"))
    elif fmt == "onnx":
        try:
            import onnx  # noqa: F401
            import tf2onnx  # noqa: F401
        except ImportError as exc:
            raise _missing(FORMATS["onnx"], exc) from None
        with _converter_log() as unsupported:
            model.export(
                str(path), format="onnx", opset_version=options.get("opset"), verbose=False
            )
        return unsupported
    else:  # guarded by the caller
        raise ExportError(f"Unknown export format {fmt!r}.")
    return []


@contextlib.contextmanager
def _converter_log() -> Iterator[list[str]]:
    """tf2onnx logs what it cannot convert as errors, tracebacks included, on stderr; the user
    is told once, in the check's sentence. Yields the unsupported ops' names, filled in."""
    found: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.msg != "Unsupported ops: %s":
                return
            # A Counter of op names; logging unpacks a lone mapping argument into `args`.
            ops = record.args[0] if isinstance(record.args, tuple) else record.args
            found.extend(str(op) for op in (ops or {}))

    log = logging.getLogger("tf2onnx")
    handler, propagate = Collect(logging.ERROR), log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield found
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


def write_tflite(model, path: Path, quantize: str | None, batch_size: int | None) -> None:
    """TFLite through Keras's LiteRT exporter; optionally float16 or dynamic-range quantized,
    optionally with a fixed batch size (recurrent layers need one to avoid TensorFlow ops that
    the plain LiteRT runtime lacks)."""
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    kwargs: dict[str, Any] = {}
    if quantize == "float16":
        kwargs["optimizations"] = [tf.lite.Optimize.DEFAULT]
        kwargs["target_spec"] = {"supported_types": [tf.float16]}
    elif quantize == "dynamic":
        kwargs["optimizations"] = [tf.lite.Optimize.DEFAULT]
    if batch_size is not None:
        kwargs["input_signature"] = fixed_batch_signature(model, batch_size)
    model.export(str(path), format="litert", verbose=False, **kwargs)


def fixed_batch_signature(model, batch_size: int) -> list:
    """The model's input signature with the batch dimension fixed."""
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    specs = [
        tf.TensorSpec(
            (batch_size, *tuple(t.shape)[1:]), dtype=str(t.dtype), name=input_names(model)[i]
        )
        for i, t in enumerate(model.inputs)
    ]
    # Functional models take one positional argument: the list of inputs.
    return [specs[0]] if len(specs) == 1 else [specs]


# --- loaders and runners ------------------------------------------------------------------


def run(fmt: str, path: Path, model, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Load the artefact at `path` in its own runtime and run it on `arrays`."""
    if fmt == "keras":
        return run_keras(path, arrays, input_names(model))
    if fmt == "savedmodel":
        return run_savedmodel(path, arrays, input_names(model), isinstance(model.input, dict))
    if fmt == "tflite":
        return run_tflite(path, input_names(model), arrays)
    if fmt == "onnx":
        return run_onnx(path, input_names(model), arrays)
    raise ExportError(f"Unknown export format {fmt!r}.")


def run_keras(path: Path, arrays: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    import keras  # Keras brings TensorFlow (seconds): imported when used

    loaded = keras.saving.load_model(str(path), compile=False, safe_mode=True)
    return to_numpy_list(loaded(as_model_input(arrays, names), training=False))


def run_savedmodel(
    path: Path, arrays: list[np.ndarray], names: list[str], by_name: bool
) -> list[np.ndarray]:
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    loaded = tf.saved_model.load(str(path))
    # `serve` keeps the model's own input structure: a dict for a table's named columns.
    tensors = [tf.constant(a) for a in arrays]
    return to_numpy_list(loaded.serve(as_model_input(tensors, names if by_name else None)))


def _litert_interpreter(path: Path):
    try:
        # LiteRT: imported when a .tflite model runs
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf  # TensorFlow (seconds): imported when used

        with warnings.catch_warnings():  # deprecated in TF, still the fallback
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_path=str(path))
    return Interpreter(model_path=str(path))


def run_tflite(path: Path, names: list[str], arrays: list[np.ndarray]) -> list[np.ndarray]:
    interpreter = _litert_interpreter(path)
    runner = interpreter.get_signature_runner()
    details = runner.get_input_details()
    keys = _match_names(names, list(details), "TFLite")
    fixed = int(details[keys[0]]["shape_signature"][0]) if keys else -1
    total = len(arrays[0]) if arrays and arrays[0].ndim else 1
    step = fixed if fixed > 0 else total
    chunks: list[list[np.ndarray]] = []
    for start in range(0, total, step):
        feed = {k: a[start : start + step] for k, a in zip(keys, arrays, strict=True)}
        if fixed > 0 and len(next(iter(feed.values()))) < fixed:
            break  # a fixed-batch model cannot take the ragged tail
        result = runner(**feed)
        chunks.append([result[k] for k in _sorted_outputs(list(result))])
    if not chunks:
        raise ExportError(
            f"The TFLite model takes batches of {fixed}, more than the {total} samples given."
        )
    return [np.concatenate(parts, axis=0) for parts in zip(*chunks, strict=True)]


def run_onnx(path: Path, names: list[str], arrays: list[np.ndarray]) -> list[np.ndarray]:
    try:
        import onnxruntime as ort  # onnxruntime: imported when an .onnx model runs
    except ImportError as exc:
        raise _missing(FORMATS["onnx"], exc) from None
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    keys = _match_names(names, [i.name for i in session.get_inputs()], "ONNX")
    return [np.asarray(o) for o in session.run(None, dict(zip(keys, arrays, strict=True)))]


def _match_names(names: list[str], available: list[str], label: str) -> list[str]:
    """The artefact's input keys in the model's input order: by name, else by position."""
    if len(available) != len(names):
        raise ExportError(
            f"The {label} model has {len(available)} inputs where the Keras model has {len(names)}."
        )
    if set(names) <= set(available):
        return names
    return available


def _sorted_outputs(keys: list[str]) -> list[str]:
    """`output_0, output_1, ..., output_10` in numeric order."""

    def index(key: str) -> tuple[int, str]:
        match = re.search(r"(\d+)$", key)
        return (int(match.group(1)) if match else -1, key)

    return sorted(keys, key=index)
