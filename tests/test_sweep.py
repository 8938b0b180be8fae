"""Sweeps end to end (core/sweep/search.py, `deepgui sweep`): each trial is an ordinary run
with its own run folder, trials.csv gathers them, the best is found by the objective and
applied as one undo step, a stopped sweep resumes without redoing finished trials, and a
sweep of a deliberately bad project finds a much better model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deepgui import cli
from deepgui.core.graph import Graph
from deepgui.core.paths import examples_dir
from deepgui.core.project import Project, load_project
from deepgui.core.sweep import apply, table
from deepgui.core.sweep.search import Sweep, SweepListener, SweepRequest
from deepgui.core.training import TrainingListener
from deepgui.core.training.run import Run, RunRequest
from deepgui.core.training.rundir import read_history
from tests.helpers import add


def iris_example(tmp_path: Path) -> Path:
    target = tmp_path / "iris_dense.dgproj"
    shutil.copy(examples_dir() / "iris_dense.dgproj", target)
    return target


class Heard(SweepListener):
    def __init__(self) -> None:
        self.started: list[int] = []
        self.finished: list[tuple[int, str]] = []
        self.runs: dict[int, dict] = {}  # trial -> its run's `started` info

    def trial_started(self, trial, epochs):
        self.started.append(trial.number)

    def trial_finished(self, trial):
        self.finished.append((trial.number, trial.status))

    def training(self, trial):
        heard = self

        class Info(TrainingListener):
            def started(self, steps_per_epoch, epochs, initial_epoch, info):
                heard.runs[trial.number] = {**info, "initial_epoch": initial_epoch}

        return Info()


def sweep(path: Path, listener: SweepListener | None = None, **request):
    the_sweep = Sweep(load_project(path), SweepRequest(**request)).plan()
    try:
        return the_sweep.run(listener)
    finally:
        the_sweep.release()


@pytest.mark.slow  # four trainings: about 20 s
def test_a_four_trial_sweep_runs_each_trial_as_a_run_and_applies_the_best(tmp_path):
    path = iris_example(tmp_path)
    out = tmp_path / "sweep"
    vary = ("dense.units=2..32:log", "training.learning_rate=1e-3..1e-1:log")
    outcome = sweep(path, vary=vary, trials=4, epochs=1, objective="val_accuracy", out=out)

    assert outcome.reason == "completed"
    rows = table.read(out)
    assert list(rows[0]) == ["trial", "status", "val_accuracy", "dense.units",
                             "training.learning_rate"]  # fmt: skip
    assert [r["trial"] for r in rows] == ["1", "2", "3", "4"]
    assert {r["status"] for r in rows} == {"completed"}
    for row in rows:
        run_dir = out / f"trial_{int(row['trial']):03d}"
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["stopped_by"] == "completed" and metrics["epochs_run"] == 1
        # The run trained the project with this trial's values.
        trained = load_project(run_dir / "project.dgproj")
        assert trained.graph.node_by_name("dense").config["units"] == int(row["dense.units"])
        assert trained.training["learning_rate"] == float(row["training.learning_rate"])
        assert float(row["val_accuracy"]) == read_history(run_dir)[-1]["val_accuracy"]

    best_row = max(rows, key=lambda r: (float(r["val_accuracy"]), -int(r["trial"])))
    assert outcome.best.number == int(best_row["trial"])

    project = load_project(path)
    before = (project.graph.node_by_name("dense").config["units"],
              project.training["learning_rate"])  # fmt: skip
    apply.apply_values(project, outcome.best.values, "Apply the best trial")
    assert project.graph.node_by_name("dense").config["units"] == int(best_row["dense.units"])
    assert project.training["learning_rate"] == float(best_row["training.learning_rate"])
    project.undo.undo()  # one step takes back both
    assert (project.graph.node_by_name("dense").config["units"],
            project.training["learning_rate"]) == before  # fmt: skip
    assert not project.undo.can_undo()


def test_a_stopped_sweep_resumes_where_it_stopped(tmp_path):
    path = iris_example(tmp_path)
    out = tmp_path / "sweep"
    request = {"vary": ("dense.units=2..32",), "trials": 3, "epochs": 2, "out": out}

    the_sweep = Sweep(load_project(path), SweepRequest(**request)).plan()

    class StopInTrial2(Heard):
        def training(self, trial):
            inner = super().training(trial)

            class Stopper(type(inner)):
                def epoch_ended(self, epoch, logs):
                    if trial.number == 2:
                        the_sweep.stop()  # as Ctrl+C or a kill mid-trial would

            return Stopper()

    first = StopInTrial2()
    try:
        outcome = the_sweep.run(first)
    finally:
        the_sweep.release()
    assert outcome.reason == "stopped"
    assert first.finished == [(1, "completed"), (2, "stopped")]
    rows = table.read(out)
    assert [r["status"] for r in rows] == ["completed", "stopped"]
    done = (out / "trial_001" / "metrics.json").stat().st_mtime_ns

    # Asking something else of the same folder is refused, naming it.
    with pytest.raises(Exception, match="differs in what varies"):
        Sweep(load_project(path), SweepRequest(**{**request, "vary": ("dense.units=4,8",)})).plan()

    second = Heard()
    outcome = sweep(path, second, **request)
    assert outcome.reason == "completed"
    assert second.started == [2, 3]  # trial 1 is not run again
    assert second.runs[2]["resumed"] and second.runs[2]["initial_epoch"] == 1
    assert [r["epoch"] for r in read_history(out / "trial_002")] == [1, 2]
    assert (out / "trial_001" / "metrics.json").stat().st_mtime_ns == done
    rows_after = table.read(out)
    assert [r["status"] for r in rows_after] == ["completed"] * 3
    assert rows_after[1]["dense.units"] == rows[1]["dense.units"]  # the same values, resumed


@pytest.mark.parametrize("algorithm", ["random", "bayesian", "hyperband"])
def test_each_algorithm_proposes_values_inside_the_space(tmp_path, algorithm):
    path = iris_example(tmp_path)
    request = SweepRequest(vary=("dense.units=4..16", "training.optimizer=adam,sgd"),
                           algorithm=algorithm, epochs=3, out=tmp_path / "sweep")  # fmt: skip
    the_sweep = Sweep(load_project(path), request).plan()
    try:
        proposed = the_sweep.oracle().create_trial("test")
    finally:
        the_sweep.release()
    values = proposed.hyperparameters.values
    assert proposed.status == "RUNNING"
    assert 4 <= values["dense.units"] <= 16
    assert values["training.optimizer"] in ("adam", "sgd")
    if algorithm == "hyperband":
        assert 1 <= values["tuner/epochs"] <= 3  # Hyperband's epochs, at most the sweep's


def run_cli(capsys, *args) -> tuple[int, str, list[str]]:
    rc = cli.main(["sweep", *map(str, args)])
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.startswith("error:")]
    return rc, captured.out, lines


def test_the_command_refuses_bad_input_with_one_sentence(tmp_path, capsys):
    path = iris_example(tmp_path)
    rc, _, errors = run_cli(capsys, path, "--vary", "dense.unitz=4,8")
    assert rc == 2
    assert errors == ["error: Layer dense (Dense) has no parameter 'unitz' (did you mean "
                      "units?) (--vary)."]  # fmt: skip
    rc, _, errors = run_cli(capsys, path)
    assert rc == 2 and len(errors) == 1
    assert "Nothing in iris_dense is marked to vary" in errors[0]
    rc, _, errors = run_cli(capsys, path, "--vary", "dense.units=4,8", "--parallel", "0")
    assert rc == 2 and len(errors) == 1 and "parallel" in errors[0]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    rc, _, errors = run_cli(capsys, path, "--vary", "dense.units=4,8", "--out", tmp_path / "full")
    assert rc == 2 and "is not empty and holds no sweep" in errors[0]
    assert {p.name for p in (tmp_path / "full").iterdir()} == {"notes.txt"}  # left as it was
    assert not (tmp_path / "iris_dense.dgproj.bak").exists()


def test_an_objective_the_trials_do_not_log_is_one_sentence(tmp_path, capsys):
    path = iris_example(tmp_path)
    rc, _, errors = run_cli(capsys, path, "--vary", "dense.units=4,8", "--trials", "1",
                            "--epochs", "1", "--objective", "val_auc", "--out",
                            tmp_path / "sweep")  # fmt: skip
    assert rc == 2 and len(errors) == 1
    assert "val_auc is not among the metrics a trial logs" in errors[0]
    assert "val_accuracy" in errors[0] and "(--objective)" in errors[0]


def bad_default(tmp_path: Path) -> Path:
    """Iris through a 2-unit bottleneck, learning at 1e-5: it barely learns."""
    g = Graph()
    inputs = add(g, "InputLayer", shape=[4], name="measurements")
    neck = add(g, "Dense", inputs, units=2, activation="relu", name="bottleneck")
    add(g, "Dense", neck, units=3, activation="softmax", name="species")
    project = Project(graph=g, dataset={"source": "builtin", "name": "iris"},
                      training={"learning_rate": 1e-5, "epochs": 8, "batch_size": 16})  # fmt: skip
    path = tmp_path / "bad.dgproj"
    project.save(path)
    return path


def test_the_command_finds_a_much_better_model_than_a_bad_default(tmp_path, capsys):
    path = bad_default(tmp_path)
    baseline = Run(load_project(path), RunRequest(out=tmp_path / "baseline")).execute()
    assert baseline.reason == "completed"
    default = max(row["val_accuracy"] for row in read_history(tmp_path / "baseline"))

    out = tmp_path / "sweep"
    rc, stdout, errors = run_cli(capsys, path, "--vary", "bottleneck.units=8..32",
                                 "--vary", "training.learning_rate=3e-3..3e-2:log",
                                 "--trials", "2", "--objective", "val_accuracy",
                                 "--out", out, "--apply")  # fmt: skip
    assert rc == 0, errors
    rows = table.read(out)
    assert len(rows) == 2
    best = max(float(r["val_accuracy"]) for r in rows if r["status"] == "completed")
    assert best >= default + 0.2, (best, default)
    assert "best: trial" in stdout and f"val_accuracy {best:.4g}" in stdout
    # --apply wrote the best values and kept the earlier file.
    assert load_project(tmp_path / "bad.dgproj.bak").training["learning_rate"] == 1e-5
    applied = load_project(path)
    best_row = next(r for r in rows if r["status"] == "completed"
                    and float(r["val_accuracy"]) == best)  # fmt: skip
    assert applied.training["learning_rate"] == float(best_row["training.learning_rate"])
    assert applied.graph.node_by_name("bottleneck").config["units"] == int(
        best_row["bottleneck.units"]
    )


def test_early_stopping_per_trial_ends_a_trial_whose_objective_stops_improving(tmp_path, capsys):
    path = iris_example(tmp_path)
    out = tmp_path / "sweep"
    # A learning rate far below float32's step leaves the weights, and so the objective, as
    # they were: with a patience of 1 each trial ends at its second epoch, not its sixth.
    common = ("--vary", "training.learning_rate=1e-12,2e-12", "--trials", "2", "--epochs", "6",
              "--objective", "val_accuracy", "--out", out)  # fmt: skip
    rc, stdout, errors = run_cli(capsys, path, *common, "--patience", "1")
    assert rc == 0, errors
    rows = table.read(out)
    assert [r["status"] for r in rows] == ["completed", "completed"]
    for row in rows:
        run_dir = out / f"trial_{int(row['trial']):03d}"
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["stopped_by"] == "early_stopping" and metrics["epochs_run"] == 2
        stopping = load_project(run_dir / "project.dgproj").training["early_stopping"]
        assert stopping["enabled"] and stopping["monitor"] == "val_accuracy"
        assert stopping["patience"] == 1 and stopping["mode"] == "max"  # the direction too
    assert json.loads((out / "sweep.json").read_text())["patience"] == 1
    assert "early_stopping" not in load_project(path).training  # the project is left alone

    # The same folder with another patience is another sweep: refused, naming it.
    rc, _, errors = run_cli(capsys, path, *common, "--patience", "3")
    assert rc == 2 and "differs in its early stopping" in errors[0]
    rc, _, errors = run_cli(capsys, path, *common[:-2], "--patience", "0")
    assert rc == 2
    assert errors == ["error: The early stopping patience must be at least 1 epoch, not 0 "
                      "(--patience)."]  # fmt: skip
