"""What the run folder keeps of the split (split.json) names exactly the samples each part holds:
a CSV's rows (rows dropped for gaps left out), an .npz's positions, an image folder's files and
a series' windows, each read back from the data as the user has it. An image run's
`predict --split test` scores the test images the run's test figures came from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deepgui.core import run_split
from deepgui.core.data import load_dataset
from deepgui.core.data.arrays import read_npz
from deepgui.core.data.table import read_csv
from deepgui.core.data.timeseries import forecast_windows
from deepgui.core.errors import DeepGuiError
from deepgui.core.paths import datasets_dir
from tests.rawdata import cnn_project, write_image_folder


def _kept(data, tmp_path: Path) -> dict:
    assert run_split.write(tmp_path, data) is not None
    return run_split.read(tmp_path)


def test_a_csv_keeps_its_rows_with_those_dropped_for_gaps_left_out(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["a,b,label"]
    for i in range(60):
        a = "" if i % 7 == 3 else f"{rng.normal():.4f}"  # 9 rows with a gap, dropped
        lines.append(f"{a},{rng.normal():.4f},{'yes' if i % 2 else 'no'}")
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    data = load_dataset({"source": "csv", "path": str(path), "target": "label",
                         "missing": "drop", "test_split": 0.2})  # fmt: skip
    split = _kept(data, tmp_path)
    assert split["of"] == "rows"
    parts = split["parts"]
    rows = sorted(r for p in parts.values() for r in p["rows"])
    assert rows == [i for i in range(60) if i % 7 != 3]
    table = read_csv(path)
    b = table.column("b").astype(float)
    for part, raw in (("train", data.raw_train), ("validation", data.raw_val),
                      ("test", data.raw_test)):  # fmt: skip
        assert np.allclose(b[parts[part]["rows"]], raw["b"])


def test_an_npz_keeps_positions_in_its_array(tmp_path):
    data = load_dataset({"source": "builtin", "name": "digits", "test_split": 0.1})
    split = _kept(data, tmp_path)
    test = split["parts"]["test"]
    assert split["of"] == "samples" and test["key"] == "x" and len(test["rows"]) == len(data.y_test)
    x = read_npz(Path(test["path"]))["x"]
    assert test["path"] == str((datasets_dir() / "digits.npz").resolve())
    assert np.array_equal(x[test["rows"]].reshape(data.raw_test.shape), data.raw_test)


def test_a_series_keeps_where_each_window_starts(tmp_path):
    t = np.arange(80)
    path = tmp_path / "s.csv"
    path.write_text("t,v\n" + "".join(f"{i},{np.sin(i / 5):.5f}\n" for i in t))
    spec = {"source": "timeseries", "path": str(path), "target": "v", "window": 6,
            "stride": 2, "test_split": 0.2, "seed": 3}  # fmt: skip
    data = load_dataset(spec)
    split = _kept(data, tmp_path)
    windows = forecast_windows(path, data.preprocessing.series)
    for part, raw in (("train", data.raw_train), ("test", data.raw_test)):
        assert np.array_equal(windows.x[split["parts"][part]["rows"]], raw)


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    """A small CNN trained for one epoch on a folder of PNGs, a quarter held out for testing."""
    from deepgui.cli import main
    from deepgui.core.project import load_project

    folder = tmp_path_factory.mktemp("images")
    root = write_image_folder(folder / "pictures", per_class=8)
    path = cnn_project(folder / "cnn.dgproj", epochs=1)
    project = load_project(path)
    project.dataset.update(path=str(root), test_split=0.25, validation_split=0.25)
    project.save(path)
    run = folder / "run"
    assert main(["train", str(path), "--engine", "tensorflow", "--out", str(run)]) == 0
    return root, run


def test_an_image_folder_keeps_its_files_and_predict_scores_the_test_images(image_run):
    from deepgui.core.predict import predict_file

    root, run = image_run
    split = run_split.read(run)
    assert split["of"] == "files"
    files = {k: v["files"] for k, v in split["parts"].items()}
    every = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    assert sorted(sum(files.values(), [])) == every
    predictions = predict_file(run, split="test")
    assert predictions.ids == [str(root / f) for f in files["test"]]
    assert predictions.labels == [f.split("/")[0] for f in files["test"]]
    metrics = json.loads((run / "metrics.json").read_text())
    assert predictions.accuracy == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)

    # A test image gone: one sentence naming it, nothing scored.
    (root / files["test"][0]).unlink()
    with pytest.raises(DeepGuiError, match="images are gone"):
        predict_file(run, split="test")


def test_a_run_without_a_split_says_so(tmp_path):
    with pytest.raises(DeepGuiError, match="keeps no split"):
        run_split.read(tmp_path)
