"""Devices: spec checking, CPU/GPU choice, and MirroredStrategy on two logical CPU devices
(through the same TensorFlow feed as several machines take)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from deepgui.core.errors import TrainingError
from deepgui.core.training import devices

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("spec", ["auto", "cpu", "gpu:0", "gpus", "cpu:0,cpu:1", "gpu:0, gpu:1"])
def test_valid_specs(spec):
    assert devices.check_device_spec(spec) is None


@pytest.mark.parametrize("spec", ["tpu", "gpu", "gpu:x", "cpu:0;cpu:1", ""])
def test_invalid_specs_say_what_is_allowed(spec):
    assert "gpu:N" in devices.check_device_spec(spec)


def test_cpu_and_missing_gpu():
    import tensorflow as tf

    placement = devices.choose("cpu")
    assert placement.description == "cpu" and placement.replicas == 1
    with placement.scope():
        assert "CPU" in tf.constant(1.0).device
    gpus = devices.list_gpus()
    auto = devices.choose("auto")
    assert auto.description.startswith("gpu:0") if gpus else auto.description == "cpu"
    with pytest.raises(TrainingError, match=f"training.device names gpu:{len(gpus)}"):
        devices.choose(f"gpu:{len(gpus)}")
    # No GPU: mixed precision quietly stays off rather than slowing the CPU down.
    if not gpus:
        assert devices.choose("auto", mixed_precision=True).mixed_precision is False


def test_precision_policy_is_restored():
    import keras

    before = keras.mixed_precision.dtype_policy().name
    with devices.precision_policy(True):
        assert keras.mixed_precision.dtype_policy().name == "mixed_float16"
    assert keras.mixed_precision.dtype_policy().name == before
    with devices.precision_policy(False):
        assert keras.mixed_precision.dtype_policy().name == before


_MIRRORED = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    from deepgui.core.data.base import LoadedData
    from deepgui.core.graph import Graph
    from deepgui.core.project import Project
    from deepgui.core.training import TrainingConfig, TrainingEngine

    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("int64")
    data = LoadedData(x[:200], y[:200], x[200:], y[200:], class_names=["a", "b"])
    g = Graph()
    a = g.add_node("InputLayer", {"shape": [3]})
    b = g.add_node("Dense", {"units": 8, "activation": "relu"})
    c = g.add_node("Dense", {"units": 2, "activation": "softmax"})
    g.connect(a.id, b.id); g.connect(b.id, c.id)
    cfg = TrainingConfig.from_dict({"epochs": 2, "device": "cpu:0,cpu:1", "batch_size": 16})
    engine = TrainingEngine(None, data, cfg, project=Project(graph=g), run_dir=sys.argv[1])
    result = engine.run()
    feed = type(engine.feed)
    print(json.dumps({"reason": result.reason, "replicas":
        result.model.distribute_strategy.num_replicas_in_sync,
        "feed": f"{feed.__module__}.{feed.__name__}", **result.metrics}))
    """
)


@pytest.mark.slow  # over 5 s on 2 cores
def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", _MIRRORED, str(tmp_path / "run")],
        capture_output=True, text=True, timeout=180, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["reason"] == "completed", out.get("message")
    assert out["replicas"] == 2
    assert out["device"] == "MirroredStrategy over cpu:0, cpu:1"
    assert out["epochs_run"] == 2
    # The same TensorFlow path as several machines take (MultiWorkerMirroredStrategy): one
    # feed class; on one machine the saved model is evaluated as a one-device run's is.
    assert out["feed"] == "deepgui.core.training.mirrored.MirroredFeed"
    assert "evaluation" in out
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["device"] == out["device"]
