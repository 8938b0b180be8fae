"""A trial's values in a project: in a detached copy for the trial's run, and, for the best
trial, in the project itself as one undoable edit (or in its file, kept as PROJECT.bak).

Values are keyed by NAME (`hidden.units`, `training.learning_rate`), as space.py names them.
Either way the result passes the project's own checks (the layer catalogue's and the training
settings') or is refused with one sentence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deepgui.core import catalogue, fileio
from deepgui.core.commands import Command, Macro, set_fields, set_params
from deepgui.core.errors import DeepGuiError, TrainingError
from deepgui.core.project import load_project
from deepgui.core.sweep.space import TRAINING, VARY
from deepgui.core.training.config import TrainingConfig

BACKUP_SUFFIX = ".bak"


def split(project, values: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """({layer id: {config key: value}}, {training field: value}) for NAME -> value."""
    layers: dict[str, dict[str, Any]] = {}
    training: dict[str, Any] = {}
    for name, value in values.items():
        owner, _, key = name.partition(".")
        if owner == TRAINING:
            training[key] = value
            continue
        node = project.graph.node_by_name(owner)
        if node is None:
            raise DeepGuiError(f"There is no layer named {owner!r}.", setting=VARY)
        layers.setdefault(node.id, {})[key] = value
    return layers, training


def applied(project, values: dict[str, Any]):
    """A detached copy of the project holding the values (the project is left as it is)."""
    trial = project.snapshot()
    layers, training = split(trial, values)
    for node_id, changes in layers.items():
        trial.graph.set_config(node_id, {**trial.graph.node(node_id).config, **changes})
    trial.training.update(training)
    check(trial, layers)
    return trial


def check(project, layer_ids) -> None:
    """The project's own rules on what changed: one sentence for the first thing refused."""
    try:
        TrainingConfig.from_dict(project.training)
    except TrainingError as exc:
        raise DeepGuiError(str(exc), setting=VARY) from None
    for node_id in layer_ids:
        node = project.graph.node(node_id)
        problems = catalogue.config_problems(node.name, node.class_name, node.config)
        if problems:
            raise DeepGuiError(problems[0], setting=VARY)


def apply_command(project, values: dict[str, Any], text: str = "Apply the best trial"):
    """One command that writes the values into the project: a layer's parameters and the
    training settings together, one undo step. None when the project holds them already."""
    applied(project, values)  # refused here, before anything is changed
    layers, training = split(project, values)
    steps: list[Command] = []
    for node_id, changes in layers.items():
        config = project.graph.node(node_id).config
        if any(config.get(k) != v or k not in config for k, v in changes.items()):
            steps.append(set_params(project.graph, node_id, **changes))
    fields = set_fields(project.training, text, **training)
    if fields is not None:
        steps.append(fields)
    return Macro(steps, text=text) if steps else None


def apply_values(project, values: dict[str, Any], text: str = "Apply the best trial"):
    """Write the values into the project through its undo stack; the command, or None when
    nothing changed."""
    command = apply_command(project, values, text)
    if command is not None:
        project.undo.push(command)
    return command


def apply_to_file(path: str | Path, values: dict[str, Any], text: str = "Apply the best trial"):
    """Write the values into the project file at `path`, atomically, keeping the earlier file
    beside it as PATH.bak. The project as saved, or None when it held the values already
    (then nothing is written)."""
    path = Path(path)
    project = load_project(path)
    if apply_values(project, values, text) is None:
        return None
    before = fileio.read_bytes(path, "project file")
    fileio.atomic_write_bytes(backup_path(path), before)
    project.save(path)
    return project


def backup_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + BACKUP_SUFFIX)
