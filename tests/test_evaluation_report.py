"""The per-class figures, the curves' areas and the regression scores equal scikit-learn's on
the same predictions (scikit-learn is a test dependency only: deepgui computes them in NumPy)."""

from __future__ import annotations

import numpy as np
import pytest

from deepgui.core import report

metrics = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_class_precision_recall_f1_support_and_averages_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    k = 5
    y_true = rng.integers(0, k, 300)
    # Mostly right, some wrong, and class 4 never predicted (precision 0, not NaN).
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, k - 1, 300))
    got = report.report(y_true, y_pred, [f"c{i}" for i in range(k)])

    p, r, f, s = metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(k)), zero_division=0
    )
    assert [row["class"] for row in got["classes"]] == [f"c{i}" for i in range(k)]
    assert np.allclose([row["precision"] for row in got["classes"]], p)
    assert np.allclose([row["recall"] for row in got["classes"]], r)
    assert np.allclose([row["f1"] for row in got["classes"]], f)
    assert [row["support"] for row in got["classes"]] == s.tolist()
    for average in ("macro", "weighted"):
        p, r, f, _ = metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=list(range(k)), average=average, zero_division=0
        )
        assert np.allclose([got[average][key] for key in ("precision", "recall", "f1")], [p, r, f])
        assert got[average]["support"] == 300
    assert got["accuracy"] == pytest.approx(metrics.accuracy_score(y_true, y_pred))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_average_precision_and_curves_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 400)
    # Scores that lean right, rounded so that many tie (ties are where curves go wrong).
    scores = np.round(np.clip(0.35 * y + rng.random(400) * 0.65, 0, 1), 2)
    assert report.roc_auc(y, scores) == pytest.approx(metrics.roc_auc_score(y, scores))
    assert report.average_precision(y, scores) == pytest.approx(
        metrics.average_precision_score(y, scores)
    )
    fpr, tpr, thresholds = report.roc_curve(y, scores)
    ref_fpr, ref_tpr, ref_thresholds = metrics.roc_curve(y, scores, drop_intermediate=False)
    assert np.allclose(fpr, ref_fpr) and np.allclose(tpr, ref_tpr)
    assert np.allclose(thresholds[1:], ref_thresholds[1:])
    precision, recall, _ = report.pr_curve(y, scores)
    ref_p, ref_r, _ = metrics.precision_recall_curve(y, scores)
    assert np.allclose(precision, ref_p[::-1]) and np.allclose(recall, ref_r[::-1])
    # Two softmax units: the positive class is the second column.
    both = np.stack([1 - scores, scores], axis=1)
    assert np.allclose(report.positive_scores(both), scores)


def test_the_threshold_moves_the_matrix_as_sklearn_counts_it():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    scores = rng.random(200)
    for t in (0.2, 0.5, 0.8):
        matrix, (fpr, tpr), (recall, precision) = report.at_threshold(y, scores, t)
        assert matrix.tolist() == metrics.confusion_matrix(y, scores >= t).tolist()
        assert recall == tpr == pytest.approx(metrics.recall_score(y, scores >= t))
        assert precision == pytest.approx(metrics.precision_score(y, scores >= t))
    assert report.roc_auc(np.ones(5), np.arange(5) / 5) is None  # one class: no area


def test_regression_scores_equal_sklearn():
    rng = np.random.default_rng(4)
    t = rng.normal(size=100)
    p = t + rng.normal(scale=0.3, size=100)
    got = report.regression_scores(t, p)
    assert got["mae"] == pytest.approx(metrics.mean_absolute_error(t, p))
    assert got["rmse"] == pytest.approx(np.sqrt(metrics.mean_squared_error(t, p)))
    assert got["r2"] == pytest.approx(metrics.r2_score(t, p))
    assert np.allclose(report.residuals(t, p), t - p)
