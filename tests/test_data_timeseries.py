"""Time-series CSVs cut into windows."""

from pathlib import Path

import numpy as np
import pytest

from deepgui.core.data import load_dataset
from deepgui.core.data.timeseries import windows
from deepgui.core.errors import DatasetError


@pytest.fixture
def weather(tmp_path: Path) -> Path:
    rows = ["date,temp,wind"]
    for i in range(100):
        rows.append(f"2024-01-{i:03d},{10 + i},{(i % 7) * 1.5}")
    path = tmp_path / "weather.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_windows_and_horizon():
    values = np.arange(10, dtype=np.float32)[:, None]
    x, y = windows(values, np.arange(10) * 10.0, window=3, horizon=2)
    assert x.shape == (6, 3, 1)
    assert x[0, :, 0].tolist() == [0, 1, 2] and y[0] == 40.0  # 2 rows after the window ends
    assert x[-1, :, 0].tolist() == [5, 6, 7] and y[-1] == 90.0


def test_loads_in_time_order(weather: Path):
    spec = {
        "source": "timeseries",
        "path": str(weather),
        "target": "temp",
        "window": 5,
        "horizon": 1,
        "validation_split": 0.2,
        "shuffle": False,
    }
    data = load_dataset(spec)
    assert data.task == "regression" and data.feature_names == [
        "temp",
        "wind",
    ]  # the date column is left out
    assert data.x_train.shape == (80 - 5, 5, 2) and data.x_val.shape == (20 - 5, 5, 2)
    # Labels are raw target values; validation comes strictly after training.
    assert data.y_train[0] == 15.0 and data.y_train.max() < data.y_val.min()
    # Windows stay raw; the model standardizes them with the training part's statistics.
    assert data.raw_train[0, 0, 0] == 10.0
    temp = data.raw_train[:, 0, 0]
    mean, std = np.arange(10, 90).mean(), np.arange(10, 90).std()
    assert temp.min() == 10 and data.x_train[0, 0, 0] == pytest.approx((10 - mean) / std, rel=1e-4)


def test_shuffle_reproducible(weather: Path):
    spec = {"source": "timeseries", "path": str(weather), "target": "temp", "window": 4, "seed": 9}
    a, b = load_dataset(spec), load_dataset(spec)
    assert np.array_equal(a.y_train, b.y_train) and not np.all(np.diff(a.y_train) > 0)


def test_window_too_long(weather: Path):
    with pytest.raises(DatasetError, match="too few for one window of 90 rows"):
        load_dataset({"source": "timeseries", "path": str(weather), "target": "temp", "window": 90})


def test_gaps_reported_or_filled(tmp_path: Path):
    rows = ["v"] + [str(i) for i in range(30)]
    rows[6] = ""
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(rows) + "\n")
    spec = {
        "source": "timeseries",
        "path": str(path),
        "target": "v",
        "window": 3,
        "validation_split": 0.0,
        "shuffle": False,
    }
    with pytest.raises(DatasetError, match="row 7 column 'v'"):
        load_dataset({**spec, "missing": "refuse"})
    filled = load_dataset({**spec, "missing": "fill"})
    assert len(filled.y_train) == 27 and filled.y_train[1] == 4.0  # row 7 (value 5) took 4 forward
    dropped = load_dataset({**spec, "missing": "drop"})
    assert len(dropped.y_train) == 26


def test_text_in_series(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text("v\n" + "\n".join(["1", "2", "oops", "4", "5"]) + "\n")
    with pytest.raises(DatasetError, match="row 4, column 'v' holds the text 'oops'"):
        load_dataset({"source": "timeseries", "path": str(path), "target": "v", "window": 2})


def test_forecast_windows_deal_with_gaps_as_the_run_did(tmp_path: Path):
    from deepgui.core.data.timeseries import forecast_windows

    # Rows 2..11 of a sheet; row 5 has no value.
    path = tmp_path / "gaps.csv"
    path.write_text("t,v\n" + "\n".join(f"d{i},{'' if i == 3 else i}" for i in range(10)) + "\n")
    series = {"columns": ["v"], "target": "v", "window": 3, "horizon": 1}
    dropped = forecast_windows(path, {**series, "missing": "drop"})
    # The gap's row is left out: the windows close over it and rows keep the sheet's numbers.
    assert dropped.x[1, :, 0].tolist() == [1, 2, 4]
    assert dropped.reads[:2] == ["2-4", "3-6"] and dropped.rows[:2] == [6, 7]
    assert dropped.time == ("t", [*(f"d{i}" for i in range(4, 10)), ""])
    assert dropped.truth[-2:] == ["9", ""] and dropped.rows[-1] == 12 and dropped.beyond == 1
    filled = forecast_windows(path, {**series, "missing": "fill"})
    assert filled.x[2, :, 0].tolist() == [2, 2, 4] and len(filled.rows) == 8
    assert filled.truth[0] == "" and filled.rows[0] == 5  # the file's own value: none
    with pytest.raises(
        DatasetError, match=r"row 5 column 'v'.*trained with missing values refused"
    ):
        forecast_windows(path, {**series, "missing": "refuse"})


def test_forecast_windows_without_the_target_column(tmp_path: Path):
    from deepgui.core.data.timeseries import forecast_windows

    path = tmp_path / "new.csv"
    path.write_text("wind\n" + "\n".join(str(i) for i in range(5)) + "\n")
    cut = forecast_windows(path, {"columns": ["wind"], "target": "temp", "window": 4,
                                  "horizon": 3})  # fmt: skip
    assert cut.truth is None and cut.time is None
    assert cut.rows == [8, 9] and cut.beyond == 2 and cut.x.shape == (2, 4, 1)
