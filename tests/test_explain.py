"""Looking inside a trained model (deepgui/core/explain.py, `deepgui explain`): activations
shaped as the layer's output, Grad-CAM hot on a digit's ink, and integrated gradients that rank
first the one column that decides a table's label."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from deepgui.cli import main
from deepgui.core.errors import DeepGuiError
from deepgui.core.explain import activations, check_output, heat_contrast
from deepgui.core.graph import Graph
from deepgui.core.keras_layers import keras
from deepgui.core.paths import datasets_dir
from deepgui.core.project import Project
from tests.helpers import add

DIGITS = (0, 1, 4, 7)
SIZE = 16


def test_activations_are_shaped_as_the_layer_output():
    k = keras()
    image = k.Input((8, 8, 1))
    conv = k.layers.Conv2D(4, 3, name="conv")(image)
    dense = k.layers.Dense(5, name="dense")(k.layers.Flatten()(conv))
    series = k.Input((6, 3))
    lstm = k.layers.LSTM(7, return_sequences=True, name="lstm")(series)
    last = k.layers.GRU(2, name="gru")(lstm)
    cnn, rnn = k.Model(image, dense), k.Model(series, last)
    x, s = np.random.rand(3, 8, 8, 1), np.random.rand(3, 6, 3)

    assert activations(cnn, "conv", x).shape == (3, 6, 6, 4)
    assert activations(cnn, "dense", x).shape == (3, 5)
    assert activations(rnn, "lstm", s).shape == (3, 6, 7)
    assert activations(rnn, "gru", s).shape == (3, 2)


def _digit_folder(root):
    """Four digits of the bundled set as grayscale PNGs in class folders (0-255), each at a
    random place on a canvas twice its size, so that where the ink is differs per image."""
    from PIL import Image

    rng = np.random.default_rng(0)
    data = np.load(datasets_dir() / "digits.npz")
    for digit in DIGITS:
        folder = root / str(digit)
        folder.mkdir(parents=True)
        for i, image in enumerate(data["x"][data["y"] == digit][:80]):
            canvas = np.zeros((SIZE, SIZE), np.uint8)
            top, left = rng.integers(0, SIZE - 8 + 1, 2)
            canvas[top : top + 8, left : left + 8] = image[..., 0].astype(np.float32) * 255 / 16
            Image.fromarray(canvas, mode="L").save(folder / f"{i:03d}.png")
    return root


def _cnn_project(path):
    g = Graph()
    node = add(g, "InputLayer", shape=[SIZE, SIZE, 1], name="image")
    node = add(g, "Rescaling", node, scale=1 / 255)
    for _ in range(2):
        node = add(g, "Conv2D", node, filters=16, kernel_size=[3, 3], padding="same",
                   activation="relu")  # fmt: skip
    node = add(g, "GlobalAveragePooling2D", node)
    add(g, "Dense", node, units=len(DIGITS), activation="softmax")
    dataset = {"source": "image_folder", "path": ""}
    training = {"epochs": 25, "batch_size": 16, "learning_rate": 0.01, "seed": 1}
    Project(graph=g, dataset=dataset, training=training).save(path)
    return path


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("digits")
    images = _digit_folder(folder / "digits")
    run = folder / "run"
    project = _cnn_project(folder / "digits.dgproj")
    assert main(["train", str(project), "--data", str(images), "--engine", "tensorflow",
                 "--out", str(run)]) == 0  # fmt: skip
    return run, images


@pytest.mark.slow
def test_grad_cam_is_hotter_on_the_ink_and_explain_writes_heat_maps(digits_run, tmp_path):
    from PIL import Image

    run, images = digits_run
    out = tmp_path / "why"
    assert main(["explain", str(run), "--data", str(images), "-o", str(out)]) == 0

    ratios = []
    for digit in DIGITS:
        for png in sorted((images / str(digit)).glob("*.png")):
            heat = np.load(out / str(digit) / f"{png.stem}.npy")
            pixels = np.asarray(Image.open(png))
            assert heat.shape == pixels.shape
            assert heat.min() >= 0 and heat.max() <= 1
            assert (out / str(digit) / f"{png.stem}.png").is_file()
            if heat.max() > 0:
                ratios.append(heat_contrast(heat, pixels > 127))
    assert len(ratios) > 0.9 * 80 * len(DIGITS)
    assert np.mean(np.minimum(ratios, 100)) >= 1.5

    # The folder now holds files; -o inside the run folder is refused too.
    assert main(["explain", str(run), "--data", str(images), "-o", str(out)]) == 2
    assert main(["explain", str(run), "--data", str(images), "-o", str(run / "why")]) == 2


def deciding_column_table(folder, rows: int, epochs: int):
    """A CSV whose label is the sign of one column ("decides"), the others noise, and a small
    dense project for it: (the CSV, the project file)."""
    rng = np.random.default_rng(0)
    data = folder / "table.csv"
    lines = [["noise_a", "decides", "noise_b", "label"]]
    for _ in range(rows):
        a, d, b = rng.normal(size=3)
        lines.append([f"{a:.4f}", f"{d:.4f}", f"{b:.4f}", "yes" if d > 0 else "no"])
    with data.open("w", newline="") as f:
        csv.writer(f).writerows(lines)
    g = Graph()
    node = add(g, "InputLayer", shape=[3], name="features")
    node = add(g, "Dense", node, units=16, activation="relu")
    add(g, "Dense", node, units=2, activation="softmax")
    dataset = {"source": "csv", "path": "", "target": "label"}
    training = {"epochs": epochs, "batch_size": 32, "learning_rate": 0.01, "seed": 1}
    project = folder / "table.dgproj"
    Project(graph=g, dataset=dataset, training=training).save(project)
    return data, project


def test_integrated_gradients_rank_the_deciding_column_first(tmp_path, capsys):
    data, project = deciding_column_table(tmp_path, rows=300, epochs=20)
    run = tmp_path / "run"
    assert main(["train", str(project), "--data", str(data), "--target", "label",
                 "--engine", "tensorflow", "--out", str(run)]) == 0  # fmt: skip

    out = tmp_path / "why"
    assert main(["explain", str(run), "--data", str(data), "-o", str(out)]) == 0
    with (out / "attributions.csv").open() as f:
        table = list(csv.reader(f))
    header, body = table[0], np.array(table[1:], dtype=float)
    assert header == ["row", "noise_a", "decides", "noise_b"]
    assert len(body) == 300
    mean = np.abs(body[:, 1:]).mean(axis=0)
    assert header[1 + int(mean.argmax())] == "decides"
    assert mean[1] > 2 * max(mean[0], mean[2])


def test_explain_writes_only_into_a_new_or_empty_folder_outside_runs(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.keras").write_bytes(b"")
    full = tmp_path / "full"
    full.mkdir()
    (full / "old.txt").write_text("kept")
    (tmp_path / "file").write_text("")

    assert check_output(tmp_path / "new") == tmp_path / "new"
    assert check_output(full, force=True) == full
    for refused in (run / "why", full, tmp_path / "file"):
        with pytest.raises(DeepGuiError):
            check_output(refused)
    # Through the command line: one sentence and exit 2, before any model loads.
    assert main(["explain", str(run), "--data", str(tmp_path), "-o", str(full)]) == 2
