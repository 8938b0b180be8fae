"""The diff of two runs (core/training/run_diff.py) and `deepgui diff`: the changed layer and
parameter by name, layers added and removed, settings and data changed, both runs' scores;
identical runs have no differences."""

from __future__ import annotations

import pytest

from deepgui import cli
from deepgui.core.graph import Graph
from deepgui.core.project import Project
from deepgui.core.training import rundir
from deepgui.core.training.run_diff import NOT_SET, diff_projects, diff_runs


def iris_graph(units: int = 32, dropout: bool = False) -> Graph:
    """Input → dense → [dropout →] dense_1 → species, each layer where the canvas put it."""
    g = Graph()
    g.add_node("InputLayer", {"shape": [4], "name": "measurements"}, (0, 0), "n1")
    g.add_node("Dense", {"units": 16, "activation": "relu", "name": "dense"}, (0, 140), "n2")
    g.add_node("Dense", {"units": units, "activation": "relu", "name": "dense_1"}, (0, 420), "n3")
    g.add_node("Dense", {"units": 3, "activation": "softmax", "name": "species"}, (0, 560), "n4")
    g.connect("n1", "n2")
    if dropout:
        g.add_node("Dropout", {"rate": 0.3, "name": "dropout"}, (0, 280), "n5")
        g.connect("n2", "n5")
        g.connect("n5", "n3")
    else:
        g.connect("n2", "n3")
    g.connect("n3", "n4")
    return g


def write_run(project: Project, run_dir, losses: list[float]) -> None:
    """A finished run as the engine leaves it, written directly: the project as trained, its
    history and its metrics (no training needed)."""
    run_dir.mkdir(parents=True)
    (run_dir / "project.dgproj").write_text(project.to_json(), encoding="utf-8")
    rows = [{"epoch": i + 1, "loss": v, "val_loss": v + 0.1} for i, v in enumerate(losses)]
    rundir.write_history(run_dir, rows)
    best = min(rows, key=lambda r: r["val_loss"])
    rundir.write_json(run_dir / "metrics.json", {
        "epochs_run": len(rows), "stopped_by": "completed",
        "final": {k: v for k, v in rows[-1].items() if k != "epoch"},
        "best": {"epoch": best["epoch"], "monitor": "val_loss",
                 "metrics": {"val_loss": best["val_loss"]}},
    })  # fmt: skip


def two_runs(tmp_path) -> Project:
    """A saved iris project and two of its runs: the later one with dense_1 at 64 units, a
    dropout inserted before it and a learning rate ten times higher."""
    data = {"source": "builtin", "name": "iris"}
    project = Project(graph=iris_graph(), dataset=data, training={"learning_rate": 0.001})
    project.save(tmp_path / "iris.dgproj")
    write_run(project, tmp_path / "iris.runs" / "20260101-120000", [1.0, 0.8, 0.7])
    later = Project(graph=iris_graph(units=64, dropout=True), dataset=data,
                    training={"learning_rate": 0.01}, id=project.id)  # fmt: skip
    write_run(later, tmp_path / "iris.runs" / "20260101-130000", [0.9, 0.6, 0.4])
    return project


def test_the_diff_names_the_changed_layer_and_parameter(tmp_path):
    two_runs(tmp_path)
    runs = tmp_path / "iris.runs"
    diff = diff_runs(runs / "20260101-120000", runs / "20260101-130000")
    [layer] = diff.changed
    assert layer.name == "dense_1" and layer.class_name == "Dense"
    assert [(c.key, c.old, c.new) for c in layer.changes] == [("units", 32, 64)]
    assert [(r.name, r.class_name) for r in diff.added] == [("dropout", "Dropout")]
    assert diff.removed == []
    assert [(s.section, s.key, s.old, s.new) for s in diff.settings] == [
        ("training", "learning_rate", 0.001, 0.01)
    ]
    # The connection the dropout went into is its insertion, not news of its own.
    assert diff.summary() == (
        "dense_1.units 32 → 64; learning_rate 0.001 → 0.01; 1 layer added: dropout"
    )
    assert [c.text() for c in diff.connections_removed] == ["dense → dense_1"]
    assert diff.rewired() == ([], [])

    back = diff_runs(runs / "20260101-130000", runs / "20260101-120000")
    assert [r.name for r in back.removed] == ["dropout"] and back.added == []
    assert "1 layer removed: dropout" in back.summary()

    # Both runs' scores side by side, the better one marked.
    rows = {m.label: m for m in diff.metrics}
    assert (rows["final val_loss"].a, rows["final val_loss"].b) == pytest.approx((0.8, 0.5))
    assert rows["final val_loss"].better == "b"
    assert {m.label: m for m in back.metrics}["best val_loss"].better == "a"
    assert (rows["best epoch"].a, rows["stopped by"].b) == (3, "completed")


def test_settings_data_renames_and_rewiring():
    a, b = iris_graph(), iris_graph()
    b.set_config("n3", {**b.node("n3").config, "name": "hidden", "use_bias": True})
    extra = b.add_node("Dense", {"units": 3, "name": "skip"}, (300, 420), "n9")
    b.connect("n2", extra.id)
    diff = diff_projects(
        a,
        b,
        settings_a={"training": {"epochs": 10, "early_stopping": {"patience": 5}},
                    "data": {"validation_split": 0.2}},
        settings_b={"training": {"early_stopping": {"patience": 3}},
                    "data": {"validation_split": 0.3, "target": "species"}},
    )  # fmt: skip
    # Renamed: matched by id, and only its name differs (use_bias True is Dense's default).
    [layer] = diff.changed
    assert [(c.key, c.old, c.new) for c in layer.changes] == [("name", "dense_1", "hidden")]
    assert [r.name for r in diff.added] == ["skip"]
    # epochs 10 is the default: left out in B, it is no difference.
    assert [(s.section, s.key, s.old, s.new) for s in diff.settings] == [
        ("training", "early_stopping.patience", 5, 3),
        ("data", "validation_split", 0.2, 0.3),
        ("data", "target", NOT_SET, "species"),
    ]
    assert "data.validation_split 0.2 → 0.3" in diff.summary()


def test_identical_runs_have_no_differences(tmp_path):
    project = two_runs(tmp_path)
    runs = tmp_path / "iris.runs"
    write_run(project, runs / "20260101-140000", [1.0, 0.9])
    diff = diff_runs(runs / "20260101-120000", runs / "20260101-140000")
    assert diff.identical
    assert not (diff.changed or diff.added or diff.removed or diff.settings)
    assert diff.summary().startswith("No differences")


def test_deepgui_diff_prints_the_diff(tmp_path, capsys):
    two_runs(tmp_path)
    runs = tmp_path / "iris.runs"
    code = cli.main(["diff", str(runs / "20260101-120000"), str(runs / "20260101-130000")])
    out = capsys.readouterr().out
    assert code == 0
    assert "dense_1.units 32 → 64" in out
    assert "changed  dense_1 (Dense): units 32 → 64" in out
    assert "added    dropout (Dropout)" in out
    assert "training learning_rate 0.001 → 0.01" in out
    assert "final val_loss" in out
    # A folder that is no run: one sentence naming it, exit status 2, no traceback.
    code = cli.main(["diff", str(runs / "20260101-120000"), str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert code == 2 and "nowhere" in err and "Traceback" not in err
