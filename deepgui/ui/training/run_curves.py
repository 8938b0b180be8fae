"""The curves of several runs in one plot, each run in its own colour: what the Runs tab
overlays for the runs selected, and the comparison of two runs for its pair."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg

from deepgui.core.training.rundir import read_history
from deepgui.ui.training.plots import color


def draw_runs(plot: pg.PlotWidget, runs: list[tuple[str, Path]], key: str) -> int:
    """Draw metric `key` of each run (its legend name, its folder) in its own colour, in
    place of what `plot` showed; returns how many curves were drawn (a run without that
    metric in its history draws none). The Runs tab and the comparison of two runs share it."""
    plot.clear()
    drawn = 0
    for i, (name, path) in enumerate(runs):
        rows = read_history(path)
        pts = [(r["epoch"], r[key]) for r in rows if key in r]
        if not pts:
            continue
        xs, ys = zip(*pts, strict=True)
        pen = pg.mkPen(color(i), width=2)
        plot.plot(list(xs), list(ys), pen=pen, symbol="o", symbolSize=5,
                  symbolBrush=pen.color(), name=name)  # fmt: skip
        drawn += 1
    plot.setLabel("left", key)
    return drawn
