"""Random augmentation layers change the data only in training: at inference each returns its
input as it came. Exports leave them out, because the runtimes cannot take them: ONNX has no
ops for their random transforms (INVALID_GRAPH), and a SavedModel's serving function traced
through them can apply them. The model is rebuilt on the same layer objects, so every weight is
kept, and nested models (the network inside its preprocessing) are rebuilt the same way."""

from __future__ import annotations

from typing import Any

import numpy as np

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


def has_runtime_replacement(model) -> bool:
    """Whether `model` or a model nested in it holds a layer the runtimes take in another,
    equal form (_runtime_form)."""
    return any(
        _runtime_form(layer) is not None or (_is_model(layer) and has_runtime_replacement(layer))
        for layer in getattr(model, "layers", ())
    )


def _needs_rebuild(model, runtime: bool) -> bool:
    return has_augmentation(model) or (runtime and has_runtime_replacement(model))


def without_augmentation(model, runtime: bool = False) -> tuple[Any, list[str]]:
    """`model` with its augmentation layers left out (the model itself when it has none), and
    the names of the layers left out. A layer whose output would not be its input at inference
    (another shape) stays, as does one inside a subclassed model, which cannot be rebuilt.

    For a `runtime`, layers its converter cannot take are written in an equal form: a
    Normalization given its statistics as numbers as the Rescaling that computes the same
    (Keras's ONNX exporter turns Normalization's constants into extra graph inputs), and a
    Conv2D whose groups are its channels (ConvNeXt's) as a DepthwiseConv2D (Keras runs a
    grouped convolution through an XLA function no converter can open)."""
    if not _needs_rebuild(model, runtime):
        return model, []
    dropped: list[str] = []
    return _rebuilt(model, dropped, {}, runtime), dropped


def _rebuilt(model, dropped: list[str], done: dict[int, Any], runtime: bool):
    if id(model) in done:  # a nested model used twice stays one model
        return done[id(model)]
    import keras  # Keras brings TensorFlow (seconds): imported when used

    if not _needs_rebuild(model, runtime):
        result = model
    elif isinstance(model, keras.Sequential):
        result = _rebuilt_sequential(model, dropped, done, runtime)
    elif _is_functional(model):
        result = keras.models.clone_model(
            model,
            # The same layer objects, so the weights are the trained ones, not copies.
            clone_function=lambda layer: (
                _rebuilt(layer, dropped, done, runtime) if _is_model(layer) else layer
            ),
            call_function=lambda layer, *args, **kwargs: _call(
                layer, dropped, args, kwargs, runtime
            ),
        )
    else:
        result = model
    done[id(model)] = result
    return result


def _rebuilt_sequential(model, dropped: list[str], done: dict[int, Any], runtime: bool):
    """A Sequential model as a functional one on the same layers (clone_model cannot leave
    layers out of a Sequential one)."""
    import keras  # Keras brings TensorFlow (seconds): imported when used

    source = model.inputs[0]
    inputs = keras.Input(batch_shape=source.shape, dtype=source.dtype, name=source.name)
    x = inputs
    for layer in model.layers:
        layer = _rebuilt(layer, dropped, done, runtime) if _is_model(layer) else layer
        x = _call(layer, dropped, (x,), {}, runtime)
    return keras.Model(inputs, x, name=model.name)


def _call(layer, dropped: list[str], args: tuple, kwargs: dict, runtime: bool):
    form = _runtime_form(layer) if runtime and len(args) == 1 else None
    if form is not None:
        return form(layer, args[0])
    if not is_augmentation(layer) or len(args) != 1:
        return layer(*args, **kwargs)
    x = args[0]
    out = layer.compute_output_spec(x)
    if tuple(out.shape) != tuple(x.shape):
        return layer(*args, **kwargs)
    dropped.append(layer.name)
    if out.dtype != x.dtype:  # image layers hand back their compute dtype even at inference
        import keras  # Keras brings TensorFlow (seconds): imported when used

        return keras.ops.cast(x, out.dtype)
    return x


def _runtime_form(layer):
    """How a runtime takes `layer` (a function of the layer and its input), or None."""
    if _constant_normalization(layer):
        return lambda norm, x: _as_rescaling(norm)(x)
    if _depthwise_grouped(layer):
        return _as_depthwise
    return None


def _depthwise_grouped(layer) -> bool:
    return (
        type(layer).__name__ == "Conv2D"
        and getattr(layer, "groups", 1) > 1
        and layer.groups == layer.filters
        and layer.built
        and layer.kernel.shape[-2] == 1
    )


def _as_depthwise(conv, x):
    """A Conv2D with one group per channel as the DepthwiseConv2D that computes the same, on
    the same numbers (its kernel (h, w, 1, C) laid out as (h, w, C, 1))."""
    import keras  # Keras brings TensorFlow (seconds): imported when used

    config = conv.get_config()
    depthwise = keras.layers.DepthwiseConv2D(
        kernel_size=config["kernel_size"],
        strides=config["strides"],
        padding=config["padding"],
        data_format=config["data_format"],
        dilation_rate=config["dilation_rate"],
        depth_multiplier=1,
        activation=config["activation"],
        use_bias=config["use_bias"],
        name=conv.name,
    )
    out = depthwise(x)
    kernel = np.transpose(keras.ops.convert_to_numpy(conv.kernel), (0, 1, 3, 2))
    weights = [kernel] + ([keras.ops.convert_to_numpy(conv.bias)] if conv.use_bias else [])
    depthwise.set_weights(weights)
    return out


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
    import keras  # Keras brings TensorFlow (seconds): imported when used

    mean = np.asarray(keras.ops.convert_to_numpy(layer.mean), "float64")
    deviation = np.maximum(
        np.sqrt(np.asarray(keras.ops.convert_to_numpy(layer.variance), "float64")),
        keras.backend.epsilon(),
    )
    scale = (1.0 / deviation).astype("float32")
    offset = (-mean / deviation).astype("float32")
    return keras.layers.Rescaling(scale=scale, offset=offset, name=layer.name)


def _is_model(layer) -> bool:
    import keras  # Keras brings TensorFlow (seconds): imported when used

    return isinstance(layer, keras.Model)


def _is_functional(model) -> bool:
    # By name: Keras keeps its Functional class private.
    return any(cls.__name__ == "Functional" for cls in type(model).__mro__)
