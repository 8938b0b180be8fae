"""The dataset spec (the dict read once into a DataSpec), splits and spec_from_path."""

import json
from dataclasses import FrozenInstanceError
from pathlib import Path

import numpy as np
import pytest

from deepgui.core.data import LoadedData, load_dataset, preview, spec_from_path
from deepgui.core.data.spec import (
    BuiltinOptions,
    CsvOptions,
    DataSpec,
    ImageOptions,
    KerasOptions,
    NpzOptions,
    TimeseriesOptions,
    normalize,
)
from deepgui.core.data.split import split_indices
from deepgui.core.errors import DatasetError


def test_defaults_filled_and_input_not_changed():
    spec = {"source": "builtin", "name": "digits"}
    out = normalize(spec)
    assert out["validation_split"] == 0.2 and out["seed"] == 42 and out["missing"] == "fill"
    assert spec == {"source": "builtin", "name": "digits"}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"source": "parquet"}, '"source"'),
        ({"source": "csv", "validation_split": 1.5}, '"validation_split"'),
        ({"source": "csv", "validation_split": 0.6, "test_split": 0.5}, '"test_split"'),
        ({"source": "csv", "seed": -1}, '"seed"'),
        ({"source": "csv", "shuffle": "yes"}, '"shuffle"'),
        ({"source": "csv", "missing": "guess"}, '"missing"'),
        ({"source": "csv", "task": "ranking"}, '"task"'),
    ],
)
def test_bad_fields_named(spec, field):
    with pytest.raises(DatasetError, match=field):
        normalize(spec)


def test_empty_spec_says_choose_a_source():
    with pytest.raises(DatasetError, match="No data set is chosen"):
        normalize({})


def test_split_reproducible_and_disjoint():
    labels = np.repeat(np.arange(3), 40)
    a = split_indices(120, 0.2, 0.1, seed=7, labels=labels)
    b = split_indices(120, 0.2, 0.1, seed=7, labels=labels)
    c = split_indices(120, 0.2, 0.1, seed=8, labels=labels)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)
    assert not np.array_equal(a[1], c[1])
    joined = np.concatenate(a)
    assert sorted(joined.tolist()) == list(range(120))
    assert [len(p) for p in a] == [84, 24, 12]
    # Stratified: each class keeps its share in validation.
    assert np.bincount(labels[a[1]]).tolist() == [8, 8, 8]


def test_split_without_shuffle_keeps_order():
    train, val, test = split_indices(10, 0.2, 0.1, shuffle=False)
    assert train.tolist() == list(range(7)) and val.tolist() == [7, 8] and test.tolist() == [9]


def test_split_too_small_is_clear():
    with pytest.raises(DatasetError, match="too few"):
        split_indices(2, 0.2, 0.0, what="tiny.csv")


def test_spec_from_path_kinds(tmp_path: Path):
    csv = tmp_path / "a.csv"
    csv.write_text("x,y\n1,2\n")
    npz = tmp_path / "a.npz"
    np.savez(npz, x=np.zeros((2, 2)), y=np.zeros(2))
    (tmp_path / "imgs").mkdir()
    assert spec_from_path(str(csv), "y") == {
        "source": "csv",
        "path": str(csv.resolve()),
        "target": "y",
    }
    assert spec_from_path(str(npz))["source"] == "npz"
    assert spec_from_path(str(tmp_path / "imgs"))["source"] == "image_folder"
    with pytest.raises(DatasetError, match="no such file"):
        spec_from_path(str(tmp_path / "nope.csv"))
    (tmp_path / "model.h5").write_bytes(b"x")
    with pytest.raises(DatasetError, match="cannot tell"):
        spec_from_path(str(tmp_path / "model.h5"))
    with pytest.raises(DatasetError, match="--target"):
        spec_from_path(str(npz), "y")


# ---------------------------------------------------------------- DataSpec: the dict read once


def _files(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    for name in ("t.csv", "v.csv", "a.npz", "s.csv"):
        (tmp_path / "data" / name).write_text("x,y\n1,2\n")
    (tmp_path / "data" / "imgs").mkdir()
    return tmp_path


def test_dataspec_defaults_and_resolved_paths(tmp_path: Path):
    base = _files(tmp_path)
    spec = DataSpec.from_dict({"source": "csv", "path": "data/t.csv", "missing": "error"}, base)
    assert (spec.validation_split, spec.test_split, spec.shuffle, spec.seed) == (0.2, 0.0, True, 42)
    assert spec.missing == "refuse" and spec.task is None and spec.class_names is None
    assert spec.options == CsvOptions(base / "data" / "t.csv")
    assert (spec.options.target, spec.options.sequence_length, spec.options.max_tokens) == (
        None,
        64,
        20000,
    )
    ts = DataSpec.from_dict({"source": "timeseries", "path": "data/s.csv", "target": "y"}, base)
    assert ts.options == TimeseriesOptions(base / "data" / "s.csv", "y", 24, 1, 1, None)
    digits = DataSpec.from_dict({"source": "builtin", "name": "digits"})
    assert isinstance(digits.options, BuiltinOptions) and digits.options.path.is_file()
    imdb = DataSpec.from_dict({"source": "keras", "name": "imdb"})
    assert imdb.options == KerasOptions("imdb", num_words=10000, maxlen=200)
    with pytest.raises(FrozenInstanceError):
        spec.seed = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "given",
    [
        {"source": "builtin", "name": "iris", "test_split": 0.1, "note": "kept as written"},
        {
            "source": "csv",
            "path": "data/t.csv",
            "validation_path": "data/v.csv",
            "target": "y",
            "columns": {"x": "category"},
            "class_names": ["a", "b"],
            "task": "binary",
            "window": 7,  # a timeseries field left from another source: kept, not read
        },
        {"source": "npz", "path": "data/a.npz", "seed": 0, "shuffle": False},
        {"source": "image_folder", "path": "data/imgs", "image_size": [8, 6], "rescale": False},
        {"source": "timeseries", "path": "data/s.csv", "target": "y", "features": ["x"]},
        {"source": "keras", "name": "imdb", "maxlen": 50},
    ],
)
def test_dataspec_to_dict_round_trip(tmp_path: Path, given: dict):
    base = _files(tmp_path)
    spec = DataSpec.from_dict(given, base)
    out = spec.to_dict()
    json.dumps(out)  # plain JSON, as a run records it
    assert out == {**normalize(given), **out}  # nothing the user wrote is lost...
    for key in ("path", "validation_path"):
        assert out.get(key) == given.get(key)  # ...and paths stay relative to the project
    assert {"validation_split", "test_split", "shuffle", "seed", "missing"} <= set(out)
    again = DataSpec.from_dict(out, base)
    assert again == spec and again.to_dict() == out


def test_dataspec_records_the_image_settings_used(tmp_path: Path):
    base = _files(tmp_path)
    spec = DataSpec.from_dict({"source": "image_folder", "path": "data/imgs"}, base)
    assert spec.options.image_size is None and "image_size" not in spec.to_dict()
    used = spec.with_options(image_size=(16, 16), color_mode="rgb")
    assert used.to_dict()["image_size"] == [16, 16] and used.to_dict()["color_mode"] == "rgb"
    assert spec.options.image_size is None  # frozen: the original is unchanged


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"source": "csv", "target": 3}, '"target"'),
        ({"source": "csv", "target": "y", "columns": ["x"]}, '"columns"'),
        ({"source": "csv", "target": "y", "columns": {"x": "date"}}, "the kind 'date'"),
        ({"source": "csv", "target": "y", "sequence_length": 0}, '"sequence_length"'),
        ({"source": "csv", "target": "y", "max_tokens": 2}, '"max_tokens"'),
        ({"source": "csv", "target": "y", "class_names": "ab"}, '"class_names"'),
        ({"source": "csv", "target": "y", "validation_path": "gone.csv"}, '"validation_path"'),
        ({"source": "timeseries", "target": "y", "window": "24"}, '"window"'),
        ({"source": "timeseries", "target": "y", "horizon": 0}, '"horizon"'),
        ({"source": "timeseries", "target": "y", "stride": 1.5}, '"stride"'),
        ({"source": "timeseries", "target": "y", "features": "x"}, '"features"'),
        ({"source": "image_folder", "image_size": [8]}, '"image_size"'),
        ({"source": "image_folder", "color_mode": "cmyk"}, '"color_mode"'),
        ({"source": "image_folder", "rescale": "no"}, '"rescale"'),
        ({"source": "keras", "name": "imdb", "num_words": 1}, '"num_words"'),
        ({"source": "keras", "name": "svhn"}, '"name"'),
        ({"source": "builtin", "name": "wine"}, '"name"'),
    ],
)
def test_bad_field_reported_before_any_file_is_read(
    tmp_path: Path, monkeypatch, given: dict, field: str
):
    """The loaders are handed a checked DataSpec: a bad field stops the load before a file is
    opened or a data set downloaded."""
    import deepgui.core.data.images as images
    import deepgui.core.data.keras_sets as keras_sets
    import deepgui.core.data.tabular as tabular
    import deepgui.core.data.timeseries as timeseries

    def no_reading(*_, **__):
        raise AssertionError("a file was read before the spec was checked")

    for module, name in [
        (tabular, "read_csv"),
        (timeseries, "read_csv"),
        (images, "class_folders"),
        (keras_sets, "load_keras_set"),
    ]:
        monkeypatch.setattr(module, name, no_reading)
    (tmp_path / "d.csv").write_text("x,y\n1,2\n")
    (tmp_path / "imgs").mkdir()
    path = {"csv": "d.csv", "timeseries": "d.csv", "image_folder": "imgs"}.get(given["source"])
    spec = {**given, "path": path} if path else given
    with pytest.raises(DatasetError, match=field):
        load_dataset(spec, tmp_path)
    with pytest.raises(DatasetError, match=field):
        preview(spec, tmp_path)


@pytest.mark.parametrize(
    ("given", "module", "loader", "options"),
    [
        ({"source": "builtin", "name": "digits"}, "builtin", "load_builtin", BuiltinOptions),
        ({"source": "csv", "path": "data/t.csv"}, "tabular", "load_csv", CsvOptions),
        ({"source": "npz", "path": "data/a.npz"}, "arrays", "load_npz", NpzOptions),
        (
            {"source": "image_folder", "path": "data/imgs"},
            "images",
            "load_image_folder",
            ImageOptions,
        ),
        (
            {"source": "timeseries", "path": "data/s.csv"},
            "timeseries",
            "load_timeseries",
            TimeseriesOptions,
        ),
        ({"source": "keras", "name": "mnist"}, "keras_sets", "load_keras_set", KerasOptions),
    ],
)
def test_each_loader_is_handed_a_dataspec(
    tmp_path: Path, monkeypatch, given: dict, module: str, loader: str, options: type
):
    import importlib

    base = _files(tmp_path)
    seen = []

    def fake(spec, opts, *_, **__):
        seen.append((spec, opts))
        extras = {"image_size": [8, 8], "color_mode": "rgb"} if options is ImageOptions else {}
        return LoadedData(np.zeros((4, 2), np.float32), np.arange(4) % 2, extras=extras)

    monkeypatch.setattr(importlib.import_module(f"deepgui.core.data.{module}"), loader, fake)
    data = load_dataset({**given, "validation_split": 0.25}, base)
    ((spec, opts),) = seen
    assert isinstance(spec, DataSpec) and isinstance(opts, options) and opts is spec.options
    assert spec.validation_split == 0.25
    expected = DataSpec.from_dict({**given, "validation_split": 0.25}, base)
    if options is ImageOptions:  # the size and colour mode used are recorded
        expected = expected.with_options(image_size=(8, 8), color_mode="rgb")
    assert data.spec == expected.to_dict()
