"""The dataset spec, splits and spec_from_path."""

from pathlib import Path

import numpy as np
import pytest

from deepgui.core.data import spec_from_path
from deepgui.core.data.spec import normalize
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
