"""The Evaluation tab's per-class table, ROC and PR curves and decision threshold: moving the
threshold counts the confusion matrix anew at once, and a moment later the run keeps it (its
signature and its stored evaluation). Regression shows its residuals with MAE, RMSE and R²."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from deepgui.core import signature  # noqa: E402
from deepgui.core.data.base import LoadedData  # noqa: E402
from deepgui.core.training.evaluation import evaluate, stored  # noqa: E402
from deepgui.ui.training.evaluation_view import EvaluationView  # noqa: E402

pytestmark = pytest.mark.ui


def _binary_model():
    import keras

    keras.utils.set_random_seed(0)
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def binary_run(tmp_path):
    """A two-class evaluation and the run folder it belongs to (signature and metrics.json)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    data = LoadedData(x[:40], y[:40], x_test=x[40:], y_test=y[40:], task="binary",
                      class_names=["no", "yes"])  # fmt: skip
    model = _binary_model()
    result = evaluate(model, data, batch_size=8)
    run = tmp_path / "run"
    run.mkdir()
    signature.write(signature.Signature("binary", ["no", "yes"], None), run / signature.RUN_FILE)
    (run / "metrics.json").write_text(json.dumps({"evaluation": stored(result)}))
    return result, model, run


def test_the_threshold_moves_the_matrix_and_the_run_keeps_it(qtbot, binary_run):
    result, model, run = binary_run
    view = EvaluationView()
    qtbot.addWidget(view)
    view.show_result(result, model, run)
    assert view.threshold_row.isVisibleTo(view) and view.threshold_box.value() == 0.5
    # The table: one row per class, then the macro and weighted averages.
    rows = view.table_rows()
    assert [r[0] for r in rows] == ["no", "yes", "macro avg", "weighted avg"]
    assert [int(r[4]) for r in rows] == [*np.bincount(result["y_true"], minlength=2), 40, 40]
    assert float(rows[1][1]) == pytest.approx(result["report"]["classes"][1]["precision"], abs=1e-4)
    assert "AUC" in view.roc_plot.getPlotItem().titleLabel.text
    before = view.confusion_image.image.copy()
    marker = view.roc_marker.getData()

    # Every sample is "yes" from a threshold of 0 up: the matrix's first column empties.
    with qtbot.waitSignal(view.threshold_saved, timeout=3000) as saved:
        view.threshold_box.setValue(0.0)
        matrix = view.confusion_image.image.T  # drawn transposed: rows true, columns predicted
        assert matrix[:, 0].sum() == 0 and matrix.sum() == 40
        assert not np.array_equal(view.confusion_image.image, before)
        # Every "no" is now a false positive: the ROC marker moves to the right edge.
        assert view.roc_marker.getData()[0][0] == 1.0 != marker[0][0]
        assert [int(r[4]) for r in view.table_rows()][:2] == [int(v) for v in matrix.sum(axis=1)]
        assert view.threshold_slider.value() == 0
    assert saved.args == [0.0]
    assert signature.read(run / signature.RUN_FILE).threshold == 0.0
    kept = json.loads((run / "metrics.json").read_text())["evaluation"]
    assert kept["threshold"] == 0.0 and [row[0] for row in kept["confusion"]] == [0, 0]

    # The slider moves the box and the matrix too.
    view.threshold_slider.setValue(1000)
    assert view.threshold_box.value() == 1.0
    assert view.confusion_image.image.T[:, 1].sum() == (result["y_score"] >= 1.0).sum()


def test_regression_draws_residuals_with_mae_rmse_and_r2(qtbot):
    import keras

    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2)).astype("float32")
    y = x.sum(axis=1).astype("float32")
    data = LoadedData(x[:20], y[:20], x_val=x[20:], y_val=y[20:], task="regression")
    keras.utils.set_random_seed(0)
    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    model.compile("adam", "mse", metrics=["mae"])
    result = evaluate(model, data)
    view = EvaluationView()
    qtbot.addWidget(view)
    view.show_result(result, model)
    assert not view.threshold_row.isVisibleTo(view)
    assert view.pages.isTabVisible(3) and not view.pages.isTabVisible(1)
    xs, ys = view.residual_plot.getPlotItem().listDataItems()[0].getData()
    assert np.allclose(ys, y[20:] - xs, atol=1e-5)
    assert "RMSE" in view.summary.text() and "R²" in view.summary.text()
