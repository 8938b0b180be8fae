"""JAX trains every model TensorFlow trains: the keras.io image-model shape (a network that
starts with Rescaling(1/255)) and a network that starts with Normalization, fed from an image
folder and from an .npz, through the JAX worker process, reach TensorFlow's accuracy."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from deepgui.core.data import load_dataset
from deepgui.core.graph import Graph
from deepgui.core.project import Project
from deepgui.core.training import TrainingConfig, engines
from tests.helpers import add
from tests.test_engines import Events

pytest.importorskip("jax")


def tinted_images(n: int, size: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    tints = np.array([[200, 40, 40], [40, 200, 40], [40, 40, 200]])
    x = (rng.normal(0, 60, (n, size, size, 3)) + tints[y][:, None, None, :]).clip(0, 255)
    return x.astype("uint8"), y


def image_folder(root, n: int = 120):
    x, y = tinted_images(n)
    for i, (pixels, label) in enumerate(zip(x, y, strict=True)):
        folder = root / ["red", "green", "blue"][label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


def leading(layer: str, **params) -> Graph:
    """The keras.io image-classification shape: the network scales its own pixels first."""
    g = Graph()
    x = add(g, layer, add(g, "InputLayer", shape=[24, 24, 3]), **params)
    x = add(g, "Conv2D", x, filters=8, kernel_size=3, activation="relu")
    x = add(g, "MaxPooling2D", x)
    x = add(g, "Dropout", x, rate=0.1)
    x = add(g, "GlobalAveragePooling2D", x)
    add(g, "Dense", x, units=3, activation="softmax")
    return g


def train(engine: str, project: Project, tmp_path) -> dict:
    data = load_dataset(project.dataset, graph=project.graph)
    config = TrainingConfig.from_dict(project.training)
    run = engines.make_engine(engine, project, data, config, Events(),
                              dataset_spec=project.dataset, run_dir=tmp_path / engine)  # fmt: skip
    result = run.run()
    assert result.reason == "completed", result.metrics.get("message")
    return result.metrics


@pytest.mark.slow
def test_leading_rescaling_cnn_trains_under_jax_as_under_tensorflow(tmp_path):
    project = Project(
        graph=leading("Rescaling", scale=1 / 255),
        dataset={"source": "image_folder", "path": str(image_folder(tmp_path / "images"))},
        training={"epochs": 8, "batch_size": 16, "learning_rate": 0.01, "seed": 3},
    )
    project.save(tmp_path / "rescaling.dgproj")
    jax = train("jax", project, tmp_path)
    tensorflow = train("tensorflow", project, tmp_path)
    assert jax["engine"] == "jax" and tensorflow["engine"] == "tensorflow"
    final_jax, final_tf = jax["final"]["val_accuracy"], tensorflow["final"]["val_accuracy"]
    assert final_tf > 0.6  # the tints are learnable: a failed run cannot pass by agreeing
    assert abs(final_jax - final_tf) <= 0.03


@pytest.mark.slow
def test_leading_normalization_from_an_npz_trains_under_jax(tmp_path):
    x, y = tinted_images(90, seed=1)
    np.savez(tmp_path / "tints.npz", x=x.astype("float32"), y=y)
    project = Project(
        graph=leading("Normalization"),
        dataset={"source": "npz", "path": str(tmp_path / "tints.npz")},
        training={"epochs": 2, "batch_size": 16, "seed": 3},
    )
    project.save(tmp_path / "normalization.dgproj")
    metrics = train("jax", project, tmp_path)
    assert metrics["engine"] == "jax" and metrics["epochs_run"] == 2
