"""Small builders shared by the core tests."""

from __future__ import annotations

from deepgui.core import catalogue
from deepgui.core.graph import Graph, Node


def add(graph: Graph, class_name: str, *after: Node, **params) -> Node:
    """Add a catalogued layer with its defaults overridden by `params`, wired after `after`."""
    spec = catalogue.get(class_name)
    config = spec.default_config() if spec else {}
    config.update(params)
    node = graph.add_node(class_name, config)
    for port, source in enumerate(after):
        graph.connect(source.id, node.id, port)
    return node


def small_cnn() -> tuple[Graph, dict[str, Node]]:
    g = Graph()
    n = {}
    n["input"] = add(g, "InputLayer", shape=[8, 8, 1])
    n["conv"] = add(g, "Conv2D", n["input"], filters=4, kernel_size=[3, 3], activation="relu")
    n["pool"] = add(g, "MaxPooling2D", n["conv"])
    n["flat"] = add(g, "Flatten", n["pool"])
    n["dense"] = add(g, "Dense", n["flat"], units=10, activation="softmax")
    return g, n


def train_as_the_cli_does(project_file, data, run_dir, target=None):
    """Train a saved project on `data` through the core `deepgui train` uses (prepare_run, the
    TensorFlow engine, the run folder); fails the test unless the run completes."""
    from deepgui.core.project import load_project
    from deepgui.core.training import engines
    from deepgui.core.training.prepare import prepare_run

    prepared = prepare_run(load_project(project_file), run_dir, data=str(data), target=target)
    try:
        loaded = prepared.load_data()
        engine = engines.make_engine("tensorflow", prepared.project, loaded, prepared.config,
                                     None, dataset_spec=loaded.spec, run_dir=prepared.run_dir)  # fmt: skip
        result = engine.run()
    finally:
        prepared.release()
    assert result.reason == "completed", result.metrics.get("message")
    return result


def selected_tests(request) -> list:
    """The tests of the requesting fixture's module that this session runs: a module fixture
    that makes what several tests read makes only what the selected ones need."""
    return [
        item for item in request.session.items if getattr(item, "module", None) is request.module
    ]


def side_by_side(jobs: dict) -> dict:
    """Each job (a function of no arguments) in a thread of its own, all at once, waiting for
    them all: a job that mostly waits on a process (a JAX worker, a command) leaves the cores to
    the others. Each job's Future by its key; result() raises what the job raised."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max(len(jobs), 1)) as pool:
        futures = {key: pool.submit(job) for key, job in jobs.items()}
    return futures
