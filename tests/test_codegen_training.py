"""The program a project becomes (codegen_training.py): for every kind of data source it lints
clean and imports no deepgui; its data reading mirrors deepgui's loaders (the same split and
the same preprocessing constants); it trains and predicts on arrays, windows and tables.
tests/test_export_script.py runs exported scripts end to end, isolated from deepgui."""

from __future__ import annotations

import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepgui.core.codegen import generate_script
from deepgui.core.data import load_dataset
from deepgui.core.graph import Graph
from tests.helpers import add, small_cnn
from tests.rawdata import write_image_folder, write_mixed_csv

# The repository's own lint rules, applied to a generated program on its own.
RUFF_ARGS = ["check", "--isolated", "--no-cache", "--target-version", "py310"]
RUFF_ARGS += ["--line-length", "100", "--select", "E,F,W,I,B,UP,SIM"]
TRAINING = {"epochs": 2, "batch_size": 16, "learning_rate": 0.01, "seed": 3}


def dense_graph(width: int, units: int, normalize: bool = False) -> Graph:
    g = Graph()
    node = add(g, "InputLayer", shape=[width], name="features")
    if normalize:
        node = add(g, "Normalization", node, axis=-1)
    node = add(g, "Dense", node, units=8, activation="relu")
    add(g, "Dense", node, units=units, activation="softmax" if units > 1 else None)
    return g


def window_graph(window: int, features: int) -> Graph:
    g = Graph()
    node = add(g, "InputLayer", shape=[window, features], name="series")
    node = add(g, "Flatten", node)
    add(g, "Dense", node, units=1)
    return g


def load_script(tmp_path: Path, graph: Graph, dataset: dict, name: str = "model") -> dict:
    """The generated program written to `tmp_path`, its definitions loaded (not run)."""
    path = tmp_path / f"{name}.py"
    path.write_text(generate_script(graph, dataset, TRAINING, name=name), encoding="utf-8")
    return runpy.run_path(str(path), run_name="generated")


def same_input(got: dict, want: dict) -> bool:
    """Two raw-input descriptions alike, numbers within float noise."""
    if got.keys() != want.keys():
        return False
    for key, value in want.items():
        if isinstance(value, float) or (
            isinstance(value, list) and value and isinstance(value[0], float)
        ):
            if got[key] != pytest.approx(value, rel=1e-9):
                return False
        elif got[key] != value:
            return False
    return True


def ruff() -> str | None:
    beside = Path(sys.executable).with_name("ruff")
    return str(beside) if beside.is_file() else shutil.which("ruff")


def write_series(path: Path, rows: int = 160) -> Path:
    t = np.arange(rows)
    lines = ["day,temp,wind,note"]
    for i in t:
        temp = "" if i == 40 else f"{10 + 5 * np.sin(i / 6):.3f}"
        lines.append(f"2024-{i:04d},{temp},{(i % 7) * 1.5},calm")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SOURCES = {
    "csv": ({"source": "csv", "path": "data.csv", "target": "y", "columns": {"t": "text"}}, 4),
    "iris": ({"source": "builtin", "name": "iris"}, 4),
    "digits": ({"source": "builtin", "name": "digits"}, None),
    "npz": ({"source": "npz", "path": "data.npz", "validation_path": "val.npz"}, 4),
    "images": ({"source": "image_folder", "path": "pictures"}, None),
    "timeseries": ({"source": "timeseries", "path": "s.csv", "target": "temp", "window": 5}, 0),
    "mnist": ({"source": "keras", "name": "mnist"}, None),
    "imdb": ({"source": "keras", "name": "imdb"}, 4),
    "nothing": ({}, 4),
    "unknown builtin": ({"source": "builtin", "name": "nope"}, 4),
}


@pytest.mark.parametrize("key", list(SOURCES))
def test_every_source_gives_a_program_that_lints_clean_without_deepgui(key, tmp_path):
    dataset, width = SOURCES[key]
    graph = small_cnn()[0] if width is None else dense_graph(width, 3)
    if width == 0:
        graph = window_graph(5, 2)
    source = generate_script(graph, dataset, TRAINING, name="model")
    assert not re.search(r"^\s*(import|from)\s+deepgui\b", source, re.MULTILINE)
    compile(source, "model.py", "exec")
    assert max(len(line) for line in source.splitlines()) <= 100
    tool = ruff()
    if tool is None:
        pytest.skip("ruff is not installed: the program was only compiled")
    path = tmp_path / "model.py"
    path.write_text(source, encoding="utf-8")
    done = subprocess.run([tool, *RUFF_ARGS, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.parametrize("schedule", ["constant", "step", "exponential", "cosine", "plateau"])
def test_every_training_setting_gives_clean_code(schedule, tmp_path):
    training = {
        "optimizer": "sgd" if schedule in ("step", "plateau") else "adamw",
        "momentum": 0.9,
        "nesterov": True,
        "schedule": {"kind": schedule, "min_learning_rate": 1e-5},
        "loss": "sparse_categorical_crossentropy" if schedule == "step" else "auto",
        "metrics": ["accuracy", "sparse_top_k_categorical_accuracy"],
        "early_stopping": {"enabled": True, "monitor": "val_accuracy", "patience": 4},
        "class_weight": "balanced",
        "seed": None if schedule == "cosine" else 5,
    }
    dataset = {"source": "builtin", "name": "iris"}
    source = generate_script(dense_graph(4, 3, normalize=True), dataset, training)
    compile(source, "model.py", "exec")
    assert max(len(line) for line in source.splitlines()) <= 100
    assert ("keras.utils.set_random_seed(5)" in source) == (schedule != "cosine")
    tool = ruff()
    if tool is not None:
        path = tmp_path / "model.py"
        path.write_text(source, encoding="utf-8")
        done = subprocess.run([tool, *RUFF_ARGS, str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:]


def test_a_source_it_cannot_read_is_one_sentence_when_training(tmp_path):
    script = load_script(tmp_path, dense_graph(4, 3), {})
    with pytest.raises(SystemExit) as stop:
        script["main"](["train"])
    message = str(stop.value.code)
    assert message.startswith("model.py: No data set is chosen") and "\n" not in message
    with pytest.raises(SystemExit) as stop:
        script["main"](["predict", str(tmp_path / "x.npz")])
    assert "No trained weights: run `python model.py train` first" in str(stop.value.code)


def test_table_reading_mirrors_deepgui_split_and_constants(tmp_path):
    """A CSV with numbers, categories, free text and gaps: the script's split, raw columns and
    learned constants (medians, standardization, vocabularies) are deepgui's own."""
    data = write_mixed_csv(tmp_path / "customers.csv", rows=200)
    dataset = {"source": "csv", "path": str(data), "target": "decision"}
    dataset |= {"columns": {"review": "text"}, "sequence_length": 8, "test_split": 0.1}
    graph = dense_graph(7, 2)
    script = load_script(tmp_path, graph, dataset)
    ours = script["load_data"]()
    theirs = load_dataset(dataset, tmp_path, graph=graph)
    assert ours["task"] == theirs.task and ours["classes"] == theirs.class_names
    want = theirs.preprocessing.to_dict()
    assert ours["preprocessing"]["groups"] == want["groups"]
    for got, expected in zip(ours["preprocessing"]["inputs"], want["inputs"], strict=True):
        assert same_input(got, expected), (got, expected)
    for key, y, raw in (
        ("train", theirs.y_train, theirs.raw_train),
        ("validation", theirs.y_val, theirs.raw_val),
        ("test", theirs.y_test, theirs.raw_test),
    ):
        x, labels = ours[key]
        assert labels.tolist() == y.tolist(), key
        np.testing.assert_array_equal(x["age"][:, 0], raw["age"])
        assert x["city"][:, 0].tolist() == list(raw["city"])


def test_image_and_array_reading_mirror_deepgui(tmp_path):
    pictures = write_image_folder(tmp_path / "pictures", per_class=10)
    dataset = {"source": "image_folder", "path": str(pictures), "validation_split": 0.3}
    graph = small_cnn()[0]
    script = load_script(tmp_path, graph, dataset)
    ours = script["load_data"]()
    theirs = load_dataset(dataset, tmp_path, input_shape=(8, 8, 1), graph=graph)
    assert ours["classes"] == theirs.class_names
    np.testing.assert_array_equal(ours["validation"][0], theirs.raw_val)
    assert ours["validation"][1].tolist() == theirs.y_val.tolist()
    want = theirs.preprocessing.to_dict()["inputs"][0]
    assert same_input(ours["preprocessing"]["inputs"][0], want)
    assert ours["preprocessing"]["image"] == theirs.preprocessing.image

    digits = {"source": "builtin", "name": "digits", "test_split": 0.1}
    script = load_script(tmp_path, graph, digits, name="digits")
    ours = script["load_data"]()
    theirs = load_dataset(digits, None, graph=graph)
    assert ours["test"][1].tolist() == theirs.y_test.tolist()
    np.testing.assert_array_equal(ours["train"][0], theirs.raw_train)
    assert ours["preprocessing"]["inputs"][0]["scale"] == pytest.approx(1 / 16)


def odd_image_folder(root: Path) -> Path:
    """The test folder plus what tripped the script before: a class folder whose name starts
    with a dot, a grayscale GIF, an animated colour GIF, and palette PNGs."""
    from PIL import Image

    write_image_folder(root, per_class=6)
    rng = np.random.default_rng(7)

    def noise(*shape):
        return rng.integers(0, 256, shape, dtype=np.uint8)

    hidden = root / ".hidden"
    hidden.mkdir()
    for i in range(4):
        Image.fromarray(noise(8, 8), mode="L").save(hidden / f"{i}.png")
    Image.fromarray(noise(8, 8), mode="L").save(root / "blob" / "gray.gif")
    Image.fromarray(noise(8, 8), mode="L").convert("P").save(root / "vertical" / "palette.png")
    frames = [Image.fromarray(noise(8, 8, 3)).convert("P", palette=Image.Palette.ADAPTIVE)
              for _ in range(3)]  # fmt: skip
    frames[0].save(root / "horizontal" / "moving.gif", save_all=True, append_images=frames[1:])
    frames[1].save(root / ".hidden" / "colour.png")
    return root


@pytest.mark.parametrize("mode", [None, "rgb", "rgba"])
def test_image_reading_mirrors_deepgui_on_dot_folders_gifs_and_palettes(tmp_path, mode):
    """Every class folder deepgui reads (a leading dot too), and GIFs and palette images read
    to the same pixels in each colour mode (grayscale: the network's one channel)."""
    pictures = odd_image_folder(tmp_path / "pictures")
    dataset = {"source": "image_folder", "path": str(pictures), "validation_split": 0.3}
    if mode is not None:
        dataset["color_mode"] = mode
    graph = small_cnn()[0]
    script = load_script(tmp_path, graph, dataset)
    ours = script["load_data"]()
    theirs = load_dataset(dataset, tmp_path, input_shape=(8, 8, 1), graph=graph)
    assert ours["classes"] == theirs.class_names and ".hidden" in theirs.class_names
    for key, x, y in (("train", theirs.raw_train, theirs.y_train),
                      ("validation", theirs.raw_val, theirs.y_val)):  # fmt: skip
        assert ours[key][0].shape == x.shape and x.shape[-1] == {None: 1, "rgb": 3, "rgba": 4}[mode]
        np.testing.assert_array_equal(ours[key][0], x)
        assert ours[key][1].tolist() == y.tolist()


def test_image_program_names_an_unreadable_image(tmp_path):
    pictures = write_image_folder(tmp_path / "pictures", per_class=3)
    (pictures / "blob" / "broken.gif").write_bytes(b"GIF89a not really")
    dataset = {"source": "image_folder", "path": str(pictures)}
    script = load_script(tmp_path, small_cnn()[0], dataset)
    with pytest.raises(script["Problem"], match="broken.gif: is not a readable image"):
        script["load_data"]()


def test_array_program_trains_then_predicts_an_npz(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    np.savez(tmp_path / "val.npz", x=x[:40], y=y[:40])
    dataset = {"source": "npz", "path": "data.npz", "validation_path": "val.npz"}
    graph = dense_graph(4, 3, normalize=True)
    source = generate_script(graph, dataset, TRAINING, name="arrays", base_dir=tmp_path)
    assert 'network.get_layer("normalization").adapt(x_train)' in source
    path = tmp_path / "arrays.py"
    path.write_text(source, encoding="utf-8")
    script = runpy.run_path(str(path), run_name="generated")
    network, history = script["train"](None, 2)
    assert len(history.history["val_loss"]) == 2  # validated on val.npz
    mean = network.get_layer("normalization").mean
    np.testing.assert_allclose(np.ravel(mean), x.mean(axis=0), atol=0.05)
    script["predict"](str(tmp_path / "data.npz"), str(tmp_path / "out.csv"))
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "row,predicted,p(0),p(1),p(2),label" and len(lines) == 241


def test_time_series_program_trains_then_predicts_windows_of_a_csv(tmp_path):
    series = write_series(tmp_path / "weather.csv")
    dataset = {"source": "timeseries", "path": str(series), "target": "temp", "window": 6}
    graph = window_graph(6, 2)
    script = load_script(tmp_path, graph, dataset, name="weather")
    ours = script["load_data"]()
    theirs = load_dataset(dataset, tmp_path, graph=graph)
    np.testing.assert_array_equal(ours["validation"][0], theirs.raw_val)
    assert same_input(
        ours["preprocessing"]["inputs"][0], theirs.preprocessing.to_dict()["inputs"][0]
    )
    script["train"](None, 1)
    assert (tmp_path / "weather.weights.h5").is_file()
    script["predict"](str(series), str(tmp_path / "out.csv"))
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "row,prediction" and len(lines) == 1 + 160 - 6 + 1
    assert lines[1].split(",")[0] == "7"  # the first window ends on spreadsheet row 7
