"""The preprocessing between the data as the user has it and the network: Keras layers whose
state (statistics, vocabularies) was learned on the training split, saved inside the model.

A loader reads the raw data, splits it, and fits a `Preprocessing` on the training rows. The
engine trains the network on the preprocessed arrays (computed once by these same layers, as a
cached tf.data map would), and the run saves ``wrap(network)``: one model whose inputs are the
raw data (one named input per table column, raw pixels 0-255) and whose outputs are the
network's. A `Preprocessing` is plain data (``to_dict``/``from_dict``): the run directory and
every export carry it as JSON, so `deepgui predict` and the exported script know the inputs.

The layers, per raw input:
- numeric column: NaN -> the training split's median (`keras.ops.where`), then standardized by
  a Rescaling layer with the training mean and deviation. (Rescaling, not Normalization: Keras's
  ONNX exporter turns Normalization's constants into extra graph inputs, which no caller feeds.)
- string category: StringLookup, index 0 the out-of-vocabulary slot (missing or unseen values),
  one-hot up to `MAX_ONE_HOT` categories, else the index as a number;
- free text: TextVectorization with the adapted vocabulary;
- image or array: Rescaling by the source's scale (1/255 for pixels), or nothing when the
  network itself starts with Rescaling or Normalization: nothing scales twice.
Formats that cannot hold string lookups (TFLite, ONNX) take `wrap(network, strings=False)`:
categories as their index and texts as token ids, with the vocabularies written beside.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from deepgui.core import node_kinds
from deepgui.core.errors import DatasetError
from deepgui.core.graph import Node
from deepgui.core.keras_layers import keras

FORMAT = "deepgui-preprocessing"
KINDS = ("numeric", "category", "text", "array")
# Above this many categories a column is one index number rather than one-hot columns.
MAX_ONE_HOT = 20
# Layers that scale their input: a network starting with one takes raw values.
SCALING_LAYERS = ("Rescaling", "Normalization")
APPLY_BATCH = 4096


@dataclass
class RawInput:
    """One input of the raw-input model: what the user feeds and how it becomes numbers."""

    name: str  # the model input's name (a table column's name made safe for every format)
    kind: str  # "numeric" | "category" | "text" | "array"
    shape: list[int]  # without the batch axis
    dtype: str = "float32"  # "float32", "int32" or "string"
    column: str | None = None  # the table column it reads
    fill: float | None = None  # numeric: what a missing value (NaN) becomes
    scale: Any = None  # numeric or array: x * scale + offset (None: left as it is)
    offset: Any = None
    vocabulary: list[str] = field(default_factory=list)  # category and text
    one_hot: bool = True  # category: one-hot columns, else the index as a number
    sequence_length: int = 0  # text: token ids per text
    resize: list[int] | None = None  # image: [height, width] it is resized to, any size in

    def describe(self) -> str:
        """A few words on what happens to this input, for the canvas and the summary."""
        if self.kind == "numeric":
            steps = []
            if self.fill is not None:
                steps.append(f"missing -> {self.fill:g}")
            if self.scale is not None:
                steps.append("standardized")
            return ", ".join(steps) or "as it is"
        if self.kind == "category":
            how = "one-hot" if self.one_hot else "index"
            return f"{len(self.vocabulary)} categories, {how} (+1 for unseen)"
        if self.kind == "text":
            return f"text: {len(self.vocabulary)} words, {self.sequence_length} tokens"
        steps = [f"resized to {self.resize[0]}x{self.resize[1]}"] if self.resize else []
        if self.scale is not None:
            steps.append(
                f"x {self.scale:.4g}" if not isinstance(self.scale, list) else "standardized"
            )
        return ", ".join(steps) or "as it is"

    def strings_as_numbers(self) -> RawInput:
        """This input as formats without string lookups take it: a category's index (0 for
        unseen) or a text's token ids."""
        if self.dtype != "string":
            return self
        shape = [self.sequence_length] if self.kind == "text" else [1]
        return RawInput(**{**asdict(self), "dtype": "int32", "shape": shape})


@dataclass
class Group:
    """One network input: the raw inputs whose preprocessed values it receives, concatenated."""

    name: str
    inputs: list[str]


@dataclass
class Preprocessing:
    """The raw inputs, and which network input each feeds (see the module docstring)."""

    inputs: list[RawInput]
    groups: list[Group]
    table: bool = False  # one named input per column (a dict), else one array
    image: dict[str, Any] | None = None  # {"height", "width", "color_mode"} for image files
    # The table's label column when it has one; a list of them when it has one per output.
    target: str | list[str] | None = None
    # A time series cut into windows: how raw rows become the one input, so that `deepgui
    # predict` windows a CSV as training did: {"columns", "target", "window", "horizon",
    # "missing"} (timeseries.py).
    series: dict[str, Any] | None = None

    @property
    def targets(self) -> list[str]:
        """The table's label columns: none, one, or one per model output."""
        if not self.target:
            return []
        return [self.target] if isinstance(self.target, str) else list(self.target)

    # ------------------------------------------------------------------ description
    @property
    def has_strings(self) -> bool:
        return any(r.dtype == "string" for r in self.inputs)

    @property
    def is_identity(self) -> bool:
        """Nothing to do: the network takes the data as it is."""
        return (
            not self.table
            and len(self.inputs) == 1
            and self.inputs[0].kind == "array"
            and self.inputs[0].scale is None
            and self.inputs[0].fill is None
            and not self.inputs[0].resize
        )

    def changes(self, raw: Any) -> bool:
        """Whether the layers change these raw arrays at all (images already at the size the
        model resizes to, with no scaling, pass through untouched)."""
        if self.is_identity:
            return False
        only = self.inputs[0] if not self.table and len(self.inputs) == 1 else None
        if only is None or only.scale is not None or only.fill is not None or not only.resize:
            return True
        return raw is not None and list(np.shape(raw)[1:3]) != list(only.resize)

    def by_name(self) -> dict[str, RawInput]:
        return {r.name: r for r in self.inputs}

    def column_names(self) -> dict[str, str]:
        """Input name -> the table column it reads."""
        return {r.name: r.column or r.name for r in self.inputs}

    def step_count(self) -> int:
        """Preprocessing layers in the model (as `outputs` builds them), for the summary."""
        by_name, count = self.by_name(), 0
        for g in self.groups:
            parts = _numeric_runs([by_name[n] for n in g.inputs])
            for run in parts:
                if isinstance(run, list):  # joined, then one fill and one scaling
                    count += 1 + any(r.fill is not None for r in run)
                    count += any(r.scale is not None for r in run)
                else:
                    count += (run.fill is not None) + (run.scale is not None) + bool(run.resize)
                    count += (run.dtype == "string") + (run.kind == "category" and not run.one_hot)
            count += len(parts) > 1  # the group's columns joined
        return count

    def describe(self) -> list[str]:
        return [f"{r.column or r.name}: {r.describe()}" for r in self.inputs]

    def to_dict(self) -> dict[str, Any]:
        out = {
            "format": FORMAT,
            "version": 1,
            "inputs": [_plain(asdict(r)) for r in self.inputs],
            "groups": [asdict(g) for g in self.groups],
            "table": self.table,
            "image": self.image,
            "target": self.target,
        }
        if self.series is not None:
            out["series"] = dict(self.series)
        return out

    @classmethod
    def from_dict(cls, data: Any, what: str = "the preprocessing") -> Preprocessing:
        try:
            if data.get("format") != FORMAT:
                raise ValueError("not a deepgui preprocessing description")
            inputs = [RawInput(**r) for r in data["inputs"]]
            groups = [Group(g["name"], list(g["inputs"])) for g in data["groups"]]
            for r in inputs:
                if r.kind not in KINDS:
                    raise ValueError(f"unknown input kind {r.kind!r}")
            series = _series(data.get("series"))
            return cls(inputs, groups, bool(data.get("table")), data.get("image"),
                       data.get("target"), series)  # fmt: skip
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise DatasetError(
                f"{what}: is not a valid preprocessing description ({exc})."
            ) from None

    # ------------------------------------------------------------------ Keras
    def raw_inputs(self, strings: bool = True) -> Any:
        """Fresh keras.Input tensors: a dict by name for a table, else the one tensor."""
        k = keras()
        tensors = {}
        for r in self.inputs:
            spec = r if strings else r.strings_as_numbers()
            tensors[r.name] = k.Input(tuple(spec.shape), dtype=spec.dtype, name=r.name)
        return tensors if self.table else next(iter(tensors.values()))

    def outputs(self, raw: Any, strings: bool = True) -> Any:
        """The network's inputs computed from `raw` (what raw_inputs gives) by the layers."""
        k = keras()
        tensors = raw if self.table else {self.inputs[0].name: raw}
        by_name = self.by_name()
        out = {}
        for g in self.groups:
            parts = []
            for run in _numeric_runs([by_name[n] for n in g.inputs]):
                if isinstance(run, list):  # neighbouring numeric columns: one set of ops
                    parts.append(_encode_numeric(k, run, [tensors[r.name] for r in run]))
                else:
                    parts.append(_encode(k, run, tensors[run.name], strings))
            out[g.name] = (
                parts[0]
                if len(parts) == 1
                else k.layers.Concatenate(name=_layer_name(f"{g.name}_columns"))(parts)
            )
        return out if len(out) > 1 else next(iter(out.values()))

    def model(self, strings: bool = True):
        """The preprocessing alone: raw data in, the network's inputs out."""
        raw = self.raw_inputs(strings)
        return keras().Model(raw, self.outputs(raw, strings), name="preprocessing")

    def wrap(self, network, strings: bool = True, name: str | None = None):
        """One model that takes the raw data and returns the network's outputs."""
        k = keras()
        if not self.table and len(self.inputs) == 1 and len(network.inputs) == 1:
            # The one raw input keeps the network input's name: that is what callers know.
            self.inputs[0].name = _input_name(network.inputs[0])
            self.groups[0].inputs = [self.inputs[0].name]
        raw = self.raw_inputs(strings)
        pre = k.Model(raw, self.outputs(raw, strings), name="preprocessing")
        feed = pre(raw)
        if isinstance(feed, dict) and len(network.inputs) == 1:
            raise DatasetError(
                f"The network has one input but the data feeds {len(feed)} "
                f"({', '.join(feed)}): give it one Input per name."
            )
        return k.Model(raw, network(feed), name=name or network.name)

    def apply(self, raw: Any, batch_size: int = APPLY_BATCH) -> Any:
        """Run the layers over raw data in batches: the network-ready arrays."""
        if raw is None:
            return None
        model = self._cached_model()
        n = _length(raw)
        if n == 0:
            return _empty_outputs(model)
        chunks = []
        for start in range(0, n, batch_size):
            part = _slice(raw, start, start + batch_size)
            chunks.append(_to_numpy(model(part, training=False)))
        if isinstance(chunks[0], dict):
            return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        return np.concatenate(chunks)

    def _cached_model(self):
        if getattr(self, "_model", None) is None:
            self._model = self.model()
        return self._model

    # ------------------------------------------------------------------ raw data helpers
    def numbers_for_strings(self, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Raw table columns as `wrap(..., strings=False)` takes them: categories as their
        index (0 when unseen), texts as token ids, the rest unchanged."""
        out = {}
        for r in self.inputs:
            values = raw[r.name]
            if r.kind == "category":
                index = {v: i + 1 for i, v in enumerate(r.vocabulary)}
                flat = np.asarray(values, dtype=object).reshape(-1)
                out[r.name] = np.array([index.get(str(v), 0) for v in flat], np.int32)[:, None]
            elif r.kind == "text":
                out[r.name] = _text_ids(r, values)
            else:
                out[r.name] = values
        return out

    def vocabularies(self) -> dict[str, Any]:
        """What a caller of the string-free formats needs to turn strings into numbers."""
        out = {}
        for r in self.inputs:
            if r.kind == "category":
                out[r.column or r.name] = {
                    "input": r.name,
                    "index": "position in this list plus 1; 0 for a missing or unseen value",
                    "values": list(r.vocabulary),
                }
            elif r.kind == "text":
                out[r.column or r.name] = {
                    "input": r.name,
                    "index": (
                        "lower-case, strip punctuation, split on spaces; each word's position "
                        "in this list plus 2 (0 pads, 1 an unknown word); padded or cut to "
                        f"{r.sequence_length} ids"
                    ),
                    "values": list(r.vocabulary),
                }
        return out


def _series(data: Any) -> dict[str, Any] | None:
    """A time series' windowing (Preprocessing.series), checked: ValueError says what is wrong."""
    if data is None:
        return None
    columns = data.get("columns") if isinstance(data, dict) else None
    if not (isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns)):
        raise ValueError('"series" must name its "columns"')
    for key in ("window", "horizon"):
        value = data.get(key, 1 if key == "horizon" else None)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f'"series.{key}" must be a whole number of rows, at least 1')
    if data.get("missing", "fill") not in ("fill", "drop", "refuse"):
        raise ValueError('"series.missing" must be fill, drop or refuse')
    return dict(data)


# ---------------------------------------------------------------------------- building them
def safe_input_name(column: str, taken: set[str]) -> str:
    """A column name made safe as a model input name in every format (SavedModel signatures
    allow letters, digits, '_', '.' and '-'), unique among `taken`."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", str(column)).strip("_") or "column"
    if not base[0].isalpha():
        base = f"c_{base}"
    name, i = base, 2
    while name.lower() in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name.lower())
    return name


def numeric_input(name: str, column: str, values: np.ndarray, standardize: bool) -> RawInput:
    """A numeric column fitted on its training values (NaN where missing)."""
    present = values[np.isfinite(values)]
    # Filled even when training had no gaps: the rows a model is later given may have them.
    fill = float(np.median(present)) if len(present) else 0.0
    r = RawInput(name, "numeric", [1], column=column, fill=fill)
    if standardize and len(present):
        mean, std = float(present.mean()), float(present.std())
        if not (np.isfinite(mean) and np.isfinite(std)):
            # Values near the float limit overflow the statistics: scale by the largest instead.
            big = float(np.abs(present).max())
            mean, std = 0.0, big
        std = std if std > 1e-12 else 1.0  # a constant column stays 0, not NaN
        r.scale, r.offset = 1.0 / std, -mean / std
    return r


def category_input(name: str, column: str, strings: np.ndarray, missing: np.ndarray) -> RawInput:
    """A string column: its training categories, sorted; missing cells are left out (they take
    the out-of-vocabulary slot)."""
    vocabulary = sorted({str(s) for s in np.asarray(strings)[~missing]})
    return RawInput(
        name,
        "category",
        [1],
        dtype="string",
        column=column,
        vocabulary=vocabulary,
        one_hot=len(vocabulary) <= MAX_ONE_HOT,
    )


def text_input(name: str, column: str, texts: np.ndarray, length: int, max_tokens: int):
    """A free-text column: TextVectorization adapted on the training texts."""
    layer = keras().layers.TextVectorization(
        max_tokens=max_tokens, output_mode="int", output_sequence_length=length
    )
    layer.adapt(np.asarray(texts, dtype=object).astype(str), batch_size=4096)
    vocabulary = [str(w) for w in layer.get_vocabulary(include_special_tokens=False)]
    return RawInput(
        name,
        "text",
        [1],
        dtype="string",
        column=column,
        vocabulary=vocabulary,
        sequence_length=length,
    )


def array_preprocessing(
    shape: tuple[int, ...],
    name: str = "x",
    *,
    scale: Any = None,
    offset: Any = None,
    dtype: str = "float32",
    image: dict[str, Any] | None = None,
) -> Preprocessing:
    """One array input (images, windows, plain arrays): scaled, or passed as it is. An image
    input takes pictures of any size and resizes them (bilinear, as the loader did) to the
    data set's size inside the model."""
    dims: list[Any] = [int(d) for d in shape]
    resize = None
    if image is not None and len(dims) == 3:
        resize, dims = dims[:2], [None, None, dims[2]]
    raw = RawInput(name, "array", dims, dtype=dtype, scale=scale, offset=offset, resize=resize)
    return Preprocessing([raw], [Group(name, [name])], table=False, image=image)


def network_of(model):
    """The trained network inside a raw-input model (the one nested model beside
    "preprocessing"), or the model itself when it has no preprocessing in front."""
    names = [layer.name for layer in model.layers]
    if "preprocessing" not in names:
        return model
    nested = [
        layer
        for layer in model.layers
        if hasattr(layer, "layers") and layer.name != "preprocessing"
    ]
    if len(nested) != 1:
        raise DatasetError(
            f"{model.name}: the network cannot be told apart from its preprocessing "
            f"({len(nested)} nested models)."
        )
    return nested[0]


def model_scales_inputs(graph) -> bool:
    """Whether every Input of the graph feeds straight into Rescaling or Normalization (the
    keras.io shape): then the loader hands the network raw values."""
    if graph is None:
        return False
    inputs = graph.input_nodes()
    if not inputs:
        return False
    for node in inputs:
        following = [graph.node(i) for i in graph.successors(node.id)]
        if not following or not all(_scales(n) for n in following):
            return False
    return True


def _scales(node) -> bool:
    """Whether the node takes raw values and scales them itself: a scaling layer, a palette
    backbone (its family's preprocess_input is inside it), or a model used as a layer whose
    first layer scales (EfficientNet and ConvNeXt carry their own)."""
    kind = node_kinds.kind(node)
    if kind == node_kinds.BACKBONE:
        return True
    if kind == node_kinds.BLOCK:
        layers = [
            entry.get("class_name")
            for entry in node.config.get("layers", [])
            if isinstance(entry, dict) and entry.get("class_name") != "InputLayer"
        ]
        if layers and layers[0] in node_kinds.MODEL_CLASSES:  # the application inside a wrapper
            inner = next(e for e in node.config["layers"] if e.get("class_name") == layers[0])
            return _scales(_as_node(inner))
        return bool(layers) and layers[0] in SCALING_LAYERS
    return node.class_name in SCALING_LAYERS and kind == node_kinds.LAYER


def _as_node(entry: dict):
    return Node("inner", entry["class_name"], entry.get("config") or {}, module=entry.get("module"))


# ---------------------------------------------------------------------------- internals
def _encode(k, r: RawInput, x, strings: bool):
    """The layers for one raw input."""
    ops = k.ops
    if r.kind in ("numeric", "array"):
        if r.resize:
            height, width = r.resize
            x = k.layers.Resizing(height, width, name=_layer_name(f"resize_{r.name}"))(x)
        if r.fill is not None:
            x = ops.where(ops.isnan(x), r.fill, x)
        if r.scale is not None:
            x = k.layers.Rescaling(
                scale=r.scale, offset=r.offset or 0.0, name=_layer_name(f"scale_{r.name}")
            )(x)
        return x
    if r.kind == "category":
        if strings:
            lookup = k.layers.StringLookup(
                vocabulary=list(r.vocabulary) or ["[none]"],
                num_oov_indices=1,
                output_mode="one_hot" if r.one_hot else "int",
                name=_layer_name(f"lookup_{r.name}"),
            )
            x = lookup(x)
        elif r.one_hot:
            x = k.layers.CategoryEncoding(
                num_tokens=len(r.vocabulary) + 1,
                output_mode="one_hot",
                name=_layer_name(f"one_hot_{r.name}"),
            )(x)
        if not r.one_hot:
            x = ops.cast(x, "float32")
        return x
    # text
    if not strings:
        return x  # token ids already
    layer = k.layers.TextVectorization(
        vocabulary=list(r.vocabulary) or ["[none]"],
        output_mode="int",
        output_sequence_length=r.sequence_length,
        name=_layer_name(f"words_{r.name}"),
    )
    return layer(ops.reshape(x, (-1,)))


def _numeric_runs(inputs: list[RawInput]) -> list[Any]:
    """The inputs in order, neighbouring table columns of numbers gathered into lists: a
    30-column table then takes three operations instead of sixty (training data is prepared
    faster, and the raw-input model predicts at nearly the bare network's speed)."""
    out: list[Any] = []
    for r in inputs:
        if r.kind == "numeric" and r.shape == [1]:
            if out and isinstance(out[-1], list):
                out[-1].append(r)
                continue
            out.append([r])
        else:
            out.append(r)
    return [run[0] if isinstance(run, list) and len(run) == 1 else run for run in out]


def _encode_numeric(k, run: list[RawInput], tensors: list) -> Any:
    """Numeric columns side by side: missing values filled, then standardized."""
    ops = k.ops
    first = _layer_name(run[0].name)
    x = k.layers.Concatenate(name=f"numbers_from_{first}")(tensors)
    if any(r.fill is not None for r in run):
        fill = [r.fill if r.fill is not None else 0.0 for r in run]
        x = ops.where(ops.isnan(x), np.array(fill, np.float32), x)
    if any(r.scale is not None for r in run):
        scale = [r.scale if r.scale is not None else 1.0 for r in run]
        offset = [r.offset if r.offset is not None else 0.0 for r in run]
        x = k.layers.Rescaling(scale=scale, offset=offset, name=f"standardize_from_{first}")(x)
    return x


def _text_ids(r: RawInput, texts: np.ndarray) -> np.ndarray:
    layer = keras().layers.TextVectorization(
        vocabulary=list(r.vocabulary) or ["[none]"],
        output_mode="int",
        output_sequence_length=r.sequence_length,
    )
    flat = np.asarray(texts, dtype=object).reshape(-1).astype(str)
    return np.asarray(layer(flat)).astype(np.int32)


def _layer_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _input_name(tensor) -> str:
    name = str(getattr(tensor, "name", "") or "input")
    return name.split(":")[0]


def _plain(value: Any) -> Any:
    """JSON-ready: NumPy numbers and arrays become Python ones."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _length(raw: Any) -> int:
    if isinstance(raw, dict):
        return len(next(iter(raw.values())))
    return len(raw)


def _slice(raw: Any, start: int, stop: int) -> Any:
    if isinstance(raw, dict):
        return {k: v[start:stop] for k, v in raw.items()}
    return raw[start:stop]


def _to_numpy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _empty_outputs(model) -> Any:
    outs = model.outputs
    arrays = [np.zeros((0, *tuple(t.shape)[1:]), dtype=str(t.dtype)) for t in outs]
    if isinstance(model.output, dict):
        return dict(zip(model.output, arrays, strict=True))
    return arrays[0]
