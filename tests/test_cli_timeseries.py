"""Time series from the command line: `deepgui train --data` keeps a series a series, `deepgui
predict` windows a raw CSV as the run was trained, and bad input exits 2 in one sentence."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from deepgui.cli import main
from deepgui.core.project import Project
from tests.helpers import add

WINDOW, HORIZON, ROWS = 6, 2, 60


def write_series(path: Path, rows: int = ROWS, phase: float = 0.0) -> Path:
    lines = ["date,temp_max,wind"]
    for i in range(rows):
        lines.append(f"2024-03-{i + 1:02d},{10 + 5 * math.sin(i / 3 + phase):.3f},{i % 7 * 1.5}")
    path.write_text("\n".join(lines) + "\n")
    return path


def series_project(folder: Path, shape=(WINDOW, 2)) -> Path:
    from deepgui.core.graph import Graph

    g = Graph()
    add(g, "Dense", add(g, "Flatten", add(g, "InputLayer", shape=list(shape))), units=1)
    dataset = {"source": "timeseries", "path": "series.csv", "target": "temp_max",
               "window": WINDOW, "horizon": HORIZON, "validation_split": 0.2, "test_split": 0.0}  # fmt: skip
    training = {"epochs": 1, "batch_size": 8, "loss": "mse", "seed": 1}
    write_series(folder / "series.csv")
    name = "ts.dgproj" if tuple(shape) == (WINDOW, 2) else "wrong.dgproj"
    return Project(graph=g, dataset=dataset, training=training).save(folder / name)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A project trained on its own series (one epoch), and another CSV of the same columns."""
    folder = tmp_path_factory.mktemp("series")
    project = series_project(folder)
    run = folder / "run"
    assert main(["train", str(project), "--out", str(run)]) == 0
    return {"folder": folder, "project": project, "run": run,
            "other": write_series(folder / "other.csv", phase=1.0)}  # fmt: skip


def test_train_with_data_keeps_the_projects_series(trained, tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["train", str(trained["project"]), "--data", str(trained["other"]),
            "--target", "temp_max", "--out", str(run)]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    dataset = json.loads((run / "project.dgproj").read_text())["dataset"]
    assert dataset["source"] == "timeseries" and Path(dataset["path"]) == trained["other"]
    assert (dataset["window"], dataset["horizon"], dataset["target"]) == (WINDOW, HORIZON,
                                                                          "temp_max")  # fmt: skip
    series = json.loads((run / "signature.json").read_text())["preprocessing"]["series"]
    assert series["columns"] == ["temp_max", "wind"] and series["window"] == WINDOW


def test_predict_forecasts_every_window_of_a_raw_csv(trained, tmp_path, capsys):
    from deepgui.core.data.timeseries import windows
    from deepgui.core.keras_layers import keras

    out = tmp_path / "forecast.csv"
    argv = ["predict", str(trained["run"]), "--data", str(trained["other"]), "-o", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    said = capsys.readouterr().out
    assert f"Predicted {ROWS - WINDOW + 1} steps of 'temp_max'" in said
    assert "the last 2 past the end of the file" in said

    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["row", "date", "reads", "prediction", "temp_max"]
    assert len(rows) == ROWS - WINDOW + 1  # one per window, one step apart
    # Spreadsheet rows: the header is row 1, so data row i is row i + 2. The first window reads
    # rows 2-7 and forecasts HORIZON rows after its end: row 9, the file's 8th data row.
    first = rows[0]
    assert (first["row"], first["reads"], first["date"]) == ("9", "2-7", "2024-03-08")
    values = np.loadtxt(trained["other"], delimiter=",", skiprows=1, usecols=(1, 2))
    assert float(first["temp_max"]) == pytest.approx(values[7, 0])
    # The last windows forecast rows past the end: no date, no value to compare with.
    assert [(r["row"], r["date"], r["temp_max"]) for r in rows[-2:]] == [("62", "", ""),
                                                                         ("63", "", "")]  # fmt: skip
    assert rows[-1]["reads"] == f"{ROWS + 2 - WINDOW}-{ROWS + 1}"

    # The same windows the run trained on, through the run's own model (preprocessing inside).
    x, _ = windows(values.astype(np.float32), values[:, 0], WINDOW, 0)
    model = keras().saving.load_model(trained["run"] / "model.keras", safe_mode=True)
    expected = np.asarray(model(x, training=False))[:, 0]
    got = np.array([float(r["prediction"]) for r in rows])
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-4)


def _bad_cases():
    """(name, argv maker, fragment the one sentence must hold); each exited 1 or printed
    argparse's usage block (or raised SystemExit in-process) before."""
    return [
        (
            "predict_missing_model",
            lambda t: ["predict", t["folder"] / "nowhere", "--data", t["other"]],
            "nowhere",
        ),  # fmt: skip
        (
            "predict_missing_data",
            lambda t: ["predict", t["run"], "--data", t["folder"] / "nothing.csv"],
            "nothing.csv",
        ),  # fmt: skip
        (
            "predict_wrong_column",
            lambda t: [
                "predict",
                t["run"],
                "--data",
                _csv(t, "nowind.csv", "date,temp_max\n1,2\n"),
            ],
            "'wind'",
        ),  # fmt: skip
        (
            "predict_too_few_rows",
            lambda t: [
                "predict",
                t["run"],
                "--data",
                write_series(t["folder"] / "short.csv", rows=3),
            ],
            "too few for one window of 6 rows",
        ),  # fmt: skip
        (
            "predict_existing_output",
            lambda t: ["predict", t["run"], "--data", t["other"], "-o", t["other"]],
            "already exists",
        ),  # fmt: skip
        ("predict_without_data", lambda t: ["predict", t["run"]], "--data"),
        ("train_bad_epochs", lambda t: ["train", t["project"], "--epochs", "abc"], "--epochs"),
        ("train_unknown_option", lambda t: ["train", t["project"], "--window", "3"], "--window"),
        (
            "train_data_does_not_fit",
            lambda t: [
                "train",
                series_project(t["folder"], (5, 2)),
                "--out",
                t["folder"] / "wrong-run",
            ],
            "(6, 2)",
        ),  # fmt: skip
    ]


@pytest.mark.parametrize(("make", "fragment"), [c[1:] for c in _bad_cases()],
                         ids=[c[0] for c in _bad_cases()])  # fmt: skip
def test_bad_input_exits_2_with_one_sentence(trained, make, fragment, capsys):
    before = trained["other"].read_bytes()
    rc = main([str(a) for a in make(trained)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(("deepgui: ", "error: ")) and lines[0].endswith("."), lines[0]
    assert fragment in lines[0]
    assert trained["other"].read_bytes() == before  # nothing the user had is touched


def _csv(t: dict, name: str, text: str) -> Path:
    path = t["folder"] / name
    path.write_text(text)
    return path
