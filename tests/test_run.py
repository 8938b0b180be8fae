"""The one run object (core/training/run.py): it plans a run (folder, data, engine), trains it,
and when `auto` chose JAX and the JAX process fails before an epoch ends, TensorFlow trains the
run instead with a sentence; an engine asked for by name is kept and its failure reported."""

from __future__ import annotations

import json

import pytest

from deepgui.core.errors import DeepGuiError
from deepgui.core.graph import Graph
from deepgui.core.project import Project
from deepgui.core.training import TrainingListener, engines, worker_process
from deepgui.core.training.run import Run, RunRequest
from tests.helpers import add


def iris_project(tmp_path, **training) -> Project:
    g = Graph()
    hidden = add(g, "Dense", add(g, "InputLayer", shape=[4]), units=8, activation="relu")
    add(g, "Dense", hidden, units=3, activation="softmax")
    project = Project(graph=g, dataset={"source": "builtin", "name": "iris"},
                      training={"epochs": 2, "batch_size": 16, **training})  # fmt: skip
    project.save(tmp_path / "iris.dgproj")
    return project


class Heard(TrainingListener):
    def __init__(self) -> None:
        self.waits: list[str] = []
        self.finished_with: list[tuple[str, dict]] = []
        self.epochs: list[int] = []
        self.info: dict = {}

    def started(self, steps_per_epoch, epochs, initial_epoch, info):
        self.info = info

    def waiting(self, text):
        self.waits.append(text)

    def epoch_ended(self, epoch, logs):
        self.epochs.append(epoch)

    def finished(self, reason, metrics):
        self.finished_with.append((reason, metrics))


def jax_that_cannot_start(monkeypatch):
    """A JAX process that fails on its own: no such JAX platform. TensorFlow is unaffected."""
    real = worker_process.worker_environment

    def broken(backend, device="auto"):
        env = real(backend, device)
        env["JAX_PLATFORMS"] = "no_such_platform"
        return env

    monkeypatch.setattr(worker_process, "worker_environment", broken)


def auto_takes_jax(monkeypatch):
    monkeypatch.setattr(engines, "available", lambda: ["tensorflow", "xla", "jax"])
    monkeypatch.setattr(
        engines, "choose", lambda *a, **k: ("jax", "auto chose JAX (worker process)")
    )


def test_auto_falls_back_to_tensorflow_when_jax_fails_on_its_own(tmp_path, monkeypatch):
    pytest.importorskip("jax")
    jax_that_cannot_start(monkeypatch)
    auto_takes_jax(monkeypatch)
    project = iris_project(tmp_path, engine="auto")
    heard = Heard()
    result = Run(project, RunRequest(out=tmp_path / "run")).execute(heard)

    assert result.reason == "completed", result.metrics.get("message")
    assert heard.epochs == [1, 2]
    # One outcome reaches the front end: the completed one, not the JAX failure first.
    assert [reason for reason, _ in heard.finished_with] == ["completed"]
    said = [w for w in heard.waits if "JAX could not train this model" in w]
    assert said and "TensorFlow trains it" in said[0] and "\n" not in said[0]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["engine"] == "tensorflow" and metrics["epochs_run"] == 2


def test_an_engine_asked_for_by_name_is_kept_and_its_failure_reported(tmp_path, monkeypatch):
    pytest.importorskip("jax")
    jax_that_cannot_start(monkeypatch)
    project = iris_project(tmp_path, engine="tensorflow")
    heard = Heard()
    run = Run(project, RunRequest(out=tmp_path / "run", engine="jax"))
    result = run.execute(heard)
    assert run.engine_name == "jax"
    assert result.reason == "error" and heard.finished_with[-1][0] == "error"
    assert not any("TensorFlow trains it" in w for w in heard.waits)


def test_plan_decides_folder_data_and_engine_and_refuses_in_one_sentence(tmp_path):
    project = iris_project(tmp_path)
    run = Run(project, RunRequest(out=tmp_path / "run", epochs=1))
    heard = Heard()
    run.plan(heard)
    try:
        assert run.run_dir == tmp_path / "run" and not run.resume
        assert run.config.epochs == 1 and run.engine_name == "tensorflow"
        assert run.data.num_train > 0 and "Loading data…" in heard.waits
        # The folder is locked while the run is planned: a second run there is refused.
        with pytest.raises(DeepGuiError):
            Run(project, RunRequest(out=tmp_path / "run")).plan()
    finally:
        run.release()

    with pytest.raises(DeepGuiError) as refused:
        Run(project, RunRequest(out=tmp_path / "other", engine="fastest")).plan()
    assert "fastest" in str(refused.value) and "\n" not in str(refused.value)
    # A refused plan leaves its folder unlocked and unused: the same folder plans again.
    Run(project, RunRequest(out=tmp_path / "other")).plan().release()

    heard = Heard()
    result = Run(project, RunRequest(out=tmp_path / "x", coordinator="h:1")).execute(heard)
    assert result.reason == "error" and heard.finished_with == [("error", result.metrics)]
    assert "coordinator" in result.metrics["message"]


def test_a_run_stopped_before_training_never_starts_an_engine(tmp_path):
    run = Run(iris_project(tmp_path), RunRequest(out=tmp_path / "run"))
    run.plan()
    run.stop()
    heard = Heard()
    try:
        result = run.train(heard)
    finally:
        run.release()
    assert result.reason == "user" and run.engine is None and heard.epochs == []


def test_a_run_that_fails_after_writing_is_listed_failed_whoever_started_it(tmp_path, monkeypatch):
    """The core records the failure (the app's panel no longer writes into a run folder): the
    run's own folder lists it as failed, with the sentence of what went wrong."""
    from deepgui.core.training import runs
    from deepgui.core.training.engine import TrainingEngine

    def fail(self):
        self._write_project_copy()  # the engine had begun writing the run
        raise RuntimeError("the device went away")

    monkeypatch.setattr(TrainingEngine, "_train", fail)
    project = iris_project(tmp_path)
    heard = Heard()
    result = Run(project, RunRequest()).execute(heard)
    assert result.reason == "error" and "the device went away" in result.metrics["message"]
    (listed,) = runs.project_runs(project)
    assert listed.stopped_by == "error" and listed.metrics["epochs_run"] == 0
    assert "the device went away" in listed.metrics["message"]
