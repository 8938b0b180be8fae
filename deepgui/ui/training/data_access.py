"""The data package's public functions as the panel calls them (the data package decides;
the panel only presents), plus the model facts they take."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepgui.core import data as core_data
from deepgui.core.data.base import LoadedData
from deepgui.core.graph import Graph


def builtin_datasets() -> list[tuple[str, str]]:
    """(name, description) of every bundled sample."""
    return [(str(item[0]), str(item[-1])) for item in core_data.builtin_datasets()]


def model_input_shape(graph: Graph) -> tuple | None:
    """The single Input's shape without the batch axis (lets an image folder match it)."""
    inputs = graph.input_nodes()
    if len(inputs) != 1:
        return None
    cfg = inputs[0].config
    shape = cfg.get("shape") or (cfg.get("batch_shape") or [None])[1:]
    return tuple(shape) if isinstance(shape, list | tuple) and shape else None


def load_dataset(
    spec: dict[str, Any], base_dir: Path | None, graph: Graph | None = None
) -> LoadedData:
    """LoadedData for a project's dataset dict; DatasetError names the problem."""
    shape = model_input_shape(graph) if graph is not None else None
    return core_data.load_dataset(spec, base_dir, input_shape=shape, graph=graph)


def preview(spec: dict[str, Any], base_dir: Path | None, rows: int = 20) -> dict[str, Any]:
    return core_data.preview(spec, base_dir, rows)


def check_against_model(data: LoadedData, model, loss: str) -> list[str]:
    return list(core_data.check_against_model(data, model, loss))
