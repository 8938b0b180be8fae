"""Training curves as a self-contained SVG: one panel for the losses, one for the other metrics,
each with axes, ticks and a legend. Written by hand so the core needs no plotting library."""

from __future__ import annotations

import math
import os
from html import escape
from pathlib import Path

from deepgui.core.errors import ExportError
from deepgui.core.project import atomic_write_text

WIDTH, PANEL_HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 34, 40
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def export_plots(history: dict[str, list[float]], path: str | os.PathLike) -> Path:
    """Write the curves of `history` (metric name -> one value per epoch) as SVG to `path`."""
    path = Path(path)
    if path.suffix.lower() != ".svg":
        raise ExportError(
            f"{path}: plots are written as SVG here; name the file {path.with_suffix('.svg').name}."
        )
    series = {k: [float(v) for v in vs] for k, vs in history.items() if k != "epoch" and vs}
    if not series:
        raise ExportError("The history has no metric values to plot: train the model first.")
    panels = [sorted(k for k in series if "loss" in k)]
    panels.append(sorted(k for k in series if "loss" not in k))
    panels = [p for p in panels if p]
    height = PANEL_HEIGHT * len(panels)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
    ]
    for i, names in enumerate(panels):
        title = "loss" if "loss" in names[0] else "metrics"
        parts += _panel({n: series[n] for n in names}, i * PANEL_HEIGHT, title)
    parts.append("</svg>")
    try:
        atomic_write_text(path, "\n".join(parts) + "\n")
    except OSError as exc:
        raise ExportError(f"{path}: cannot be written ({exc.strerror or exc}).") from None
    return path


def _panel(series: dict[str, list[float]], y0: float, title: str) -> list[str]:
    x_left, x_right = LEFT, WIDTH - RIGHT
    y_top, y_bottom = y0 + TOP, y0 + PANEL_HEIGHT - BOTTOM
    epochs = max(len(v) for v in series.values())
    finite = [v for vs in series.values() for v in vs if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    y_ticks = nice_ticks(lo, hi)
    lo, hi = min(lo, y_ticks[0]), max(hi, y_ticks[-1])
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    x_ticks = [t for t in nice_ticks(1, max(epochs, 2)) if 1 <= t <= max(epochs, 2) and t == int(t)]

    def sx(epoch: float) -> float:
        return x_left + (epoch - 1) / max(epochs - 1, 1) * (x_right - x_left)

    def sy(value: float) -> float:
        return y_bottom - (value - lo) / (hi - lo) * (y_bottom - y_top)

    out = [
        f'<text x="{x_left}" y="{y0 + 20}" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{x_left}" y="{y_top}" width="{x_right - x_left}" height="{y_bottom - y_top}" '
        'fill="none" stroke="#444"/>',
    ]
    for t in y_ticks:
        y = sy(t)
        out.append(f'<line x1="{x_left}" y1="{y:.1f}" x2="{x_right}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x_left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for t in x_ticks:
        x = sx(t)
        out.append(
            f'<line x1="{x:.1f}" y1="{y_bottom}" x2="{x:.1f}" y2="{y_bottom + 4}" stroke="#444"/>'
        )
        out.append(f'<text x="{x:.1f}" y="{y_bottom + 16}" text-anchor="middle">{_fmt(t)}</text>')
    out.append(
        f'<text x="{(x_left + x_right) / 2}" y="{y_bottom + 32}" text-anchor="middle">epoch</text>'
    )
    # A validation curve shares its training curve's colour, dashed, so pairs read together.
    bases = list(dict.fromkeys(n.removeprefix("val_") for n in series))
    for i, (name, values) in enumerate(series.items()):
        colour = COLOURS[bases.index(name.removeprefix("val_")) % len(COLOURS)]
        dash = ' stroke-dasharray="5,3"' if name.startswith("val_") else ""
        for run in _finite_runs(values):
            points = " ".join(f"{sx(e + 1):.1f},{sy(v):.1f}" for e, v in run)
            if len(run) == 1:
                ((e, v),) = run
                out.append(
                    f'<circle cx="{sx(e + 1):.1f}" cy="{sy(v):.1f}" r="2.5" fill="{colour}"/>'
                )
            else:
                out.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" '
                    f'stroke-width="1.8"{dash}/>'
                )
        ly = y_top + 8 + 16 * i
        out.append(
            f'<line x1="{x_right + 12}" y1="{ly}" x2="{x_right + 34}" y2="{ly}" '
            f'stroke="{colour}" stroke-width="1.8"{dash}/>'
        )
        out.append(f'<text x="{x_right + 40}" y="{ly + 4}">{escape(name)}</text>')
    return out


def _finite_runs(values: list[float]) -> list[list[tuple[int, float]]]:
    """Split a curve at NaN/inf so a diverged epoch leaves a gap instead of a spike."""
    runs: list[list[tuple[int, float]]] = [[]]
    for epoch, value in enumerate(values):
        if math.isfinite(value):
            runs[-1].append((epoch, value))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    raw = (hi - lo) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step + 1e-9) * step
    count = math.ceil((hi - start) / step - 1e-9)
    ticks = [round(start + i * step, 12) for i in range(min(count, 49) + 1)]
    return ticks


def _fmt(value: float) -> str:
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"
