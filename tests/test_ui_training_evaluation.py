"""Evaluation after training: metrics on the held-out split, the confusion matrix, sample
predictions, predicted-against-actual for regression, and predicting on a picked file."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from deepgui.core.data.base import LoadedData  # noqa: E402
from deepgui.core.errors import DatasetError  # noqa: E402
from deepgui.ui.training.evaluation_data import (  # noqa: E402
    confusion_matrix,
    evaluate,
    load_inputs,
    predict_file,
)
from deepgui.ui.training.evaluation_view import EvaluationView  # noqa: E402

pytestmark = pytest.mark.ui


def test_confusion_matrix_counts_true_against_predicted():
    m = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]


def test_load_inputs_shapes_and_refusals(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros((5, 64)))
    assert load_inputs(tmp_path / "a.npz", (8, 8, 1)).shape == (5, 8, 8, 1)
    np.save(tmp_path / "one.npy", np.ones((8, 8, 1)))
    assert load_inputs(tmp_path / "one.npy", (8, 8, 1)).shape == (1, 8, 8, 1)
    (tmp_path / "rows.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    assert load_inputs(tmp_path / "rows.csv", (3,)).tolist() == [[1, 2, 3], [4, 5, 6]]
    with pytest.raises(DatasetError, match="one column too many"):
        load_inputs(tmp_path / "rows.csv", (2,))
    with pytest.raises(DatasetError, match=r"shape \(3,\) but the model expects \(5,\)"):
        load_inputs(tmp_path / "rows.csv", (5,))
    (tmp_path / "x.txt2").write_text("?")
    with pytest.raises(DatasetError, match="pick a .npz"):
        load_inputs(tmp_path / "x.txt2", (3,))


def _model(inputs: int, outputs: int, activation: str | None):
    import keras

    keras.utils.set_random_seed(0)
    x = keras.Input((inputs,))
    model = keras.Model(x, keras.layers.Dense(outputs, activation=activation)(x))
    loss = "sparse_categorical_crossentropy" if activation == "softmax" else "mse"
    model.compile("adam", loss, metrics=["accuracy"] if activation == "softmax" else ["mae"])
    return model


def test_classification_view_shows_matrix_samples_and_file_predictions(qtbot, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = rng.integers(0, 3, 60)
    data = LoadedData(x[:40], y[:40], x_test=x[40:], y_test=y[40:], class_names=["a", "b", "c"])
    model = _model(4, 3, "softmax")
    result = evaluate(model, data, batch_size=8)
    assert result["split"] == "test" and result["count"] == 20
    assert result["confusion"].sum() == 20 and set(result["metrics"]) >= {"loss", "accuracy"}
    view = EvaluationView()
    qtbot.addWidget(view)
    view.show_result(result, model)
    assert view.left.currentWidget() is view.confusion_plot
    assert view.confusion_image.image.shape == (3, 3)
    assert view.samples_grid.count() == 16
    assert "test split (20 samples)" in view.summary.text()

    np.savez(tmp_path / "new.npz", x=x[:5])
    view.predict_file(tmp_path / "new.npz")
    qtbot.waitUntil(lambda: view.prediction is not None, timeout=20000)
    assert view.predictions.rowCount() == 5
    assert view.predictions.item(0, 0).text() in ("a", "b", "c")
    view.prediction = None
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    view.predict_file(tmp_path / "bad.csv")
    qtbot.waitUntil(lambda: view.prediction is not None, timeout=20000)
    assert "expects (4,)" in view.summary.text()


def test_regression_view_scatters_predicted_against_actual(qtbot, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2)).astype("float32")
    y = x.sum(axis=1).astype("float32")
    data = LoadedData(x[:20], y[:20], x_val=x[20:], y_val=y[20:], task="regression")
    model = _model(2, 1, None)
    result = evaluate(model, data)
    assert result["split"] == "validation" and "confusion" not in result
    view = EvaluationView()
    qtbot.addWidget(view)
    view.show_result(result, model)
    assert view.left.currentWidget() is view.scatter_plot
    xs, ys = view.scatter_plot.getPlotItem().listDataItems()[0].getData()
    assert np.allclose(xs, y[20:]) and len(ys) == 10
    path = tmp_path / "in.csv"
    np.savetxt(path, x[:3], delimiter=",", header="a,b", comments="")
    out = predict_file(model, path, [])
    assert len(out["rows"]) == 3 and out["rows"][0][1] is None
