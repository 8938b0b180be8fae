"""Frame time while panning and zooming a 300-layer graph, against an empty scene.

    .venv/bin/python benchmarks/bench_ui_canvas.py [--nodes 300] [--frames 120]

Each frame moves the view (a pan step, or a zoom step in or out) and repaints the viewport
synchronously; the time of that step and paint is one frame. Every node shows a full label
(type, name, key parameters, shape, parameter count), as after inference. Raster painting,
offscreen unless DISPLAY is set. Medians and 95th percentiles, and ratios to the empty scene.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")


def build_graph(n: int):
    """A long CNN-like chain with a residual branch every few layers, laid out top-down."""
    from deepgui.core.graph import Graph
    from deepgui.core.layout import auto_layout

    g = Graph()
    kinds = [("Conv2D", {"filters": 32, "kernel_size": [3, 3], "activation": "relu", "padding": "same"}),
             ("BatchNormalization", {}), ("Dropout", {"rate": 0.2}), ("Dense", {"units": 64, "activation": "relu"})]  # fmt: skip
    prev = g.add_node("InputLayer", {"shape": [32, 32, 3]}).id
    skip = prev
    for i in range(1, n):
        if i % 6 == 5:
            node = g.add_node("Add", {})
            g.connect(prev, node.id)
            g.connect(skip, node.id)
            skip = node.id
        else:
            cls, cfg = kinds[i % len(kinds)]
            node = g.add_node(cls, cfg)
            g.connect(prev, node.id)
        prev = node.id
    for nid, pos in auto_layout(g).items():
        g.move(nid, pos)
    return g


def fake_info(graph):
    from deepgui.core.shapes import NodeInfo

    return {
        nid: NodeInfo(output_shape=(None, 32, 32, 32), params=9248, trainable_params=9248)
        for nid in graph.nodes
    }


def measure(view, app, frames: int, step) -> list[float]:
    times = []
    for i in range(frames):
        t0 = time.perf_counter()
        step(i)
        view.viewport().repaint()
        app.processEvents()
        times.append(time.perf_counter() - t0)
    return times


def run_case(graph, frames: int) -> dict[str, list[float]]:
    from PySide6.QtWidgets import QApplication

    from deepgui.core.project import Project
    from deepgui.ui.canvas import CanvasScene, CanvasView
    from deepgui.ui.document import Document

    app = QApplication.instance()
    doc = Document(Project(graph=graph))
    doc.info = fake_info(graph)
    scene = CanvasScene(doc)
    view = CanvasView(scene)
    view.resize(1200, 800)
    view.show()
    app.processEvents()
    results = {}
    h, v = view.horizontalScrollBar(), view.verticalScrollBar()

    def pan(i: int) -> None:
        dy = 12 if (i // 40) % 2 == 0 else -12
        v.setValue(v.value() + dy)
        h.setValue(h.value() + (3 if i % 2 else -3))

    for label, zoom in (("pan at 100%", 1.0), ("pan at fit-all", None)):
        view.resetTransform()
        if zoom is None:
            view.fit_all()
        view.centerOn(
            scene.itemsBoundingRect().center() if graph.nodes else view.sceneRect().center()
        )
        measure(view, app, 10, pan)  # warm the item caches
        results[label] = measure(view, app, frames, pan)

    view.resetTransform()
    view.centerOn(scene.itemsBoundingRect().center() if graph.nodes else view.sceneRect().center())

    def zoom(i: int) -> None:
        factor = 1.1 if (i // 12) % 2 == 0 else 1 / 1.1  # in 12 steps (x3.1), out again
        view.zoom_by(factor)  # what the mouse wheel does

    measure(view, app, 24, zoom)
    results["zoom in/out"] = measure(view, app, frames, zoom)
    view.close()
    doc.shutdown()
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--frames", type=int, default=120)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from deepgui.core.graph import Graph

    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    empty = run_case(Graph(), args.frames)
    full = run_case(build_graph(args.nodes), args.frames)
    print(
        f"platform: {os.environ['QT_QPA_PLATFORM']}, viewport 1200x800, {args.nodes} layers, {args.frames} frames per case"
    )
    for case in full:
        e, f = empty[case], full[case]
        me, mf = statistics.median(e), statistics.median(f)
        p95 = sorted(f)[int(len(f) * 0.95) - 1]
        print(f"{case:16s} empty {me * 1000:6.2f} ms   {args.nodes} layers {mf * 1000:6.2f} ms (p95 {p95 * 1000:6.2f} ms, "
              f"{1 / mf:5.0f} fps)   x{mf / me:5.1f} of empty")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
