"""The Evaluation tab's Activations and Why pages (issue 21, points 4 and 5), on real runs
trained through `deepgui train`: a layer's output for a sample, shaped as the layer's; the
gallery of the most confidently wrong samples; a table's per-column bar chart with the
deciding column on top; the Grad-CAM heat drawn over an image run's samples. Every answer
comes from the run's saved model, off the GUI thread."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from deepgui.cli import main  # noqa: E402
from deepgui.core.explain_views import AVERAGE_ROWS, GRAD_CAM, MAPS, VECTOR  # noqa: E402
from deepgui.ui.training.evaluation_view import EvaluationView  # noqa: E402
from deepgui.ui.training.explain_view import AVERAGE  # noqa: E402
from tests.test_explain import _cnn_project, _digit_folder, deciding_column_table  # noqa: E402

pytestmark = pytest.mark.ui
WAIT = 60_000


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("look_images")
    images = _digit_folder(folder / "digits")
    run = folder / "run"
    assert main(["train", str(_cnn_project(folder / "digits.dgproj")), "--data", str(images),
                 "--engine", "tensorflow", "--epochs", "3", "--out", str(run)]) == 0  # fmt: skip
    return run


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    """A table whose label is the sign of one column, the others noise."""
    folder = tmp_path_factory.mktemp("look_table")
    data, project = deciding_column_table(folder, rows=200, epochs=12)
    run = folder / "run"
    assert main(["train", str(project), "--data", str(data), "--target", "label",
                 "--engine", "tensorflow", "--out", str(run)]) == 0  # fmt: skip
    return run


def _opened(qtbot, run) -> EvaluationView:
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(1100, 420)
    view.show()
    view.show_stored("run", json.loads((run / "metrics.json").read_text()), run)
    return view


def _model_layer_shape(run, name):
    from deepgui.core.explain import _find, load_keras

    model, _ = load_keras(run)
    return tuple(_find(model, name).output.shape[1:])


def test_a_layer_and_a_sample_show_an_activation_of_the_layer_output_shape(qtbot, image_run):
    view = _opened(qtbot, image_run)
    acts = view.activations_view
    view.pages.setCurrentWidget(acts)
    # Computed in the background: the tab is there at once, the picture a moment later.
    assert acts.picture is None
    qtbot.waitUntil(lambda: acts.picture is not None, timeout=WAIT)
    assert acts.layer_choice.count() >= 4 and acts.sample_choice.count() == 16

    acts.layer_choice.setCurrentText("conv2d")
    acts.sample_choice.setCurrentIndex(2)
    qtbot.waitUntil(lambda: acts.picture is not None and acts.picture.layer == "conv2d",
                    timeout=WAIT)  # fmt: skip
    picture = acts.picture
    assert picture.shape == _model_layer_shape(image_run, "conv2d") == (16, 16, 16)
    assert picture.kind == MAPS and picture.grid == (4, 4)
    assert acts.image.image.shape == (4 * 17 - 1, 4 * 17 - 1)  # 16 maps, a pixel apart
    assert "16 feature maps" in acts.status.text()

    # The canvas's selected layer is followed: a vector, drawn as a heat strip.
    acts.follow_layer("dense")
    qtbot.waitUntil(lambda: acts.picture.layer == "dense", timeout=WAIT)
    assert acts.picture.kind == VECTOR and acts.picture.shape == (4,)
    assert acts.image.image.shape == (1, 4)


def test_the_gallery_lists_only_wrong_samples_surest_first(qtbot, image_run):
    from deepgui.core.explain import load_keras
    from deepgui.core.predict import split_samples

    view = _opened(qtbot, image_run)
    why = view.why_view
    view.pages.setCurrentWidget(why)
    qtbot.waitUntil(lambda: why.why is not None, timeout=WAIT)
    shown = [why.gallery.item(i).data(256) for i in range(why.gallery.count())]
    assert shown and all(s.wrong and s.predicted != s.true for s in shown)
    sureness = [s.confidence for s in shown]
    assert sureness == sorted(sureness, reverse=True)

    # Against the run's model on its validation images: the surest mistake is the first.
    model, loaded = load_keras(image_run)
    found = split_samples(loaded, image_run, "validation")
    p = np.asarray(model.predict(found.arrays[0], verbose=0))
    true = np.array([loaded.classes.index(label) for label in found.labels])
    wrong = p.argmax(axis=1) != true
    assert len(shown) == min(12, int(wrong.sum()))
    assert sureness[0] == pytest.approx(p.max(axis=1)[wrong].max(), abs=1e-4)


def test_the_grad_cam_heat_is_drawn_over_an_image_run(qtbot, image_run):
    view = _opened(qtbot, image_run)
    why = view.why_view
    view.pages.setCurrentWidget(why)
    qtbot.waitUntil(lambda: why.selected is not None, timeout=WAIT)
    assert why.why.kind == GRAD_CAM and why.heat_toggle.isVisible()
    assert why.samples.count() == 16

    def red(widget_pixmap) -> float:
        """How much redder than green the picture is, at most."""
        image = widget_pixmap.toImage()
        pixels = [image.pixelColor(x, y) for x in range(0, image.width(), 4)
                  for y in range(0, image.height(), 4)]  # fmt: skip
        return max(c.red() - c.green() for c in pixels)

    hot = next(s for s in why.why.samples if s.heat is not None and s.heat.max() > 0)
    why.samples.setCurrentRow(why.why.samples.index(hot))
    assert red(why.picture.pixmap()) > 60  # the digits are gray: red is the heat
    assert red(why.samples.item(0).icon().pixmap(56)) > 0 or why.why.samples[0].heat.max() == 0
    why.heat_toggle.setChecked(False)
    assert red(why.picture.pixmap()) < 5


def test_the_table_bar_chart_ranks_the_deciding_column_first(qtbot, table_run):
    import pyqtgraph as pg

    view = _opened(qtbot, table_run)
    why = view.why_view
    view.pages.setCurrentWidget(why)
    qtbot.waitUntil(lambda: bool(why.bars_shown), timeout=WAIT)
    assert why.scope.isVisible() and not why.heat_toggle.isVisible()
    # The selected row: one bar per column, the largest in size on top.
    assert sorted(n for n, _ in why.bars_shown) == ["decides", "noise_a", "noise_b"]
    sizes = [abs(v) for _, v in why.bars_shown]
    assert sizes == sorted(sizes, reverse=True)

    why.scope.setCurrentText(AVERAGE)
    qtbot.waitUntil(lambda: why.caption.text().startswith("Mean"), timeout=WAIT)
    names = [n for n, _ in why.bars_shown]
    assert names[0] == "decides"
    assert why.bars_shown[0][1] > 2 * why.bars_shown[1][1]
    bars = [i for i in why.bars.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert len(bars) == 1 and np.allclose(bars[0].opts["width"], [v for _, v in why.bars_shown])
    assert AVERAGE_ROWS >= 40  # the whole validation split (40 rows) was averaged


def test_a_model_that_cannot_load_gives_one_sentence(qtbot, table_run, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(table_run, broken)
    (broken / "model.keras").write_bytes(b"not a zip file")
    view = _opened(qtbot, broken)
    acts = view.activations_view
    view.pages.setCurrentWidget(acts)
    qtbot.waitUntil(lambda: acts.status.text() != "Reading the run's model…", timeout=WAIT)
    assert acts.status.text() == f"{broken / 'model.keras'}: is damaged or not a Keras model file."
    assert acts.picture is None and acts.layer_choice.count() == 0


def _direct_output(run, layer, arrays):
    from deepgui.core.explain import activations, load_keras

    model, _ = load_keras(run)
    return activations(model, layer, arrays)[0]


def test_a_sample_from_the_data_preview_shows_its_own_activation(qtbot, image_run, table_run):
    """Rows and images of the Data panel's preview are samples too (after the evaluation
    samples): what the view draws is the layer's output for that file's row or image, read as
    predict reads it; a preview the model cannot read (a table for an image model) adds none."""
    from deepgui.core.data.preview import preview
    from deepgui.core.predict import read_data

    view = _opened(qtbot, image_run)
    acts = view.activations_view
    view.pages.setCurrentWidget(acts)
    qtbot.waitUntil(lambda: acts.picture is not None, timeout=WAIT)
    table = preview({"source": "csv", "path": str(table_run.parent / "table.csv"),
                     "target": "label"})  # fmt: skip
    acts.set_preview(table)
    qtbot.wait(300)
    assert acts.sample_choice.count() == 16  # an image model reads no table rows

    folder = image_run.parent / "digits"
    acts.set_preview(preview({"source": "image_folder", "path": str(folder)}))
    qtbot.waitUntil(lambda: acts.sample_choice.count() > 17, timeout=WAIT)
    offered = [acts.sample_choice.itemText(i) for i in range(17, acts.sample_choice.count())]
    assert all(t.startswith("Data preview: ") for t in offered)
    last = acts.sample_choice.count() - 1
    acts.layer_choice.setCurrentText("conv2d")
    acts.sample_choice.setCurrentIndex(last)
    item = acts.chosen_sample()
    assert item.path.startswith(str(folder)) and item.label == offered[-1]
    qtbot.waitUntil(lambda: acts.picture is not None and acts.picture.layer == "conv2d"
                    and acts.status.text().startswith("conv2d"), timeout=WAIT)  # fmt: skip
    from deepgui.core.explain import load_keras
    from deepgui.core.explain_views import activation_picture

    _, loaded = load_keras(image_run)
    pixels = read_data(loaded, item.path).arrays
    expected = _direct_output(image_run, "conv2d", pixels)
    assert np.allclose(acts.picture.image, activation_picture("conv2d", expected).image,
                       atol=1e-5, equal_nan=True)  # fmt: skip
    blank = _direct_output(image_run, "conv2d", [np.zeros_like(pixels[0])])
    assert not np.allclose(expected, blank)  # a picture of its own

    # A table run takes the preview's rows: row 5 of the file, as predict numbers it.
    view = _opened(qtbot, table_run)
    acts = view.activations_view
    view.pages.setCurrentWidget(acts)
    acts.set_preview(table)
    fifth = f"Data preview: row {table['row_numbers'][4]}"
    qtbot.waitUntil(lambda: acts.sample_choice.findText(fifth) > 16, timeout=WAIT)
    at = acts.sample_choice.findText(fifth)
    acts.layer_choice.setCurrentText("dense")
    acts.sample_choice.setCurrentIndex(at)
    qtbot.waitUntil(lambda: acts.picture is not None and acts.picture.layer == "dense"
                    and acts.status.text().startswith("dense"), timeout=WAIT)  # fmt: skip
    _, loaded = load_keras(table_run)
    read = read_data(loaded, table_run.parent / "table.csv")
    row = read.ids.index(str(table["row_numbers"][4]))
    expected = _direct_output(table_run, "dense", [a[row : row + 1] for a in read.arrays])
    assert np.allclose(acts.picture.image, expected.reshape(1, -1), atol=1e-5)


def test_an_npz_preview_sample_is_read_as_predict_reads_it(image_run, tmp_path):
    """An .npz's preview rows come from the array the preview shows (x_train here, beside an
    x_test predict would take first), read by predict's own .npz reader."""
    from deepgui.core.data.preview import preview
    from deepgui.core.explain import load_keras
    from deepgui.core.explain_views import Inspection, activation_picture, preview_samples
    from deepgui.core.predict import read_data

    _, loaded = load_keras(image_run)
    pixels = read_data(loaded, image_run.parent / "digits").arrays[0][:5].astype(np.uint8)
    path = tmp_path / "digits.npz"
    np.savez(path, x_train=pixels, y_train=np.zeros(5, np.int64), x_test=pixels[::-1])
    items = preview_samples(preview({"source": "npz", "path": str(path)}))
    inspection = Inspection(image_run)
    assert inspection.fitting(items) == items and {i.array for i in items} == {"x_train"}
    picture = inspection.layer_output("conv2d", items[1])
    expected = _direct_output(image_run, "conv2d", [pixels[1:2].astype(np.float32)])
    assert np.allclose(picture.image, activation_picture("conv2d", expected).image,
                       atol=1e-5, equal_nan=True)  # fmt: skip
