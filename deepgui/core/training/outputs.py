"""Several outputs, each fed by the target column of its name: what each one is compiled with.

The project's training settings may give the loss, the metrics and the loss weights per output
(validated in config.py; read here defensively, since a dict may come from a newer file)::

    "loss": "auto" | "mse" | {"kind": "auto", "price": "huber"}   (a loss may also be
            serialized by Keras: {"class_name": "Huber", "config": {...}}, not per output)
    "metrics": "auto" | ["mae"] | {"kind": "auto", "price": ["mae", "mse"]}
    "loss_weights": null | {"kind": 1.0, "price": 0.5}

"auto" is what one-target data would take: the loss for the target's task (and its output's
width), accuracy for classes, mean absolute error for values. A single name or list applies to
every output; an output a dict leaves out is "auto"; a loss weight left out is 1. The same rules
give a one-output model its loss and metrics when the settings name its output in a dict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from deepgui.core.data.base import LoadedData
from deepgui.core.data.check import match_outputs, output_names
from deepgui.core.errors import TrainingError
from deepgui.core.training.config import fit_metrics, is_serialized


@dataclass(frozen=True)
class OutputPlan:
    """What `compile` takes for a model with several outputs, each keyed by output name."""

    losses: dict[str, Any]  # a Keras loss name, or a serialized Keras loss
    metrics: dict[str, list[str]]
    loss_weights: dict[str, float] | None

    def describe(self) -> str:
        """'kind sparse_categorical_crossentropy, price mse (weight 0.5)': the progress line's."""
        weights = self.loss_weights or {}
        return ", ".join(
            f"{name} {loss_text(loss)}"
            + (f" (weight {weights[name]:g})" if name in weights else "")
            for name, loss in self.losses.items()
        )


def loss_text(loss: Any) -> str:
    """A loss in words: its name, or a serialized loss's class."""
    return str(loss["class_name"]) if is_serialized(loss) else str(loss)


def plan(cfg, data: LoadedData, widths: dict[str, int | None]) -> OutputPlan:
    """Each output's loss, metrics and loss weight for `data` with several targets; `widths`
    maps each output name to its width (the "auto" loss of two softmax units on two classes
    is the sparse categorical one), in the model's output order."""
    names = list(widths)
    losses = {n: loss_for(cfg, data.for_output(n), widths[n], n, names) for n in names}
    metrics = {n: metrics_for(cfg, data.for_output(n), n, names, widths.get(n)) for n in names}
    return OutputPlan(losses, metrics, loss_weights(cfg, names))


def loss_for(cfg, data: LoadedData, width: int | None, name: str | None = None,
             names: list[str] | None = None) -> Any:  # fmt: skip
    """The loss of the output `name` (of the model's outputs `names`) on one target's data:
    a Keras loss name, or a serialized Keras loss as the settings give it."""
    setting = getattr(cfg, "loss", "auto")
    loss = setting if is_serialized(setting) else _entry(setting, "loss", name, names)
    if is_serialized(loss):
        return loss
    if not isinstance(loss, str) or not loss.strip():
        raise _field("loss", name, f'must be "auto" or a Keras loss name, not {loss!r}.')
    return data.suggested_loss(width) if loss.strip() == "auto" else loss.strip()


def metrics_for(cfg, data: LoadedData, name: str | None = None,
                names: list[str] | None = None, width: int | None = None) -> list[str]:  # fmt: skip
    """The metrics of the output `name` (`width` units wide) on one target's data, fitted to
    its labels (config.fit_metrics: top-k's sparse variant; AUC where it fits)."""
    metrics = _entry(getattr(cfg, "metrics", "auto"), "metrics", name, names)
    if metrics == "auto":
        return data.suggested_metrics()
    if not (isinstance(metrics, list | tuple) and all(isinstance(m, str) and m for m in metrics)):
        raise _field("metrics", name, f'must be "auto" or a list of metric names, not {metrics!r}.')
    per_output = isinstance(getattr(cfg, "metrics", None), dict) and name is not None
    where = f"metrics for the output {name!r}" if per_output else "metrics"
    return fit_metrics(list(metrics), data.task, width, where)


def loss_weights(cfg, names: list[str]) -> dict[str, float] | None:
    """Each output's weight in the total loss (1 where the settings give none), or None when
    the settings give none at all."""
    given = getattr(cfg, "loss_weights", None)
    if given is None:
        return None
    if not isinstance(given, dict):
        raise TrainingError(
            f"training.loss_weights must map output names to numbers, not {given!r}."
        )
    _known(given, "loss_weights", names)
    out = {}
    for name in names:
        value = given.get(name, 1.0)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise _field("loss_weights", name, f"must be a number from 0, not {value!r}.")
        out[name] = float(value)
    return out


def model_losses(cfg, data: LoadedData, model) -> Any:
    """The loss `model` is compiled with on `data`: one name, or a dict by output name for
    several targets (None when the outputs do not match the targets: the data check says
    why, naming both)."""
    names = output_names(model)
    widths = output_widths(model)
    if not data.multi_output:
        name = names[0] if len(names) == 1 else None
        return loss_for(cfg, data, widths.get(name), name, [name] if name else None)
    if match_outputs([o.name for o in data.outputs], names):
        return None
    return {n: loss_for(cfg, data.for_output(n), widths[n], n, names) for n in names}


def output_widths(model) -> dict[str, int | None]:
    """Each output's width (its last dimension), by output name in the model's order."""
    return {n: _width(t) for n, t in zip(output_names(model), model.outputs, strict=True)}


def _width(tensor) -> int | None:
    shape = tuple(tensor.shape)
    return int(shape[-1]) if len(shape) > 1 and shape[-1] is not None else None


def engine_for(data: LoadedData, requested: str) -> tuple[str, str] | None:
    """(engine, note) for data with several targets, which TensorFlow trains in this process
    (the JAX worker and the engine probe hand over one label array); None for one target."""
    if not getattr(data, "multi_output", False):
        return None
    if requested in ("tensorflow", "xla"):
        return requested, ""
    who = "auto chose" if requested == "auto" else f"{requested} cannot train it, so"
    return "tensorflow", f"{who} TensorFlow: a model with several outputs trains in this process"


def refuse_measuring(project) -> None:
    """The engine measurement trains one label array: a project with several targets trains
    with TensorFlow, so there is nothing to measure."""
    spec = project.dataset or {}
    target = spec.get("target")
    if spec.get("source") == "csv" and isinstance(target, list) and len(target) > 1:
        raise TrainingError(
            "A model with several outputs trains with TensorFlow in this process, so there is "
            "no engine to measure or choose."
        )


def refuse_cluster(data: LoadedData) -> None:
    """Several ranks hand each other one label array: one target only."""
    if getattr(data, "multi_output", False):
        raise TrainingError(
            "A model with several outputs trains on one machine only: train it on one rank.",
            setting="workers",
        )


def _entry(setting: Any, key: str, name: str | None, names: list[str] | None) -> Any:
    """The setting for one output: a dict's entry ("auto" when it has none), else the setting."""
    if not isinstance(setting, dict):
        return setting
    if names is not None:
        _known(setting, key, names)
    return setting.get(name, "auto") if name is not None else "auto"


def _known(setting: dict, key: str, names: list[str]) -> None:
    unknown = [k for k in setting if k not in names]
    if unknown:
        shown = ", ".join(map(repr, names))
        raise TrainingError(
            f"training.{key} names the output {unknown[0]!r}, which the model does not have; "
            f"its outputs are {shown}."
        )


def _field(key: str, name: str | None, message: str) -> TrainingError:
    where = f"training.{key}" + (f" for the output {name!r}" if name else "")
    return TrainingError(f"{where} {message}")
