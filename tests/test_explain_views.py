"""The rules behind the app's Look inside views (deepgui/core/explain_views.py): how a layer's
output is drawn by its shape, which explanation fits a model's inputs, which samples are the
most confidently wrong, and how per-row attributions average into one bar per column."""

from __future__ import annotations

import numpy as np

from deepgui.core.explain_views import (
    COLUMNS,
    GRAD_CAM,
    MAPS,
    PIXELS,
    SEQUENCE,
    STEPS,
    VECTOR,
    activation_kind,
    activation_picture,
    column_importance,
    confidently_wrong,
    explanation_kind,
    largest_errors,
    overlay,
    ranked,
    tile_maps,
)


def test_a_layer_output_is_drawn_by_its_shape():
    assert [activation_kind(s) for s in [(6, 6, 4), (5, 7), (16,), (), (2, 3, 3, 8)]] == [
        MAPS, SEQUENCE, VECTOR, VECTOR, MAPS]  # fmt: skip
    maps = activation_picture("conv", np.random.rand(6, 6, 5))
    assert maps.shape == (6, 6, 5) and maps.grid == (2, 3) and maps.image.shape == (13, 20)
    assert "5 feature maps" in maps.caption
    series = activation_picture("lstm", np.random.rand(9, 7))
    assert series.kind == SEQUENCE and series.image.shape == (9, 7)
    strip = activation_picture("dense", np.arange(5.0))
    assert strip.kind == VECTOR and strip.image.shape == (1, 5)
    volume = activation_picture("conv3d", np.random.rand(2, 4, 4, 3))
    assert volume.kind == MAPS and volume.shape == (2, 4, 4, 3)


def test_feature_maps_tile_in_order_with_a_gap_and_a_limit():
    maps = np.stack([np.full((2, 2), i, np.float32) for i in range(5)], axis=-1)
    image, shown, grid = tile_maps(maps)
    assert (shown, grid) == (5, (2, 3))
    assert image[0, 0] == 0 and image[0, 3] == 1 and image[3, 0] == 3 and image[3, 3] == 4
    assert np.isnan(image[2, 0]) and np.isnan(image[0, 2]) and np.isnan(image[3, 6])
    assert tile_maps(np.zeros((2, 2, 100)), limit=64)[1:] == (64, (8, 8))


def test_the_explanation_fits_the_input():
    assert explanation_kind([(28, 28, 1)], "multiclass", True) == GRAD_CAM
    assert explanation_kind([(28, 28, 1)], "multiclass", False) == PIXELS
    assert explanation_kind([(28, 28, 1)], "regression", True) == PIXELS
    assert explanation_kind([(30, 4)], "binary", False) == STEPS
    assert explanation_kind([(1,), (1,), (1,)], "binary", False) == COLUMNS
    assert explanation_kind([(8,)], "regression", False) == COLUMNS


def test_the_most_confidently_wrong_come_first_and_only_the_wrong():
    true = np.array([0, 1, 2, 1, 0, 2, -1])
    predicted = np.array([0, 2, 2, 0, 1, 0, 1])
    confidence = np.array([0.99, 0.6, 0.9, 0.95, 0.7, 0.6, 1.0])
    # Wrong: 1 (0.6), 3 (0.95), 4 (0.7), 5 (0.6); 6's label is unknown.
    assert confidently_wrong(true, predicted, confidence).tolist() == [3, 4, 1, 5]
    assert confidently_wrong(true, predicted, confidence, limit=2).tolist() == [3, 4]
    assert confidently_wrong(true, true, confidence).tolist() == []
    assert largest_errors([1.0, 2.0, 3.0], [1.5, 0.0, 3.1], limit=2).tolist() == [1, 0]


def test_attributions_average_by_size_and_rank_by_size():
    rows = np.array([[0.5, -2.0, 0.1], [-0.5, 2.0, 0.3]])
    mean = column_importance(rows)
    assert np.allclose(mean, [0.5, 2.0, 0.2])  # opposite signs do not cancel out
    assert [n for n, _ in ranked(["a", "b", "c"], mean)] == ["b", "a", "c"]
    assert ranked(["a", "b"], np.array([0.1, -0.3])) == [("b", -0.3), ("a", 0.1)]


def test_the_heat_is_drawn_in_red_over_the_image():
    image = np.full((4, 4, 1), 100.0)
    image[0, 0] = 0.0
    heat = np.zeros((4, 4))
    heat[3, 3] = 1.0
    out = overlay(image, heat)
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    assert tuple(out[1, 1]) == (255, 255, 255)  # no heat: the gray image, stretched
    assert out[3, 3, 0] == 255 and out[3, 3, 1] < 120  # hot: red
