"""What differs between two runs: the model each trained (layers added, removed or changed,
connections made or undone), their training and data settings, and how each ended.

Both runs are read from their folders, from the copy of the project each trained
(``project.dgproj``) and its ``metrics.json``. Layers are matched by name first (what the user
sees on the canvas), then by id (a renamed layer of the same class is the same layer). A
setting or parameter a project leaves out counts as the core's default, so a field written in
one file and left to its default in the other is no difference. Run A is the earlier one, B
the later: every change reads "A's value → B's value".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepgui.core import catalogue, run_layout
from deepgui.core.errors import TrainingError
from deepgui.core.graph import Graph, Node


class _NotSet:
    """A field one side has and the other neither sets nor has a default for."""

    def __repr__(self) -> str:
        return "(not set)"


NOT_SET: Any = _NotSet()
# The graph's own fields of a node that change what is trained (positions do not).
_NODE_FIELDS = ("output", "shares", "call", "module")
# How many changes the one-sentence summary names before it counts the rest.
SUMMARY_ITEMS = 8


@dataclass(frozen=True)
class Change:
    """One field that differs: a layer's parameter or a setting, A's value and B's."""

    key: str
    old: Any
    new: Any

    def text(self, prefix: str = "") -> str:
        return f"{prefix}{self.key} {show(self.old)} → {show(self.new)}"


@dataclass(frozen=True)
class LayerRef:
    """A layer present in one run only."""

    name: str
    class_name: str
    node_id: str


@dataclass
class LayerChange:
    """A layer both runs have, whose parameters differ (a new name is a change of "name")."""

    name: str  # as run B calls it
    class_name: str
    a_id: str
    b_id: str
    changes: list[Change]


@dataclass(frozen=True)
class Connection:
    """A connection by the layers' names (B's name for a layer both runs have)."""

    source: str
    target: str
    target_port: int = 0
    source_port: int = 0

    def text(self) -> str:
        src = self.source + (f" (output {self.source_port})" if self.source_port else "")
        dst = self.target + (f" (input {self.target_port})" if self.target_port else "")
        return f"{src} → {dst}"


@dataclass(frozen=True)
class SettingChange(Change):
    section: str = "training"  # "training" or "data"

    @property
    def label(self) -> str:
        """How the summary names it: training fields bare, data fields as ``data.FIELD``."""
        return self.key if self.section == "training" else f"data.{self.key}"


@dataclass(frozen=True)
class MetricRow:
    """One line of the two runs' outcomes side by side; `better` says which side ("a", "b")
    has the better value of a score, None where neither or it is no score."""

    label: str
    a: Any
    b: Any
    better: str | None = None


@dataclass
class RunDiff:
    a_name: str
    b_name: str
    added: list[LayerRef] = field(default_factory=list)  # in B only
    removed: list[LayerRef] = field(default_factory=list)  # in A only
    changed: list[LayerChange] = field(default_factory=list)
    connections_added: list[Connection] = field(default_factory=list)
    connections_removed: list[Connection] = field(default_factory=list)
    settings: list[SettingChange] = field(default_factory=list)
    metrics: list[MetricRow] = field(default_factory=list)
    # Which of B's layers each of A's is (A id -> B id), and the two graphs compared, for a
    # view drawing both.
    matched: dict[str, str] = field(default_factory=dict)
    graphs: tuple[Graph, Graph] | None = field(default=None, repr=False, compare=False)

    @property
    def identical(self) -> bool:
        """Whether both runs trained the same model on the same settings."""
        return not (
            self.added
            or self.removed
            or self.changed
            or self.connections_added
            or self.connections_removed
            or self.settings
        )

    def rewired(self) -> tuple[list[Connection], list[Connection]]:
        """The connections made and undone that are news of their own: not those of an added
        or removed layer, nor the one a layer was inserted into (a → b became a → new → b)
        or taken out of."""
        added = {r.name for r in self.added}
        removed = {r.name for r in self.removed}
        gone = added | removed

        def bridged(c: Connection, edges: list[Connection], through: set[str]) -> bool:
            """Whether `edges` lead from c's source to its target through `through` only."""
            seen, stack = set(), [c.source]
            while stack:
                here = stack.pop()
                for e in edges:
                    if e.source != here:
                        continue
                    if e.target == c.target and here != c.source:
                        return True
                    if e.target in through and e.target not in seen:
                        seen.add(e.target)
                        stack.append(e.target)
            return False

        made = [
            c
            for c in self.connections_added
            if not ({c.source, c.target} & gone)
            and not bridged(c, self.connections_removed, removed)
        ]
        undone = [
            c
            for c in self.connections_removed
            if not ({c.source, c.target} & gone) and not bridged(c, self.connections_added, added)
        ]
        return made, undone

    def summary(self, limit: int = SUMMARY_ITEMS) -> str:
        """One sentence: "dense_1.units 32 → 64; learning_rate 0.001 → 0.01; 1 layer added:
        dropout"."""
        if self.identical:
            return "No differences: both runs trained the same model with the same settings."
        items = [c.text(f"{layer.name}.") for layer in self.changed for c in layer.changes]
        items += [s.text() if s.section == "training" else s.text("data.") for s in self.settings]
        for refs, verb in ((self.added, "added"), (self.removed, "removed")):
            if refs:
                n = len(refs)
                names = ", ".join(r.name for r in refs)
                items.append(f"{n} layer{'s' * (n != 1)} {verb}: {names}")
        made, undone = self.rewired()
        items += [f"connected {c.text()}" for c in made]
        items += [f"disconnected {c.text()}" for c in undone]
        shown = items[:limit]
        if len(items) > limit:
            shown.append(f"and {len(items) - limit} more")
        return "; ".join(shown)

    def report_lines(self) -> list[str]:
        """The whole diff as text, for the command line: what each run is, the summary, then
        layers, connections, settings and metrics."""
        lines = [f"A: {self.a_name}", f"B: {self.b_name}", self.summary()]
        layers = [f"  added    {r.name} ({r.class_name})" for r in self.added]
        layers += [f"  removed  {r.name} ({r.class_name})" for r in self.removed]
        for layer in self.changed:
            changes = "; ".join(c.text() for c in layer.changes)
            layers.append(f"  changed  {layer.name} ({layer.class_name}): {changes}")
        connections = [f"  added    {c.text()}" for c in self.connections_added]
        connections += [f"  removed  {c.text()}" for c in self.connections_removed]
        settings = [f"  {s.section:<8} {s.text()}" for s in self.settings]
        for title, block in (
            ("Layers", layers),
            ("Connections", connections),
            ("Settings", settings),
        ):
            if block:
                lines += ["", title, *block]
        if self.metrics:
            width = max(len(m.label) for m in self.metrics)
            cells = [(show(m.a), show(m.b)) for m in self.metrics]
            a_width = max(len("A"), *(len(a) for a, _ in cells))
            lines += ["", f"{'Metrics':<{width + 2}}  {'A':<{a_width}}  B"]
            for m, (a, b) in zip(self.metrics, cells, strict=True):
                mark = {"a": "  (A better)", "b": "  (B better)"}.get(m.better or "", "")
                lines.append(f"  {m.label:<{width}}  {a:<{a_width}}  {b}{mark}".rstrip())
        return lines


# ----------------------------------------------------------------------------- reading runs
def diff_runs(run_a: str | Path, run_b: str | Path) -> RunDiff:
    """The diff of two run folders; TrainingError, one sentence naming the folder, when one is
    no run or holds no copy of its project."""
    from deepgui.core.project import load_project
    from deepgui.core.training.rundir import read_run

    sides = []
    for path in (Path(run_a), Path(run_b)):
        run = read_run(path)  # TrainingError for a folder that is not there
        if run["project"] is None:
            raise TrainingError(
                f"{path}: holds no {run_layout.PROJECT}, so what it trained is not known."
            )
        sides.append((load_project(run["project"]), run["metrics"]))
    (a, metrics_a), (b, metrics_b) = sides
    return diff_projects(
        a.graph,
        b.graph,
        settings_a={"training": a.training, "data": a.dataset},
        settings_b={"training": b.training, "data": b.dataset},
        metrics_a=metrics_a,
        metrics_b=metrics_b,
        names=(Path(run_a).name, Path(run_b).name),
    )


def diff_projects(
    a: Graph,
    b: Graph,
    settings_a: dict[str, dict[str, Any]] | None = None,
    settings_b: dict[str, dict[str, Any]] | None = None,
    metrics_a: dict[str, Any] | None = None,
    metrics_b: dict[str, Any] | None = None,
    names: tuple[str, str] = ("A", "B"),
) -> RunDiff:
    """The diff of two projects-as-trained: their graphs, their settings by section
    ("training", "data") and their runs' metrics."""
    diff = RunDiff(*names, graphs=(a, b))
    diff.matched = match_layers(a, b)
    partner = {bid: aid for aid, bid in diff.matched.items()}
    for node in b:
        aid = partner.get(node.id)
        if aid is None:
            diff.added.append(LayerRef(node.name, node.class_name, node.id))
            continue
        changes = layer_changes(a.nodes[aid], node)
        if changes:
            diff.changed.append(LayerChange(node.name, node.class_name, aid, node.id, changes))
    diff.removed = [LayerRef(n.name, n.class_name, n.id) for n in a if n.id not in diff.matched]
    b_name = {aid: b.nodes[bid].name for aid, bid in diff.matched.items()}
    ours = _connections(a, lambda nid: b_name.get(nid, a.nodes[nid].name))
    theirs = _connections(b, lambda nid: b.nodes[nid].name)
    diff.connections_added = [c for c in theirs if c not in ours]
    diff.connections_removed = [c for c in ours if c not in theirs]
    settings_a, settings_b = settings_a or {}, settings_b or {}
    for section in ("training", "data"):
        diff.settings += setting_changes(
            section, settings_a.get(section) or {}, settings_b.get(section) or {}
        )
    diff.metrics = metric_rows(metrics_a or {}, metrics_b or {})
    return diff


def match_layers(a: Graph, b: Graph) -> dict[str, str]:
    """A's layer id -> B's for the layers both have: the same name, else the same id and
    class (a layer renamed between the runs)."""
    by_name = {n.name: n.id for n in b}
    matched = {n.id: by_name[n.name] for n in a if n.name in by_name}
    taken = set(matched.values())
    for node in a:
        other = b.nodes.get(node.id)
        if (
            node.id not in matched
            and other is not None
            and other.id not in taken
            and other.class_name == node.class_name
        ):
            matched[node.id] = other.id
            taken.add(other.id)
    return matched


def layer_changes(a: Node, b: Node) -> list[Change]:
    """The parameters of one layer that differ, in A's order then B's new ones; a parameter
    left out counts as the catalogue's default for the class."""
    changes = []
    if a.class_name != b.class_name:
        changes.append(Change("class", a.class_name, b.class_name))
    if a.name != b.name:
        changes.append(Change("name", a.name, b.name))
    keys = [k for k in a.config if k != "name"]
    keys += [k for k in b.config if k != "name" and k not in a.config]
    for key in keys:
        old, new = _param(a, key), _param(b, key)
        if not _same(old, new):
            changes.append(Change(key, old, new))
    for key in _NODE_FIELDS:
        old, new = getattr(a, key), getattr(b, key)
        if not _same(old, new):
            changes.append(Change(key, old, new))
    return changes


def _param(node: Node, key: str) -> Any:
    if key in node.config:
        return node.config[key]
    spec = catalogue.get(node.class_name)
    param = spec.param(key) if spec is not None else None
    return param.default if param is not None else NOT_SET


def _connections(graph: Graph, name_of) -> list[Connection]:
    return [
        Connection(name_of(e.source), name_of(e.target), e.target_port, e.source_port)
        for e in graph.edges
    ]


def setting_changes(section: str, a: dict[str, Any], b: dict[str, Any]) -> list[SettingChange]:
    """The fields of one settings section ("training" or "data") that differ, nested fields
    by their dotted path (``early_stopping.patience``); a field left out is the default."""
    from deepgui.core import settings

    defaults = _flat(settings.defaults("dataset" if section == "data" else section))
    flat_a, flat_b = _flat(a), _flat(b)
    keys = list(flat_a) + [k for k in flat_b if k not in flat_a]
    out = []
    for key in keys:
        old = flat_a.get(key, defaults.get(key, NOT_SET))
        new = flat_b.get(key, defaults.get(key, NOT_SET))
        if not _same(old, new):
            out.append(SettingChange(key, old, new, section))
    return out


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _same(a: Any, b: Any) -> bool:
    # True and 1 are different settings; 1 and 1.0 (a learning rate typed either way) are not.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# ----------------------------------------------------------------------------- metrics
def lower_is_better(metric: str) -> bool:
    """Losses and errors fall as a model improves; accuracies, AUCs and the like rise."""
    base = metric.removeprefix("val_").lower()
    return "loss" in base or "error" in base or base in ("mae", "mse", "rmse", "mape", "msle")


def metric_rows(a: dict[str, Any], b: dict[str, Any]) -> list[MetricRow]:
    """How each run ended, side by side: why it stopped, its best and final scores, its test
    scores, its size and speed. Rows neither run has are left out."""
    rows = [
        _row("stopped by", a.get("stopped_by"), b.get("stopped_by")),
        _row("epochs run", a.get("epochs_run"), b.get("epochs_run")),
    ]
    best_a, best_b = a.get("best") or {}, b.get("best") or {}
    monitor = best_b.get("monitor") or best_a.get("monitor")
    if monitor:
        rows.append(
            _score(
                f"best {monitor}",
                monitor,
                (best_a.get("metrics") or {}).get(monitor),
                (best_b.get("metrics") or {}).get(monitor),
            )
        )
        rows.append(_row("best epoch", best_a.get("epoch"), best_b.get("epoch")))
    for section in ("final", "test"):
        sa, sb = a.get(section) or {}, b.get(section) or {}
        sa, sb = (sa if isinstance(sa, dict) else {}), (sb if isinstance(sb, dict) else {})
        for key in list(sa) + [k for k in sb if k not in sa]:
            rows.append(_score(f"{section} {key}", key, sa.get(key), sb.get(key)))
    for label, key in (
        ("params", "params"),
        ("data", "data"),
        ("wall seconds", "wall_seconds"),
        ("samples/s", "samples_per_second"),
        ("device", "device"),
        ("engine", "engine"),
    ):
        rows.append(_row(label, a.get(key), b.get(key)))
    return [r for r in rows if r.a is not None or r.b is not None]


def _row(label: str, a: Any, b: Any) -> MetricRow:
    return MetricRow(label, a, b)


def _score(label: str, metric: str, a: Any, b: Any) -> MetricRow:
    better = None
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    if numbers and a != b:
        a_wins = (a < b) if lower_is_better(metric) else (a > b)
        better = "a" if a_wins else "b"
    return MetricRow(label, a, b, better)


def show(value: Any) -> str:
    """A value as a person reads it: ``0.001``, ``3×3``, ``relu``, ``(not set)``."""
    if value is NOT_SET:
        return "(not set)"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "×".join(str(v) for v in value)
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        if set(value) >= {"class_name"}:  # a Keras object (initializer, regularizer)
            inner = value.get("config") or {}
            args = ", ".join(f"{k}={show(v)}" for k, v in inner.items() if v is not None)
            return f"{value['class_name']}({args})" if args else str(value["class_name"])
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, str) and not value:
        return '""'
    return str(value)
