"""Loading the sample data sets shipped in resources/datasets (never downloaded); which they are
is in `shipped` (its names are here too, where callers look for them)."""

from __future__ import annotations

from deepgui.core.data.arrays import from_arrays, read_npz
from deepgui.core.data.base import LoadedData
from deepgui.core.data.shipped import (  # noqa: F401 (callers find them here)
    BUILTIN,
    builtin_datasets,
    builtin_file,
    builtin_path,
)
from deepgui.core.data.spec import BuiltinOptions, CsvOptions, DataSpec
from deepgui.core.data.tabular import load_csv


def load_builtin(spec: DataSpec, opts: BuiltinOptions, *, standardize: bool = True) -> LoadedData:
    """A shipped sample: its CSV read as a CSV source with the sample's target, its arrays with
    the sample's class names and known pixel range; the split settings are `spec`'s."""
    how = BUILTIN[opts.name][2]
    if opts.path.suffix == ".csv":
        data = load_csv(spec, CsvOptions(opts.path, how["target"]), standardize=standardize)
    else:
        arrays = read_npz(opts.path)
        data = from_arrays(
            {"x_train": (arrays["x"], arrays["y"])},
            spec,
            what=opts.path.name,
            class_names=how["class_names"],
            scale=how["scale"] if standardize and how["scale"] != 1.0 else None,
            sources={"x_train": (opts.path, "x")},
        )
    data.description = f"{opts.name}: {BUILTIN[opts.name][1]}"
    return data
