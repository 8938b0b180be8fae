"""Loading, checking and shape inference of generated projects of 1,000, 10,000 and 100,000
layers (aim: 100,000 layers loaded and inferred in under 5 s), and how the time grows.

Each project is a chain of residual blocks (Dense, BatchNormalization/Dropout/LayerNormalization,
Dense, Add over a 64-wide vector) written as a project file would hold it, without layer names
(the path that once numbered each default name against every other layer: quadratic). Timed,
median of the repeats:
  load:    the file's text -> load_project's parse_json + project_from_dict (validation, Graph)
  infer:   ShapeInference.update() on the loaded graph (Keras asked once per distinct layer)
  summary: summary_rows, the table `deepgui summary` prints
Baseline, in the same process: the least any loader does with the same text in plain Python:
json.loads, a dict of nodes by id, the edges indexed per node, and a topological order.
Printed: each time, deepgui/baseline, the growth exponent from the size before (1.0 is
linear, 2.0 quadratic), and the CPU seconds of load + infer (wall time on a busy machine
includes waiting for a core; CPU time does not).

    .venv/bin/python benchmarks/bench_large_graph.py [--sizes 1000,10000,100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections import deque
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepgui.core.project import parse_json, project_from_dict  # noqa: E402
from deepgui.core.shapes import ShapeInference, summary_rows  # noqa: E402

AIM_SECONDS = 5.0


def project_text(n_layers: int) -> str:
    """A valid project of `n_layers` layers: residual blocks over a 64-wide vector."""
    nodes: list[dict] = []
    edges: list[dict] = []

    def add(class_name: str, *sources: str, **config) -> str:
        node_id = f"n{len(nodes) + 1}"
        nodes.append({"id": node_id, "class_name": class_name, "config": config})
        edges.extend(
            {"source": s, "target": node_id, "target_port": port} for port, s in enumerate(sources)
        )
        return node_id

    middle = ("BatchNormalization", "Dropout", "LayerNormalization")
    x = add("InputLayer", shape=[64])
    while len(nodes) + 4 < n_layers:
        block_in = x
        x = add("Dense", x, units=64, activation="relu")
        norm = middle[len(nodes) % 3]
        x = add(norm, x, **({"rate": 0.1} if norm == "Dropout" else {}))
        x = add("Dense", x, units=64)
        x = add("Add", block_in, x)
    while len(nodes) < n_layers - 1:  # exactly n_layers
        x = add("Dense", x, units=64)
    add("Dense", x, units=10, activation="softmax")
    return json.dumps(
        {
            "format": "deepgui-project",
            "version": 1,
            "graph": {"nodes": nodes, "edges": edges},
            "layout": {"positions": {}},
            "dataset": {},
            "training": {},
        }
    )


def load_text(text: str):
    """What load_project does with a file's text."""
    return project_from_dict(parse_json(text, "project"), nesting_checked=True)


def plain_python(text: str) -> list[str]:
    """The baseline: the same text into nodes by id, edges per node and an order, no checks."""
    data = json.loads(text)
    nodes = {raw["id"]: raw for raw in data["graph"]["nodes"]}
    children: dict[str, list[str]] = {nid: [] for nid in nodes}
    indegree = dict.fromkeys(nodes, 0)
    for edge in data["graph"]["edges"]:
        children[edge["source"]].append(edge["target"])
        indegree[edge["target"]] += 1
    ready = deque(nid for nid, d in indegree.items() if d == 0)
    order = []
    while ready:
        nid = ready.popleft()
        order.append(nid)
        for child in children[nid]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return order


def median_seconds(fn, repeats: int) -> tuple[float, object, float]:
    """(median wall seconds, the last result, median CPU seconds)."""
    times, cpu, result = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), result, statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    import keras

    keras.Input(shape=(4,))  # import and warm TensorFlow outside the timings
    ShapeInference(load_text(project_text(20)).graph).update()

    print(
        f"{'layers':>7} {'load s':>7} {'infer s':>7} {'load+infer':>10} {'cpu s':>6} "
        f"{'summary s':>9} {'baseline s':>10} {'(l+i)/base':>10} {'growth':>6} {'Keras asked':>11}"
    )
    before: tuple[int, float] | None = None
    totals: dict[int, float] = {}
    for n in sizes:
        text = project_text(n)
        repeats = args.repeats if n <= 10_000 else max(1, args.repeats - 1)
        load, project, load_cpu = median_seconds(lambda t=text: load_text(t), repeats)
        graph = project.graph

        def infer(graph=graph):
            inference = ShapeInference(graph)
            inference.update()
            return inference

        infer_s, inference, infer_cpu = median_seconds(infer, repeats)
        summary_s, _, _ = median_seconds(
            lambda g=graph, i=inference: summary_rows(g, i.info), repeats
        )
        base, _, _ = median_seconds(lambda t=text: plain_python(t), repeats)
        total = load + infer_s
        totals[n] = total
        growth = (
            f"{math.log(total / before[1]) / math.log(n / before[0]):6.2f}" if before else " " * 6
        )
        print(
            f"{len(graph):>7} {load:7.3f} {infer_s:7.3f} {total:10.3f} {load_cpu + infer_cpu:6.2f} "
            f"{summary_s:9.3f} {base:10.3f} {total / base:10.1f} {growth} "
            f"{inference.asked_keras:>11}"
        )
        before = (n, total)
    biggest = max(sizes)
    if biggest >= 100_000:
        met = "met" if totals[biggest] < AIM_SECONDS else "MISSED"
        print(
            f"{biggest:,} layers loaded and inferred in {totals[biggest]:.2f} s "
            f"(aim < {AIM_SECONDS:.0f} s: {met})"
        )
    smallest = min(sizes)
    if biggest > smallest:
        scaled = totals[smallest] * biggest / smallest
        print(
            f"{biggest:,} layers against {smallest:,} layers' time scaled linearly: "
            f"{totals[biggest] / scaled:.2f}x"
        )


if __name__ == "__main__":
    main()
