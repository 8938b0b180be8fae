"""The graph as Python: a readable Keras script that builds the model (codegen_network), or,
given the project's data and training settings, a program that stands alone and trains and
predicts (codegen_training, which builds on the network's code)."""

from __future__ import annotations

from pathlib import Path

from deepgui.core.codegen_network import model_script, write_order
from deepgui.core.codegen_training import program
from deepgui.core.graph import Graph


def generate_script(
    graph: Graph,
    dataset: dict | None = None,
    training: dict | None = None,
    name: str = "model",
    base_dir: Path | None = None,
    *,
    trained: dict | None = None,
    file_stem: str | None = None,
) -> str:
    """A runnable Python script that builds `graph` with Keras and prints its summary; given
    the project's `dataset` or `training`, a program that stands alone and trains and predicts
    (codegen_training.program). `trained` is a run's signature (task, classes, preprocessing)
    whose weights the export writes beside the script as ``FILE_STEM.weights.h5``."""
    write_order(graph)  # a graph that cannot be written says so first, whatever is asked
    if dataset is not None or training is not None or trained is not None:
        return program(
            graph, dataset or {}, training or {}, name, base_dir, trained, file_stem or name
        )
    return model_script(graph, name)
