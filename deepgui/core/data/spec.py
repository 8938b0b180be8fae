"""The dataset spec: a project's ``dataset`` dict (JSON) read once, at the edge, into a typed
`DataSpec`: every field checked and defaulted, every path resolved against the project's folder
and found, so the loaders read attributes and check nothing twice. Also guessing a spec from a
path given on the command line."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from deepgui.core import fileio
from deepgui.core.data.keras_sets import KERAS_SETS
from deepgui.core.data.shipped import builtin_file
from deepgui.core.data.table import KINDS
from deepgui.core.errors import DatasetError

SOURCES = ("builtin", "csv", "npz", "image_folder", "timeseries", "keras")
# The one default of each field every source takes: loading, the command line and the Data panel
# of a project that does not set the field all read it here.
DEFAULTS: dict[str, Any] = {
    "validation_split": 0.2, "test_split": 0.0, "shuffle": True, "seed": 42, "missing": "fill",
}  # fmt: skip
MISSING_CHOICES = ("fill", "drop", "refuse", "error")  # "error": the old name of "refuse"
TASK_CHOICES = ("multiclass", "binary", "regression", "multilabel")
COLOR_MODES = ("grayscale", "rgb", "rgba")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")


# What each source reads. Paths are resolved and known to exist; a target that is not chosen
# is None, so the loader can ask for one while naming the file's columns.


@dataclass(frozen=True)
class BuiltinOptions:
    name: str
    path: Path  # the shipped file


@dataclass(frozen=True)
class CsvOptions:
    path: Path
    # One column name, or several (a tuple) for a model with one output per target column.
    target: str | tuple[str, ...] | None = None
    validation_path: Path | None = None
    test_path: Path | None = None
    columns: tuple[tuple[str, str | None], ...] = ()  # (column, kind) pairs overriding the guess
    sequence_length: int = 64  # tokens per text column
    max_tokens: int = 20000  # vocabulary of a text column


@dataclass(frozen=True)
class NpzOptions:
    path: Path
    validation_path: Path | None = None
    test_path: Path | None = None


@dataclass(frozen=True)
class ImageOptions:
    path: Path
    validation_path: Path | None = None
    test_path: Path | None = None
    # None: the model's Input decides, else the first image (known only when loading).
    image_size: tuple[int, int] | None = None
    color_mode: str | None = None
    rescale: bool = True


@dataclass(frozen=True)
class TimeseriesOptions:
    path: Path
    target: str | None = None
    window: int = 24
    horizon: int = 1
    stride: int = 1
    features: tuple[str, ...] | None = None  # None: every numeric column


@dataclass(frozen=True)
class KerasOptions:
    name: str
    num_words: int = 10000  # imdb only
    maxlen: int = 200  # imdb only


SourceOptions = (
    BuiltinOptions | CsvOptions | NpzOptions | ImageOptions | TimeseriesOptions | KerasOptions
)


@dataclass(frozen=True)
class DataSpec:
    """Which source and how to read and split it; built by `from_dict`, handed to the loaders."""

    source: str
    options: SourceOptions
    validation_split: float = DEFAULTS["validation_split"]
    test_split: float = DEFAULTS["test_split"]
    shuffle: bool = DEFAULTS["shuffle"]
    seed: int = DEFAULTS["seed"]
    missing: str = DEFAULTS["missing"]  # "fill" | "drop" | "refuse"
    task: str | None = None  # None: inferred from the labels
    class_names: tuple[str, ...] | None = None  # None: inferred from the labels
    # The dict as given (defaults filled): `to_dict` keeps its paths as written, relative to
    # the project, and the keys this source does not read (a field of another source stays
    # when the user switches back and forth).
    given: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, spec: Any, base_dir: Path | None = None) -> DataSpec:
        """DatasetError names the first bad field; relative paths resolve against `base_dir`."""
        out = normalize(spec)
        class_names = out.get("class_names")
        if class_names is not None and not (
            isinstance(class_names, list) and all(isinstance(c, str) for c in class_names)
        ):
            raise DatasetError('The dataset field "class_names" must be a list of strings.')
        base = Path(base_dir) if base_dir is not None else None
        return cls(
            source=out["source"],
            options=_READERS[out["source"]](out, base),
            validation_split=float(out["validation_split"]),
            test_split=float(out["test_split"]),
            shuffle=out["shuffle"],
            seed=out["seed"],
            missing=out["missing"],
            task=out.get("task"),
            class_names=tuple(class_names) if class_names is not None else None,
            given=MappingProxyType(out),
        )

    def to_dict(self) -> dict[str, Any]:
        """The spec with every default filled in, as JSON: what a run records to be reproduced,
        and what `from_dict` reads back to an equal spec."""
        out = dict(self.given)
        out.update(
            source=self.source, validation_split=self.validation_split,
            test_split=self.test_split, shuffle=self.shuffle, seed=self.seed, missing=self.missing,
        )  # fmt: skip
        if self.task is not None:
            out["task"] = self.task
        if self.class_names is not None:
            out["class_names"] = list(self.class_names)
        for f in fields(self.options):
            value = getattr(self.options, f.name)
            if value is None or isinstance(value, Path):  # paths stay as the user wrote them
                continue
            if f.name == "columns":
                out[f.name] = dict(value)
            else:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def with_options(self, **changes: Any) -> DataSpec:
        """This spec with some of its source's options changed (an image folder's size and colour
        mode, once known, are recorded that way)."""
        return replace(self, options=replace(self.options, **changes))


def normalize(spec: Any) -> dict[str, Any]:
    """A copy of `spec` with the fields every source takes checked and defaulted; DatasetError
    names the first bad field. `DataSpec.from_dict` goes on to the source's own fields."""
    if not isinstance(spec, dict):
        raise DatasetError(
            'The dataset settings must be an object such as {"source": "builtin", "name": "digits"}.'
        )
    if not spec:
        raise DatasetError(
            'No data set is chosen: set the dataset\'s "source" (for example "builtin" with "name": "digits").'
        )
    out = {**DEFAULTS, **spec}
    source = out.get("source")
    if source not in SOURCES:
        raise DatasetError(
            f'The dataset field "source" is {source!r}; it must be one of {", ".join(SOURCES)}.'
        )
    for key in ("validation_split", "test_split"):
        value = out[key]
        if not _is_number(value) or not 0.0 <= value < 1.0:
            raise DatasetError(
                f'The dataset field "{key}" must be a fraction from 0 up to (not including) 1, not {value!r}.'
            )
    if out["validation_split"] + out["test_split"] >= 1.0:
        raise DatasetError(
            'The dataset fields "validation_split" and "test_split" add up to 1 or more: nothing is left to train on.'
        )
    _check_bool(out, "shuffle")
    seed = out["seed"]
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise DatasetError(f'The dataset field "seed" must be a whole number from 0, not {seed!r}.')
    missing = out["missing"]
    if missing not in MISSING_CHOICES:
        raise DatasetError(
            f'The dataset field "missing" must be fill, drop or refuse, not {missing!r}.'
        )
    if missing == "error":
        out["missing"] = "refuse"
    task = out.get("task")
    if task is not None and task not in TASK_CHOICES:
        raise DatasetError(
            f'The dataset field "task" must be one of {", ".join(TASK_CHOICES)}, not {task!r}.'
        )
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_bool(spec: dict[str, Any], key: str, default: bool = True) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise DatasetError(f'The dataset field "{key}" must be true or false, not {value!r}.')
    return value


def positive_int(
    spec: dict[str, Any], key: str, default: int | None = None, minimum: int = 1
) -> int:
    value = spec.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise DatasetError(
            f'The dataset field "{key}" must be a whole number from {minimum}, not {value!r}.'
        )
    return value


def resolve(
    spec: Mapping[str, Any],
    key: str,
    base_dir: Path | None,
    *,
    required: bool = True,
    kind: str = "any",
) -> Path | None:
    """The path in `spec[key]`, relative to `base_dir`; DatasetError when it is needed and absent,
    or is not of `kind`: "file" (a regular file: never a device or a pipe, which would hang or
    never end), "folder", or "any" of the two."""
    value = spec.get(key)
    if value is None or value == "":
        if required:
            raise DatasetError(f'The dataset field "{key}" is empty: choose the file to load.')
        return None
    if not isinstance(value, str):
        raise DatasetError(f'The dataset field "{key}" must be a path, not {value!r}.')
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if "\x00" in str(path):
        raise DatasetError(f'The dataset field "{key}" holds a NUL character: not a path.')
    if not path.exists():
        raise DatasetError(f'{path}: no such file or folder (dataset field "{key}").')
    if path.is_dir():
        if kind == "file":
            raise DatasetError(f'{path}: is a folder, not a data file (dataset field "{key}").')
        return path
    if kind == "folder":
        raise DatasetError(
            f'{path}: is not a folder (dataset field "{key}"); an image data set is a folder '
            "with one subfolder per class."
        )
    try:
        fileio.check_file(path, "data file", error=DatasetError)
    except DatasetError as exc:
        raise DatasetError(f'{str(exc).rstrip(".")} (dataset field "{key}").') from None
    return path


def _target(spec: dict[str, Any], several: bool = False) -> str | tuple[str, ...] | None:
    """The target column, or with `several` (a CSV) a list of them as a tuple; a list of one
    is that one name, so the spec reads and records exactly as a single target always did."""
    target = spec.get("target")
    if target is None or target == "" or target == []:
        return None
    if several and isinstance(target, list):
        return _target_list(target)
    if not isinstance(target, str):
        what = "a column name or a list of column names" if several else "a column name"
        raise DatasetError(f'The dataset field "target" must be {what}, not {target!r}.')
    return target


def _target_list(names: list[Any]) -> str | tuple[str, ...]:
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise DatasetError(f'The dataset field "target" must list column names, not {names!r}.')
    repeated = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if repeated is not None:
        raise DatasetError(f'The dataset field "target" names the column {repeated!r} twice.')
    return names[0] if len(names) == 1 else tuple(names)


def target_columns(target: str | tuple[str, ...] | list[str] | None) -> list[str]:
    """The target column names a spec's "target" holds: none, one, or several."""
    if target is None or target == "":
        return []
    return [target] if isinstance(target, str) else list(target)


def parse_targets(text: str) -> str | list[str]:
    """`--target kind,price` as the spec's "target": one name, or a list of several."""
    names = [n.strip() for n in str(text).split(",")]
    if not any(names):
        raise DatasetError(f"--target must name a column, not {text!r}.")
    if not all(names):
        raise DatasetError(
            f"--target {text!r} has an empty column name; separate the names with single commas."
        )
    found = _target_list(names)
    return found if isinstance(found, str) else list(found)


def _files(spec: dict[str, Any], base: Path | None, kind: str = "file") -> dict[str, Path | None]:
    return {
        "path": resolve(spec, "path", base, kind=kind),
        "validation_path": resolve(spec, "validation_path", base, required=False, kind=kind),
        "test_path": resolve(spec, "test_path", base, required=False, kind=kind),
    }


def _builtin(spec: dict[str, Any], base: Path | None) -> BuiltinOptions:
    name = spec.get("name")
    return BuiltinOptions(name, builtin_file(name)[0])


def _csv(spec: dict[str, Any], base: Path | None) -> CsvOptions:
    files = _files(spec, base)
    target = _target(spec, several=True)
    columns = spec.get("columns") or {}
    if not isinstance(columns, dict):
        raise DatasetError(
            'The dataset field "columns" must map column names to "numeric", "category", "text" or "ignore".'
        )
    for name, kind in columns.items():
        if kind is not None and kind not in KINDS:  # None: guess, as for an unnamed column
            raise DatasetError(
                f'The dataset field "columns" gives {name!r} the kind {kind!r}; use one of {", ".join(KINDS)}.'
            )
        if kind == "ignore" and isinstance(target, tuple) and name in target:
            raise DatasetError(
                f'The column {name!r} is a target, but the dataset field "columns" marks it '
                '"ignore"; choose one or the other.'
            )
    if isinstance(target, tuple):
        given = [key for key in ("task", "class_names") if spec.get(key) is not None]
        if given:
            raise DatasetError(
                f'The dataset field "{given[0]}" describes one target, but "target" names '
                f"{len(target)} ({', '.join(target)}); remove it: each target's task is read "
                "from its column."
            )
    return CsvOptions(
        **files,
        target=target,
        columns=tuple(columns.items()),
        sequence_length=positive_int(spec, "sequence_length", 64),
        max_tokens=positive_int(spec, "max_tokens", 20000, minimum=3),
    )


def _npz(spec: dict[str, Any], base: Path | None) -> NpzOptions:
    return NpzOptions(**_files(spec, base))


def _image_folder(spec: dict[str, Any], base: Path | None) -> ImageOptions:
    files = _files(spec, base, kind="folder")
    size = spec.get("image_size")
    if size is not None and not (
        isinstance(size, list | tuple)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)
    ):
        raise DatasetError(
            f'The dataset field "image_size" must be [height, width] in pixels, not {size!r}.'
        )
    mode = spec.get("color_mode")
    if mode is not None and mode not in COLOR_MODES:
        raise DatasetError(
            f'The dataset field "color_mode" must be "grayscale", "rgb" or "rgba", not {mode!r}.'
        )
    return ImageOptions(
        **files,
        image_size=(size[0], size[1]) if size is not None else None,
        color_mode=mode,
        rescale=_check_bool(spec, "rescale"),
    )


def _timeseries(spec: dict[str, Any], base: Path | None) -> TimeseriesOptions:
    path = resolve(spec, "path", base, kind="file")
    target = _target(spec)
    window = positive_int(spec, "window", TimeseriesOptions.window)
    horizon = positive_int(spec, "horizon", TimeseriesOptions.horizon)
    stride = positive_int(spec, "stride", TimeseriesOptions.stride)
    named = spec.get("features")
    if named is not None and not (
        isinstance(named, list) and all(isinstance(n, str) for n in named)
    ):
        raise DatasetError('The dataset field "features" must be a list of column names.')
    return TimeseriesOptions(
        path, target, window, horizon, stride, features=tuple(named) if named else None
    )


def _keras(spec: dict[str, Any], base: Path | None) -> KerasOptions:
    name = spec.get("name")
    if not isinstance(name, str) or name not in KERAS_SETS:
        raise DatasetError(
            f'The dataset field "name" is {name!r}; the Keras data sets are {", ".join(KERAS_SETS)}.'
        )
    return KerasOptions(
        name,
        num_words=positive_int(spec, "num_words", 10000, minimum=3),
        maxlen=positive_int(spec, "maxlen", 200),
    )


_READERS = {
    "builtin": _builtin,
    "csv": _csv,
    "npz": _npz,
    "image_folder": _image_folder,
    "timeseries": _timeseries,
    "keras": _keras,
}


def spec_from_path(path: str, target: str | list[str] | None = None) -> dict[str, Any]:
    """Guess the spec for a path from the command line: a folder of images, a .npz or a CSV.
    The path is made absolute, since a project's own relative paths are read from its folder."""
    p = Path(path).expanduser()
    if "\x00" in str(path) or not p.exists():
        raise DatasetError(f"{path}: no such file or folder.")
    if not p.is_dir():  # a device or a pipe would hang the reader or never end
        fileio.check_file(p, "data file", error=DatasetError)
    p = p.resolve()
    if p.is_dir():
        spec: dict[str, Any] = {"source": "image_folder", "path": str(p)}
    elif p.suffix.lower() == ".npz":
        spec = {"source": "npz", "path": str(p)}
    elif p.suffix.lower() in CSV_SUFFIXES:
        spec = {"source": "csv", "path": str(p)}
        if target:
            spec["target"] = target
    else:
        raise DatasetError(
            f"{path}: cannot tell what kind of data this is; give a CSV file (.csv, .tsv), "
            "a NumPy file (.npz) or a folder with one subfolder of images per class."
        )
    if target and spec["source"] != "csv":
        raise DatasetError(f"{path}: --target names a CSV column, but this is not a CSV file.")
    return spec
