import json

import pytest

from deepgui.core import catalogue
from deepgui.core.catalogue_gen import CATALOGUE_PATH, derive_catalogue

REQUIRED = """Input Dense Activation Embedding Conv1D Conv2D Conv3D SeparableConv2D DepthwiseConv2D
Conv2DTranspose MaxPooling1D MaxPooling2D AveragePooling1D AveragePooling2D GlobalMaxPooling1D
GlobalMaxPooling2D GlobalAveragePooling1D GlobalAveragePooling2D SimpleRNN LSTM GRU Bidirectional
BatchNormalization LayerNormalization Dropout SpatialDropout1D SpatialDropout2D GaussianNoise Flatten
Reshape Permute RepeatVector UpSampling1D UpSampling2D ZeroPadding2D Cropping2D Add Subtract Multiply
Average Maximum Concatenate Dot MultiHeadAttention Attention Rescaling Normalization Resizing
TextVectorization RandomFlip RandomRotation RandomZoom""".replace("Input ", "InputLayer ").split()


def test_shipped_catalogue_matches_installed_keras():
    """Regenerate from Keras and compare: fails when Keras changes under the shipped JSON."""
    shipped = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
    derived = json.loads(json.dumps(derive_catalogue()))
    assert shipped["layers"] == derived["layers"], "run: python -m deepgui.core.catalogue_gen"


def test_every_required_layer_is_catalogued_with_description_and_category():
    for name in REQUIRED:
        spec = catalogue.get(name)
        assert spec is not None, name
        assert spec.description and spec.category in catalogue.CATEGORY_ORDER


def test_defaults_instantiate_in_keras():
    from deepgui.core.graph import Node
    from deepgui.core.keras_layers import make_layer

    for spec in catalogue.all_layers():
        config = dict(spec.default_config(), name="x")
        layer = make_layer(Node("n1", spec.class_name, config))
        assert type(layer).__name__ == spec.class_name


def test_parameters_are_typed_with_ranges():
    dense = catalogue.get("Dense")
    units = dense.param("units")
    assert units.kind == "int" and units.min == 1 and units.required
    assert "relu" in dense.param("activation").choices
    assert dense.param("kernel_regularizer").kind == "regularizer"
    rate = catalogue.get("Dropout").param("rate")
    assert (rate.min, rate.max) == (0.0, 0.999)
    assert catalogue.get("Conv2D").param("padding").choices == ("valid", "same")


@pytest.mark.parametrize(
    ("layer", "param", "value", "fragment"),
    [
        ("Dense", "units", 0, "dense: units must be at least 1, not 0"),
        ("Dropout", "rate", -0.1, "between 0 and 0.999"),
        ("Conv2D", "padding", "full", "must be one of 'valid', 'same'"),
        ("Conv2D", "kernel_size", [3, 3, 3], "needs 2 numbers"),
        ("Dense", "units", 2.5, "whole number"),
        ("Dense", "kernel_regularizer", {"class_name": "L2", "config": {"l2": -1}}, "at least 0"),
    ],
)
def test_invalid_values_are_named(layer, param, value, fragment):
    spec = catalogue.get(layer).param(param)
    message = catalogue.check_param(layer.lower(), spec, value)
    assert message and fragment in message


def test_valid_values_pass_and_search_filters():
    assert catalogue.check_param("d", catalogue.get("Dense").param("units"), 8) is None
    reg = catalogue.regularizer("L2", l2=1e-4)
    assert (
        catalogue.check_param("d", catalogue.get("Dense").param("kernel_regularizer"), reg) is None
    )
    assert [s.class_name for s in catalogue.search("lstm")] == ["LSTM"]
    assert {s.class_name for s in catalogue.search("pooling 2D")} >= {
        "MaxPooling2D",
        "GlobalAveragePooling2D",
    }
