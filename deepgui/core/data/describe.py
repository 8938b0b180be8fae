"""Plain words for the boundary between the data and the network: what each Input layer of the
graph receives (table columns, image size, arrays) and what the preprocessing inside the model
does to each, and what loading a table did about its missing values. The canvas and the data
panel show these texts; the decisions about wording live here, without Qt."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from deepgui.core.data.preprocessing import Preprocessing, RawInput

# Rows a caption shows before it counts the rest ("+ 12 more"): beside a layer on the canvas,
# a long table would otherwise push the caption far across the graph.
CAPTION_ROWS = 6


@dataclass
class InputCaption:
    """What one Input layer receives: a title and one (what, treatment) row per raw input,
    in few words; `details` says the same in the preprocessing's own words, one line each."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    limit: int = CAPTION_ROWS

    def visible_rows(self) -> list[tuple[str, str]]:
        """The rows a compact caption shows; `hidden` counts the rest."""
        if len(self.rows) <= self.limit:
            return list(self.rows)
        return list(self.rows[: self.limit - 1])

    @property
    def hidden(self) -> int:
        return len(self.rows) - len(self.visible_rows())

    def more_text(self) -> str:
        return f"+ {self.hidden} more (hover to see all)" if self.hidden else ""

    def lines(self) -> list[str]:
        """For a tooltip: the title, then every row in the preprocessing's own words."""
        return [self.title, *(self.details or [f"{what}: {how}" for what, how in self.rows])]

    def text(self) -> str:
        """The whole caption as it reads, every row included: ``what: treatment`` lines."""
        return "\n".join([self.title, *(f"{what}: {how}" for what, how in self.rows)])


def input_captions(
    pre: Preprocessing | None,
    inputs: Sequence[tuple[str, str]],
    feature_names: Iterable[str] = (),
) -> dict[str, InputCaption]:
    """A caption per Input layer of the graph, keyed by node id; `inputs` are the graph's
    (node id, layer name) pairs. A network input receives the group of raw inputs of the same
    name (how the trained model feeds it); a graph with a single Input receives every group."""
    if pre is None or not inputs:
        return {}
    by_name = pre.by_name()
    groups = {g.name: [by_name[n] for n in g.inputs if n in by_name] for g in pre.groups}
    out: dict[str, InputCaption] = {}
    if len(inputs) == 1:
        node_id = inputs[0][0]
        fed = {r.name for members in groups.values() for r in members}
        raws = [r for r in pre.inputs if r.name in fed]  # in the file's column order
        out[node_id] = _caption(pre, raws, list(feature_names))
        return out
    for node_id, name in inputs:
        if name in groups:
            out[node_id] = _caption(pre, groups[name], list(feature_names))
    return out


def missing_summary(counts: dict[str, Any] | None, policy: str = "fill") -> str:
    """One sentence on what loading did about gaps in a table (`LoadedData.extras["missing"]`
    and the dataset's "missing" field); empty when the source has no such counts."""
    if not counts:
        return ""
    cells = int(counts.get("cells", 0))
    filled = int(counts.get("filled", 0))
    dropped = int(counts.get("rows_dropped", 0))
    if cells == 0:
        return "No missing values."
    if policy == "drop":
        return (
            f"{_count(dropped, 'row')} with missing values dropped ({_count(cells, 'empty cell')})."
        )
    parts = []
    if filled:  # how each column is filled is on the Input layer's caption
        parts.append(f"{_count(filled, 'missing cell')} filled inside the model")
    if dropped:
        parts.append(f"{_count(dropped, 'row')} without a target left out")
    if not parts:
        return "No missing values."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


# ----------------------------------------------------------------------------- internals
def _caption(pre: Preprocessing, raws: list[RawInput], feature_names: list[str]) -> InputCaption:
    if pre.table:
        columns = [r for r in raws if r.kind != "array"]
        title = f"Receives {_count(len(columns), 'column')}"
        rows = [(r.column or r.name, _treatment(r)) for r in raws]
        return InputCaption(title, rows, [f"{r.column or r.name}: {r.describe()}" for r in raws])
    if len(raws) != 1:  # several arrays into one layer: name each
        return InputCaption(
            f"Receives {_count(len(raws), 'array')}", [(r.name, _treatment(r)) for r in raws]
        )
    raw = raws[0]
    if pre.image:
        h, w, mode = pre.image.get("height"), pre.image.get("width"), pre.image.get("color_mode")
        how = "as they are (the network scales them)" if raw.scale is None else _scaling(raw)
        return InputCaption(f"Receives {h}×{w} {mode} images", [("pixels 0–255", how)])
    shape = [int(d) for d in raw.shape]
    if len(shape) == 2 and len(feature_names) == shape[1]:  # time-series windows
        title = f"Receives windows of {shape[0]} steps × {_count(shape[1], 'column')}"
        how = "standardized" if raw.scale is not None else "as they are"
        return InputCaption(title, [(name, how) for name in feature_names])
    title = f"Receives arrays of shape {'×'.join(map(str, shape)) or 'scalar'}"
    what = "token ids" if raw.dtype.startswith("int") else "values"
    return InputCaption(title, [(what, _treatment(raw))])


def _treatment(r: RawInput) -> str:
    """RawInput.describe() in fewer words: a caption row beside a layer has little room."""
    if r.kind == "array":
        return _scaling(r)
    if r.kind == "category":
        how = "one-hot" if r.one_hot else "index"
        return f"{how}: {_count(len(r.vocabulary), 'category', 'categories')} + unseen"
    if r.kind == "text":
        return f"{_count(len(r.vocabulary), 'word')} → {r.sequence_length} token ids"
    return r.describe().replace(" -> ", " → ")


def _scaling(r: RawInput) -> str:
    if r.scale is None:
        return "as they are"
    if isinstance(r.scale, list):
        return "standardized per column"
    divisor = 1.0 / float(r.scale) if r.scale else 0.0
    if divisor and abs(divisor - round(divisor)) < 1e-6 and not r.offset:
        return f"÷ {round(divisor)}"
    return f"× {float(r.scale):.4g}" + (f" + {float(r.offset):.4g}" if r.offset else "")


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
