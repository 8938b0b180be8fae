"""Data against model before training: input shapes, output units, loss against labels."""

import numpy as np
import pytest

from deepgui.core.data import LoadedData, check_against_model, load_dataset, loss_name
from deepgui.core.keras_layers import keras


def dense_model(input_shape, units, activation="softmax", name="out"):
    k = keras()
    inp = k.Input(input_shape, name="input")
    x = k.layers.Flatten()(inp) if len(input_shape) > 1 else inp
    return k.Model(inp, k.layers.Dense(units, activation=activation, name=name)(x))


@pytest.fixture(scope="module")
def iris():
    return load_dataset({"source": "builtin", "name": "iris"})


@pytest.fixture(scope="module")
def moons():
    return load_dataset({"source": "builtin", "name": "moons"})


def test_matching_model_has_no_problems(iris):
    assert check_against_model(iris, dense_model((4,), 3), "sparse_categorical_crossentropy") == []


def test_wrong_class_count_names_both_sides(iris):
    problems = check_against_model(iris, dense_model((4,), 10))
    assert problems == [
        "The data has 3 classes but the last Dense ('out') has 10 units; set its units to 3."
    ]


def test_wrong_input_shape():
    digits = load_dataset({"source": "builtin", "name": "digits"})
    problems = check_against_model(digits, dense_model((28, 28, 1), 10))
    assert problems == [
        "The data's samples have shape (8, 8, 1) but the Input 'input' expects (28, 28, 1); set the Input's shape to (8, 8, 1)."
    ]


@pytest.mark.parametrize(
    ("loss", "expected"),
    [
        (
            "categorical_crossentropy",
            "expects one-hot labels but the data's labels are class indices; use sparse_categorical_crossentropy",
        ),
        (
            "binary_crossentropy",
            "is for two classes but the data has 3; use sparse_categorical_crossentropy",
        ),
        ("mse", "The loss mean_squared_error is for regression but the data has 3 classes"),
    ],
)
def test_loss_against_labels(iris, loss, expected):
    problems = check_against_model(iris, dense_model((4,), 3), loss)
    assert len(problems) == 1 and expected in problems[0]


def test_binary_accepts_one_sigmoid_or_two_softmax_units(moons):
    assert check_against_model(moons, dense_model((2,), 1, "sigmoid"), "binary_crossentropy") == []
    assert check_against_model(moons, dense_model((2,), 2), moons.suggested_loss(2)) == []
    problems = check_against_model(moons, dense_model((2,), 2), "binary_crossentropy")
    assert problems and "needs 1 output unit but the last Dense ('out') has 2" in problems[0]
    problems = check_against_model(moons, dense_model((2,), 1, "softmax"))
    assert problems and "always outputs 1" in problems[0]


def test_regression_target_with_class_loss():
    rng = np.random.default_rng(0)
    data = LoadedData(
        rng.normal(size=(10, 3)).astype("float32"),
        rng.normal(size=10).astype("float32"),
        task="regression",
    )
    problems = check_against_model(
        data, dense_model((3,), 1, None), "sparse_categorical_crossentropy"
    )
    assert (
        problems
        and "needs class labels but the data's target is a continuous value (regression); use mse"
        in problems[0]
    )
    assert check_against_model(data, dense_model((3,), 1, None), "mse") == []
    assert (
        "has 1 targets per sample but the last Dense ('out') has 4 units"
        in check_against_model(data, dense_model((3,), 4, None))[0]
    )


def test_unflattened_output():
    k = keras()
    inp = k.Input((8, 8, 1), name="image")
    out = k.layers.Dense(10, activation="softmax", name="out")(k.layers.Conv2D(4, 3)(inp))
    digits = load_dataset({"source": "builtin", "name": "digits"})
    problems = check_against_model(digits, k.Model(inp, out))
    assert problems and "outputs (6, 6, 10) per sample" in problems[0] and "Flatten" in problems[0]


def test_several_inputs_by_name_and_vocabulary(tmp_path):
    rows = [f'"word{i % 7} and more text here",{i},{i % 2}' for i in range(40)]
    (tmp_path / "r.csv").write_text("review,n,y\n" + "\n".join(rows) + "\n")
    data = load_dataset(
        {"source": "csv", "path": str(tmp_path / "r.csv"), "target": "y", "sequence_length": 6}
    )
    k = keras()
    text = k.Input((6,), name="review", dtype="int32")
    feats = k.Input((1,), name="features")
    emb = k.layers.GlobalAveragePooling1D()(
        k.layers.Embedding(data.extras["vocabulary_size"], 4)(text)
    )
    out = k.layers.Dense(1, activation="sigmoid")(k.layers.Concatenate()([emb, feats]))
    assert check_against_model(data, k.Model([text, feats], out), "binary_crossentropy") == []
    small = k.layers.GlobalAveragePooling1D()(k.layers.Embedding(3, 4, name="emb")(text))
    out2 = k.layers.Dense(1, activation="sigmoid")(k.layers.Concatenate()([small, feats]))
    problems = check_against_model(data, k.Model([text, feats], out2))
    assert problems == [
        f"The vocabulary has {data.extras['vocabulary_size']} tokens but the Embedding 'emb' has input_dim 3; "
        f"set its input_dim to {data.extras['vocabulary_size']}."
    ]
    wrong = k.Input((6,), name="words", dtype="int32")
    out3 = k.layers.Dense(1, activation="sigmoid")(
        k.layers.Concatenate()([k.layers.Flatten()(k.layers.Embedding(500, 2)(wrong)), feats])
    )
    problems = check_against_model(data, k.Model([wrong, feats], out3))
    assert problems and "Input 'words' gets no data" in problems[0] and "'review'" in problems[0]


def test_loss_names():
    k = keras()
    assert loss_name(k.losses.SparseCategoricalCrossentropy()) == "sparse_categorical_crossentropy"
    assert loss_name("MSE") == "mean_squared_error"
    assert loss_name(None) is None


def test_names_the_dense_behind_a_softmax_layer(iris):
    k = keras()
    inp = k.Input((4,), name="input")
    out = k.layers.Softmax(name="probabilities")(
        k.layers.Dropout(0.2)(k.layers.Dense(5, name="scores")(inp))
    )
    problems = check_against_model(iris, k.Model(inp, out))
    assert problems == [
        "The data has 3 classes but the last Dense ('scores') has 5 units; set its units to 3."
    ]
