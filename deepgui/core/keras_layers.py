"""Turning one node into a Keras layer and calling it: the only place that knows how a node's
config and its inputs map onto Keras's calling conventions."""

from __future__ import annotations

import copy
import inspect
import re
from typing import Any

from deepgui.core import backbones, node_kinds
from deepgui.core.catalogue import input_arity
from deepgui.core.errors import BuildError
from deepgui.core.graph import Node, layer_name_problem
from deepgui.core.keras_loader import (  # noqa: F401 (callers find them here)
    keras,
    quiet_backend_start,
)

# Layers called with positional tensors rather than one list.
POSITIONAL_INPUTS = {"MultiHeadAttention", "GroupQueryAttention"}


def _with_module(serialized: Any) -> Any:
    """Nested layer configs written by hand or by older files may lack Keras's `module` key."""
    if isinstance(serialized, dict) and "class_name" in serialized and "config" in serialized:
        out = dict(serialized)
        out.setdefault("module", "keras.layers")
        out.setdefault("registered_name", None)
        inner = dict(out["config"] or {})
        inner.setdefault("name", out["class_name"].lower())
        out["config"] = inner
        return out
    return serialized


def layer_config(node: Node) -> dict[str, Any]:
    """The node's config as Keras's ``from_config`` expects it."""
    config = copy.deepcopy(node.config)
    if node.class_name == "InputLayer":
        shape = config.pop("shape", None)
        if shape is not None and "batch_shape" not in config:
            config["batch_shape"] = [None, *shape]
    if node.class_name == "Bidirectional":
        config["layer"] = _with_module(config.get("layer"))
    return config


# Layers that carry Python code: never built, whatever their config says.
CODE_LAYERS = ("Lambda", "TFSMLayer")

# Config keys Keras reads as a file path when they hold a string (project.PATH_KEYS).
PATH_KEYS = ("vocabulary", "idf_weights")
# Config keys of a wrapper that hold a whole layer (Bidirectional's two, TimeDistributed's).
WRAPPED_KEYS = ("layer", "backward_layer")


def _path_in(config: Any) -> tuple[str, str] | None:
    """(key, value) of a file path anywhere in a layer config, else None."""
    if not isinstance(config, dict):
        return None
    for key in PATH_KEYS:
        if isinstance(config.get(key), str):
            return key, config[key]
    for wrapped in WRAPPED_KEYS:
        inner = config.get(wrapped)
        found = _path_in(inner.get("config")) if isinstance(inner, dict) else None
        if found is not None:
            return found
    return None


def _with_defaults(cls, config: dict[str, Any]) -> dict[str, Any]:
    """A few from_config methods (TextVectorization) read keys that a palette-made config,
    holding only the catalogued parameters, leaves out: the constructor's defaults fill them."""
    try:
        params = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return config
    defaults = {
        p.name: p.default
        for p in params
        if p.default is not inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    return {**defaults, **config}


def make_layer(node: Node, input_shapes: list | None = None, with_weights: bool = False):
    """A fresh Keras layer (or operation, or model) for `node`, unbuilt, always through Keras's
    deserialization in safe mode: a config can never run code or make Keras read a file.
    BuildError, naming the layer, for a name against the rule or a file path in the config.
    `input_shapes` (batched) is needed by backbones, which are made for their input size, and
    `with_weights` loads a backbone's pretrained weights (shape inference needs none)."""
    kind = node_kinds.kind(node)
    if kind == node_kinds.BACKBONE:
        return backbones.make_backbone(node, input_shapes, with_weights)
    if kind not in (node_kinds.LAYER, node_kinds.INPUT):
        return _deserialize_other(node, kind)
    problem = layer_name_problem(node.config.get("name", node.id))
    if problem:
        raise BuildError(problem)
    path = _path_in(node.config)
    if path is not None:
        raise BuildError(
            f"{node.name}: its {path[0]} names the file {path[1]!r}; a layer takes its "
            f"{path[0]} as a list (deepgui never reads files named in a layer's settings)."
        )
    if node.class_name in CODE_LAYERS:
        raise BuildError(
            f"{node.name}: a {node.class_name} layer holds Python code, which deepgui never "
            "runs; use built-in layers instead."
        )
    k = keras()
    cls = getattr(k.layers, node.class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, k.layers.Layer)):
        # "Unknown layer": the wording shape inference turns into its own sentence.
        raise ValueError(f"Unknown layer {node.class_name}.")
    config = layer_config(node)
    # keras.layers.deserialize runs from_config in Keras's safe-mode scope (it refuses Lambda
    # code and vocabulary files); there is no path around it.
    try:
        try:
            return k.layers.deserialize(_serialized(node.class_name, config))
        except KeyError:
            return k.layers.deserialize(_serialized(node.class_name, _with_defaults(cls, config)))
    except (TypeError, KeyError, RecursionError) as exc:
        # Keras's own wording here is pages long; the setting at fault is in its first line.
        text = str(exc).split("Exception encountered:")[-1]
        first = " ".join(text.split())[:160] or type(exc).__name__
        raise BuildError(
            f"{node.name}: its settings are not ones {node.class_name} takes ({first})."
        ) from None


def _deserialize_other(node: Node, kind: str):
    """An operation, a nested model or a locked class, as Keras's own deserializer makes it in
    safe mode (no Lambda, no code read from the file: only classes Keras itself defines or
    that are registered in this process)."""
    module = node.module or ""
    if kind == node_kinds.OPERATION and not re.fullmatch(r"keras\.src\.ops\.\w+", module):
        raise BuildError(f"{node.name}: {module} is not a module of Keras operations.")
    if _names_code(node.config):
        raise BuildError(
            f"{node.name}: holds a Lambda or another layer made of Python code, which deepgui "
            "never runs; use built-in layers instead."
        )
    named = file_named_in(node.config)
    if named is not None:
        raise BuildError(
            f"{node.name}: a layer inside it names the file {named[2]!r}; deepgui never reads "
            "files named in a layer's settings."
        )
    k = keras()
    serialized = {
        "module": module,
        "class_name": node.class_name,
        "config": copy.deepcopy(node.config),
        # Keras looks a class up by this name first, then in its own module.
        "registered_name": node.class_name,
    }
    try:
        return k.saving.deserialize_keras_object(serialized, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds; each is one sentence
        first = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise BuildError(
            f"{node.name}: Keras cannot build this {node.class_name} ({first})."
        ) from None


def _names_code(config: Any) -> bool:
    """Whether a nested config holds a class made of Python code (Lambda, TFSMLayer)."""
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") in CODE_LAYERS:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def file_named_in(config: Any) -> tuple[str, str, str] | None:
    """(layer name, key, path) of the first file path anywhere in a nested config (a
    vocabulary Keras would read from disk), else None. Any string there is a path to Keras,
    whatever it starts with: Keras itself saves a vocabulary as a list or as an asset inside
    the file, never as a string."""
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in PATH_KEYS:
                if isinstance(item.get(key), str):
                    return str(item.get("name", "?")), key, item[key]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _serialized(class_name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "module": "keras.layers",
        "class_name": class_name,
        "config": config,
        "registered_name": None,
    }


# Weights beyond this many values (4 GB as float32) would exhaust memory when Keras creates
# them; a layer that asks for them is refused before it is built.
MAX_LAYER_PARAMS = 10**9


def _estimated_params(class_name: str, config: dict[str, Any], inputs: list) -> int:
    """A lower bound of the weights the layers that grow with their settings would create."""

    def last(i: int = 0) -> int:
        shape = tuple(getattr(inputs[i], "shape", ()) or ()) if len(inputs) > i else ()
        value = shape[-1] if shape else 1
        return value if isinstance(value, int) else 1

    def number(key: str, default: int = 1) -> int:
        value = config.get(key, default)
        if isinstance(value, list | tuple):
            out = 1
            for v in value:
                out *= v if isinstance(v, int) and v > 0 else 1
            return out
        return value if isinstance(value, int) and value > 0 else default

    if class_name in ("Dense", "EinsumDense"):
        return last() * number("units")
    if class_name == "Embedding":
        return number("input_dim") * number("output_dim")
    if class_name.startswith(("Conv", "SeparableConv", "DepthwiseConv")):
        return number("kernel_size") * last() * max(number("filters"), number("depth_multiplier"))
    if class_name in ("LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D"):
        units = number("units") if "units" in config else number("filters")
        return 4 * units * (last() + units)
    if class_name == "Bidirectional" and isinstance(config.get("layer"), dict):
        inner = config["layer"]
        return 2 * _estimated_params(inner.get("class_name", ""), inner.get("config", {}), inputs)
    if class_name in ("MultiHeadAttention", "GroupQueryAttention"):
        return 4 * number("num_heads") * number("key_dim") * last()
    return 0


def call_node(layer, node: Node, inputs: list):
    """Call `node`'s layer on its input tensors (by port): through its call template when the
    node has one (an imported operation or a layer called with keyword tensors), else in its
    class's convention."""
    if node.call is not None:
        k = keras()

        def decode(value):
            return k.saving.deserialize_keras_object(value, safe_mode=True)

        args = node_kinds.fill_call(node.call.get("args", []), inputs, decode)
        kwargs = node_kinds.fill_call(node.call.get("kwargs", {}), inputs, decode)
        return layer(*args, **kwargs)
    if node.class_name in node_kinds.STATE_TAKERS and len(inputs) > 1 and node.module is None:
        return layer(inputs[0], initial_state=list(inputs[1:]))
    if node_kinds.kind(node) != node_kinds.LAYER:
        return layer(inputs[0] if len(inputs) == 1 else list(inputs))
    return call_layer(layer, node.class_name, inputs)


def call_layer(layer, class_name: str, inputs: list):
    """Call `layer` on its input tensors in the convention its class uses. ValueError, before
    anything is allocated, for a layer whose weights would not fit in memory."""
    try:
        config = layer.get_config()
    except Exception:  # noqa: BLE001 - no config: nothing to estimate
        config = {}
    params = _estimated_params(class_name, config, list(inputs))
    if params > MAX_LAYER_PARAMS:
        raise ValueError(
            f"{layer.name} would have about {params:,} weights ({params * 4 / 2**30:,.0f} GiB), "
            "more than fits in memory: make it smaller."
        )
    _, max_inputs = input_arity(class_name)
    if class_name in POSITIONAL_INPUTS:
        return layer(*inputs)
    if max_inputs is None or max_inputs > 1:
        return layer(list(inputs))
    return layer(inputs[0])


def input_shape_of(node: Node) -> tuple[int | None, ...]:
    """The full (batched) shape an InputLayer node declares. ValueError, one sentence naming
    the layer and the field, for a shape that is not a list of positive whole numbers."""
    config = node.config
    if config.get("batch_shape") is not None:
        batch_shape = config["batch_shape"]
        if not isinstance(batch_shape, list | tuple) or not batch_shape:
            raise ValueError(
                f"{node.name}: batch_shape must be a list such as [null, 28, 28, 1], "
                f"not {batch_shape!r}."
            )
        return _dims(node, "batch_shape", list(batch_shape))
    shape = config.get("shape")
    if shape is None:
        raise ValueError(f"{node.name}: the Input has no shape.")
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = [shape]
    if not isinstance(shape, list | tuple):
        raise ValueError(f"{node.name}: shape must be a list such as [28, 28, 1], not {shape!r}.")
    return (None, *_dims(node, "shape", list(shape)))


# More values than this in one sample is not data a person trains on here: 100 million
# (a 10,000 x 10,000 image), and it keeps a typo from allocating terabytes.
MAX_SAMPLE_VALUES = 10**8


def _dims(node: Node, key: str, dims: list) -> tuple[int | None, ...]:
    for d in dims:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 1):
            raise ValueError(
                f"{node.name}: every size in {key} must be a positive whole number or null, "
                f"not {d!r}."
            )
    if len(dims) > 16:
        raise ValueError(f"{node.name}: {key} has {len(dims)} sizes; an Input takes at most 16.")
    values = 1
    for d in dims[1:] if key == "batch_shape" else dims:
        values *= d or 1
    if values > MAX_SAMPLE_VALUES:
        raise ValueError(
            f"{node.name}: {key} {dims} makes {values:,} values per sample, more than deepgui "
            f"handles ({MAX_SAMPLE_VALUES:,})."
        )
    return tuple(dims)
