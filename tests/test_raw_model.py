"""The trained model is the product: trained through `deepgui train` on files as users have them,
exported to every format, and used outside deepgui on the raw rows and raw image files
(tests/raw_consumer.py runs each artefact in its own runtime with deepgui's import blocked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from deepgui.core.export import export_project
from tests.rawdata import cnn_project

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("keras", "savedmodel", "tflite", "onnx")
pytestmark = pytest.mark.slow

# Commands run one after another in one Python process, each as `python SCRIPT ARGS` or
# `python -m MODULE ARGS` would run it, with its own stdout, stderr and exit status: a process
# imports TensorFlow in about 4 s, which most commands here take longer for than their work.
SEQUENCE = """
import contextlib, io, json, os, runpy, sys, traceback
results = []
for cwd, argv in json.loads(sys.argv.pop()):
    os.chdir(cwd)
    sys.argv = list(argv)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            if argv[0].endswith(".py"):
                runpy.run_path(argv[0], run_name="__main__")
            else:
                runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
            code = 1
    results.append((code, out.getvalue(), err.getvalue()))
"""


class Commands:
    """Commands started now in a Python process of their own, run there one after another;
    the test goes on meanwhile. `results()` waits: a CompletedProcess for each command."""

    def __init__(self, jobs, *, env, flags=(), before="", after="", timeout=300) -> None:
        code = before + SEQUENCE + after + "\nprint(json.dumps(results))\n"
        self._done: list[subprocess.CompletedProcess] | None = None
        self.jobs = [(str(cwd), [str(a) for a in argv]) for cwd, argv in jobs]
        self.timeout = timeout
        self._process = subprocess.Popen(
            [sys.executable, *flags, "-c", code, json.dumps(self.jobs)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )  # fmt: skip

    def results(self) -> list[subprocess.CompletedProcess]:
        if self._done is None:
            try:
                out, err = self._process.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.communicate()
                raise
            assert self._process.returncode == 0, err[-3000:]
            done = json.loads(out.splitlines()[-1])
            self._done = [
                subprocess.CompletedProcess(argv, code, stdout, stderr)
                for (_, argv), (code, stdout, stderr) in zip(self.jobs, done, strict=True)
            ]
        return self._done

    def close(self) -> None:
        """Ends the process if it still runs (a test failed before it read the results)."""
        process = getattr(self, "_process", None)
        if self._done is None and process is not None and process.returncode is None:
            process.kill()
            process.communicate()

    __del__ = close

    def ok(self) -> list[subprocess.CompletedProcess]:
        """The results, each command having succeeded."""
        for result in self.results():
            said = result.stdout[-500:] + result.stderr[-2000:]
            assert result.returncode == 0, f"{' '.join(result.args)}: {said}"
        return self.results()


def deepgui_commands(*commands) -> Commands:
    """`deepgui COMMAND ...` for each command, in one process (see Commands)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    return Commands([(ROOT, ["deepgui.cli", *c]) for c in commands], env=env)


def deepgui_at_once(*commands) -> list[subprocess.CompletedProcess]:
    """`deepgui COMMAND ...` for each command, each in a process of its own as a user runs
    it, all started at once (the test machine has cores to spare); each must succeed."""
    started = [deepgui_commands(c) for c in commands]
    return [one.ok()[0] for one in started]


def start_consuming(*jobs: tuple[Path, list[Path]]) -> Commands:
    """tests/raw_consumer.py on each (data, artefacts), in one process without deepgui."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    consumer = ROOT / "tests" / "raw_consumer.py"
    return Commands([(data.parent, [consumer, data, *artefacts]) for data, artefacts in jobs],
                    env=env)  # fmt: skip


def scores_of(consumed: Commands) -> list[dict[str, float]]:
    """Accuracy of each artefact on its data, computed without deepgui: a dict per job."""
    return [
        {Path(k).name: v for k, v in json.loads(result.stdout.splitlines()[-1]).items()}
        for result in consumed.ok()
    ]


def consume(data: Path, artefacts: list[Path]) -> dict[str, float]:
    """Accuracy of each artefact on `data`, computed without deepgui."""
    return scores_of(start_consuming((data, artefacts)))[0]


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
def made(trained, tmp_path_factory):
    """What this module's tests check, made side by side on the test machine's cores: the
    table and image runs (tests/conftest.py's `trained`) exported to every format while a
    third run trains (keras.io's shape, Rescaling(1/255) first, on the same images); then the
    artefacts scored on the raw files by one raw consumer while one deepgui process runs the
    commands whose output the tests read. The tests wait for what they read."""
    folder = tmp_path_factory.mktemp("raw")
    rescaled = folder / "rescaled_run"
    project = cnn_project(folder / "cnn.dgproj", rescaling=True, epochs=6)
    training = deepgui_commands(("train", project, "--data", trained.images, "--out", rescaled))
    table = export_all(trained.table, folder / "table_exports")
    image = export_all(trained.image, folder / "image_exports")
    # The table's rows without their target column, for predictions without an accuracy.
    unlabelled = folder / "new.csv"
    rows = [line.rsplit(",", 1)[0] for line in trained.data.read_text().splitlines()]
    unlabelled.write_text("\n".join(rows) + "\n")
    onnx = next(p for p in table if p.suffix == ".onnx")
    cli = deepgui_commands(
        ("predict", trained.table, "--data", trained.data, "-o", folder / "predictions.csv"),
        ("predict", onnx, "--data", unlabelled),
        ("summary", trained.table),
        ("predict", trained.image, "--data", trained.images / "blob" / "000.png"),
    )
    training.ok()
    rescaled_exports = export_all(rescaled, folder / "rescaled_exports")
    consumed = start_consuming(
        (trained.data, table), (trained.images, image), (trained.images, rescaled_exports[:1])
    )
    yield SimpleNamespace(
        data=trained.data, table_run=trained.table, table=table,
        images=trained.images, image_run=trained.image, image=image, rescaled_run=rescaled,
        consumed=consumed, cli=cli, predictions=folder / "predictions.csv",
    )  # fmt: skip
    consumed.close()
    cli.close()


def test_every_export_scores_on_raw_csv_rows_like_the_run(made):
    artefacts = made.table
    expected = val_accuracy(made.table_run)
    assert expected >= 0.85  # the data is learnable: a broken export could not hide in noise
    scores = scores_of(made.consumed)[0]
    assert set(scores) == {p.name for p in artefacts}
    for name, score in scores.items():
        assert score >= expected - 0.04, f"{name}: {score:.3f} on raw rows, run {expected:.3f}"


def test_string_columns_go_in_as_numbers_only_where_the_format_needs_it(made):
    run, artefacts = made.table_run, made.table
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


def test_predict_names_the_classes_and_scores_the_labelled_rows(made):
    result, unlabelled, _, _ = made.cli.ok()  # `deepgui predict` on the run, then the ONNX file
    lines = made.predictions.read_text().splitlines()
    assert lines[0] == "row,predicted,p(buy),p(skip),decision"
    assert len(lines) == 601 and lines[1].split(",")[1] in ("buy", "skip")
    accuracy = float(result.stdout.split("accuracy ")[1].split()[0].rstrip(";."))
    assert accuracy >= val_accuracy(made.table_run) - 0.04
    # The same rows without their target column: predictions, no accuracy.
    assert unlabelled.args[-1].endswith("new.csv")
    assert "accuracy" not in unlabelled.stderr and unlabelled.stdout.count("\n") == 601


def test_image_exports_take_raw_png_pixels(made):
    expected = val_accuracy(made.image_run)
    assert expected >= 0.9
    scores = scores_of(made.consumed)[1]
    assert set(scores) == {p.name for p in made.image}
    assert all(score >= expected - 0.04 for score in scores.values()), scores
    result = made.cli.ok()[3]  # `deepgui predict` on one raw PNG
    assert result.stdout.splitlines()[1].split(",")[1] == "blob"


def test_a_leading_rescaling_layer_trains_like_plain_keras(made):
    """The keras.io shape (Rescaling(1/255) first) gets raw pixels, so it learns as fast as the
    same model in a plain Keras script on the same folder and epochs."""
    run, image_folder = made.rescaled_run, made.images
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
    scores = scores_of(made.consumed)[2]
    assert next(iter(scores.values())) >= ours - 0.05
    assert np.isfinite(ours)


def test_summary_shows_the_preprocessing_the_model_carries(made):
    out = made.cli.ok()[2].stdout  # `deepgui summary` on the table run
    assert "Preprocessing inside the trained model: 6 layers" in out
    rows = out.split("Preprocessing inside")[1].splitlines()[1:5]
    assert [r.split()[0] for r in rows] == ["age", "income", "city", "review"]
    assert "missing ->" in rows[0] and "one-hot" in rows[2] and "text:" in rows[3]


def test_one_name_in_several_formats_keeps_a_signature_each(made, tmp_path):
    run = made.table_run
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
