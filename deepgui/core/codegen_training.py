"""The data-and-training half of a generated script: the project's data loaded the way deepgui
loads it (same source, split, seed and preprocessing), then compiled and fitted with the
project's training settings, read through the same validation the engine uses."""

from __future__ import annotations

import pprint
from pathlib import Path

from deepgui.core.training.config import TrainingConfig

_OPTIMIZERS = {
    "sgd": "SGD",
    "adam": "Adam",
    "adamw": "AdamW",
    "rmsprop": "RMSprop",
    "adagrad": "Adagrad",
}


def _rule(title: str) -> str:
    return "# " + "-" * 20 + f" {title} " + "-" * 20


def training_section(dataset: dict, training: dict, base_dir: Path | None = None) -> list[str]:
    """Script lines that load the project's data and train the `model` defined above them."""
    cfg = TrainingConfig.from_dict(training)
    folder = str((base_dir or Path.cwd()).resolve())
    lines = [
        "",
        "",
        _rule("Data"),
        "# The project's data, split and preprocessed exactly as deepgui does it.",
        "import math",
        "from pathlib import Path",
        "",
        "import numpy as np",
        "",
        "from deepgui.core.data import load_dataset",
        "",
        f"DATASET = {pprint.pformat(dataset, sort_dicts=True, width=88)}",
        f"data = load_dataset(DATASET, base_dir=Path({folder!r}))",
        "validation = (data.x_val, data.y_val) if data.x_val is not None else None",
        "",
        _rule("Training"),
    ]
    if cfg.seed is not None:
        lines.append(f"keras.utils.set_random_seed({cfg.seed})")
    lines += [
        f"EPOCHS, BATCH_SIZE = {cfg.epochs}, {cfg.batch_size}",
        "steps_per_epoch = math.ceil(data.num_train / BATCH_SIZE)",
        f"learning_rate = {_schedule(cfg)}",
        f"optimizer = {_optimizer(cfg)}",
        f"loss = {_loss(cfg)}",
        f"metrics = {_metrics(cfg)}",
        "model.compile(optimizer=optimizer, loss=loss, metrics=metrics)",
        "",
        "callbacks = []",
    ]
    stop = cfg.early_stopping
    if stop.enabled:
        lines.append(
            "callbacks.append(keras.callbacks.EarlyStopping("
            f"monitor={stop.monitor!r}, patience={stop.patience}, "
            f"restore_best_weights={stop.restore_best_weights}))"
        )
    if cfg.schedule.kind == "plateau":
        s = cfg.schedule
        lines.append(
            "callbacks.append(keras.callbacks.ReduceLROnPlateau("
            f"factor={s.factor}, patience={s.patience}, min_lr={s.min_learning_rate}))"
        )
    class_weight = "None"
    if cfg.class_weight == "balanced":
        lines += [
            "counts = np.bincount(np.asarray(data.y_train).astype(int).ravel())",
            "class_weight = {i: len(data.y_train) / (len(counts) * c)"
            " for i, c in enumerate(counts) if c}",
        ]
        class_weight = "class_weight"
    lines += [
        "history = model.fit(",
        "    data.x_train,",
        "    data.y_train,",
        "    validation_data=validation,",
        "    epochs=EPOCHS,",
        "    batch_size=BATCH_SIZE,",
        f"    class_weight={class_weight},",
        "    callbacks=callbacks,",
        ")",
        'print("Epochs run:", len(history.history["loss"]))',
        "if data.x_test is not None:",
        "    scores = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)",
        '    print("Test metrics:", {k: round(float(v), 4) for k, v in scores.items()})',
    ]
    return lines


def _schedule(cfg: TrainingConfig) -> str:
    s, lr = cfg.schedule, cfg.learning_rate
    if s.kind == "step":
        return (
            f"keras.optimizers.schedules.ExponentialDecay({lr}, decay_steps={s.every_epochs} "
            f"* steps_per_epoch, decay_rate={s.factor}, staircase=True)"
        )
    if s.kind == "exponential":
        return (
            f"keras.optimizers.schedules.ExponentialDecay({lr}, "
            f"decay_steps=steps_per_epoch, decay_rate={s.decay_rate})"
        )
    if s.kind == "cosine":
        alpha = min(1.0, s.min_learning_rate / lr)
        return (
            f"keras.optimizers.schedules.CosineDecay({lr}, "
            f"decay_steps=EPOCHS * steps_per_epoch, alpha={alpha})"
        )
    return repr(lr)


def _optimizer(cfg: TrainingConfig) -> str:
    args = ["learning_rate"]
    if cfg.optimizer in ("sgd", "rmsprop") and cfg.momentum:
        args.append(f"momentum={cfg.momentum}")
    if cfg.optimizer == "sgd" and cfg.nesterov:
        args.append("nesterov=True")
    if cfg.optimizer == "adamw":
        args.append(f"weight_decay={0.004 if cfg.weight_decay is None else cfg.weight_decay}")
    elif cfg.optimizer == "adam" and cfg.weight_decay:
        args.append(f"weight_decay={cfg.weight_decay}")
    return f"keras.optimizers.{_OPTIMIZERS[cfg.optimizer]}({', '.join(args)})"


def _loss(cfg: TrainingConfig) -> str:
    if cfg.loss == "auto":
        return "data.suggested_loss(model.outputs[0].shape[-1])"
    return repr(cfg.loss)


def _metrics(cfg: TrainingConfig) -> str:
    return "data.suggested_metrics()" if cfg.metrics == "auto" else repr(list(cfg.metrics))
