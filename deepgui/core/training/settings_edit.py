"""An edit of the training settings as the Configuration form makes it: the keys it changes
and their new values, `REMOVE` for a key it takes out (as `commands.SetFields` applies them).

The optimizer's further arguments are one "name=value, ..." line in the form: the fields of its
own that the project sets (sgd's momentum) and its optimizer_options. The line is only read
here; the core (config.py) checks the values against the optimizer's signature."""

from __future__ import annotations

import ast
from typing import Any

from deepgui.core.commands import REMOVE
from deepgui.core.training.config import OWN_FIELDS, dict_at

# What the options line edits: each optimizer's own top-level fields (sgd's momentum, adam's
# weight_decay) and optimizer_options; the core's sentences about any of them show beside it.
OPTION_FIELDS = ("optimizer_options", *sorted({k for keys in OWN_FIELDS.values() for k in keys}))
OPTIONS_EXAMPLE = "beta_1=0.8, clipnorm=1.0"


def applied(training: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`training` with the form's changes made (REMOVE takes a key out)."""
    return {k: v for k, v in {**training, **changes}.items() if v is not REMOVE}


def options_text(training: dict[str, Any], optimizer: str) -> str:
    """The optimizer's settings beyond its rate as one line: the fields of its own that the
    project sets (sgd's momentum, nesterov), then its optimizer_options."""
    shown = {k: training[k] for k in OWN_FIELDS.get(optimizer, ()) if training.get(k) is not None}
    shown.update(dict_at(training, "optimizer_options"))
    return ", ".join(f"{k}={v!r}" for k, v in shown.items())


def option_fields(text: str, optimizer: str) -> dict[str, Any]:
    """The options line as the fields it sets: the optimizer's own (REMOVE when not given: the
    core's default) and optimizer_options (REMOVE when none). ValueError as parse_options."""
    given = parse_options(text)
    own = {k: given.pop(k, REMOVE) for k in OWN_FIELDS.get(optimizer, ())}
    return {**own, "optimizer_options": given or REMOVE}


def parse_options(text: str) -> dict[str, Any]:
    """'beta_1=0.8, clipnorm=1.0' -> {"beta_1": 0.8, "clipnorm": 1.0}; ValueError, one sentence,
    for a part that is not name=value. The values are only read here: the core checks them
    against the optimizer's signature."""
    out = {}
    for part in _top_level_parts(text):
        name, equals, value = (s.strip() for s in part.partition("="))
        if not (equals and name.isidentifier() and value):
            raise ValueError(f"Write each option as name=value, separated by commas (e.g. "
                             f"{OPTIONS_EXAMPLE}), not {part.strip()!r}.")  # fmt: skip
        out[name] = _option_value(value)
    return out


def _top_level_parts(text: str) -> list[str]:
    """`text` cut at the commas outside brackets and quotes (a list value keeps its commas)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _option_value(text: str) -> Any:
    """A Python literal (0.8, True, None, [0.9, 0.99], 'sum'), JSON's true/false/null, or
    else the word itself as text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    return {"true": True, "false": False, "null": None, "none": None}.get(text.lower(), text)
