"""Commands that need no model import neither TensorFlow nor Keras (issue 23, point 17): their
import is most of a command's start-up (seconds), so `deepgui --help`, `examples`, `datasets`
and `predict` on an ONNX file answer at once. Checked in a fresh process, in sys.modules after
each command (TensorFlow's import is silenced, so -X importtime would not show it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "jax", "torch")

CHILD = """
import contextlib, io, json, sys
from deepgui.cli import main
seen = {}
for argv in json.loads(sys.argv[1]):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = main(argv)
        except SystemExit as exc:  # --help exits
            code = exc.code
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2].split(",")))
    seen[" ".join(argv[:1])] = {"code": code, "heavy": heavy, "out": out.getvalue()}
print(json.dumps(seen))
"""


def run_commands(commands: list[list[str]]) -> dict[str, dict]:
    """Run the commands one after another in one fresh process; what each left imported."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("DEEPGUI_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(commands), ",".join(HEAVY)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def tiny_onnx(folder: Path) -> tuple[Path, Path]:
    """A 4-feature, 3-class classifier as ONNX (written by onnx's own helpers, no TensorFlow),
    and samples for it."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = numpy_helper.from_array(rng.normal(size=(4, 3)).astype("float32"), "W")
    bias = numpy_helper.from_array(np.zeros(3, "float32"), "b")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "b"], ["z"]),
         helper.make_node("Softmax", ["z"], ["probs"], axis=1)],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 3])],
        initializer=[weights, bias],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = folder / "tiny.onnx"
    onnx.save(model, str(path))
    return path, samples(folder)


def samples(folder: Path) -> Path:
    """Six samples of 4 features with their labels, as an .npz."""
    data = folder / "samples.npz"
    x = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    np.savez(data, x=x, y=np.array([0, 1, 2, 0, 1, 2]))
    return data


def test_help_examples_datasets_and_predict_on_onnx_import_no_tensorflow_or_keras(tmp_path):
    model, data = tiny_onnx(tmp_path)
    seen = run_commands(
        [["--help"], ["examples"], ["datasets"], ["predict", str(model), "--data", str(data)]]
    )
    assert seen["--help"]["code"] == 0 and "usage: deepgui" in seen["--help"]["out"]
    assert seen["examples"]["code"] == 0 and "digits_cnn" in seen["examples"]["out"]
    assert seen["datasets"]["code"] == 0 and "digits" in seen["datasets"]["out"]
    assert seen["predict"]["code"] == 0 and "Predicted 6 samples" in seen["predict"]["out"]
    for command, what in seen.items():
        assert what["heavy"] == [], f"`deepgui {command}` imported {what['heavy']}"


def test_predict_on_a_tflite_file_imports_no_tensorflow_or_keras(tmp_path):
    """The same for TFLite, which runs in LiteRT. Making the file takes TensorFlow's converter
    (in this process; the command runs in a fresh one)."""
    pytest.importorskip("ai_edge_litert")
    from deepgui.core.keras_layers import keras

    k = keras()
    import tensorflow as tf

    inputs = k.Input((4,), name="x")
    model = k.Model(inputs, k.layers.Dense(3, activation="softmax")(inputs))
    path = tmp_path / "tiny.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    seen = run_commands([["predict", str(path), "--data", str(samples(tmp_path))]])
    assert seen["predict"]["code"] == 0 and "Predicted 6 samples" in seen["predict"]["out"]
    assert seen["predict"]["heavy"] == [], f"`deepgui predict` imported {seen['predict']['heavy']}"
