"""A two-class run end to end: it keeps its split, `predict --split test` scores exactly the
rows its test figures came from, its per-class evaluation equals scikit-learn's, moving its
decision threshold changes the stored matrix, the signature (the run's and an export's) and
predict, and `deepgui evaluate` writes one row per class."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from deepgui.cli import main
from deepgui.core import signature
from deepgui.core.data.table import read_csv
from deepgui.core.paths import datasets_dir, examples_dir
from deepgui.core.predict import predict_file
from deepgui.core.training.evaluation import set_threshold

metrics_lib = pytest.importorskip("sklearn.metrics")


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    """The moons example (two classes, a 10% test split) trained for 2 epochs."""
    folder = tmp_path_factory.mktemp("moons")
    project = folder / "moons.dgproj"
    shutil.copy(examples_dir() / "moons_dense.dgproj", project)
    run = folder / "run"
    assert main(["train", str(project), "--epochs", "2", "--engine", "tensorflow",
                 "--out", str(run)]) == 0  # fmt: skip
    return run


@pytest.fixture
def run_copy(moons_run, tmp_path):
    """A copy to move the threshold of (the module's run stays as trained)."""
    return shutil.copytree(moons_run, tmp_path / "run")


def _metrics(run) -> dict:
    return json.loads((run / "metrics.json").read_text())


def test_the_split_is_kept_and_predict_split_test_scores_the_test_rows(moons_run, capsys):
    split = json.loads((moons_run / "split.json").read_text())
    assert split["of"] == "rows" and set(split["parts"]) == {"train", "validation", "test"}
    parts = {k: v["rows"] for k, v in split["parts"].items()}
    assert sorted(sum(parts.values(), [])) == list(range(500))  # every row once
    assert len(parts["test"]) == 50

    metrics = _metrics(moons_run)
    predictions = predict_file(moons_run, split="test")
    table = read_csv(datasets_dir() / "moons.csv")
    assert predictions.ids == [str(int(table.row_numbers[r])) for r in parts["test"]]
    assert predictions.accuracy == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
    # The stored evaluation (test split) counted the very same predictions.
    evaluation = metrics["evaluation"]
    assert evaluation["split"] == "test" and evaluation["count"] == 50
    truth = [int(t) for t in predictions.labels]
    guessed = [int(p) for p in predictions.predicted]
    assert metrics_lib.confusion_matrix(truth, guessed).tolist() == evaluation["confusion"]

    assert main(["predict", str(moons_run), "--split", "test"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 51 and "the 50 rows of the run's test split" in err
    assert main(["predict", str(moons_run), "--split", "holdout"]) == 2
    assert "--split" in capsys.readouterr().err


def test_the_stored_per_class_report_equals_sklearn(moons_run):
    evaluation = _metrics(moons_run)["evaluation"]
    y_true, y_pred = evaluation["y_true"], evaluation["y_pred"]
    assert len(y_true) == 50 and len(evaluation["y_score"]) == 50
    p, r, f, s = metrics_lib.precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    rows = evaluation["report"]["classes"]
    assert np.allclose([row["precision"] for row in rows], p)
    assert np.allclose([row["recall"] for row in rows], r)
    assert np.allclose([row["f1"] for row in rows], f)
    assert [row["support"] for row in rows] == s.tolist()
    macro = metrics_lib.precision_recall_fscore_support(y_true, y_pred, average="macro")
    assert evaluation["report"]["macro"]["f1"] == pytest.approx(macro[2])
    scores = evaluation["y_score"]
    assert evaluation["roc_auc"] == pytest.approx(
        metrics_lib.roc_auc_score(y_true, scores), abs=1e-5
    )
    assert evaluation["average_precision"] == pytest.approx(
        metrics_lib.average_precision_score(y_true, scores), abs=1e-5
    )


def test_moving_the_threshold_changes_the_matrix_the_signatures_and_predict(run_copy, tmp_path):
    from deepgui.core.export import export_project

    before = _metrics(run_copy)["evaluation"]
    assert before["threshold"] == 0.5
    assert signature.read(run_copy / signature.RUN_FILE).threshold == 0.5
    was = predict_file(run_copy, split="test").predicted

    moved = set_threshold(run_copy, 0.95)
    after = _metrics(run_copy)["evaluation"]
    assert after["threshold"] == 0.95 and moved["threshold"] == 0.95
    assert after["confusion"] != before["confusion"]
    scores = np.asarray(after["y_score"])
    assert (
        after["confusion"] == metrics_lib.confusion_matrix(after["y_true"], scores >= 0.95).tolist()
    )
    assert signature.read(run_copy / signature.RUN_FILE).threshold == 0.95

    now = predict_file(run_copy, split="test")
    assert now.predicted != was
    assert now.predicted == ["1" if p >= 0.95 else "0" for p in now.probabilities[:, 1]]
    # An export made now carries the threshold, and predict on it applies it.
    out = tmp_path / "moons.keras"
    assert export_project(run_copy, "keras", out).ok
    assert json.loads(signature.sidecar_path(out).read_text())["threshold"] == 0.95
    exported = predict_file(out, datasets_dir() / "moons.csv")
    assert exported.predicted == ["1" if p >= 0.95 else "0" for p in exported.probabilities[:, 1]]

    with pytest.raises(Exception, match="from 0 to 1"):
        set_threshold(run_copy, 1.5)
    assert signature.read(run_copy / signature.RUN_FILE).threshold == 0.95  # left as it was


def test_evaluate_prints_the_table_and_writes_one_row_per_class(moons_run, tmp_path, capsys):
    report = tmp_path / "report.csv"
    assert main(["evaluate", str(moons_run), "--split", "test", "-o", str(report)]) == 0
    out = capsys.readouterr().out
    assert "macro avg" in out and "weighted avg" in out and "ROC AUC" in out
    with open(report, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["class", "precision", "recall", "f1", "support"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    predictions = predict_file(moons_run, split="test")
    p, r, f, s = metrics_lib.precision_recall_fscore_support(
        predictions.labels, predictions.predicted, labels=["0", "1"], zero_division=0
    )
    got = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    assert np.allclose(got, np.stack([p, r, f, s], axis=1), atol=1e-6)

    # A report is never written over a file deepgui did not write; on data it works alike.
    other = tmp_path / "mine.csv"
    other.write_text("precious\n")
    assert main(["evaluate", str(moons_run), "--data", str(datasets_dir() / "moons.csv"),
                 "-o", str(other), "--force"]) == 2  # fmt: skip
    assert other.read_text() == "precious\n" and "not a report" in capsys.readouterr().err


def test_an_exported_script_decides_two_classes_at_the_signatures_threshold():
    from deepgui import script_runtime

    sigmoid = np.array([[0.3], [0.8], [0.95]])
    assert script_runtime.class_columns(sigmoid, ["no", "yes"], "binary")[2] == ["no", "yes", "yes"]
    assert script_runtime.class_columns(sigmoid, ["no", "yes"], "binary", 0.9)[2] == [
        "no",
        "no",
        "yes",
    ]
