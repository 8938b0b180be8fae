"""One data-parallel path per backend (feeds.py) and one engine interface (engines.Engine):
one device feeds fit the arrays; JAX over several devices of one machine is Keras's
DataParallel fed the single-process batches; both engines are an Engine."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from deepgui.core.data.base import LoadedData
from deepgui.core.training import TrainingConfig, TrainingEngine, engines, feeds

ROOT = Path(__file__).resolve().parents[1]


def small_data(n: int = 103) -> LoadedData:
    x = np.arange(n * 2, dtype="float32").reshape(n, 2)
    y = (np.arange(n) % 2).astype("int64")
    return LoadedData(x, y, x[:10], y[:10], class_names=["a", "b"])


def test_both_engines_are_one_engine_interface(tmp_path):
    from deepgui.core.training.worker_process import WorkerEngine

    data, config = small_data(), TrainingConfig.from_dict({"epochs": 1})
    here = TrainingEngine(None, data, config)
    worker = WorkerEngine("jax", None, data, config, run_dir=tmp_path / "run")
    for engine in (here, worker):
        assert isinstance(engine, engines.Engine)
        assert not engine.is_paused and not engine.stop_requested
        engine.stop()
        assert engine.stop_requested
    assert not isinstance(object(), engines.Engine)


def test_one_device_feeds_fit_the_arrays_and_keeps_the_engines_own_controls():
    import keras

    feed = feeds.local("cpu")
    assert type(feed) is feeds.Feed and feed.placement.description == "cpu"
    assert feed.evaluates and feed.cluster is None
    assert feed.steps(103, 32) == 4  # the short last batch is trained too
    data, config = small_data(), TrainingConfig.from_dict({"batch_size": 32})
    args = feed.fit_args(keras, data, config, None, (data.x_val, data.y_val))
    assert args["x"] is data.x_train and args["batch_size"] == 32 and args["shuffle"]
    assert feed.callbacks(keras, None) == []
    assert feeds.several_devices("gpus") and feeds.several_devices("cpu:0,cpu:1")
    assert not feeds.several_devices("auto") and not feeds.several_devices("gpu:1")


_JAX_TWO_DEVICES = textwrap.dedent(
    """
    import json
    import numpy as np
    import keras
    from deepgui.core.data.base import LoadedData
    from deepgui.core.training import TrainingConfig, distributed, feeds

    one = feeds.local("cpu")
    two = feeds.local("cpu:0,cpu:1")
    n = 103
    x = np.arange(n * 2, dtype="float32").reshape(n, 2)
    y = np.arange(n)
    data = LoadedData(x, y, x, y, class_names=["a", "b"])
    config = TrainingConfig.from_dict({"batch_size": 32, "seed": 7})
    args = two.fit_args(keras, data, config, None, (x, y))
    train, val = args["x"], args["validation_data"]
    epochs = []
    for epoch in range(2):
        epochs.append(np.concatenate([train[i][1] for i in range(len(train))]).tolist())
        train.on_epoch_end()
    print(json.dumps({
        "one": type(one).__name__, "two": type(two).__name__,
        "description": two.placement.description, "steps": two.steps(n, 32),
        "evaluates": two.evaluates, "callbacks": len(two.callbacks(keras, None)),
        "distribution": type(keras.distribution.distribution()).__name__,
        "devices": int(np.size(keras.distribution.distribution().device_mesh.devices)),
        "epochs": epochs, "expected": [distributed.permutation(n, 7, e)[:96].tolist()
                                       for e in range(2)],
        "val": [len(val[i][1]) for i in range(len(val))],
    }))
    """
)


def test_jax_over_two_devices_of_one_machine_is_keras_data_parallel_fed_whole_batches():
    """What the worker shows JAX for training.device "cpu:0,cpu:1" (two XLA CPU devices)."""
    pytest.importorskip("jax")
    from deepgui.core.training.worker_process import worker_environment

    env = {**worker_environment("jax", "cpu:0,cpu:1"), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _JAX_TWO_DEVICES], capture_output=True,
                          text=True, timeout=180, env=env, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["one"] == "Feed" and out["two"] == "JaxFeed"
    assert out["description"] == "2 devices (cpu)"
    assert out["distribution"] == "DataParallel" and out["devices"] == 2
    # Whole global batches of 32, in the order every rank draws, reshuffled each epoch.
    assert out["steps"] == 3 and out["epochs"] == out["expected"]
    assert out["epochs"][0] != out["epochs"][1]
    # Validation keeps its short last batch, cut to what the two devices divide.
    assert out["val"] == [32, 32, 32, 6]
    # One machine: the engine's own stop and pause, no agreement between ranks.
    assert out["callbacks"] == 0 and out["evaluates"] is False
