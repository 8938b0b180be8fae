"""The trained model is the product: trained through `deepgui train` on files as users have them,
exported to every format, and used outside deepgui on the raw rows and raw image files
(tests/raw_consumer.py runs each artefact in its own runtime with deepgui's import blocked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepgui.core.export import export_project
from tests.rawdata import (
    cnn_project,
    deepgui,
    mixed_project,
    write_image_folder,
    write_mixed_csv,
)

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("keras", "savedmodel", "tflite", "onnx")
pytestmark = pytest.mark.slow


def consume(data: Path, artefacts: list[Path]) -> dict[str, float]:
    """Accuracy of each artefact on `data`, computed without deepgui."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "raw_consumer.py"), str(data), *map(str, artefacts)],
        capture_output=True, text=True, timeout=300, env=env, cwd=data.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return {Path(k).name: v for k, v in json.loads(result.stdout.splitlines()[-1]).items()}


def val_accuracy(run: Path) -> float:
    metrics = json.loads((run / "metrics.json").read_text())
    best = metrics["best"]["metrics"].get("val_accuracy")
    return float(best if best is not None else metrics["final"]["val_accuracy"])


def export_all(run: Path, folder: Path) -> list[Path]:
    paths = []
    for fmt in FORMATS:
        report = export_project(run, fmt, folder / f"model_{fmt}")
        assert report.ok, report.message
        assert "signature.json" in report.message
        paths.append(report.path)
    return paths


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> tuple[Path, Path, list[Path]]:
    folder = tmp_path_factory.mktemp("table")
    data = write_mixed_csv(folder / "customers.csv")
    project = mixed_project(folder / "customers.dgproj")
    run = folder / "run"
    out = deepgui("train", project, "--data", data, "--target", "decision", "--out", run)
    assert "filled inside the model" in out.stderr
    return data, run, export_all(run, folder / "exports")


def test_every_export_scores_on_raw_csv_rows_like_the_run(table_run):
    data, run, artefacts = table_run
    expected = val_accuracy(run)
    assert expected >= 0.85  # the data is learnable: a broken export could not hide in noise
    scores = consume(data, artefacts)
    assert set(scores) == {p.name for p in artefacts}
    for name, score in scores.items():
        assert score >= expected - 0.04, f"{name}: {score:.3f} on raw rows, run {expected:.3f}"


def test_string_columns_go_in_as_numbers_only_where_the_format_needs_it(table_run):
    _, run, artefacts = table_run
    by_format = dict(zip(FORMATS, artefacts, strict=True))
    signatures = {
        fmt: json.loads(p.with_name(f"{p.name}.signature.json").read_text())
        for fmt, p in by_format.items()
    }
    for fmt, sig in signatures.items():
        assert sig["classes"] == ["buy", "skip"]
        dtypes = {row["column"]: row["dtype"] for row in sig["inputs"]}
        numbers = fmt in ("tflite", "onnx")
        assert dtypes["age"] == dtypes["income ($)"] == "float32"
        assert dtypes["city"] == ("int32" if numbers else "string")
        assert ("vocabularies" in sig) == numbers
    assert json.loads((run / "metrics.json").read_text())["classes"] == ["buy", "skip"]


def test_predict_names_the_classes_and_scores_the_labelled_rows(table_run, tmp_path):
    data, run, artefacts = table_run
    out = tmp_path / "predictions.csv"
    result = deepgui("predict", run, "--data", data, "-o", out)
    lines = out.read_text().splitlines()
    assert lines[0] == "row,predicted,p(buy),p(skip),decision"
    assert len(lines) == 601 and lines[1].split(",")[1] in ("buy", "skip")
    accuracy = float(result.stdout.split("accuracy ")[1].split()[0].rstrip(";."))
    assert accuracy >= val_accuracy(run) - 0.04
    # The same rows without their target column: predictions, no accuracy.
    unlabelled = tmp_path / "new.csv"
    rows = [line.rsplit(",", 1)[0] for line in data.read_text().splitlines()]
    unlabelled.write_text("\n".join(rows) + "\n")
    onnx = next(p for p in artefacts if p.suffix == ".onnx")
    result = deepgui("predict", onnx, "--data", unlabelled)
    assert "accuracy" not in result.stderr and result.stdout.count("\n") == 601


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    return write_image_folder(tmp_path_factory.mktemp("images") / "shapes")


def test_image_exports_take_raw_png_pixels(image_folder, tmp_path):
    project = cnn_project(tmp_path / "cnn.dgproj")
    run = tmp_path / "run"
    deepgui("train", project, "--data", image_folder, "--out", run)
    expected = val_accuracy(run)
    assert expected >= 0.9
    scores = consume(image_folder, export_all(run, tmp_path / "exports"))
    assert all(score >= expected - 0.04 for score in scores.values()), scores
    result = deepgui("predict", run, "--data", image_folder / "blob" / "000.png")
    assert result.stdout.splitlines()[1].split(",")[1] == "blob"


def test_a_leading_rescaling_layer_trains_like_plain_keras(image_folder, tmp_path):
    """The keras.io shape (Rescaling(1/255) first) gets raw pixels, so it learns as fast as the
    same model in a plain Keras script on the same folder and epochs."""
    project = cnn_project(tmp_path / "cnn.dgproj", rescaling=True, epochs=6)
    run = tmp_path / "run"
    deepgui("train", project, "--data", image_folder, "--out", run)
    sig = json.loads((run / "signature.json").read_text())
    assert sig["inputs"][0]["preprocessing"] == "resized to 8x8"  # scaled once, by the model
    assert sig["inputs"][0]["shape"] == [None, None, None, 1]  # pictures of any size go in

    import keras

    keras.utils.set_random_seed(1)
    train, val = keras.utils.image_dataset_from_directory(
        image_folder, color_mode="grayscale", image_size=(8, 8), batch_size=16,
        validation_split=0.2, subset="both", seed=1, verbose=False,
    )  # fmt: skip
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.003),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(train, validation_data=val, epochs=6, verbose=0)
    plain = max(history.history["val_accuracy"])
    ours = max(
        float(row.split(",")[header.index("val_accuracy")])
        for header in [(run / "history.csv").read_text().splitlines()[0].split(",")]
        for row in (run / "history.csv").read_text().splitlines()[1:]
    )
    assert ours >= plain - 0.05, f"deepgui {ours:.3f}, plain Keras {plain:.3f}"
    # Raw pixels reach the model: a raw PNG through the run's model agrees with training.
    scores = consume(image_folder, export_all(run, tmp_path / "exports")[:1])
    assert next(iter(scores.values())) >= ours - 0.05
    assert np.isfinite(ours)


def test_summary_shows_the_preprocessing_the_model_carries(table_run):
    _, run, _ = table_run
    out = deepgui("summary", run).stdout
    assert "Preprocessing inside the trained model: 6 layers" in out
    rows = out.split("Preprocessing inside")[1].splitlines()[1:5]
    assert [r.split()[0] for r in rows] == ["age", "income", "city", "review"]
    assert "missing ->" in rows[0] and "one-hot" in rows[2] and "text:" in rows[3]


def test_one_name_in_several_formats_keeps_a_signature_each(table_run, tmp_path):
    _, run, _ = table_run
    for fmt in ("keras", "tflite", "onnx"):
        report = export_project(run, fmt, tmp_path / "model")
        assert report.ok, report.message
    names = sorted(p.name for p in tmp_path.glob("*.signature.json"))
    assert names == [
        "model.keras.signature.json", "model.onnx.signature.json", "model.tflite.signature.json"
    ]  # fmt: skip
    keras_sig = json.loads((tmp_path / "model.keras.signature.json").read_text())
    onnx_sig = json.loads((tmp_path / "model.onnx.signature.json").read_text())
    assert not keras_sig["strings_as_numbers"] and onnx_sig["strings_as_numbers"]
