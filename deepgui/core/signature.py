"""What a trained model takes and returns, written beside it so that it can be used without
deepgui: the raw inputs and their preprocessing, the class names in output order, the task.
A model with several outputs (one per target column) has the task "multioutput" and lists its
outputs in the order it returns them: ``"outputs": [{"name", "task", "classes"}, ...]``.
A model with two classes carries its decision ``"threshold"`` on the second class's
probability (0.5 until the user moves it): `deepgui predict` decides its labels with it.

A run directory holds it as ``signature.json`` with a few raw sample rows (``samples.npz``) for
the self-checks of its exports; every export writes ``FILE.signature.json`` beside itself
(``model.onnx.signature.json``).

A SavedModel is a program (its graph may hold any TensorFlow operation, file writes included),
so the signature beside a SavedModel deepgui exported records the ``"sha256"`` of the folder's
files (`content_hash`), and `deepgui predict` runs no other SavedModel unless told to trust it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import fileio, run_layout
from deepgui.core.data.preprocessing import Preprocessing
from deepgui.core.errors import DeepGuiError
from deepgui.core.report import DEFAULT_THRESHOLD, check_threshold

FORMAT = "deepgui-signature"
RUN_FILE, SAMPLES_FILE = run_layout.SIGNATURE, run_layout.SAMPLES
SAMPLE_ROWS = 64


# How a Keras model that takes a table is called from Python (README: "Calling a .keras
# export"). Keras 3's predict refuses NumPy string and object arrays (keras-team/keras#20479).
TABLE_USAGE = (
    "Call the model with a dict of one array per input below, keyed by its name, shape "
    "(rows, 1): numbers as float32 (NaN where missing), strings as TensorFlow string tensors "
    "(tf.constant on the column's str values; model.predict refuses NumPy object arrays); "
    "model(inputs, training=False) returns the class probabilities in the order of classes."
)


@dataclass
class Signature:
    task: str
    classes: list[str]
    preprocessing: Preprocessing | None
    # True where string columns go in as numbers (TFLite, ONNX): `vocabularies` says how.
    strings_as_numbers: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # Several outputs: {"name", "task", "classes"} each, in the order the model returns them.
    outputs: list[dict[str, Any]] = field(default_factory=list)
    # Two classes: the second class from this probability up (None: the default, 0.5).
    threshold: float | None = None
    # A SavedModel's: the content hash of the folder as deepgui exported it (content_hash).
    sha256: str | None = None

    @property
    def decision_threshold(self) -> float | None:
        """The threshold labels are decided at, for a model with two classes; None otherwise."""
        if self.task != "binary" or self.outputs:
            return None
        return DEFAULT_THRESHOLD if self.threshold is None else float(self.threshold)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": FORMAT,
            "version": 1,
            "task": self.task,
            "classes": list(self.classes),
            "inputs": self.input_summary(),
            "strings_as_numbers": self.strings_as_numbers,
            "preprocessing": self.preprocessing.to_dict() if self.preprocessing else None,
        }
        if self.outputs:
            out["outputs"] = [dict(o, classes=list(o["classes"])) for o in self.outputs]
        if self.decision_threshold is not None:
            out["threshold"] = self.decision_threshold
        if self.sha256 is not None:
            out["sha256"] = self.sha256
        if self.strings_as_numbers and self.preprocessing is not None:
            out["vocabularies"] = self.preprocessing.vocabularies()
        elif self.preprocessing is not None and self.preprocessing.table:
            out["usage"] = TABLE_USAGE
        return {**out, **self.extra}

    def input_summary(self) -> list[dict[str, Any]]:
        """One line per model input, as a person reading the JSON wants it first."""
        if self.preprocessing is None:
            return []
        rows = []
        for r in self.preprocessing.inputs:
            spec = r.strings_as_numbers() if self.strings_as_numbers else r
            row = {"name": r.name, "dtype": spec.dtype, "shape": [None, *spec.shape]}
            if r.column is not None:
                row["column"] = r.column
            row["preprocessing"] = r.describe()
            rows.append(row)
        return rows

    @classmethod
    def from_dict(cls, data: Any, what: str) -> Signature:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise DeepGuiError(f"{what}: is not a deepgui signature file.")
        pre = data.get("preprocessing")
        classes = data.get("classes") or []
        if not isinstance(classes, list):
            raise DeepGuiError(f'{what}: its "classes" must be a list of names.')
        return cls(
            task=str(data.get("task") or "multiclass"),
            classes=[str(c) for c in classes],
            preprocessing=Preprocessing.from_dict(pre, what) if pre else None,
            strings_as_numbers=bool(data.get("strings_as_numbers")),
            outputs=_outputs(data.get("outputs"), what),
            threshold=_threshold(data.get("threshold"), what),
            sha256=data["sha256"] if isinstance(data.get("sha256"), str) else None,
        )


def _threshold(value: Any, what: str) -> float | None:
    if value is None:
        return None
    return check_threshold(value, f'{what}: its "threshold"')


def _outputs(data: Any, what: str) -> list[dict[str, Any]]:
    """A signature's "outputs" list, checked: each a name, a task and its class names."""
    if data is None:
        return []
    out = []
    for item in data if isinstance(data, list) else [None]:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("task"), str)
            and isinstance(item.get("classes", []), list)
        ):
            raise DeepGuiError(
                f'{what}: its "outputs" must list each output as {{"name", "task", "classes"}}.'
            )
        classes = [str(c) for c in item.get("classes", [])]
        out.append({"name": item["name"], "task": item["task"], "classes": classes})
    return out


def sidecar_path(artefact: str | os.PathLike) -> Path:
    """``model.onnx`` -> ``model.onnx.signature.json``; a SavedModel folder ``out`` ->
    ``out.signature.json`` beside it. Named after the whole file name, so exports of one name
    in several formats (whose signatures differ) each keep their own."""
    path = Path(artefact)
    return path.with_name(f"{path.name}.signature.json")


def content_hash(folder: str | os.PathLike) -> str | None:
    """The sha256 of every file in a SavedModel folder (saved_model.pb, the variables, the
    assets), each with its path inside the folder; None when the folder holds anything but
    folders and plain files (a link could point the loader at files the hash never saw)."""
    folder = Path(folder)
    digest = hashlib.sha256()
    files = []
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = Path(root) / name
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                return None
        files += [Path(root) / name for name in names]
    for path in sorted(files, key=lambda p: p.relative_to(folder).as_posix()):
        name = path.relative_to(folder).as_posix().encode("utf-8", "surrogateescape")
        digest.update(len(name).to_bytes(8, "little") + name)
        digest.update(path.stat().st_size.to_bytes(8, "little"))
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def write_savedmodel_signature(signature: Signature | None, folder: str | os.PathLike) -> Path:
    """The signature beside a SavedModel deepgui exported, with its content hash: the model's
    own signature, or, for a model that has none, the defaults a missing one stands for."""
    sealed = Signature("multiclass", [], None) if signature is None else signature
    return write(dataclasses.replace(sealed, sha256=content_hash(folder)), sidecar_path(folder))


def write(signature: Signature, path: str | os.PathLike) -> Path:
    path = Path(path)
    fileio.atomic_write_text(
        path, json.dumps(signature.to_dict(), indent=1, ensure_ascii=False) + "\n"
    )
    return path


def read(path: str | os.PathLike) -> Signature:
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise DeepGuiError(f"{path}: no such file.") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise DeepGuiError(f"{path}: cannot be read as JSON ({exc}).") from None
    return Signature.from_dict(data, str(path))


def find(model_path: str | os.PathLike) -> Signature | None:
    """The signature that belongs to a run directory or an exported artefact, if it has one."""
    path = Path(model_path)
    # NAME.signature.json: what the standalone script's `train` writes beside NAME.keras.
    stem_named = path.with_name(f"{path.stem}.signature.json")
    for candidate in (path / RUN_FILE, sidecar_path(path), stem_named, path.parent / RUN_FILE):
        if candidate.is_file():
            return read(candidate)
    return None


# ----------------------------------------------------------------------------- samples
def write_samples(folder: Path, raw: Any, labels: Any) -> Path:
    """A few raw rows as the user has them, for the exports' self-checks: strings as fixed-width
    text (never pickled objects). `labels` is one array, or a dict of them by output name
    (kept as ``y:NAME``)."""
    arrays = {}
    n = min(SAMPLE_ROWS, _rows(labels) if labels is not None else _rows(raw))
    items = raw.items() if isinstance(raw, dict) else [("", raw)]
    for name, values in items:
        values = np.asarray(values[:n])
        if values.dtype == object:
            values = values.astype(str)
        arrays[f"x:{name}"] = values
    if isinstance(labels, dict):
        arrays.update({f"y:{name}": np.asarray(values[:n]) for name, values in labels.items()})
    elif labels is not None:
        arrays["y"] = np.asarray(labels[:n])
    path = Path(folder) / SAMPLES_FILE
    with fileio.staged(path) as tmp, tmp.open("wb") as fh:  # nothing left behind on failure
        np.savez(fh, **arrays)
    return path


def read_samples(folder: Path) -> tuple[Any, Any] | None:
    """The raw sample rows of a run (a dict by input name, or one array), and their labels (a
    dict by output name for several outputs)."""
    path = Path(folder) / SAMPLES_FILE
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    labels: Any = arrays.pop("y", None)
    by_output = {k[2:]: arrays.pop(k) for k in list(arrays) if k.startswith("y:")}
    if by_output:
        labels = by_output
    x = {k[2:]: (v.astype(object) if v.dtype.kind == "U" else v) for k, v in arrays.items()}
    if list(x) == [""]:
        return x[""], labels
    return x, labels


def _rows(raw: Any) -> int:
    return len(next(iter(raw.values()))) if isinstance(raw, dict) else len(raw)


def output_columns(sig: Signature | None) -> list[dict[str, Any]]:
    """What the model returns, one entry per output in its order: {"name", "task", "classes"};
    a one-output model's is its task and classes under the name of its target column."""
    if sig is None:
        return []
    if sig.outputs:
        return [dict(o) for o in sig.outputs]
    pre = sig.preprocessing
    name = pre.targets[0] if pre is not None and pre.targets else "prediction"
    return [{"name": name, "task": sig.task, "classes": list(sig.classes)}]
