"""The words for what each Input layer receives and for missing values, and what Predict on a
file offers first (Qt-free)."""

from __future__ import annotations

import numpy as np

from deepgui.core.data.describe import input_captions, missing_summary
from deepgui.core.data.preprocessing import (
    Group,
    Preprocessing,
    RawInput,
    array_preprocessing,
    category_input,
    numeric_input,
)
from deepgui.core.paths import datasets_dir
from deepgui.core.predict_sources import finished_runs, is_model_path, project_data_file
from deepgui.core.project import Project
from deepgui.core.training.runs import new_run_dir


def table() -> Preprocessing:
    age = numeric_input("age", "age", np.array([20.0, np.nan, 40.0, 30.0]), standardize=True)
    town = category_input("town", "town", np.array(["a", "b", "", "a"]),
                          np.array([False, False, True, False]))  # fmt: skip
    words = RawInput("notes", "text", [1], "string", "notes", vocabulary=["x"] * 9,
                     sequence_length=16)  # fmt: skip
    groups = [Group("notes", ["notes"]), Group("features", ["age", "town"])]
    return Preprocessing([age, town, words], groups, table=True, target="label")


def test_a_table_with_one_input_layer_lists_every_column():
    captions = input_captions(table(), [("n1", "measurements")])
    caption = captions["n1"]
    assert caption.title == "Receives 3 columns"
    assert caption.rows == [
        ("age", "missing → 30, standardized"),
        ("town", "one-hot: 2 categories + unseen"),
        ("notes", "9 words → 16 token ids"),
    ]
    # The tooltip keeps the preprocessing's own words.
    assert "town: 2 categories, one-hot (+1 for unseen)" in caption.lines()


def test_several_input_layers_each_get_their_group_by_name():
    captions = input_captions(table(), [("a", "features"), ("b", "notes"), ("c", "other")])
    assert [w for w, _ in captions["a"].rows] == ["age", "town"]
    assert [w for w, _ in captions["b"].rows] == ["notes"]
    assert "c" not in captions  # an Input the data does not feed says nothing


def test_long_tables_are_counted_past_the_limit():
    columns = [numeric_input(f"c{i}", f"c{i}", np.arange(3.0), True) for i in range(20)]
    pre = Preprocessing(columns, [Group("features", [c.name for c in columns])], table=True)
    caption = input_captions(pre, [("n", "x")])["n"]
    assert len(caption.visible_rows()) == 5 and caption.hidden == 15
    assert caption.more_text() == "+ 15 more (hover to see all)"
    assert len(caption.lines()) == 21


def test_images_arrays_and_windows():
    image = array_preprocessing((28, 28, 1), "image", scale=1 / 255,
                                image={"height": 28, "width": 28, "color_mode": "grayscale"})  # fmt: skip
    caption = input_captions(image, [("n", "input")])["n"]
    assert caption.title == "Receives 28×28 grayscale images"
    assert caption.rows == [("pixels 0–255", "÷ 255")]
    digits = input_captions(array_preprocessing((8, 8, 1), scale=1 / 16), [("n", "x")])["n"]
    assert digits.title == "Receives arrays of shape 8×8×1" and digits.rows == [("values", "÷ 16")]
    windows = array_preprocessing((24, 2), "window", scale=[1.0, 0.5], offset=[0.0, 1.0])
    caption = input_captions(windows, [("n", "x")], ["temp", "wind"])["n"]
    assert caption.title == "Receives windows of 24 steps × 2 columns"
    assert caption.rows == [("temp", "standardized"), ("wind", "standardized")]
    assert input_captions(None, [("n", "x")]) == {}


def test_missing_summary_in_plain_words():
    assert missing_summary(None) == ""
    assert missing_summary({"cells": 0, "filled": 0, "rows_dropped": 0}) == "No missing values."
    assert (
        missing_summary({"cells": 3, "filled": 1, "rows_dropped": 2}, "fill")
        == "1 missing cell filled inside the model; 2 rows without a target left out."
    )
    assert (
        missing_summary({"cells": 3, "filled": 0, "rows_dropped": 1}, "drop")
        == "1 row with missing values dropped (3 empty cells)."
    )


def test_predict_offers_the_projects_data_and_models(tmp_path):
    iris = {"source": "builtin", "name": "iris"}
    assert project_data_file(iris, None) == datasets_dir() / "iris.csv"
    (tmp_path / "mine.csv").write_text("a,b\n1,2\n")
    assert project_data_file({"source": "csv", "path": "mine.csv"}, tmp_path) == (
        tmp_path / "mine.csv"
    )
    assert project_data_file({"source": "csv", "path": "gone.csv"}, tmp_path) is None
    assert project_data_file({"source": "keras", "name": "mnist"}, None) is None
    assert project_data_file({}, None) is None
    project = Project()
    project.save(tmp_path / "p.dgproj")
    assert finished_runs(None) == [] and finished_runs(project) == []
    run = new_run_dir(project)
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(
        '{"epochs_run": 2, "stopped_by": "completed", "final": {"val_accuracy": 0.5}}'
    )
    assert finished_runs(project) == []  # no model saved: nothing to run
    (run / "model.keras").write_bytes(b"")
    assert finished_runs(project) == [
        (f"Run {run.name}: 2 epochs, completed, val_accuracy 0.5", run)
    ]
    assert is_model_path(run) and is_model_path(tmp_path / "m.onnx")
    assert not is_model_path(tmp_path) and not is_model_path(tmp_path / "data.csv")
