"""The graph as a readable Keras script that runs and builds the same model.

A single chain from one Input becomes ``keras.Sequential([...])``, anything else the functional
API. Only arguments that differ from the layer's own defaults are written: each node's layer is
built, its config compared with that of a layer made from the required arguments alone, and
only the differences kept, so the script reads like one a person would write and still gives
exactly the same layer configs.

With the project's data and training settings the script becomes a program that stands alone
(codegen_training.py): the network is then a function written with the functional API always,
because trained weights are laid out by the class and order of the layers, and a run saves a
functional model.
"""

from __future__ import annotations

import inspect
import json
import keyword
import re
from pathlib import Path
from typing import Any

from deepgui.core.errors import BuildError, GraphError
from deepgui.core.graph import Graph, Node
from deepgui.core.keras_layers import POSITIONAL_INPUTS, input_shape_of, keras, make_layer

LINE = 100
INDENT = "    "
# Names the script itself uses; a layer called like this gets a suffix as its variable.
_RESERVED = {"keras", "layers", "model", "loss", "metrics", "x_train", "y_train"}
# Tensors are passed one by one (query, value[, key]) to these, as a list to other merges.
_BASE_KWARGS = {"name", "trainable", "dtype"}


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
    order = _order(graph)
    if dataset is not None or training is not None or trained is not None:
        from deepgui.core.codegen_training import program

        return program(
            graph, dataset or {}, training or {}, name, base_dir, trained, file_stem or name
        )
    renderer = _Renderer()
    lines = [
        f'"""The Keras model {_s(name)}, written out by deepgui: run it with Python to build it."""',
        "",
        "import keras",
        "from keras import layers",
        "",
    ]
    if _is_chain(graph, order):
        lines += _sequential(graph, order, renderer, name)
    else:
        lines += _functional(graph, order, renderer, name)
    lines += ["", "model.summary()"]
    return "\n".join(lines) + "\n"


def network_function(graph: Graph, name: str, function: str = "build_network") -> list[str]:
    """``def build_network():`` returning the untrained network, with the functional API."""
    order = _order(graph)
    body = _functional(graph, order, _Renderer(), name, indent=INDENT, result=None)
    doc = f'{INDENT}"""The network {_s(name)}: a fresh, untrained keras.Model."""'
    return [f"def {function}():", doc, *body]


def _order(graph: Graph) -> list[str]:
    try:
        order = graph.topological_order()
    except GraphError as exc:
        raise BuildError(f"The model cannot be written as code: {exc}") from None
    if not graph.input_nodes():
        raise BuildError("The model has no Input layer, so it cannot be written as code.")
    return order


# ---------------------------------------------------------------------- structure
def _is_chain(graph: Graph, order: list[str]) -> bool:
    """One Input, then each layer reading only the one before it."""
    if len(graph.input_nodes()) != 1 or len(graph.output_nodes()) != 1 or len(order) < 2:
        return False
    if not graph.nodes[order[0]].is_input:
        return False
    for prev, nid in zip(order, order[1:], strict=False):
        if graph.predecessors(nid) != [prev] or graph.successors(prev) != [nid]:
            return False
    return True


def _sequential(graph: Graph, order: list[str], r: _Renderer, name: str) -> list[str]:
    items = [_input_call(graph.nodes[order[0]], r)]
    items += [r.layer(graph.nodes[nid]) for nid in order[1:]]
    lines = ["model = keras.Sequential("]
    lines.append(INDENT + "[")
    for item in items:
        lines += _wrap(INDENT * 2, item, ",")
    lines.append(INDENT + "],")
    lines.append(f"{INDENT}name={_s(name)},")
    lines.append(")")
    return lines


def _functional(
    graph: Graph,
    order: list[str],
    r: _Renderer,
    name: str,
    indent: str = "",
    result: str | None = "model",
) -> list[str]:
    """Functional-API lines at `indent`, ending ``RESULT = keras.Model(...)`` (or, with no
    `result`, ``return keras.Model(...)``)."""
    variables = _variable_names(graph, order)
    lines: list[str] = []
    for node in graph.input_nodes():
        lines += _wrap(indent, f"{variables[node.id]} = {_input_call(node, r)}", "")
    lines.append("")
    for nid in order:
        node = graph.nodes[nid]
        if node.is_input:
            continue
        sources = [variables[p] for p in graph.predecessors(nid)]
        if not sources:
            raise BuildError(f"{node.name} has no input, so the model cannot be written as code.")
        call = f"{variables[nid]} = {r.layer(node)}({_call_args(node, sources)})"
        lines += _wrap(indent, call, "")
    inputs = [variables[n.id] for n in graph.input_nodes()]
    outputs = [variables[n.id] for n in graph.output_nodes()]
    lines.append("")
    call = (
        f"{'return' if result is None else result + ' ='} keras.Model(inputs="
        f"{_one_or_list(inputs)}, outputs={_one_or_list(outputs)}, name={_s(name)})"
    )
    lines += _wrap(indent, call, "")
    return lines


def _call_args(node: Node, sources: list[str]) -> str:
    from deepgui.core.catalogue import input_arity

    if node.class_name in POSITIONAL_INPUTS:
        return ", ".join(sources)
    _, most = input_arity(node.class_name)
    if most is None or most > 1:
        return "[" + ", ".join(sources) + "]"
    return sources[0]


def _one_or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"


def _variable_names(graph: Graph, order: list[str]) -> dict[str, str]:
    taken = set(_RESERVED)
    out = {}
    for nid in order:
        base = re.sub(r"\W+", "_", graph.nodes[nid].name).strip("_") or "layer"
        if base[0].isdigit():
            base = "x_" + base
        candidate = base
        i = 1
        while candidate in taken or keyword.iskeyword(candidate):
            candidate = f"{base}_{i}"
            i += 1
        taken.add(candidate)
        out[nid] = candidate
    return out


def _input_call(node: Node, r: _Renderer) -> str:
    shape = input_shape_of(node)
    args = [f"shape={_tuple(shape[1:])}"]
    if shape[0] is not None:
        args.append(f"batch_size={shape[0]}")
    dtype = node.config.get("dtype")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    if dtype and dtype != "float32":
        args.append(f"dtype={_s(dtype)}")
    for flag in ("sparse", "ragged", "optional"):
        if node.config.get(flag):
            args.append(f"{flag}=True")
    args.append(f"name={_s(node.name)}")
    return f"keras.Input({', '.join(args)})"


# ---------------------------------------------------------------------- values
class _Renderer:
    """Writes layers and Keras objects as constructor calls with their non-default arguments."""

    def __init__(self) -> None:
        self.k = keras()

    def layer(self, node: Node) -> str:
        try:
            built = make_layer(node)
        except Exception as exc:
            raise BuildError(f"{node.name} cannot be written as code: {exc}") from None
        config = _plain(built.get_config())
        return self.call("layers", node.class_name, config, keep_name=True)

    def call(self, prefix: str, class_name: str, config: dict[str, Any], keep_name: bool) -> str:
        cls = getattr(getattr(self.k, prefix.split(".")[-1], None), class_name, None)
        if cls is None:  # not a public Keras class: fall back to Keras's own deserializer
            return f"keras.saving.deserialize_keras_object({_py(config)})"
        required = _required_args(cls)
        defaults = self._defaults(cls, required, config)
        positional = [self.value(config[a]) for a in required if a in config]
        keywords = []
        for key, value in config.items():
            if key in required or key == "name":
                continue
            if key in defaults and _same(defaults[key], value):
                continue
            if key == "dtype" and isinstance(value, dict):
                keywords.append(f"dtype={_s((value.get('config') or {}).get('name', 'float32'))}")
                continue
            keywords.append(f"{key}={self.value(value)}")
        if keep_name and "name" in config:
            keywords.append(f"name={_s(config['name'])}")
        module = "layers" if prefix == "layers" else f"keras.{prefix}"
        return f"{module}.{class_name}({', '.join(positional + keywords)})"

    def _defaults(self, cls: Any, required: list[str], config: dict[str, Any]) -> dict[str, Any]:
        """The config of an instance made from the required arguments only ({} if that fails)."""
        try:
            args = {a: self.restore(config[a]) for a in required}
            return _plain(cls(**args).get_config())
        except Exception:  # some classes need more than their signature says: write everything
            return {}

    def restore(self, value: Any) -> Any:
        """A config value as the constructor takes it (serialized objects rebuilt)."""
        if _is_serialized(value):
            return self.k.saving.deserialize_keras_object(value)
        return value

    def value(self, value: Any) -> str:
        if _is_serialized(value):
            module = str(value.get("module") or "")
            inner = dict(value.get("config") or {})
            if module == "keras.layers":
                inner.pop("name", None)  # a wrapped layer: its wrapper names it
                # Bidirectional sets this itself on layers returning sequences.
                if inner.get("zero_output_for_mask") == inner.get("return_sequences", False):
                    inner.pop("zero_output_for_mask", None)
                return self.call("layers", value["class_name"], inner, keep_name=False)
            prefix = module.removeprefix("keras.") if module.startswith("keras.") else ""
            if prefix in ("initializers", "regularizers", "constraints"):
                return self.call(prefix, value["class_name"], inner, keep_name=False)
            return f"keras.saving.deserialize_keras_object({_py(value)})"
        return _py(value)


def _same(a: Any, b: Any) -> bool:
    """Equal configs, not counting the names of wrapped layers (their wrapper names them)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        wrapped = a.get("module") == "keras.layers" and _is_serialized(a)
        return all(
            (wrapped and k == "config" and _same_layer_config(a[k], b[k])) or _same(a[k], b[k])
            for k in a
        )
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _same_layer_config(a: Any, b: Any) -> bool:
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return _same(a, b)
    return _same({**a, "name": None}, {**b, "name": None})


def _required_args(cls: Any) -> list[str]:
    try:
        params = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in params
        if p.name != "self"
        and p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]


def _is_serialized(value: Any) -> bool:
    return isinstance(value, dict) and "class_name" in value and "config" in value


def _plain(value: Any) -> Any:
    """Tuples as lists and NumPy values as numbers, so configs compare as JSON would."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple | set):
        return list(value)
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _py(value: Any) -> str:
    """A Python literal: short lists of numbers read best as tuples, as in Keras's docs."""
    if isinstance(value, str):
        return _s(value)
    if isinstance(value, list):
        if value and all(v is None or isinstance(v, int | float) for v in value):
            return _tuple(value)
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_s(str(k))}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _tuple(values: Any) -> str:
    items = ["None" if v is None else repr(v) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _s(text: str) -> str:
    """A double-quoted string literal."""
    return json.dumps(text, ensure_ascii=False)


def _wrap(indent: str, text: str, tail: str) -> list[str]:
    """One line if it fits; otherwise the outermost call's arguments one per line."""
    if len(indent) + len(text) + len(tail) <= LINE:
        return [indent + text + tail]
    open_at = min((i for i in (text.find(c) for c in "([{") if i >= 0), default=-1)
    close_at = _matching(text, open_at)
    if open_at < 0 or close_at < 0:
        return [indent + text + tail]
    head, inner, rest = text[: open_at + 1], text[open_at + 1 : close_at], text[close_at:]
    lines = [indent + head]
    for arg in _split_args(inner):
        lines += _wrap(indent + INDENT, arg, ",")
    lines.append(indent + rest + tail)
    return lines


def _scan(text: str):
    """(index, char, bracket depth) for each character outside string literals."""
    depth, quote, escaped = 0, False, False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quote = False
            continue
        if ch == '"':
            quote = True
            continue
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        yield i, ch, depth


def _matching(text: str, start: int) -> int:
    """Index of the bracket closing the one at `start` (-1 if none)."""
    for i, ch, depth in _scan(text):
        if i > start and ch in ")]}" and depth == 0:
            return i
    return -1


def _split_args(inner: str) -> list[str]:
    """Top-level comma-separated arguments of a call."""
    parts, last = [], 0
    for i, ch, depth in _scan(inner):
        if ch == "," and depth == 0:
            parts.append(inner[last:i].strip())
            last = i + 1
    if inner[last:].strip():
        parts.append(inner[last:].strip())
    return parts


# ---------------------------------------------------------------------- data and training
