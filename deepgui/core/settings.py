"""A project's data and training settings, field by field.

The settings stay the dicts the project file holds (``dataset`` and ``training``: what the
loaders, the engine and the exporters read, and what a save writes unchanged). This layer reads
them one field at a time with the core's one default for each field, and announces every field
a step of the undo stack changed (done, undone or redone) as `(section, field)`: a view then
shows again the one field that changed, not the whole form.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deepgui.core.project import Project
    from deepgui.core.training.config import TrainingConfig

SECTIONS = ("dataset", "training")
Listener = Callable[[str, str], None]  # (section, field)
_ABSENT = object()


def defaults(section: str) -> dict[str, Any]:
    """The core's default of each field of `section` that has one (a new dict, read from the
    one place each lives: the data spec's DEFAULTS and a time series' options; TrainingConfig).
    """
    # Imported here: the data package imports NumPy, and opening a project file must not.
    if section == "dataset":
        from deepgui.core.data.spec import DEFAULTS, TimeseriesOptions

        series = {"window": TimeseriesOptions.window, "horizon": TimeseriesOptions.horizon}
        return copy.deepcopy({**DEFAULTS, **series})
    if section == "training":
        from deepgui.core.training.config import TrainingConfig

        return asdict(TrainingConfig())
    raise _no_section(section)


def default(section: str, key: str) -> Any:
    """The core's default of one field; None for a field without one (a data source, a path)."""
    return defaults(section).get(key)


def _no_section(name: str) -> KeyError:
    return KeyError(f"There is no settings section {name!r}; there are {', '.join(SECTIONS)}.")


def _differs(a: Any, b: Any) -> bool:
    return type(a) is not type(b) or a != b  # True and 1 are not the same setting


class Settings:
    """The settings of one project: read field by field, and each field changed by a step of
    its undo stack announced to the subscribers. Edits are commands on the stack
    (`commands.set_fields` on ``project.dataset`` or ``project.training``), never writes here."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._listeners: list[Listener] = []
        self._seen = {name: copy.deepcopy(self.section(name)) for name in SECTIONS}
        project.undo.subscribe(self._stack_moved)

    def section(self, name: str) -> dict[str, Any]:
        """The project's own dict of `name` ("dataset" or "training"), as its file holds it."""
        if name not in SECTIONS:
            raise _no_section(name)
        value = getattr(self._project, name)
        return value if isinstance(value, dict) else {}

    def get(self, section: str, key: str) -> Any:
        """The field as the project sets it, else the core's default (None without one)."""
        value = self.section(section).get(key, _ABSENT)
        return default(section, key) if value is _ABSENT else value

    def is_set(self, section: str, key: str) -> bool:
        return key in self.section(section)

    def training_config(self) -> TrainingConfig:
        """The training settings, typed: each field the core refuses read as its default (the
        form shows the core's sentence about it beside the field)."""
        # Imported here: the training package imports its engine, which imports the project.
        from deepgui.core.training.config import read_leniently

        return read_leniently(self.section("training"))[0]

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _stack_moved(self) -> None:
        """After every move of the undo stack: the fields that differ from before it, each
        announced once (a merged step of typing included)."""
        changed = []
        for name in SECTIONS:
            now, before = self.section(name), self._seen[name]
            keys = [*before, *(k for k in now if k not in before)]
            changed += [(name, k) for k in keys
                        if _differs(before.get(k, _ABSENT), now.get(k, _ABSENT))]  # fmt: skip
            if any(n == name for n, _ in changed):
                self._seen[name] = copy.deepcopy(now)
        for name, key in changed:
            for listener in list(self._listeners):
                listener(name, key)
