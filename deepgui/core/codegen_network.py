"""The network as readable Keras code that runs and builds the same model.

A single chain of plain layers from one Input becomes ``keras.Sequential([...])``, anything else
the functional API. Only arguments that differ from the layer's own defaults are written: each
node's layer is built, its config compared with that of a layer made from the required arguments
alone, and only the differences kept, so the script reads like one a person would write and
still gives exactly the same layer configs.

The other kinds of node (node_kinds) are written as build.build_model builds them: an operation
as the ``keras.ops`` call it stands for (``x = keras.ops.mean(x, axis=1)``; one whose function
does not take its arguments plainly, or that is a model output keeping its name, rebuilt by
Keras's deserialization from its config); a call template as the call's own arguments; a
layer's further outputs unpacked (``seq, seq_h, seq_c = layers.LSTM(...)(x)``); a shared layer
made once and called again; a model used as a layer rebuilt from its config, which is data
written as a dict literal, never Python source in a string; a backbone as the Keras
Applications constructor with the preprocessing layers backbones.py puts in front; a class only
Keras's own code builds deserialized from its module, class and config.

With the project's data and training settings the script becomes a program that stands alone
(codegen_training.py, built on this module): the network is then a function written with the
functional API always, because trained weights are laid out by the class and order of the
layers, and a run saves a functional model. `codegen.generate_script` chooses which.
"""

from __future__ import annotations

import importlib
import inspect
import json
import keyword
import math
import re
import textwrap
from typing import Any

from deepgui.core import backbones, node_kinds
from deepgui.core.catalogue import input_arity
from deepgui.core.errors import BuildError, GraphError
from deepgui.core.graph import Graph, Node
from deepgui.core.keras_graph import graph_from_model
from deepgui.core.keras_layers import POSITIONAL_INPUTS, input_shape_of, keras, make_layer
from deepgui.core.shapes import ShapeInference

LINE = 100
INDENT = "    "
# Names the script itself uses; a layer called like this gets a suffix as its variable.
_RESERVED = {"keras", "layers", "model", "loss", "metrics", "x_train", "y_train"}
# Tensors are passed one by one (query, value[, key]) to these, as a list to other merges.
_BASE_KWARGS = {"name", "trainable", "dtype"}


def model_script(graph: Graph, name: str = "model") -> str:
    """A runnable Python script that builds `graph` with Keras and prints its summary."""
    order = write_order(graph)
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
    """``def build_network():`` returning the untrained network, with the functional API. It
    imports Keras itself: a program imports it only once it builds a model (script_runtime)."""
    order = write_order(graph)
    body = _functional(graph, order, _Renderer(), name, indent=INDENT, result=None)
    doc = f'{INDENT}"""The network {_s(name)}: a fresh, untrained keras.Model."""'
    imports = [f"{INDENT}import keras"]
    if any(re.search(r"(?<![\w.])layers\.", line) for line in body):
        imports.append(f"{INDENT}from keras import layers")
    return [f"def {function}():", doc, *imports, "", *body]


def write_order(graph: Graph) -> list[str]:
    """The nodes in the order the code makes them; BuildError when the graph cannot be written."""
    try:
        order = graph.topological_order()
    except GraphError as exc:
        raise BuildError(f"The model cannot be written as code: {exc}") from None
    if not graph.input_nodes():
        raise BuildError("The model has no Input layer, so it cannot be written as code.")
    return order


# ---------------------------------------------------------------------- structure
def _is_chain(graph: Graph, order: list[str]) -> bool:
    """One Input, then plain layers each reading only the one output of the layer before it."""
    if len(graph.input_nodes()) != 1 or len(graph.output_nodes()) != 1 or len(order) < 2:
        return False
    if not graph.nodes[order[0]].is_input:
        return False
    for prev, nid in zip(order, order[1:], strict=False):
        if graph.predecessors(nid) != [prev] or graph.successors(prev) != [nid]:
            return False
        node = graph.nodes[nid]
        if node_kinds.kind(node) != node_kinds.LAYER or node.call is not None or node.shares:
            return False
        if node.config.get("return_state") or any(e.source_port for e in graph.in_edges(nid)):
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
    writer = _Network(graph, order, r, indent)
    lines: list[str] = []
    for node in graph.input_nodes():
        lines += _wrap(indent, f"{writer.tensors[node.id][0]} = {_input_call(node, r)}", "")
    lines.append("")
    for nid in order:
        if not graph.nodes[nid].is_input:
            lines += writer.node(graph.nodes[nid])
    inputs = [writer.tensors[n.id][0] for n in graph.input_nodes()]
    outputs = [writer.tensors[n.id][0] for n in graph.output_nodes()]
    lines.append("")
    call = (
        f"{'return' if result is None else result + ' ='} keras.Model(inputs="
        f"{_one_or_list(inputs)}, outputs={_one_or_list(outputs)}, name={_s(name)})"
    )
    lines += _wrap(indent, call, "")
    return lines


# The names a layer's further outputs get in the code, after its first: an LSTM's states.
_OUTPUT_NAMES = {
    ("LSTM", 3): ("h", "c"),
    ("GRU", 2): ("state",),
    ("SimpleRNN", 2): ("state",),
    ("MultiHeadAttention", 2): ("scores",),
    ("GroupQueryAttention", 2): ("scores",),
}


class _Network:
    """The functional-API statements of a graph, node by node, as build.build_model builds it:
    a layer's several outputs unpacked (``seq, seq_h, seq_c = layers.LSTM(...)(x)``), a shared
    layer made once and called again, an operation as the ``keras.ops`` call it stands for, a
    model used as a layer rebuilt from its config, a backbone as Keras Applications makes it
    with its preprocessing in front, a class only Keras's own code builds deserialized."""

    def __init__(
        self,
        graph: Graph,
        order: list[str],
        r: _Renderer,
        indent: str = "",
        taken: set[str] | None = None,
    ) -> None:
        self.graph, self.r, self.indent = graph, r, indent
        self.taken = taken if taken is not None else set(_RESERVED)  # the variables in use
        self.info = _inferred(graph)
        self.objects: dict[str, str] = {}  # node id -> the variable holding its layer or model
        self.shared = {n.shares for n in graph.nodes.values() if n.shares}
        self.outputs = {n.id for n in graph.output_nodes()}
        # node id -> its output tensors' variables, by output port
        self.tensors = {nid: [self.fresh(graph.nodes[nid].name)] for nid in order}
        for nid in order:
            count = len(getattr(self.info.get(nid), "output_shapes", ()) or ())
            if count > 1:
                node = graph.nodes[nid]
                owner = graph.nodes.get(node.shares) if node.shares else node
                suffixes = _OUTPUT_NAMES.get(
                    (owner.class_name if owner else "", count), range(1, count)
                )
                first = self.tensors[nid][0]
                self.tensors[nid] += [self.fresh(f"{first}_{s}") for s in suffixes]

    def fresh(self, text: str) -> str:
        """A new variable name made from `text`."""
        base = re.sub(r"\W+", "_", text).strip("_") or "layer"
        if base[0].isdigit():
            base = "x_" + base
        candidate, i = base, 1
        while candidate in self.taken or keyword.iskeyword(candidate):
            candidate = f"{base}_{i}"
            i += 1
        self.taken.add(candidate)
        return candidate

    def line(self, text: str) -> list[str]:
        """One statement at the writer's indent, wrapped to the line length."""
        return _wrap(self.indent, text, "")

    def literal(self, head: str, value: Any) -> list[str]:
        """``HEAD<value as a literal>)``: a config, which is data, laid out as data."""
        width = len(self.indent)
        text = _literal(value, width, width + len(head))
        return (self.indent + head + text + ")").splitlines()

    def node(self, node: Node) -> list[str]:
        """The statements that make `node`'s layer (when it needs a line of its own) and call it."""
        sources = []
        for edge in self.graph.in_edges(node.id):
            outputs = self.tensors[edge.source]
            if edge.source_port >= len(outputs):
                source = self.graph.nodes[edge.source].name
                raise BuildError(
                    f"{node.name} reads output {edge.source_port} of {source}, which gives "
                    f"{len(outputs)}, so the model cannot be written as code."
                )
            sources.append(outputs[edge.source_port])
        if not sources:
            raise BuildError(f"{node.name} has no input, so the model cannot be written as code.")
        owner = self.graph.nodes.get(node.shares) if node.shares else node
        if owner is None:
            raise BuildError(
                f"{node.name} calls the layer of {node.shares!r} again, which is not in the "
                "model, so it cannot be written as code."
            )
        kind = node_kinds.kind(owner)
        targets = ", ".join(self.tensors[node.id])
        lines: list[str] = []
        if kind == node_kinds.OPERATION and not node.shares and owner.id not in self.shared:
            keep_name = node.id in self.outputs  # a model output keeps the name Keras gave it
            call = None if keep_name else _indexing(node, sources)
            if call is None and not keep_name:
                call = self.r.operation(node, sources, self.value_of)
            if call is not None:
                return self.line(f"{targets} = {call}")
        callee = self.objects.get(owner.id)
        if callee is None:
            if kind == node_kinds.BACKBONE:
                made, callee = self._backbone(owner)
                lines += made
            elif kind in (node_kinds.BLOCK, node_kinds.LOCKED, node_kinds.OPERATION):
                suffix = {node_kinds.BLOCK: "_model", node_kinds.OPERATION: "_op"}.get(kind)
                callee = self.fresh(self.tensors[owner.id][0] + (suffix or "_layer"))
                lines += self._deserialized(owner, callee)
            elif owner.id in self.shared:
                callee = self.fresh(self.tensors[owner.id][0] + "_layer")
                lines += self.line(f"{callee} = {self.r.layer(owner)}")
            else:
                callee = self.r.layer(owner)  # made where it is called
            if kind != node_kinds.LAYER or owner.id in self.shared:
                self.objects[owner.id] = callee
        return lines + self.line(f"{targets} = {callee}({self.arguments(node, sources)})")

    def arguments(self, node: Node, sources: list[str]) -> str:
        """The call's arguments, in keras_layers.call_node's conventions."""
        if node.call is not None:
            args = [self.value_of(a, sources) for a in node.call.get("args", [])]
            kwargs = node.call.get("kwargs", {})
            return ", ".join(args + [f"{k}={self.value_of(v, sources)}" for k, v in kwargs.items()])
        takes_state = node.class_name in node_kinds.STATE_TAKERS and node.module is None
        if takes_state and len(sources) > 1:
            return f"{sources[0]}, initial_state=[{', '.join(sources[1:])}]"
        if node_kinds.kind(node) != node_kinds.LAYER:
            return sources[0] if len(sources) == 1 else "[" + ", ".join(sources) + "]"
        return _call_args(node, sources)

    def value_of(self, value: Any, sources: list[str]) -> str:
        """A value of a call template: each ``{"port": i}`` the i-th input's variable."""
        if node_kinds.is_port(value):
            return sources[value["port"]]
        if _is_slice(value):
            bounds = value.get("config") or {}
            parts = (bounds.get(k) for k in ("start", "stop", "step"))
            return f"slice({', '.join(self.value_of(p, sources) for p in parts)})"
        if _in_template(value):  # a list or dict holding tensors or slices
            if isinstance(value, list):
                return "[" + ", ".join(self.value_of(v, sources) for v in value) + "]"
            items = (f"{_s(str(k))}: {self.value_of(v, sources)}" for k, v in value.items())
            return "{" + ", ".join(items) + "}"
        return self.r.value(value)

    def _deserialized(self, node: Node, variable: str) -> list[str]:
        """``VARIABLE = ...`` rebuilding a model used as a layer from its config (frozen as the
        node says), or an operation or a class only Keras's own code builds, by Keras's
        deserialization as deepgui builds it."""
        if node_kinds.kind(node) == node_kinds.BLOCK:
            maker = "keras.Sequential" if node.class_name == "Sequential" else "keras.Model"
            lines = self.literal(f"{variable} = {maker}.from_config(", node.config)
            if node_kinds.is_frozen(node):
                lines.append(f"{self.indent}{variable}.trainable = False")
            return lines
        serialized = {
            "module": node.module,
            "class_name": node.class_name,
            "config": node.config,
            "registered_name": node.class_name,
        }
        return self.literal(f"{variable} = keras.saving.deserialize_keras_object(", serialized)

    def _backbone(self, node: Node) -> tuple[list[str], str]:
        """A Keras Applications backbone as backbones.make_backbone makes it: raw pixels 0-255
        in, the family's preprocess_input as layers in front where the family has none inside
        it, frozen when the node says. Returns (the lines, the model's variable)."""
        config = node.config
        problems = backbones.config_problems(node.name, config)
        info = self.info.get(node.id)
        if not problems and (info is None or not info.input_shapes):
            problems = list(getattr(info, "errors", None) or []) or [
                f"{node.name} receives no image, so it cannot be written as code."
            ]
        if problems:
            raise BuildError(problems[0])
        family = backbones.FAMILIES[node.class_name]
        shape = _tuple(info.input_shapes[0][1:])
        base = self.tensors[node.id][0]
        weights = config.get("weights", "imagenet")
        inside = family.preprocessing == backbones._INSIDE
        args = [
            f"include_top={bool(config.get('include_top', False))}",
            f"weights={'None' if weights == 'none' else _s(weights)}",
            f"input_shape={shape}",
        ]
        if config.get("pooling") is not None:
            args.append(f"pooling={_s(config['pooling'])}")
        app = f"keras.applications.{node.class_name}({', '.join(args)}, name="
        model = self.fresh(base + "_model")
        frozen = (
            [] if config.get("trainable", False) else [f"{self.indent}{model}.trainable = False"]
        )
        if inside:
            comment = (
                f"{self.indent}# {node.class_name} from Keras Applications: raw pixels 0-255 in."
            )
            return [comment, *self.line(f"{model} = {app}{_s(node.name)})"), *frozen], model
        how = {
            backbones._TF: "scaled to [-1, 1]",
            backbones._TORCH: "scaled to [0, 1] and normalized by ImageNet's mean and deviation",
            backbones._CAFFE: "in BGR order less ImageNet's mean",
        }[family.preprocessing]
        lines = [
            f"{self.indent}# {node.class_name} from Keras Applications, its preprocess_input as "
            "layers in front:",
            f"{self.indent}# raw pixels 0-255 in, {how}.",
        ]
        # The layers backbones.py puts in front, written as any layers are: one source of truth.
        k = self.r.k
        raw = k.Input(batch_shape=info.input_shapes[0], name=f"{node.name}_pixels")
        front = graph_from_model(k.Model(raw, backbones._preprocess(k, family, raw, node.name)))
        writer = _Network(front, front.topological_order(), self.r, self.indent, self.taken)
        (pixels_node,) = front.input_nodes()
        pixels = writer.tensors[pixels_node.id][0]
        lines += self.line(f"{pixels} = {_input_call(pixels_node, self.r)}")
        for nid in front.topological_order():
            if nid != pixels_node.id:
                lines += writer.node(front.nodes[nid])
        feed = writer.tensors[front.output_nodes()[0].id][0]
        network = self.fresh(base + "_network")
        lines += self.line(f"{network} = {app}{_s(node.name + '_network')})")
        assemble = f"{model} = keras.Model({pixels}, {network}({feed}), name={_s(node.name)})"
        lines += [*self.line(assemble), *frozen]
        return lines, model


def _indexing(node: Node, sources: list[str]) -> str | None:
    """``x[:, 1:3]``: Keras's GetItem operation (a tensor indexed by numbers and slices) in
    Python's own notation; None for anything else."""
    call = node.call or {}
    args = call.get("args") or []
    if node.class_name != "GetItem" or call.get("kwargs") or len(args) != 2:
        return None
    if not node_kinds.is_port(args[0]):
        return None
    key = args[1] if isinstance(args[1], list) else [args[1]]
    parts = []
    for item in key:
        if _is_slice(item):
            bounds = [(item.get("config") or {}).get(k) for k in ("start", "stop", "step")]
            if not all(
                b is None or (isinstance(b, int) and not isinstance(b, bool)) for b in bounds
            ):
                return None
            text = ":".join("" if b is None else str(b) for b in bounds)
            parts.append(text[:-1] if text.endswith("::") or bounds[2] is None else text)
        elif isinstance(item, int) and not isinstance(item, bool):
            parts.append(str(item))
        elif item is None:
            parts.append("None")
        else:
            return None
    if not parts:
        return None
    return f"{sources[args[0]['port']]}[{', '.join(parts)}]"


def _in_template(value: Any) -> bool:
    """Whether a list or (unserialized) dict of a call template holds an input tensor or a
    slice, which the code writes as variables and ``slice(...)``."""
    if isinstance(value, list):
        return any(_in_template(v) or node_kinds.is_port(v) or _is_slice(v) for v in value)
    if isinstance(value, dict) and not _is_serialized(value) and not node_kinds.is_port(value):
        return any(_in_template(v) or node_kinds.is_port(v) or _is_slice(v) for v in value.values())
    return False


def _is_slice(value: Any) -> bool:
    return isinstance(value, dict) and value.get("class_name") == "__slice__"


def _inferred(graph: Graph) -> dict[str, Any]:
    """Shape inference's findings by node id: how many outputs each node gives, and the image
    size each backbone receives (an unfinished graph still gets its code: {} where it fails)."""
    try:
        return dict(ShapeInference(graph).update())
    except Exception:  # noqa: BLE001 - the code is still written; Keras will say what is wrong
        return {}


def _call_args(node: Node, sources: list[str]) -> str:
    if node.class_name in POSITIONAL_INPUTS:
        return ", ".join(sources)
    _, most = input_arity(node.class_name)
    if most is None or most > 1:
        return "[" + ", ".join(sources) + "]"
    return sources[0]


def _one_or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"


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

    def call(
        self,
        prefix: str,
        class_name: str,
        config: dict[str, Any],
        keep_name: bool | None,
        serialized: dict[str, Any] | None = None,
        positional: int | None = None,
    ) -> str:
        """``PREFIX.CLASS(...)`` (``layers.Dense``, ``keras.losses.Huber``) with the arguments
        that differ from the class's defaults, the name always (`keep_name` True), never
        (False) or where it is not the default one (None); a class Keras does not make public
        is rebuilt from `serialized` (its module, class and config) by Keras's
        deserialization. The required arguments are written by position, or only the first
        `positional` of them (the others by name)."""
        holder: Any = self.k
        for part in prefix.split("."):
            holder = getattr(holder, part, None)
        cls = getattr(holder, class_name, None)
        if not isinstance(cls, type):
            whole = serialized or {"class_name": class_name, "config": config}
            return f"keras.saving.deserialize_keras_object({_py(whole)})"
        required = _required_args(cls)
        defaults = self._defaults(cls, required, config)
        by_position = required[:positional] if positional is not None else required
        args = [self.value(config[a]) for a in by_position if a in config]
        keywords = []
        for key, value in config.items():
            if key in by_position or key == "name":
                continue
            if key in defaults and key not in required and _same(defaults[key], value):
                continue
            if key == "dtype" and isinstance(value, dict):
                keywords.append(f"dtype={_s((value.get('config') or {}).get('name', 'float32'))}")
                continue
            keywords.append(f"{key}={self.value(value)}")
        if keep_name is None:
            keep_name = "name" in defaults and not _same(defaults["name"], config.get("name"))
        if keep_name and "name" in config:
            keywords.append(f"name={_s(config['name'])}")
        module = "layers" if prefix == "layers" else f"keras.{prefix}"
        return f"{module}.{class_name}({', '.join(args + keywords)})"

    def operation(self, node: Node, sources: list[str], value_of: Any) -> str | None:
        """``keras.ops.mean(x, axis=1)``: an operation as the ``keras.ops`` function a person
        calls, when that function takes the operation's config and call arguments by the same
        names; None when they do not map plainly (Keras's deserialization builds it then).
        Only arguments that differ from the function's defaults are written."""
        found = _ops_function(self.k, node)
        if found is None:
            return None
        path, function, cls = found
        call = node.call
        if call is None:  # keras_layers.call_node's convention for nodes without a template
            ports = [{"port": i} for i in range(len(sources))]
            call = {"args": ports if len(ports) == 1 else [ports], "kwargs": {}}
        try:
            bound = inspect.signature(cls.call).bind(
                None, *call.get("args", []), **call.get("kwargs", {})
            )
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            return None
        called = {k: v for k, v in list(bound.arguments.items())[1:]}
        config = {k: v for k, v in node.config.items() if k != "name"}
        given = {**called, **config}
        free = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        if set(called) & set(config) or any(k not in params for k in given):
            return None
        if any(params[k].kind in free for k in given):
            return None
        empty = inspect.Parameter.empty
        if any(p.default is empty and p.kind not in free and p.name not in given
               for p in params.values()):  # fmt: skip
            return None
        positional: list[str] = []
        keywords: list[str] = []
        for p in params.values():
            if p.name not in given:
                continue
            value = given[p.name]
            from_config = p.name in config
            if from_config and p.default is not empty and _same(_plain(p.default), value):
                continue
            text = value_of(value, sources)
            in_order = len(positional) == list(params).index(p.name)
            takes_position = p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            if in_order and takes_position and (p.default is empty or not from_config):
                positional.append(text)
            elif p.kind == p.POSITIONAL_ONLY:
                return None
            else:
                keywords.append(f"{p.name}={text}")
        return f"{path}({', '.join(positional + keywords)})"

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
                return self.call("layers", value["class_name"], inner, False, value)
            prefix = module.removeprefix("keras.") if module.startswith("keras.") else ""
            if prefix in ("initializers", "regularizers", "constraints"):
                return self.call(prefix, value["class_name"], inner, False, value)
            return f"keras.saving.deserialize_keras_object({_py(value)})"
        return _py(value)


def _ops_function(k: Any, node: Node) -> tuple[str, Any, type] | None:
    """(``keras.ops.NAME`` or ``keras.ops.MODULE.NAME``, the function, the operation's class)
    for an operation node whose class has a public function of its own module; else None."""
    module = node.module or ""
    if not re.fullmatch(r"keras\.src\.ops\.\w+", module):
        return None
    try:
        cls = getattr(importlib.import_module(module), node.class_name, None)
    except ImportError:
        return None
    if not isinstance(cls, type):
        return None
    name = node_kinds.operation_name(node).removeprefix("ops.")
    sub = module.rsplit(".", 1)[1]
    for path, holder in ((f"keras.ops.{name}", k.ops), (f"keras.ops.{sub}.{name}",
                                                        getattr(k.ops, sub, None))):  # fmt: skip
        function = getattr(holder, name, None) if holder is not None else None
        if callable(function) and getattr(function, "__module__", None) == module:
            return path, function, cls
    return None


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
    return _number(value)


def _number(value: Any) -> str:
    """A value's repr, except that a float that is exactly the inverse of a short number reads
    as one: ``1 / 127.5`` rather than ``0.00784313725490196``."""
    text = repr(value)
    if isinstance(value, float) and value and math.isfinite(value) and len(text) > 12:
        inverse = round(1 / abs(value), 6)
        if inverse and 1 / inverse == abs(value) and len(repr(inverse)) <= 8:
            return f"{'-' if value < 0 else ''}1 / {inverse!r}"
    return text


def _tuple(values: Any) -> str:
    items = ["None" if v is None else _number(v) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _literal(value: Any, indent: int, column: int) -> str:
    """`value` as a Python literal in the style of the code around it: on one line when it
    fits from `column`, else one item per line (lists of plain values packed) under `indent`."""
    flat = _flat(value)
    if column + len(flat) <= LINE:
        return flat
    pad = " " * (indent + 4)
    if isinstance(value, str):  # implicit concatenation, one piece per line
        width = LINE - len(pad) - 3
        while True:  # narrower while escaped quotes make a piece too long
            pieces = textwrap.wrap(value, width, drop_whitespace=False)
            if width <= 20 or all(len(pad + _s(p)) <= LINE for p in pieces):
                break
            width -= 4
        return "(\n" + "\n".join(pad + _s(p) for p in pieces) + "\n" + " " * indent + ")"
    if not isinstance(value, dict | list | tuple | set):
        return flat
    if isinstance(value, dict):
        items = [
            f"{pad}{_s(str(k))}: {_literal(v, indent + 4, indent + 6 + len(_s(str(k))))},"
            for k, v in value.items()
        ]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    opening, closing = {list: "[]", tuple: "()", set: "{}"}[type(value)]
    values = sorted(value) if isinstance(value, set) else list(value)
    if all(not isinstance(v, dict | list | tuple | set) for v in values):
        lines, line = [], pad
        for v in values:  # packed: a vocabulary of thousands of words stays readable
            item = _flat(v) + ","
            if len(line) + len(item) + 1 > LINE and line.strip():
                lines.append(line.rstrip())
                line = pad
            line += item + " "
        lines.append(line.rstrip())
    else:
        lines = [f"{pad}{_literal(v, indent + 4, indent + 4)}," for v in values]
    return opening + "\n" + "\n".join(lines) + "\n" + " " * indent + closing


def _flat(value: Any) -> str:
    if isinstance(value, str):
        return _s(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_s(str(k))}: {_flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, set):
        return "{" + ", ".join(_flat(v) for v in sorted(value)) + "}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_flat(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    return repr(value)


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
