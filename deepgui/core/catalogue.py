"""The layer catalogue: every layer the palette offers, its category, description and typed
parameters with defaults and valid ranges.

Read from ``catalogue.json``, which `catalogue_gen` derives from Keras's own signatures and
docstrings, so the palette and inspector work before TensorFlow is imported.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from deepgui.core import backbones
from deepgui.core.catalogue_gen import CATALOGUE_PATH


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str  # int, float, bool, str, choice, ints, shape, regularizer, layer, optional_*
    default: Any
    required: bool = False
    description: str = ""
    choices: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    length: int | None = None


@dataclass(frozen=True)
class LayerSpec:
    class_name: str
    category: str
    description: str
    min_inputs: int
    max_inputs: int | None
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)
    summary_params: tuple[str, ...] = ()

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    def default_config(self) -> dict[str, Any]:
        """A config holding every catalogued parameter at its default (enough for from_config)."""
        return {p.name: copy.deepcopy(p.default) for p in self.params}


CATEGORY_ORDER = [
    "Input", "Core", "Convolution", "Pooling", "Recurrent", "Attention", "Normalization",
    "Regularization", "Reshaping", "Merging", "Preprocessing", "Augmentation", "Backbones",
]  # fmt: skip


def _backbone_specs() -> dict[str, LayerSpec]:
    """The Keras Applications families as palette blocks (backbones), beside the layers that
    catalogue.json derives from Keras: their options are deepgui's, not a layer signature."""
    defaults = backbones.default_config()
    params = (
        ParamSpec("weights", "str", defaults["weights"], description=(
            "imagenet (Keras's pretrained weights, cached after the first download), none, or "
            "the path of a .weights.h5 file")),
        ParamSpec("pooling", "choice", defaults["pooling"], choices=backbones.POOLING_CHOICES,
                  description="how the feature maps become one vector: avg, max, or none (keep the maps)"),
        ParamSpec("include_top", "bool", defaults["include_top"], description=(
            "keep ImageNet's 1000-class classifier (images at the size it was trained on)")),
        ParamSpec("trainable", "bool", defaults["trainable"], description=(
            "train the backbone's weights too (off: frozen, as transfer learning starts)")),
    )  # fmt: skip
    return {
        name: LayerSpec(
            class_name=name,
            category="Backbones",
            description=backbones.description(name),
            min_inputs=1,
            max_inputs=1,
            params=params,
            summary_params=("weights", "trainable"),
        )
        for name in backbones.FAMILIES
    }


@cache
def _load() -> dict[str, LayerSpec]:
    raw = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    specs: dict[str, LayerSpec] = {}
    for layer in raw["layers"]:
        params = tuple(
            ParamSpec(
                name=p["name"],
                kind=p["kind"],
                default=p.get("default"),
                required=p.get("required", False),
                description=p.get("description", ""),
                choices=tuple(p.get("choices", ())),
                min=p.get("min"),
                max=p.get("max"),
                length=p.get("length"),
            )
            for p in layer["params"]
        )
        specs[layer["class_name"]] = LayerSpec(
            class_name=layer["class_name"],
            category=layer["category"],
            description=layer["description"],
            min_inputs=layer["min_inputs"],
            max_inputs=layer["max_inputs"],
            params=params,
            summary_params=tuple(layer.get("summary_params", ())),
        )
    specs.update(_backbone_specs())
    return specs


def all_layers() -> list[LayerSpec]:
    return sorted(_load().values(), key=lambda s: (CATEGORY_ORDER.index(s.category), s.class_name))


def get(class_name: str) -> LayerSpec | None:
    """The spec of a catalogued layer, or None for layers only met in imported models."""
    return _load().get(class_name)


def _squeeze(text: str) -> str:
    """Lower case without separators, so `max_pooling2d` and `MaxPooling2D` compare equal."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _dimension_rank(class_name: str) -> int:
    # Among equally good matches the 2-D layer comes first: most models built here read
    # images, and `maxpool` should give MaxPooling2D before its 1-D and 3-D siblings.
    for rank, suffix in enumerate(("2D", "1D", "3D")):
        if suffix in class_name:
            return rank
    return 0


def match_rank(spec: LayerSpec, text: str) -> int | None:
    """How well `text` names this layer, 0 best: 0 the exact name, 1 a prefix of it, 2 part of
    it, 3 every word in the name, 4 every word in its name, category or description; None
    when it does not match. Case and separators do not count (`max_pooling2d`, `MaxPool`)."""
    words = text.lower().split()
    if not words:
        return 4
    query, name = _squeeze(text), _squeeze(spec.class_name)
    if query and name == query:
        return 0
    if query and name.startswith(query):
        return 1
    if query and query in name:
        return 2
    squeezed = [_squeeze(w) for w in words]
    if all(w in name for w in squeezed):
        return 3
    haystack = f"{spec.class_name} {spec.category} {spec.description}".lower()
    if all(w in haystack for w in words):
        return 4
    return None


def search(text: str) -> list[LayerSpec]:
    """Layers matching `text`, best first (Ctrl+K adds the first): an exact name wins, then a
    prefix, then part of a name, then a word match (see `match_rank`); ties go to the 2-D
    layer, then the shorter name, then palette order. Empty text: every layer, palette order."""
    ranked = []
    for order, spec in enumerate(all_layers()):
        rank = match_rank(spec, text)
        if rank is not None:
            key = (rank, _dimension_rank(spec.class_name), len(spec.class_name), order)
            ranked.append((key, spec))
    if not text.split():
        return [spec for _, spec in ranked]
    return [spec for _, spec in sorted(ranked, key=lambda pair: pair[0])]


# Layers outside the palette can still come in through import; these take several inputs.
_EXTRA_ARITY = {"Minimum": (2, None), "GroupQueryAttention": (2, 3)}


def input_arity(class_name: str) -> tuple[int, int | None]:
    spec = get(class_name)
    if spec:
        return spec.min_inputs, spec.max_inputs
    return _EXTRA_ARITY.get(class_name, (1, 1))


def _as_ints(value: Any) -> list[int] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return [value]
    if isinstance(value, list | tuple) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return list(value)
    return None


_NUMBER_KINDS = ("int", "optional_int", "float", "optional_float")


def check_param(layer_name: str, spec: ParamSpec, value: Any) -> str | None:
    """One sentence naming the layer and parameter when `value` is invalid, else None."""
    where = f"{layer_name}: {spec.name}"
    kind = spec.kind
    # Keras stores some single numbers as one-element lists (Conv1D strides, axis), and takes
    # some factors as a (low, high) pair (RandomRotation): check each number on its own.
    pair_ok = kind.endswith("float") and isinstance(value, list | tuple) and len(value) == 2
    if isinstance(value, list | tuple) and kind in _NUMBER_KINDS and (len(value) == 1 or pair_ok):
        for item in value:
            message = check_param(layer_name, spec, item)
            if message:
                return message
        return None
    if value is None:
        if kind.startswith("optional") or kind in ("regularizer",) or not spec.required:
            return None
        return f"{where} must be set."
    if kind in ("int", "optional_int"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{where} must be a whole number, not {value!r}."
    elif kind in ("float", "optional_float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{where} must be a number, not {value!r}."
    elif kind == "bool":
        if not isinstance(value, bool):
            return f"{where} must be true or false."
    elif kind == "choice":
        if spec.choices and value not in spec.choices and not isinstance(value, dict | list):
            options = ", ".join(repr(c) for c in spec.choices if c is not None)
            return f"{where} must be one of {options}, not {value!r}."
    elif kind in ("ints", "optional_ints", "shape"):
        ints = _as_ints(value)
        if ints is None:
            if kind == "ints" and isinstance(value, list | tuple):
                return None  # nested forms such as ((top, bottom), (left, right))
            return f"{where} must be whole numbers such as (3, 3), not {value!r}."
        if kind == "shape":
            if not ints or any(v == 0 or v < -1 for v in ints):
                return f"{where} must list positive sizes (or -1 for one inferred size), not {value!r}."
            return None
        if spec.length and len(ints) not in (1, spec.length):
            return f"{where} needs {spec.length} numbers, not {len(ints)}."
        value = min(ints) if ints else None
        if value is None:
            return None
    elif kind == "regularizer":
        return _check_regularizer(where, value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if spec.min is not None and value < spec.min:
            low = int(spec.min) if float(spec.min).is_integer() else spec.min
            if spec.max is not None:
                return f"{where} must be between {low} and {spec.max}, not {value}."
            return f"{where} must be at least {low}, not {value}."
        if spec.max is not None and value > spec.max:
            return f"{where} must be at most {spec.max}, not {value}."
    return None


def _check_regularizer(where: str, value: Any) -> str | None:
    if isinstance(value, str) and value in ("l1", "l2", "l1_l2"):
        return None
    if isinstance(value, dict) and value.get("class_name") in ("L1", "L2", "L1L2"):
        for factor, amount in (value.get("config") or {}).items():
            if not isinstance(amount, int | float) or amount < 0:
                return f"{where} {factor} must be a number of at least 0, not {amount!r}."
        return None
    return f"{where} must be None, L1, L2 or L1L2, not {value!r}."


def regularizer(kind: str | None, l1: float = 0.0, l2: float = 0.0) -> dict[str, Any] | None:
    """A regularizer in Keras's serialized form: ``regularizer("L2", l2=1e-4)``."""
    if kind is None:
        return None
    if kind == "L1":
        return {"class_name": "L1", "config": {"l1": float(l1)}}
    if kind == "L2":
        return {"class_name": "L2", "config": {"l2": float(l2)}}
    if kind == "L1L2":
        return {"class_name": "L1L2", "config": {"l1": float(l1), "l2": float(l2)}}
    raise ValueError(f"Unknown regularizer {kind!r}: choose L1, L2 or L1L2.")


def config_problems(layer_name: str, class_name: str, config: dict[str, Any]) -> list[str]:
    """Every invalid catalogued parameter of one layer, each as one sentence."""
    spec = get(class_name)
    if spec is None:
        return []
    problems = []
    for p in spec.params:
        if p.name in config:
            message = check_param(layer_name, p, config[p.name])
            if message:
                problems.append(message)
        elif p.required and p.default is None:
            problems.append(f"{layer_name}: {p.name} must be set.")
    if spec.category == "Backbones":
        problems += backbones.config_problems(layer_name, config)
    if class_name == "Bidirectional":
        inner = config.get("layer")
        inner_class = inner.get("class_name") if isinstance(inner, dict) else None
        if inner_class not in ("LSTM", "GRU", "SimpleRNN"):
            problems.append(f"{layer_name}: layer must wrap an LSTM, GRU or SimpleRNN.")
        else:
            problems += config_problems(layer_name, inner_class, inner.get("config") or {})
    return problems
