"""NumPy .npz data sets."""

from pathlib import Path

import numpy as np
import pytest

from deepgui.core.data import load_dataset, preview
from deepgui.core.errors import DatasetError


def test_x_y_split_and_reproducible(tmp_path: Path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(100, 5, 3)), y=np.arange(100) % 4)
    spec = {"source": "npz", "path": "d.npz", "validation_split": 0.2, "test_split": 0.1, "seed": 1}
    a = load_dataset(spec, tmp_path)
    b = load_dataset(spec, tmp_path)
    assert (
        a.x_train.shape == (70, 5, 3)
        and a.x_val.shape == (20, 5, 3)
        and a.x_test.shape == (10, 5, 3)
    )
    assert a.x_train.dtype == np.float32 and a.task == "multiclass" and a.num_classes == 4
    assert np.array_equal(a.x_test, b.x_test)


def test_named_splits_kept(tmp_path: Path):
    np.savez(
        tmp_path / "d.npz",
        x_train=np.ones((30, 2)),
        y_train=np.arange(30) % 2,
        x_val=np.zeros((5, 2)),
        y_val=np.array([0, 1, 0, 1, 1]),
        x_test=np.zeros((4, 2)),
        y_test=np.array([1, 1, 0, 0]),
    )
    data = load_dataset({"source": "npz", "path": str(tmp_path / "d.npz")})
    assert (
        data.num_train == 30
        and data.y_val.tolist() == [0, 1, 0, 1, 1]
        and data.y_test.tolist() == [1, 1, 0, 0]
    )
    assert data.task == "binary"


def test_one_hot_labels_become_indices(tmp_path: Path):
    y = np.eye(3)[np.arange(30) % 3]
    np.savez(tmp_path / "d.npz", x=np.ones((30, 4)), y=y)
    data = load_dataset({"source": "npz", "path": str(tmp_path / "d.npz")})
    assert data.y_train.ndim == 1 and data.task == "multiclass" and data.num_classes == 3


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"a": np.ones((3, 2)), "b": np.ones(3)}, 'has the arrays a, b; name the features "x"'),
        ({"x": np.ones((10, 2)), "y": np.ones(9)}, "has 10 samples but its labels have 9"),
        ({"x": np.full((10, 2), np.nan), "y": np.arange(10) % 2}, "NaN or infinite values"),
        (
            {
                "x_train": np.ones((10, 2)),
                "y_train": np.arange(10) % 2,
                "x_val": np.ones((3, 5)),
                "y_val": np.ones(3),
            },
            r"shape \(5,\) but in 'x_train' \(2,\)",
        ),
        ({"x": np.array(["a", "b"]), "y": np.ones(2)}, "features must be numbers"),
    ],
)
def test_bad_arrays_named(tmp_path: Path, arrays: dict, message: str):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DatasetError, match=message):
        load_dataset({"source": "npz", "path": str(tmp_path / "bad.npz")})


def test_corrupt_and_pickled_files(tmp_path: Path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(DatasetError, match="junk.npz: is not a readable NumPy"):
        load_dataset({"source": "npz", "path": str(tmp_path / "junk.npz")})
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}, None], dtype=object), y=np.ones(2))
    with pytest.raises(DatasetError, match="Python objects"):
        load_dataset({"source": "npz", "path": str(tmp_path / "obj.npz")})


def test_zero_dimensional_arrays_refused(tmp_path: Path):
    np.savez(tmp_path / "scalar.npz", x=np.float64(3), y=np.float64(1))
    with pytest.raises(DatasetError, match="is a single number"):
        load_dataset({"source": "npz", "path": str(tmp_path / "scalar.npz")})
    assert "samples" not in preview({"source": "npz", "path": str(tmp_path / "scalar.npz")})


def test_separate_validation_and_test_files(tmp_path: Path):
    np.savez(tmp_path / "train.npz", x=np.ones((20, 3)), y=np.arange(20) % 2)
    np.savez(tmp_path / "val.npz", x=np.zeros((4, 3)), y=np.array([1, 0, 1, 1]))
    np.savez(tmp_path / "test.npz", x=np.zeros((3, 3)), y=np.array([0, 0, 1]))
    spec = {
        "source": "npz",
        "path": "train.npz",
        "validation_path": "val.npz",
        "test_path": "test.npz",
    }
    data = load_dataset(spec, tmp_path)
    assert (
        data.num_train == 20
        and data.y_val.tolist() == [1, 0, 1, 1]
        and data.y_test.tolist() == [0, 0, 1]
    )
    np.savez(tmp_path / "val.npz", features=np.zeros((4, 3)))
    with pytest.raises(
        DatasetError, match=r'val.npz: needs arrays "x" and "y" \(dataset field "validation_path"\)'
    ):
        load_dataset(spec, tmp_path)
