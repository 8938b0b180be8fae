"""What a sweep varies: one `Dimension` per `NAME=SPEC`.

NAME is `LAYER.PARAM` (the layer's name on the canvas and its Keras config key, `hidden.units`)
or `training.FIELD` (`training.learning_rate`). SPEC is choices, `a,b,c`, or a range, `LO..HI`,
of whole numbers or of numbers, with `:log` for a log scale (`1e-4..1e-1:log`).

Each is checked against the project before any trial runs, by the project's own rules (the
layer catalogue's, the training settings'), and a bad one is one sentence naming it, a
DeepGuiError whose setting is "vary".
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from deepgui.core import catalogue
from deepgui.core.errors import DeepGuiError, TrainingError
from deepgui.core.training.config import TrainingConfig

VARY = "vary"  # the setting a bad NAME=SPEC is about (the command line's --vary)
TRAINING = "training"
_INT_KINDS = ("int", "optional_int", "ints", "optional_ints")
_FLOAT_KINDS = ("float", "optional_float")
# Training settings a trial cannot take: trials run on this machine, one run each.
_FIXED_FIELDS = {
    "ranks": "trials run on this machine",
    "coordinator": "trials run on this machine",
}
_WHOLE = re.compile(r"[+-]?\d+")
EXAMPLE = "hidden.units=8..64 or training.learning_rate=1e-4..1e-1:log"


@dataclass(frozen=True)
class Dimension:
    """One thing a sweep varies: choices, or an int or float range (log or linear)."""

    name: str  # LAYER.PARAM or training.FIELD
    kind: str  # "choice", "int" or "float"
    choices: tuple[Any, ...] = ()
    low: float = 0
    high: float = 0
    log: bool = False
    spec: str = ""  # as written after the "="

    @property
    def owner(self) -> str:
        """The layer's name, or "training"."""
        return self.name.split(".", 1)[0]

    @property
    def key(self) -> str:
        """The layer's config key or the training field."""
        return self.name.split(".", 1)[1]

    @property
    def is_training(self) -> bool:
        return self.owner == TRAINING

    @property
    def text(self) -> str:
        return f"{self.name}={self.spec}"

    # KerasTuner's Choice takes values of one type: numbers mixed with words are offered to
    # it as words, and turned back here.
    def tuner_choices(self) -> list[Any]:
        values = list(self.choices)
        if all(isinstance(v, bool) for v in values) or all(isinstance(v, str) for v in values):
            return values
        if all(_is_number(v) for v in values):
            if all(isinstance(v, int) for v in values):
                return values
            return [float(v) for v in values]
        return [_word(v) for v in values]

    def value_of(self, tuned: Any) -> Any:
        """The project's value for what the oracle proposed."""
        if self.kind == "int":
            return int(tuned)
        if self.kind == "float":
            return float(tuned)
        for value in self.choices:
            if value == tuned and type(value) is type(tuned) or _word(value) == tuned:
                return value
        return tuned


def format_value(value: Any) -> str:
    """A value as a person reads it in a table: 0.001234, 64, relu."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def parse(text: str) -> tuple[str, str]:
    """(NAME, SPEC) of `NAME=SPEC`, its form checked (not yet against a project)."""
    name, sep, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not sep or not name or not spec:
        raise DeepGuiError(f"{text!r} is not NAME=SPEC, such as {EXAMPLE}.", setting=VARY)
    owner, dot, key = name.partition(".")
    if not dot or not owner or not key:
        raise DeepGuiError(
            f"{name!r} must name LAYER.PARAM (hidden.units) or training.FIELD "
            "(training.learning_rate).",
            setting=VARY,
        )
    return name, spec


def dimensions(project, texts: Iterable[str]) -> list[Dimension]:
    """Every `NAME=SPEC`, checked against the project; a NAME given twice is refused."""
    dims: list[Dimension] = []
    for text in texts:
        dim = dimension(project, text)
        if any(d.name == dim.name for d in dims):
            raise DeepGuiError(f"{dim.name} is varied twice; give it once.", setting=VARY)
        dims.append(dim)
    return dims


def dimension(project, text: str) -> Dimension:
    """One `NAME=SPEC` checked against the project: the layer and its parameter, or the
    training field, exist; a range is on a number; every value is one the project takes."""
    name, spec = parse(text)
    number, check = _target(project, name)
    body, log = _scale(name, spec)
    if ".." in body:
        dim = _range(name, spec, body, log, number)
        for bound in (dim.low, dim.high):
            _refuse(check(int(bound) if dim.kind == "int" else bound))
        return dim
    if log:
        raise DeepGuiError(
            f"{name}: :log belongs to a range (LO..HI:log), not to choices.", setting=VARY
        )
    items = [item.strip() for item in body.split(",")]
    if not all(items):
        raise DeepGuiError(f"{name}: {spec!r} has an empty choice.", setting=VARY)
    choices = tuple(dict.fromkeys(_value(item) for item in items))  # repeats once
    for value in choices:
        _refuse(check(value))
    return Dimension(name, "choice", choices=choices, spec=spec)


def kind_of(project, name: str) -> str | None:
    """NAME's number kind, "int" or "float", when it takes a range as well as choices; None
    when it takes choices only; DeepGuiError, one sentence, when the project has no such
    setting."""
    parse(f"{name}=_")
    return _target(project, name)[0]


def _refuse(problem: str | None) -> None:
    if problem:
        raise DeepGuiError(problem, setting=VARY)


def _scale(name: str, spec: str) -> tuple[str, bool]:
    body, colon, scale = spec.rpartition(":")
    if not colon:
        return spec, False
    if scale.strip() not in ("log", "linear"):
        raise DeepGuiError(
            f"{name}: {spec!r} may end in :log (a log scale), not :{scale.strip()}.",
            setting=VARY,
        )
    return body.strip(), scale.strip() == "log"


def _range(name: str, spec: str, body: str, log: bool, number: str | None) -> Dimension:
    low_text, _, high_text = body.partition("..")
    if number is None:
        raise DeepGuiError(
            f"{name} is not a number, so it takes choices (a,b,c), not a range.", setting=VARY
        )
    bounds = [_number(t.strip()) for t in (low_text, high_text)]
    if any(b is None for b in bounds):
        raise DeepGuiError(
            f"{name}: {spec!r} is not a range of two numbers, LO..HI (such as 8..64).",
            setting=VARY,
        )
    low, high = bounds
    whole = all(isinstance(b, int) for b in bounds)
    if number == "int" and not whole:
        raise DeepGuiError(
            f"{name} is a whole number, so its range needs whole bounds, not {body}.",
            setting=VARY,
        )
    if not low < high:
        raise DeepGuiError(
            f"{name}: a range goes from low to high, and {body} does not.", setting=VARY
        )
    if log and low <= 0:
        raise DeepGuiError(f"{name}: a log scale needs a range above 0, not {body}.", setting=VARY)
    kind = "int" if number == "int" else "float"
    if kind == "float":
        low, high = float(low), float(high)
    return Dimension(name, kind, low=low, high=high, log=log, spec=spec)


def _number(text: str) -> int | float | None:
    if _WHOLE.fullmatch(text):
        return int(text)
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _value(text: str) -> Any:
    """A choice as written: a whole number, a number, true or false, or a word."""
    number = _number(text)
    if number is not None:
        return number
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _word(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


# ----------------------------------------------------------------------------- targets
Check = Callable[[Any], "str | None"]


def _target(project, name: str) -> tuple[str | None, Check]:
    """("int", "float" or None: not a number) and the check of one value, for NAME."""
    owner, _, key = name.partition(".")
    if owner == TRAINING:
        return _training_target(project, key)
    return _layer_target(project, owner, key)


def _layer_target(project, layer: str, key: str) -> tuple[str | None, Check]:
    node = project.graph.node_by_name(layer)
    if node is None:
        names = [n.name for n in project.graph]
        raise DeepGuiError(
            f"There is no layer named {layer!r}{_did_you_mean(layer, [*names, TRAINING])}.",
            setting=VARY,
        )
    if key == "name":
        raise DeepGuiError(f"{layer}.name cannot vary: a layer's name is not a setting.",
                           setting=VARY)  # fmt: skip
    spec = catalogue.get(node.class_name)
    param = spec.param(key) if spec else None
    if param is None and key not in node.config:
        known = [p.name for p in spec.params] if spec else list(node.config)
        raise DeepGuiError(
            f"Layer {layer} ({node.class_name}) has no parameter {key!r}"
            f"{_did_you_mean(key, known)}.",
            setting=VARY,
        )
    if param is not None:
        number = "int" if param.kind in _INT_KINDS else None
        number = "float" if param.kind in _FLOAT_KINDS else number
        return number, lambda value: catalogue.check_param(layer, param, value)
    current = node.config[key]
    number = "int" if isinstance(current, int) else "float" if _is_number(current) else None
    return (None if isinstance(current, bool) else number), lambda value: None


def _training_target(project, key: str) -> tuple[str | None, Check]:
    kinds = _training_kinds()
    if key not in kinds:
        raise DeepGuiError(
            f"There is no training setting {key!r}{_did_you_mean(key, list(kinds))}.",
            setting=VARY,
        )
    if key in _FIXED_FIELDS:
        raise DeepGuiError(f"training.{key} cannot vary: {_FIXED_FIELDS[key]}.", setting=VARY)
    kind = kinds[key]
    if kind is None:
        raise DeepGuiError(
            f"training.{key} is a group of settings, not one value to vary.", setting=VARY
        )

    def check(value: Any) -> str | None:
        try:
            TrainingConfig.from_dict({**project.training, key: value})
        except TrainingError as exc:
            return str(exc)
        return None

    return (kind if kind in ("int", "float") else None), check


def _training_kinds() -> dict[str, str | None]:
    """Each training field: "int", "float", "bool" or "str" (one value), None (a group)."""
    kinds = {}
    for f in dataclasses.fields(TrainingConfig):
        first = str(f.type).split("|")[0].strip()
        kinds[f.name] = first if first in ("int", "float", "bool", "str") else None
    return kinds


def _did_you_mean(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    if close:
        return f" (did you mean {close[0]}?)"
    if 0 < len(known) <= 8:
        return f" (one of {', '.join(known)})"
    return ""
