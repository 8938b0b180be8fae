"""Engines: TensorFlow, TensorFlow with XLA, and JAX in a worker process all write the same run
directory, whose model loads under TensorFlow; the worker stops at once when told and a
crashed worker ends the run with a sentence; `auto` measures once and remembers."""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from deepgui.core.data import load_dataset
from deepgui.core.graph import Graph
from deepgui.core.project import Project
from deepgui.core.training import TrainingConfig, TrainingListener, engines
from tests.helpers import add, selected_tests, side_by_side
from tests.machine import within

pytest.importorskip("jax")


def iris_project(tmp_path, epochs: int = 3) -> Project:
    g = Graph()
    hidden = add(g, "Dense", add(g, "InputLayer", shape=[4]), units=16, activation="relu")
    add(g, "Dense", hidden, units=3, activation="softmax")
    project = Project(graph=g, dataset={"source": "builtin", "name": "iris"},
                      training={"epochs": epochs, "batch_size": 16, "learning_rate": 0.02})  # fmt: skip
    project.save(tmp_path / "iris.dgproj")
    return project


class Events(TrainingListener):
    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.rates: list[float | None] = []  # the learning rate each epoch's event carries
        self.batches = 0
        self.info: dict = {}
        self.first_epoch = threading.Event()

    def started(self, steps_per_epoch, epochs, initial_epoch, info):
        self.info = info

    def batch_ended(self, step, logs):
        self.batches += 1

    def epoch_ended(self, epoch, logs):
        self.epochs.append(epoch)
        self.rates.append(logs.get("learning_rate"))
        self.first_epoch.set()


def run_engine(name: str, project, tmp_path, epochs: int | None = None, listener=None):
    data = load_dataset(project.dataset, graph=project.graph)
    config = TrainingConfig.from_dict(project.training)
    if epochs:
        config = config.with_overrides(epochs=epochs)
    listener = listener or Events()
    engine = engines.make_engine(name, project, data, config, listener,
                                 dataset_spec=project.dataset, run_dir=tmp_path / name)  # fmt: skip
    return engine, listener, data


def trained_iris(name: str, folder) -> SimpleNamespace:
    """The iris project trained for 3 epochs by engine `name` into folder/name."""
    project = iris_project(folder)
    engine, events, data = run_engine(name, project, folder)
    return SimpleNamespace(result=engine.run(), events=events, data=data, run=folder / name)


def trained_example(example: str, folder) -> SimpleNamespace:
    """A bundled example trained for one epoch by the JAX worker into folder/run, through the
    core `deepgui train` uses."""
    import shutil

    from deepgui.core.paths import examples_dir
    from deepgui.core.project import load_project
    from deepgui.core.training.prepare import prepare_run

    shutil.copy(examples_dir() / f"{example}.dgproj", folder / f"{example}.dgproj")
    project = load_project(folder / f"{example}.dgproj")
    prepared = prepare_run(project, folder / "run", epochs=1)
    try:
        data = prepared.load_data()
        engine = engines.make_engine("jax", prepared.project, data, prepared.config, Events(),
                                     dataset_spec=prepared.spec, run_dir=prepared.run_dir)  # fmt: skip
        result = engine.run()
    finally:
        prepared.release()
    return SimpleNamespace(result=result, data=data, config=prepared.config, run=folder / "run")


# The CNN and the LSTM: the dense examples train like the iris project the tests above use.
EXAMPLES = ["digits_cnn", "sequence_lstm"]
ENGINES = ["xla", "jax"]


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> dict:
    """The runs the selected tests below read, trained side by side (helpers.side_by_side):
    JAX trains in a worker process, so the workers and XLA (in this process) share the cores
    rather than take turns. Each run's Future, by engine or example name."""
    jobs = {}
    for item in selected_tests(request):
        params = getattr(item, "callspec", None)
        name = params and (params.params.get("name") or params.params.get("example"))
        if item.originalname == "test_each_engine_writes_the_same_run_directory":
            jobs[name] = functools.partial(trained_iris, name, tmp_path_factory.mktemp(name))
        elif item.originalname.startswith("test_the_jax_worker_trains_every_bundled_example"):
            jobs[name] = functools.partial(trained_example, name, tmp_path_factory.mktemp(name))
    return side_by_side(jobs)


@pytest.mark.slow
@pytest.mark.parametrize("name", ENGINES)
def test_each_engine_writes_the_same_run_directory(name, runs):
    trained = runs[name].result()
    result, events, data, run = trained.result, trained.events, trained.data, trained.run
    assert result.reason == "completed", result.metrics.get("message")
    names = {p.name for p in run.iterdir()}
    assert {"model.keras", "history.csv", "metrics.json", "signature.json", "samples.npz",
            "project.dgproj", "checkpoints"} <= names  # fmt: skip
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["engine"] == name and metrics["epochs_run"] == 3
    assert events.epochs == [1, 2, 3] and events.batches >= 3 * 7  # per-batch events arrive
    assert events.info["engine"] == name
    # Each epoch's event carries the learning rate (the JAX worker's parent has no optimizer
    # to read it from), so the app draws it live whichever engine trains.
    assert events.rates == [pytest.approx(0.02)] * 3
    # The model (trained under JAX or XLA) loads under TensorFlow and takes the raw columns.
    import keras

    model = keras.saving.load_model(run / "model.keras")
    accuracy = np.mean(np.argmax(model.predict(data.raw_val, verbose=0), 1) == data.y_val)
    assert accuracy > 0.6


def test_xla_falls_back_with_a_sentence_when_the_model_does_not_compile(tmp_path, monkeypatch):
    project = iris_project(tmp_path, epochs=1)
    engine, events, _ = run_engine("xla", project, tmp_path)

    def refuse(*_args, **_kwargs):
        raise RuntimeError("XLA compilation of op Foo is not supported")

    import keras

    monkeypatch.setattr(keras.Model, "train_on_batch", refuse)
    result = engine.run()
    assert result.reason == "completed"
    assert result.metrics["engine"] == "tensorflow"
    assert "XLA cannot compile this model" in events.info["engine_note"]
    assert "op Foo" in events.info["engine_note"]


@pytest.mark.slow
def test_the_worker_stops_at_once_and_a_crash_is_one_sentence(tmp_path):
    project = iris_project(tmp_path, epochs=500)
    engine, events, _ = run_engine("jax", project, tmp_path, epochs=500)
    results = []
    thread = threading.Thread(target=lambda: results.append(engine.run()))
    thread.start()
    assert events.first_epoch.wait(120)
    asked = time.perf_counter()
    engine.stop()
    thread.join(30)
    assert not thread.is_alive() and time.perf_counter() - asked < within(3.0)
    assert results[0].reason == "user" and len(events.epochs) < 500
    assert engine.process.poll() is not None  # no process left behind

    engine, events, _ = run_engine("jax", project, tmp_path / "crash", epochs=500)
    results = []
    thread = threading.Thread(target=lambda: results.append(engine.run()))
    thread.start()
    assert events.first_epoch.wait(120)
    os.kill(engine.process.pid, signal.SIGKILL)
    thread.join(30)
    result = results[0]
    assert result.reason == "error" and "training worker was killed" in result.metrics["message"]
    assert "\n" not in result.metrics["message"] and engine.process.poll() is not None


def test_auto_measures_once_per_model_and_machine_and_takes_the_fastest(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    project = iris_project(tmp_path)
    data = load_dataset(project.dataset, graph=project.graph)
    config = TrainingConfig.from_dict(project.training)
    calls = []
    monkeypatch.setattr(
        engines,
        "probe_here",
        lambda g, d, c, jit=False: calls.append(jit) or ((900.0, 1.0) if jit else (500.0, 0.2)),
    )
    monkeypatch.setattr(engines, "_probe_in_worker",
                        lambda p, d, c: calls.append("jax") or (2000.0, 4.0))  # fmt: skip
    # A short run is not worth measuring: TensorFlow, at once.
    chosen, note = engines.resolve("auto", project, data, config)
    assert chosen == "tensorflow" and "short run" in note and calls == []
    # A long one is measured, and the engine that ends it soonest wins: JAX's 4 s start-up
    # is paid back by 4x TensorFlow's speed over 200k samples.
    long = config.with_overrides(epochs=2000)  # 105 rows x 2000 epochs
    chosen, note = engines.resolve("auto", project, data, long)
    assert chosen == "jax" and "JAX" in note and len(calls) == 3
    again, _ = engines.resolve("auto", project, data, long)
    assert again == "jax" and len(calls) == 3  # remembered, not measured again
    # Once measured, a shorter run of the same model is predicted from the same figures:
    # 10 epochs take TensorFlow 0.2 + 1,050/500 = 2.3 s, JAX 4 + 0.5 = 4.5 s (+ its ending).
    chosen, note = engines.resolve("auto", project, data, config.with_overrides(epochs=10))
    assert chosen == "tensorflow" and "TensorFlow 2.3 s" in note and len(calls) == 3
    wider = long.with_overrides(batch_size=64)
    engines.resolve("auto", project, data, wider)
    assert len(calls) == 6  # another batch size is another measurement


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES)
def test_the_jax_worker_trains_every_bundled_example_into_a_run_that_tensorflow_loads(
    example, runs
):
    """The same run folder as the TensorFlow engine, and its model (trained under JAX) loads
    under TensorFlow and takes the raw rows the run kept for the exports' checks."""
    from deepgui.core.signature import read_samples

    trained = runs[example].result()
    result, data, run = trained.result, trained.data, trained.run
    assert result.reason == "completed", result.metrics.get("message")
    assert {"model.keras", "history.csv", "metrics.json", "signature.json", "samples.npz",
            "project.dgproj", "checkpoints"} <= {p.name for p in run.iterdir()}  # fmt: skip
    assert json.loads((run / "metrics.json").read_text())["engine"] == "jax"
    import keras

    assert keras.backend.backend() == "tensorflow"
    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    raw, labels = read_samples(run)
    predictions = np.asarray(model.predict(raw, verbose=0))
    assert len(predictions) == len(labels) and np.all(np.isfinite(predictions))

    # The app shows the worker's own evaluation (no second pass of the model in the app's
    # interpreter): the confusion matrix the saved model gives here, the split's images.
    from deepgui.core.training.evaluation import evaluate, from_worker

    shown = from_worker(result.metrics["evaluation"], data)
    here = evaluate(result.model, data, trained.config.batch_size)
    assert shown["split"] == here["split"] == "test"
    np.testing.assert_array_equal(shown["confusion"], here["confusion"])
    np.testing.assert_array_equal(shown["y_pred"], here["y_pred"][: len(shown["y_pred"])])
    if example == "digits_cnn":
        np.testing.assert_array_equal(shown["images"], here["images"])
    else:
        assert "images" not in shown


def test_auto_says_what_it_compared_and_why():
    """Auto's sentence names each engine's predicted whole run (fixed cost and epochs) and the
    reason: JAX trains 16 times faster per sample, but on a short run its start-up leaves a
    saving too small to be worth a worker process; on a long run it ends soonest."""
    from types import SimpleNamespace

    speeds = {"tensorflow": 2500.0, "tensorflow:fixed": 1.0, "jax": 40000.0, "jax:fixed": 12.0}
    data = SimpleNamespace(num_train=10_000)
    engine, note = engines.choose(None, data, SimpleNamespace(epochs=3), speeds)
    assert engine == "tensorflow"
    assert note.startswith("auto chose TensorFlow for this run of 30,000 samples, as JAX")
    assert "would save less than 10% and 1 s" in note
    assert "TensorFlow 13.0 s (1.0 s to start, compile and end, 12.0 s of epochs" in note
    assert "JAX (worker process) 12.8 s (12.0 s to start" in note
    engine, note = engines.choose(None, data, SimpleNamespace(epochs=30), speeds)
    assert engine == "jax" and "as it ends this run soonest" in note
