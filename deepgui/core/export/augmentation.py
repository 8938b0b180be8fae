"""Random augmentation layers change the data only in training: at inference each returns its
input as it came. Exports leave them out, because the runtimes cannot take them: ONNX has no
ops for their random transforms (INVALID_GRAPH), and a SavedModel's serving function traced
through them can apply them. The model is rebuilt on the same layer objects, so every weight is
kept, and nested models (the network inside its preprocessing) are rebuilt the same way."""

from __future__ import annotations

from typing import Any

# Keras layers that are the identity at inference (tests/test_export_augmentation.py checks
# each against the installed Keras). RandomCrop is not among them: at inference it resizes to
# its size, so it changes the data.
AUGMENTATION = frozenset(
    {
        "AugMix",
        "CutMix",
        "MixUp",
        "RandAugment",
        "RandomBrightness",
        "RandomColorDegeneration",
        "RandomColorJitter",
        "RandomContrast",
        "RandomElasticTransform",
        "RandomErasing",
        "RandomFlip",
        "RandomGaussianBlur",
        "RandomGrayscale",
        "RandomHue",
        "RandomInvert",
        "RandomPerspective",
        "RandomPosterization",
        "RandomRotation",
        "RandomSaturation",
        "RandomSharpness",
        "RandomShear",
        "RandomTranslation",
        "RandomZoom",
        "Solarization",
        "GaussianNoise",
        "GaussianDropout",
        "AlphaDropout",
    }
)


def is_augmentation(layer) -> bool:
    return type(layer).__name__ in AUGMENTATION


def has_augmentation(model) -> bool:
    """Whether `model` or a model nested in it holds an augmentation layer."""
    return any(
        is_augmentation(layer) or (_is_model(layer) and has_augmentation(layer))
        for layer in getattr(model, "layers", ())
    )


def has_constant_normalization(model) -> bool:
    """Whether `model` or a model nested in it holds a Normalization given its mean and
    variance as numbers (EfficientNet's and ConvNeXt's own preprocessing)."""
    return any(
        _constant_normalization(layer) or (_is_model(layer) and has_constant_normalization(layer))
        for layer in getattr(model, "layers", ())
    )


def _needs_rebuild(model) -> bool:
    return has_augmentation(model) or has_constant_normalization(model)


def without_augmentation(model) -> tuple[Any, list[str]]:
    """`model` with its augmentation layers left out (the model itself when it has none), and
    the names of the layers left out. A layer whose output would not be its input at inference
    (another shape) stays, as does one inside a subclassed model, which cannot be rebuilt.

    For the runtimes, a Normalization given its statistics as numbers becomes the Rescaling
    that computes the same: Keras's ONNX exporter turns Normalization's constants into extra
    graph inputs that no caller feeds (the preprocessing deepgui makes uses Rescaling too)."""
    if not _needs_rebuild(model):
        return model, []
    dropped: list[str] = []
    return _rebuilt(model, dropped, {}), dropped


def _rebuilt(model, dropped: list[str], done: dict[int, Any]):
    if id(model) in done:  # a nested model used twice stays one model
        return done[id(model)]
    import keras

    if not _needs_rebuild(model):
        result = model
    elif isinstance(model, keras.Sequential):
        result = _rebuilt_sequential(model, dropped, done)
    elif _is_functional(model):
        result = keras.models.clone_model(
            model,
            # The same layer objects, so the weights are the trained ones, not copies.
            clone_function=lambda layer: (
                _rebuilt(layer, dropped, done) if _is_model(layer) else layer
            ),
            call_function=lambda layer, *args, **kwargs: _call(layer, dropped, args, kwargs),
        )
    else:
        result = model
    done[id(model)] = result
    return result


def _rebuilt_sequential(model, dropped: list[str], done: dict[int, Any]):
    """A Sequential model as a functional one on the same layers (clone_model cannot leave
    layers out of a Sequential one)."""
    import keras

    source = model.inputs[0]
    inputs = keras.Input(batch_shape=source.shape, dtype=source.dtype, name=source.name)
    x = inputs
    for layer in model.layers:
        layer = _rebuilt(layer, dropped, done) if _is_model(layer) else layer
        x = _call(layer, dropped, (x,), {})
    return keras.Model(inputs, x, name=model.name)


def _call(layer, dropped: list[str], args: tuple, kwargs: dict):
    if _constant_normalization(layer) and len(args) == 1:
        return _as_rescaling(layer)(args[0])
    if not is_augmentation(layer) or len(args) != 1:
        return layer(*args, **kwargs)
    x = args[0]
    out = layer.compute_output_spec(x)
    if tuple(out.shape) != tuple(x.shape):
        return layer(*args, **kwargs)
    dropped.append(layer.name)
    if out.dtype != x.dtype:  # image layers hand back their compute dtype even at inference
        import keras

        return keras.ops.cast(x, out.dtype)
    return x


def _constant_normalization(layer) -> bool:
    return (
        type(layer).__name__ == "Normalization"
        and getattr(layer, "input_mean", None) is not None
        and not getattr(layer, "invert", False)
        and getattr(layer, "mean", None) is not None
    )


def _as_rescaling(layer):
    """(x - mean) / max(sqrt(variance), epsilon) as x * scale + offset, its numbers held as
    NumPy arrays (traced as constants, not captured tensors)."""
    import keras
    import numpy as np

    mean = np.asarray(keras.ops.convert_to_numpy(layer.mean), "float64")
    deviation = np.maximum(
        np.sqrt(np.asarray(keras.ops.convert_to_numpy(layer.variance), "float64")),
        keras.backend.epsilon(),
    )
    scale = (1.0 / deviation).astype("float32")
    offset = (-mean / deviation).astype("float32")
    return keras.layers.Rescaling(scale=scale, offset=offset, name=layer.name)


def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _is_functional(model) -> bool:
    # By name: Keras keeps its Functional class private.
    return any(cls.__name__ == "Functional" for cls in type(model).__mro__)
