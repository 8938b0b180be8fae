"""The Python export stands alone: a run trained through `deepgui train` on files as users have
them (a CSV with numbers, categories, text and gaps; a folder of PNGs), exported with
`--format python`, copied with its weights to a fresh folder and run there by a Python that
cannot import deepgui. Its predictions on the raw files equal `deepgui predict` on the run."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from deepgui.core.export import export_project
from deepgui.core.project import load_project
from deepgui.core.training.examples import example_path
from tests.rawdata import (
    cnn_project,
    deepgui,
    mixed_project,
    write_image_folder,
    write_mixed_csv,
)

ROOT = Path(__file__).resolve().parents[1]

# Run a script with every import of deepgui refused (the venv has deepgui installed, editable,
# so hiding it from sys.path is not enough), then prove none was loaded.
BLOCKER = """
import sys
class NoDeepgui:
    def find_spec(self, name, path=None, target=None):
        if name == "deepgui" or name.startswith("deepgui."):
            raise ImportError("deepgui is blocked: the script must stand alone")
        return None
sys.meta_path.insert(0, NoDeepgui())
"""
RUN_SCRIPT = """
import runpy
script, sys.argv = sys.argv[1], sys.argv[1:]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    assert not [m for m in sys.modules if m.split(".")[0] == "deepgui"], "deepgui was imported"
"""


def isolated(folder: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python SCRIPT ARGS` in `folder`, in isolated mode (-I: no PYTHONPATH, no user site, no
    script folder on sys.path) and with deepgui's import blocked."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return subprocess.run(
        [sys.executable, "-I", "-c", BLOCKER + RUN_SCRIPT, *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=folder,
    )  # fmt: skip


def assert_stands_alone(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+deepgui\b", text, re.MULTILINE)
    assert "deepgui.core" not in text


def one_sentence(message: str) -> bool:
    return message.endswith(".") and not re.search(r"[.;]\s+[A-Z]", message) and "\n" not in message


def export_to_fresh_folder(run: Path, tmp: Path, name: str) -> Path:
    """Export the run's script, then copy the script and its weights (nothing else) away."""
    report = export_project(run, "python", tmp / "export" / f"{name}.py")
    assert report.ok, report.message
    assert one_sentence(report.message), report.message
    assert "checked" in report.message and report.max_abs_diff is not None
    assert report.max_abs_diff <= 1e-5
    fresh = tmp / "fresh"
    fresh.mkdir()
    shutil.copy(report.path, fresh)
    shutil.copy(report.path.with_name(f"{name}.weights.h5"), fresh)
    assert_stands_alone(fresh / f"{name}.py")
    return fresh


def read_predictions(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def assert_same_predictions(ours: Path, theirs: Path) -> list[list[str]]:
    """Same header, ids and predicted labels; probabilities within 1e-4."""
    header, rows = read_predictions(ours)
    want_header, want_rows = read_predictions(theirs)
    assert header == want_header
    assert len(rows) == len(want_rows) > 0
    probs = [i for i, h in enumerate(header) if h.startswith("p(")]
    for row, want in zip(rows, want_rows, strict=True):
        assert row[:2] == want[:2]
        assert row[len(header) - 1] == want[len(header) - 1]
        for i in probs:
            assert abs(float(row[i]) - float(want[i])) <= 1e-4, (row, want)
    return rows


def accuracy(rows: list[list[str]]) -> float:
    return sum(r[1] == r[-1] for r in rows) / len(rows)


def test_the_blocker_really_keeps_deepgui_out(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    plain = subprocess.run(
        [sys.executable, "-I", "-c", "import deepgui"], capture_output=True, env=env, cwd=tmp_path
    )
    assert plain.returncode == 0  # the editable install is importable from anywhere ...
    blocked = subprocess.run(
        [sys.executable, "-I", "-c", BLOCKER + "import deepgui"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert blocked.returncode != 0 and "deepgui is blocked" in blocked.stderr  # ... but not here


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("table")
    data = write_mixed_csv(folder / "customers.csv", rows=400)
    project = mixed_project(folder / "customers.dgproj")
    run = folder / "run"
    deepgui("train", project, "--data", data, "--target", "decision", "--out", run)
    return data, run


@pytest.mark.slow
def test_script_predicts_raw_csv_rows_like_deepgui_predict(table_run, tmp_path):
    data, run = table_run
    fresh = export_to_fresh_folder(run, tmp_path, "customers")
    # Rows with the target column, and rows without it (gaps and an unseen city too).
    with open(data, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    unlabelled = tmp_path / "new_customers.csv"
    with open(unlabelled, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(rows[0][:-1])
        writer.writerows(r[:-1] for r in rows[1:40])
        writer.writerow(["", "?", "tokyo", "a great and lovely item"])
    for source, name in ((data, "labelled"), (unlabelled, "unlabelled")):
        done = isolated(fresh, "customers.py", "predict", source, "-o", f"{name}.csv")
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Predicted" in done.stdout
        deepgui("predict", run, "--data", source, "-o", tmp_path / f"deepgui_{name}.csv")
        got = assert_same_predictions(fresh / f"{name}.csv", tmp_path / f"deepgui_{name}.csv")
        if name == "labelled":
            assert accuracy(got) >= 0.85
        else:
            assert len(got) == 40 and "decision" not in read_predictions(fresh / f"{name}.csv")[0]


@pytest.mark.slow
def test_script_predicts_a_png_folder_like_deepgui_predict(tmp_path):
    images = write_image_folder(tmp_path / "shapes", per_class=30)
    project = cnn_project(tmp_path / "shapes.dgproj", epochs=12)
    run = tmp_path / "run"
    deepgui("train", project, "--data", images, "--out", run)
    fresh = export_to_fresh_folder(run, tmp_path, "shapes")
    done = isolated(fresh, "shapes.py", "predict", images, "-o", "out.csv")
    assert done.returncode == 0, done.stderr[-3000:]
    deepgui("predict", run, "--data", images, "-o", tmp_path / "deepgui.csv")
    rows = assert_same_predictions(fresh / "out.csv", tmp_path / "deepgui.csv")
    assert accuracy(rows) >= 0.9
    one = isolated(fresh, "shapes.py", "predict", images / "vertical" / "000.png")
    assert one.returncode == 0, one.stderr[-3000:]
    assert one.stdout.splitlines()[1].split(",")[1] == "vertical"


@pytest.mark.slow
def test_script_retrains_from_scratch_and_predicts_with_its_own_weights(table_run, tmp_path):
    data, run = table_run
    fresh = export_to_fresh_folder(run, tmp_path, "customers")
    exported = (fresh / "customers.weights.h5").read_bytes()
    done = isolated(fresh, "customers.py", "train", "--epochs", "2", timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Epochs run: 2" in done.stdout
    assert (fresh / "customers.weights.h5").read_bytes() != exported
    assert (fresh / "customers.keras").is_file() and (fresh / "customers.signature.json").is_file()
    again = isolated(fresh, "customers.py", "predict", data, "-o", "after.csv")
    assert again.returncode == 0, again.stderr[-3000:]
    header, rows = read_predictions(fresh / "after.csv")
    assert header == ["row", "predicted", "p(buy)", "p(skip)", "decision"] and len(rows) == 400
    # What it saved is a deepgui model too: deepgui predicts with it as the script does.
    deepgui("predict", fresh / "customers.keras", "--data", data, "-o", tmp_path / "d.csv")
    assert_same_predictions(fresh / "after.csv", tmp_path / "d.csv")


@pytest.mark.slow  # over 5 s on 2 cores
def test_script_from_a_project_trains_before_it_predicts(tmp_path):
    project = load_project(example_path("iris_dense"))
    project.save(tmp_path / "iris.dgproj")
    report = export_project(tmp_path / "iris.dgproj", "python", tmp_path / "iris.py")
    assert report.ok and one_sentence(report.message), report.message
    assert not (tmp_path / "iris.weights.h5").exists()
    assert_stands_alone(report.path)
    data = example_path("iris_dense").parents[1] / "datasets" / "iris.csv"
    refused = isolated(tmp_path, "iris.py", "predict", data)
    assert refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("iris.py: No trained weights: run `python iris.py train` first")
    assert "Traceback" not in refused.stderr
    trained = isolated(tmp_path, "iris.py", "train", "--epochs", "1")
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "Epochs run: 1" in trained.stdout and "Test metrics: {'accuracy'" in trained.stdout
    done = isolated(tmp_path, "iris.py", "predict", data, "-o", "out.csv")
    assert done.returncode == 0, done.stderr[-3000:]
    header, rows = read_predictions(tmp_path / "out.csv")
    assert header[:3] == ["row", "predicted", "p(setosa)"] and len(rows) == 150


def test_a_run_without_a_signature_gets_a_script_that_trains(tmp_path):
    """Runs from before signatures (model.keras is the bare network): the script cannot know
    the preprocessing's constants, so it comes without weights, like a project's."""
    from deepgui.core.build import build_model

    project = load_project(example_path("iris_dense"))
    run = tmp_path / "old_run"
    run.mkdir()
    build_model(project.graph).save(run / "model.keras")
    project.save(run / "project.dgproj")
    report = export_project(run, "python", tmp_path / "iris.py")
    assert report.ok and one_sentence(report.message), report.message
    assert "compiles" in report.message and report.max_abs_diff is None
    assert not (tmp_path / "iris.weights.h5").exists()
    assert "PREPROCESSING = None" in report.path.read_text(encoding="utf-8")
