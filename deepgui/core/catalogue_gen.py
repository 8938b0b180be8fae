"""Derive the layer catalogue from Keras's own classes and write it to ``catalogue.json``.

Keras describes every layer already: the constructor signature gives the parameters and their
defaults, the ``Args:`` section of the docstring describes each. What Keras cannot say (which
strings are valid choices, sensible ranges, which layers a palette groups together, how many
inputs a layer takes) comes from the small tables below.

The JSON is shipped so the app can show its palette before TensorFlow is imported;
``tests/test_catalogue.py`` regenerates it and fails when it drifts from the installed Keras.

    python -m deepgui.core.catalogue_gen        # rewrite deepgui/core/catalogue.json
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

CATALOGUE_PATH = Path(__file__).with_name("catalogue.json")

ACTIVATIONS = [
    None, "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "gelu",
    "silu", "swish", "softplus", "softsign", "leaky_relu", "relu6", "mish", "exponential",
    "hard_sigmoid",
    # Met in models people bring (MobileNetV3's hard_silu) and keeping the shape:
    "hard_silu", "hard_swish", "hard_tanh", "celu", "log_sigmoid", "log_softmax",
    "squareplus", "sparse_plus", "tanh_shrink", "hard_shrink", "soft_shrink", "sparsemax",
]  # fmt: skip
INITIALIZERS = [
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "random_uniform", "random_normal", "truncated_normal",
    "zeros", "ones",
]  # fmt: skip
PADDING = ["valid", "same"]

# (class name, category, inputs (min, max; None = any number), overrides of parameter specs)
# Overrides: "default" for required arguments, "choices", "min"/"max", "kind", "length".
LAYERS: list[tuple[str, str, tuple[int, int | None], dict[str, dict[str, Any]]]] = [
    ("InputLayer", "Input", (0, 0), {"shape": {"kind": "shape", "default": [28, 28, 1]}}),
    ("Dense", "Core", (1, 1), {"units": {"default": 64, "min": 1}}),
    ("Activation", "Core", (1, 1), {"activation": {"default": "relu", "kind": "choice",
                                                   "choices": ACTIVATIONS[1:]}}),
    ("Embedding", "Core", (1, 1), {"input_dim": {"default": 1000, "min": 1},
                                   "output_dim": {"default": 64, "min": 1}}),
    ("Conv1D", "Convolution", (1, 1), {"filters": {"default": 32, "min": 1},
                                       "kernel_size": {"default": [3], "length": 1},
                                       "padding": {"choices": ["valid", "same", "causal"]}}),
    ("Conv2D", "Convolution", (1, 1), {"filters": {"default": 32, "min": 1},
                                       "kernel_size": {"default": [3, 3], "length": 2}}),
    ("Conv3D", "Convolution", (1, 1), {"filters": {"default": 32, "min": 1},
                                       "kernel_size": {"default": [3, 3, 3], "length": 3}}),
    ("SeparableConv2D", "Convolution", (1, 1), {"filters": {"default": 32, "min": 1},
                                                "kernel_size": {"default": [3, 3], "length": 2}}),
    ("DepthwiseConv2D", "Convolution", (1, 1), {"kernel_size": {"default": [3, 3], "length": 2}}),
    ("Conv2DTranspose", "Convolution", (1, 1), {"filters": {"default": 32, "min": 1},
                                                "kernel_size": {"default": [3, 3], "length": 2}}),
    ("MaxPooling1D", "Pooling", (1, 1), {}),
    ("MaxPooling2D", "Pooling", (1, 1), {}),
    ("AveragePooling1D", "Pooling", (1, 1), {"pool_size": {"kind": "int", "default": 2}}),
    ("AveragePooling2D", "Pooling", (1, 1), {"pool_size": {"kind": "ints", "default": [2, 2]}}),
    ("GlobalMaxPooling1D", "Pooling", (1, 1), {}),
    ("GlobalMaxPooling2D", "Pooling", (1, 1), {}),
    ("GlobalAveragePooling1D", "Pooling", (1, 1), {}),
    ("GlobalAveragePooling2D", "Pooling", (1, 1), {}),
    ("SimpleRNN", "Recurrent", (1, 1), {"units": {"default": 32, "min": 1}}),
    ("LSTM", "Recurrent", (1, 1), {"units": {"default": 32, "min": 1}}),
    ("GRU", "Recurrent", (1, 1), {"units": {"default": 32, "min": 1}}),
    ("Bidirectional", "Recurrent", (1, 1), {"layer": {"kind": "layer", "choices": [
        "LSTM", "GRU", "SimpleRNN"], "default": {"class_name": "LSTM", "config": {"units": 32}}},
        "merge_mode": {"choices": ["concat", "sum", "mul", "ave", None]}}),
    ("BatchNormalization", "Normalization", (1, 1), {}),
    ("LayerNormalization", "Normalization", (1, 1), {}),
    ("Dropout", "Regularization", (1, 1), {"rate": {"default": 0.5, "min": 0.0, "max": 0.999}}),
    ("SpatialDropout1D", "Regularization", (1, 1), {"rate": {"default": 0.2, "min": 0.0,
                                                             "max": 0.999}}),
    ("SpatialDropout2D", "Regularization", (1, 1), {"rate": {"default": 0.2, "min": 0.0,
                                                             "max": 0.999}}),
    ("GaussianNoise", "Regularization", (1, 1), {"stddev": {"default": 0.1, "min": 0.0}}),
    ("Flatten", "Reshaping", (1, 1), {}),
    ("Reshape", "Reshaping", (1, 1), {"target_shape": {"kind": "shape", "default": [-1]}}),
    ("Permute", "Reshaping", (1, 1), {"dims": {"kind": "ints", "default": [2, 1]}}),
    ("RepeatVector", "Reshaping", (1, 1), {"n": {"default": 4, "min": 1}}),
    ("UpSampling1D", "Reshaping", (1, 1), {"size": {"min": 1}}),
    ("UpSampling2D", "Reshaping", (1, 1), {"interpolation": {"choices": ["nearest", "bilinear"]}}),
    ("ZeroPadding2D", "Reshaping", (1, 1), {}),
    ("Cropping2D", "Reshaping", (1, 1), {}),
    ("Add", "Merging", (2, None), {}),
    ("Subtract", "Merging", (2, 2), {}),
    ("Multiply", "Merging", (2, None), {}),
    ("Average", "Merging", (2, None), {}),
    ("Maximum", "Merging", (2, None), {}),
    ("Concatenate", "Merging", (2, None), {}),
    ("Dot", "Merging", (2, 2), {"axes": {"kind": "int", "default": -1}}),
    ("MultiHeadAttention", "Attention", (2, 3), {"num_heads": {"default": 4, "min": 1},
                                                 "key_dim": {"default": 16, "min": 1}}),
    ("Attention", "Attention", (2, 3), {"score_mode": {"choices": ["dot", "concat"]}}),
    ("Rescaling", "Preprocessing", (1, 1), {"scale": {"default": 1.0 / 255, "kind": "float"},
                                            "offset": {"kind": "float"}}),
    ("Normalization", "Preprocessing", (1, 1), {}),
    ("Resizing", "Preprocessing", (1, 1), {"height": {"default": 32, "min": 1},
                                           "width": {"default": 32, "min": 1}}),
    ("TextVectorization", "Preprocessing", (1, 1), {
        "max_tokens": {"kind": "optional_int", "min": 1},
        "output_mode": {"choices": ["int", "multi_hot", "count", "tf_idf"]},
        "output_sequence_length": {"kind": "optional_int", "min": 1},
        "standardize": {"choices": ["lower_and_strip_punctuation", "lower", "strip_punctuation",
                                    None]},
        "split": {"choices": ["whitespace", "character", None]}}),
    ("RandomFlip", "Augmentation", (1, 1), {"mode": {"choices": [
        "horizontal", "vertical", "horizontal_and_vertical"]}}),
    ("RandomRotation", "Augmentation", (1, 1), {"factor": {"kind": "float", "default": 0.1,
                                                           "min": 0.0, "max": 1.0}}),
    ("RandomZoom", "Augmentation", (1, 1), {"height_factor": {"kind": "float", "default": 0.1,
                                                              "min": -1.0, "max": 1.0},
                                            "width_factor": {"kind": "optional_float",
                                                             "min": -1.0, "max": 1.0}}),
]  # fmt: skip

# Never shown in the inspector: Keras plumbing, or values set by data (adapt) rather than by hand.
HIDDEN = {
    "self", "kwargs", "name", "dtype", "sparse", "ragged", "input_tensor", "optional",
    "batch_size", "batch_shape", "tensor", "data_format", "weights", "backward_layer",
    "kernel_constraint", "bias_constraint", "embeddings_constraint", "recurrent_constraint",
    "depthwise_constraint", "pointwise_constraint", "beta_constraint", "gamma_constraint",
    "lora_rank", "lora_alpha", "quantization_config", "mean", "variance", "vocabulary",
    "idf_weights", "encoding", "sliding_window", "flash_attention", "attention_axes",
    "output_shape", "noise_shape", "seed", "input_length", "embeddings_regularizer_config",
    "unroll", "time_major", "use_cudnn", "stateful", "reset_after", "zero_output_for_mask",
    "synchronized", "moving_mean_initializer", "moving_variance_initializer", "rms_scaling",
    "use_causal_mask", "value_range", "fill_value", "pad_to_max_tokens", "ngrams", "invert",
    "use_gate", "dtype_policy", "renorm_clipping", "activity_regularizer_config", "crop_to_aspect_ratio",
    "pad_to_aspect_ratio", "antialias", "go_backwards", "return_state", "implementation",
    "recurrent_initializer", "unit_forget_bias", "trainable", "gamma_initializer",
    "beta_initializer", "depthwise_initializer", "pointwise_initializer",
    "embeddings_initializer", "kernel_initializer_config",
}  # fmt: skip

DESCRIPTIONS = {  # where Keras's first sentence says too little
    "InputLayer": "Where data enters the model: the shape of one sample, without the batch.",
    "Dense": "A fully connected layer: every output is a weighted sum of all inputs.",
    "ZeroPadding2D": "Pads an image with rows and columns of zeros on each side.",
    "Cropping2D": "Crops rows and columns off the sides of an image.",
    "Conv1D": "1D convolution over sequences (temporal convolution).",
    "Attention": "Dot-product attention between a query and a value sequence.",
    "Average": "Averages a list of inputs element-wise.",
}

RESAMPLING = [
    "bilinear",
    "nearest",
    "bicubic",
    "area",
    "lanczos3",
    "lanczos5",
    "gaussian",
    "mitchellcubic",
]
FILL_MODES = ["reflect", "wrap", "constant", "nearest"]

SUMMARY_PARAMS = {  # shown on the canvas node, in this order
    "Dense": ["units", "activation"], "Conv1D": ["filters", "kernel_size", "activation"],
    "Conv2D": ["filters", "kernel_size", "activation"],
    "Conv3D": ["filters", "kernel_size", "activation"],
    "SeparableConv2D": ["filters", "kernel_size"], "DepthwiseConv2D": ["kernel_size"],
    "Conv2DTranspose": ["filters", "kernel_size", "strides"], "LSTM": ["units"],
    "GRU": ["units"], "SimpleRNN": ["units"], "Dropout": ["rate"], "Embedding": ["output_dim"],
    "MaxPooling2D": ["pool_size"], "AveragePooling2D": ["pool_size"],
    "MaxPooling1D": ["pool_size"], "Activation": ["activation"], "InputLayer": ["shape"],
    "MultiHeadAttention": ["num_heads", "key_dim"], "Concatenate": ["axis"],
    "Bidirectional": ["layer"], "Reshape": ["target_shape"], "SpatialDropout2D": ["rate"],
}  # fmt: skip


def _first_sentence(text: str) -> str:
    # A full stop ends a sentence only before a capital: "e.g. temporal", "et al. 2014" go on.
    return re.split(r"(?<=[a-z0-9)`'][.])\s+(?=[A-Z])", text.strip(), maxsplit=1)[0].strip()


def _docstring_args(doc: str) -> tuple[str, dict[str, str]]:
    """The docstring's first sentence and its ``Args:`` entries, each cut to one sentence."""
    doc = inspect.cleandoc(doc or "")
    first = _first_sentence(doc.strip().split("\n\n")[0].replace("\n", " "))
    args: dict[str, str] = {}
    match = re.search(r"^(Args|Arguments):\s*$(.*?)(^\S|\Z)", doc, re.M | re.S)
    if match:
        current = None
        for line in match.group(2).splitlines():
            m = re.match(r"^\s{4}(\w+):\s*(.*)$", line)
            if m:
                current = m.group(1)
                args[current] = m.group(2).strip()
            elif current and line.strip():
                args[current] += " " + line.strip()
    for key, text in args.items():
        text = re.sub(r"`", "", text)
        args[key] = _first_sentence(text)
    return first.replace("`", ""), args


def _kind_of(name: str, default: Any) -> dict[str, Any]:
    if name == "activation" or name == "recurrent_activation":
        return {"kind": "choice", "choices": ACTIVATIONS}
    if name.endswith("_initializer"):
        return {"kind": "choice", "choices": INITIALIZERS}
    if name.endswith("_regularizer"):
        return {"kind": "regularizer"}
    if name == "padding" and isinstance(default, str):
        return {"kind": "choice", "choices": PADDING}
    if isinstance(default, bool):
        return {"kind": "bool"}
    if isinstance(default, int):
        return {"kind": "int"}
    if isinstance(default, float):
        return {"kind": "float"}
    if isinstance(default, tuple | list):
        return {"kind": "ints", "length": len(default)}
    if isinstance(default, str):
        return {"kind": "str"}
    if name in ("strides", "pool_size", "size", "cropping", "padding_size", "dilation_rate"):
        return {"kind": "optional_ints"}
    return {"kind": "optional_int"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list | dict | str | int | float | bool) or value is None:
        return value
    return repr(value)


def derive_layer(class_name: str, category: str, arity: tuple[int, int | None], overrides: dict):
    import keras  # Keras: only regenerating catalogue.json needs it

    cls = getattr(keras.layers, class_name)
    description, arg_docs = _docstring_args(cls.__doc__ or "")
    params = []
    for pname, p in inspect.signature(cls.__init__).parameters.items():
        if pname in HIDDEN or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        over = overrides.get(pname, {})
        required = p.default is inspect.Parameter.empty
        default = over.get("default", None if required else p.default)
        spec: dict[str, Any] = {"name": pname}
        spec.update(_kind_of(pname, default))
        if pname == "interpolation" and class_name != "UpSampling2D":
            spec.update(kind="choice", choices=RESAMPLING)
        if pname == "fill_mode":
            spec.update(kind="choice", choices=FILL_MODES)
        if "choices" in over:
            spec["kind"] = "choice"
        spec.update({k: v for k, v in over.items() if k != "default"})
        spec["default"] = _jsonable(default)
        spec["required"] = required
        if spec["kind"] == "ints" and "length" not in spec and isinstance(default, list):
            spec["length"] = len(default)
        if pname.endswith("rate") and spec["kind"] == "float":
            spec.setdefault("min", 0.0)
            spec.setdefault("max", 0.999 if pname in ("rate", "dropout") else None)
        if pname in ("dropout", "recurrent_dropout"):
            spec.update(min=0.0, max=0.999)
        if spec["kind"] in ("int", "ints", "optional_int", "optional_ints") and pname in (
            "units", "filters", "kernel_size", "strides", "pool_size", "size", "num_heads",
            "key_dim", "depth_multiplier", "groups", "dilation_rate",
        ):  # fmt: skip
            spec.setdefault("min", 1)
        if pname in ("epsilon",):
            spec.setdefault("min", 0.0)
        if pname == "momentum":
            spec.update(min=0.0, max=1.0)
        spec["description"] = arg_docs.get(pname, "")
        params.append({k: v for k, v in spec.items() if v is not None or k == "default"})
    return {
        "class_name": class_name,
        "category": category,
        "description": DESCRIPTIONS.get(class_name, description),
        "min_inputs": arity[0],
        "max_inputs": arity[1],
        "summary_params": SUMMARY_PARAMS.get(class_name, []),
        "params": params,
    }


def derive_catalogue() -> dict[str, Any]:
    import keras  # Keras: only regenerating catalogue.json needs it

    return {
        "keras_version": keras.__version__,
        "layers": [derive_layer(*row) for row in LAYERS],
    }


def main() -> None:
    CATALOGUE_PATH.write_text(json.dumps(derive_catalogue(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CATALOGUE_PATH}")


if __name__ == "__main__":
    main()
