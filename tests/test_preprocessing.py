"""The preprocessing layers: fitted on training rows, the same numbers whichever way strings go
in, carried as JSON, and never scaling twice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deepgui.core import signature
from deepgui.core.data import load_dataset
from deepgui.core.data.preprocessing import (
    Group,
    Preprocessing,
    category_input,
    model_scales_inputs,
    network_of,
    numeric_input,
    safe_input_name,
    text_input,
)
from deepgui.core.graph import Graph
from deepgui.core.keras_layers import keras
from deepgui.core.predict import Predictions
from tests.helpers import add
from tests.rawdata import write_image_folder


def table_preprocessing() -> tuple[Preprocessing, dict[str, np.ndarray]]:
    age = np.array([20.0, 30.0, np.nan, 50.0, 40.0])
    city = np.array(["oslo", "rome", "", "oslo", "lima"], dtype=object)
    text = np.array(["good day", "bad day", "good good", "", "bad"], dtype=object)
    inputs = [
        numeric_input("age", "age (y)", age, standardize=True),
        category_input("city", "city", city, city == ""),
        text_input("note", "note", text, length=4, max_tokens=100),
    ]
    pre = Preprocessing(
        inputs, [Group("note", ["note"]), Group("features", ["age", "city"])], table=True
    )
    raw = {"age": age.astype(np.float32), "city": city, "note": text}
    return pre, raw


def test_numeric_column_filled_with_the_median_and_standardized_on_training_values():
    pre, raw = table_preprocessing()
    age = pre.inputs[0]
    assert age.fill == 35.0  # median of 20, 30, 50, 40
    out = pre.apply(raw)
    present = np.array([20.0, 30.0, 50.0, 40.0])
    expected = (np.array([20, 30, 35, 50, 40]) - present.mean()) / present.std()
    assert np.allclose(out["features"][:, 0], expected, atol=1e-5)


def test_category_has_an_unseen_slot_and_text_its_own_input():
    pre, raw = table_preprocessing()
    out = pre.apply(raw)
    assert set(out) == {"note", "features"}
    city = out["features"][:, 1:]
    assert pre.inputs[1].vocabulary == ["lima", "oslo", "rome"] and city.shape == (5, 4)
    assert city[2].tolist() == [1, 0, 0, 0]  # the missing city: the unseen slot
    assert city[0].tolist() == [0, 0, 1, 0]  # oslo
    assert out["note"].shape == (5, 4) and out["note"][3].tolist() == [0, 0, 0, 0]


def test_strings_as_numbers_give_the_same_network_inputs():
    pre, raw = table_preprocessing()
    k = keras()
    inp = {"features": k.Input((5,), name="features"), "note": k.Input((4,), name="note")}
    pooled = k.layers.GlobalAveragePooling1D()(k.layers.Embedding(20, 3)(inp["note"]))
    out = k.layers.Dense(2)(k.layers.Concatenate()([inp["features"], pooled]))
    network = k.Model(inp, out, name="net")
    with_strings = pre.wrap(network)
    as_numbers = pre.wrap(network, strings=False)
    unseen = {**raw, "city": np.array(["paris"] * 5, dtype=object)}
    for rows in (raw, unseen):
        a = np.asarray(with_strings(rows))
        b = np.asarray(as_numbers(pre.numbers_for_strings(rows)))
        assert np.allclose(a, b, atol=1e-6)
    assert network_of(with_strings) is network


def test_the_description_survives_json_and_rebuilds_the_same_layers():
    pre, raw = table_preprocessing()
    text = json.dumps(pre.to_dict())
    again = Preprocessing.from_dict(json.loads(text))
    a, b = pre.apply(raw), again.apply(raw)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert "age (y): missing -> 35, standardized" in again.describe()
    with pytest.raises(Exception, match="not a valid preprocessing"):
        Preprocessing.from_dict({"format": "something else"})


def test_input_names_are_safe_in_every_format_and_unique():
    taken: set[str] = set()
    names = [safe_input_name(c, taken) for c in ["income ($)", "Income $", "2nd", "", "a/b"]]
    assert names == ["income", "Income_2", "c_2nd", "column", "a_b"]


def graph_with(first: str | None) -> Graph:
    g = Graph()
    node = add(g, "InputLayer", shape=[8, 8, 1])
    if first:
        node = add(g, first, node)
    add(g, "Dense", add(g, "Flatten", node), units=3, activation="softmax")
    return g


def test_images_reach_the_network_scaled_once(tmp_path: Path):
    folder = write_image_folder(tmp_path / "imgs", per_class=5)
    spec = {"source": "image_folder", "path": str(folder)}
    plain = load_dataset(spec, graph=graph_with(None))
    assert plain.raw_train.max() > 200 and plain.x_train.max() <= 1.0
    assert np.allclose(plain.x_train, plain.raw_train / 255, atol=1e-6)
    for first in ("Rescaling", "Normalization"):
        g = graph_with(first)
        assert model_scales_inputs(g)
        scaled = load_dataset(spec, graph=g)
        assert scaled.x_train is scaled.raw_train and scaled.x_train.max() > 200
    assert not model_scales_inputs(graph_with("Conv2D"))


def test_signature_beside_artefacts_and_samples_without_pickles(tmp_path: Path):
    assert signature.sidecar_path(tmp_path / "m.keras").name == "m.keras.signature.json"
    (tmp_path / "saved").mkdir()
    assert signature.sidecar_path(tmp_path / "saved").name == "saved.signature.json"
    pre, raw = table_preprocessing()
    sig = signature.Signature("binary", ["no", "yes"], pre)
    signature.write(sig, tmp_path / "m.keras.signature.json")
    found = signature.find(tmp_path / "m.keras")
    assert found.classes == ["no", "yes"] and found.preprocessing.table
    signature.write_samples(tmp_path, raw, np.array([0, 1, 0, 1, 1]))
    with np.load(tmp_path / signature.SAMPLES_FILE, allow_pickle=False) as npz:
        assert npz["x:city"].dtype.kind == "U"
    x, y = signature.read_samples(tmp_path)
    assert x["city"].tolist() == raw["city"].tolist() and y.tolist() == [0, 1, 0, 1, 1]


def test_predictions_one_column_per_class_and_accuracy():
    sigmoid = Predictions(["2", "3"], np.array([[0.2], [0.9]]), ["no", "yes"], "binary",
                          ["no", "no"], "bought")  # fmt: skip
    assert sigmoid.predicted == ["no", "yes"] and sigmoid.accuracy == 0.5
    header, rows = sigmoid.table()
    assert header == ["row", "predicted", "p(no)", "p(yes)", "bought"]
    assert rows[1][:4] == ["3", "yes", "0.100000", "0.900000"]
    assert "accuracy 0.5000" in sigmoid.summary()
    regression = Predictions(["a.png"], np.array([[3.5]]), [], "regression")
    assert regression.table() == (["file", "prediction"], [["a.png", "3.5"]])


def test_a_leading_normalization_learns_the_training_statistics(tmp_path: Path):
    from deepgui.core.training import TrainingConfig, TrainingEngine

    g = Graph()
    norm = add(g, "Normalization", add(g, "InputLayer", shape=[4]))
    add(g, "Dense", norm, units=3, activation="softmax")
    data = load_dataset({"source": "builtin", "name": "iris"}, graph=g)
    assert data.x_train.mean() > 2  # raw centimetres: the network's own layer scales them
    config = TrainingConfig.from_dict({"epochs": 1, "batch_size": 32})
    result = TrainingEngine(g, data, config, run_dir=tmp_path / "run").run()
    assert result.reason == "completed"
    layer = next(x for x in network_of(result.model).layers if type(x).__name__ == "Normalization")
    mean = np.asarray(layer.mean).reshape(-1)
    assert np.allclose(mean, data.x_train.mean(axis=0), rtol=1e-4)
    # The saved model takes the raw columns by name and gives the same outputs as in training.
    saved = keras().saving.load_model(tmp_path / "run" / "model.keras")
    assert np.allclose(saved(data.raw_val), result.model(data.x_val), atol=1e-5)


def test_rows_without_a_label_are_not_scored():
    out = Predictions(["2", "3", "4"], np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]),
                      ["a", "b"], "multiclass", ["a", "", "b"])  # fmt: skip
    assert out.accuracy == 0.5  # row 3 has no label: one right of two
    assert (
        Predictions(["2"], np.array([[0.9, 0.1]]), ["a", "b"], "multiclass", [""]).accuracy is None
    )


def test_an_image_model_takes_pictures_of_any_size(tmp_path: Path):
    """Resizing to the data set's size is inside the model, as the loader resized."""
    folder = write_image_folder(tmp_path / "imgs", per_class=3)
    data = load_dataset({"source": "image_folder", "path": str(folder)}, graph=graph_with(None))
    raw_input = data.preprocessing.inputs[0]
    assert raw_input.shape == [None, None, 1] and raw_input.resize == [8, 8]
    assert data.x_train.shape[1:] == (8, 8, 1)
    k = keras()
    inp = k.Input((8, 8, 1), name="image")
    network = k.Model(inp, k.layers.Dense(3)(k.layers.Flatten()(inp)), name="net")
    model = data.preprocessing.wrap(network)
    big = np.random.default_rng(0).uniform(0, 255, (2, 24, 16, 1)).astype("float32")
    resized = np.asarray(k.layers.Resizing(8, 8)(big))
    assert np.allclose(model(big), network(resized / 255), atol=1e-5)
