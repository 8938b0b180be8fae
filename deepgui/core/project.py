"""Project files (``.dgproj``): versioned UTF-8 JSON, validated on load, saved atomically.

    {"format": "deepgui-project", "version": 1,
     "graph": {"nodes": [{"id", "class_name", "config"}], "edges": [{"source", "target", "target_port"}]},
     "layout": {"positions": {id: [x, y]}},
     "dataset": {...}, "training": {...}}

Weights, when a project has them, live beside it in ``NAME.weights.h5``. Loading never runs code
from the file: it is plain JSON, checked field by field before anything is built.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepgui.core.commands import UndoStack
from deepgui.core.errors import GraphError, ProjectFormatError
from deepgui.core.graph import Graph

FORMAT = "deepgui-project"
VERSION = 1
SUFFIX = ".dgproj"


@dataclass
class Project:
    """Everything a user edits: the graph and its undo history, the data and training settings."""

    graph: Graph = field(default_factory=Graph)
    dataset: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    # Who this project is, kept in its file: its runs are found by it, wherever it is saved.
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    undo: UndoStack = field(init=False)

    def __post_init__(self) -> None:
        self.undo = UndoStack(self.graph)

    @property
    def name(self) -> str:
        return self.path.stem if self.path else "untitled"

    @property
    def weights_path(self) -> Path | None:
        return weights_path_for(self.path) if self.path else None

    def snapshot(self) -> Project:
        """A detached copy (same identity and path, no undo history) that another thread may
        read while the user goes on editing this one."""
        import copy

        return Project(
            graph=self.graph.snapshot(),
            dataset=copy.deepcopy(self.dataset),
            training=copy.deepcopy(self.training),
            path=self.path,
            id=self.id,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "id": self.id,
            "graph": self.graph.to_dict(),
            "layout": {"positions": self.graph.positions()},
            "dataset": self.dataset,
            "training": self.training,
        }

    def save(self, path: str | os.PathLike | None = None) -> Path:
        target = Path(path) if path else self.path
        if target is None:
            raise ProjectFormatError("The project has no file name yet: choose where to save it.")
        text = json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False)
        atomic_write_text(target, text + "\n")
        from deepgui.core.training import runs

        before = runs.runs_root(self)
        self.path = target
        # The runs go where the project now is: moved out of the scratch area on the first save,
        # copied on a Save As (the old file keeps its own).
        runs.relocate(before, runs.runs_root(self), move=runs.is_scratch(before))
        self.undo.set_clean()
        return target


def weights_path_for(project_path: Path) -> Path:
    return project_path.with_name(project_path.stem + ".weights.h5")


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, flushed, then renamed over the target, so
    a crash mid-save leaves the old file whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_project(path: str | os.PathLike) -> Project:
    """Read and validate a project file. Every problem is a ProjectFormatError naming the file."""
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ProjectFormatError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise ProjectFormatError(f"{path}: is a folder, not a project file.") from None
    except OSError as exc:
        raise ProjectFormatError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise ProjectFormatError(f"{path}: is not UTF-8 text, so not a deepgui project.") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise ProjectFormatError(f"{path}: is not valid JSON ({exc}).") from None
    except RecursionError:
        raise ProjectFormatError(f"{path}: is nested too deeply to be a project.") from None
    project = project_from_dict(data, source=str(path))
    if not (isinstance(data, dict) and data.get("id")):
        # A file from before projects had an id: the same one every time it is opened (its
        # runs are found again), until a save writes it into the file.
        project.id = uuid.uuid5(uuid.NAMESPACE_URL, str(path.resolve())).hex
    project.path = path
    project.undo.set_clean()
    return project


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def project_from_dict(data: Any, source: str = "project") -> Project:
    def fail(message: str) -> ProjectFormatError:
        return ProjectFormatError(f"{source}: {message}")

    if not isinstance(data, dict):
        raise fail("is not a deepgui project (the top level must be an object).")
    if data.get("format") != FORMAT:
        raise fail(f'is not a deepgui project (field "format" must be "{FORMAT}").')
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail('field "version" must be a whole number.')
    if version > VERSION:
        raise fail(
            f"was written by a newer deepgui (format version {version}); this one reads up to {VERSION}."
        )
    if version < 1:
        raise fail(f'field "version" must be at least 1, not {version}.')
    data = migrate(data)

    graph_data = data.get("graph")
    if not isinstance(graph_data, dict):
        raise fail('field "graph" must be an object with "nodes" and "edges".')
    nodes = graph_data.get("nodes", [])
    edges = graph_data.get("edges", [])
    if not isinstance(nodes, list):
        raise fail('field "graph.nodes" must be a list.')
    if not isinstance(edges, list):
        raise fail('field "graph.edges" must be a list.')
    for i, node in enumerate(nodes):
        where = f"graph.nodes[{i}]"
        if not isinstance(node, dict):
            raise fail(f"{where} must be an object.")
        if not isinstance(node.get("id"), str) or not node["id"]:
            raise fail(f"{where}.id must be a non-empty string.")
        if not isinstance(node.get("class_name"), str) or not node["class_name"].isidentifier():
            raise fail(f"{where}.class_name must be a Keras layer class name.")
        config = node.get("config", {})
        if not isinstance(config, dict):
            raise fail(f"{where}.config must be an object.")
        if "name" in config and not isinstance(config["name"], str):
            raise fail(f"{where}.config.name must be a string.")
        if not isinstance(node.get("output", False), bool):
            raise fail(f"{where}.output must be true or false.")
    names = [n["config"]["name"] for n in nodes if "name" in (n.get("config") or {})]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise fail(f"two layers share the name {repeated[0]!r}; layer names must be unique.")
    for i, edge in enumerate(edges):
        where = f"graph.edges[{i}]"
        if not isinstance(edge, dict):
            raise fail(f"{where} must be an object.")
        for key in ("source", "target"):
            if not isinstance(edge.get(key), str):
                raise fail(f"{where}.{key} must be a layer id.")
        port = edge.get("target_port", 0)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < 1024:
            raise fail(f"{where}.target_port must be a whole number from 0.")

    layout = data.get("layout", {})
    if not isinstance(layout, dict):
        raise fail('field "layout" must be an object.')
    positions = layout.get("positions", {})
    if not isinstance(positions, dict):
        raise fail('field "layout.positions" must be an object.')
    for nid, pos in positions.items():
        if (
            not isinstance(pos, list)
            or len(pos) != 2
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in pos
            )
        ):
            raise fail(f"layout.positions[{nid!r}] must be two numbers [x, y].")

    for key in ("dataset", "training"):
        if not isinstance(data.get(key, {}), dict):
            raise fail(f'field "{key}" must be an object.')

    try:
        graph = Graph.from_dict(graph_data, positions)
    except GraphError as exc:
        raise fail(str(exc)) from None
    except (TypeError, ValueError, KeyError) as exc:
        raise fail(f"the graph is malformed ({exc}).") from None
    project = Project(
        graph=graph, dataset=dict(data.get("dataset", {})), training=dict(data.get("training", {}))
    )
    identity = data.get("id")
    if identity is not None and not (isinstance(identity, str) and identity.isalnum()):
        raise fail('field "id" must be letters and digits.')
    if identity:
        project.id = identity
    return project


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file up to the current version, one step at a time. (Version 1 is the first.)"""
    return data
