"""Class weights and extra metrics as settings (issue 21, point 2), and `deepgui explain --split`:
a weight per class, given by the data's class names, changes the fit and is honoured by the
exported script; a class the data lacks or a bad weight is one sentence naming the field; AUC and
top-k (Keras's sparse variant on class indices) are logged into history.csv, and the metrics that
cannot be computed on a task's labels are refused; `explain --split test` explains exactly the
run's test rows."""

from __future__ import annotations

import csv
import json
import runpy

import numpy as np
import pytest

from deepgui.cli import main
from deepgui.core.codegen import generate_script
from deepgui.core.errors import TrainingError
from deepgui.core.graph import Graph
from deepgui.core.project import Project
from deepgui.core.training.config import (
    SPARSE_TOP_K,
    TOP_K,
    TrainingConfig,
    class_weight_by_index,
    fit_metrics,
    metric_choices,
    parse_training,
)
from tests.helpers import add


def _table(path, rows: int, seed: int = 0):
    """Two overlapping classes, "rare" one row in ten: a plain fit seldom predicts it."""
    rng = np.random.default_rng(seed)
    lines = [["a", "b", "label"]]
    for i in range(rows):
        rare = i % 10 == 0
        a = rng.normal(1.0 if rare else 0.0)
        lines.append([f"{a:.4f}", f"{rng.normal():.4f}", "rare" if rare else "common"])
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(lines)
    return path


def _project(path, units: int, training: dict, dataset: dict | None = None):
    g = Graph()
    node = add(g, "InputLayer", shape=[2], name="features")
    node = add(g, "Dense", node, units=8, activation="relu")
    add(g, "Dense", node, units=units, activation="sigmoid" if units == 1 else "softmax")
    dataset = {"source": "csv", "path": "", "target": "label", **(dataset or {})}
    base = {"epochs": 8, "batch_size": 32, "learning_rate": 0.02, "seed": 1}
    Project(graph=g, dataset=dataset, training={**base, **training}).save(path)
    return path


def _train(tmp_path, name: str, data, units: int, training: dict, dataset=None) -> int:
    project = _project(tmp_path / f"{name}.dgproj", units, training, dataset)
    return main(["train", str(project), "--data", str(data), "--target", "label",
                 "--engine", "tensorflow", "--out", str(tmp_path / name)])  # fmt: skip


def _history(run) -> dict[str, list[float]]:
    with (run / "history.csv").open() as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


# ----------------------------------------------------------------------------- the settings
def test_a_weight_per_class_is_read_and_checked_in_one_sentence():
    cfg = parse_training({"class_weight": {"rare": 4, "0": 1.5}})
    assert cfg.class_weight == {"rare": 4.0, "0": 1.5}
    assert TrainingConfig.from_dict(cfg.to_dict()).class_weight == cfg.class_weight
    for bad, words in (
        ({"rare": -1}, "'rare' the weight -1"),
        ({"rare": float("nan")}, "'rare' the weight nan"),
        ({"rare": "2"}, "'rare' the weight '2'"),
        ({}, "at least one class"),
        ("even", '"none", "balanced" or a weight per class'),
    ):
        with pytest.raises(TrainingError) as caught:
            parse_training({"class_weight": bad})
        message = str(caught.value)
        assert message.startswith("training.class_weight ") and words in message, message
        assert "\n" not in message

    # Names resolve to the label encoding's indices (sorted class names); an index is
    # accepted where no class has that name; a class left out weighs 1.
    classes = ["common", "rare"]
    assert class_weight_by_index({"rare": 4.0}, "binary", classes) == {0: 1.0, 1: 4.0}
    assert class_weight_by_index({"0": 2.0}, "binary", classes) == {0: 2.0, 1: 1.0}
    with pytest.raises(TrainingError) as caught:
        class_weight_by_index({"cow": 2.0}, "binary", classes)
    assert str(caught.value) == (
        "training.class_weight names the class 'cow', which the data does not have (its "
        "classes: common, rare)."
    )
    with pytest.raises(TrainingError, match="twice"):
        class_weight_by_index({"rare": 2.0, "1": 3.0}, "binary", classes)


def test_metrics_fit_the_task_top_k_sparse_and_one_against_rest_only_where_keras_can():
    assert metric_choices("binary") == ("auc", "precision", "recall")
    assert metric_choices("multiclass", 10) == (TOP_K,)
    assert metric_choices("multiclass", 3) == ()  # top-5 of 3 classes is always 1
    assert "root_mean_squared_error" in metric_choices("regression")
    # Labels are class indices: top-k is Keras's sparse variant.
    assert fit_metrics(["accuracy", TOP_K], "multiclass") == ["accuracy", SPARSE_TOP_K]
    assert fit_metrics(["auc", "recall"], "binary", 1) == ["auc", "recall"]
    for names, task, units, words in (
        (["precision"], "multiclass", 10, "not a multiclass task"),
        (["auc"], "binary", 2, "the output has 2 units"),
        ([TOP_K], "regression", 1, "a regression task has not"),
    ):
        with pytest.raises(TrainingError, match=words) as caught:
            fit_metrics(names, task, units)
        assert str(caught.value).startswith(f"training.metrics {names[0]!r} ")


# ----------------------------------------------------------------------------- training
@pytest.mark.slow
def test_a_weighted_rare_class_is_found_more_often_and_auc_is_logged(tmp_path, capsys):
    data = _table(tmp_path / "imbalanced.csv", 400)
    metrics = {"metrics": ["accuracy", "auc", "recall"]}
    assert _train(tmp_path, "plain", data, 1, metrics) == 0
    assert _train(tmp_path, "weighted", data, 1, {**metrics, "class_weight": {"rare": 9}}) == 0
    plain, weighted = _history(tmp_path / "plain"), _history(tmp_path / "weighted")
    for run in (plain, weighted):
        assert {"auc", "val_auc", "recall", "val_recall"} <= set(run)
    # "rare" is class 1 (the classes sorted), the class Keras's recall counts.
    assert plain["recall"][-1] < 0.3 < 0.6 < weighted["recall"][-1]

    # A class the data lacks: one sentence naming the field and the class, a failed run.
    capsys.readouterr()
    assert _train(tmp_path, "cow", data, 1, {"class_weight": {"cow": 2}}) != 0
    err = capsys.readouterr().err
    assert "training.class_weight names the class 'cow', which the data does not have" in err
    assert "Traceback" not in err


def test_top_k_of_a_sparse_multiclass_model_is_in_its_history(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "seven.csv"
    lines = [["a", "b", "label"]]
    for i in range(210):
        k = i % 7
        lines.append([f"{k + rng.normal(0, 0.3):.4f}", f"{rng.normal():.4f}", f"c{k}"])
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(lines)
    training = {"metrics": ["accuracy", TOP_K], "epochs": 2}
    assert _train(tmp_path, "seven", path, 7, training) == 0
    history = _history(tmp_path / "seven")
    assert {SPARSE_TOP_K, f"val_{SPARSE_TOP_K}"} <= set(history)
    assert all(0.0 <= v <= 1.0 for v in history[SPARSE_TOP_K])


def test_the_exported_script_weighs_the_classes_by_name(tmp_path, monkeypatch):
    import keras

    g = Graph()
    node = add(g, "InputLayer", shape=[4], name="features")
    add(g, "Dense", node, units=3, activation="softmax")
    training = {"epochs": 1, "batch_size": 32, "seed": 3,
                "class_weight": {"virginica": 3.0, "setosa": 0.5}}  # fmt: skip
    source = generate_script(g, {"source": "builtin", "name": "iris"}, training, name="iris")
    path = tmp_path / "iris.py"
    path.write_text(source, encoding="utf-8")
    script = runpy.run_path(str(path), run_name="generated")
    seen = []
    fit = keras.Model.fit
    monkeypatch.setattr(keras.Model, "fit", lambda self, *a, **kw: (
        seen.append(kw["class_weight"]), fit(self, *a, **kw))[1])  # fmt: skip
    classes = script["PROJECT"].load_data(None)["classes"]
    script["train"](None, 1)
    want = {i: {"virginica": 3.0, "setosa": 0.5}.get(c, 1.0) for i, c in enumerate(classes)}
    assert seen == [want]


# ----------------------------------------------------------------------------- explain --split
def test_explain_split_test_writes_one_row_per_test_row(tmp_path):
    data = _table(tmp_path / "table.csv", 120, seed=2)
    assert _train(tmp_path, "run", data, 2, {"epochs": 2}, {"test_split": 0.2}) == 0
    run = tmp_path / "run"
    test_rows = json.loads((run / "split.json").read_text())["parts"]["test"]["rows"]
    out = tmp_path / "why"
    assert main(["explain", str(run), "--split", "test", "-o", str(out)]) == 0
    with (out / "attributions.csv").open() as f:
        table = list(csv.reader(f))
    assert table[0] == ["row", "a", "b"]
    # Each row named by its spreadsheet row number (the header is row 1), in the run's order.
    assert [int(r[0]) for r in table[1:]] == [r + 2 for r in test_rows]
    # Not a run folder: its one sentence, exit 2.
    model = tmp_path / "model.keras"
    model.write_bytes((run / "model.keras").read_bytes())
    assert main(["explain", str(model), "--split", "test", "-o", str(tmp_path / "o2")]) == 2
