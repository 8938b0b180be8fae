"""Raw data files as users have them, and small projects that train on them: a table with
numbers, string categories, free text and missing cells, and folders of PNG images."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from deepgui.core.graph import Graph
from deepgui.core.project import Project
from tests.helpers import add

ROOT = Path(__file__).resolve().parents[1]

GOOD = ["great", "lovely", "superb", "fine", "happy", "bright"]
BAD = ["awful", "dull", "broken", "sad", "poor", "noisy"]
FILLER = ["the", "a", "item", "was", "really", "quite", "and", "very"]
CITIES = ["oslo", "paris", "rome", "lima"]


def write_mixed_csv(path: Path, rows: int = 600, seed: int = 0) -> Path:
    """Columns age, income (numbers, some cells empty or NA), city (strings, some empty), review
    (free text) and the target "decision" (buy / skip), which depends on all of them."""
    rng = np.random.default_rng(seed)
    lines = ["age,income ($),city,review,decision"]
    for i in range(rows):
        age = rng.normal(45, 12)
        income = rng.lognormal(10, 0.4)
        city = CITIES[rng.integers(len(CITIES))]
        mood = rng.integers(2)
        words = [*(rng.choice(GOOD if mood else BAD, 2)), *rng.choice(FILLER, 3)]
        rng.shuffle(words)
        score = (age - 45) / 12 + (1.2 if city in ("oslo", "paris") else -1.2) + (2 if mood else -2)
        label = "buy" if score + rng.normal(0, 0.3) > 0 else "skip"
        age_cell = "NA" if i % 17 == 3 else f"{age:.1f}"
        income_cell = "" if i % 23 == 5 else f"{income:.0f}"
        city_cell = "" if i % 29 == 7 else city
        lines.append(f'{age_cell},{income_cell},{city_cell},"{" ".join(words)}",{label}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mixed_project(path: Path, vocabulary: int = 40, length: int = 8) -> Path:
    """Two inputs as the CSV gives them: "features" (age, income, city one-hot with its unseen
    slot) and the review's token ids."""
    g = Graph()
    features = add(g, "InputLayer", shape=[7], name="features")
    review = add(g, "InputLayer", shape=[length], name="review")
    emb = add(g, "Embedding", review, input_dim=vocabulary, output_dim=8)
    pooled = add(g, "GlobalAveragePooling1D", emb)
    dense = add(g, "Dense", features, units=16, activation="relu")
    both = add(g, "Concatenate", dense, pooled)
    add(g, "Dense", both, units=2, activation="softmax")
    dataset = {"source": "csv", "path": "", "target": "decision", "sequence_length": length}
    dataset["columns"] = {"review": "text"}
    training = {"epochs": 40, "batch_size": 32, "learning_rate": 0.01, "seed": 1}
    Project(graph=g, dataset=dataset, training=training).save(path)
    return path


def write_image_folder(root: Path, per_class: int = 60, size: int = 8, seed: int = 0) -> Path:
    """Grayscale PNGs in three class folders: horizontal bars, vertical bars, a centred blob,
    drawn with noise in raw 0-255 pixel values."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    for name in ("horizontal", "vertical", "blob"):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            phase = rng.integers(2)
            if name == "horizontal":
                img = ((yy + phase) % 2) * 200.0
            elif name == "vertical":
                img = ((xx + phase) % 2) * 200.0
            else:
                r = np.hypot(yy - size / 2 + 0.5, xx - size / 2 + 0.5)
                img = (r < size / 3.5) * 200.0
            img = np.clip(img + rng.normal(30, 25, img.shape), 0, 255).astype(np.uint8)
            Image.fromarray(img, mode="L").save(folder / f"{i:03d}.png")
    return root


def cnn_project(path: Path, size: int = 8, rescaling: bool = False, epochs: int = 15) -> Path:
    """A small CNN for the image folder; `rescaling` puts Rescaling(1/255) first, the keras.io
    shape, so the data must reach it raw."""
    g = Graph()
    node = add(g, "InputLayer", shape=[size, size, 1], name="image")
    if rescaling:
        node = add(g, "Rescaling", node, scale=1 / 255)
    node = add(g, "Conv2D", node, filters=8, kernel_size=[3, 3], activation="relu")
    node = add(g, "Flatten", node)
    node = add(g, "Dense", node, units=3, activation="softmax")
    dataset = {"source": "image_folder", "path": ""}
    training = {"epochs": epochs, "batch_size": 16, "learning_rate": 0.003, "seed": 1}
    Project(graph=g, dataset=dataset, training=training).save(path)
    return path


def deepgui(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The command line in a process of its own, as a user runs it; it must succeed."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "deepgui.cli", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result
