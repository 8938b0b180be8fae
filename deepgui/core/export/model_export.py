"""`export_model`: write a Keras model in one format, then load the artefact in its own runtime
and compare its outputs with the model's on sample inputs."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import fileio, run_layout
from deepgui.core import signature as signatures
from deepgui.core.errors import DeepGuiError, ExportError
from deepgui.core.export import formats
from deepgui.core.export.augmentation import without_augmentation
from deepgui.core.export.report import ExportReport, artefact_size, human_size
from deepgui.core.export.samples import (
    as_model_input,
    input_names,
    max_abs_diff,
    normalize_inputs,
    output_scale,
    random_inputs,
    reference_outputs,
)
from deepgui.core.keras_layers import keras

OPTIONS = {"quantize", "opset", "batch_size", "samples", "tolerance"}


def canonical_format(fmt: str) -> str:
    """The format's canonical name; ExportError for one that is not known."""
    key = str(fmt).strip().lower()
    key = formats.ALIASES.get(key, key)
    if key not in formats.FORMATS:
        known = ", ".join(formats.FORMATS)
        raise ExportError(f"Unknown export format {fmt!r}: choose one of {known}.")
    return key


def export_model(
    model,
    fmt: str,
    path: str | os.PathLike,
    note: str = "",
    force: bool = False,
    signature: signatures.Signature | None = None,
    **options: Any,
) -> ExportReport:
    """Export `model` as `fmt` to `path` and check the artefact.

    Nothing that exists is replaced unless `force`, and even then only an earlier export of the
    same format (check_targets): a SavedModel goes into a new folder and never clears one. A
    model whose outputs on the sample inputs are not finite (NaN weights) is not written.
    Random augmentation layers, which do nothing at inference, are left out (augmentation.py).

    Options: ``quantize`` ("float16" or "dynamic", TFLite), ``opset`` (ONNX), ``batch_size``
    (TFLite: fix the batch size), ``samples`` (inputs for the check: one array, a list in input
    order or a dict by input name; random by default), ``tolerance`` (absolute; by default
    scaled to the outputs' magnitude). `note` is a remark shown beside the size in the message.
    The artefact is written and checked beside `path` first and moved into place only when it
    passes, so a failed export or check leaves what was there untouched (``kept`` False).
    `signature` is written beside it (FILE.signature.json); a SavedModel always gets one, which
    records its content hash (signature.content_hash): predict runs no SavedModel without it.
    """
    fmt = canonical_format(fmt)
    options = _check_options(fmt, options)
    target = target_path(fmt, path)
    sidecar = fmt == "savedmodel" or signature is not None
    check_targets(fmt, target, force, beside=(signatures.sidecar_path(target),) if sidecar else ())
    # Keras's ONNX exporter refuses a model that has never been called.
    _call_once(model)
    _refuse_non_finite(model, options.get("samples"))
    artefact, dropped = without_augmentation(model, runtime=fmt != "keras")
    if fmt == "keras":
        report = _export(model, artefact, dropped, fmt, target, note, options)
    else:
        with in_inference_mode(artefact) as runtime:  # a runtime gets the inference graph alone
            report = _export(model, runtime, dropped, fmt, target, note, options)
    if report.ok and sidecar:
        try:
            if fmt == "savedmodel":
                signatures.write_savedmodel_signature(signature, target)
            else:
                signatures.write(signature, signatures.sidecar_path(target))
        except OSError as exc:
            raise ExportError(
                str(fileio.write_error(signatures.sidecar_path(target), exc))
            ) from None
        if signature is None:
            name = signatures.sidecar_path(target).name
            report = dataclasses.replace(
                report, message=f"{report.message} Its content hash, which predict checks: {name}."
            )
    return report


def _export(model, artefact, dropped, fmt, target, note, options) -> ExportReport:
    if artefact is not model:
        _call_once(artefact)
    with _staging(target) as staging:
        staged = staging / target.name
        unsupported = _write(fmt, artefact, staged, target, options)
        if fmt == "tflite" and options.get("batch_size") is None and _needs_fixed_batch(staged):
            # Recurrent layers with a free batch size convert to TensorFlow ("Flex") ops that
            # the plain LiteRT runtime lacks; with batch 1 they lower to built-in ops.
            options["batch_size"] = 1
            unsupported = _write(fmt, artefact, staged, target, options)
            note += "; batch size fixed to 1, as its recurrent layers need on LiteRT"
        # The check compares with the model as given, augmentation and all: at inference the
        # artefact must compute what it computes.
        check = _check(fmt, staged, model, options.get("samples"), options.get("tolerance"),
                       options.get("quantize"))  # fmt: skip
        size = artefact_size(staged)
        label = formats.FORMATS[fmt].label
        note += _left_out(dropped)
        if not check.ok:
            where = (
                f"the earlier {target} is left as it was"
                if target.exists() or target.is_symlink()
                else f"nothing was written to {target}"
            )
            # The runtime's error names the hidden staging path: the user knows only theirs.
            reason = check.reason.replace(str(staged), str(target))
            if unsupported:
                reason += f", as its converter has no {label} op for {', '.join(unsupported)}"
            message = (
                f"The {label} export failed its check, so it was deleted and {where}: {reason}."
            )
            return ExportReport(
                target, fmt, size, check.diff, check.tolerance, False, message, kept=False
            )
        try:
            _replace(staged, target, staging / "previous")
        except OSError as exc:
            raise ExportError(f"{target}: cannot be written: {fileio.why(exc)}.") from None
    message = f"Wrote {label} {target} ({human_size(size)}{note}); {check.reason}."
    return ExportReport(target, fmt, size, check.diff, check.tolerance, True, message)


def verify(
    fmt: str,
    path: str | os.PathLike,
    model,
    samples: Any = None,
    tolerance: float | None = None,
    quantize: str | None = None,
    note: str = "",
) -> ExportReport:
    """Load the artefact at `path` in its runtime, run `samples` (random by default) through it
    and through `model`, and report the largest difference. Never raises for a mismatch or a
    failing runtime: those come back as ``ok=False`` with the reason."""
    fmt = canonical_format(fmt)
    path = Path(path)
    size = artefact_size(path)
    check = _check(fmt, path, model, samples, tolerance, quantize)
    written = f"Wrote {formats.FORMATS[fmt].label} {path} ({human_size(size)}{note})"
    if check.ok:
        message = f"{written}; {check.reason}."
    else:
        message = f"{written}, but its check FAILED: {check.reason}."
    return ExportReport(path, fmt, size, check.diff, check.tolerance, check.ok, message)


@dataclasses.dataclass(frozen=True)
class _Check:
    ok: bool
    diff: float | None
    tolerance: float
    reason: str  # how it was checked, or why it failed: a clause for a sentence


def _check(
    fmt: str, path: Path, model, samples: Any, tolerance: float | None, quantize: str | None
) -> _Check:
    """Run the artefact at `path` in its runtime and `model` in Keras on the same inputs."""
    spec = formats.FORMATS[fmt]
    arrays = random_inputs(model) if samples is None else normalize_inputs(model, samples)
    expected = reference_outputs(model, arrays)
    if tolerance is None:
        base = formats.QUANTIZED_TOLERANCE.get(quantize or "", spec.tolerance)
        tolerance = base * output_scale(expected)
    samples_text = f"{len(arrays[0]) if arrays and arrays[0].ndim else 1} sample inputs"
    if not _finite(expected):
        return _Check(False, None, tolerance,
            f"the Keras model's outputs on {samples_text} are NaN or infinite, so neither it "
            "nor the export is usable: train it again (a lower learning rate often helps)",
        )  # fmt: skip
    try:
        with _quiet():
            actual = formats.run(fmt, path, model, arrays)
    except Exception as exc:
        return _Check(False, None, tolerance, f"{spec.label} could not run it ({_sentence(exc)})")
    if not _finite(actual):
        return _Check(False, None, tolerance,
            f"its outputs on {samples_text} are NaN or infinite where the Keras model's are "
            "finite",
        )  # fmt: skip
    diff = max_abs_diff(expected, actual)
    if diff <= tolerance:
        return _Check(True, diff, tolerance,
            f"checked in {spec.label} on {samples_text}: largest difference from the Keras "
            f"model {diff:.2g} (tolerance {tolerance:.2g})",
        )  # fmt: skip
    return _Check(False, diff, tolerance,
        f"on {samples_text} its outputs differ from the Keras model's by up to {diff:.3g}, "
        f"more than the tolerance {tolerance:.2g}",
    )  # fmt: skip


def _left_out(dropped: list[str]) -> str:
    """The remark beside the size that names the layers the export leaves out, or ""."""
    if not dropped:
        return ""
    return f"; without {', '.join(dict.fromkeys(dropped))}: augmentation acts only in training"


def target_path(fmt: str, path: str | os.PathLike) -> Path:
    """Where the artefact goes: the format's suffix is added when `path` has none."""
    spec = formats.FORMATS[fmt]
    target = Path(path).expanduser()
    if spec.suffix and target.suffix.lower() != spec.suffix:
        if target.suffix:
            raise ExportError(
                f"{target}: a {spec.label} export must end with {spec.suffix}; "
                f"name it {target.with_suffix(spec.suffix).name}."
            )
        target = target.with_suffix(spec.suffix)
    if not spec.suffix and target.is_file():
        raise ExportError(f"{target}: is a file; a {spec.label} export is a folder.")
    if spec.suffix and target.is_dir():
        raise ExportError(f"{target}: is a folder; choose a file name ending with {spec.suffix}.")
    parent = target.parent
    if parent.exists() and not parent.is_dir():
        raise ExportError(f"{parent}: is a file, so nothing can be exported into it.")
    return target


# What a SavedModel folder holds (TensorFlow writes these and nothing else).
SAVEDMODEL_PARTS = {"saved_model.pb", "variables", "assets", "fingerprint.pb", "keras_metadata.pb"}


def check_targets(fmt: str, target: Path, force: bool, beside: tuple[Path, ...] = ()) -> None:
    """ExportError, one sentence naming it, when the artefact's path or a file written `beside`
    it (its signature, a script's weights) exists and `force` is not given; with `force`, when
    what is there is not an earlier export deepgui wrote (a file of the format, a SavedModel
    folder holding nothing else, a signature file): nothing else is ever replaced."""
    spec_label = formats.FORMATS[fmt].label if fmt in formats.FORMATS else fmt
    for path in (target, *beside):
        run_layout.refuse_inside_run(path, "the export", error=ExportError)
    for path in (target, *beside):
        if not (path.exists() or path.is_symlink()):
            continue
        if not force:
            raise ExportError(
                f"{path} already exists: choose another name, or ask to replace an earlier export.",
                setting="force",
            )
        if path != target:
            kind = "a signature or weights file deepgui wrote"
        elif fmt == "savedmodel":
            kind = "a SavedModel deepgui exported"
        else:
            kind = f"a {spec_label} file deepgui exported"
        if not _is_our_export(fmt if path == target else "beside", path):
            raise ExportError(
                f"{path} is not {kind}, so it is not replaced, even when asked to: move it away "
                "or choose another name."
            )


def _is_our_export(fmt: str, path: Path) -> bool:
    """Whether `path` looks like an artefact deepgui writes for `fmt` ("beside": a signature
    or a weights file beside one)."""
    if path.is_symlink():
        return False
    if fmt == "savedmodel":
        if not path.is_dir():
            return False
        names = {p.name for p in path.iterdir()}
        return "saved_model.pb" in names and names <= SAVEDMODEL_PARTS
    try:
        fileio.check_file(path, "file")
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except (DeepGuiError, OSError):
        return False
    if fmt == "keras":
        return head.startswith(b"PK\x03\x04") or head.startswith(b"\x89HDF")
    if fmt == "tflite":
        return head[4:8] == b"TFL3"
    if fmt == "onnx":
        return head[:1] == b"\x08"  # an ONNX model starts with its ir_version field
    if fmt == "python":
        return b"deepgui" in head
    if fmt == "csv":
        return head.startswith(b"epoch")
    if fmt == "svg":
        return b"<svg" in head or head.startswith(b"<?xml")
    # A signature (JSON naming its format or task) or a weights file (HDF5).
    signature = b'"task"' in head or f'"{signatures.FORMAT}"'.encode() in head
    return head.startswith(b"\x89HDF") or (head.lstrip().startswith(b"{") and signature)


def _finite(arrays: list[np.ndarray]) -> bool:
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            return False
    return True


def _refuse_non_finite(model, samples: Any) -> None:
    """A model that computes NaN or infinity (trained into NaN weights) is not written."""
    weights = [np.asarray(w) for w in model.get_weights()]
    bad = [w for w in weights if w.dtype.kind == "f" and not np.isfinite(w).all()]
    if not bad:
        arrays = random_inputs(model) if samples is None else normalize_inputs(model, samples)
        if _finite(reference_outputs(model, arrays)):
            return
        raise ExportError(
            f"The model {model.name} gives NaN or infinite outputs on the sample inputs, so it "
            "is not usable and nothing was written."
        )
    raise ExportError(
        f"The model {model.name} has NaN or infinite weights (its training diverged), so it is "
        "not usable and nothing was written: train it again, with a lower learning rate."
    )


def _check_options(fmt: str, options: dict[str, Any]) -> dict[str, Any]:
    unknown = set(options) - OPTIONS
    if unknown:
        raise ExportError(f"Unknown export option {sorted(unknown)[0]!r}.")
    options = {k: v for k, v in options.items() if v is not None}
    quantize = options.get("quantize")
    if quantize in ("none", ""):
        options.pop("quantize")
        quantize = None
    if quantize is not None:
        if fmt != "tflite":
            raise ExportError("Quantization applies to TFLite exports only.")
        if quantize not in formats.QUANTIZE_CHOICES:
            raise ExportError(f"Unknown quantization {quantize!r}: choose float16 or dynamic.")
    if "opset" in options:
        if fmt != "onnx":
            raise ExportError("An opset applies to ONNX exports only.")
        opset = options["opset"]
        if not isinstance(opset, int) or isinstance(opset, bool) or not 7 <= opset <= 25:
            raise ExportError(f"ONNX opset {opset!r} is not supported: choose one from 7 to 25.")
    batch = options.get("batch_size")
    if batch is not None and (not isinstance(batch, int) or isinstance(batch, bool) or batch < 1):
        raise ExportError(f"Batch size {batch!r} must be a whole number from 1.")
    return options


@contextlib.contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A hidden folder beside `target` (same file system: the move into place is a rename),
    removed afterwards with whatever is still in it; one a killed export left is swept."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = fileio.temp_folder(target)
    except OSError as exc:
        raise ExportError(f"{target.parent}: cannot be written to: {fileio.why(exc)}.") from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(fmt: str, model, staged: Path, target: Path, options: dict[str, Any]) -> list[str]:
    """Write the artefact to `staged`; errors name `target`, the path the user chose. Returns
    the ops the converter could not translate (formats.write)."""
    spec = formats.FORMATS[fmt]
    if staged.is_dir():  # a second try (TFLite with a fixed batch) starts afresh
        shutil.rmtree(staged)
    try:
        with _quiet(), _exact_gelu_with_erf(model if fmt == "onnx" else None):
            unsupported = formats.write(fmt, model, staged, options)
    except DeepGuiError:
        raise
    except ImportError as exc:
        raise formats._missing(spec, exc) from None
    except Exception as exc:
        disk = fileio.disk_problem(exc)
        if disk:
            raise ExportError(f"{target}: cannot be written: {disk}.") from None
        raise ExportError(
            f"The {spec.label} export of {target.name} failed: {_sentence(exc)}."
        ) from exc
    if not staged.exists():
        raise ExportError(f"The {spec.label} exporter wrote nothing to {target.name}.")
    return unsupported


def _replace(staged: Path, target: Path, aside: Path) -> None:
    """Move the finished artefact over `target`. A folder there (an earlier SavedModel export,
    replaced only with --force) is first moved `aside`, into the staging folder that is removed
    afterwards, and moved back if the new one cannot take its place."""
    if target.is_dir() and not target.is_symlink():
        if fileio.exchange(staged, target):  # one step: a kill never leaves neither
            return
        os.replace(target, aside)
        try:
            os.replace(staged, target)
        except OSError:
            os.replace(aside, target)
            raise
    else:
        os.replace(staged, target)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Converters warn about their own deprecations; none of it is the user's to act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _exact_gelu_with_erf(model) -> Iterator[None]:
    """While `model` is traced for ONNX, the exact GELU (ConvNeXt's, Keras's "gelu") is
    written 0.5·x·(1 + erf(x/√2)): TensorFlow computes it with Erfc, which has no ONNX op,
    while Erf has one. The same function, so the check still compares like with like."""
    if model is None:
        yield
        return

    k = keras()
    gelu = k.activations.gelu

    def erf_gelu(x):
        return 0.5 * x * (1.0 + k.ops.erf(x / 2.0**0.5))

    swapped = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if getattr(layer, "activation", None) is gelu
    ]
    for layer in swapped:
        layer.activation = erf_gelu
    try:
        yield
    finally:
        for layer in swapped:
            layer.activation = gelu


@contextlib.contextmanager
def in_inference_mode(model) -> Iterator[Any]:
    """`model` called with training=False, as a model of its own with the same inputs: what
    the SavedModel, TFLite and ONNX exporters trace. Traced as it is, a model whose input
    size is free (an image model that resizes) kept Dropout's random ops in the graph. The
    inner model is renamed while it is used when an input has its name (names are unique)."""
    k = keras()

    def fresh(tensor):
        return k.Input(batch_shape=tensor.shape, dtype=tensor.dtype, name=tensor.name)

    struct = getattr(model, "_inputs_struct", None)
    inputs = k.tree.map_structure(fresh, struct if struct is not None else model.inputs)
    name = model.name
    if name in {t.name for t in k.tree.flatten(inputs)}:
        model.name = f"{name}_network"
    try:
        yield k.Model(inputs, model(inputs, training=False), name=name)
    finally:
        model.name = name


def _call_once(model) -> None:
    try:
        model(as_model_input(random_inputs(model, batch=1), input_names(model)), training=False)
    except Exception as exc:
        raise ExportError(
            f"The model cannot run on inputs of its own shapes: {_sentence(exc)}."
        ) from exc


def _needs_fixed_batch(path: Path) -> bool:
    """Whether the plain LiteRT runtime refuses this model for its TensorFlow (Flex) ops."""
    try:
        interpreter = formats._litert_interpreter(path)
        interpreter.allocate_tensors()
    except RuntimeError as exc:
        text = str(exc)
        return "Select TensorFlow op" in text or "Flex" in text
    except Exception:
        return False
    return False


def _sentence(exc: BaseException) -> str:
    """An exception's first line, trimmed to fit inside one sentence."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.rstrip(".")
    return text if len(text) <= 240 else text[:237] + "..."
