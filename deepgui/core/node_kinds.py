"""What kind of thing a node is, beyond a plain layer, and the rules that follow from it.

Most nodes are ``keras.layers`` layers from the palette. Models people bring hold more:

- an **operation**: a ``keras.ops`` call between layers (``ops.add``, ``ops.mean``), kept with
  the arguments Keras serializes for it;
- a **block**: a model used as a layer (a backbone inside a classifier), one node holding the
  inner model's own config;
- a **backbone**: a Keras Applications network offered by the palette (``backbones``), named by
  its class (``MobileNetV3Small``) and built from its options;
- a **locked** layer: a class Keras builds only from its own code (ConvNeXt's LayerScale). It
  trains and exports with its weights but has no form to edit.

Qt-free and Keras-free: the canvas, the inspector and the builder all ask here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from deepgui.core import catalogue
from deepgui.core.backbones import FAMILIES

if TYPE_CHECKING:
    from deepgui.core.graph import Node

LAYER = "layer"
INPUT = "input"
OPERATION = "operation"
BLOCK = "block"
BACKBONE = "backbone"
LOCKED = "locked"

MODEL_CLASSES = ("Functional", "Sequential")
OPS_MODULE_PREFIX = "keras.src.ops."

# Keras's own rule (keras.src.utils.naming.to_snake_case): MaxPooling2D -> max_pooling2d.
_SNAKE_1 = re.compile(r"(.)([A-Z][a-z]+)")
_SNAKE_2 = re.compile(r"([a-z])([A-Z])")


def default_layer_name(class_name: str) -> str:
    """The base name Keras itself would give: ``Conv2D`` -> ``conv2d``, ``InputLayer`` -> ``input``."""
    if class_name == "InputLayer":
        return "input"
    if class_name in FAMILIES:  # resnet50v2, not res_net50_v2
        return class_name.lower()
    return _SNAKE_2.sub(r"\1_\2", _SNAKE_1.sub(r"\1_\2", class_name)).lower()


def kind(node: Node) -> str:
    if node.is_input:
        return INPUT
    module = node.module or ""
    if node.class_name in MODEL_CLASSES and module:
        return BLOCK
    if not module:
        return BACKBONE if node.class_name in FAMILIES else LAYER
    if module in ("keras.layers", "keras"):
        return LAYER
    if module.startswith(OPS_MODULE_PREFIX):
        return OPERATION
    return LOCKED


def is_editable(node: Node) -> bool:
    """Whether the inspector may change the node's settings (its name can always change)."""
    return kind(node) in (LAYER, OPERATION, BACKBONE) and not node.shares


def operation_name(node: Node) -> str:
    """``keras.ops.numpy.Add`` -> ``ops.add``: how a person writing Keras code calls it."""
    return f"ops.{default_layer_name(node.class_name)}"


def why_locked(node: Node) -> str | None:
    """One sentence for the tooltip and the inspector when the node's settings cannot be
    edited; None when they can."""
    if node.shares:
        return (
            f"{node.name} calls the same layer again (a shared layer): edit the first use; "
            "both use one set of weights."
        )
    k = kind(node)
    if k == LOCKED:
        return (
            f"{node.class_name} is a class Keras builds from its own code ({node.module}): it "
            "trains and exports with its weights, but its settings cannot be edited here."
        )
    if k == BLOCK:
        return (
            f"{node.name} is a model used as a layer: open it to see its layers; its settings "
            "are its layers'."
        )
    return None


def is_frozen(node: Node) -> bool:
    """A block or backbone whose weights do not train (``trainable: false``)."""
    return node.config.get("trainable", True) is False


# ----------------------------------------------------------------------------- calls
def is_port(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"port"} and isinstance(value["port"], int)


def call_ports(call: object) -> list[int]:
    """Every input port a call template reads, depth first, in order."""
    if is_port(call):
        return [call["port"]]  # type: ignore[index]
    if isinstance(call, dict):
        return [p for v in call.values() for p in call_ports(v)]
    if isinstance(call, list):
        return [p for v in call for p in call_ports(v)]
    return []


# Values Keras writes in a call as {"class_name": "__slice__", "config": {...}} (x[:, 1:3]).
KERAS_VALUES = ("__slice__", "__ellipsis__", "__numpy__", "__bytes__", "__tuple__")


def is_keras_value(value: object) -> bool:
    return (
        isinstance(value, dict)
        and value.get("class_name") in KERAS_VALUES
        and isinstance(value.get("config"), dict)
    )


def fill_call(call: object, inputs: list, decode=None) -> object:
    """The call template with each ``{"port": i}`` replaced by the i-th input tensor, and
    each value Keras serialized (a slice) made by `decode` (Keras's deserializer)."""
    if is_port(call):
        return inputs[call["port"]]  # type: ignore[index]
    if decode is not None and is_keras_value(call):
        return decode(call)
    if isinstance(call, dict):
        return {k: fill_call(v, inputs, decode) for k, v in call.items()}
    if isinstance(call, list):
        return [fill_call(v, inputs, decode) for v in call]
    return call


# Recurrent layers also take their initial state as tensors (an encoder's return_state).
STATE_TAKERS = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1}


def arity(node: Node) -> tuple[int, int | None]:
    """How many inputs the node takes (min, max; None = any number)."""
    if node.call is not None:
        n = len(set(call_ports(node.call)))
        return n, n
    k = kind(node)
    if k == BLOCK:
        n = len(_input_refs(node.config.get("input_layers"))) or 1
        return n, n
    if k in (BACKBONE, LOCKED, OPERATION):
        return 1, 1
    low, high = catalogue.input_arity(node.class_name)
    if node.class_name in STATE_TAKERS and high == 1:
        return low, 1 + STATE_TAKERS[node.class_name]
    return low, high


def _input_refs(spec: object) -> list:
    if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
        return [spec]
    if isinstance(spec, dict):
        return [r for v in spec.values() for r in _input_refs(v)]
    if isinstance(spec, list):
        return [r for item in spec for r in _input_refs(item)]
    return []


def type_label(node: Node) -> str:
    """What the canvas and Summary call the node's type: ``Dense``, ``ops.add``,
    ``MobileNetV3Small · frozen``, ``Dense · shared``."""
    k = kind(node)
    label = operation_name(node) if k == OPERATION else node.class_name
    if k in (BLOCK, BACKBONE) and is_frozen(node):
        label += " · frozen"
    elif node.shares:
        label += " · shared"
    elif k == LOCKED:
        label += " · locked"
    return label


def category(node: Node) -> str | None:
    """The palette category whose colour the node wears; operations have their own."""
    if kind(node) == OPERATION:
        return "Operations"
    if kind(node) == BLOCK:
        return "Backbones"
    spec = catalogue.get(node.class_name)
    return spec.category if spec else None


def opens_for_editing(node: Node) -> bool:
    """Whether a block can be opened into its layers for editing: every part of it is a
    layer, an operation or a block itself (no class only Keras's own code builds)."""
    if kind(node) != BLOCK:
        return False
    for entry in node.config.get("layers", []):
        if not isinstance(entry, dict):
            return False
        module = entry.get("module") or ""
        editable = (
            entry.get("class_name") in MODEL_CLASSES
            or not module
            or module.startswith("keras.layers")
            or module == "keras"
            or module.startswith(OPS_MODULE_PREFIX)
        )
        if not editable:
            return False
    return bool(node.config.get("layers"))
