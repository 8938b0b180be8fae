"""What a Keras model was compiled with, as a project's training settings, and back.

A ``.keras`` file keeps the arguments of ``model.compile`` in its config.json
(``compile_config``), an ``.h5`` file in its ``training_config`` attribute, and a model in
memory gives them by ``get_compile_config()``: all three in Keras's serialized form. That form
is read here; classes are looked up in Keras's own modules only, so nothing from the file runs.
Each setting a project cannot hold (custom code, a metric object's settings) is named in a
note of one sentence, never dropped silently.

The way back: `compile_for_export` compiles a model with a project's settings, so that
``model.save()`` writes them and ``keras.saving.load_model`` restores them.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core.errors import ModelImportError, TrainingError
from deepgui.core.keras_layers import keras
from deepgui.core.project import ProjectFormatError, parse_json
from deepgui.core.training.config import (
    KERAS_SCHEDULE,
    OPTIMIZER_CLASSES,
    OWN_FIELDS,
    TrainingConfig,
    compile_loss,
    is_serialized,
    make_optimizer,
    optimizer_arguments,
    schedule_arguments,
)

_PROJECT_NAMES = {cls: name for name, cls in OPTIMIZER_CLASSES.items()}
MAX_CONFIG_BYTES = 64 * 1024 * 1024  # as keras_import: more is not a model description
# The config keys of a metric or loss that only label it or set its number type.
_LABELS = ("name", "dtype")


def _keras():
    return keras()


# ----------------------------------------------------------------------------- model -> dict
def training_from_compiled(model) -> tuple[dict[str, Any], list[str]]:
    """The project's training dict for what `model` was compiled with, and a note for each
    setting it could not keep. A model loaded with compile=False knows nothing of its
    compiling: read its file with `training_from_model_file` instead."""
    compile_config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if not compile_config:
        return {}, ["The model is not compiled, so it brings no training settings: "
                    "deepgui's defaults are used."]  # fmt: skip
    return training_from_compile_config(compile_config, _live_output_names(model))


def training_from_model_file(path: str | Path) -> tuple[dict[str, Any], list[str]]:
    """As `training_from_compiled`, from a ``.keras`` or ``.h5`` file, without loading it."""
    path = Path(path)
    if not path.is_file():
        raise ModelImportError(f"{path}: no such file.")
    try:
        model_config, compile_config = _stored_configs(path)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return {}, [f"{path.name}: its training settings cannot be read, so deepgui's defaults "
                    "are used."]  # fmt: skip
    if not isinstance(compile_config, dict) or not compile_config:
        return {}, [f"{path.name} was saved without training settings (not compiled): "
                    "deepgui's defaults are used."]  # fmt: skip
    return training_from_compile_config(compile_config, _stored_output_names(model_config))


def training_from_compile_config(
    compile_config: dict[str, Any], output_names: list[str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The training dict for a serialized compile config (``get_compile_config()``'s form);
    `output_names`, in output order, place settings given as one list entry per output."""
    outputs = list(output_names or [])
    notes: list[str] = []
    training: dict[str, Any] = dict(_optimizer_settings(compile_config.get("optimizer"), notes))
    loss = _loss_setting(compile_config.get("loss"), outputs, notes)
    if loss is not None:
        training["loss"] = loss
    weights = _loss_weights_setting(compile_config.get("loss_weights"), outputs, notes)
    if weights is not None:
        training["loss_weights"] = weights
    metrics = _metrics_setting(compile_config.get("metrics"), outputs, notes)
    if metrics is not None:
        training["metrics"] = metrics
    _note_other_settings(compile_config, notes)
    return _keep_what_parses(training, notes), notes


# --- reading files
def _stored_configs(path: Path) -> tuple[Any, Any]:
    """(model config, compile config) as the file holds them, read without Keras."""

    def parsed(text: Any) -> Any:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if not isinstance(text, str):
            return None
        try:
            return parse_json(text, str(path))
        except ProjectFormatError as exc:
            raise ValueError(str(exc)) from None

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > MAX_CONFIG_BYTES:
                raise ValueError("the model description is too large")
            config = parsed(archive.read(info))
        return config, config.get("compile_config") if isinstance(config, dict) else None
    import h5py  # h5py (60 ms): only an .h5 model file needs it

    with h5py.File(path, "r") as fh:
        model_config = parsed(fh.attrs.get("model_config"))
        training_config = parsed(fh.attrs.get("training_config"))
    if isinstance(training_config, dict) and "optimizer_config" in training_config:
        # The legacy format names the optimizer differently, without a module.
        training_config = dict(training_config)
        training_config["optimizer"] = training_config.pop("optimizer_config")
    return model_config, training_config


def _stored_output_names(model_config: Any) -> list[str]:
    """The model's output names (its output layers'), from its serialized config."""
    if not isinstance(model_config, dict):
        return []
    inner = model_config.get("config")
    if not isinstance(inner, dict):
        return []
    if model_config.get("class_name") == "Sequential":
        layers = inner.get("layers") or []
        last = layers[-1] if layers else {}
        name = (last.get("config") or {}).get("name") if isinstance(last, dict) else None
        return [name] if isinstance(name, str) else []
    spec = inner.get("output_layers")
    if isinstance(spec, dict):
        return [str(k) for k in spec]
    if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
        return [spec[0]]  # a single output is one [name, node, index] triple
    return [ref[0] for ref in spec or [] if isinstance(ref, list) and ref]


def _live_output_names(model) -> list[str]:
    try:
        return [str(n) for n in model.output_names]
    except (AttributeError, TypeError, ValueError):
        return []


# --- optimizer and learning rate
def _short_float(value: float) -> float:
    """Keras keeps the learning rate in a float32 variable, so 0.05 comes back as
    0.0500000007: the shortest decimal with the same float32 is the number the person wrote."""
    single = np.float32(value)
    return float(str(single)) if float(single) == value else float(value)


def _json_ready(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    return value.item() if hasattr(value, "item") else value


def _class_and_config(spec: Any, module: str) -> tuple[str, dict[str, Any]] | None:
    """(class name, config) of a serialized Keras object of `module`; None for anything else
    (a custom class, a function, a damaged entry)."""
    if not is_serialized(spec):
        return None
    name = spec["class_name"]
    if spec.get("module") not in (None, module) or spec.get("registered_name") not in (None, name):
        return None
    return name, spec["config"]


def _is_object(spec: Any) -> bool:
    """One Keras object as a compile config holds it (a class, or a function by name), not a
    dict per output."""
    return isinstance(spec, dict) and isinstance(spec.get("class_name"), str) and "config" in spec


def _what(spec: Any) -> str:
    """How a serialized object is called in a note."""
    if isinstance(spec, dict):
        named = spec.get("registered_name") or spec.get("class_name")
        return str(spec.get("config") if named == "function" else named)
    return repr(spec)


def _optimizer_settings(spec: Any, notes: list[str]) -> dict[str, Any]:
    if spec is None:
        return {}
    if isinstance(spec, str):  # compiled with optimizer="sgd": the class's defaults
        try:
            live = _keras().optimizers.get(spec)
        except ValueError:
            notes.append(f"The optimizer {spec!r} is not one Keras knows: training uses Adam.")
            return {}
        found: tuple[str, dict[str, Any]] | None = (type(live).__name__, live.get_config())
    else:
        found = _class_and_config(spec, "keras.optimizers")
    if found and found[0] == "LossScaleOptimizer":
        notes.append("The optimizer's loss scaling (mixed precision) is not kept: turn on "
                     "training.mixed_precision for deepgui to scale the loss.")  # fmt: skip
        return _optimizer_settings(found[1].get("inner_optimizer"), notes)
    name = _PROJECT_NAMES.get(found[0]) if found else None
    if name is None:
        notes.append(f"The optimizer {_what(spec)} is not one of Keras's own that deepgui "
                     "trains with: training uses Adam.")  # fmt: skip
        return {}
    try:
        defaults = optimizer_arguments(name)
    except TrainingError as exc:
        notes.append(f"{exc} Training uses Adam.")
        return {}
    return {"optimizer": name, **_rate_settings(found[1].get("learning_rate"), notes),
            **_optimizer_arguments(name, found[1], defaults, notes)}  # fmt: skip


def _optimizer_arguments(
    name: str, config: dict[str, Any], defaults: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    """The settings that differ from the optimizer's defaults: the top-level fields it takes
    (sgd's momentum, ...), the rest as optimizer_options."""
    top, options = {}, {}
    for key, value in config.items():
        if key in ("name", "learning_rate"):
            continue
        if key not in defaults:
            notes.append(f"The optimizer setting {key}={value!r} is not an argument of "
                         f"keras.optimizers.{OPTIMIZER_CLASSES[name]}: it is left out.")  # fmt: skip
            continue
        value = _json_ready(value)
        if value == _json_ready(defaults[key]):
            continue  # the default: a project without it means the same
        (top if key in OWN_FIELDS.get(name, ()) else options)[key] = value
    return {**top, **({"optimizer_options": options} if options else {})}


def _rate_settings(rate: Any, notes: list[str]) -> dict[str, Any]:
    """learning_rate, or a Keras schedule (with learning_rate its rate at step 0)."""
    if rate is None:
        return {}
    if isinstance(rate, int | float) and not isinstance(rate, bool):
        return {"learning_rate": _short_float(rate)}
    found = _class_and_config(rate, "keras.optimizers.schedules")
    if found is None or schedule_arguments(found[0]) is None:
        notes.append(f"The learning-rate schedule {_what(rate)} is custom code, which deepgui "
                     "does not run: training uses a constant rate.")  # fmt: skip
        return {}
    schedule = {"module": "keras.optimizers.schedules", "class_name": found[0],
                "config": _json_ready(found[1]), "registered_name": None}  # fmt: skip
    out: dict[str, Any] = {"schedule": {"kind": KERAS_SCHEDULE, "config": schedule}}
    try:
        k = _keras()
        first = float(k.ops.convert_to_numpy(k.optimizers.schedules.deserialize(schedule)(0)))
    except Exception:  # noqa: BLE001 - the schedule's own check names the problem later
        return out
    return {"learning_rate": _short_float(first), **out}


# --- loss
def _loss_setting(spec: Any, outputs: list[str], notes: list[str]) -> Any:
    if spec is None:
        return None
    if isinstance(spec, list | tuple):  # one entry per output, in output order
        if len(spec) == 1 and len(outputs) <= 1:
            return _one_loss(spec[0], "", notes)
        spec = _by_output(spec, outputs, "loss", notes)
        if spec is None:
            return None
    if isinstance(spec, dict) and not _is_object(spec):
        per_output = {}
        for output, item in spec.items():
            if item is not None:  # an output compiled without a loss keeps none
                per_output[str(output)] = _one_loss(item, f" of output {output}", notes)
        return per_output or None
    return _one_loss(spec, "", notes)


def _one_loss(spec: Any, where: str, notes: list[str]) -> str | dict[str, Any]:
    """A loss name where one means the same, else Keras's serialized loss; "auto" (with a
    note) for custom code."""
    k = _keras()
    if isinstance(spec, str):
        if _known(k.losses.get, spec):
            return spec
        notes.append(f"The loss {spec!r}{where} is not one Keras knows: it is left to auto.")
        return "auto"
    if isinstance(spec, dict) and spec.get("class_name") == "function":
        name = spec.get("config")
        if isinstance(name, str) and _keras_function(k.losses.get, name):
            return name
    found = _class_and_config(spec, "keras.losses")
    loss_class = getattr(k.losses, found[0], None) if found else None
    if not (isinstance(loss_class, type) and issubclass(loss_class, k.losses.Loss)):
        notes.append(f"The loss {_what(spec)}{where} is custom code, which deepgui does not "
                     "run: it is left to auto.")  # fmt: skip
        return "auto"
    serialized = {"module": "keras.losses", "class_name": found[0],
                  "config": _json_ready(found[1]), "registered_name": None}  # fmt: skip
    return _loss_name(k, serialized) or serialized


def _loss_name(k, serialized: dict[str, Any]) -> str | None:
    """The name of the Keras loss function a loss object wraps, when the object has its
    class's default settings (a name cannot say from_logits=True or label_smoothing)."""
    try:
        loss = k.losses.deserialize(serialized)
        default = type(loss)()
    except Exception:  # noqa: BLE001 - no defaults to compare with: keep the object's form
        return None
    fn = getattr(loss, "fn", None)
    if _settings(loss) != _settings(default) or fn is None:
        return None
    return fn.__name__ if _keras_function(k.losses.get, fn.__name__) is fn else None


def _settings(obj) -> dict[str, Any]:
    return {key: v for key, v in obj.get_config().items() if key not in _LABELS}


def _known(get, name: str) -> bool:
    try:
        get(name)
    except (ValueError, TypeError):
        return False
    return True


def _keras_function(get, name: str):
    """Keras's own function of that name (a custom function saved by name is not one)."""
    try:
        fn = get(name)
    except (ValueError, TypeError):
        return None
    return fn if callable(fn) and getattr(fn, "__module__", "").startswith("keras") else None


def _by_output(values: list | tuple, outputs: list[str], what: str, notes: list[str]):
    if len(values) == len(outputs):
        return dict(zip(outputs, values, strict=True))
    notes.append(f"The {what} is given as a list of {len(values)}, one per output, but the "
                 f"model's {len(outputs) or 'unknown'} outputs do not match it: it is left out.")  # fmt: skip
    return None


def _loss_weights_setting(spec: Any, outputs: list[str], notes: list[str]) -> Any:
    if spec is None:
        return None
    if isinstance(spec, list | tuple):
        spec = _by_output(spec, outputs, "loss_weights", notes)
    if not isinstance(spec, dict):
        if spec is not None:
            notes.append(f"The loss weights {spec!r} are not one weight per output name: "
                         "they are left out.")  # fmt: skip
        return None
    weights = {}
    for output, weight in spec.items():
        if isinstance(weight, int | float) and math.isfinite(weight) and weight >= 0:
            weights[str(output)] = float(weight)
        else:
            notes.append(f"The loss weight {weight!r} of output {output} is not a number of "
                         "at least 0: it is left out.")  # fmt: skip
    return weights or None


# --- metrics
def _metrics_setting(spec: Any, outputs: list[str], notes: list[str]) -> Any:
    if spec is None:
        return None  # compiled without metrics: deepgui picks them (auto)
    if isinstance(spec, dict) and not _is_object(spec):
        return {str(out): _metric_names(items, out, notes) for out, items in spec.items()}
    if (
        isinstance(spec, list | tuple)
        and spec
        and all(isinstance(x, list | tuple) or x is None for x in spec)
    ):  # one list per output
        if len(spec) == 1 and len(outputs) <= 1:
            return _metric_names(spec[0], None, notes)
        named = _by_output(spec, outputs, "metrics", notes)
        if named is None:
            return None
        return {out: _metric_names(items, out, notes) for out, items in named.items()}
    return _metric_names(spec, None, notes)


def _metric_names(items: Any, output: str | None, notes: list[str]) -> list[str]:
    if items is None:
        return []
    if isinstance(items, str | dict):  # one metric, not a list of them
        items = [items]
    where = f" of output {output}" if output else ""
    names = []
    for item in items:
        name = _metric_name(item, where, notes)
        if name is not None and name not in names:
            names.append(name)
    return names


def _metric_name(spec: Any, where: str, notes: list[str]) -> str | None:
    """The name that compiles to the same metric; None (with a note) where none does."""
    k = _keras()
    if isinstance(spec, str):
        if spec in ("accuracy", "acc") or _known(k.metrics.get, spec):
            return spec
        notes.append(f"The metric {spec!r}{where} is not one Keras knows: it is left out.")
        return None
    if isinstance(spec, dict) and spec.get("class_name") == "function":
        name = spec.get("config")
        if isinstance(name, str) and _known(k.metrics.get, name):
            return name
    found = _class_and_config(spec, "keras.metrics")
    metric_class = getattr(k.metrics, found[0], None) if found else None
    if not (isinstance(metric_class, type) and issubclass(metric_class, k.metrics.Metric)):
        notes.append(f"The metric {_what(spec)}{where} is custom code, which deepgui does not "
                     "run: it is left out.")  # fmt: skip
        return None
    try:
        metric = k.metrics.deserialize(spec)
        default = metric_class()
    except Exception:  # noqa: BLE001 - Keras cannot rebuild it: say so below
        metric = default = None
    if metric is not None and _settings(metric) == _settings(default):
        name = default.name
        if isinstance(_try(k.metrics.get, name), metric_class):
            return name
    changed = _changed_settings(spec["config"], default)
    notes.append(f"The metric {found[0]}{changed}{where} has settings a metric name cannot "
                 "hold: it is left out.")  # fmt: skip
    return None


def _changed_settings(config: dict[str, Any], default) -> str:
    if default is None:
        return ""
    base = _settings(default)
    changed = [f"{k}={v!r}" for k, v in config.items() if k not in _LABELS and base.get(k) != v]
    return f" ({', '.join(changed)})" if changed else ""


def _try(get, name: str):
    try:
        return get(name)
    except (ValueError, TypeError):
        return None


# --- the rest
def _note_other_settings(compile_config: dict[str, Any], notes: list[str]) -> None:
    if compile_config.get("weighted_metrics"):
        notes.append("The weighted metrics are not kept: deepgui does not weight metrics.")
    if compile_config.get("run_eagerly"):
        notes.append("run_eagerly (a debugging setting) is not kept: deepgui trains compiled.")
    steps = compile_config.get("steps_per_execution")
    if isinstance(steps, int) and steps > 1:
        notes.append(f"steps_per_execution={steps} is not kept: deepgui runs one step at a time.")


def _keep_what_parses(training: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Every key of the result must pass the project's own validation: one that does not
    (a learning rate over 10, a schedule this Keras cannot build) is left out, with a note."""
    for _ in range(len(training) + 1):
        try:
            TrainingConfig.from_dict(training)
            return training
        except TrainingError as exc:
            key = str(exc).split(" ", 1)[0].split(".")[1]
            if key not in training:
                raise
            del training[key]
            notes.append(f"{str(exc).rstrip('.')}, so it is left at deepgui's default.")
    return training


# ----------------------------------------------------------------------------- dict -> model
def compile_kwargs(
    cfg: TrainingConfig,
    data=None,
    steps_per_epoch: int | None = None,
    output_units: int | None = None,
) -> dict[str, Any]:
    """The arguments of ``model.compile`` for these settings: the optimizer (schedule and
    options included), loss, metrics and loss weights. "auto" is resolved from `data`; with
    no data an "auto" loss or metrics (and a per-output "auto") are left out."""
    if steps_per_epoch is None:
        steps_per_epoch = math.ceil(data.num_train / cfg.batch_size) if data is not None else 1
    out: dict[str, Any] = {"optimizer": make_optimizer(cfg, steps_per_epoch)}
    loss = cfg.resolved_loss(data, output_units) if data is not None else cfg.loss
    loss = _without_auto(loss)
    if loss is not None:
        out["loss"] = compile_loss(loss)
    metrics = cfg.resolved_metrics(data, output_units) if data is not None else cfg.metrics
    metrics = _without_auto(metrics)
    if metrics is not None:
        out["metrics"] = metrics
    if cfg.loss_weights:
        out["loss_weights"] = dict(cfg.loss_weights)
    return out


def _without_auto(value: Any) -> Any:
    """None for "auto"; a per-output dict without its "auto" outputs (None when none is left)."""
    if isinstance(value, dict) and not is_serialized(value):
        kept = {k: v for k, v in value.items() if v != "auto"}
        return kept or None
    return None if value == "auto" else value


def compile_for_export(
    model, training: dict[str, Any], data=None, steps_per_epoch: int | None = None
) -> list[str]:
    """Compile `model` with the project's training settings, so that ``model.save()`` writes
    them into the file and ``keras.saving.load_model(path)`` gives back the project's
    optimizer (class, learning rate or schedule, options), loss, metrics and loss weights.
    Without `data`, an "auto" loss or metrics keep what the model was compiled with before.
    A trained model's optimizer state (moments, step count) is carried over. Returns notes,
    one sentence each, on what could not be written. TrainingError for invalid settings."""
    cfg = TrainingConfig.from_dict(training)
    notes: list[str] = []
    kwargs = compile_kwargs(cfg, data, steps_per_epoch, _output_units(model))
    before = (model.get_compile_config() if hasattr(model, "get_compile_config") else None) or {}
    if "loss" not in kwargs and getattr(model, "loss", None) is not None:
        kwargs["loss"] = model.loss
    if "loss" not in kwargs:
        notes.append("training.loss is auto and no data was given to choose it: the exported "
                     "model keeps no loss.")  # fmt: skip
    if "metrics" not in kwargs and before.get("metrics"):
        kwargs["metrics"] = _live_metrics(before["metrics"])
    counts_epochs = cfg.schedule.kind in ("step", "exponential", "cosine")
    if data is None and steps_per_epoch is None and counts_epochs:
        notes.append(f"The {cfg.schedule.kind} schedule counts epochs, and without the data "
                     "the steps per epoch are unknown: the exported one takes one step as an "
                     "epoch.")  # fmt: skip
    previous = getattr(model, "optimizer", None)
    model.compile(**kwargs)
    _carry_optimizer_state(previous, model.optimizer, model.trainable_variables)
    return notes


def _output_units(model) -> int | None:
    outputs = list(getattr(model, "outputs", None) or [])
    if len(outputs) != 1 or not outputs[0].shape:
        return None
    return outputs[0].shape[-1]


def _live_metrics(spec: Any) -> Any:
    """A serialized metrics entry as ``model.compile`` takes it (it takes names and objects,
    not serialized dicts)."""
    if isinstance(spec, list | tuple):
        return [_live_metrics(item) for item in spec]
    if isinstance(spec, dict) and not is_serialized(spec):
        return {k: _live_metrics(v) for k, v in spec.items()}
    if is_serialized(spec):
        return _keras().metrics.deserialize(spec)
    if isinstance(spec, dict) and spec.get("class_name") == "function":
        return spec.get("config")
    return spec


def _carry_optimizer_state(previous, optimizer, variables) -> None:
    """model.compile makes a new optimizer. It is built, so that the file holds the variables
    load_model builds (else Keras warns that it skips them on every load); a trained model's
    moments and step count (which a schedule reads) are carried into it, as model.save kept
    them before. The learning rate is the project's, never carried."""
    optimizer.build(variables)
    if previous is None or not getattr(previous, "built", False):
        return
    if type(previous) is not type(optimizer):
        return  # another optimizer's moments mean something else
    new = {v.name: v for v in optimizer.variables if v.name != "learning_rate"}
    for old in previous.variables:
        target = new.get(old.name)
        if target is not None and tuple(target.shape) == tuple(old.shape):
            target.assign(old)
