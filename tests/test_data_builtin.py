"""The shipped sample data sets."""

import numpy as np
import pytest

from deepgui.core.data import builtin_datasets, load_dataset
from deepgui.core.errors import DatasetError


def test_listed_with_existing_files():
    listed = builtin_datasets()
    assert [n for n, _, _ in listed] == ["digits", "iris", "sequence", "moons"]
    assert all(p.exists() and text for _, p, text in listed)
    assert sum(p.stat().st_size for _, p, _ in listed) < 400_000


@pytest.mark.parametrize(
    ("name", "shape", "classes", "total"),
    [
        ("digits", (8, 8, 1), 10, 1797),
        ("iris", (4,), 3, 150),
        ("sequence", (40, 1), 3, 1200),
        ("moons", (2,), 2, 500),
    ],
)
def test_builtin_shapes(name, shape, classes, total):
    data = load_dataset({"source": "builtin", "name": name, "validation_split": 0.2})
    assert data.sample_shape == shape and data.num_classes == classes
    assert data.num_train + len(data.y_val) == total
    assert data.y_train.dtype == np.int32 and data.y_train.max() == classes - 1
    assert np.isfinite(data.x_train).all()


def test_digits_real_and_scaled():
    data = load_dataset({"source": "builtin", "name": "digits", "validation_split": 0.0})
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert np.bincount(data.y_train).min() > 170  # the real set: about 180 of each digit


def test_iris_string_target():
    data = load_dataset({"source": "builtin", "name": "iris"})
    assert data.class_names == ["setosa", "versicolor", "virginica"]
    assert data.suggested_loss() == "sparse_categorical_crossentropy"


def test_unknown_name():
    with pytest.raises(
        DatasetError, match="the built-in data sets are digits, iris, sequence, moons"
    ):
        load_dataset({"source": "builtin", "name": "mnist"})


def test_sequence_learnable_by_a_small_lstm():
    """The shipped sequence task is meant for a first RNN: > 90% within a few epochs."""
    from deepgui.core.keras_layers import keras

    k = keras()
    k.utils.set_random_seed(0)
    data = load_dataset({"source": "builtin", "name": "sequence"})
    model = k.Sequential(
        [k.Input(data.sample_shape), k.layers.LSTM(16), k.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        data.x_train,
        data.y_train,
        validation_data=(data.x_val, data.y_val),
        epochs=4,
        batch_size=32,
        verbose=0,
    )
    assert max(history.history["val_accuracy"]) > 0.9


def test_empty_splits_are_none():
    data = load_dataset(
        {"source": "builtin", "name": "moons", "validation_split": 0.0, "test_split": 0.0}
    )
    assert data.x_val is None and data.y_val is None and data.x_test is None and data.y_test is None
    assert data.num_train == 500
