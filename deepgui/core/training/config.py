"""The project's ``training`` section and the typed, validated config built from it.

Schema (every key optional; defaults shown)::

    {
      "optimizer": "adam",          # sgd | adam | adamw | rmsprop | adagrad | adamax | nadam
                                    # | adadelta | ftrl | lion | lamb | muon (where Keras has it)
      "learning_rate": 0.001,       # with a "keras" schedule: its rate at step 0 (shown only)
      "momentum": 0.0,              # sgd and rmsprop
      "nesterov": false,            # sgd
      "weight_decay": 0.004,        # adam and adamw (default: adamw 0.004, adam off)
      "optimizer_options": {},      # any further argument of the Keras optimizer's constructor
                                    # (beta_1, epsilon, amsgrad, clipnorm, rho, use_ema, ...,
                                    # weight_decay of the others); checked against its signature
      "schedule": {"kind": "constant"},
          # constant
          # step:        {"kind": "step", "every_epochs": 10, "factor": 0.5}
          # exponential: {"kind": "exponential", "decay_rate": 0.95}          (per epoch)
          # cosine:      {"kind": "cosine", "min_learning_rate": 0.0}          (over all epochs)
          # plateau:     {"kind": "plateau", "factor": 0.5, "patience": 3, "min_learning_rate": 1e-6}
          # keras:       {"kind": "keras", "config": keras.optimizers.schedules.serialize(s)}
          #              a schedule of Keras's own (ExponentialDecay, CosineDecay, ...), as a
          #              model was compiled with; counts optimizer steps, not epochs
      "loss": "auto",               # auto = LoadedData.suggested_loss(); or any Keras loss name;
                                    # or a Keras loss object as keras.losses.serialize writes it
                                    # ({"class_name": "SparseCategoricalCrossentropy",
                                    #   "config": {"from_logits": true, ...}}): the faithful form
                                    # of settings a name cannot say; or, for several outputs,
                                    # {output_name: "auto" | name | serialized loss}
      "loss_weights": null,         # several outputs: {output_name: weight >= 0}
      "metrics": "auto",            # auto = LoadedData.suggested_metrics(); or a list of names;
                                    # or {output_name: "auto" | list of names}; the extras the
                                    # form offers per task are EXTRA_METRICS (top-k is taken
                                    # as Keras's sparse variant: labels are class indices)
      "batch_size": 32,
      "epochs": 10,
      "early_stopping": {"enabled": false, "monitor": "val_loss", "patience": 5,
                         "restore_best_weights": true, "mode": "auto"},
          # mode: auto (Keras reads the direction from the monitor's name), min or max; a
          # monitor whose name says nothing (a custom metric) needs min or max

      "fine_tuning": {"enabled": false, "frozen_epochs": 5, "unfreeze_layers": 20,
                      "learning_rate": 1e-5},
          # a pretrained backbone: frozen for frozen_epochs (< epochs), then its last
          # unfreeze_layers layers (0 = all of them) train on at learning_rate
      "class_weight": "none",       # none | balanced | {class: weight}: by the data's class
                                    # names ({"cat": 2.0, "dog": 1.0}) or class indices; a
                                    # class left out weighs 1
      "seed": 42,
      "device": "auto",             # auto | cpu | gpu:N | gpus (all, mirrored) | cpu:0,cpu:1 (mirrored)
      "mixed_precision": false,     # float16 compute where the GPU supports it
      "tensorboard": false,         # write TensorBoard logs into RUN_DIR/tensorboard
      "use_project_weights": true,  # start from NAME.weights.h5 beside the project, if there
      "overfitting": {"patience": 3, "gap": 0.2}
    }

A dict is a serialized loss when it has a "class_name" (text) and a "config" (object); any
other dict is per output. Serialized losses and schedules name Keras's own classes only, and
are rebuilt by Keras's deserialization in safe mode: a project never runs code of its own.
Checking them (and optimizer_options) reads Keras's signatures, so it imports Keras; files
without them never do.

Every problem is a TrainingError naming the field (``training.batch_size``).
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgui import script_runtime
from deepgui.core import keras_layers, node_kinds
from deepgui.core.errors import TrainingError
from deepgui.core.limits import epochs_refusal
from deepgui.core.training.devices import check_device_spec
from deepgui.core.training.distributed import make_cluster

if TYPE_CHECKING:
    from deepgui.core.graph import Graph

# The name a project uses -> the class in keras.optimizers.
OPTIMIZER_CLASSES = {
    "sgd": "SGD",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
    "adamax": "Adamax",
    "nadam": "Nadam",
    "adadelta": "Adadelta",
    "ftrl": "Ftrl",
    "lion": "Lion",
    "lamb": "Lamb",
    "muon": "Muon",
}
OPTIMIZERS = tuple(OPTIMIZER_CLASSES)
# The constructor arguments each optimizer takes from a top-level field rather than from
# optimizer_options (as before optimizer_options existed; the others ignore these fields).
OWN_FIELDS = {
    "sgd": ("momentum", "nesterov"),
    "rmsprop": ("momentum",),
    "adam": ("weight_decay",),
    "adamw": ("weight_decay",),
}
# Arguments that are not settings: the rate has its own field, the name only labels.
_NOT_OPTIONS = {"self", "learning_rate", "name"}
SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau")  # the ones a person picks
KERAS_SCHEDULE = "keras"  # one of Keras's own, imported with a model
SCHEDULE_KINDS = (*SCHEDULES, KERAS_SCHEDULE)
CLASS_WEIGHTS = ("none", "balanced")  # or a dict {class name or index: weight}
# The metrics offered beside a task's own (accuracy, mae), by Keras's names, for the tasks
# Keras computes them on with deepgui's labels (class indices; 0/1 rows for multi-label).
TOP_K = "top_k_categorical_accuracy"
SPARSE_TOP_K = "sparse_top_k_categorical_accuracy"
TOP_K_CLASSES = 5  # Keras's k: with this many classes or fewer every sample is in the top k
ONE_AGAINST_REST = ("auc", "precision", "recall")  # of one sigmoid unit per class
EXTRA_METRICS = {
    "binary": ONE_AGAINST_REST,
    "multilabel": ONE_AGAINST_REST,
    "multiclass": (TOP_K,),
    "regression": ("root_mean_squared_error", "r2_score"),
}
METRIC_LABELS = {"auc": "AUC", "precision": "Precision", "recall": "Recall",
                 TOP_K: f"Top-{TOP_K_CLASSES} accuracy", "root_mean_squared_error": "RMSE",
                 "r2_score": "R²"}  # fmt: skip
ENGINES = ("auto", "tensorflow", "xla", "jax")  # engines.py: what each is, and `auto`
# Keras EarlyStopping's modes: which way the watched metric improves ("auto": by its name).
STOPPING_MODES = ("auto", "min", "max")
_FIELD = re.compile(r"\btraining\.(\w+)")  # the field a sentence names


@dataclass
class Schedule:
    kind: str = "constant"
    every_epochs: int = 10
    factor: float = 0.5
    decay_rate: float = 0.95
    patience: int = 3
    min_learning_rate: float = 0.0
    # kind "keras": keras.optimizers.schedules.serialize(schedule); None for the other kinds.
    config: dict[str, Any] | None = None


@dataclass
class EarlyStopping:
    enabled: bool = False
    monitor: str = "val_loss"
    patience: int = 5
    restore_best_weights: bool = True
    # Whether the monitor improves going down (min) or up (max); "auto" leaves Keras to read
    # it from the name, which it cannot for a metric of a name it does not know.
    mode: str = "auto"


@dataclass
class FineTuning:
    """Train a pretrained backbone in two phases: frozen, then partly unfrozen."""

    enabled: bool = False
    frozen_epochs: int = 5
    unfreeze_layers: int = 20  # the backbone's last N layers; 0 = every layer
    learning_rate: float = 1e-5


@dataclass
class OverfittingSettings:
    patience: int = 3
    gap: float = 0.2


@dataclass
class TrainingConfig:
    """Validated training settings. Build with `TrainingConfig.from_dict(project.training)`."""

    optimizer: str = "adam"
    learning_rate: float = 0.001
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float | None = None
    optimizer_options: dict[str, Any] = field(default_factory=dict)
    schedule: Schedule = field(default_factory=Schedule)
    # "auto", a Keras loss name, a serialized Keras loss, or {output name: one of those}.
    loss: str | dict[str, Any] = "auto"
    # "auto", a list of metric names, or {output name: "auto" | list of names}.
    metrics: list[str] | str | dict[str, Any] = "auto"
    loss_weights: dict[str, float] | None = None
    batch_size: int = 32
    epochs: int = 10
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping)
    # "none", "balanced", or {class name (or index, as text): weight}.
    class_weight: str | dict[str, float] = "none"
    seed: int | None = 42
    device: str = "auto"
    mixed_precision: bool = False
    tensorboard: bool = False
    use_project_weights: bool = True
    # What trains it (engines.py): "auto", "tensorflow", "xla" (TensorFlow with XLA) or "jax"
    # (in a worker process).
    engine: str = "tensorflow"
    # A run on several machines (distributed.py): this one is rank 0 of `ranks`, listening on
    # `coordinator` (HOST:PORT) for the others; 1 trains on this machine alone.
    ranks: int = 1
    coordinator: str = "127.0.0.1:7477"
    overfitting: OverfittingSettings = field(default_factory=OverfittingSettings)
    fine_tuning: FineTuning = field(default_factory=FineTuning)

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> TrainingConfig:
        return parse_training(raw or {})

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        # Settings left at their defaults stay out, so a project that never had them writes
        # the same training dict as before they existed.
        if out["weight_decay"] is None:
            del out["weight_decay"]
        if not out["optimizer_options"]:
            del out["optimizer_options"]
        if out["loss_weights"] is None:
            del out["loss_weights"]
        if out["schedule"]["config"] is None:
            del out["schedule"]["config"]
        if self.fine_tuning == FineTuning():
            del out["fine_tuning"]
        if self.early_stopping.mode == EarlyStopping.mode:
            del out["early_stopping"]["mode"]
        return out

    def with_overrides(self, **changes: Any) -> TrainingConfig:
        """A copy with some top-level fields changed (None values are ignored), re-validated."""
        raw = self.to_dict()
        raw.update({k: v for k, v in changes.items() if v is not None})
        return parse_training(raw)

    def resolved_loss(self, data, output_units: int | None = None) -> str | dict[str, Any]:
        """The loss to compile with; "auto" asks the data, told the width of the model's
        output (two softmax units on binary labels take the sparse categorical loss).
        A serialized loss or a per-output dict comes back as the project has it:
        `compile_loss` turns it into what `model.compile` takes."""
        return data.suggested_loss(output_units) if self.loss == "auto" else self.loss

    def resolved_metrics(self, data, output_units: int | None = None) -> list[str] | dict[str, Any]:
        """The metrics to compile with; a list is fitted to the data's labels (fit_metrics)."""
        if self.metrics == "auto":
            return data.suggested_metrics()
        if isinstance(self.metrics, dict):
            return {k: v if v == "auto" else list(v) for k, v in self.metrics.items()}
        if getattr(data, "multi_output", False):  # each output's own: outputs.plan fits them
            return list(self.metrics)
        return fit_metrics(self.metrics, data.task, output_units)


# ----------------------------------------------------------------------------- validation
def _fail(field_name: str, message: str) -> TrainingError:
    return TrainingError(f"training.{field_name} {message}")


def _number(raw: dict, key: str, default: float, where: str, low: float | None = None,
            high: float | None = None, strict_low: bool = False) -> float:  # fmt: skip
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(where + key, f"must be a number, not {value!r}.")
    if low is not None and (value < low or (strict_low and value == low)):
        bound = "greater than" if strict_low else "at least"
        raise _fail(where + key, f"must be {bound} {low}, not {value}.")
    if high is not None and value > high:
        raise _fail(where + key, f"must be at most {high}, not {value}.")
    return float(value)


def _integer(raw: dict, key: str, default: int, where: str, low: int = 0) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise _fail(where + key, f"must be a whole number, not {value!r}.")
    if value < low:
        raise _fail(where + key, f"must be at least {low}, not {value}.")
    return int(value)


def _flag(raw: dict, key: str, default: bool, where: str) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise _fail(where + key, f"must be true or false, not {value!r}.")
    return value


def _choice(raw: dict, key: str, default: str, choices: tuple[str, ...], where: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or value.lower() not in choices:
        raise _fail(where + key, f"must be one of {', '.join(choices)}, not {value!r}.")
    return value.lower()


def _section(raw: dict, key: str) -> dict:
    value = raw.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(key, "must be an object.")
    return value


def _plain(value: Any, where: str) -> Any:
    """A setting Keras reads back as it is: a number, true/false, text, null or a list of
    those. Nested objects are refused: they would be objects Keras builds, maybe code."""
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(where, f"must be a finite number, not {value!r}.")
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise _fail(where, f"must be a number, true/false, text or a list of those, not {value!r}.")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")


def _keras():
    return keras_layers.keras()  # imports Keras once, quietly, on one thread


# --- optimizer
@functools.cache
def optimizer_arguments(optimizer: str) -> dict[str, Any]:
    """The constructor arguments of the installed Keras's optimizer `optimizer` (a project
    name) with their defaults (inspect.Parameter.empty when required), less the learning rate
    and the name. TrainingError when this Keras has no such optimizer."""
    cls = optimizer_class(optimizer)
    return {
        p.name: p.default
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name not in _NOT_OPTIONS and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def optimizer_class(optimizer: str):
    k = _keras()
    cls = getattr(k.optimizers, OPTIMIZER_CLASSES[optimizer], None)
    if cls is None:
        raise _fail("optimizer", f"{optimizer} is not in the installed Keras {k.__version__}; "
                    f"choose one of {', '.join(OPTIMIZERS[:5])}.")  # fmt: skip
    return cls


def _option_value(value: Any, default: Any, where: str) -> Any:
    """An option of the type its default has (Keras checks the ranges when it builds)."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise _fail(where, f"must be true or false, not {value!r}.")
        return value
    not_a_number = isinstance(value, bool) or not isinstance(value, int | float)
    if isinstance(default, int | float) and value is not None and not_a_number:
        raise _fail(where, f"must be a number, not {value!r}.")
    return _plain(value, where)


def _optimizer_options(raw: dict, optimizer: str) -> dict[str, Any]:
    options = _section(raw, "optimizer_options")
    if not options:
        return {}  # no Keras import for the files that have none
    allowed = optimizer_arguments(optimizer)
    cls = OPTIMIZER_CLASSES[optimizer]
    out = {}
    for key, value in options.items():
        where = f"optimizer_options.{key}"
        if key == "learning_rate" or key in OWN_FIELDS.get(optimizer, ()):
            raise _fail(where, f"is set by training.{key} for {optimizer}, not here.")
        if key not in allowed:
            raise _fail(where, f"is not an argument of keras.optimizers.{cls}, which takes "
                        f"{', '.join(sorted(allowed))}.")  # fmt: skip
        out[key] = _option_value(value, allowed[key], where)
    return out


# --- schedule
@functools.cache
def schedule_arguments(class_name: str) -> dict[str, Any] | None:
    """The constructor arguments (with defaults) of Keras's learning-rate schedule
    `class_name`; None when the installed Keras has no such schedule."""
    k = _keras()
    cls = getattr(k.optimizers.schedules, class_name, None)
    base = k.optimizers.schedules.LearningRateSchedule
    if not (isinstance(cls, type) and issubclass(cls, base)) or cls is base:
        return None
    return {
        p.name: p.default
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def keras_schedule_names() -> list[str]:
    k = _keras()
    return sorted(n for n in dir(k.optimizers.schedules) if schedule_arguments(n) is not None)


def _serialized(value: Any, where: str, what: str, module: str) -> tuple[str, dict]:
    """The class name and config of a Keras object as keras serialize() writes it, refusing
    anything that names a module or registration other than Keras's own."""
    if not (isinstance(value, dict) and isinstance(value.get("class_name"), str)
            and isinstance(value.get("config"), dict)):  # fmt: skip
        raise _fail(where, f'must be a {what} as Keras serializes it ({{"class_name": ..., '
                    f'"config": {{...}}}}), not {value!r}.')  # fmt: skip
    name = value["class_name"]
    registered = value.get("registered_name")
    if value.get("module") not in (None, module) or registered not in (None, name):
        custom = registered or value.get("module")
        raise _fail(where, f"names the custom {what} {custom!r}: only Keras's own can be kept.")
    return name, value["config"]


def _imported_schedule(sched: dict) -> dict[str, Any]:
    where = "schedule.config"
    name, config = _serialized(
        sched.get("config"), where, "learning-rate schedule", "keras.optimizers.schedules"
    )
    allowed = schedule_arguments(name)
    if allowed is None:
        raise _fail(f"{where}.class_name", f"must be one of "
                    f"{', '.join(keras_schedule_names())}, not {name!r}.")  # fmt: skip
    for key, value in config.items():
        if key not in allowed:
            raise _fail(f"{where}.config.{key}",
                        f"is not an argument of keras.optimizers.schedules.{name}.")  # fmt: skip
        _plain(value, f"{where}.config.{key}")
    missing = [k for k, d in allowed.items() if d is inspect.Parameter.empty and k not in config]
    if missing:
        raise _fail(f"{where}.config.{missing[0]}", f"is missing: {name} needs it.")
    return {"module": "keras.optimizers.schedules", "class_name": name,
            "config": dict(config), "registered_name": None}  # fmt: skip


def _schedule(raw: dict) -> Schedule:
    sched = _section(raw, "schedule")
    s = d = Schedule()  # its defaults are the fields' defaults
    s.kind = _choice(sched, "kind", d.kind, SCHEDULE_KINDS, "schedule.")
    s.every_epochs = _integer(sched, "every_epochs", d.every_epochs, "schedule.", low=1)
    s.factor = _number(sched, "factor", d.factor, "schedule.", low=0.0, high=1.0, strict_low=True)
    s.decay_rate = _number(
        sched, "decay_rate", d.decay_rate, "schedule.", low=0.0, high=1.0, strict_low=True
    )
    s.patience = _integer(sched, "patience", d.patience, "schedule.", low=1)
    s.min_learning_rate = _number(
        sched, "min_learning_rate", d.min_learning_rate, "schedule.", low=0.0
    )
    # Another kind ignores a config left over from a Keras schedule (the form keeps the
    # schedule's other keys when the kind changes): switching back finds it again.
    s.config = _imported_schedule(sched) if s.kind == KERAS_SCHEDULE else None
    return s


# --- loss and metrics
def is_serialized(value: Any) -> bool:
    """A loss written as keras.losses.serialize writes it, not a dict per output."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("class_name"), str)
        and isinstance(value.get("config"), dict)
    )


def _serialized_loss(value: dict, where: str) -> dict[str, Any]:
    """Validated by Keras itself: the class must be one of keras.losses' own, and Keras's
    deserialization (safe mode) must build it from the config."""
    name, config = _serialized(value, where, "loss", "keras.losses")
    for key, item in config.items():
        _plain(item, f"{where}.config.{key}")
    k = _keras()
    cls = getattr(k.losses, name, None)
    if not (isinstance(cls, type) and issubclass(cls, k.losses.Loss)):
        raise _fail(where, f"names {name!r}, which is not a loss class of Keras.")
    out = {"module": "keras.losses", "class_name": name, "config": dict(config),
           "registered_name": None}  # fmt: skip
    try:
        k.losses.deserialize(out)
    except Exception as exc:  # noqa: BLE001 - Keras's own words, in one sentence
        raise _fail(where, f"cannot be built by Keras: {_first_line(exc)}.") from None
    return out


def _one_loss(value: Any, where: str) -> str | dict[str, Any]:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if is_serialized(value):
        return _serialized_loss(value, where)
    raise _fail(where, f'must be "auto", a Keras loss name or a serialized Keras loss, '
                f"not {value!r}.")  # fmt: skip


def _output_name(key: Any, where: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise _fail(where, f"must be keyed by output names, not {key!r}.")
    return key


def _loss(raw: dict) -> str | dict[str, Any]:
    loss = raw.get("loss", TrainingConfig.loss)
    if isinstance(loss, dict) and not is_serialized(loss):
        if not loss:
            raise _fail("loss", "must name at least one output when it is an object.")
        return {_output_name(k, "loss"): _one_loss(v, f"loss.{k}") for k, v in loss.items()}
    if isinstance(loss, str) and not loss.strip():
        raise _fail("loss", f'must be "auto" or a Keras loss name, not {loss!r}.')
    return _one_loss(loss, "loss")


def _metric_names(value: Any, where: str) -> list[str] | str:
    if value == "auto":
        return "auto"
    if isinstance(value, list) and all(isinstance(m, str) and m for m in value):
        return list(value)
    raise _fail(where, f'must be "auto" or a list of metric names, not {value!r}.')


def _metrics(raw: dict) -> list[str] | str | dict[str, Any]:
    metrics = raw.get("metrics", TrainingConfig.metrics)
    if isinstance(metrics, dict):
        return {
            _output_name(k, "metrics"): _metric_names(v, f"metrics.{k}") for k, v in metrics.items()
        }
    return _metric_names(metrics, "metrics")


def metric_choices(task: str, num_classes: int = 0) -> tuple[str, ...]:
    """The extra metrics worth offering for data of this task: top-k only with more classes
    than k (else it is always 1)."""
    offered = EXTRA_METRICS.get(task, ())
    return tuple(m for m in offered if m != TOP_K or num_classes > TOP_K_CLASSES)


def fit_metrics(names: list[str], task: str, units: int | None = None,
                where: str = "metrics") -> list[str]:  # fmt: skip
    """`names` as Keras computes them on this task's labels: top-k as its sparse variant (the
    labels are class indices). TrainingError, one sentence naming the metric, for a metric of
    EXTRA_METRICS that Keras cannot compute on these labels and output `units` wide."""
    out = []
    for name in names:
        if name in (TOP_K, SPARSE_TOP_K):
            if task != "multiclass":
                raise _fail(where, f"{name!r} ranks the classes of a multiclass output, which "
                            f"a {task} task has not; leave it out.")  # fmt: skip
            name = SPARSE_TOP_K
        elif name in ONE_AGAINST_REST:
            if task not in ("binary", "multilabel"):
                raise _fail(where, f"{name!r} scores one sigmoid output per class, which "
                            f"fits two classes or multi-label data, not a {task} task; leave "
                            "it out (top-k and the per-class evaluation fit several "
                            "classes).")  # fmt: skip
            if task == "binary" and units is not None and units > 1:
                raise _fail(where, f"{name!r} needs the two classes as one sigmoid unit, but "
                            f"the output has {units} units; give it 1 unit with sigmoid "
                            "(binary_crossentropy), or leave it out.")  # fmt: skip
        out.append(name)
    return out


def _class_weight(raw: dict) -> str | dict[str, float]:
    """none, balanced, or a weight per class (keyed as given; the data's classes are known
    only when training: class_weight_by_index)."""
    value = raw.get("class_weight", TrainingConfig.class_weight)
    if not isinstance(value, dict):
        if not isinstance(value, str) or value.lower() not in CLASS_WEIGHTS:
            raise _fail("class_weight", 'must be "none", "balanced" or a weight per class '
                        f'(e.g. {{"cat": 2.0, "dog": 1.0}}), not {value!r}.')  # fmt: skip
        return value.lower()
    if not value:
        raise _fail("class_weight", "must weigh at least one class when it is an object.")
    out = {}
    for key, weight in value.items():
        named = isinstance(key, str) and key.strip()
        if not (named or (isinstance(key, int) and not isinstance(key, bool) and key >= 0)):
            raise _fail("class_weight", f"must be keyed by class names or class indices, "
                        f"not {key!r}.")  # fmt: skip
        if (isinstance(weight, bool) or not isinstance(weight, int | float)
                or not math.isfinite(weight) or weight < 0):  # fmt: skip
            raise _fail("class_weight", f"gives the class {str(key)!r} the weight {weight!r}; "
                        "a class weight must be a finite number from 0.")  # fmt: skip
        out[str(key)] = float(weight)
    return out


def class_weight_by_index(weights: dict[str, float], task: str, classes) -> dict[int, float]:
    """{class index: weight} as Keras takes it, for weights keyed by the data's class names
    (or indices); TrainingError naming training.class_weight and the class it cannot find."""
    try:
        return script_runtime.per_class_weight(task, classes, weights)
    except script_runtime.Problem as exc:
        raise TrainingError(str(exc)) from None


def class_weight_by_name(weights: dict[str, float], classes) -> dict[str, float]:
    """The weights keyed by class name, a key given as a class index included; a key that
    names no class is kept as it is, for training to name."""
    names = [str(c) for c in classes]
    out: dict[str, float] = {}
    for key, weight in weights.items():
        index = script_runtime.class_index(names, str(key))
        out[names[index] if index is not None else str(key)] = weight
    return out


def _loss_weights(raw: dict) -> dict[str, float] | None:
    weights = raw.get("loss_weights")
    if weights is None:
        return None
    if not isinstance(weights, dict):
        raise _fail("loss_weights", f"must be an object of output name: weight, not {weights!r}.")
    return {
        _output_name(k, "loss_weights"): _number(weights, k, 1.0, "loss_weights.", low=0.0)
        for k in weights
    }


def _fine_tuning(raw: dict, epochs: int) -> FineTuning:
    ft, d = _section(raw, "fine_tuning"), FineTuning()
    out = FineTuning(
        enabled=_flag(ft, "enabled", d.enabled, "fine_tuning."),
        frozen_epochs=_integer(ft, "frozen_epochs", d.frozen_epochs, "fine_tuning.", low=1),
        unfreeze_layers=_integer(ft, "unfreeze_layers", d.unfreeze_layers, "fine_tuning.", low=0),
        learning_rate=_number(
            ft,
            "learning_rate",
            d.learning_rate,
            "fine_tuning.",
            low=0.0,
            high=10.0,
            strict_low=True,
        ),
    )
    if out.enabled and out.frozen_epochs >= epochs:
        raise _fail("fine_tuning.frozen_epochs", f"must be less than training.epochs ({epochs}) "
                    f"to leave epochs for fine-tuning, not {out.frozen_epochs}.")  # fmt: skip
    return out


def parse_training(raw: dict[str, Any]) -> TrainingConfig:
    """Validate a project's training dict into a TrainingConfig."""
    if not isinstance(raw, dict):
        raise TrainingError('The project\'s "training" section must be an object.')
    # A field the dict leaves out takes the dataclass's default: the one place defaults live.
    cfg, d = TrainingConfig(), TrainingConfig()
    cfg.optimizer = _choice(raw, "optimizer", d.optimizer, OPTIMIZERS, "")
    cfg.learning_rate = _number(
        raw, "learning_rate", d.learning_rate, "", low=0.0, high=10.0, strict_low=True
    )
    cfg.momentum = _number(raw, "momentum", d.momentum, "", low=0.0, high=1.0)
    cfg.nesterov = _flag(raw, "nesterov", d.nesterov, "")
    if raw.get("weight_decay") is not None:
        cfg.weight_decay = _number(raw, "weight_decay", 0.0, "", low=0.0, high=1.0)
    cfg.optimizer_options = _optimizer_options(raw, cfg.optimizer)
    cfg.schedule = _schedule(raw)
    cfg.loss = _loss(raw)
    cfg.metrics = _metrics(raw)
    cfg.loss_weights = _loss_weights(raw)

    cfg.batch_size = _integer(raw, "batch_size", d.batch_size, "", low=1)
    cfg.epochs = _integer(raw, "epochs", d.epochs, "", low=1)
    if epochs_refusal(cfg.epochs):  # 1e12 epochs is a run that never ends (limits.py)
        raise _fail("epochs", epochs_refusal(cfg.epochs))

    es, des = _section(raw, "early_stopping"), d.early_stopping
    cfg.early_stopping = EarlyStopping(
        enabled=_flag(es, "enabled", des.enabled, "early_stopping."),
        monitor=str(es.get("monitor", des.monitor)),
        patience=_integer(es, "patience", des.patience, "early_stopping.", low=0),
        restore_best_weights=_flag(
            es, "restore_best_weights", des.restore_best_weights, "early_stopping."
        ),
        mode=_choice(es, "mode", des.mode, STOPPING_MODES, "early_stopping."),
    )
    cfg.fine_tuning = _fine_tuning(raw, cfg.epochs)
    cfg.class_weight = _class_weight(raw)
    seed = raw.get("seed", d.seed)
    if seed is not None:
        seed = _integer(raw, "seed", d.seed, "", low=0)
    cfg.seed = seed
    device = raw.get("device", d.device)
    if not isinstance(device, str) or not device.strip():
        raise _fail("device", f'must be "auto", "cpu", "gpu:N" or "gpus", not {device!r}.')
    cfg.device = device.strip().lower()

    problem = check_device_spec(cfg.device)
    if problem:
        raise _fail("device", problem)
    cfg.mixed_precision = _flag(raw, "mixed_precision", d.mixed_precision, "")
    cfg.tensorboard = _flag(raw, "tensorboard", d.tensorboard, "")
    cfg.engine = _choice(raw, "engine", d.engine, ENGINES, "")
    cfg.use_project_weights = _flag(raw, "use_project_weights", d.use_project_weights, "")
    cfg.ranks = _integer(raw, "ranks", d.ranks, "", low=1)
    coordinator = raw.get("coordinator", d.coordinator)
    if not isinstance(coordinator, str):
        raise _fail("coordinator", f"must be HOST:PORT, not {coordinator!r}.")
    cfg.coordinator = coordinator.strip()
    if cfg.ranks > 1:
        try:
            make_cluster(cfg.coordinator, cfg.ranks)
        except TrainingError as exc:
            raise _fail("coordinator", str(exc).replace("The coordinator ", "")) from None
    ov, dov = _section(raw, "overfitting"), d.overfitting
    cfg.overfitting = OverfittingSettings(
        patience=_integer(ov, "patience", dov.patience, "overfitting.", low=1),
        gap=_number(ov, "gap", dov.gap, "overfitting.", low=0.0, strict_low=True),
    )
    return cfg


def field_of(message: str) -> str:
    """The top-level field a core sentence names ('training.fine_tuning.x must ...' ->
    'fine_tuning'); '' when it names none."""
    found = _FIELD.search(message)
    return found.group(1) if found else ""


def read_leniently(training: Any) -> tuple[TrainingConfig, set[str], str]:
    """The training settings for showing them: the config, the fields the core refused and its
    first sentence. A refused top-level field is read as absent (its default), so one bad field,
    as a lowered epoch count leaves fine-tuning, does not blank the others."""
    if not isinstance(training, dict):
        try:
            parse_training(training)
        except TrainingError as exc:
            return TrainingConfig(), set(), str(exc)
    raw, dropped, first = dict(training), set(), ""
    while True:
        try:
            return parse_training(raw), dropped, first
        except TrainingError as exc:
            first = first or str(exc)
            key = field_of(str(exc))
            if key not in raw:
                return TrainingConfig(), set(raw), first
            del raw[key]
            dropped.add(key)


def dict_at(settings: dict[str, Any], key: str) -> dict:
    """The section `settings` holds at `key`, or {} where it holds none or no dict (read
    leniently, for showing: parse_training says what is wrong with it)."""
    value = settings.get(key)
    return value if isinstance(value, dict) else {}


def fine_tuning_as_written(training: dict[str, Any]) -> FineTuning:
    """A fine-tuning section the core refused as a whole (frozen epochs not below the epochs):
    its numbers as the core reads them, so the form shows what the project holds."""
    section = dict_at(training, "fine_tuning")
    try:
        read = parse_training({"fine_tuning": {**section, "enabled": False}}).fine_tuning
    except TrainingError:
        return FineTuning()
    read.enabled = section.get("enabled") is True
    return read


def holds_backbone(graph: Graph | None) -> bool:
    """Whether the network has something to fine-tune: a node the core calls a backbone (from
    the palette) or a block (a model used as a layer)."""
    kinds = (node_kinds.BLOCK, node_kinds.BACKBONE)
    return graph is not None and any(node_kinds.kind(node) in kinds for node in graph)


# ----------------------------------------------------------------------------- Keras objects
def _learning_rate(cfg: TrainingConfig, steps_per_epoch: int) -> Any:
    """The rate, or the schedule that sets it per optimizer step."""
    import keras  # Keras brings TensorFlow (seconds): imported when used

    s = cfg.schedule
    steps = max(1, steps_per_epoch)
    if s.kind == KERAS_SCHEDULE:
        try:
            return keras.optimizers.schedules.deserialize(s.config)
        except Exception as exc:  # noqa: BLE001 - Keras's own words, in one sentence
            raise _fail(
                "schedule.config", f"cannot be built by Keras: {_first_line(exc)}."
            ) from None
    if s.kind == "step":
        return keras.optimizers.schedules.ExponentialDecay(
            cfg.learning_rate,
            decay_steps=s.every_epochs * steps,
            decay_rate=s.factor,
            staircase=True,
        )
    if s.kind == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            cfg.learning_rate, decay_steps=steps, decay_rate=s.decay_rate
        )
    if s.kind == "cosine":
        alpha = min(1.0, s.min_learning_rate / cfg.learning_rate)
        return keras.optimizers.schedules.CosineDecay(
            cfg.learning_rate, decay_steps=cfg.epochs * steps, alpha=alpha
        )
    return cfg.learning_rate


def _own_field_arguments(cfg: TrainingConfig) -> dict[str, Any]:
    """The constructor arguments the top-level fields give, as they always have."""
    name = cfg.optimizer
    if name == "sgd":
        return {"momentum": cfg.momentum, "nesterov": cfg.nesterov}
    if name == "adam":
        return {"weight_decay": cfg.weight_decay or None}
    if name == "adamw":
        return {"weight_decay": 0.004 if cfg.weight_decay is None else cfg.weight_decay}
    if name == "rmsprop":
        return {"momentum": cfg.momentum}
    return {}


def make_optimizer(cfg: TrainingConfig, steps_per_epoch: int):
    """The Keras optimizer with its learning-rate schedule (plateau is a callback instead)
    and its optimizer_options."""
    cls = optimizer_class(cfg.optimizer)
    lr = _learning_rate(cfg, steps_per_epoch)
    try:
        return cls(lr, **_own_field_arguments(cfg), **cfg.optimizer_options)
    except (ValueError, TypeError) as exc:  # Keras checks the options' ranges and pairings
        where = "optimizer_options" if cfg.optimizer_options else "optimizer"
        raise _fail(where, f"are not accepted by keras.optimizers.{cls.__name__}: "
                    f"{_first_line(exc)}.") from None  # fmt: skip


def per_output(value: Any, field_name: str) -> list[tuple[str, Any]]:
    """(field path, value) for each output of a per-output dict, or the one value."""
    if isinstance(value, dict) and not is_serialized(value):
        return [(f"{field_name}.{k}", v) for k, v in value.items()]
    return [(field_name, value)]


def compile_loss(loss: Any) -> Any:
    """What `model.compile` takes for a resolved loss: names as they are, serialized losses
    rebuilt by Keras (safe mode), per-output dicts output by output."""
    if isinstance(loss, dict) and not is_serialized(loss):
        return {k: compile_loss(v) for k, v in loss.items()}
    if is_serialized(loss):
        return _keras().losses.deserialize(loss)
    return loss


def check_loss_and_metrics(loss: Any, metrics: list[str] | dict[str, Any]) -> None:
    """Raise TrainingError when Keras does not know the loss or a metric. Either may be
    given per output (a dict); "auto" entries of a dict are not checked (nothing resolved
    them yet)."""
    import keras  # Keras brings TensorFlow (seconds): imported when used

    for where, one in per_output(loss, "loss"):
        if one == "auto" and where != "loss":
            continue
        try:
            keras.losses.get(one)
        except (ValueError, TypeError):
            what = one if isinstance(one, str) else one.get("class_name")
            raise _fail(where, f"{what!r} is not a Keras loss (try sparse_categorical_crossentropy, "
                        "binary_crossentropy or mse).") from None  # fmt: skip
    for where, names in per_output(metrics, "metrics"):
        for m in [] if names == "auto" else names:
            if m in ("accuracy", "acc"):
                continue
            try:
                keras.metrics.get(m)
            except (ValueError, TypeError):
                raise _fail(where, f"{m!r} is not a Keras metric.") from None


def balanced_class_weight(y) -> dict[int, float]:
    """Keras's "balanced" rule: n_samples / (n_classes * count(class))."""
    labels = np.asarray(y).reshape(len(y), -1)
    labels = labels[:, 0] if labels.shape[1] == 1 else labels.argmax(axis=1)
    classes, counts = np.unique(labels.astype(int), return_counts=True)
    total = counts.sum()
    return {int(c): float(total / (len(classes) * n)) for c, n in zip(classes, counts, strict=True)}
