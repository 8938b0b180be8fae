"""Training settings that no field of the Configuration form edits, in a few words for it to
show: a Keras loss object or schedule imported with a model, settings per output, a weight per
class. Values are written as Python writes them (0.8, True, 'sum'), as Keras's docs and a
script do."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from deepgui.core import keras_layers
from deepgui.core.training.config import is_serialized, schedule_arguments

_NOT_SETTINGS = ("name", "dtype")  # labels of a Keras object, not how it behaves


def loss_object_text(loss: dict[str, Any]) -> str:
    """A Keras loss object in a few words: its class and the settings that differ from the
    class's defaults ('SparseCategoricalCrossentropy, from_logits=True')."""
    name = str(loss["class_name"])
    defaults = _loss_defaults(name)
    changed = [f"{k}={v!r}" for k, v in loss["config"].items()
               if k not in _NOT_SETTINGS and (k not in defaults or defaults[k] != v)]  # fmt: skip
    return ", ".join([name, *changed])


@functools.cache
def _loss_defaults(class_name: str) -> dict[str, Any]:
    """The config of Keras's loss class `class_name` built with its defaults; {} when this Keras
    cannot build it (every setting is then shown)."""
    try:
        return getattr(keras_layers.keras().losses, class_name)().get_config()
    except Exception:  # noqa: BLE001 - a class this Keras lacks: nothing to compare with
        return {}


def schedule_text(schedule: dict[str, Any]) -> str:
    """A Keras schedule as its class and its arguments, those at their defaults left out:
    'ExponentialDecay(initial_learning_rate=0.01, decay_steps=1000, decay_rate=0.9)'."""
    name = str(schedule["class_name"])
    defaults = schedule_arguments(name) or {}
    shown = [f"{k}={v!r}" for k, v in schedule["config"].items()
             if k not in _NOT_SETTINGS and defaults.get(k, inspect.Parameter.empty) != v]  # fmt: skip
    return f"{name}({', '.join(shown)})"


def per_output_text(setting: dict[str, Any]) -> str:
    """Settings per output in a few words: 'per output: kind auto; price mae, mse'."""
    return "per output: " + "; ".join(f"{name} {_setting_text(v)}" for name, v in setting.items())


def _setting_text(value: Any) -> str:
    if is_serialized(value):
        return loss_object_text(value)
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def weights_text(weights: dict[str, float]) -> str:
    """A weight per class in a few words: 'cat 2, dog 1'."""
    return ", ".join(f"{name} {weight:g}" for name, weight in weights.items())
