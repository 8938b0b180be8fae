"""The training engine: events, run directory, stop, pause/resume, NaN, errors as events, resume."""

from __future__ import annotations

import csv
import json
import threading
import time

import numpy as np
import pytest

from deepgui.core.data.base import LoadedData
from deepgui.core.errors import TrainingError
from deepgui.core.graph import Graph
from deepgui.core.project import Project
from deepgui.core.training import TrainingConfig, TrainingEngine, TrainingListener
from deepgui.core.training.rundir import is_resumable, read_run
from deepgui.core.training.runs import project_runs, runs_root
from tests.machine import within


def make_data(n: int = 400, features: int = 4, scale: float = 1.0) -> LoadedData:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    x *= scale
    cut = int(n * 0.8)
    return LoadedData(
        x[:cut], y[:cut], x[cut:], y[cut:], task="multiclass", class_names=["no", "yes"]
    )


def make_project(features: int = 4, classes: int = 2) -> Project:
    g = Graph()
    a = g.add_node("InputLayer", {"shape": [features]})
    b = g.add_node("Dense", {"units": 16, "activation": "relu"})
    c = g.add_node("Dense", {"units": classes, "activation": "softmax"})
    g.connect(a.id, b.id)
    g.connect(b.id, c.id)
    return Project(graph=g, dataset={"source": "builtin", "name": "test"}, training={"epochs": 3})


class Recorder(TrainingListener):
    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.batches = 0
        self.on_batch = None

    def started(self, steps_per_epoch, epochs, initial_epoch, info):
        self.events.append(("started", steps_per_epoch, epochs, initial_epoch))

    def batch_ended(self, step, logs):
        self.batches += 1
        if self.on_batch:
            self.on_batch(self.batches, step)

    def epoch_ended(self, epoch, logs):
        self.events.append(("epoch", epoch, dict(logs)))

    def paused(self):
        self.events.append(("paused",))

    def finished(self, reason, metrics):
        self.events.append(("finished", reason, metrics))


def where_it_waits(thread: threading.Thread) -> str:
    """A live thread's stack, for the message of a test it outlived: where it waits."""
    import sys
    import traceback

    frame = sys._current_frames().get(thread.ident)
    return "".join(traceback.format_stack(frame)) if frame is not None else "(no frame)"


def engine_for(tmp_path, listener, epochs=3, batch_size=32, data=None, **training):
    project = make_project()
    cfg = TrainingConfig.from_dict({"epochs": epochs, "batch_size": batch_size, **training})
    return TrainingEngine(
        None, data or make_data(), cfg, listener, project=project, run_dir=tmp_path / "run"
    )


def test_a_run_reports_events_and_writes_the_run_directory(tmp_path):
    rec = Recorder()
    result = engine_for(tmp_path, rec).run()
    assert result.reason == "completed"
    kinds = [e[0] for e in rec.events]
    assert kinds == ["started", "epoch", "epoch", "epoch", "finished"]
    assert rec.events[0][1:] == (10, 3, 0)  # 320 samples / 32
    assert rec.batches == 30
    assert "val_loss" in rec.events[1][2] and "accuracy" in rec.events[1][2]

    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("epochs_run", "final", "best", "overfitting", "wall_seconds", "samples_per_second",
                "device", "stopped_by"):  # fmt: skip
        assert key in metrics
    assert metrics["epochs_run"] == 3 and metrics["stopped_by"] == "completed"
    assert metrics["device"] == "cpu" and metrics["samples_per_second"] > 0
    assert metrics["best"]["epoch"] in (1, 2, 3) and metrics["best"]["monitor"] == "val_loss"
    with (run / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(rows[0])
    assert float(rows[-1]["loss"]) == pytest.approx(metrics["final"]["loss"])
    copy = json.loads((run / "project.dgproj").read_text())
    assert copy["format"] == "deepgui-project" and copy["training"]["epochs"] == 3
    assert (run / "model.keras").is_file()
    assert (run / "checkpoints" / "epoch_0003.npz").is_file()
    assert not is_resumable(run)

    import keras

    model = keras.saving.load_model(run / "model.keras")
    assert model.output_shape == (None, 2)


def test_stop_after_the_batch_in_flight(tmp_path):
    rec = Recorder()
    engine = engine_for(tmp_path, rec, epochs=5)
    stopped_at = {}

    def on_batch(total, step):
        if total == 13:  # epoch 2, batch 3
            engine.stop()
            stopped_at["total"] = total

    rec.on_batch = on_batch
    result = engine.run()
    assert result.reason == "user"
    assert rec.batches == stopped_at["total"]  # not one batch more
    assert result.metrics["epochs_run"] == 1  # the partial epoch is not counted
    assert result.metrics["stopped_by"] == "user"
    assert [e[1] for e in rec.events if e[0] == "epoch"] == [1]


def test_pause_blocks_and_resume_finishes(tmp_path):
    rec = Recorder()
    engine = engine_for(tmp_path, rec, epochs=2)
    paused = threading.Event()
    rec.paused = paused.set
    rec.on_batch = lambda total, step: engine.pause() if total == 4 else None
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("r", engine.run()))
    worker.start()
    assert paused.wait(60)
    assert engine.is_paused
    count = rec.batches
    time.sleep(0.4)
    assert rec.batches == count == 4  # nothing runs while paused
    engine.resume()
    worker.join(60)
    assert out["r"].reason == "completed"
    assert rec.batches == 20
    assert out["r"].metrics["wall_seconds"] < time.perf_counter()  # sanity: a number


def test_stop_releases_a_paused_run(tmp_path):
    rec = Recorder()
    engine = engine_for(tmp_path, rec, epochs=3)
    paused = threading.Event()
    rec.paused = paused.set
    rec.on_batch = lambda total, step: engine.pause() if total == 2 else None
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("r", engine.run()))
    worker.start()
    assert paused.wait(60)
    t0 = time.perf_counter()
    engine.stop()
    worker.join(30)
    assert not worker.is_alive(), where_it_waits(worker)
    assert time.perf_counter() - t0 < within(10.0)
    # Batch events are read one batch behind the training loop (as a plain fit overlaps
    # them): a pause asked at batch 2's event holds before batch 4.
    assert out["r"].reason == "user" and rec.batches == 3


def test_pause_after_stop_cannot_block_the_run(tmp_path):
    rec = Recorder()
    engine = engine_for(tmp_path, rec, epochs=3)

    def on_batch(total, step):
        if total == 2:
            engine.stop()
            engine.pause()  # e.g. two clicks racing in the app

    rec.on_batch = on_batch
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("r", engine.run()))
    worker.start()
    worker.join(60)
    assert not worker.is_alive() and out["r"].reason == "user"


def test_nan_loss_stops_with_a_hint(tmp_path):
    rec = Recorder()
    # Huge inputs and a huge learning rate: the weights blow up within the first epoch.
    data = make_data(scale=1e3)
    result = engine_for(
        tmp_path, rec, epochs=3, data=data, optimizer="sgd", learning_rate=10.0
    ).run()
    assert result.reason == "nan_loss"
    message = result.metrics["message"]
    assert "nan" in message.lower() or "inf" in message.lower()
    assert "learning rate (now 10)" in message
    assert rec.batches <= 10  # stopped in the first epoch
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["stopped_by"] == "nan_loss"


def test_errors_become_a_finished_event_not_an_exception(tmp_path):
    rec = Recorder()

    def explode(total, step):
        if total == 3:
            raise MemoryError("simulated")

    rec.on_batch = explode
    result = engine_for(tmp_path, rec).run()
    assert result.reason == "error"
    assert (
        "out of memory" in result.metrics["message"] and "batch size" in result.metrics["message"]
    )
    assert rec.events[-1][0] == "finished" and rec.events[-1][1] == "error"


def test_bad_settings_and_mismatched_data_are_clear_errors(tmp_path):
    rec = Recorder()
    result = engine_for(tmp_path, rec, loss="no_such_loss").run()
    assert result.reason == "error"
    assert "training.loss" in result.metrics["message"]
    assert not (tmp_path / "run" / "metrics.json").exists()  # nothing half-written

    rec = Recorder()
    wrong = make_data(features=5)
    result = engine_for(tmp_path, rec, data=wrong).run()
    assert result.reason == "error"
    message = result.metrics["message"]
    assert "5" in message and "4" in message and "\n" not in message


def test_resume_continues_from_the_last_finished_epoch(tmp_path):
    first = engine_for(tmp_path, Recorder(), epochs=2).run()
    assert first.metrics["epochs_run"] == 2
    run = tmp_path / "run"
    (run / "metrics.json").unlink()  # as if the process had been killed after epoch 2
    assert is_resumable(run)
    rec = Recorder()
    project = make_project()
    cfg = TrainingConfig.from_dict({"epochs": 4})
    result = TrainingEngine(
        None, make_data(), cfg, rec, project=project, run_dir=run, resume=True
    ).run()
    assert result.reason == "completed"
    assert rec.events[0] == ("started", 10, 4, 2)
    assert [e[1] for e in rec.events if e[0] == "epoch"] == [3, 4]
    assert result.metrics["epochs_run"] == 4 and result.metrics["resumed_from_epoch"] == 2
    assert [r["epoch"] for r in read_run(run)["history"]] == [1, 2, 3, 4]


def test_checkpoint_round_trip_restores_weights_and_optimizer_state(tmp_path):
    from deepgui.core.build import build_model
    from deepgui.core.training import rundir

    data = make_data()

    def compiled():
        model = build_model(make_project().graph)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    trained = compiled()
    trained.fit(data.x_train, data.y_train, epochs=1, verbose=0)
    for weights_only in (True, False):
        path = rundir.save_checkpoint(
            tmp_path, trained, {"epochs_done": 1}, weights_only=weights_only
        )
        state = rundir.read_checkpoint(tmp_path)
        assert state["model_path"] == str(path) and len(list(path.parent.glob("epoch_*"))) == 1
    fresh = compiled()
    rundir.save_checkpoint(tmp_path, trained, {"epochs_done": 2})
    rundir.restore_weights(fresh, tmp_path / "checkpoints" / "epoch_0002.npz")
    for a, b in zip(trained.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(fresh.optimizer.iterations) == int(trained.optimizer.iterations) == 10
    moments = [np.asarray(v.value) for v in fresh.optimizer.variables]
    assert any(np.abs(m).sum() > 0 for m in moments[2:])  # Adam's moments came back too

    other = build_model(make_project(features=5).graph)
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(TrainingError, match="does not fit this model"):
        rundir.restore_weights(other, tmp_path / "checkpoints" / "epoch_0002.npz")


def test_a_keras_model_without_graph_checkpoints_whole_and_resumes(tmp_path):
    from deepgui.core.build import build_model

    run = tmp_path / "run"
    model = build_model(make_project().graph)
    cfg = TrainingConfig.from_dict({"epochs": 1})
    assert TrainingEngine(model, make_data(), cfg, run_dir=run).run().reason == "completed"
    assert (run / "checkpoints" / "epoch_0001.keras").is_file()
    (run / "metrics.json").unlink()
    cfg = TrainingConfig.from_dict({"epochs": 2})
    result = TrainingEngine(
        build_model(make_project().graph), make_data(), cfg, run_dir=run, resume=True
    ).run()
    assert result.reason == "completed" and result.metrics["resumed_from_epoch"] == 1
    assert result.metrics["epochs_run"] == 2


def test_training_starts_from_the_project_weights(tmp_path):
    from deepgui.core.build import build_model
    from deepgui.core.weights import save_weights

    project = make_project()
    project.save(tmp_path / "p.dgproj")
    donor = build_model(project.graph)
    for layer in donor.layers:
        for v in layer.weights:
            v.assign(np.full(v.shape, 0.125, dtype="float32"))
    save_weights(donor, project.weights_path)
    seen = {}

    class Peek(Recorder):
        def started(self, steps_per_epoch, epochs, initial_epoch, info):
            seen.update(info, weights_now=engine.model.get_weights())

    cfg = TrainingConfig.from_dict({"epochs": 1})
    engine = TrainingEngine(None, make_data(), cfg, Peek(), project=project)
    assert engine.run().reason == "completed"
    assert seen["weights"] == str(project.weights_path) and seen["fresh_layers"] == []
    assert all(np.all(w == 0.125) for w in seen["weights_now"])

    seen.clear()
    cfg = TrainingConfig.from_dict({"epochs": 1, "use_project_weights": False})
    engine = TrainingEngine(None, make_data(), cfg, Peek(), project=project)
    engine.run()
    assert "weights" not in seen and not all(np.all(w == 0.125) for w in seen["weights_now"])


def test_early_stopping_and_plateau_and_balanced_weights(tmp_path):
    rec = Recorder()
    # A tiny learning rate leaves val_loss flat; patience 0 stops after the first non-improvement.
    result = engine_for(
        tmp_path, rec, epochs=30, learning_rate=1e-9, class_weight="balanced",
        early_stopping={"enabled": True, "patience": 0, "monitor": "loss"},
        schedule={"kind": "plateau", "patience": 1},
    ).run()  # fmt: skip
    assert result.reason == "early_stopping"
    assert result.metrics["epochs_run"] < 30


def test_tensorboard_logs_go_into_the_run_directory(tmp_path):
    result = engine_for(tmp_path, Recorder(), epochs=1, tensorboard=True).run()
    assert result.reason == "completed"
    events = list((tmp_path / "run" / "tensorboard").rglob("events.out.tfevents.*"))
    assert events, "no TensorBoard event files were written"


def test_tensorboard_missing_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    result = engine_for(tmp_path, Recorder(), epochs=1, tensorboard=True).run()
    assert result.reason == "error"
    assert result.metrics["message"].startswith("training.tensorboard is on but")


def test_the_project_lists_its_runs_newest_first(tmp_path):
    project = make_project()
    project.save(tmp_path / "p.dgproj")
    cfg = TrainingConfig.from_dict({"epochs": 1})
    for name in ("20250101-000000", "20250102-000000"):
        TrainingEngine(
            None, make_data(), cfg, project=project, run_dir=runs_root(project) / name
        ).run()
    runs = project_runs(project)
    assert [r.name for r in runs] == ["20250102-000000", "20250101-000000"]
    assert all(r.finished and r.stopped_by == "completed" for r in runs)
    info = read_run(runs[0].path)
    assert info["model_path"].name == "model.keras" and len(info["history"]) == 1
