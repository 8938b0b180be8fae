"""Data against model, before training: input shapes, output units, loss against labels. Each
problem is one sentence naming both sides and the fix."""

from __future__ import annotations

from typing import Any

import numpy as np

from deepgui.core.data.base import LoadedData, rows
from deepgui.core.errors import DatasetError
from deepgui.core.keras_layers import input_shape_of

_ALIASES = {
    "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
    "categoricalcrossentropy": "categorical_crossentropy",
    "binarycrossentropy": "binary_crossentropy",
    "binaryfocalcrossentropy": "binary_crossentropy",
    "mse": "mean_squared_error",
    "meansquarederror": "mean_squared_error",
    "mae": "mean_absolute_error",
    "meanabsoluteerror": "mean_absolute_error",
    "huber": "huber",
    "meansquaredlogarithmicerror": "mean_squared_logarithmic_error",
    "msle": "mean_squared_logarithmic_error",
    "logcosh": "log_cosh",
}
_REGRESSION_LOSSES = {
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "mean_squared_logarithmic_error",
    "log_cosh",
}


def loss_name(loss: Any) -> str | None:
    """A loss given as a string, a Keras loss object or a function, as one canonical name."""
    if loss is None:
        return None
    if isinstance(loss, dict) and isinstance(loss.get("class_name"), str):  # serialized by Keras
        loss = loss["class_name"]
    if not isinstance(loss, str):
        loss = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    key = loss.lower().replace("_", "").replace(" ", "")
    return _ALIASES.get(key, loss.lower())


def _shape_text(shape) -> str:
    dims = [("None" if d is None else str(d)) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _layer_of(tensor) -> Any:
    history = getattr(tensor, "_keras_history", None)
    return history.operation if history is not None else None


def _units_layer(tensor) -> Any:
    """The layer that decides the output's width: the output layer itself, or the nearest layer
    with units before it when the last ones only pass values through (Softmax, Dropout)."""
    layer = _layer_of(tensor)
    first = layer
    for _ in range(8):
        if layer is None or hasattr(layer, "units"):
            return layer or first
        nodes = getattr(layer, "_inbound_nodes", None) or []
        inputs = list(getattr(nodes[0], "input_tensors", [])) if nodes else []
        if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != tuple(tensor.shape[1:]):
            return first
        layer = _layer_of(inputs[0])
    return first


def _describe(layer) -> str:
    if layer is None:
        return "the output layer"
    return f"the last {type(layer).__name__} ({layer.name!r})"


def _check_input(name: str, sample: tuple, expected: tuple, hint: str) -> str | None:
    fits = len(sample) == len(expected) and all(
        e is None or e == s for s, e in zip(sample, expected, strict=True)
    )
    if fits:
        return None
    return (
        f"The data's samples have shape {_shape_text(sample)} but the Input {name!r} expects "
        f"{_shape_text(expected)}; set the Input's shape to {_shape_text(sample)}{hint}."
    )


def _no_data(name: str, x: dict) -> str:
    return (
        f"The model's Input {name!r} gets no data: the data provides "
        f"{', '.join(map(repr, x))}; rename the Input to one of these."
    )


def refuse_unfit_inputs(data: LoadedData, graph) -> None:
    """DatasetError, the sentence check_against_model would say, when the graph's Inputs
    cannot take the data: read from the graph, so that `deepgui train` tells this bad input
    (exit status 2) before it builds anything. Inputs it cannot read are left to the build."""
    try:
        inputs = [(node.name, tuple(input_shape_of(node)[1:])) for node in graph.input_nodes()]
    except (ValueError, TypeError, AttributeError):
        return
    x = data.x_train
    problems = []
    if isinstance(x, dict):
        for name, expected in inputs:
            if name not in x:
                problems.append(_no_data(name, x))
                continue
            problems.append(_check_input(name, tuple(np.shape(x[name])[1:]), expected, ""))
    elif len(inputs) == 1:
        hint = (
            " or the data's image_size and color_mode to match"
            if "image_size" in data.extras
            else ""
        )
        problems.append(_check_input(inputs[0][0], data.sample_shape, inputs[0][1], hint))
    problems = [p for p in problems if p]
    if problems:
        raise DatasetError(problems[0])


def check_against_model(data: LoadedData, model, loss: Any = None) -> list[str]:
    """Problems that would make `model.fit` fail or learn nothing; an empty list when it fits."""
    problems: list[str] = []
    inputs = list(model.inputs)
    names = [getattr(_layer_of(t), "name", None) or t.name for t in inputs]
    hint = (
        " or the data's image_size and color_mode to match" if "image_size" in data.extras else ""
    )
    x = data.x_train
    if isinstance(x, dict):
        for name, tensor in zip(names, inputs, strict=True):
            if name not in x:
                problems.append(_no_data(name, x))
            else:
                msg = _check_input(
                    name, tuple(np.shape(x[name])[1:]), tuple(tensor.shape[1:]), hint
                )
                problems += [msg] if msg else []
    elif len(inputs) != 1:
        problems.append(
            f"The model has {len(inputs)} inputs ({', '.join(map(repr, names))}) but the data gives one array; remove the extra Inputs."
        )
    else:
        msg = _check_input(names[0], data.sample_shape, tuple(inputs[0].shape[1:]), hint)
        problems += [msg] if msg else []
    problems += _check_vocabulary(data, model)

    outputs = list(model.outputs)
    if data.multi_output:
        return problems + _check_outputs(data, model, loss)
    if len(outputs) != 1:
        shown = ", ".join(map(repr, output_names(model)))
        problems.append(
            f"The model has {len(outputs)} outputs ({shown}) but the data has one target; keep "
            "one output layer, or choose a target column for each output."
        )
        return problems
    return problems + _check_output(data, outputs[0], loss)


def output_names(model) -> list[str]:
    """The names of the model's outputs (its output layers'), in output order: the names its
    targets are matched to."""
    names = getattr(model, "output_names", None)
    if names and len(names) == len(model.outputs):
        return [str(n) for n in names]
    return [getattr(_layer_of(t), "name", None) or str(t.name) for t in model.outputs]


def match_outputs(targets: list[str], outputs: list[str]) -> str | None:
    """Why the target columns cannot feed the model's outputs of the same names, in one sentence
    naming both; None when each target has its output and each output its target."""
    shown_targets, shown_outputs = ", ".join(map(repr, targets)), ", ".join(map(repr, outputs))
    if len(targets) > len(outputs):
        return (
            f"The data has {len(targets)} target columns ({shown_targets}) but the model has "
            f"{len(outputs)} output{'s' * (len(outputs) != 1)} ({shown_outputs}); choose fewer "
            "targets or add an output layer for each, named after its column."
        )
    if any(t not in outputs for t in targets):
        return (
            f"The model's output layers are named {shown_outputs} but the target columns are "
            f"{shown_targets}; name each output layer after the target column it predicts."
        )
    extra = [o for o in outputs if o not in targets]
    if extra:
        return (
            f"The model's output {', '.join(map(repr, extra))} has no target column (the targets "
            f"are {shown_targets}); add a target column of that name or remove the output."
        )
    return None


def _check_outputs(data: LoadedData, model, losses: Any) -> list[str]:
    """Each target against the output of its name, as one-target data is checked against a
    one-output model; each problem names the output."""
    names = output_names(model)
    mismatch = match_outputs([o.name for o in data.outputs], names)
    if mismatch:
        return [mismatch]
    problems = []
    for name, tensor in zip(names, model.outputs, strict=True):
        loss = losses.get(name) if isinstance(losses, dict) else losses
        for problem in _check_output(data.for_output(name), tensor, loss):
            problems.append(f"For the output {name!r}: {problem[0].lower()}{problem[1:]}")
    return problems


def _check_output(data: LoadedData, out, loss: Any) -> list[str]:
    """One output against one target's labels."""
    problems: list[str] = []
    layer = _units_layer(out)
    who = _describe(layer)
    out_shape = tuple(out.shape[1:])
    y_dims = np.shape(data.y_train)[1:]
    if len(out_shape) > max(len(y_dims), 1):
        problems.append(
            f"{who[0].upper()}{who[1:]} outputs {_shape_text(out_shape)} per sample but each label is a single "
            "value; add a Flatten or GlobalAveragePooling layer before the last Dense."
        )
        return problems
    units = out_shape[-1] if out_shape else 1
    name = loss_name(loss)
    last = _layer_of(out)
    # A Softmax (or other) layer after the Dense decides what comes out, not the Dense's own.
    activation = _activation(layer) if layer is last else type(last).__name__.lower()
    k = data.num_classes
    if data.task == "multiclass":
        if units != k:
            problems.append(
                f"The data has {k} classes but {who} has {units} units; set its units to {k}."
            )
    elif data.task == "binary":
        if units not in (1, 2):
            problems.append(
                f"The data has 2 classes but {who} has {units} units; set its units to 1 (sigmoid) or 2 (softmax)."
            )
        elif units == 1 and activation == "softmax":
            problems.append(
                f"{who[0].upper()}{who[1:]} has 1 unit with softmax, which always outputs 1; use the sigmoid activation."
            )
    else:
        want = int(np.prod(y_dims)) if y_dims else 1
        if units != want:
            what = "targets" if data.task == "regression" else "labels"
            problems.append(
                f"The data has {want} {what} per sample but {who} has {units} units; set its units to {want}."
            )
    if name is not None:
        problems += _check_loss(name, data, units, who)
    elif (
        data.task in ("multiclass", "binary")
        and units > 1
        and activation in ("relu", "sigmoid")
        and k > 1
    ):
        problems.append(
            f"{who[0].upper()}{who[1:]} uses {activation} but its {units} units should be class probabilities; use the softmax activation."
        )
    return problems


def _activation(layer) -> str | None:
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", None) if act is not None else None


def _check_loss(name: str, data: LoadedData, units: int, who: str) -> list[str]:
    classes = data.task in ("multiclass", "binary")
    suggested = data.suggested_loss(units)
    if name == "categorical_crossentropy" and classes:
        return [
            "The loss categorical_crossentropy expects one-hot labels but the data's labels are class indices; use sparse_categorical_crossentropy."
        ]
    if name == "sparse_categorical_crossentropy":
        if not classes:
            return [
                f"The loss sparse_categorical_crossentropy needs class labels but the data's target is {_task_text(data)}; use {suggested}."
            ]
        if units < 2:
            return [
                f"The loss sparse_categorical_crossentropy needs one unit per class but {who} has {units}; set its units to {data.num_classes} with softmax, or use binary_crossentropy."
            ]
    if name == "binary_crossentropy":
        if data.task == "multiclass":
            return [
                f"The loss binary_crossentropy is for two classes but the data has {data.num_classes}; use sparse_categorical_crossentropy."
            ]
        if data.task == "regression":
            return [
                f"The loss binary_crossentropy needs 0/1 labels but the data's target is {_task_text(data)}; use mean_squared_error."
            ]
        if data.task == "binary" and units != 1:
            return [
                f"The loss binary_crossentropy needs 1 output unit but {who} has {units}; set its units to 1 with sigmoid, or use sparse_categorical_crossentropy."
            ]
    if name in _REGRESSION_LOSSES and classes:
        return [
            f"The loss {name} is for regression but the data has {data.num_classes} classes; use {suggested}."
        ]
    return []


def _task_text(data: LoadedData) -> str:
    return {
        "regression": "a continuous value (regression)",
        "multilabel": "several 0/1 labels",
    }.get(data.task, data.task)


def _check_vocabulary(data: LoadedData, model) -> list[str]:
    """An Embedding smaller than the token ids it will be given fails mid-epoch on a CPU and
    silently reads garbage on a GPU; catch it here."""
    size = data.extras.get("vocabulary_size")
    if not size:
        return []
    out = []
    for layer in model.layers:
        if type(layer).__name__ == "Embedding" and layer.input_dim < size:
            out.append(
                f"The vocabulary has {size} tokens but the Embedding {layer.name!r} has input_dim "
                f"{layer.input_dim}; set its input_dim to {size}."
            )
    return out


def summarize(data: LoadedData) -> str:
    """One line on the data as loaded and split, for the Data panel and the data check."""
    parts = [f"{data.num_train} training"]
    if data.y_val is not None:
        parts.append(f"{rows(data.y_val)} validation")
    if data.y_test is not None:
        parts.append(f"{rows(data.y_test)} test")
    if data.multi_output:
        kind = "; ".join(f"{o.name} {_task_and_classes(o.task, len(o.class_names))}"
                         for o in data.outputs)  # fmt: skip
    else:
        kind = _task_and_classes(data.task, data.num_classes)
    return f"{', '.join(parts)} samples of shape {data.sample_shape}; {kind}."


def _task_and_classes(task: str, classes: int) -> str:
    return task + (f", {classes} classes" if classes else "")
