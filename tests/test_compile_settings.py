"""Compile settings travel: what a .keras file was compiled with becomes the project's training
dict (and a note for what cannot), the training schema holds it, and an export writes it back."""

from __future__ import annotations

import warnings

import pytest

from deepgui.core.compile_settings import (
    compile_for_export,
    training_from_compiled,
    training_from_model_file,
)
from deepgui.core.errors import TrainingError
from deepgui.core.training.config import (
    OPTIMIZER_CLASSES,
    OPTIMIZERS,
    TrainingConfig,
    check_loss_and_metrics,
    compile_loss,
    make_optimizer,
)

keras = pytest.importorskip("keras")


def one_output_model(units: int = 1):
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(units, name="y")(hidden))


def two_output_model():
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    a = keras.layers.Dense(3, activation="softmax", name="a")(hidden)
    b = keras.layers.Dense(1, name="b")(hidden)
    return keras.Model(inputs, [a, b])


def saved(model, tmp_path, name: str = "model.keras"):
    path = tmp_path / name
    model.save(path)
    return path


def value(variable) -> float:
    return float(keras.ops.convert_to_numpy(variable))


# ----------------------------------------------------------------------------- model -> dict
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_sgd_with_momentum_gives_exactly_its_settings(tmp_path, suffix):
    model = one_output_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse")
    path = saved(model, tmp_path, "model" + suffix)

    training, notes = training_from_model_file(path)

    assert training == {"optimizer": "sgd", "learning_rate": 0.05, "momentum": 0.9, "loss": "mse"}
    assert notes == []
    optimizer = make_optimizer(TrainingConfig.from_dict(training), steps_per_epoch=10)
    assert type(optimizer) is keras.optimizers.SGD
    assert value(optimizer.learning_rate) == pytest.approx(0.05)
    assert optimizer.momentum == pytest.approx(0.9) and not optimizer.nesterov


def test_a_loaded_model_gives_the_same_as_its_file_and_compile_false_says_why_not(tmp_path):
    model = one_output_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse")
    path = saved(model, tmp_path)

    from_file = training_from_model_file(path)
    assert training_from_compiled(keras.saving.load_model(path, safe_mode=True)) == from_file
    uncompiled, notes = training_from_compiled(keras.saving.load_model(path, compile=False))
    assert uncompiled == {} and len(notes) == 1 and "not compiled" in notes[0]


def test_adam_with_beta_1_and_clipnorm(tmp_path):
    model = one_output_model()
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.002, beta_1=0.8, clipnorm=1.0),
        loss="mse",
    )
    training, notes = training_from_model_file(saved(model, tmp_path))

    assert (training["optimizer"], training["learning_rate"]) == ("adam", 0.002)
    assert training["optimizer_options"] == {"beta_1": 0.8, "clipnorm": 1.0} and notes == []
    optimizer = make_optimizer(TrainingConfig.from_dict(training), steps_per_epoch=10)
    assert type(optimizer) is keras.optimizers.Adam
    assert (optimizer.beta_1, optimizer.clipnorm, optimizer.beta_2) == (0.8, 1.0, 0.999)


@pytest.mark.parametrize(
    "schedule",
    [
        lambda: keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5),
        lambda: keras.optimizers.schedules.PiecewiseConstantDecay([100, 500], [0.1, 0.01, 0.001]),
        lambda: keras.optimizers.schedules.CosineDecayRestarts(0.1, first_decay_steps=300),
        lambda: keras.optimizers.schedules.PolynomialDecay(0.1, decay_steps=2000, power=2.0),
    ],
    ids=["exponential", "piecewise", "cosine_restarts", "polynomial"],
)
def test_a_learning_rate_schedule_round_trips(tmp_path, schedule):
    original = schedule()
    model = one_output_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=original), loss="mse")
    training, notes = training_from_model_file(saved(model, tmp_path))

    assert training["schedule"]["kind"] == "keras" and notes == []
    assert training["learning_rate"] == pytest.approx(value(original(0)))
    rebuilt = make_optimizer(TrainingConfig.from_dict(training), steps_per_epoch=7)._learning_rate
    assert type(rebuilt) is type(original)
    for step in (0, 250, 1000):
        assert value(rebuilt(step)) == pytest.approx(value(original(step)))


def test_two_outputs_map_to_the_per_output_form(tmp_path):
    model = two_output_model()
    model.compile(
        optimizer="adam",
        loss={"a": "sparse_categorical_crossentropy", "b": "mse"},
        loss_weights={"a": 1.0, "b": 0.5},
        metrics={"a": ["accuracy"], "b": [keras.metrics.MeanAbsoluteError()]},
    )
    training, notes = training_from_model_file(saved(model, tmp_path))

    assert training["loss"] == {"a": "sparse_categorical_crossentropy", "b": "mse"}
    assert training["loss_weights"] == {"a": 1.0, "b": 0.5}
    assert training["metrics"] == {"a": ["accuracy"], "b": ["mean_absolute_error"]}
    assert notes == []
    cfg = TrainingConfig.from_dict(training)
    assert (cfg.loss, cfg.metrics, cfg.loss_weights) == (
        training["loss"],
        training["metrics"],
        training["loss_weights"],
    )
    check_loss_and_metrics(cfg.loss, cfg.metrics)


def test_settings_given_as_lists_are_placed_by_output_name(tmp_path):
    model = two_output_model()
    model.compile(
        optimizer="adam",
        loss=["sparse_categorical_crossentropy", "mse"],
        loss_weights=[2.0, 0.25],
        metrics=[["accuracy"], ["mae"]],
    )
    training, _ = training_from_model_file(saved(model, tmp_path))

    assert training["loss"] == {"a": "sparse_categorical_crossentropy", "b": "mse"}
    assert training["loss_weights"] == {"a": 2.0, "b": 0.25}
    assert training["metrics"] == {"a": ["accuracy"], "b": ["mae"]}


def test_a_custom_loss_and_a_metric_with_settings_are_named_not_dropped(tmp_path):
    def my_custom_loss(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred))

    model = one_output_model()
    model.compile(
        optimizer="adam",
        loss=my_custom_loss,
        metrics=["mae", keras.metrics.AUC(num_thresholds=50)],
    )
    training, notes = training_from_model_file(saved(model, tmp_path))

    assert training["loss"] == "auto" and training["metrics"] == ["mae"]
    assert any("my_custom_loss" in n for n in notes)
    assert any("AUC" in n and "num_thresholds=50" in n for n in notes)
    assert all("\n" not in n for n in notes)
    TrainingConfig.from_dict(training)


def test_a_loss_object_maps_to_its_name_only_where_the_name_means_the_same(tmp_path):
    model = two_output_model()
    model.compile(
        optimizer="adam",
        loss={
            "a": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "b": keras.losses.MeanSquaredError(),
        },
    )
    training, notes = training_from_model_file(saved(model, tmp_path))

    assert training["loss"]["b"] == "mean_squared_error" and notes == []
    kept = training["loss"]["a"]
    assert kept["class_name"] == "SparseCategoricalCrossentropy"
    assert kept["config"]["from_logits"] is True
    rebuilt = compile_loss(TrainingConfig.from_dict(training).loss)
    assert isinstance(rebuilt["a"], keras.losses.SparseCategoricalCrossentropy)
    assert rebuilt["a"].get_config()["from_logits"] is True
    assert rebuilt["b"] == "mean_squared_error"


# ----------------------------------------------------------------------------- dict -> model
def test_compile_for_export_is_what_load_model_gives_back(tmp_path):
    training = {"optimizer": "sgd", "learning_rate": 0.05, "momentum": 0.9, "loss": "mse",
                "metrics": ["mae"]}  # fmt: skip
    model = one_output_model()
    assert compile_for_export(model, training) == []
    path = saved(model, tmp_path)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.saving.load_model(path, safe_mode=True)
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
    assert type(loaded.optimizer) is keras.optimizers.SGD
    assert value(loaded.optimizer.learning_rate) == pytest.approx(0.05)
    assert loaded.optimizer.momentum == pytest.approx(0.9)
    assert loaded.loss == "mse"
    assert training_from_model_file(path) == (training, [])


def test_an_imported_model_exports_with_what_it_came_with(tmp_path):
    """Schedule, optimizer options, a serialized loss and per-output settings survive
    model -> training dict -> compile_for_export -> file -> training dict."""
    model = two_output_model()
    model.compile(
        optimizer=keras.optimizers.Nadam(
            keras.optimizers.schedules.InverseTimeDecay(0.01, decay_steps=10, decay_rate=0.5),
            beta_2=0.99,
            global_clipnorm=2.0,
        ),
        loss={"a": keras.losses.SparseCategoricalCrossentropy(from_logits=True), "b": "huber"},
        loss_weights={"a": 0.7, "b": 0.3},
        metrics={"a": ["accuracy"], "b": ["mae"]},
    )
    training, _ = training_from_model_file(saved(model, tmp_path, "original.keras"))

    fresh = two_output_model()
    compile_for_export(fresh, training)
    exported = saved(fresh, tmp_path, "exported.keras")

    assert training_from_model_file(exported) == (training, [])
    loaded = keras.saving.load_model(exported, safe_mode=True)
    assert type(loaded.optimizer) is keras.optimizers.Nadam
    assert loaded.optimizer.global_clipnorm == 2.0
    assert loaded.loss["a"].get_config()["from_logits"] is True


def test_an_auto_loss_without_data_keeps_the_models_and_the_optimizer_state_travels():
    model = one_output_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss="mae")
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(7)  # as if trained for 7 steps, without training
    kernel_moment = next(i for i, v in enumerate(model.optimizer.variables) if len(v.shape) == 2)
    moment = model.optimizer.variables[kernel_moment]
    moment.assign(keras.ops.ones(moment.shape))

    notes = compile_for_export(model, {"optimizer": "adam", "learning_rate": 0.01})

    assert notes == [] and model.loss == "mae"
    assert value(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert int(value(model.optimizer.iterations)) == 7
    assert value(keras.ops.min(model.optimizer.variables[kernel_moment])) == 1.0


def test_an_auto_loss_with_nothing_to_keep_is_said():
    notes = compile_for_export(one_output_model(), {})
    assert len(notes) == 1 and "training.loss" in notes[0]


# ----------------------------------------------------------------------------- the schema
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_builds_with_its_options(name):
    options = {"clipnorm": 0.5} if name != "muon" else {"clipnorm": 0.5, "ns_steps": 3}
    cfg = TrainingConfig.from_dict({"optimizer": name, "optimizer_options": options})
    optimizer = make_optimizer(cfg, 10)
    assert type(optimizer).__name__ == OPTIMIZER_CLASSES[name]
    assert optimizer.clipnorm == 0.5


def test_keras_refusing_the_options_is_one_sentence_naming_them():
    cfg = TrainingConfig.from_dict(
        {"optimizer": "adam", "optimizer_options": {"clipnorm": 1.0, "global_clipnorm": 1.0}}
    )
    with pytest.raises(TrainingError) as info:
        make_optimizer(cfg, 10)
    assert str(info.value).startswith("training.optimizer_options ")
    assert "\n" not in str(info.value)


BAD_SCHEDULE = {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
                "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5},
                "registered_name": None}  # fmt: skip


def _schedule(**changes):
    config = {**BAD_SCHEDULE, **changes}
    return {"schedule": {"kind": "keras", "config": config}}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"optimizer_options": {"betta_1": 0.9}}, "training.optimizer_options.betta_1"),
        ({"optimizer_options": {"amsgrad": "yes"}}, "training.optimizer_options.amsgrad"),
        ({"optimizer_options": {"epsilon": "small"}}, "training.optimizer_options.epsilon"),
        ({"optimizer_options": {"learning_rate": 0.1}}, "training.optimizer_options.learning_rate"),
        ({"optimizer": "sgd", "optimizer_options": {"momentum": 0.9}},
         "training.optimizer_options.momentum"),
        ({"optimizer_options": [1]}, "training.optimizer_options"),
        ({"optimizer": "lbfgs"}, "training.optimizer"),
        ({"schedule": {"kind": "keras"}}, "training.schedule.config"),
        (_schedule(class_name="StepDecay"), "training.schedule.config.class_name"),
        (_schedule(registered_name="Custom>MySchedule"), "training.schedule.config"),
        (_schedule(module="my.module"), "training.schedule.config"),
        (_schedule(config={"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                           "speed": 2}), "training.schedule.config.config.speed"),
        (_schedule(config={"initial_learning_rate": 0.1, "decay_rate": 0.5}),
         "training.schedule.config.config.decay_steps"),
        (_schedule(config={"initial_learning_rate": {"class_name": "X", "config": {}},
                           "decay_steps": 10, "decay_rate": 0.5}),
         "training.schedule.config.config.initial_learning_rate"),
        ({"loss": {"class_name": "MyLoss", "config": {}, "registered_name": "Custom>MyLoss"}},
         "training.loss"),
        ({"loss": {"class_name": "Sequential", "config": {}}}, "training.loss"),
        ({"loss": {"class_name": "Huber", "config": {"reduction": "most"}}}, "training.loss"),
        ({"loss": {"a": "mse", "b": 3}}, "training.loss.b"),
        ({"loss": {}}, "training.loss"),
        ({"metrics": {"a": "accuracy"}}, "training.metrics.a"),
        ({"loss_weights": {"a": -1}}, "training.loss_weights.a"),
        ({"loss_weights": [1.0, 0.5]}, "training.loss_weights"),
        ({"fine_tuning": {"enabled": True, "frozen_epochs": 10}, "epochs": 10},
         "training.fine_tuning.frozen_epochs"),
        ({"fine_tuning": {"frozen_epochs": 0}}, "training.fine_tuning.frozen_epochs"),
        ({"fine_tuning": {"unfreeze_layers": -1}}, "training.fine_tuning.unfreeze_layers"),
        ({"fine_tuning": {"learning_rate": 0}}, "training.fine_tuning.learning_rate"),
        ({"fine_tuning": {"learning_rate": 11}}, "training.fine_tuning.learning_rate"),
        ({"fine_tuning": {"enabled": "yes"}}, "training.fine_tuning.enabled"),
        ({"fine_tuning": True}, "training.fine_tuning"),
    ],
)  # fmt: skip
def test_bad_new_settings_name_the_field_in_one_sentence(raw, field):
    with pytest.raises(TrainingError) as info:
        TrainingConfig.from_dict(raw)
    message = str(info.value)
    assert message.startswith(field + " ") and "\n" not in message


def test_fine_tuning_is_read_and_only_checked_against_epochs_when_enabled():
    cfg = TrainingConfig.from_dict({"epochs": 12, "fine_tuning": {
        "enabled": True, "frozen_epochs": 4, "unfreeze_layers": 0, "learning_rate": 1e-4}})  # fmt: skip
    assert (cfg.fine_tuning.enabled, cfg.fine_tuning.frozen_epochs) == (True, 4)
    assert (cfg.fine_tuning.unfreeze_layers, cfg.fine_tuning.learning_rate) == (0, 1e-4)
    off = TrainingConfig.from_dict({"epochs": 3, "fine_tuning": {"frozen_epochs": 5}})
    assert off.fine_tuning.enabled is False


def test_every_new_setting_round_trips_through_to_dict():
    raw = {
        "optimizer": "lamb", "learning_rate": 0.01,
        "optimizer_options": {"beta_1": 0.85, "weight_decay": 0.01},
        "schedule": {"kind": "keras", "config": BAD_SCHEDULE},
        "loss": {"a": {"class_name": "CategoricalCrossentropy",
                       "config": {"label_smoothing": 0.1}}, "b": "auto"},
        "metrics": {"a": ["accuracy"], "b": "auto"},
        "loss_weights": {"a": 1, "b": 0.5},
        "fine_tuning": {"enabled": True, "frozen_epochs": 2},
    }  # fmt: skip
    cfg = TrainingConfig.from_dict(raw)
    assert TrainingConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.with_overrides(epochs=20).optimizer_options == raw["optimizer_options"]
    assert cfg.loss_weights == {"a": 1.0, "b": 0.5}
    assert cfg.loss["a"]["config"]["label_smoothing"] == 0.1


def test_a_file_without_the_new_keys_reads_as_before():
    """The training dict a project wrote before these settings existed: the same fields, the
    same values, and to_dict writes back no key it did not have."""
    before = {
        "optimizer": "rmsprop", "learning_rate": 0.01, "momentum": 0.5, "nesterov": False,
        "schedule": {"kind": "cosine", "min_learning_rate": 0.001}, "loss": "mse",
        "metrics": ["mae"], "batch_size": 16, "epochs": 4, "weight_decay": 0.01,
    }  # fmt: skip
    old_keys = {
        "optimizer", "learning_rate", "momentum", "nesterov", "weight_decay", "schedule",
        "loss", "metrics", "batch_size", "epochs", "early_stopping", "class_weight", "seed",
        "device", "mixed_precision", "tensorboard", "use_project_weights", "engine", "ranks",
        "coordinator", "overfitting",
    }  # fmt: skip
    cfg = TrainingConfig.from_dict(before)
    written = cfg.to_dict()
    assert set(written) == old_keys
    assert set(written["schedule"]) == {"kind", "every_epochs", "factor", "decay_rate",
                                        "patience", "min_learning_rate"}  # fmt: skip
    assert {k: written[k] for k in before if k != "schedule"} == {
        k: v for k, v in before.items() if k != "schedule"
    }
    assert (cfg.optimizer_options, cfg.loss_weights, cfg.schedule.config) == ({}, None, None)
    assert cfg.fine_tuning.enabled is False
    optimizer = make_optimizer(cfg, 5)
    assert type(optimizer) is keras.optimizers.RMSprop and optimizer.weight_decay is None


def test_the_loss_and_metrics_check_takes_per_output_dicts():
    check_loss_and_metrics({"a": "mse", "b": "auto"}, {"a": ["mae"], "b": "auto"})
    check_loss_and_metrics({"class_name": "Huber", "config": {}}, ["mae"])
    with pytest.raises(TrainingError, match=r"^training\.loss\.b "):
        check_loss_and_metrics({"a": "mse", "b": "msq"}, ["mae"])
    with pytest.raises(TrainingError, match=r"^training\.metrics\.a "):
        check_loss_and_metrics("mse", {"a": ["precisionish"]})
