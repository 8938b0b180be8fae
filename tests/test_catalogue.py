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
        if spec.category == "Backbones":  # made for the image size they receive: see below
            continue
        config = dict(spec.default_config(), name="x")
        layer = make_layer(Node("n1", spec.class_name, config))
        assert type(layer).__name__ == spec.class_name


def test_every_backbone_family_is_a_keras_application():
    import keras

    backbones = [s for s in catalogue.all_layers() if s.category == "Backbones"]
    assert len(backbones) >= 30
    for spec in backbones:
        assert callable(getattr(keras.applications, spec.class_name))
        assert {p.name for p in spec.params} == {"weights", "pooling", "include_top", "trainable"}


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


def test_search_ranks_an_exact_name_then_a_prefix_then_a_word_match():
    def first(text: str) -> str:
        return catalogue.search(text)[0].class_name

    # An exact name wins over names that contain it (GlobalMaxPooling2D came first before).
    assert first("MaxPooling2D") == "MaxPooling2D"
    assert first("max_pooling2d") == "MaxPooling2D"  # Keras's own layer names work too
    # A prefix beats a name that merely contains the text; the 2-D layer leads its siblings.
    assert [s.class_name for s in catalogue.search("maxpool")] == [
        "MaxPooling2D", "MaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling1D"
    ]  # fmt: skip
    assert first("conv") == "Conv2D"
    assert first("drop") == "Dropout"
    assert first("dense") == "Dense"
    # Part of a name before a description that mentions it.
    assert first("pool") == "MaxPooling2D"
    assert first("norm") == "Normalization"
    # Words anywhere in the name, then in the description.
    assert first("pooling 2D") == "MaxPooling2D"
    ranks = [catalogue.match_rank(catalogue.get(n), "maxpool") for n in
             ("MaxPooling2D", "GlobalMaxPooling1D", "Dense")]  # fmt: skip
    assert ranks == [1, 2, None]
    assert catalogue.match_rank(catalogue.get("Dense"), "DENSE") == 0
    assert catalogue.match_rank(catalogue.get("Dropout"), "units") is None
    # No text: every layer in palette order.
    assert [s.class_name for s in catalogue.search("  ")] == [
        s.class_name for s in catalogue.all_layers()
    ]
