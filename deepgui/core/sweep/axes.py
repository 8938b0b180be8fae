"""The axes of a sweep's parallel-coordinates plot: where a value sits on its parameter's
axis (0 at the bottom, 1 at the top) and what the axis is labelled with.

An axis spans what the sweep may propose, not only what it has tried so far, so that a line
keeps its place as trials come in: a range from its low to its high end (log-scaled when its
mark is `:log`), choices evenly in the order they were given. The objective's axis spans the
values the trials reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from deepgui.core.sweep.space import Dimension, format_value


@dataclass(frozen=True)
class Axis:
    name: str  # what the plot names it: the NAME, with "(log)" on a log scale
    ticks: tuple[tuple[float, str], ...]  # (position from 0 to 1, its label), bottom first
    kind: str = "range"  # "range", "choice" or "objective"
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()

    def position(self, value: Any) -> float | None:
        """Where `value` sits on the axis, 0 to 1; None: not on it (a choice it does not
        offer, a value that is no number). Values past a range's ends sit at its ends."""
        if self.kind == "choice":
            for i, choice in enumerate(self.choices):
                if choice == value and type(choice) is type(value) or str(choice) == str(value):
                    return _even(i, len(self.choices))
            return None
        if not _number(value):
            return None
        value = float(value)
        if self.log:
            if value <= 0:
                return 0.0
            lo, hi, value = math.log10(self.low), math.log10(self.high), math.log10(value)
        else:
            lo, hi = self.low, self.high
        if hi == lo:
            return 0.5
        return min(1.0, max(0.0, (value - lo) / (hi - lo)))


def parameter_axis(dim: Dimension) -> Axis:
    """A parameter's axis: its choices, or its range's ends (and, on a log scale, the powers
    of ten between them, which show the scale)."""
    if dim.kind == "choice":
        n = len(dim.choices)
        ticks = tuple((_even(i, n), format_value(c)) for i, c in enumerate(dim.choices))
        return Axis(dim.name, ticks, "choice", choices=tuple(dim.choices))
    low, high = float(dim.low), float(dim.high)
    log = bool(dim.log) and low > 0
    axis = Axis(f"{dim.name} (log)" if log else dim.name, (), "range", low, high, log)
    ends = [(low, format_value(dim.low)), (high, format_value(dim.high))]
    between = []
    if log:
        first, last = math.ceil(math.log10(low)), math.floor(math.log10(high))
        between = [(10.0**k, format_value(10.0**k)) for k in range(first, last + 1)
                   if low < 10.0**k < high]  # fmt: skip
    ticks = sorted({axis.position(v): text for v, text in [ends[0], *between, ends[1]]}.items())
    return Axis(axis.name, tuple(ticks), "range", low, high, log)


def objective_axis(name: str, values: list[float]) -> Axis:
    """The objective's axis, from the lowest to the highest value the trials reached (none
    reached: no ticks)."""
    reached = [float(v) for v in values if _number(v)]
    if not reached:
        return Axis(name, (), "objective")
    low, high = min(reached), max(reached)
    if low == high:
        return Axis(name, ((0.5, format_value(low)),), "objective", low, high)
    return Axis(name, ((0.0, format_value(low)), (1.0, format_value(high))), "objective", low,
                high)  # fmt: skip


def _even(i: int, n: int) -> float:
    return 0.5 if n <= 1 else i / (n - 1)


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)
