"""Project files (``.dgproj``): versioned UTF-8 JSON, validated on load, saved atomically.

    {"format": "deepgui-project", "version": 1,
     "graph": {"nodes": [{"id", "class_name", "config"}], "edges": [{"source", "target", "target_port"}]},
     "layout": {"positions": {id: [x, y]}},
     "dataset": {...}, "training": {...},
     "vary": {"hidden.units": "16,32,64"}}   (optional: the marks of sweep/marks.py)

Weights, when a project has them, live beside it in ``NAME.weights.h5``. Loading never runs code
from the file: it is plain JSON, checked field by field before anything is built.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepgui.core import fileio, run_layout
from deepgui.core.commands import UndoStack
from deepgui.core.errors import GraphError, ProjectFormatError
from deepgui.core.graph import Graph, collector_paused, layer_name_problem, size_problem
from deepgui.core.settings import Settings
from deepgui.core.sweep.marks import FILE_KEY as MARKS_KEY
from deepgui.core.sweep.marks import Marks

FORMAT = "deepgui-project"
VERSION = 1
SUFFIX = ".dgproj"
# A project is a few kilobytes of JSON; anything far bigger is not one (and is not read whole).
MAX_BYTES = 64 * fileio.MiB
# Keras configs nest a few levels (a Bidirectional's layer, an initializer's config); a file
# nested deeper than this is not a project, and would exhaust the stack of whatever reads it.
MAX_DEPTH = 48
# Config keys Keras reads as a file path when given a string; a project names such files only
# inside its own folder, and they are read into the project when it loads.
PATH_KEYS = ("vocabulary", "idf_weights")
# A wrapper's keys that hold whole layers (Bidirectional's two), searched like the project's.
WRAPPED_KEYS = ("layer", "backward_layer")
MAX_VOCABULARY_BYTES = 16 * fileio.MiB


@dataclass
class Project:
    """Everything a user edits: the graph and its undo history, the data and training settings.

    `dataset` and `training` are the dicts the file holds; `settings` reads them field by field
    with the core's defaults and announces each field an undo step changes."""

    graph: Graph = field(default_factory=Graph)
    dataset: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    # What an import could not carry over (a custom loss, a metric's settings), one sentence
    # each, for the front end to say once; never saved.
    import_notes: list[str] = field(default_factory=list, compare=False, repr=False)
    # Who this project is, kept in its file: its runs are found by it, wherever it is saved.
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    undo: UndoStack = field(init=False)
    settings: Settings = field(init=False, repr=False, compare=False)
    # What a sweep varies when not told: the settings marked in the app (sweep/marks.py).
    marks: Marks = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.undo = UndoStack(self.graph)
        self.settings = Settings(self)
        self.marks = Marks(self)

    @property
    def name(self) -> str:
        return self.path.stem if self.path else "untitled"

    @property
    def weights_path(self) -> Path | None:
        return weights_path_for(self.path) if self.path else None

    def fingerprint(self) -> str:
        """What a run of this project trains, as one string: its layers and connections, its
        data and training settings (not where the layers sit, nor its file). A sentence about the
        project as it was (a failed run, a check of the data) stands while this is unchanged."""
        state = [self.graph.to_dict(), self.dataset, self.training]
        return json.dumps(state, sort_keys=True, default=str)

    def snapshot(self) -> Project:
        """A detached copy (same identity and path, no undo history) that another thread may
        read while the user goes on editing this one."""
        twin = Project(
            graph=self.graph.snapshot(),
            dataset=copy.deepcopy(self.dataset),
            training=copy.deepcopy(self.training),
            path=self.path,
            id=self.id,
        )
        twin.marks.copy_from(self.marks)
        return twin

    def to_dict(self) -> dict[str, Any]:
        data = {
            "format": FORMAT,
            "version": VERSION,
            "id": self.id,
            "graph": self.graph.to_dict(),
            "layout": {"positions": self.graph.positions()},
            "dataset": self.dataset,
            "training": self.training,
        }
        if self.marks:  # a project without marks writes the file it wrote before them
            data[MARKS_KEY] = self.marks.to_dict()
        return data

    def to_json(self) -> str:
        """The project file's text."""
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"

    def _weights_follow(self, target: Path) -> None:
        """On a Save As the project's weights go with it (copied: the old file keeps its own),
        and the weights of a project saved over (the user chose to replace it) go with that
        project, rather than being taken for this one's at the next training."""
        old = self.weights_path
        new = weights_path_for(target)
        if old is None or old.resolve() == new.resolve():
            if old is None and new.is_file():  # a first save over a project with weights
                new.unlink()
            return
        if old.is_file():
            _copy_file(old, new)
        elif new.is_file():
            new.unlink()

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Write the project file atomically; WriteError (an OSError, one sentence naming the
        file) when the disk refuses, with the old file left whole."""
        target = Path(path) if path else self.path
        if target is None:
            raise ProjectFormatError("The project has no file name yet: choose where to save it.")
        atomic_write_text(target, self.to_json())
        before = run_layout.runs_root(self)
        self._weights_follow(target)
        self.path = target
        # The runs go where the project now is: moved out of the scratch area on the first save,
        # copied on a Save As (the old file keeps its own).
        run_layout.relocate(before, run_layout.runs_root(self), move=run_layout.is_scratch(before))
        self.undo.set_clean()
        return target


def _copy_file(source: Path, target: Path) -> None:
    with fileio.staged(target, suffix=".h5") as tmp:
        shutil.copyfile(source, tmp)


def weights_path_for(project_path: Path) -> Path:
    return project_path.with_name(project_path.stem + ".weights.h5")


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, flushed, then renamed over the target, so
    a crash mid-save leaves the old file whole. A failure (a full or read-only disk) leaves no
    temporary file and raises WriteError (an OSError) naming the path."""
    fileio.atomic_write_text(path, text)


def load_project(path: str | os.PathLike) -> Project:
    """Read and validate a project file. Every problem is a ProjectFormatError naming the file."""
    path = Path(path)
    raw_bytes = fileio.read_bytes(path, "project file", MAX_BYTES, error=ProjectFormatError)
    if raw_bytes.startswith(b"\xef\xbb\xbf"):
        raw_bytes = raw_bytes[3:]
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise ProjectFormatError(f"{path}: is not UTF-8 text, so not a deepgui project.") from None
    data = parse_json(text, str(path))
    project = project_from_dict(data, source=str(path), base_dir=path.parent, nesting_checked=True)
    if not (isinstance(data, dict) and data.get("id")):
        # A file from before projects had an id: the same one every time it is opened (its
        # runs are found again), until a save writes it into the file.
        project.id = uuid.uuid5(uuid.NAMESPACE_URL, str(path.resolve())).hex
    project.path = path
    project.undo.set_clean()
    return project


def parse_json(text: str, source: str) -> Any:
    """JSON as a project holds it: no NaN or infinity, nested no deeper than MAX_DEPTH."""
    try:
        with collector_paused():  # a big file is many objects and no garbage
            data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ProjectFormatError(f"{source}: is nested too deeply to be a project.") from None
    except (json.JSONDecodeError, ValueError) as exc:
        raise ProjectFormatError(f"{source}: is not valid JSON ({exc}).") from None
    if _depth(data) > MAX_DEPTH:
        raise ProjectFormatError(
            f"{source}: is nested more than {MAX_DEPTH} levels deep, which no project is."
        )
    return data


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in `value` (without recursion): one pass per level,
    each item looked at once, stopping as soon as the depth passes MAX_DEPTH."""
    deepest, level = 0, [value]
    while level and deepest <= MAX_DEPTH:
        below: list[Any] = []
        containers = False
        for item in level:
            if isinstance(item, dict):
                below.extend(item.values())
                containers = True
            elif isinstance(item, list):
                below.extend(item)
                containers = True
        if not containers:
            break
        deepest += 1
        level = below
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def project_from_dict(
    data: Any,
    source: str = "project",
    base_dir: str | os.PathLike | None = None,
    *,
    nesting_checked: bool = False,
) -> Project:
    """A validated project from its JSON. Files its layers name (a vocabulary) are read from
    `base_dir`, the project's folder, and nowhere else; without one, none are read.
    `nesting_checked`: `data` comes from parse_json, which has measured its depth already."""

    def fail(message: str) -> ProjectFormatError:
        return ProjectFormatError(f"{source}: {message}")

    if not nesting_checked and _depth(data) > MAX_DEPTH:
        raise fail(f"is nested more than {MAX_DEPTH} levels deep, which no project is.")
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
    too_big = size_problem(len(nodes), len(edges))  # refused before any of it is looked at
    if too_big:
        raise fail(too_big)
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
        if "name" in config:
            problem = layer_name_problem(config["name"])
            if problem:
                raise fail(f"{where}: {problem}")
        if not isinstance(node.get("output", False), bool):
            raise fail(f"{where}.output must be true or false.")
    names = [n["config"]["name"] for n in nodes if "name" in (n.get("config") or {})]
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
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
    for node in graph:
        try:
            node.config = inline_files(node.name, node.config, base_dir)
        except ProjectFormatError as exc:
            raise fail(str(exc)) from None
    project = Project(
        graph=graph, dataset=dict(data.get("dataset", {})), training=dict(data.get("training", {}))
    )
    identity = data.get("id")
    if identity is not None and not (isinstance(identity, str) and identity.isalnum()):
        raise fail('field "id" must be letters and digits.')
    if identity:
        project.id = identity
    if MARKS_KEY in data:
        try:
            project.marks.read(data[MARKS_KEY])
        except ProjectFormatError as exc:
            raise fail(str(exc)) from None
    return project


def inline_files(layer: str, config: dict[str, Any], base_dir) -> dict[str, Any]:
    """`config` with every file its layer would read (a vocabulary path) read into it as a
    list of lines, from `base_dir` only; ProjectFormatError for a path anywhere else. Building
    a layer then never opens a file, and a project cannot make deepgui read outside its folder."""
    out = dict(config)
    for key in PATH_KEYS:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = _read_listed_file(layer, key, value, base_dir)
    for wrapped in WRAPPED_KEYS:  # a wrapper's layers read files as layers of their own
        inner = out.get(wrapped)
        if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
            out[wrapped] = {**inner, "config": inline_files(layer, inner["config"], base_dir)}
    return out


def _read_listed_file(layer: str, key: str, value: str, base_dir) -> list[str]:
    shown = f"layer {layer}: its {key} names the file {value!r}"
    if base_dir is None:
        raise ProjectFormatError(f"{shown}; write the {key} into the layer as a list instead.")
    if "\0" in value:
        raise ProjectFormatError(f"{shown}, which holds a NUL character that no file name can.")
    try:
        folder = Path(base_dir).resolve()
        target = (folder / Path(value).expanduser()).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: links that loop (Python < 3.13)
        why = "its links loop" if "loop" in str(exc).lower() else fileio.why(exc)
        raise ProjectFormatError(f"{shown}, which cannot be followed: {why}.") from None
    if target == folder or folder not in target.parents:
        raise ProjectFormatError(
            f"{shown}, which lies outside the project's folder; deepgui reads files named in a "
            "project only from that folder."
        )
    text = fileio.read_text(target, f"{key} file", MAX_VOCABULARY_BYTES, error=ProjectFormatError)
    lines = text.splitlines()
    if key == "idf_weights":
        try:
            return [float(v) for v in lines if v.strip()]
        except ValueError:
            raise ProjectFormatError(f"{shown}, which does not hold one number per line.") from None
    return lines


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file up to the current version, one step at a time. (Version 1 is the first.)"""
    return data
