"""JAX trains every model TensorFlow trains: the keras.io image-model shape (a network that
starts with Rescaling(1/255)) and a network that starts with Normalization, fed from an image
folder and from an .npz, through the JAX worker process, reach TensorFlow's accuracy."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from PIL import Image

from deepgui.core.data import load_dataset
from deepgui.core.graph import Graph
from deepgui.core.project import Project
from deepgui.core.training import TrainingConfig, engines
from tests.helpers import add, selected_tests, side_by_side
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


def rescaling_project(folder) -> Project:
    project = Project(
        graph=leading("Rescaling", scale=1 / 255),
        dataset={"source": "image_folder", "path": str(image_folder(folder / "images"))},
        training={"epochs": 8, "batch_size": 16, "learning_rate": 0.01, "seed": 3},
    )
    project.save(folder / "rescaling.dgproj")
    return project


def normalization_project(folder) -> Project:
    x, y = tinted_images(90, seed=1)
    np.savez(folder / "tints.npz", x=x.astype("float32"), y=y)
    project = Project(
        graph=leading("Normalization"),
        dataset={"source": "npz", "path": str(folder / "tints.npz")},
        training={"epochs": 2, "batch_size": 16, "seed": 3},
    )
    project.save(folder / "normalization.dgproj")
    return project


# The runs (project, engine) each test reads.
READS = {
    "test_leading_rescaling_cnn_trains_under_jax_as_under_tensorflow": [
        ("rescaling", "jax"), ("rescaling", "tensorflow")],
    "test_leading_normalization_from_an_npz_trains_under_jax": [("normalization", "jax")],
}  # fmt: skip


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> dict:
    """The runs the selected tests read, trained side by side (helpers.side_by_side): a JAX run
    trains in a worker process, so the workers and the TensorFlow run share the cores rather
    than take turns. Each run's Future, by (project, engine)."""
    folder = tmp_path_factory.mktemp("jax_layers")
    wanted = {run for item in selected_tests(request) for run in READS.get(item.originalname, [])}
    makers = {"rescaling": rescaling_project, "normalization": normalization_project}
    projects = {name: makers[name](folder) for name in {name for name, _ in wanted}}
    return side_by_side({
        (name, engine): functools.partial(train, engine, projects[name], folder / name)
        for name, engine in wanted
    })  # fmt: skip


@pytest.mark.slow
def test_leading_rescaling_cnn_trains_under_jax_as_under_tensorflow(runs):
    jax = runs["rescaling", "jax"].result()
    tensorflow = runs["rescaling", "tensorflow"].result()
    assert jax["engine"] == "jax" and tensorflow["engine"] == "tensorflow"
    final_jax, final_tf = jax["final"]["val_accuracy"], tensorflow["final"]["val_accuracy"]
    assert final_tf > 0.6  # the tints are learnable: a failed run cannot pass by agreeing
    assert abs(final_jax - final_tf) <= 0.03


@pytest.mark.slow
def test_leading_normalization_from_an_npz_trains_under_jax(runs):
    metrics = runs["normalization", "jax"].result()
    assert metrics["engine"] == "jax" and metrics["epochs_run"] == 2
