"""An export that fails its own check is not left on disk as if good: it is written and checked
beside its path, and only one that passes is moved into place. One that fails is deleted, an
earlier export at that path stays as it was, and the report says so in one sentence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepgui.core.errors import ExportError
from deepgui.core.export import export_model, export_project
from tests.rawdata import deepgui, mixed_project, write_mixed_csv

ROOT = Path(__file__).resolve().parents[1]


def one_sentence(message: str) -> bool:
    return message.endswith(".") and "\n" not in message and ". " not in message.rstrip(".")


def spectrogram_model():
    """A real model ONNX cannot hold: a keras.ops.erfinv between its layers, which tf2onnx
    writes with an op onnxruntime refuses (INVALID_GRAPH). (MelSpectrogram once was such a
    model; traced in inference mode it now converts.)"""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((400,), name="audio")
    x = keras.layers.Dense(8, activation="tanh")(inputs)
    x = keras.ops.erfinv(x * 0.5)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x), name="audio")


def dense_model(inputs: int = 5, units: int = 3):
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(units)], name="plain")


def test_an_export_that_fails_its_check_is_deleted(tmp_path):
    target = tmp_path / "audio.onnx"
    report = export_model(spectrogram_model(), "onnx", target)
    assert not report.ok and not report.kept
    assert report.path == target and not target.exists()
    assert list(tmp_path.iterdir()) == []  # nor is anything hidden left beside it
    message = report.message
    assert message.startswith(
        f"The ONNX export failed its check, so it was deleted and nothing was written to {target}:"
    ), message
    assert "INVALID_GRAPH" in message and "deepgui-tmp" not in message  # the user's path only
    assert message.endswith("as its converter has no ONNX op for Erfinv."), message


def test_a_failed_check_leaves_the_earlier_export_as_it_was(tmp_path):
    target = tmp_path / "model.onnx"
    good = export_model(dense_model(), "onnx", target)
    assert good.ok and good.kept
    before = target.read_bytes()
    with pytest.raises(ExportError, match="already exists: choose another name, or ask to replace"):
        export_model(spectrogram_model(), "onnx", target)
    report = export_model(spectrogram_model(), "onnx", target, force=True)
    assert not report.ok and not report.kept
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
    assert f"so it was deleted and the earlier {target} is left as it was:" in report.message


def test_a_quantized_model_outside_its_tolerance_is_not_kept(tmp_path):
    """TFLite's dynamic-range quantization changes outputs by design; with a tolerance below
    that change, the check fails and the file already there is the one that stays."""
    target = tmp_path / "plain.tflite"
    model = dense_model(64, 32)  # LiteRT quantizes weights from 1024 of them
    export_model(model, "tflite", target)
    before = target.read_bytes()
    report = export_model(model, "tflite", target, force=True, quantize="dynamic", tolerance=1e-9)
    assert not report.ok and not report.kept
    assert report.max_abs_diff is not None and report.max_abs_diff > 1e-9
    assert target.read_bytes() == before
    assert one_sentence(report.message), report.message
    assert "more than the tolerance 1e-09" in report.message


@pytest.mark.slow
def test_the_command_line_says_so_in_one_sentence_and_keeps_nothing(tmp_path):
    source = tmp_path / "audio.keras"
    spectrogram_model().save(source)
    target = tmp_path / "audio.onnx"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "deepgui.cli", "export", str(source), "--format", "onnx",
         "-o", str(target)],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    said = result.stdout.strip()
    assert said.startswith("The ONNX export failed its check, so it was deleted"), said
    assert "\n" not in said and said.endswith("no ONNX op for Erfinv."), said
    assert "Traceback" not in result.stderr and "Unsupported ops" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audio.keras"]


@pytest.mark.slow
def test_a_script_whose_model_differs_from_the_run_is_not_kept(tmp_path):
    """The script rebuilds the model from its own constants; when they are not the run's (here
    a signature edited by hand), its check fails and neither it nor its weights are kept."""
    data = write_mixed_csv(tmp_path / "shop.csv", rows=200)
    run = tmp_path / "run"
    deepgui("train", mixed_project(tmp_path / "shop.dgproj"), "--data", data,
            "--target", "decision", "--epochs", "2", "--out", run)  # fmt: skip
    out = tmp_path / "out"
    good = export_project(run, "python", out / "shop.py")
    assert good.ok and good.kept, good.message
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(earlier) == ["shop.py", "shop.signature.json", "shop.weights.h5"]
    sig_path = run / "signature.json"
    sig = json.loads(sig_path.read_text())
    sig["preprocessing"]["inputs"][0]["scale"] *= 10  # age, scaled ten times too much
    sig_path.write_text(json.dumps(sig))
    report = export_project(run, "python", out / "shop.py", force=True)
    assert not report.ok and not report.kept
    assert report.message.startswith(
        "The Python script failed its check, so it and its weights were deleted and the "
        f"earlier {out / 'shop.py'} is left as it was: the model its code builds differs"
    ), report.message
    assert {p.name: p.read_bytes() for p in out.iterdir()} == earlier
    fresh = export_project(run, "python", tmp_path / "fresh" / "shop.py")
    assert not fresh.ok and "nothing was written to" in fresh.message
    assert list((tmp_path / "fresh").iterdir()) == []
