"""A Keras model as an editable graph: every entry of its serialized config a node, wired as
it was called, with the live layer each node came from (to copy its weights).

The model's own serialized config is the source: a functional model lists every layer with the
tensors it was called on (``inbound_nodes``), a Sequential model its layers in order. What
becomes of each entry (node_kinds): a layer is a node; a ``keras.ops`` call between layers is an
operation node keeping its arguments; a model used as a layer is one block node; a class Keras
builds only from its own code is a locked node; a layer called twice is one node per call, the
later ones sharing the first one's layer; a layer with several outputs feeds each by its port.
A block's layers are read the same way, to look at (`block_graph`) or to open in its place
(`expand_block`, which the commands undo).

Below the project and the commands: model files, their safety checks and the project an import
makes are keras_import's.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from deepgui.core import catalogue, node_kinds
from deepgui.core.errors import ModelImportError
from deepgui.core.graph import Graph, default_layer_name, valid_layer_name
from deepgui.core.keras_layers import POSITIONAL_INPUTS
from deepgui.core.placement import auto_layout

_MODEL_CLASSES = {"Functional", "Sequential", "Model"}
# Call argument values that do not change what the layer computes at inference.
_HARMLESS_KWARGS = {"training": (None, False), "mask": (None,)}


@dataclass(frozen=True)
class _Ref:
    """One tensor of the graph being built: output `port` of node `node_id`."""

    node_id: str
    port: int = 0


@dataclass
class _Builder:
    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    layers: dict[str, Any] = field(default_factory=dict)  # node id -> live Keras layer
    counter: int = 0

    def add(self, class_name: str, config: dict[str, Any], layer: Any = None, **extra: Any) -> str:
        self.counter += 1
        node_id = f"n{self.counter}"
        config = _plain(config, where=config.get("name", class_name))
        # The one rule for layer names (graph.layer_name_problem): a Keras name it does not
        # allow ("conv-1", "block.2") is kept as near as the rule lets it be.
        name = valid_layer_name(config.get("name") or default_layer_name(class_name))
        if name in self.names:  # a second use of a shared layer, or a clash after renaming
            stem = re.sub(r"_\d+$", "", name)
            name = next(f"{stem}_{i}" for i in range(1, 10**6) if f"{stem}_{i}" not in self.names)
        config["name"] = name
        self.names.add(name)
        node = {"id": node_id, "class_name": class_name, "config": config}
        node.update({k: v for k, v in extra.items() if v is not None})
        self.nodes.append(node)
        if layer is not None:
            self.layers[node_id] = layer
        return node_id

    def connect(self, source: _Ref, target: str, port: int) -> None:
        edge = {"source": source.node_id, "target": target, "target_port": port}
        if source.port:
            edge["source_port"] = source.port
        self.edges.append(edge)


def _plain(value: Any, where: str) -> Any:
    """A JSON-ready copy: tuples become lists, NumPy scalars and arrays plain numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    if isinstance(value, str):
        return str(value)  # NumPy strings too
    if isinstance(value, float) and not math.isfinite(value):
        raise ModelImportError(
            f"Layer {where} has a setting of {value}, which a project file cannot hold."
        )
    if value is None or isinstance(value, bool | int | float):
        return value
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return _plain(value.tolist(), where)
    raise ModelImportError(
        f"Layer {where} has a setting of type {type(value).__name__} that a project file cannot hold."
    )


def _fit_catalogue(class_name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Keras stores some single numbers as one-element lists (``strides: [2]`` of Conv1D,
    ``axis: [-1]``); the catalogue, and so the inspector, edits them as numbers. Both mean the
    same to Keras, so take the catalogue's form."""
    config = dict(config)
    spec = catalogue.get(class_name)
    for param in spec.params if spec else ():
        value = config.get(param.name)
        scalar = param.kind in ("int", "optional_int", "float", "optional_float")
        if scalar and isinstance(value, list | tuple) and len(value) == 1:
            config[param.name] = value[0]
        # A symmetric range (RandomRotation's factor) is Keras's expansion of one number.
        if (
            param.kind in ("float", "optional_float")
            and isinstance(value, list | tuple)
            and len(value) == 2
            and all(isinstance(v, int | float) for v in value)
            and value[0] == -value[1]
        ):
            config[param.name] = abs(value[1])
    inner = config.get("layer")
    if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
        config["layer"] = {**inner, "config": _fit_catalogue(inner["class_name"], inner["config"])}
    return config


def _history(tensor: Any) -> tuple[str, int, int] | None:
    if isinstance(tensor, dict) and tensor.get("class_name") == "__keras_tensor__":
        name, node_index, tensor_index = tensor["config"]["keras_history"]
        return str(name), int(node_index), int(tensor_index)
    return None


def _tensors_in(value: Any) -> Iterator[tuple[str, int, int]]:
    """Every tensor reference in a call argument, depth first, in order."""
    ref = _history(value)
    if ref is not None:
        yield ref
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _tensors_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors_in(item)


def _template(value: Any, refs: list[tuple[str, int, int]]) -> Any:
    """A call argument with each tensor replaced by ``{"port": i}`` (appended to `refs`)."""
    ref = _history(value)
    if ref is not None:
        refs.append(ref)
        return {"port": len(refs) - 1}
    if isinstance(value, list | tuple):
        return [_template(v, refs) for v in value]
    if isinstance(value, dict):
        return {k: _template(v, refs) for k, v in value.items()}
    return value


def _layer_refs(spec: Any) -> list[tuple[str, int, int]]:
    """``input_layers``/``output_layers``: one ``[name, node, index]`` or a list of them."""
    if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
        return [(spec[0], int(spec[1]), int(spec[2]))]
    if isinstance(spec, dict):
        return [r for v in spec.values() for r in _layer_refs(v)]
    return [r for item in spec or [] for r in _layer_refs(item)]


class _Importer:
    """Turns one model's config into nodes and edges. Nested models become one block node
    each, unless `flatten` (a block opened for editing), when their layers join the graph."""

    def __init__(self, flatten: bool = False) -> None:
        self.out = _Builder()
        self.flatten = flatten

    # ------------------------------------------------------------------ models
    def model(self, config: dict, live: Any, inputs: list[_Ref] | None) -> list[_Ref]:
        """Add one model's layers; `inputs` None means top level (Input nodes are created)."""
        if "input_layers" in config or any("inbound_nodes" in c for c in config.get("layers", [])):
            return self.functional(config, live, inputs)
        return self.sequential(config, live, inputs)

    def sequential(self, config: dict, live: Any, inputs: list[_Ref] | None) -> list[_Ref]:
        entries = list(config.get("layers", []))
        model_name = config.get("name", "sequential")
        first_input = entries[0] if entries and entries[0]["class_name"] == "InputLayer" else None
        if first_input is not None:
            entries = entries[1:]
        if inputs is None:
            if first_input is not None:
                input_config = dict(first_input["config"])
            elif config.get("build_input_shape"):
                input_config = {
                    "batch_shape": list(config["build_input_shape"]),
                    "dtype": "float32",
                }
            else:
                raise ModelImportError(
                    f"The Sequential model {model_name} has no input shape: build it with keras.Input first."
                )
            input_config.setdefault("name", "input_layer")
            current = _Ref(self.out.add("InputLayer", input_config))
        else:
            if len(inputs) != 1:
                raise ModelImportError(
                    f"The Sequential model {model_name} must receive exactly one input."
                )
            current = inputs[0]
        for entry in entries:
            name = entry["config"].get("name")
            layer = _live_layer(live, name)
            outs = self.call(entry, layer, [current], None, model_name)
            current = outs[0]
        return [current]

    def functional(self, config: dict, live: Any, inputs: list[_Ref] | None) -> list[_Ref]:
        model_name = config.get("name", "model")
        entries = {e.get("name") or e["config"]["name"]: e for e in config.get("layers", [])}
        env: dict[tuple[str, int, int], _Ref] = {}
        input_refs = _layer_refs(config.get("input_layers"))
        if inputs is not None and len(inputs) != len(input_refs):
            raise ModelImportError(
                f"The inner model {model_name} takes {len(input_refs)} inputs but receives {len(inputs)}."
            )
        for i, ref in enumerate(input_refs):
            if inputs is None:
                env[ref] = _Ref(self.out.add("InputLayer", dict(entries[ref[0]]["config"])))
            else:
                env[ref] = inputs[i]
        called: dict[tuple[str, int], list[_Ref]] = {}  # (layer, call) -> its output tensors
        owners: dict[str, str] = {}  # layer name -> the node of its first call

        def resolve(ref: tuple[str, int, int]) -> _Ref | None:
            if ref in env:
                return env[ref]
            outs = called.get(ref[:2])
            if outs is None:
                # Keras numbers a nested model's calls from 1 in `output_layers` (its own
                # construction was call 0) while its config lists the one call it keeps.
                calls = [v for k, v in called.items() if k[0] == ref[0]]
                outs = (
                    calls[0]
                    if len(calls) == 1 and len(entries[ref[0]].get("inbound_nodes") or []) == 1
                    else None
                )
            if outs is None:
                return None
            if len(outs) == 1 and outs[0].port == 0:  # a node: any output port of it
                return _Ref(outs[0].node_id, ref[2])
            return outs[ref[2]] if ref[2] < len(outs) else None

        # One pending item per call of a layer: a shared layer is called several times.
        pending = [
            (name, index, entry)
            for name, entry in entries.items()
            if entry["class_name"] != "InputLayer"
            for index in range(len(entry.get("inbound_nodes") or []))
        ]
        # The config lists layers roughly by depth; make each call once all its inputs exist.
        while pending:
            progressed = False
            for item in list(pending):
                name, index, entry = item
                call = entry["inbound_nodes"][index]
                if any(resolve(r) is None for r in _tensors_in(call)):
                    continue
                layer = _live_layer(live, name)
                owner = owners.get(name)
                outs = self.call(entry, layer, None, (call, resolve, owner), model_name)
                if owner is None and outs:
                    owners[name] = outs[0].node_id
                called[(name, index)] = outs
                pending.remove(item)
                progressed = True
            if not progressed and pending:
                names = ", ".join(dict.fromkeys(name for name, _, _ in pending))
                raise ModelImportError(
                    f"The layers {names} of {model_name} never receive their inputs."
                )
        outputs = []
        for ref in _layer_refs(config.get("output_layers")):
            out = resolve(ref)
            if out is None:
                raise ModelImportError(
                    f"The output {ref[0]} of {model_name} is not produced by any layer."
                )
            if out.port != 0:
                raise ModelImportError(
                    f"{model_name} returns output {ref[2]} of {ref[0]}; deepgui returns only a "
                    "layer's first output (pass the others through a layer, such as Identity)."
                )
            outputs.append(out)
        return outputs

    # ------------------------------------------------------------------ one call
    def call(
        self,
        entry: dict,
        live_layer: Any,
        sources: list[_Ref] | None,
        functional_call: tuple | None,
        model_name: str,
    ) -> list[_Ref]:
        """Add the node for one call of a layer, operation or inner model; returns its output
        tensors. `sources`: a Sequential's one input; `functional_call`: (the serialized call,
        the tensor resolver, the node of the layer's first call when it is called again)."""
        class_name = entry["class_name"]
        config = entry.get("config") or {}
        name = entry.get("name") or config.get("name") or class_name
        module = entry.get("module") or ""
        kind = _kind_of(class_name, module)
        if class_name == "InputLayer":
            return sources or []
        owner = functional_call[2] if functional_call else None
        if kind == node_kinds.BLOCK and self.flatten:
            if functional_call is not None:
                call, resolve, _ = functional_call
                sources = [resolve(r) for r in _tensors_in(call)]
            return self.model(config, live_layer, sources)
        template = None
        if functional_call is not None:
            call, resolve, _ = functional_call
            template, refs = self._call_template(entry, name, live_layer, call, kind)
            sources = [resolve(r) for r in refs]
        if kind == node_kinds.LAYER:
            config = _fit_catalogue(class_name, config)
            if config.get("vocabulary") is None and hasattr(live_layer, "get_vocabulary"):
                # An adapted lookup keeps its vocabulary in a table, not in weights: move it
                # into the config so the project holds it (TextVectorization, StringLookup).
                config["vocabulary"] = _plain(list(live_layer.get_vocabulary()), where=name)
        extra = {
            "module": None if kind == node_kinds.LAYER else module,
            "call": template,
            "shares": owner,
        }
        if owner is not None:  # a shared layer's later call: the first call holds the config
            config = {"name": name}
        node_id = self.out.add(class_name, config, None if owner else live_layer, **extra)
        for port, source in enumerate(sources or []):
            self.out.connect(source, node_id, port)
        return [_Ref(node_id)]

    def _call_template(
        self, entry: dict, name: str, layer: Any, call: dict, kind: str
    ) -> tuple[dict | None, list[tuple[str, int, int]]]:
        """The call as a template with ports, and the tensors it reads; the template is None
        when the node's class convention (one tensor, or a list for a merge layer) says it."""
        defaults = _call_defaults(layer)
        args = list(call.get("args", []))
        kwargs = {}
        for key, value in dict(call.get("kwargs") or {}).items():
            if value is None or any(value is v for v in _HARMLESS_KWARGS.get(key, ())):
                continue
            if key == "mask" and isinstance(value, list) and all(v is None for v in value):
                continue  # no mask for any of several inputs: the default
            if key in defaults and _same_value(defaults[key], value):
                continue  # the call's own default, written out: changes nothing
            if key == "training":
                raise ModelImportError(
                    f"{name} is called with training={value!r}, which would keep it in training "
                    "mode in every export: call it without it."
                )
            kwargs[key] = value
        refs: list[tuple[str, int, int]] = []
        template = {"args": _template(args, refs), "kwargs": _template(kwargs, refs)}
        if kind in (node_kinds.LAYER, node_kinds.BLOCK, node_kinds.LOCKED) and not kwargs:
            one = len(args) == 1 and _history(args[0]) is not None
            _, most = catalogue.input_arity(entry["class_name"])
            listed = (
                len(args) == 1
                and isinstance(args[0], list)
                and args[0]
                and all(_history(a) is not None for a in args[0])
                and (most is None or most > 1 or kind == node_kinds.BLOCK)
            )
            positional = entry["class_name"] in POSITIONAL_INPUTS and all(
                _history(a) is not None for a in args
            )
            if one or listed or positional:
                return None, refs
        _plain(template, where=name)
        return _plain(template, where=name), refs


def _kind_of(class_name: str, module: str) -> str:
    """The node kind (node_kinds) an entry of a model's config becomes."""
    if class_name == "InputLayer":
        return node_kinds.INPUT
    if class_name in _MODEL_CLASSES:
        return node_kinds.BLOCK
    if not module or module.startswith("keras.layers") or module == "keras":
        return node_kinds.LAYER
    if module.startswith(node_kinds.OPS_MODULE_PREFIX):
        return node_kinds.OPERATION
    return node_kinds.LOCKED


def _call_defaults(layer: Any) -> dict[str, Any]:
    """Default values of the layer's ``call`` arguments ({} when unknown)."""
    try:
        params = inspect.signature(layer.call).parameters.values()
    except (AttributeError, TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _same_value(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # arrays and the like: not a plain default
        return False


def _live_layer(live: Any, name: str | None) -> Any:
    if live is None or name is None:
        return None
    try:
        return live.get_layer(name)
    except (ValueError, AttributeError):
        return None


@dataclass
class ImportResult:
    """A graph and, for each of its nodes, the Keras layer it came from (to copy weights)."""

    graph: Graph
    layers: dict[str, Any]


def import_model(model: Any) -> ImportResult:
    """Turn a Keras model into a Graph plus the node -> source layer map."""
    try:
        config = model.get_config()
    except Exception as exc:  # a subclassed model without get_config
        raise ModelImportError(
            f"The model {getattr(model, 'name', '?')} cannot describe its layers ({exc}); only "
            "Sequential and functional models can be imported."
        ) from None
    if (
        type(model).__name__ not in _MODEL_CLASSES
        or not isinstance(config, dict)
        or "layers" not in config
    ):
        raise ModelImportError(
            f"The model {getattr(model, 'name', '?')} is a subclassed model ({type(model).__name__}); "
            "only Sequential and functional models can be imported."
        )
    importer = _Importer()
    try:
        outputs = importer.model(config, model, None)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ModelImportError(
            f"The model {getattr(model, 'name', '?')} describes its layers in a form deepgui does "
            f"not understand ({type(exc).__name__}: {exc})."
        ) from None
    out = importer.out
    # The graph's outputs are its nodes without successors plus the nodes marked as outputs,
    # in node order: keep the model's order. An output other layers also read gets the mark.
    consumed = {e["source"] for e in out.edges}
    output_ids = [r.node_id for r in outputs]
    for ref in outputs:
        node = next(n for n in out.nodes if n["id"] == ref.node_id)
        if node["class_name"] == "InputLayer":
            raise ModelImportError(
                f"The model returns its Input {node['config']['name']} unchanged, which deepgui "
                "cannot represent: return a layer's output instead."
            )
        if ref.node_id in consumed:
            node["output"] = True
    if len(set(output_ids)) != len(output_ids):
        raise ModelImportError(
            "The model returns the same tensor twice, which deepgui cannot represent."
        )
    dangling = [n for n in out.nodes if n["id"] not in consumed and n["class_name"] != "InputLayer"]
    extra = [n["config"]["name"] for n in dangling if n["id"] not in output_ids]
    if extra:
        raise ModelImportError(f"The layers {', '.join(extra)} lead to no model output.")
    rank = {nid: i for i, nid in enumerate(output_ids)}
    nodes = sorted(out.nodes, key=lambda n: (n["id"] in rank, rank.get(n["id"], 0)))
    try:
        graph = Graph.from_dict({"nodes": nodes, "edges": out.edges})
    except Exception as exc:
        raise ModelImportError(f"The model's structure cannot be represented: {exc}") from None
    for node_id, position in auto_layout(graph).items():
        graph.nodes[node_id].position = position
    return ImportResult(graph, out.layers)


def graph_from_model(model: Any) -> Graph:
    """Any Sequential or functional Keras model as a Graph (names = Keras layer names)."""
    return import_model(model).graph


def block_graph(node: Any) -> Graph:
    """The layers inside a block node (a model used as a layer), as a graph of their own to
    look at: its inputs become Input nodes, its own blocks stay blocks."""
    importer = _Importer()
    try:
        importer.model(dict(node.config), None, None)
        graph = Graph.from_dict({"nodes": importer.out.nodes, "edges": importer.out.edges})
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ModelImportError(
            f"{node.name}: its layers are described in a form deepgui does not understand "
            f"({type(exc).__name__}: {exc})."
        ) from None
    for node_id, position in auto_layout(graph).items():
        graph.nodes[node_id].position = position
    return graph


@dataclass
class Expansion:
    """A block's layers as they join the graph in its place: new nodes (project-file form),
    the edges among them and from the block's sources, and, per output port of the block, the
    tensor that now carries it."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    outputs: list[tuple[str, int]]


def expand_block(graph: Graph, node_id: str) -> Expansion:
    """What `node_id`, a block (a model used as a layer), becomes when opened for editing: its
    layers, named and numbered clear of the graph's, wired to what fed the block. Its inner
    blocks stay blocks. ModelImportError when its layers cannot be read this way."""
    block = graph.node(node_id)
    importer = _Importer(flatten=False)
    importer.out.names = {n.name for n in graph.nodes.values() if n.id != node_id}
    numbers = [int(m.group(1)) for nid in graph.nodes if (m := re.fullmatch(r"n(\d+)", nid))]
    importer.out.counter = max(numbers, default=0)
    sources = [_Ref(e.source, e.source_port) for e in graph.in_edges(node_id)]
    config = dict(block.config)
    try:
        outputs = importer.model(config, None, sources)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ModelImportError(
            f"{block.name}: its layers cannot be opened for editing ({type(exc).__name__}: {exc})."
        ) from None
    frozen = config.get("trainable") is False
    for node in importer.out.nodes:  # a frozen block's layers stay frozen once opened
        if frozen and "trainable" in node["config"]:
            node["config"]["trainable"] = False
    return Expansion(importer.out.nodes, importer.out.edges, [(r.node_id, r.port) for r in outputs])
