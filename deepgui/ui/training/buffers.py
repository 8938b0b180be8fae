"""Growing NumPy buffers for live curves (Qt-free, so the plots' data can be tested alone).

Appending is amortised O(1): the arrays double when full, and a view of the filled part is what
a curve draws. The smoothed copy is an exponential moving average kept as points arrive, so the
redraw timer never recomputes it over the whole run.
"""

from __future__ import annotations

import math

import numpy as np


class Series:
    """x/y points appended one at a time; `x`, `y` and `smooth` are views of the filled part."""

    def __init__(self, capacity: int = 1024, smoothing: float = 0.0) -> None:
        self._x = np.empty(max(4, capacity), dtype=np.float64)
        self._y = np.empty_like(self._x)
        self._s = np.empty_like(self._x)
        self.n = 0
        self.smoothing = smoothing  # 0 = none, 0.99 = very smooth
        self._ema: float | None = None
        self._debias = 0.0
        self._lo = math.inf
        self._hi = -math.inf
        self.version = 0  # bumps on every change, so a redraw can skip unchanged series

    def __len__(self) -> int:
        return self.n

    def _grow(self) -> None:
        size = 2 * len(self._x)
        for name in ("_x", "_y", "_s"):
            old = getattr(self, name)
            new = np.empty(size, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(self, x: float, y: float) -> None:
        if self.n == len(self._x):
            self._grow()
        self._x[self.n] = x
        self._y[self.n] = y
        self._s[self.n] = self._smoothed(y)
        if math.isfinite(y):
            self._lo, self._hi = min(self._lo, y), max(self._hi, y)
        self.n += 1
        self.version += 1

    def _smoothed(self, y: float) -> float:
        a = self.smoothing
        if a <= 0.0 or not math.isfinite(y):
            return y
        # Debiased EMA (as TensorBoard draws it), so the first points are not pulled to zero.
        self._ema = y * (1 - a) if self._ema is None else self._ema * a + y * (1 - a)
        self._debias = self._debias * a + (1 - a)
        return self._ema / self._debias if self._debias else y

    def bounds(self) -> tuple[float | None, float | None]:
        """Smallest and largest finite y so far (kept as points arrive)."""
        return (self._lo, self._hi) if self._lo <= self._hi else (None, None)

    def clear(self) -> None:
        self._lo, self._hi = math.inf, -math.inf
        self.n = 0
        self._ema = None
        self._debias = 0.0
        self.version += 1

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.n]

    @property
    def smooth(self) -> np.ndarray:
        return self._s[: self.n]

    def last(self) -> tuple[float, float] | None:
        return (float(self._x[self.n - 1]), float(self._y[self.n - 1])) if self.n else None

    def nearest(self, x: float) -> tuple[float, float] | None:
        """The point whose x is closest to `x` (x is increasing)."""
        if not self.n:
            return None
        xs = self.x
        i = int(np.searchsorted(xs, x))
        if i >= self.n:
            i = self.n - 1
        elif i > 0 and abs(xs[i - 1] - x) <= abs(xs[i] - x):
            i -= 1
        return float(xs[i]), float(self._y[i])


class RateMeter:
    """Samples per second and ETA from batch timings, ignoring paused time."""

    def __init__(self) -> None:
        self.samples = 0
        self.seconds = 0.0

    def add(self, samples: int, seconds: float) -> None:
        self.samples += samples
        self.seconds += max(0.0, seconds)

    @property
    def rate(self) -> float:
        return self.samples / self.seconds if self.seconds > 0 else 0.0

    def eta(self, samples_left: int) -> float | None:
        rate = self.rate
        return samples_left / rate if rate > 0 else None


def format_seconds(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
