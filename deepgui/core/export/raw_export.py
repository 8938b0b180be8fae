"""Exports of a trained model that takes raw data: the self-check feeds the run's own raw rows,
the signature (inputs, preprocessing, class names) is written beside every artefact, and the
formats that cannot hold string lookups (TFLite, ONNX) take category and text columns as
numbers, with the vocabularies in the signature."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from deepgui.core import signature as signatures
from deepgui.core.data.preprocessing import network_of
from deepgui.core.export.model_export import (
    canonical_format,
    check_targets,
    export_model,
    target_path,
)
from deepgui.core.export.report import ExportReport

# Formats whose runtimes have no string lookup tables.
NUMBERS_ONLY = ("tflite", "onnx")


def export_with_signature(
    model,
    sig: signatures.Signature,
    fmt: str,
    path: str | os.PathLike,
    raw_samples: Any = None,
    note: str = "",
    force: bool = False,
    **options: Any,
) -> ExportReport:
    """Export `model` (raw data in) as `fmt`, check it on `raw_samples`, write its signature.
    Neither the artefact nor its signature file replaces anything unless `force`."""
    fmt = canonical_format(fmt)
    target = target_path(fmt, path)
    check_targets(fmt, target, force, beside=(signatures.sidecar_path(target),))
    pre = sig.preprocessing
    artefact, samples, tail = model, raw_samples, ""
    if pre is not None and pre.has_strings and fmt in NUMBERS_ONLY:
        artefact = pre.wrap(network_of(model), strings=False, name=model.name)
        if raw_samples is not None:
            samples = pre.numbers_for_strings(raw_samples)
        sig = dataclasses.replace(sig, strings_as_numbers=True)
        names = ", ".join(repr(r.column or r.name) for r in pre.inputs if r.dtype == "string")
        tail = (
            f" {fmt.upper() if fmt == 'onnx' else 'TFLite'} has no string lookups, so the "
            f"columns {names} go in as numbers: their vocabularies are in the signature file."
        )
    if samples is not None:
        options["samples"] = samples
    report = export_model(artefact, fmt, path, note=note, force=force, signature=sig, **options)
    if report.ok:
        sidecar = signatures.sidecar_path(target)
        message = f"{report.message} Inputs and class names: {sidecar.name}.{tail}"
        report = dataclasses.replace(report, message=message)
    return report
