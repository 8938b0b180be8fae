"""The project's ``training`` section and the typed, validated config built from it.

Schema (every key optional; defaults shown)::

    {
      "optimizer": "adam",          # sgd | adam | adamw | rmsprop | adagrad
      "learning_rate": 0.001,
      "momentum": 0.0,              # sgd and rmsprop
      "nesterov": false,            # sgd
      "weight_decay": 0.004,        # adamw (others: 0 = off)
      "schedule": {"kind": "constant"},
          # constant
          # step:        {"kind": "step", "every_epochs": 10, "factor": 0.5}
          # exponential: {"kind": "exponential", "decay_rate": 0.95}          (per epoch)
          # cosine:      {"kind": "cosine", "min_learning_rate": 0.0}          (over all epochs)
          # plateau:     {"kind": "plateau", "factor": 0.5, "patience": 3, "min_learning_rate": 1e-6}
      "loss": "auto",               # auto = LoadedData.suggested_loss(); or any Keras loss name
      "metrics": "auto",            # auto = LoadedData.suggested_metrics(); or a list of names
      "batch_size": 32,
      "epochs": 10,
      "early_stopping": {"enabled": false, "monitor": "val_loss", "patience": 5,
                         "restore_best_weights": true},
      "class_weight": "none",       # none | balanced
      "seed": 42,
      "device": "auto",             # auto | cpu | gpu:N | gpus (all, mirrored) | cpu:0,cpu:1 (mirrored)
      "mixed_precision": false,     # float16 compute where the GPU supports it
      "tensorboard": false,         # write TensorBoard logs into RUN_DIR/tensorboard
      "use_project_weights": true,  # start from NAME.weights.h5 beside the project, if there
      "overfitting": {"patience": 3, "gap": 0.2}
    }

Every problem is a TrainingError naming the field (``training.batch_size``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from deepgui.core.errors import TrainingError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau")
CLASS_WEIGHTS = ("none", "balanced")


@dataclass
class Schedule:
    kind: str = "constant"
    every_epochs: int = 10
    factor: float = 0.5
    decay_rate: float = 0.95
    patience: int = 3
    min_learning_rate: float = 0.0


@dataclass
class EarlyStopping:
    enabled: bool = False
    monitor: str = "val_loss"
    patience: int = 5
    restore_best_weights: bool = True


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
    schedule: Schedule = field(default_factory=Schedule)
    loss: str = "auto"
    metrics: list[str] | str = "auto"
    batch_size: int = 32
    epochs: int = 10
    early_stopping: EarlyStopping = field(default_factory=EarlyStopping)
    class_weight: str = "none"
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

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> TrainingConfig:
        return parse_training(raw or {})

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["weight_decay"] is None:
            del out["weight_decay"]
        return out

    def with_overrides(self, **changes: Any) -> TrainingConfig:
        """A copy with some top-level fields changed (None values are ignored), re-validated."""
        raw = self.to_dict()
        raw.update({k: v for k, v in changes.items() if v is not None})
        return parse_training(raw)

    def resolved_loss(self, data, output_units: int | None = None) -> str:
        """The loss to compile with; "auto" asks the data, told the width of the model's
        output (two softmax units on binary labels take the sparse categorical loss)."""
        return data.suggested_loss(output_units) if self.loss == "auto" else self.loss

    def resolved_metrics(self, data) -> list[str]:
        return data.suggested_metrics() if self.metrics == "auto" else list(self.metrics)


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


def parse_training(raw: dict[str, Any]) -> TrainingConfig:
    """Validate a project's training dict into a TrainingConfig."""
    if not isinstance(raw, dict):
        raise TrainingError('The project\'s "training" section must be an object.')
    cfg = TrainingConfig()
    cfg.optimizer = _choice(raw, "optimizer", "adam", OPTIMIZERS, "")
    cfg.learning_rate = _number(
        raw, "learning_rate", 0.001, "", low=0.0, high=10.0, strict_low=True
    )
    cfg.momentum = _number(raw, "momentum", 0.0, "", low=0.0, high=1.0)
    cfg.nesterov = _flag(raw, "nesterov", False, "")
    if raw.get("weight_decay") is not None:
        cfg.weight_decay = _number(raw, "weight_decay", 0.0, "", low=0.0, high=1.0)

    sched = _section(raw, "schedule")
    s = Schedule()
    s.kind = _choice(sched, "kind", "constant", SCHEDULES, "schedule.")
    s.every_epochs = _integer(sched, "every_epochs", 10, "schedule.", low=1)
    s.factor = _number(sched, "factor", 0.5, "schedule.", low=0.0, high=1.0, strict_low=True)
    s.decay_rate = _number(
        sched, "decay_rate", 0.95, "schedule.", low=0.0, high=1.0, strict_low=True
    )
    s.patience = _integer(sched, "patience", 3, "schedule.", low=1)
    s.min_learning_rate = _number(sched, "min_learning_rate", 0.0, "schedule.", low=0.0)
    cfg.schedule = s

    loss = raw.get("loss", "auto")
    if not isinstance(loss, str) or not loss.strip():
        raise _fail("loss", f'must be "auto" or a Keras loss name, not {loss!r}.')
    cfg.loss = loss.strip()
    metrics = raw.get("metrics", "auto")
    if metrics != "auto" and not (
        isinstance(metrics, list) and all(isinstance(m, str) and m for m in metrics)
    ):
        raise _fail("metrics", f'must be "auto" or a list of metric names, not {metrics!r}.')
    cfg.metrics = metrics if metrics == "auto" else list(metrics)

    cfg.batch_size = _integer(raw, "batch_size", 32, "", low=1)
    cfg.epochs = _integer(raw, "epochs", 10, "", low=1)

    es = _section(raw, "early_stopping")
    cfg.early_stopping = EarlyStopping(
        enabled=_flag(es, "enabled", False, "early_stopping."),
        monitor=str(es.get("monitor", "val_loss")),
        patience=_integer(es, "patience", 5, "early_stopping.", low=0),
        restore_best_weights=_flag(es, "restore_best_weights", True, "early_stopping."),
    )
    cfg.class_weight = _choice(raw, "class_weight", "none", CLASS_WEIGHTS, "")
    seed = raw.get("seed", 42)
    if seed is not None:
        seed = _integer(raw, "seed", 42, "", low=0)
    cfg.seed = seed
    device = raw.get("device", "auto")
    if not isinstance(device, str) or not device.strip():
        raise _fail("device", f'must be "auto", "cpu", "gpu:N" or "gpus", not {device!r}.')
    cfg.device = device.strip().lower()
    from deepgui.core.training.devices import check_device_spec  # no TF import

    problem = check_device_spec(cfg.device)
    if problem:
        raise _fail("device", problem)
    cfg.mixed_precision = _flag(raw, "mixed_precision", False, "")
    cfg.tensorboard = _flag(raw, "tensorboard", False, "")
    from deepgui.core.training.engines import ENGINES

    cfg.engine = _choice(raw, "engine", "tensorflow", ENGINES, "")
    cfg.use_project_weights = _flag(raw, "use_project_weights", True, "")
    cfg.ranks = _integer(raw, "ranks", 1, "", low=1)
    coordinator = raw.get("coordinator", "127.0.0.1:7477")
    if not isinstance(coordinator, str):
        raise _fail("coordinator", f"must be HOST:PORT, not {coordinator!r}.")
    cfg.coordinator = coordinator.strip()
    if cfg.ranks > 1:
        from deepgui.core.training.distributed import make_cluster  # no JAX import

        try:
            make_cluster(cfg.coordinator, cfg.ranks)
        except TrainingError as exc:
            raise _fail("coordinator", str(exc).replace("--coordinator ", "")) from None
    ov = _section(raw, "overfitting")
    cfg.overfitting = OverfittingSettings(
        patience=_integer(ov, "patience", 3, "overfitting.", low=1),
        gap=_number(ov, "gap", 0.2, "overfitting.", low=0.0, strict_low=True),
    )
    return cfg


# ----------------------------------------------------------------------------- Keras objects
def make_optimizer(cfg: TrainingConfig, steps_per_epoch: int):
    """The Keras optimizer with its learning-rate schedule (plateau is a callback instead)."""
    import keras

    lr: Any = cfg.learning_rate
    s = cfg.schedule
    steps = max(1, steps_per_epoch)
    if s.kind == "step":
        lr = keras.optimizers.schedules.ExponentialDecay(
            cfg.learning_rate,
            decay_steps=s.every_epochs * steps,
            decay_rate=s.factor,
            staircase=True,
        )
    elif s.kind == "exponential":
        lr = keras.optimizers.schedules.ExponentialDecay(
            cfg.learning_rate, decay_steps=steps, decay_rate=s.decay_rate
        )
    elif s.kind == "cosine":
        alpha = min(1.0, s.min_learning_rate / cfg.learning_rate)
        lr = keras.optimizers.schedules.CosineDecay(
            cfg.learning_rate, decay_steps=cfg.epochs * steps, alpha=alpha
        )
    name = cfg.optimizer
    if name == "sgd":
        return keras.optimizers.SGD(lr, momentum=cfg.momentum, nesterov=cfg.nesterov)
    if name == "adam":
        return keras.optimizers.Adam(lr, weight_decay=cfg.weight_decay or None)
    if name == "adamw":
        wd = 0.004 if cfg.weight_decay is None else cfg.weight_decay
        return keras.optimizers.AdamW(lr, weight_decay=wd)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr, momentum=cfg.momentum)
    return keras.optimizers.Adagrad(lr)


def check_loss_and_metrics(loss: str, metrics: list[str]) -> None:
    """Raise TrainingError when Keras does not know the loss or a metric."""
    import keras

    try:
        keras.losses.get(loss)
    except (ValueError, TypeError):
        raise _fail("loss", f"{loss!r} is not a Keras loss (try sparse_categorical_crossentropy, "
                    "binary_crossentropy or mse).") from None  # fmt: skip
    for m in metrics:
        if m in ("accuracy", "acc"):
            continue
        try:
            keras.metrics.get(m)
        except (ValueError, TypeError):
            raise _fail("metrics", f"{m!r} is not a Keras metric.") from None


def balanced_class_weight(y) -> dict[int, float]:
    """Keras's "balanced" rule: n_samples / (n_classes * count(class))."""
    import numpy as np

    labels = np.asarray(y).reshape(len(y), -1)
    labels = labels[:, 0] if labels.shape[1] == 1 else labels.argmax(axis=1)
    classes, counts = np.unique(labels.astype(int), return_counts=True)
    total = counts.sum()
    return {int(c): float(total / (len(classes) * n)) for c, n in zip(classes, counts, strict=True)}
