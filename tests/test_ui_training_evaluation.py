"""Evaluation after training: metrics on the held-out split, the confusion matrix, sample
predictions, predicted-against-actual for regression, and the way to the Predict dialog."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from deepgui.core.data.base import LoadedData  # noqa: E402
from deepgui.core.training.evaluation import confusion_matrix, evaluate  # noqa: E402
from deepgui.ui.training.evaluation_view import EvaluationView  # noqa: E402

pytestmark = pytest.mark.ui


def test_confusion_matrix_counts_true_against_predicted():
    m = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]


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

    # Predicting on a file is the Predict dialog's (raw data in): the button asks for it.
    assert view.predict_button.isEnabled()
    with qtbot.waitSignal(view.predict_requested, timeout=1000):
        view.predict_button.click()


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
