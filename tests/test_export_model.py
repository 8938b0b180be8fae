"""Every model format round-tripped on a CNN, an LSTM and a model with several inputs and
outputs: the artefact is loaded in its own runtime and its outputs compared with Keras's."""

from __future__ import annotations

import os

import numpy as np
import pytest

from deepgui.core.errors import ExportError
from deepgui.core.export import export_model, verify
from deepgui.core.export import formats as export_formats

keras = pytest.importorskip("keras")

EXPORTS = [
    ("keras", {}),
    ("savedmodel", {}),
    ("tflite", {}),
    ("tflite", {"quantize": "float16"}),
    ("tflite", {"quantize": "dynamic"}),
    ("onnx", {"opset": 13}),
]


def cnn(seed: int = 1):
    keras.utils.set_random_seed(seed)
    x = keras.Input((8, 8, 1), name="image")
    y = keras.layers.Conv2D(4, 3, activation="relu")(x)
    y = keras.layers.MaxPooling2D()(y)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.Flatten()(y)
    y = keras.layers.Dropout(0.5)(y)
    return keras.Model(x, keras.layers.Dense(3, activation="softmax")(y), name="cnn")


def lstm(seed: int = 2):
    keras.utils.set_random_seed(seed)
    x = keras.Input((6, 3), name="sequence")
    y = keras.layers.LSTM(5, return_sequences=True)(x)
    y = keras.layers.LSTM(4)(y)
    return keras.Model(x, keras.layers.Dense(2)(y), name="lstm")


def multi(seed: int = 3):
    keras.utils.set_random_seed(seed)
    a = keras.Input((5,), name="features")
    b = keras.Input((4, 4, 2), name="patch")
    left = keras.layers.Dense(6, activation="tanh")(a)
    right = keras.layers.Flatten()(keras.layers.Conv2D(2, 3, padding="same")(b))
    joined = keras.layers.Concatenate()([left, right])
    scores = keras.layers.Dense(3, name="scores")(joined)
    flag = keras.layers.Dense(1, activation="sigmoid", name="flag")(joined)
    return keras.Model([a, b], [scores, flag], name="multi")


BUILDERS = {"cnn": cnn, "lstm": lstm, "multi": multi}


def _label(fmt: str, opts: dict) -> str:
    return fmt + (f"-{opts['quantize']}" if "quantize" in opts else "")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Each model exported once in every format (conversion is the slow part)."""
    root = tmp_path_factory.mktemp("exports")
    models, reports = {}, {}
    for name, build in BUILDERS.items():
        models[name] = build()
        for fmt, opts in EXPORTS:
            label = _label(fmt, opts)
            reports[name, label] = export_model(models[name], fmt, root / f"{name}-{label}", **opts)
    return models, reports


@pytest.mark.slow  # over 5 s on 2 cores
@pytest.mark.parametrize("model_name", list(BUILDERS))
@pytest.mark.parametrize("label", [_label(f, o) for f, o in EXPORTS])
def test_round_trip_matches_keras(exported, model_name, label):
    _, reports = exported
    report = reports[model_name, label]
    assert report.ok, report.message
    assert report.max_abs_diff is not None and report.max_abs_diff <= report.tolerance
    assert report.path.exists() and report.size_bytes > 0
    assert report.format == label.split("-")[0]
    assert "\n" not in report.message and report.message.endswith(".")


def test_suffixes_and_layout(exported):
    _, reports = exported
    assert reports["cnn", "keras"].path.suffix == ".keras"
    assert reports["cnn", "tflite"].path.suffix == ".tflite"
    assert reports["cnn", "onnx"].path.suffix == ".onnx"
    saved = reports["cnn", "savedmodel"].path
    assert saved.is_dir() and (saved / "saved_model.pb").is_file()


def test_onnx_opset_is_the_one_asked_for(exported):
    import onnx

    _, reports = exported
    model = onnx.load(str(reports["multi", "onnx"].path))
    default = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    assert default == 13


def test_tflite_keeps_a_free_batch_where_it_can(exported):
    from deepgui.core.export.formats import _litert_interpreter

    _, reports = exported
    for name, free in (("cnn", True), ("lstm", False)):
        runner = _litert_interpreter(reports[name, "tflite"].path).get_signature_runner()
        batch = next(iter(runner.get_input_details().values()))["shape_signature"][0]
        assert bool(batch == -1) is free, name
    assert "batch size fixed to 1" in reports["lstm", "tflite"].message


def test_multi_output_values_in_the_right_order(exported, tmp_path):
    """Outputs of different sizes would be caught anyway; check the values by name too."""
    models, reports = exported
    model = models["multi"]
    rng = np.random.default_rng(5)
    samples = {"features": rng.normal(size=(3, 5)), "patch": rng.normal(size=(3, 4, 4, 2))}
    expected = model([samples["features"], samples["patch"]], training=False)
    for label in ("savedmodel", "tflite", "onnx"):
        path = reports["multi", label].path
        arrays = [samples["features"].astype("float32"), samples["patch"].astype("float32")]
        scores, flag = export_formats.run(label, path, model, arrays)
        np.testing.assert_allclose(scores, np.asarray(expected[0]), atol=1e-4)
        np.testing.assert_allclose(flag, np.asarray(expected[1]), atol=1e-4)
        assert flag.shape == (3, 1)


@pytest.mark.parametrize("fmt", ["keras", "savedmodel", "tflite", "onnx"])
def test_check_against_a_different_model_fails(exported, fmt):
    models, reports = exported
    impostor = cnn(seed=99)  # same shapes, other weights
    report = verify(fmt, reports["cnn", fmt].path, impostor)
    assert not report.ok
    assert report.max_abs_diff is not None and report.max_abs_diff > report.tolerance
    assert "FAILED" in report.message


def test_check_of_a_corrupt_artefact_is_reported_not_raised(exported, tmp_path):
    models, _ = exported
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")
    report = verify("onnx", broken, models["cnn"])
    assert not report.ok and report.max_abs_diff is None
    assert "could not run it" in report.message


def test_given_samples_are_used(exported):
    models, reports = exported
    samples = np.zeros((7, 6, 3), dtype="float32")
    report = verify("onnx", reports["lstm", "onnx"].path, models["lstm"], samples=samples)
    assert report.ok and "7 sample inputs" in report.message
    with pytest.raises(ExportError, match="2 inputs but 1 sample"):
        verify("onnx", reports["multi", "onnx"].path, models["multi"], samples=samples)


def _one_sentence(exc: ExportError) -> str:
    text = str(exc)
    assert "\n" not in text and text.endswith(".")
    return text


@pytest.mark.parametrize(
    ("fmt", "name", "opts", "match"),
    [
        ("pdf", "m.pdf", {}, "Unknown export format 'pdf'"),
        ("onnx", "m.tflite", {}, "must end with .onnx"),
        ("onnx", "m.onnx", {"quantize": "float16"}, "TFLite exports only"),
        ("tflite", "m.tflite", {"quantize": "int4"}, "Unknown quantization"),
        ("onnx", "m.onnx", {"opset": 99}, "opset 99"),
        ("keras", "m.keras", {"colour": "red"}, "Unknown export option"),
    ],
)
def test_bad_requests_are_one_sentence(exported, tmp_path, fmt, name, opts, match):
    models, _ = exported
    with pytest.raises(ExportError, match=match) as info:
        export_model(models["cnn"], fmt, tmp_path / name, **opts)
    _one_sentence(info.value)
    assert not (tmp_path / name).exists()


def test_unwritable_places(exported, tmp_path):
    models, _ = exported
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="is a file") as info:
        export_model(models["cnn"], "keras", blocker / "m.keras")
    _one_sentence(info.value)
    with pytest.raises(ExportError, match="is a file") as info:
        export_model(models["cnn"], "savedmodel", blocker)
    _one_sentence(info.value)
    assert blocker.read_text() == "x"


def test_failed_export_leaves_the_old_artefact(exported, tmp_path, monkeypatch):
    models, _ = exported
    target = tmp_path / "model.onnx"
    earlier = b"\x08 an earlier ONNX export"  # an ONNX model starts with its ir_version field
    target.write_bytes(earlier)

    def explode(*args, **kwargs):
        raise ValueError("converter crashed\nwith a long trace")

    monkeypatch.setattr(export_formats, "write", explode)
    with pytest.raises(ExportError, match="converter crashed") as info:
        export_model(models["cnn"], "onnx", target, force=True)
    _one_sentence(info.value)
    assert target.read_bytes() == earlier
    assert os.listdir(tmp_path) == ["model.onnx"]  # no staging folder left behind


def test_savedmodel_export_never_clears_a_folder(exported, tmp_path):
    """An existing folder is refused; --force replaces only an earlier SavedModel export."""
    models, _ = exported
    target = tmp_path / "saved"
    target.mkdir()
    (target / "notes.txt").write_text("the user's")
    for force in (False, True):
        with pytest.raises(ExportError, match="saved") as info:
            export_model(models["cnn"], "savedmodel", target, force=force)
        _one_sentence(info.value)
        assert (target / "notes.txt").read_text() == "the user's"
    (target / "notes.txt").unlink()
    target.rmdir()
    assert export_model(models["cnn"], "savedmodel", target).ok
    with pytest.raises(ExportError, match="already exists"):
        export_model(models["cnn"], "savedmodel", target)
    report = export_model(models["cnn"], "savedmodel", target, force=True)
    assert report.ok, report.message
    # and its signature, which records its content hash for predict (issue 22)
    assert sorted(os.listdir(tmp_path)) == ["saved", "saved.signature.json"]


def test_integer_token_inputs(tmp_path):
    """Token ids are sampled as valid integers, not floats, so Embedding models check too."""
    from deepgui.core.export.samples import random_inputs

    x = keras.Input((7,), dtype="int32", name="tokens")
    y = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4)(x))
    model = keras.Model(x, keras.layers.Dense(2)(y))
    (sample,) = random_inputs(model)
    assert sample.dtype == np.int32 and sample.shape == (4, 7) and sample.min() >= 0
    report = export_model(model, "onnx", tmp_path / "tokens")
    assert report.ok, report.message
