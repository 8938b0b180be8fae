"""The overfitting detector on synthetic curves and a real overfitting run; remedies as commands."""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepgui.core.graph import Graph
from deepgui.core.project import Project
from deepgui.core.training.overfitting import OverfittingDetector
from deepgui.core.training.remedies import suggest_remedies


def feed(detector, loss, val):
    reports = []
    for i, (a, b) in enumerate(zip(loss, val, strict=True), start=1):
        r = detector.update(i, {"loss": a, "val_loss": b})
        if r:
            reports.append(r)
    return reports


def overfit_curve(turn: int, epochs: int = 30, noise: float = 0.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    e = np.arange(1, epochs + 1)
    loss = 1.5 * np.exp(-e / 6) + 0.02
    val = np.where(
        e <= turn, 1.5 * np.exp(-e / 6) + 0.2, 1.5 * np.exp(-turn / 6) + 0.2 + 0.04 * (e - turn)
    )
    val = val * (1 + noise * rng.standard_normal(epochs))
    return loss.tolist(), val.tolist()


@pytest.mark.parametrize("turn", [5, 8, 12])
def test_flags_rising_validation_loss_at_the_epoch_it_began(turn):
    loss, val = overfit_curve(turn)
    det = OverfittingDetector(patience=3, gap=10.0)  # gap out of reach: test the rising rule
    reports = feed(det, loss, val)
    assert reports, "a clear rise was not flagged"
    first = reports[0]
    assert first.kind == "rising"
    assert first.epoch == turn + 1
    assert first.best_epoch == turn
    assert first.detected_at == turn + 3
    assert "risen for 3 epochs" in first.reason


def test_no_false_alarm_on_healthy_noisy_curves():
    for seed in range(20):
        rng = np.random.default_rng(seed)
        e = np.arange(1, 41)
        loss = 1.2 * np.exp(-e / 8) + 0.05
        val = (1.2 * np.exp(-e / 8) + 0.1) * (1 + 0.01 * rng.standard_normal(40))
        assert feed(OverfittingDetector(), loss.tolist(), val.tolist()) == [], seed


def test_plateau_without_falling_training_loss_is_not_overfitting():
    loss = [1.0, 0.8, 0.7] + [0.7] * 10
    val = [1.0, 0.85, 0.75] + [0.76, 0.78, 0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94]
    assert feed(OverfittingDetector(patience=3, gap=10.0), loss, val) == []


def test_gap_rule_flags_a_jump_above_the_best_that_lasts_two_epochs():
    loss = [1.0, 0.8, 0.6, 0.5, 0.45]
    val = [1.0, 0.8, 0.7, 0.9, 0.95]  # 0.9 is 29 % above 0.7, then 0.95 is 36 %
    reports = feed(OverfittingDetector(patience=5, gap=0.2), loss, val)
    assert [r.kind for r in reports] == ["gap"]
    assert reports[0].epoch == 4 and reports[0].detected_at == 5
    assert "36%" in reports[0].reason


def test_a_single_epochs_spike_is_not_overfitting():
    """One bad epoch, then back near the best: neither rule flags it (it used to, and the run
    then ended with its best epoch after the 'overfitting' began)."""
    loss = [1.0, 0.8, 0.6, 0.5, 0.45, 0.42, 0.40, 0.38, 0.36, 0.35]
    val = [1.0, 0.8, 0.7, 1.1, 0.71, 0.705, 0.69, 0.68, 0.70, 0.72]
    assert feed(OverfittingDetector(patience=3, gap=0.2), loss, val) == []
    # A spike at the end of the patience window does not make a rise either.
    val = [1.0, 0.8, 0.7, 0.705, 0.70, 0.95, 0.69]
    assert feed(OverfittingDetector(patience=3, gap=10.0), loss[:7], val) == []


def test_flags_once_per_episode_and_rearms_after_a_new_best():
    loss = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.04]
    val = [1.0, 0.9, 0.95, 1.0, 1.1, 1.2, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    reports = feed(OverfittingDetector(patience=3, gap=10.0), loss, val)
    assert [r.epoch for r in reports] == [3, 8]


def test_without_validation_nothing_is_flagged():
    det = OverfittingDetector()
    for i in range(20):
        assert det.update(i + 1, {"loss": 1.0 / (i + 1)}) is None
    assert det.update(21, {"loss": 0.1, "val_loss": math.nan}) is None


def test_replay_restores_state_after_resume():
    loss, val = overfit_curve(6, epochs=9)
    rows = [
        {"epoch": i + 1, "loss": a, "val_loss": b}
        for i, (a, b) in enumerate(zip(loss, val, strict=True))
    ]
    det = OverfittingDetector(patience=3, gap=10.0)
    det.replay(rows)
    assert det.reports and det.reports[0].epoch == 7
    # Already flagged in this episode: the next rising epoch is not reported again.
    assert det.update(10, {"loss": 0.01, "val_loss": 1.5}) is None


def test_assess_follows_the_runs_own_best_epoch():
    from deepgui.core.training.overfitting import assess, best_epoch

    loss = [1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1]
    val = [1.0, 0.8, 0.7, 0.75, 0.8, 0.85, 0.8, 0.7, 0.66, 0.65, 0.64, 0.63]
    pairs = enumerate(zip(loss, val, strict=True), start=1)
    rows = [{"epoch": i, "loss": a, "val_loss": b} for i, (a, b) in pairs]
    det = OverfittingDetector(patience=3, gap=10.0)
    report = next(r for r in (det.update(r["epoch"], r) for r in rows[:6]) if r)
    assert (report.epoch, report.best_epoch, report.detected_at) == (4, 3, 6)
    status = assess(report, rows[:6])
    assert status.active and status.best_epoch == 3
    assert "from epoch 4" in status.headline and "epoch 3" in status.explanation
    # Later epochs beat the best: the flag is revisited, and the best it names is the run's.
    status = assess(report, rows)
    assert not status.active and status.best_epoch == best_epoch(rows)[0] == 12
    assert "epoch 12" in status.headline and "did not last" in status.explanation
    assert "  " not in status.explanation and ".." not in status.explanation


def test_a_flags_figure_names_its_epoch_and_assess_gives_the_latest():
    """A gap flagged at 30 % above the best must not stay the last word while validation loss
    goes on to 280 % above it: the flag says its epoch, the assessment the newest epoch's."""
    from deepgui.core.training.overfitting import assess

    loss = [1.0, 0.8, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1]
    val = [1.0, 0.7, 0.5, 0.62, 0.65, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 1.9]
    pairs = enumerate(zip(loss, val, strict=True), start=1)
    rows = [{"epoch": i, "loss": a, "val_loss": b} for i, (a, b) in pairs]
    gap, rising = feed(OverfittingDetector(patience=3, gap=0.2), loss, val)
    assert gap.reason.startswith("at epoch 5 validation loss was 30% above its best")
    assert "to 0.8 at epoch 6" in rising.reason
    assert "the latest" not in assess(gap, rows[:5]).explanation  # its epoch is the newest
    status = assess(gap, rows)
    assert status.active
    assert "At epoch 12, the latest, validation loss is 1.9, 280% above its best." in (
        status.explanation
    )
    assert "  " not in status.explanation and ".." not in status.explanation


# ----------------------------------------------------------------------------- remedies
def dense_project(image: bool = False) -> Project:
    g = Graph()
    shape = [8, 8, 1] if image else [4]
    nodes = [g.add_node("InputLayer", {"shape": shape})]
    if image:
        nodes.append(g.add_node("Flatten", {}))
    nodes += [
        g.add_node("Dense", {"units": 128, "activation": "relu"}),
        g.add_node("Dense", {"units": 32, "activation": "relu"}),
        g.add_node("Dense", {"units": 3, "activation": "softmax"}),
    ]
    for a, b in zip(nodes, nodes[1:], strict=False):
        g.connect(a.id, b.id)
    return Project(graph=g, training={"epochs": 5})


def test_remedies_are_ranked_and_apply_as_one_undo_step():
    project = dense_project()
    before = project.graph.to_dict()
    remedies = suggest_remedies(project, num_train=50, num_params=5000)
    keys = [r.key for r in remedies]
    assert keys[0] == "dropout"
    assert {"early_stopping", "l2", "smaller_model"} <= set(keys)
    assert "augmentation" not in keys  # not an image model
    scores = [r.score for r in remedies]
    assert scores == sorted(scores, reverse=True)

    dropout = remedies[0]
    edit = dropout.apply(project)
    assert edit.in_effect  # the banner says "applied" only while it is
    g = project.graph
    drops = [n for n in g if n.class_name == "Dropout"]
    assert len(drops) == 2
    widest = next(n for n in g if n.class_name == "Dense" and n.config["units"] == 128)
    assert [g.node(s).class_name for s in g.successors(widest.id)] == ["Dropout"]
    assert len(g.output_nodes()) == 1 and g.output_nodes()[0].config["units"] == 3
    project.undo.undo()
    assert project.graph.to_dict() == before and not edit.in_effect
    project.undo.redo()
    assert sum(n.class_name == "Dropout" for n in project.graph) == 2 and edit.in_effect


def test_early_stopping_remedy_changes_training_and_undoes():
    project = dense_project()
    remedy = next(r for r in suggest_remedies(project) if r.key == "early_stopping")
    remedy.apply(project)
    assert project.training["early_stopping"]["enabled"] is True
    assert project.training["epochs"] == 5
    project.undo.undo()
    assert project.training == {"epochs": 5}
    # Once it is on, it is no longer suggested.
    project.undo.redo()
    assert "early_stopping" not in [r.key for r in suggest_remedies(project)]


def test_l2_and_smaller_model_edit_the_widest_dense_layers():
    project = dense_project()
    by_key = {r.key: r for r in suggest_remedies(project)}
    by_key["l2"].apply(project)
    regs = [n.config.get("kernel_regularizer") for n in project.graph if n.class_name == "Dense"]
    assert sum(r is not None for r in regs) == 2
    by_key["smaller_model"].apply(project)
    units = sorted(n.config["units"] for n in project.graph if n.class_name == "Dense")
    assert units == [3, 16, 64]
    project.undo.undo()
    project.undo.undo()
    assert all(n.config.get("kernel_regularizer") is None for n in project.graph)


def test_augmentation_for_image_inputs_builds():
    from deepgui.core.build import build_model

    project = dense_project(image=True)
    remedy = next(r for r in suggest_remedies(project) if r.key == "augmentation")
    remedy.apply(project)
    g = project.graph
    inp = g.input_nodes()[0]
    first = g.node(g.successors(inp.id)[0])
    assert first.class_name == "RandomRotation"
    assert g.node(g.successors(first.id)[0]).class_name == "RandomZoom"
    model = build_model(g)
    assert model.output_shape == (None, 3)


def test_a_remedy_undone_restores_only_what_it_changed():
    """Remedy, then later edits of other settings, then undo: the later edits stay."""
    from deepgui.core.commands import set_fields
    from deepgui.core.project import Project

    project = Project(training={"early_stopping": {"patience": 2}, "epochs": 10,
                                "learning_rate": 0.01})  # fmt: skip
    remedy = next(r for r in suggest_remedies(project, 1000, 10_000) if r.key == "early_stopping")
    remedy.apply(project)
    assert project.training["early_stopping"]["enabled"] is True
    assert project.training["early_stopping"]["patience"] == 5
    for epochs in (2, 20, 50):  # typing 50 in the form: one step
        project.undo.push(set_fields(project.training, epochs=epochs))
    project.undo.push(set_fields(project.training, learning_rate=0.001))
    project.undo.undo()  # the learning rate
    project.undo.undo()  # the epochs, all three keystrokes
    assert project.training["epochs"] == 10 and project.training["learning_rate"] == 0.01
    project.undo.redo()
    project.undo.redo()
    project.undo.undo()
    project.undo.undo()
    project.undo.undo()  # the remedy
    assert project.training == {"early_stopping": {"patience": 2}, "epochs": 10,
                                "learning_rate": 0.01}  # fmt: skip
    project.undo.redo()
    project.undo.redo()
    assert project.training["epochs"] == 50 and project.training["early_stopping"]["enabled"]


# ----------------------------------------------------------------------------- a real run
@pytest.mark.slow  # over 5 s on 2 cores
def test_real_overfitting_training_raises_the_flag(tmp_path):
    from deepgui.core.data.base import LoadedData
    from deepgui.core.training import TrainingConfig, TrainingEngine, TrainingListener

    rng = np.random.default_rng(0)
    # Labels unrelated to the features: whatever the net learns is memorisation.
    x = rng.normal(size=(200, 20)).astype("float32")
    y = rng.integers(0, 2, size=200)
    data = LoadedData(x[:40], y[:40], x[40:], y[40:], task="multiclass", class_names=["a", "b"])
    g = Graph()
    nodes = [
        g.add_node("InputLayer", {"shape": [20]}),
        g.add_node("Dense", {"units": 512, "activation": "relu"}),
        g.add_node("Dense", {"units": 512, "activation": "relu"}),
        g.add_node("Dense", {"units": 2, "activation": "softmax"}),
    ]
    for a, b in zip(nodes, nodes[1:], strict=False):
        g.connect(a.id, b.id)
    project = Project(graph=g)
    seen = []

    class Listener(TrainingListener):
        def overfitting_detected(self, report):
            seen.append(report)

    cfg = TrainingConfig.from_dict({"epochs": 30, "batch_size": 8, "learning_rate": 0.003})
    result = TrainingEngine(
        None, data, cfg, Listener(), project=project, run_dir=tmp_path / "run"
    ).run()
    assert result.reason == "completed"
    assert seen, "memorising random labels was not flagged"
    assert seen[0].remedies and seen[0].remedies[0].key == "dropout"
    assert result.metrics["overfitting"][0]["epoch"] == seen[0].epoch
    assert 1 < seen[0].epoch < 30
