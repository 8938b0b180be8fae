"""Fine-tuning a pretrained backbone, as keras.io's transfer-learning guide does it.

Phase one trains the new head on top of a frozen backbone for `frozen_epochs`; phase two
unfreezes the backbone's top `unfreeze_layers` layers (all of them when 0) and goes on at the
lower `learning_rate`. BatchNormalization layers stay frozen throughout: a frozen
BatchNormalization runs in inference mode in Keras 3, so its statistics, learnt on ImageNet, are
not overwritten by a few small batches.

The backbone is every model the network holds as a layer: a palette backbone or an imported
model used as a layer (node_kinds.BLOCK, node_kinds.BACKBONE).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from deepgui.core.errors import TrainingError
from deepgui.core.keras_layers import keras
from deepgui.core.training.config import Schedule


def backbones_of(model) -> list[Any]:
    """The models `model` holds as layers, in order."""
    model_class = keras().Model
    return [layer for layer in model.layers if isinstance(layer, model_class)]


def _leaves(model) -> list[Any]:
    """Every layer inside `model`, nested models opened, in order."""
    model_class = keras().Model
    out = []
    for layer in model.layers:
        out += _leaves(layer) if isinstance(layer, model_class) else [layer]
    return out


def check(model) -> list[Any]:
    """The backbones to fine-tune; TrainingError, one sentence, when the network has none."""
    found = backbones_of(model)
    if not found:
        raise TrainingError(
            "training.fine_tuning needs a backbone: add one from the Backbones palette (or "
            "import a model that holds one), or turn fine-tuning off."
        )
    return found


def freeze(model) -> None:
    """Phase one: every backbone frozen."""
    for backbone in check(model):
        backbone.trainable = False


def unfreeze_top(model, layers: int) -> int:
    """Phase two: the top `layers` layers with weights of each backbone train (all when 0),
    BatchNormalization excepted. Returns how many layers now train."""
    batch_norm = keras().layers.BatchNormalization
    unfrozen = 0
    for backbone in check(model):
        backbone.trainable = True  # Keras sets every inner layer; the loop below narrows it
        inner = [layer for layer in _leaves(backbone) if layer.weights]
        chosen = inner if layers == 0 else inner[-layers:]
        keep = {id(layer) for layer in chosen if not isinstance(layer, batch_norm)}
        for layer in _leaves(backbone):
            layer.trainable = id(layer) in keep
        unfrozen += len(keep)
    return unfrozen


def second_phase_config(cfg):
    """The training settings of phase two: the fine-tuning learning rate, held constant."""
    return replace(cfg, learning_rate=cfg.fine_tuning.learning_rate, schedule=Schedule())


def describe(cfg) -> str:
    """One sentence for the run's start: what happens when."""
    ft = cfg.fine_tuning
    which = "every layer" if ft.unfreeze_layers == 0 else f"the top {ft.unfreeze_layers} layers"
    return (
        f"Fine-tuning: the backbone is frozen for epochs 1-{ft.frozen_epochs}, then {which} of "
        f"it train at learning rate {ft.learning_rate:g} (BatchNormalization stays frozen)."
    )
