"""Turning one node into a Keras layer and calling it: the only place that knows how a node's
config and its inputs map onto Keras's calling conventions."""

from __future__ import annotations

import copy
import os
import sys
import threading
from typing import Any

from deepgui.core.catalogue import input_arity
from deepgui.core.graph import Node

# Layers called with positional tensors rather than one list.
POSITIONAL_INPUTS = {"MultiHeadAttention", "GroupQueryAttention"}


_loaded = False
# The first import of Keras and TensorFlow happens once, on one thread: two threads importing
# them at the same moment (the training worker and the device probe) can see half-initialised
# TensorFlow modules ("module ... has no attribute DatasetV2").
_import_lock = threading.Lock()


def keras():
    """Import Keras lazily (it brings TensorFlow: seconds), quietly."""
    quiet_backend_start()
    import keras as _keras

    return _keras


def quiet_backend_start() -> None:
    """Import Keras and its backend with the native log lines silenced.

    TensorFlow's C++ side writes INFO lines (oneDNN, CUDA probing) straight to file
    descriptor 2 before its logging is configured, whatever TF_CPP_MIN_LOG_LEVEL says; a
    user of `deepgui summary` should not see them. Python exceptions still propagate.
    Only the first call does anything.
    """
    global _loaded
    if _loaded:
        return
    with _import_lock:
        if not _loaded:
            _import_quietly()
            _loaded = True


def _import_quietly() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("DEEPGUI_DEBUG"):
        import keras as _keras  # noqa: F401

        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras as _keras

            if _keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                tf.config.list_physical_devices("GPU")  # the CUDA probe logs now, silenced
    finally:
        os.dup2(saved, 2)
        os.close(saved)


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


def make_layer(node: Node):
    """A fresh Keras layer for `node` (unbuilt)."""
    k = keras()
    serialized = {
        "module": "keras.layers",
        "class_name": node.class_name,
        "config": layer_config(node),
        "registered_name": None,
    }
    try:
        return k.layers.deserialize(serialized)
    except KeyError:
        # A few from_config methods (TextVectorization) read keys that a palette-made config,
        # holding only the catalogued parameters, leaves out; the constructor has defaults.
        cls = getattr(k.layers, node.class_name)
        return cls(**serialized["config"])


def call_layer(layer, class_name: str, inputs: list):
    """Call `layer` on its input tensors in the convention its class uses."""
    _, max_inputs = input_arity(class_name)
    if class_name in POSITIONAL_INPUTS:
        return layer(*inputs)
    if max_inputs is None or max_inputs > 1:
        return layer(list(inputs))
    return layer(inputs[0])


def input_shape_of(node: Node) -> tuple[int | None, ...]:
    """The full (batched) shape an InputLayer node declares."""
    config = node.config
    if config.get("batch_shape") is not None:
        return tuple(config["batch_shape"])
    shape = config.get("shape")
    if shape is None:
        raise ValueError(f"{node.name}: the Input has no shape.")
    if isinstance(shape, int):
        shape = [shape]
    return (None, *shape)
