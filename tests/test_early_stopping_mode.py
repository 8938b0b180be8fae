"""Early stopping's mode (training.early_stopping.mode: auto, min or max): which way the watched
metric improves. Keras reads it from the metric's name when it can; a sweep's per-trial early
stopping passes the objective's direction, so that it works on a metric Keras cannot read
(one output's metric of several)."""

from __future__ import annotations

import json

import pytest

from deepgui import cli
from deepgui.core.codegen import generate_script
from deepgui.core.errors import TrainingError
from deepgui.core.graph import Graph
from deepgui.core.project import load_project
from deepgui.core.sweep import table
from deepgui.core.training.config import TrainingConfig
from tests.helpers import add
from tests.test_multi_output import two_output_project, write_csv


def test_the_mode_is_read_checked_and_left_out_of_the_file_at_its_default():
    assert TrainingConfig.from_dict({}).early_stopping.mode == "auto"
    assert "mode" not in TrainingConfig.from_dict({}).to_dict()["early_stopping"]
    given = {"early_stopping": {"enabled": True, "monitor": "val_f1", "mode": "MAX"}}
    config = TrainingConfig.from_dict(given)
    assert config.early_stopping.mode == "max"
    assert TrainingConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()
    assert config.to_dict()["early_stopping"]["mode"] == "max"

    with pytest.raises(TrainingError) as refused:
        TrainingConfig.from_dict({"early_stopping": {"mode": "up"}})
    assert str(refused.value) == (
        "training.early_stopping.mode must be one of auto, min, max, not 'up'."
    )


def test_the_exported_script_passes_a_mode_other_than_auto():
    graph = Graph()
    add(graph, "Dense", add(graph, "InputLayer", shape=[4]), units=3, activation="softmax")
    dataset = {"source": "builtin", "name": "iris"}
    stopping = {"enabled": True, "monitor": "val_f1", "patience": 2}
    plain = generate_script(graph, dataset, {"early_stopping": stopping})
    given = generate_script(graph, dataset, {"early_stopping": {**stopping, "mode": "max"}})
    # The call as one line, however the script wraps its arguments.
    call = ["".join(s[s.index("EarlyStopping(") :].split(")")[0].split()).rstrip(",")
            for s in (plain, given)]  # fmt: skip
    assert call[0] == 'EarlyStopping(monitor="val_f1",patience=2,restore_best_weights=True'
    assert call[1] == call[0] + ',mode="max"'
    compile(given, "given.py", "exec")


def test_a_sweep_stops_trials_early_on_a_metric_keras_cannot_read(tmp_path, capsys):
    # "val_kind_accuracy" is one output's metric: Keras's EarlyStopping in mode "auto" refuses
    # it (it finds no metric of that name to ask its direction), so the trial must say "max".
    data = write_csv(tmp_path / "x.csv", rows=120)
    path = two_output_project(tmp_path / "two.dgproj")
    out = tmp_path / "sweep"
    rc = cli.main(["sweep", str(path), "--data", str(data), "--target", "kind,price",
                   "--vary", "hidden.units=8,16", "--trials", "1", "--epochs", "2",
                   "--patience", "1", "--objective", "val_kind_accuracy:max",
                   "--out", str(out)])  # fmt: skip
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert rc == 0, errors
    [row] = table.read(out)
    assert row["status"] == "completed", row
    run_dir = out / "trial_001"
    stopping = load_project(run_dir / "project.dgproj").training["early_stopping"]
    assert stopping["monitor"] == "val_kind_accuracy" and stopping["mode"] == "max"
    assert json.loads((run_dir / "metrics.json").read_text())["stopped_by"] in (
        "completed", "early_stopping")  # fmt: skip
    assert "early_stopping" not in load_project(path).training  # the project is left alone
