"""Write the example projects with the core Graph API. A developer tool: run it after changing
an example, and commit the .dgproj files and index.json it writes.

    python resources/examples/make_examples.py

Each example names a built-in data set and has a training section, so
`deepgui train resources/examples/NAME.dgproj` works as it is.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from deepgui.core.graph import Graph
from deepgui.core.layout import GAP_Y, NODE_HEIGHT
from deepgui.core.project import Project

HERE = Path(__file__).resolve().parent


def chain(
    layers: list[tuple[str, dict]], x: float = 0.0, dy: float = NODE_HEIGHT + GAP_Y
) -> Graph:
    """A straight chain of layers, laid out top to bottom as Auto Layout spaces them."""
    graph = Graph()
    previous = None
    for i, (class_name, config) in enumerate(layers):
        node = graph.add_node(class_name, config, (x, i * dy))
        if previous is not None:
            graph.connect(previous.id, node.id)
        previous = node
    return graph


def builtin(name: str, **extra) -> dict:
    return {"source": "builtin", "name": name, "validation_split": 0.2, "test_split": 0.1,
            "shuffle": True, "seed": 42, **extra}  # fmt: skip


def digits_cnn() -> Project:
    graph = chain(
        [
            ("InputLayer", {"shape": [8, 8, 1], "name": "pixels"}),
            (
                "Conv2D",
                {"filters": 32, "kernel_size": [3, 3], "padding": "same", "activation": "relu"},
            ),
            ("MaxPooling2D", {"pool_size": [2, 2]}),
            (
                "Conv2D",
                {"filters": 64, "kernel_size": [3, 3], "padding": "same", "activation": "relu"},
            ),
            ("Flatten", {}),
            ("Dense", {"units": 64, "activation": "relu"}),
            ("Dropout", {"rate": 0.3}),
            ("Dense", {"units": 10, "activation": "softmax", "name": "digit"}),
        ]
    )
    training = {"optimizer": "adam", "learning_rate": 0.002, "batch_size": 32, "epochs": 12,
                "loss": "auto", "metrics": "auto", "seed": 42}  # fmt: skip
    return Project(graph=graph, dataset=builtin("digits"), training=training)


def iris_dense() -> Project:
    graph = chain(
        [
            ("InputLayer", {"shape": [4], "name": "measurements"}),
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dense", {"units": 16, "activation": "relu"}),
            ("Dense", {"units": 3, "activation": "softmax", "name": "species"}),
        ]
    )
    training = {
        "optimizer": "adam",
        "learning_rate": 0.01,
        "batch_size": 16,
        "epochs": 40,
        "seed": 42,
    }
    return Project(graph=graph, dataset=builtin("iris"), training=training)


def sequence_lstm() -> Project:
    graph = chain(
        [
            ("InputLayer", {"shape": [40, 1], "name": "walk"}),
            ("LSTM", {"units": 32}),
            ("Dense", {"units": 3, "activation": "softmax", "name": "trend"}),
        ]
    )
    training = {
        "optimizer": "adam",
        "learning_rate": 0.005,
        "batch_size": 32,
        "epochs": 10,
        "seed": 42,
    }
    return Project(graph=graph, dataset=builtin("sequence"), training=training)


def moons_dense() -> Project:
    graph = chain(
        [
            ("InputLayer", {"shape": [2], "name": "point"}),
            ("Dense", {"units": 32, "activation": "relu"}),
            ("Dense", {"units": 32, "activation": "relu"}),
            ("Dense", {"units": 1, "activation": "sigmoid", "name": "moon"}),
        ]
    )
    training = {"optimizer": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True,
                "batch_size": 32, "epochs": 30, "seed": 42,
                "schedule": {"kind": "cosine", "min_learning_rate": 0.001}}  # fmt: skip
    return Project(graph=graph, dataset=builtin("moons"), training=training)


EXAMPLES = [
    ("digits_cnn", digits_cnn, "A small CNN that reads 8x8 handwritten digits (10 classes)."),
    (
        "iris_dense",
        iris_dense,
        "A dense classifier for the iris flowers (4 measurements, 3 species).",
    ),
    (
        "sequence_lstm",
        sequence_lstm,
        "An LSTM that tells falling, level and rising sequences apart.",
    ),
    (
        "moons_dense",
        moons_dense,
        "A dense net that separates two interleaved half-moons (SGD, cosine schedule).",
    ),
]


def main() -> None:
    index = []
    for name, make, description in EXAMPLES:
        project = make()
        # A fixed identity, so the runs of an example are found again each time it is opened.
        project.id = uuid.uuid5(uuid.NAMESPACE_URL, f"deepgui-example:{name}").hex
        project.save(HERE / f"{name}.dgproj")
        index.append({"name": name, "file": f"{name}.dgproj", "description": description})
    (HERE / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
