"""Marks: the settings of a project marked to vary in a sweep, kept in its file.

    "vary": {"hidden.units": "16,32,64", "training.learning_rate": "1e-4..1e-2:log"}

The file says NAME and SPEC as `deepgui sweep --vary NAME=SPEC` does (space.py). In memory a
layer's mark is held by the layer's id, not its name: a rename carries its marks along, and a
deleted layer's marks go with it (its undo brings them back), without the commands that rename
or delete a layer knowing of marks. A save writes only the marks of layers still there.

A mark is checked by space.py when it is set (SetMark) and when the file is read. What the file
holds is read strictly (a NAME of no layer is refused); a SPEC that the project's rules refuse
is kept, and said by `problems` (and by the sweep when it starts): another setting changed
since, such as fine-tuning's frozen epochs, can rule out a mark's values, and a file that
deepgui wrote must open again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deepgui.core.commands import Command
from deepgui.core.errors import DeepGuiError, ProjectFormatError

if TYPE_CHECKING:
    from deepgui.core.graph import Graph
    from deepgui.core.project import Project

TRAINING = "training"  # the owner of a training field's mark (else a layer's id)
FILE_KEY = "vary"  # the project file's field
MARK = "⟳"  # how the app shows a mark, beside a field and on a layer
# Kinds of catalogue parameters a mark can be written for: numbers (a range or choices) and
# choices; not text, shapes, regularizers or a wrapped layer, which NAME=SPEC cannot write.
VARIED_KINDS = ("int", "float", "optional_int", "optional_float", "ints", "optional_ints",
                "choice", "bool")  # fmt: skip
# The training form's fields that can vary: one value each, a number or a choice.
TRAINING_FIELDS = ("optimizer", "learning_rate", "loss", "batch_size", "epochs")
Listener = Callable[[str, str], None]  # (owner, key)


class Marks:
    """The marks of one project: SPEC by (owner, key), the owner a layer's id or "training".
    Changed only by SetMark on the project's undo stack; each change is announced."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._specs: dict[tuple[str, str], str] = {}
        self._listeners: list[Listener] = []

    @property
    def _graph(self) -> Graph:
        return self._project.graph

    def _live(self, owner: str) -> bool:
        return owner == TRAINING or owner in self._graph.nodes

    def spec(self, owner: str, key: str) -> str | None:
        """The SPEC marked on a layer's parameter or a training field; None when unmarked."""
        return self._specs.get((owner, key)) if self._live(owner) else None

    def of(self, owner: str) -> dict[str, str]:
        """{key: SPEC} of one layer (its id) or of "training"."""
        if not self._live(owner):
            return {}
        return {k: s for (o, k), s in self._specs.items() if o == owner}

    def name(self, owner: str, key: str) -> str:
        """NAME as the command line writes it: `hidden.units`, `training.learning_rate`."""
        return f"{owner if owner == TRAINING else self._graph.node(owner).name}.{key}"

    def items(self) -> list[tuple[str, str]]:
        """(NAME, SPEC) of every mark of a layer still there and of training: the layers in
        the canvas's order, then training; the same order however the marks were set."""
        order = {node.id: i for i, node in enumerate(self._graph)}
        order[TRAINING] = len(order)
        live = sorted((order[o], o, k) for o, k in self._specs if o in order)
        return [(self.name(o, k), self._specs[o, k]) for _, o, k in live]

    def texts(self) -> list[str]:
        """NAME=SPEC of each mark, as `deepgui sweep --vary` takes them."""
        return [f"{name}={spec}" for name, spec in self.items()]

    def to_dict(self) -> dict[str, str]:
        """The project file's "vary" field."""
        return dict(self.items())

    def __len__(self) -> int:
        return len(self.items())

    def problem(self, owner: str, key: str) -> str | None:
        """Why the project's rules refuse this mark now (one sentence), or None."""
        spec = self.spec(owner, key)
        return None if spec is None else _problem(self._project, f"{self.name(owner, key)}={spec}")

    def problems(self) -> list[str]:
        """One sentence per mark the project's rules refuse now (space.py's)."""
        out = []
        for text in self.texts():
            problem = _problem(self._project, text)
            if problem:
                out.append(problem)
        return out

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def copy_from(self, other: Marks) -> None:
        """The same marks as `other` (a project's snapshot); nothing is announced."""
        self._specs = dict(other._specs)

    def read(self, raw: Any) -> None:
        """Take the marks of a project file's "vary" field (the graph read already);
        ProjectFormatError, one sentence, for what no deepgui writes."""
        from deepgui.core.sweep import space  # it reads the catalogue: only for a file with marks

        if not isinstance(raw, dict):
            raise ProjectFormatError(f'field "{FILE_KEY}" must be an object of NAME: SPEC.')
        specs: dict[tuple[str, str], str] = {}
        for name, spec in raw.items():
            if not isinstance(spec, str) or not spec.strip():
                raise ProjectFormatError(f"{FILE_KEY}[{name!r}] must be a SPEC such as 16,32,64.")
            try:
                name, spec = space.parse(f"{name}={spec}")
            except DeepGuiError as exc:
                raise ProjectFormatError(f"{FILE_KEY}: {exc}") from None
            owner, _, key = name.partition(".")
            if owner != TRAINING:
                node = self._graph.node_by_name(owner)
                if node is None:
                    raise ProjectFormatError(
                        f"{FILE_KEY}: {name} marks a layer the project does not have."
                    )
                owner = node.id
            specs[owner, key] = spec
        self._specs = specs

    def _put(self, owner: str, key: str, spec: str | None) -> str | None:
        """Set or (None) clear one mark; the SPEC it had. For SetMark only."""
        old = self._specs.pop((owner, key), None)
        if spec is not None:
            self._specs[owner, key] = spec
        for listener in list(self._listeners):
            listener(owner, key)
        return old


def _problem(project: Project, text: str) -> str | None:
    from deepgui.core.sweep import space  # NumPy comes with it: not on every project's load

    try:
        space.dimension(project, text)
    except DeepGuiError as exc:
        return str(exc)
    return None


def check(project: Project, owner: str, key: str, spec: str) -> str | None:
    """Why SPEC cannot be marked on this setting (one sentence naming it), or None."""
    name = project.marks.name(owner, key)
    if not spec.strip():
        return f"{name}: write the values to try, such as 16,32,64, or a range such as 8..64."
    return _problem(project, f"{name}={spec.strip()}")


def number_kind(project: Project, owner: str, key: str) -> str | None:
    """The setting's number kind, "int" or "float", when it takes a range; None when it takes
    choices only."""
    from deepgui.core.sweep import space

    return space.kind_of(project, project.marks.name(owner, key))


def can_vary(project: Project, owner: str, key: str) -> bool:
    """Whether the app offers a mark on this setting: a catalogue parameter of a kind that
    NAME=SPEC can write, or one of the training form's fields."""
    if owner == TRAINING:
        return key in TRAINING_FIELDS
    from deepgui.core import catalogue

    spec = catalogue.get(project.graph.node(owner).class_name)
    param = spec.param(key) if spec else None
    return param is not None and param.kind in VARIED_KINDS


# ----------------------------------------------------------------------------- SPEC's parts
@dataclass(frozen=True)
class SpecParts:
    """A SPEC as an editor shows it: choices, or a range with its scale."""

    is_range: bool = False
    choices: tuple[str, ...] = ()
    low: str = ""
    high: str = ""
    log: bool = False


def spec_parts(spec: str | None) -> SpecParts:
    """`16,32,64` -> choices; `1e-4..1e-2:log` -> a range (its bounds as written)."""
    if not spec:
        return SpecParts()
    body, colon, scale = spec.rpartition(":")
    if not colon or scale.strip() not in ("log", "linear"):
        body, scale = spec, ""
    if ".." in body:
        low, _, high = body.partition("..")
        return SpecParts(True, low=low.strip(), high=high.strip(), log=scale.strip() == "log")
    return SpecParts(choices=tuple(c.strip() for c in body.split(",")))


def choices_spec(values: list[str] | str) -> str:
    """`a,b,c` from choices (a list, or text with commas)."""
    items = values.split(",") if isinstance(values, str) else values
    return ",".join(str(v).strip() for v in items if str(v).strip())


def range_spec(low: str, high: str, log: bool) -> str:
    """`LO..HI` or `LO..HI:log`."""
    return f"{low.strip()}..{high.strip()}" + (":log" if log else "")


def value_text(value: Any) -> str:
    """A setting's value as a choice is written (`0.001`, `relu`, `true`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    if isinstance(value, list | tuple) and len(value) == 1:
        return value_text(value[0])
    return "" if value is None or isinstance(value, list | tuple | dict) else str(value)


# ----------------------------------------------------------------------------- the command
class SetMark(Command):
    """Mark one setting to vary (SPEC), or clear its mark (None): one undo step, the SPEC
    checked by space.py first."""

    def __init__(self, project: Project, owner: str, key: str, spec: str | None) -> None:
        self.marks = project.marks
        self.project = project
        self.owner, self.key = owner, key
        self.spec = spec.strip() if spec is not None else None
        name = self.marks.name(owner, key)
        self.text = f"Vary {name}" if self.spec is not None else f"Stop varying {name}"
        self._old: str | None = None

    def redo(self, graph: Graph) -> None:
        if self.spec is not None:
            problem = check(self.project, self.owner, self.key, self.spec)
            if problem:
                raise DeepGuiError(problem, setting=FILE_KEY)
        self._old = self.marks._put(self.owner, self.key, self.spec)

    def undo(self, graph: Graph) -> None:
        self.marks._put(self.owner, self.key, self._old)


def set_mark(project: Project, owner: str, key: str, spec: str | None) -> SetMark | None:
    """A SetMark when it changes something; None when the mark is already so."""
    current = project.marks.spec(owner, key)
    wanted = spec.strip() if spec is not None else None
    return None if current == wanted else SetMark(project, owner, key, spec)
