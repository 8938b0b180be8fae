"""A sweep's search space (core/sweep/space.py): NAME=SPEC parsed and checked against the
project with one sentence naming what is wrong; a trial's values applied to a copy, and the
best trial's to the project as one undo step (core/sweep/apply.py); the trials table. No
training here."""

from __future__ import annotations

import json

import pytest

from deepgui.core.errors import DeepGuiError
from deepgui.core.graph import Graph
from deepgui.core.project import Project, load_project
from deepgui.core.sweep import apply, space, table
from deepgui.core.sweep.search import parse_objective
from tests.helpers import add


def project() -> Project:
    g = Graph()
    inputs = add(g, "InputLayer", shape=[4], name="measurements")
    hidden = add(g, "Dense", inputs, units=8, activation="relu", name="hidden")
    drop = add(g, "Dropout", hidden, rate=0.1, name="drop")
    add(g, "Dense", drop, units=3, activation="softmax", name="species")
    return Project(graph=g, dataset={"source": "builtin", "name": "iris"},
                   training={"learning_rate": 0.01, "epochs": 2})  # fmt: skip


def refusal(text: str) -> str:
    with pytest.raises(DeepGuiError) as info:
        space.dimension(project(), text)
    assert info.value.setting == "vary"
    message = str(info.value)
    assert message.count(". ") == 0, message  # one sentence
    return message


def test_choices_and_ranges_parse_to_typed_dimensions():
    p = project()
    units = space.dimension(p, "hidden.units=16, 32,64")
    assert (units.kind, units.choices) == ("choice", (16, 32, 64))
    act = space.dimension(p, "hidden.activation=relu,tanh")
    assert act.choices == ("relu", "tanh")
    rate = space.dimension(p, "training.learning_rate=1e-4..1e-1:log")
    assert (rate.kind, rate.low, rate.high, rate.log) == ("float", 1e-4, 0.1, True)
    whole = space.dimension(p, "hidden.units=4..64")
    assert (whole.kind, whole.low, whole.high, whole.log) == ("int", 4, 64, False)
    # A float parameter takes whole-number bounds as numbers.
    dropout = space.dimension(p, "drop.rate=0..0.5")
    assert (dropout.kind, dropout.low, dropout.high) == ("float", 0.0, 0.5)
    assert "at most 0.999" in refusal("drop.rate=0..1")  # its bounds are the layer's
    opt = space.dimension(p, "training.optimizer=adam,sgd")
    assert (opt.owner, opt.key, opt.is_training) == ("training", "optimizer", True)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hidden.units", ["NAME=SPEC"]),
        ("units=4..8", ["LAYER.PARAM", "training.FIELD"]),
        ("hiddn.units=4,8", ["no layer named 'hiddn'", "did you mean hidden"]),
        ("hidden.unit=4,8", ["hidden (Dense) has no parameter 'unit'", "did you mean units"]),
        ("hidden.activation=1..3", ["hidden.activation is not a number", "choices"]),
        ("hidden.units=0.5..8", ["hidden.units is a whole number", "0.5..8"]),
        ("hidden.units=8..4", ["hidden.units", "8..4"]),
        ("hidden.units=0..8:log", ["log scale", "above 0"]),
        ("hidden.units=4,8:log", [":log belongs to a range"]),
        ("hidden.units=4..8:lg", [":lg"]),
        ("hidden.units=4,,8", ["empty choice"]),
        ("hidden.units=0,8", ["hidden: units", "at least 1"]),
        ("hidden.units=a..b", ["not a range of two numbers"]),
        ("hidden.name=a,b", ["hidden.name cannot vary"]),
        ("training.learnin_rate=1,2", ["no training setting 'learnin_rate'", "learning_rate"]),
        ("training.schedule=a,b", ["training.schedule is a group of settings"]),
        ("training.optimizer=adam,fast", ["training.optimizer", "'fast'"]),
        ("training.batch_size=0..8", ["training.batch_size", "0"]),
        ("training.ranks=1,2", ["training.ranks cannot vary"]),
    ],
)
def test_a_bad_name_or_spec_is_one_sentence_naming_it(text, words):
    message = refusal(text)
    for word in words:
        assert word in message, message


def test_a_name_given_twice_is_refused():
    with pytest.raises(DeepGuiError, match="hidden.units is varied twice"):
        space.dimensions(project(), ["hidden.units=4,8", "hidden.units=16..32"])


def test_mixed_choices_go_to_the_tuner_as_words_and_come_back_typed():
    dim = space.Dimension("hidden.kernel_regularizer", "choice", choices=("l2", 3, True))
    offered = dim.tuner_choices()
    assert all(isinstance(v, str) for v in offered)
    assert [dim.value_of(v) for v in offered] == ["l2", 3, True]
    numbers = space.Dimension("x.y", "choice", choices=(1, 0.5))
    assert numbers.tuner_choices() == [1.0, 0.5]
    assert space.Dimension("x.y", "int", low=1, high=9).value_of(4.0) == 4


def test_objective_direction_follows_the_metric_or_is_given():
    assert parse_objective("val_loss") == ("val_loss", "min")
    assert parse_objective("val_accuracy") == ("val_accuracy", "max")
    assert parse_objective("val_mae") == ("val_mae", "min")
    assert parse_objective("val_custom:min") == ("val_custom", "min")
    for bad in ("", "val accuracy", "val_loss:down"):
        with pytest.raises(DeepGuiError) as info:
            parse_objective(bad)
        assert info.value.setting == "objective"


def test_a_trials_values_go_into_a_copy_and_the_project_is_left_alone():
    p = project()
    trial = apply.applied(p, {"hidden.units": 32, "training.learning_rate": 0.1})
    assert trial.graph.node_by_name("hidden").config["units"] == 32
    assert trial.training["learning_rate"] == 0.1
    assert p.graph.node_by_name("hidden").config["units"] == 8
    assert p.training["learning_rate"] == 0.01
    with pytest.raises(DeepGuiError) as info:
        apply.applied(p, {"drop.rate": 1.5})
    assert "drop: rate" in str(info.value) and info.value.setting == "vary"


def test_applying_the_best_is_one_undo_step_and_undo_restores_the_values():
    p = project()
    p.undo.set_clean()
    command = apply.apply_values(
        p, {"hidden.units": 32, "hidden.activation": "tanh", "training.learning_rate": 0.05},
        "Apply trial 3",
    )  # fmt: skip
    hidden = p.graph.node_by_name("hidden")
    assert (hidden.config["units"], hidden.config["activation"]) == (32, "tanh")
    assert p.training["learning_rate"] == 0.05
    assert p.undo.undo_text() == "Apply trial 3" and command is not None
    p.undo.undo()
    hidden = p.graph.node_by_name("hidden")
    assert (hidden.config["units"], hidden.config["activation"]) == (8, "relu")
    assert p.training["learning_rate"] == 0.01
    assert not p.undo.can_undo() and p.undo.is_clean
    p.undo.redo()
    assert p.graph.node_by_name("hidden").config["units"] == 32
    # Values the project holds already change nothing, and add no step.
    assert apply.apply_values(p, {"hidden.units": 32}) is None
    assert p.undo.undo_text() == "Apply trial 3"


def test_applying_to_the_file_keeps_the_earlier_one_as_bak(tmp_path):
    path = tmp_path / "iris.dgproj"
    project().save(path)
    before = path.read_bytes()
    assert apply.apply_to_file(path, {"hidden.units": 24}) is not None
    assert (tmp_path / "iris.dgproj.bak").read_bytes() == before
    assert load_project(path).graph.node_by_name("hidden").config["units"] == 24
    # Nothing to change: nothing written.
    (tmp_path / "iris.dgproj.bak").unlink()
    assert apply.apply_to_file(path, {"hidden.units": 24}) is None
    assert not (tmp_path / "iris.dgproj.bak").exists()


def test_the_table_has_its_columns_and_the_best_follows_the_direction(tmp_path):
    trials = [
        table.Trial(1, "completed", {"hidden.units": 8}, objective=0.7),
        table.Trial(2, "failed", {"hidden.units": 2}, message="the loss became NaN"),
        table.Trial(3, "completed", {"hidden.units": 32}, objective=0.9),
        table.Trial(4, "stopped", {"hidden.units": 64}, objective=0.95),
    ]
    table.write(tmp_path, "val_accuracy", ["hidden.units"], trials)
    rows = table.read(tmp_path)
    assert list(rows[0]) == ["trial", "status", "val_accuracy", "hidden.units"]
    assert [r["status"] for r in rows] == ["completed", "failed", "completed", "stopped"]
    assert rows[1]["val_accuracy"] == "" and rows[2]["hidden.units"] == "32"
    assert table.best(trials, "max").number == 3  # a stopped trial is not a result
    assert table.best(trials, "min").number == 1
    assert table.best(trials[1:2], "max") is None
    assert json.dumps(trials[2].describe("val_accuracy")).count("hidden.units=32") == 1


def test_each_axis_of_the_parallel_plot_spans_its_marks_scale():
    from deepgui.core.sweep import axes

    p = project()
    units = axes.parameter_axis(space.dimension(p, "hidden.units=4,16,64"))
    assert units.name == "hidden.units"
    assert units.ticks == ((0.0, "4"), (0.5, "16"), (1.0, "64"))
    assert units.position(16) == 0.5 and units.position(5) is None  # not a choice offered

    rate = axes.parameter_axis(space.dimension(p, "training.learning_rate=1e-4..1e-1:log"))
    assert rate.name == "training.learning_rate (log)"
    assert [text for _, text in rate.ticks] == ["0.0001", "0.001", "0.01", "0.1"]
    assert [round(y, 6) for y, _ in rate.ticks] == [0, round(1 / 3, 6), round(2 / 3, 6), 1]
    assert rate.position(1e-2) == pytest.approx(2 / 3)  # on a linear axis: 0.0991
    assert rate.position(1.0) == 1.0 and rate.position("fast") is None

    drop = axes.parameter_axis(space.dimension(p, "drop.rate=0.1..0.5"))
    assert drop.ticks == ((0.0, "0.1"), (1.0, "0.5"))
    assert drop.position(0.2) == pytest.approx(0.25)

    objective = axes.objective_axis("val_accuracy", [0.9, 0.6, float("nan")])
    assert objective.ticks == ((0.0, "0.6"), (1.0, "0.9"))
    assert objective.position(0.75) == pytest.approx(0.5)
    assert axes.objective_axis("val_loss", []).ticks == ()
