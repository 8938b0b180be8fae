"""Data sources: built-in samples, CSV, NumPy, image folders, time series, Keras's sets.

A project's ``dataset`` dict (JSON) names the source and how to read and split it. Fields every
source takes (defaults in brackets):

    source            "builtin" | "csv" | "npz" | "image_folder" | "timeseries" | "keras"
    validation_split  fraction of the samples held out for validation [0.2]
    test_split        fraction held out for testing [0.0]
    shuffle           shuffle before splitting (stratified by class for classification) [true];
                      false keeps the file's order and takes the last rows
    seed              the split's seed: the same spec and seed give the same split [42]
    task              override "multiclass" | "binary" | "regression" | "multilabel" [inferred]
    class_names       names of the classes, in label order [inferred]
    missing           gaps in a CSV: "fill" fills missing features inside the model (the training
                      split's median; an unseen-category slot) and drops rows without a target,
                      "drop" leaves out every row with a gap, "refuse" reports them by row and
                      column [fill]

Per source:

    builtin       "name": "digits" | "iris" | "sequence" | "moons" (see builtin_datasets())
    csv           "path", "target" (the label column, or a list of columns: one per model
                  output, each feeding the output layer named after it), "validation_path" /
                  "test_path" (separate files with the same columns, instead of the
                  fractions), "columns" ({name:
                  "numeric" | "category" | "text" | "ignore"} to override the guess),
                  "sequence_length" [64] and "max_tokens" [20000] for text columns
    npz           "path"; arrays x and y, or x_train, y_train (+ x_val, y_val, x_test, y_test);
                  or "validation_path" / "test_path", files with arrays x and y
    image_folder  "path" (one subfolder per class), "image_size" [height, width], "color_mode"
                  "grayscale" | "rgb" | "rgba", "rescale" [true], "validation_path" /
                  "test_path" (folders with the same class subfolders); see images.py
    timeseries    "path", "target", "window" [24], "horizon" [1], "stride" [1], "features"
    keras         "name": "mnist" | "fashion_mnist" | "cifar10" | "imdb"; imdb takes
                  "num_words" [10000] and "maxlen" [200]

A separate validation or test file replaces the matching fraction. Relative paths resolve
against the project's folder. The dict is read once, at the edge, into a `DataSpec` (spec.py):
every field checked and defaulted, every path found, before any file is read; the loaders are
handed that and read its attributes. Every source reads the data as the user has it (raw CSV cells,
pixel values 0-255) into NumPy arrays, splits it, and fits a `Preprocessing` (preprocessing.py)
on the training split: Keras layers that the trained model carries in front of the network, so
the model and its exports take raw data. Image folders are read whole into memory as float32
(refused up front when that would pass half the RAM), because every source then hands ``fit``
the same thing and the split, checks and preview need no second code path. A CSV gives one
named input per feature column; its numeric and category columns become one "features" vector
for the network, each free-text column its own integer-sequence input (named after the column).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepgui.core.data import arrays, builtin, images, keras_sets, tabular, timeseries
from deepgui.core.data.base import TASKS, LoadedData, rows
from deepgui.core.data.check import check_against_model, loss_name
from deepgui.core.data.preprocessing import model_scales_inputs
from deepgui.core.data.preview import preview
from deepgui.core.data.shipped import builtin_datasets
from deepgui.core.data.spec import (
    BuiltinOptions,
    CsvOptions,
    DataSpec,
    ImageOptions,
    KerasOptions,
    NpzOptions,
    TimeseriesOptions,
    spec_from_path,
)
from deepgui.core.errors import DatasetError

__all__ = [
    "TASKS",
    "DataSpec",
    "DatasetError",
    "LoadedData",
    "builtin_datasets",
    "check_against_model",
    "load_dataset",
    "loss_name",
    "preview",
    "spec_from_path",
]


def load_dataset(
    spec_dict: dict[str, Any],
    base_dir: Path | None = None,
    *,
    input_shape: tuple | None = None,
    graph: Any = None,
) -> LoadedData:
    """Load and split the data `spec_dict` describes, and fit its preprocessing on the training
    split. The dict is read once into a `DataSpec` (every field checked, paths found) that the
    loaders are handed. `input_shape` (the model's Input shape without the batch axis) lets an
    image folder default its size and colour mode to what the model takes; `graph`, the network,
    tells whether it scales its inputs itself (then the preprocessing leaves the scaling to it).
    The result keeps the raw splits (raw_train, ...) and the network-ready ones (x_train, ...),
    and in `spec` the dict with every default filled in. Every problem is a DatasetError naming
    the file, column or field."""
    spec = DataSpec.from_dict(spec_dict, base_dir)
    standardize = not model_scales_inputs(graph)
    match spec.options:
        case BuiltinOptions() as opts:
            data = builtin.load_builtin(spec, opts, standardize=standardize)
        case CsvOptions() as opts:
            data = tabular.load_csv(spec, opts, standardize=standardize)
        case NpzOptions() as opts:
            data = arrays.load_npz(spec, opts)
        case ImageOptions() as opts:
            data = images.load_image_folder(spec, opts, input_shape, standardize=standardize)
            # Record the size and colour mode actually used (the model's or the first image's).
            size, mode = data.extras["image_size"], data.extras["color_mode"]
            spec = spec.with_options(image_size=tuple(size), color_mode=mode)
        case TimeseriesOptions() as opts:
            data = timeseries.load_timeseries(spec, opts, standardize=standardize)
        case KerasOptions() as opts:
            data = keras_sets.load_keras_set(spec, opts, standardize=standardize)
    # An empty split is an absent one: callers test `is None`, not the length.
    if data.y_val is not None and rows(data.y_val) == 0:
        data.x_val = data.y_val = None
    if data.y_test is not None and rows(data.y_test) == 0:
        data.x_test = data.y_test = None
    data.spec = spec.to_dict()
    return preprocess(data)


def preprocess(data: LoadedData) -> LoadedData:
    """Keep the loader's raw splits and compute the network's arrays with the adapted layers,
    once (what a cached tf.data map would do, without running the layers every epoch)."""
    data.raw_train, data.raw_val, data.raw_test = data.x_train, data.x_val, data.x_test
    pre = data.preprocessing
    if pre is not None and pre.changes(data.raw_train):
        data.x_train = pre.apply(data.raw_train)
        data.x_val = pre.apply(data.raw_val)
        data.x_test = pre.apply(data.raw_test)
    return data
