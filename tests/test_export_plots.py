"""The hand-written SVG of training curves: valid XML, one curve per metric, gaps at NaN."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from deepgui.core.errors import ExportError
from deepgui.core.export import export_plots
from deepgui.core.export.plots import nice_ticks

SVG = "{http://www.w3.org/2000/svg}"


def _parse(path):
    return ET.parse(path).getroot()


def test_losses_and_metrics_in_two_panels(tmp_path):
    history = {
        "epoch": [1, 2, 3, 4],
        "loss": [1.2, 0.8, 0.5, 0.4],
        "val_loss": [1.3, 0.9, 0.7, 0.75],
        "accuracy": [0.5, 0.7, 0.8, 0.85],
        "val_accuracy": [0.45, 0.6, 0.7, 0.72],
    }
    path = export_plots(history, tmp_path / "curves.svg")
    root = _parse(path)
    assert root.tag == f"{SVG}svg"
    assert int(root.get("height")) == 2 * 300  # a loss panel and a metrics panel
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 4
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"loss", "val_loss", "accuracy", "val_accuracy", "epoch", "metrics"} <= texts
    # validation curves are dashed, training curves solid
    dashed = [pl for pl in lines if pl.get("stroke-dasharray")]
    assert len(dashed) == 2
    # every point lies inside the drawing
    width = float(root.get("width"))
    for pl in lines:
        for point in pl.get("points").split():
            x, y = map(float, point.split(","))
            assert 0 <= x <= width and 0 <= y <= 600
    # the loss curve falls: its last point is drawn lower on the page than... higher y is lower
    loss = lines[0].get("points").split()
    assert float(loss[0].split(",")[1]) < float(loss[-1].split(",")[1])


def test_nan_epoch_leaves_a_gap(tmp_path):
    path = export_plots({"loss": [1.0, 0.5, math.nan, 0.3, 0.2]}, tmp_path / "gap.svg")
    root = _parse(path)
    assert int(root.get("height")) == 300
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert "nan" not in path.read_text().lower()


def test_single_epoch_is_a_dot(tmp_path):
    root = _parse(export_plots({"loss": [0.7]}, tmp_path / "one.svg"))
    assert len(root.findall(f"{SVG}circle")) == 1


def test_names_are_escaped(tmp_path):
    path = export_plots({"loss<&>": [1.0, 0.5]}, tmp_path / "esc.svg")
    assert "loss&lt;&amp;&gt;" in path.read_text()
    _parse(path)


def test_png_and_empty_history_are_refused(tmp_path):
    with pytest.raises(ExportError, match=r"name the file curves\.svg"):
        export_plots({"loss": [1.0]}, tmp_path / "curves.png")
    with pytest.raises(ExportError, match="no metric values"):
        export_plots({"epoch": [1, 2], "loss": []}, tmp_path / "empty.svg")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("lo", "hi"), [(0.0, 1.0), (0.123, 0.129), (-3.0, 250.0), (5.0, 5.0)])
def test_ticks_cover_the_range_in_round_steps(lo, hi):
    ticks = nice_ticks(lo, hi)
    assert ticks[0] <= lo and ticks[-1] >= hi
    assert 2 <= len(ticks) <= 12
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
