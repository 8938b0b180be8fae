"""`deepgui train` end to end: accuracy on the digits example, resume after a kill, clear errors."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from deepgui.core.paths import examples_dir
from deepgui.train_cli import ProgressPrinter

ROOT = Path(__file__).resolve().parents[1]


def train(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "deepgui.train_cli", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
    )  # fmt: skip


def our_lines(stderr: str) -> list[str]:
    """stderr without TensorFlow's own start-up chatter."""
    noise = ("I0000", "E0000", "W0000", "WARNING: All log", "To enable the following")
    return [line for line in stderr.splitlines() if line and not line.startswith(noise)]


def copy_example(name: str, tmp_path: Path) -> Path:
    target = tmp_path / f"{name}.dgproj"
    shutil.copy(examples_dir() / f"{name}.dgproj", target)
    return target


@pytest.mark.slow  # over 5 s on 2 cores
def test_digits_example_reaches_095_validation_accuracy(tmp_path):
    out = tmp_path / "run"
    proc = train(examples_dir() / "digits_cnn.dgproj", "--epochs", 12, "--out", out)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 12
    assert metrics["final"]["val_accuracy"] >= 0.95
    assert "Traceback" not in proc.stderr
    lines = our_lines(proc.stderr)
    assert any(line.startswith("Epoch 12/12:") and "samples/s" in line for line in lines)
    assert f"run directory: {out}" in proc.stdout


@pytest.mark.slow  # over 5 s on 2 cores
def test_a_killed_run_resumes_and_finishes_with_the_right_epoch_count(tmp_path):
    project = copy_example("moons_dense", tmp_path)
    out = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "deepgui.train_cli",
        str(project),
        "--epochs",
        "12",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    state = out / "checkpoints" / "state.json"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if state.exists() and json.loads(state.read_text())["epochs_done"] >= 1:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    assert not (out / "metrics.json").exists()
    done = json.loads(state.read_text())["epochs_done"]
    assert 1 <= done < 12

    again = train(project, "--epochs", "12", "--out", out)
    assert again.returncode == 0, again.stderr
    assert any(line.startswith("Resuming") for line in our_lines(again.stderr))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 12
    assert metrics["resumed_from_epoch"] == done
    epochs = [
        int(line.split(",")[0]) for line in (out / "history.csv").read_text().splitlines()[1:]
    ]
    assert epochs == list(range(1, 13))


def test_ctrl_c_stops_gracefully_and_keeps_the_run(tmp_path):
    project = copy_example("moons_dense", tmp_path)
    out = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "deepgui.train_cli",
        str(project),
        "--epochs",
        "200",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    state = out / "checkpoints" / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and not state.exists():
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stopped_by"] == "user" and 1 <= metrics["epochs_run"] < 200
    assert (out / "model.keras").is_file()
    assert "stopped by: user" in stdout


@pytest.mark.slow  # over 5 s on 2 cores
def test_overfitting_warnings_appear_as_they_happen(tmp_path):
    from deepgui.core.graph import Graph
    from deepgui.core.project import Project

    g = Graph()
    layers = [g.add_node("InputLayer", {"shape": [20]})]
    layers += [g.add_node("Dense", {"units": 512, "activation": "relu"}) for _ in range(2)]
    layers.append(g.add_node("Dense", {"units": 1, "activation": "sigmoid"}))
    for a, b in zip(layers, layers[1:], strict=False):
        g.connect(a.id, b.id)
    training = {"epochs": 15, "batch_size": 8, "learning_rate": 0.003}
    project = Project(graph=g, training=training).save(tmp_path / "wide.dgproj")
    rng = np.random.default_rng(0)
    # Random labels: anything learnt is memorised, so validation loss must climb.
    x = rng.normal(size=(50, 20)).astype("float32")
    np.savez(tmp_path / "noise.npz", x=x, y=rng.integers(0, 2, size=50))
    proc = train(project, "--data", tmp_path / "noise.npz", "--out", tmp_path / "run")
    assert proc.returncode == 0, proc.stderr
    lines = our_lines(proc.stderr)
    warn = next(
        i for i, line in enumerate(lines) if line.startswith("warning: overfitting from epoch")
    )
    # Printed right after the epoch that revealed it, before training went on.
    assert lines[warn - 1].startswith("Epoch ") and lines[warn + 1].startswith("Epoch ")
    assert "Try: add dropout" in lines[warn]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["overfitting"] and metrics["epochs_run"] == 15


def test_npz_data_and_default_run_directory(tmp_path):
    project = copy_example("iris_dense", tmp_path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 4)).astype("float32")
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
    np.savez(tmp_path / "mine.npz", x=x, y=y)
    proc = train(project, "--data", tmp_path / "mine.npz", "--epochs", 2, "--batch-size", 8)
    assert proc.returncode == 0, proc.stderr
    runs = list((tmp_path / "iris_dense.runs").iterdir())  # named after the project
    assert len(runs) == 1
    metrics = json.loads((runs[0] / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and metrics["batch_size"] == 8
    copy = json.loads((runs[0] / "project.dgproj").read_text())
    assert copy["dataset"]["source"] == "npz" and copy["training"]["epochs"] == 2
    from deepgui.core.project import load_project

    assert copy["id"] == load_project(project).id  # the run belongs to this project


@pytest.mark.parametrize(
    ("make_args", "expect"),
    [
        (lambda t: [t / "missing.dgproj"], "missing.dgproj"),
        (lambda t: [_write(t / "bad.dgproj", "{not json"), "--epochs", 1], "bad.dgproj"),
        (
            lambda t: [examples_dir() / "iris_dense.dgproj", "--data", t / "nothing.csv"],
            "nothing.csv",
        ),
        (
            lambda t: [
                examples_dir() / "iris_dense.dgproj",
                "--data",
                _write(t / "d.csv", "a,b\n1,2\n3,4\n"),
                "--target",
                "label",
            ],  # fmt: skip
            "label",
        ),
        (lambda t: [examples_dir() / "iris_dense.dgproj", "--epochs", 0], "--epochs"),
        (
            lambda t: [
                examples_dir() / "iris_dense.dgproj",
                "--out",
                _write(t / "keep.txt", "mine").parent,
            ],  # fmt: skip
            "is not empty",
        ),
    ],
)
def test_bad_input_is_one_clear_sentence(tmp_path, make_args, expect):
    proc = train(*make_args(tmp_path))
    assert proc.returncode == 2
    lines = our_lines(proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and expect in lines[0]
    assert "Traceback" not in proc.stderr


def test_data_that_does_not_fit_the_model_names_both_sides(tmp_path):
    # Iris has 4 features; the digits CNN expects 8x8x1 images.
    iris = ROOT / "resources" / "datasets" / "iris.csv"
    proc = train(examples_dir() / "digits_cnn.dgproj", "--data", iris, "--target", "species",
                 "--out", tmp_path / "run")  # fmt: skip
    assert proc.returncode != 0
    lines = our_lines(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "(4,)" in lines[0] and "8, 8, 1" in lines[0]
    assert "Traceback" not in proc.stderr


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _started(p: ProgressPrinter) -> None:
    p.started(
        4, 2, 0, {"device": "cpu", "num_train": 128, "num_val": 32, "loss": "mse", "batch_size": 32}
    )
    p.epoch_started(1)


def test_progress_bar_shows_eta_and_throughput():
    stream = _Tty()
    p = ProgressPrinter(stream, interval=0.0)
    _started(p)
    for step in range(1, 5):
        time.sleep(0.01)
        p.batch_ended(step, {"loss": 1.0 / step})
    text = stream.getvalue()
    assert "━" in text, "rich draws the bar"
    assert "Epoch 1/2" in text and "4/4" in text
    assert "ETA 0:00:00" in text and "samples/s" in text and "loss 0.2500" in text
    p.epoch_ended(1, {"loss": 0.25, "val_loss": 0.3})
    # The bar leaves the screen (cursor shown again) and the epoch's summary takes its line.
    rest = stream.getvalue()[len(text) :]
    assert "\x1b[?25h" in rest
    assert rest.rsplit("\x1b[2K", 1)[1].startswith("Epoch 1/2: loss 0.2500 val_loss 0.3000 (")
    assert rest.endswith("samples/s)\n")


def test_a_note_during_an_epoch_goes_above_the_bar_and_close_gives_the_cursor_back():
    stream = _Tty()
    p = ProgressPrinter(stream, interval=0.0)
    _started(p)
    p.batch_ended(1, {"loss": 1.0})
    p.waiting("Waiting for rank 2…")
    drawn = stream.getvalue()
    # Rich erases the bar, writes the note on its own line, then draws the bar again below it.
    assert "\x1b[2KWaiting for rank 2…\n" in drawn
    assert drawn.rsplit("Waiting for rank 2…\n", 1)[1].startswith("Epoch 1/2")
    p.close()  # what _train does when a second Ctrl+C leaves mid-epoch
    assert stream.getvalue().count("\x1b[?25l") == stream.getvalue().count("\x1b[?25h") == 1
    p.close()


def test_progress_off_a_terminal_is_one_plain_line_per_epoch():
    stream = io.StringIO()
    p = ProgressPrinter(stream, interval=0.0)
    _started(p)
    for step in range(1, 5):
        p.batch_ended(step, {"loss": 1.0 / step})
    p.epoch_ended(1, {"loss": 0.25})
    p.finished("completed", {})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 1/2: loss 0.2500 (")
    assert "\x1b" not in stream.getvalue()


def test_the_terminal_line_shows_a_small_learning_rate_in_significant_digits():
    from deepgui.train_cli import _fmt_logs

    assert _fmt_logs({"loss": 0.5, "learning_rate": 1e-5}) == "learning_rate 1e-05 loss 0.5000"
