"""Shape inference and build for generated graphs of 50, 200 and 500 layers, and incremental
re-inference after one parameter change on the 500-layer graph (aim: under 50 ms).

Baseline, in the same process: a plain Keras script building the same functional model
layer by layer (what Keras itself costs to compute the same shapes and weights).

    .venv/bin/python benchmarks/bench_shapes.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepgui.core import catalogue  # noqa: E402
from deepgui.core.build import build_model  # noqa: E402
from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.shapes import ShapeInference  # noqa: E402


def generated_graph(n_layers: int, seed: int = 0) -> Graph:
    """Residual blocks of Dense/BatchNorm/Dropout/Add over a 64-wide vector, as a user might build."""
    rng = random.Random(seed)
    g = Graph()

    def add(cls, *after, **params):
        config = catalogue.get(cls).default_config()
        config.update(params)
        node = g.add_node(cls, config)
        for port, src in enumerate(after):
            g.connect(src.id, node.id, port)
        return node

    x = add("InputLayer", shape=[64])
    while len(g) < n_layers - 1:
        block_in = x
        x = add("Dense", x, units=64, activation="relu")
        x = add(rng.choice(["BatchNormalization", "Dropout", "LayerNormalization"]), x)
        x = add("Dense", x, units=64)
        x = add("Add", block_in, x)
    add("Dense", x, units=10, activation="softmax")
    return g


def plain_keras(g: Graph):
    """The same model written as a plain Keras script would write it (no deepgui in the loop)."""
    import keras

    tensors = {}
    for nid in g.topological_order():
        node = g.nodes[nid]
        if node.is_input:
            tensors[nid] = keras.Input(shape=tuple(node.config["shape"]), name=node.name)
            continue
        cfg = dict(node.config)
        layer = getattr(keras.layers, node.class_name)(**cfg)
        ins = [tensors[p] for p in g.predecessors(nid)]
        tensors[nid] = layer(ins if node.class_name == "Add" else ins[0])
    first = g.input_nodes()[0].id
    last = g.output_nodes()[0].id
    return keras.Model(tensors[first], tensors[last])


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    import keras

    keras.Input(shape=(4,))  # import and warm TensorFlow outside the timings
    ShapeInference(generated_graph(20)).update()
    print(
        f"{'layers':>6} {'infer ms':>9} {'build ms':>9} {'plain Keras ms':>15} {'infer/plain':>12}"
    )
    for n in (50, 200, 500):
        g = generated_graph(n)
        repeats = 5 if n < 500 else 3
        infer = median_time(lambda g=g: ShapeInference(g).update(), repeats)
        build = median_time(lambda g=g: build_model(g), repeats)
        plain = median_time(lambda g=g: plain_keras(g), repeats)
        print(
            f"{len(g):>6} {infer * 1e3:>9.1f} {build * 1e3:>9.1f} {plain * 1e3:>15.1f} {infer / plain:>12.2f}"
        )

    g = generated_graph(500)
    si = ShapeInference(g)
    si.update()
    dense = [n for n in g if n.class_name == "Dense"]
    times, recomputed = [], []
    for i in range(21):
        node = dense[(i * 37) % len(dense)]
        act = "relu" if node.config.get("activation") != "relu" else "tanh"
        g.set_config(node.id, dict(node.config, activation=act))
        t = time.perf_counter()
        si.update()
        times.append(time.perf_counter() - t)
        recomputed.append(si.recomputed)
    med = statistics.median(times)
    print(
        f"incremental re-inference after one parameter change, 500 layers: median {med * 1e3:.1f} ms, "
        f"max {max(times) * 1e3:.1f} ms over {len(times)} edits, {statistics.median(recomputed):.0f} "
        f"layer(s) recomputed (aim < 50 ms: {'met' if med < 0.05 else 'MISSED'})"
    )
    full = median_time(lambda: ShapeInference(g).update(), 3)
    print(
        f"full inference of the same graph: {full * 1e3:.0f} ms; incremental/full = {med / full:.3f}"
    )


if __name__ == "__main__":
    main()
