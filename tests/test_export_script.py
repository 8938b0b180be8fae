"""The Python export stands alone: a run trained through `deepgui train` on files as users have
them (a CSV with numbers, categories, text and gaps; a folder of PNGs), exported with
`--format python`, copied with its weights to a fresh folder and run there by a Python that
cannot import deepgui. Its predictions on the raw files equal `deepgui predict` on the run."""

from __future__ import annotations

import csv
import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from deepgui.core.export import export_project
from deepgui.core.project import load_project
from deepgui.core.training.examples import example_path
from tests.rawdata import deepgui
from tests.test_raw_model import Commands, deepgui_commands

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
NOT_IMPORTED = """
assert not [m for m in sys.modules if m.split(".")[0] == "deepgui"], "deepgui was imported"
"""


def start_isolated(*jobs: tuple[Path, tuple], timeout: float = 180) -> Commands:
    """`python SCRIPT ARGS` for each job (FOLDER, (SCRIPT, *ARGS)), in its folder, one after
    another in one Python process started now (see tests/test_raw_model.py's Commands): in
    isolated mode (-I: no PYTHONPATH, no user site, no script folder on sys.path) and with
    deepgui's import blocked."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    return Commands(jobs, env=env, flags=("-I",), before=BLOCKER, after=NOT_IMPORTED,
                    timeout=timeout)  # fmt: skip


def isolated(folder: Path, *commands, timeout: float = 180) -> list[subprocess.CompletedProcess]:
    """start_isolated's commands, all in `folder`; waits for them."""
    return start_isolated(*((folder, command) for command in commands), timeout=timeout).results()


def assert_stands_alone(script: Path) -> None:
    text = script.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+deepgui\b", text, re.MULTILINE)
    assert "deepgui.core" not in text


def one_sentence(message: str) -> bool:
    return message.endswith(".") and not re.search(r"[.;]\s+[A-Z]", message) and "\n" not in message


def export_script(run: Path, folder: Path, name: str) -> Path:
    """Export the run's script; the report must say it was checked."""
    report = export_project(run, "python", folder / f"{name}.py")
    assert report.ok, report.message
    assert one_sentence(report.message), report.message
    assert "checked" in report.message and report.max_abs_diff is not None
    assert report.max_abs_diff <= 1e-5
    assert_stands_alone(report.path)
    return report.path


def fresh_copy(script: Path, tmp: Path) -> Path:
    """The script and its weights (nothing else) copied to a fresh folder."""
    fresh = tmp / "fresh"
    fresh.mkdir()
    shutil.copy(script, fresh)
    shutil.copy(script.with_name(f"{script.stem}.weights.h5"), fresh)
    assert_stands_alone(fresh / script.name)
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
def exported(trained, tmp_path_factory):
    """The scripts of tests/conftest.py's table and image runs, exported once, while `deepgui
    predict` makes what they must predict in the background (one process): the table's rows
    with their target column and without it (gaps and an unseen city too), and the images.
    Then each test's commands of the scripts, each test in a fresh folder of its own, started
    in one isolated process (a process spends seconds importing TensorFlow): `ran(test)` waits
    for them and gives that test's results."""
    folder = tmp_path_factory.mktemp("scripts")
    with open(trained.data, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    unlabelled = folder / "new_customers.csv"
    with open(unlabelled, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(rows[0][:-1])
        writer.writerows(r[:-1] for r in rows[1:40])
        writer.writerow(["", "?", "tokyo", "a great and lovely item"])
    sources = {"labelled": trained.data, "unlabelled": unlabelled, "images": trained.images}
    runs = {"labelled": trained.table, "unlabelled": trained.table, "images": trained.image}
    predicted = deepgui_commands(
        *(("predict", runs[name], "--data", source, "-o", folder / f"deepgui_{name}.csv")
          for name, source in sources.items())
    )  # fmt: skip
    scripts = {
        "customers": export_script(trained.table, folder / "export", "customers"),
        "shapes": export_script(trained.image, folder / "export", "shapes"),
    }
    fresh = {}
    for test, script in (("csv", "customers"), ("png", "shapes"), ("retrain", "customers")):
        (folder / test).mkdir()
        fresh[test] = fresh_copy(scripts[script], folder / test)
    exported_weights = (fresh["retrain"] / "customers.weights.h5").read_bytes()
    images = trained.images
    commands = {
        "csv": [("customers.py", "predict", sources[n], "-o", f"{n}.csv")
                for n in ("labelled", "unlabelled")],
        "png": [("shapes.py", "predict", images, "-o", "out.csv"),
                ("shapes.py", "predict", images / "vertical" / "000.png")],
        "retrain": [("customers.py", "train", "--epochs", "2"),
                    ("customers.py", "predict", trained.data, "-o", "after.csv")],
    }  # fmt: skip
    scripts_run = start_isolated(
        *((fresh[test], command) for test, each in commands.items() for command in each),
        timeout=400,
    )

    starts = dict(zip(commands, itertools.accumulate([0, *map(len, commands.values())]),
                      strict=False))  # fmt: skip

    def ran(test: str) -> list[subprocess.CompletedProcess]:
        return scripts_run.results()[starts[test] : starts[test] + len(commands[test])]

    yield SimpleNamespace(
        data=trained.data, images=images, sources=sources, scripts=scripts,
        predicted=predicted, by_deepgui=lambda name: folder / f"deepgui_{name}.csv",
        fresh=fresh, exported_weights=exported_weights, ran=ran,
    )  # fmt: skip
    scripts_run.close()
    predicted.close()


@pytest.mark.slow
def test_script_predicts_raw_csv_rows_like_deepgui_predict(exported):
    fresh = exported.fresh["csv"]
    names = ("labelled", "unlabelled")
    done = exported.ran("csv")  # customers.py predict NAME.csv -o NAME.csv, for each name
    exported.predicted.ok()
    for name, result in zip(names, done, strict=True):
        assert result.returncode == 0, result.stderr[-3000:]
        assert "Predicted" in result.stdout
        got = assert_same_predictions(fresh / f"{name}.csv", exported.by_deepgui(name))
        if name == "labelled":
            assert accuracy(got) >= 0.85
        else:
            assert len(got) == 40 and "decision" not in read_predictions(fresh / f"{name}.csv")[0]


@pytest.mark.slow
def test_script_predicts_a_png_folder_like_deepgui_predict(exported):
    fresh = exported.fresh["png"]
    # shapes.py predict on the image folder (-o out.csv), then on one PNG of vertical bars.
    done, one = exported.ran("png")
    assert done.returncode == 0, done.stderr[-3000:]
    exported.predicted.ok()
    rows = assert_same_predictions(fresh / "out.csv", exported.by_deepgui("images"))
    assert accuracy(rows) >= 0.9
    assert one.returncode == 0, one.stderr[-3000:]
    assert one.stdout.splitlines()[1].split(",")[1] == "vertical"


@pytest.mark.slow
def test_script_retrains_from_scratch_and_predicts_with_its_own_weights(exported, tmp_path):
    data = exported.data
    fresh, exported_weights = exported.fresh["retrain"], exported.exported_weights
    # customers.py train --epochs 2, then customers.py predict on the table -o after.csv.
    done, again = exported.ran("retrain")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Epochs run: 2" in done.stdout
    assert (fresh / "customers.weights.h5").read_bytes() != exported_weights
    assert (fresh / "customers.keras").is_file() and (fresh / "customers.signature.json").is_file()
    assert again.returncode == 0, again.stderr[-3000:]
    header, rows = read_predictions(fresh / "after.csv")
    assert header == ["row", "predicted", "p(buy)", "p(skip)", "decision"] and len(rows) == 600
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
    refused, training, done = isolated(
        tmp_path,
        ("iris.py", "predict", data),
        ("iris.py", "train", "--epochs", "1"),
        ("iris.py", "predict", data, "-o", "out.csv"),
    )
    assert refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert last.startswith("iris.py: No trained weights: run `python iris.py train` first")
    assert "Traceback" not in refused.stderr
    assert training.returncode == 0, training.stderr[-3000:]
    assert "Epochs run: 1" in training.stdout and "Test metrics: {'accuracy'" in training.stdout
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
