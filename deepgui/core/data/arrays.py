"""NumPy ``.npz`` files, and splitting arrays that are already in memory."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zlib import error as zlib_error

import numpy as np

from deepgui.core import fileio
from deepgui.core.data.base import LoadedData
from deepgui.core.data.labels import encode_labels
from deepgui.core.data.preprocessing import array_preprocessing
from deepgui.core.data.split import split_indices
from deepgui.core.errors import DatasetError

if TYPE_CHECKING:
    from deepgui.core.data.spec import DataSpec, NpzOptions

_PAIRS = (("x_train", "y_train"), ("x_val", "y_val"), ("x_test", "y_test"))


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array in the file; never unpickles (object arrays are refused). Only a regular
    file is read, and each array's header (its shape and type) is checked against the bytes the
    file holds and against the memory there is, before any array is read."""
    size = fileio.check_file(path, "NumPy .npz file", error=DatasetError)
    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                raise DatasetError(
                    f"{path}: is not a readable NumPy .npz file (not a zip archive)."
                )
        _check_members(path, size)
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file.") from None
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DatasetError(
                f"{path}: holds Python objects, which deepgui does not load; save plain numeric arrays."
            ) from None
        raise DatasetError(f"{path}: is not a readable NumPy .npz file ({exc}).") from None
    except MemoryError:
        raise DatasetError(f"{path}: its arrays do not fit in memory.") from None
    except (OSError, zipfile.BadZipFile, EOFError, zlib_error) as exc:
        raise DatasetError(f"{path}: is not a readable NumPy .npz file ({exc}).") from None


def check_npz(path: Path) -> None:
    """DatasetError unless `path` is a regular .npz file whose arrays, as their headers describe
    them, are there in full and fit in memory (nothing is read beyond the headers)."""
    size = fileio.check_file(path, "NumPy .npz file", error=DatasetError)
    try:
        _check_members(path, size)
    except (OSError, zipfile.BadZipFile, EOFError, zlib_error) as exc:
        raise DatasetError(f"{path}: is not a readable NumPy .npz file ({exc}).") from None


def _check_members(path: Path, size: int) -> None:
    """What each array says it holds against what the file holds: a header claiming 10^12
    values in a small file, or arrays that would not fit in memory, are refused by name."""
    budget = fileio.memory_budget()
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if not info.filename.endswith(".npy"):
                continue
            with archive.open(info) as member:
                try:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(member)
                    else:
                        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(member)
                    header = member.tell()
                except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
                    raise DatasetError(
                        f"{path}: the array {name!r} has a damaged header ({exc})."
                    ) from None
            if dtype.hasobject:
                raise DatasetError(
                    f"{path}: the array {name!r} holds Python objects, which deepgui does not "
                    "load; save plain numeric arrays."
                )
            count = 1
            for d in shape:
                count *= int(d)
            claimed = count * dtype.itemsize
            if claimed > info.file_size - header:
                raise DatasetError(
                    f"{path}: the array {name!r} claims {count:,} values of {dtype} "
                    f"({fileio.amount(claimed)}), but the file holds "
                    f"{fileio.amount(max(info.file_size - header, 0))} for it; it is damaged."
                )
            total += claimed
            if total > budget:
                raise DatasetError(
                    f"{path}: its arrays take {fileio.amount(total)} in memory once unpacked "
                    f"(from {fileio.amount(size)} on disk), more than this computer can spare."
                )


def load_npz(spec: DataSpec, opts: NpzOptions) -> LoadedData:
    path = opts.path
    arrays = read_npz(path)
    # Each part's file and array name, for the run's split.json.
    sources = {k: (path, k) for k in ("x_train", "x_val", "x_test")}
    if "x_val" not in arrays and "x_validation" in arrays:
        arrays["x_val"], arrays["y_val"] = (
            arrays.pop("x_validation"),
            arrays.pop("y_validation", None),
        )
        sources["x_val"] = (path, "x_validation")
    if "x" in arrays and "y" in arrays:
        arrays["x_train"], arrays["y_train"] = arrays.pop("x"), arrays.pop("y")
        sources["x_train"] = (path, "x")
    if "x_train" not in arrays or "y_train" not in arrays:
        names = ", ".join(sorted(arrays)) or "none"
        raise DatasetError(
            f'{path.name}: has the arrays {names}; name the features "x" and the labels "y" (or x_train, y_train, x_val, y_val, x_test, y_test).'
        )
    parts = {}
    for xk, yk in _PAIRS:
        if xk in arrays or yk in arrays:
            if arrays.get(xk) is None or arrays.get(yk) is None:
                raise DatasetError(
                    f'{path.name}: has "{xk if xk in arrays else yk}" without "{yk if xk in arrays else xk}".'
                )
            parts[xk] = (arrays[xk], arrays[yk])
    separate = [
        ("validation_path", opts.validation_path, "x_val"),
        ("test_path", opts.test_path, "x_test"),
    ]
    for key, other, xk in separate:  # key: the field, for the message
        if other is not None:
            extra = read_npz(other)
            x = extra.get("x", extra.get("x_train"))
            y = extra.get("y", extra.get("y_train"))
            if x is None or y is None:
                raise DatasetError(
                    f'{other.name}: needs arrays "x" and "y" (dataset field "{key}").'
                )
            parts[xk] = (x, y)
            sources[xk] = (other, "x" if "x" in extra else "x_train")
    return from_arrays(parts, spec, what=path.name, class_names=spec.class_names,
                       sources=sources)  # fmt: skip


def as_features(x: np.ndarray, what: str, key: str) -> np.ndarray:
    if x.dtype.kind not in "biuf":
        raise DatasetError(
            f"{what}: the array {key!r} holds {x.dtype} values; features must be numbers."
        )
    if x.ndim == 0:
        raise DatasetError(
            f"{what}: the array {key!r} is a single number; it needs one row per sample."
        )
    if x.ndim < 2:
        x = x[:, None]
    x = x.astype(np.float32, copy=False)
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise DatasetError(
            f"{what}: the array {key!r} has NaN or infinite values (first at sample {bad[0]}); clean or fill them."
        )
    return x


def from_arrays(
    parts: dict[str, tuple[np.ndarray, np.ndarray]],
    spec: DataSpec,
    *,
    what: str,
    class_names: Sequence[str] | None = None,
    scale: float | None = None,
    description: str = "",
    sources: dict[str, tuple[Path, str]] | None = None,
) -> LoadedData:
    """Split the "x_train" pair (unless validation or test pairs are given) and encode labels.
    The arrays stay as given; `scale` (a known range, such as 1/16 for 0-16 pixels) becomes a
    Rescaling layer in the model. `sources`, the file and array name of each part's pair
    ("x_train": (path, "x")), lets the run record its split (LoadedData.split)."""
    checked = {}
    for key, (x, y) in parts.items():
        x = as_features(np.asarray(x), what, key)
        if len(x) != len(y):
            raise DatasetError(
                f"{what}: {key!r} has {len(x)} samples but its labels have {len(y)}; they must match."
            )
        checked[key] = (x, y)
    x_train, y_raw = checked["x_train"]
    for key, (x, _) in checked.items():
        if x.shape[1:] != x_train.shape[1:]:
            raise DatasetError(
                f"{what}: samples in {key!r} have shape {x.shape[1:]} but in 'x_train' {x_train.shape[1:]}; they must match."
            )
    y_train, task, names = encode_labels(y_raw, spec.task, class_names, what=f"{what} labels")
    val_frac = 0.0 if "x_val" in checked else spec.validation_split
    test_frac = 0.0 if "x_test" in checked else spec.test_split
    tr, va, te = split_indices(
        len(x_train),
        val_frac,
        test_frac,
        shuffle=spec.shuffle,
        seed=spec.seed,
        labels=y_train if task in ("multiclass", "binary") else None,
        what=what,
    )

    def given(key: str, fallback: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if key in checked:
            x, y = checked[key]
            return x, encode_labels(y, task, names or None, what=f"{what} {key} labels")[0]
        return x_train[fallback], y_train[fallback]

    x_val, y_val = given("x_val", va)
    x_test, y_test = given("x_test", te)
    split: dict = {}
    if sources is not None:
        split["of"] = "samples"
        for part, key, rows in (("train", "x_train", tr), ("validation", "x_val", va),
                                ("test", "x_test", te)):  # fmt: skip
            if key in checked and key != "x_train":
                rows = np.arange(len(checked[key][0]))  # a pair of its own: all of it
            else:
                key = "x_train"
            path, name = sources[key]
            split[part] = {"path": str(path), "key": name, "rows": rows}
    return LoadedData(
        x_train[tr],
        y_train[tr],
        x_val,
        y_val,
        x_test,
        y_test,
        task=task,
        class_names=names,
        description=description or f"{what}: {len(x_train)} samples of shape {x_train.shape[1:]}",
        preprocessing=array_preprocessing(x_train.shape[1:], "x", scale=scale),
        split=split,
    )
