"""The training dict: defaults, validation naming the field, optimizers and schedules."""

from __future__ import annotations

import pytest

from deepgui.core.errors import TrainingError
from deepgui.core.training.config import (
    TrainingConfig,
    balanced_class_weight,
    check_loss_and_metrics,
    make_optimizer,
)


def test_defaults_and_round_trip():
    cfg = TrainingConfig.from_dict({})
    assert (cfg.optimizer, cfg.batch_size, cfg.epochs, cfg.loss, cfg.device) == (
        "adam",
        32,
        10,
        "auto",
        "auto",
    )
    assert cfg.early_stopping.enabled is False and cfg.schedule.kind == "constant"
    again = TrainingConfig.from_dict(cfg.to_dict())
    assert again == cfg


def test_every_field_is_read():
    raw = {
        "optimizer": "SGD", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True,
        "schedule": {"kind": "step", "every_epochs": 3, "factor": 0.1},
        "loss": "mse", "metrics": ["mae"], "batch_size": 64, "epochs": 7,
        "early_stopping": {"enabled": True, "monitor": "val_accuracy", "patience": 2,
                           "restore_best_weights": False},
        "class_weight": "balanced", "seed": 3, "device": "cpu", "mixed_precision": True,
        "tensorboard": True, "overfitting": {"patience": 4, "gap": 0.5},
    }  # fmt: skip
    cfg = TrainingConfig.from_dict(raw)
    assert cfg.optimizer == "sgd" and cfg.nesterov and cfg.momentum == 0.9
    assert cfg.schedule.kind == "step" and cfg.schedule.every_epochs == 3
    assert cfg.metrics == ["mae"] and cfg.batch_size == 64 and cfg.epochs == 7
    assert (
        cfg.early_stopping.monitor == "val_accuracy" and not cfg.early_stopping.restore_best_weights
    )
    assert cfg.class_weight == "balanced" and cfg.seed == 3 and cfg.overfitting.gap == 0.5
    assert cfg.with_overrides(epochs=2, batch_size=None).epochs == 2


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"optimizer": "lbfgs"}, "training.optimizer"),
        ({"learning_rate": 0}, "training.learning_rate"),
        ({"learning_rate": "fast"}, "training.learning_rate"),
        ({"batch_size": 0}, "training.batch_size"),
        ({"epochs": 2.5}, "training.epochs"),
        ({"schedule": {"kind": "linear"}}, "training.schedule.kind"),
        ({"schedule": "cosine"}, "training.schedule"),
        ({"early_stopping": {"patience": -1}}, "training.early_stopping.patience"),
        ({"class_weight": "auto"}, "training.class_weight"),
        ({"device": "tpu"}, "training.device"),
        ({"nesterov": "yes"}, "training.nesterov"),
        ({"metrics": "accuracy"}, "training.metrics"),
        ({"overfitting": {"gap": 0}}, "training.overfitting.gap"),
    ],
)
def test_bad_values_name_the_field(raw, field):
    with pytest.raises(TrainingError) as info:
        TrainingConfig.from_dict(raw)
    message = str(info.value)
    assert message.startswith(field + " ") and "\n" not in message


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("sgd", "SGD"),
        ("adam", "Adam"),
        ("adamw", "AdamW"),
        ("rmsprop", "RMSprop"),
        ("adagrad", "Adagrad"),
    ],
)
def test_optimizers(name, cls):
    opt = make_optimizer(TrainingConfig.from_dict({"optimizer": name, "momentum": 0.5}), 10)
    assert type(opt).__name__ == cls
    if name == "sgd":
        assert float(opt.momentum) == 0.5


def test_schedules_follow_epochs():
    steps = 10

    import keras

    cfg = TrainingConfig.from_dict({"learning_rate": 0.1, "epochs": 20,
                                    "schedule": {"kind": "step", "every_epochs": 2, "factor": 0.5}})  # fmt: skip
    sched = make_optimizer(cfg, steps)._learning_rate
    assert isinstance(sched, keras.optimizers.schedules.LearningRateSchedule)
    assert float(sched(19)) == pytest.approx(0.1)  # still the first two epochs
    assert float(sched(20)) == pytest.approx(0.05)
    assert float(sched(45)) == pytest.approx(0.025)

    cfg = TrainingConfig.from_dict({"learning_rate": 0.1, "epochs": 20,
                                    "schedule": {"kind": "exponential", "decay_rate": 0.9}})  # fmt: skip
    sched = make_optimizer(cfg, steps)._learning_rate
    assert float(sched(10)) == pytest.approx(0.09)

    cfg = TrainingConfig.from_dict({"learning_rate": 0.1, "epochs": 20,
                                    "schedule": {"kind": "cosine", "min_learning_rate": 0.01}})  # fmt: skip
    sched = make_optimizer(cfg, steps)._learning_rate
    assert float(sched(0)) == pytest.approx(0.1)
    assert float(sched(200)) == pytest.approx(0.01)
    assert float(sched(100)) == pytest.approx(0.055)

    for kind in ("constant", "plateau"):
        opt = make_optimizer(
            TrainingConfig.from_dict({"learning_rate": 0.1, "schedule": {"kind": kind}}), steps
        )
        assert float(opt.learning_rate) == pytest.approx(0.1)


def test_loss_and_metric_names_are_checked():
    check_loss_and_metrics("sparse_categorical_crossentropy", ["accuracy", "mae"])
    with pytest.raises(TrainingError, match="training.loss"):
        check_loss_and_metrics("crossentropyish", [])
    with pytest.raises(TrainingError, match="training.metrics"):
        check_loss_and_metrics("mse", ["precisionish"])


def test_balanced_class_weight():
    weights = balanced_class_weight([0, 0, 0, 1])
    assert weights == {0: pytest.approx(4 / 6), 1: pytest.approx(2.0)}
