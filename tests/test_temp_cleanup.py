"""Temporary files that a process killed -9 part-way through a write leaves behind: every one
deepgui makes is named by one scheme (``.NAME.deepgui-tmp.PID.RANDOM[SUFFIX]``), and the next
write into the same folder removes those whose process is gone or that are a day old. Nothing
else is touched: a user's own hidden files, and the files of writers still running, stay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepgui.core import fileio
from tests.badinput.cases import dense_project, write_json

ROOT = Path(__file__).resolve().parents[1]

# A writer that stops half-way through its temporary file, to be killed there.
WRITER = """
import sys, time
from deepgui.core import fileio
with fileio.staged(sys.argv[1], suffix=".keras") as tmp:
    tmp.write_bytes(b"half a model")
    print("PAUSED", tmp, flush=True)
    time.sleep(600)
"""


def _writer(target: Path) -> tuple[subprocess.Popen, Path]:
    """A child process paused inside a write of `target`, and its temporary file."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    line = proc.stdout.readline()
    assert line.startswith("PAUSED"), proc.stderr.read()[-800:]
    return proc, Path(line.split(" ", 1)[1].strip())


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def ours(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if fileio.temp_owner(p.name) is not None)


def test_every_temporary_name_follows_the_one_scheme(tmp_path):
    for name, suffix in (("model.keras", ".keras"), ("w.weights.h5", ".weights.h5"),
                         ("p.dgproj", ".tmp"), ("é" * 120 + ".dgproj", ".tmp")):  # fmt: skip
        with fileio.staged(tmp_path / name, suffix=suffix) as tmp:
            assert tmp.name.startswith(".") and tmp.name.endswith(suffix)
            assert fileio.temp_owner(tmp.name) == os.getpid(), tmp.name
            tmp.write_bytes(b"x")
        assert (tmp_path / name).read_bytes() == b"x"
    folder = fileio.temp_folder(tmp_path / "saved")
    assert folder.is_dir() and fileio.temp_owner(folder.name) == os.getpid()
    # Names that merely look alike are a user's, never deepgui's.
    for name in (".notes.tmp", ".model.keras.abcd1234.tmp", "model.deepgui-tmp.12.abcd1234",
                 ".git", ".x.deepgui-tmp.pid.abcd1234"):  # fmt: skip
        assert fileio.temp_owner(name) is None, name


def test_a_killed_writers_leftover_goes_at_the_next_write_into_its_folder(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"the earlier model")
    killed, leftover = _writer(target)
    running, in_flight = _writer(tmp_path / "other.keras")
    try:
        _kill(killed)
        assert leftover.exists() and fileio.temp_owner(leftover.name) == killed.pid
        assert target.read_bytes() == b"the earlier model"
        # A killed export's staging folder, a day-old leftover of a pid now reused (this
        # process's), and this process's own write in progress.
        dead_folder = tmp_path / f".saved{fileio.TEMP_MARK}{killed.pid}.abcd1234"
        (dead_folder / "variables").mkdir(parents=True)
        stale = tmp_path / f"{fileio.temp_prefix(tmp_path / 'p.dgproj')}zzzz9999.tmp"
        stale.write_text("{}")
        day_ago = time.time() - fileio.TEMP_GRACE_S - 60
        os.utime(stale, (day_ago, day_ago))
        fresh = tmp_path / f"{fileio.temp_prefix(tmp_path / 'p.dgproj')}yyyy8888.tmp"
        fresh.write_text("{}")
        users = {".notes.tmp": b"mine", ".model.keras.abcd1234.tmp": b"also mine"}
        for name, data in users.items():
            (tmp_path / name).write_bytes(data)
        (tmp_path / ".git").mkdir()

        fileio.atomic_write_text(tmp_path / "notes.txt", "the next write")

        assert not leftover.exists() and not dead_folder.exists() and not stale.exists()
        assert in_flight.exists() and fresh.exists()  # their writers still run
        assert ours(tmp_path) == sorted([in_flight.name, fresh.name])
        assert {n: (tmp_path / n).read_bytes() for n in users} == users
        assert (tmp_path / ".git").is_dir() and target.read_bytes() == b"the earlier model"
    finally:
        _kill(running)
        if killed.poll() is None:
            _kill(killed)


def test_a_write_elsewhere_leaves_the_folder_alone(tmp_path):
    (tmp_path / "a").mkdir()
    killed, leftover = _writer(tmp_path / "a" / "model.keras")
    _kill(killed)
    fileio.atomic_write_text(tmp_path / "b" / "notes.txt", "elsewhere")
    assert leftover.exists()  # only the folder written into is swept
    fileio.atomic_write_text(tmp_path / "a" / "notes.txt", "here")
    assert not leftover.exists()


# ----------------------------------------------------------------------------- deepgui itself
def _deepgui_child(argv, pause_in: Path, pause_at: int = 1) -> subprocess.Popen:
    """`deepgui ARGV` stopped before its `pause_at`-th rename into `pause_in`
    (tests/faults_child.py)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "DEEPGUI_TEST_PAUSE_IN": str(pause_in),
           "DEEPGUI_TEST_PAUSE_AT": str(pause_at)}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults_child", *map(str, argv)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _kill_when_paused(proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    line = ""
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("PAUSED") or not line and proc.poll() is not None:
            break
    _kill(proc)
    assert line.startswith("PAUSED"), proc.stderr.read()[-800:]


@pytest.mark.slow
def test_import_killed_before_its_renames_leaves_temporaries_the_next_save_removes(tmp_path):
    import keras

    from deepgui.core.project import Project, load_project

    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(30, name="wide")])
    model.save(tmp_path / "m.keras")
    out = tmp_path / "project"
    out.mkdir()
    proc = _deepgui_child(["import", tmp_path / "m.keras", "-o", out / "m.dgproj"], out)
    _kill_when_paused(proc)
    left = ours(out)
    # Both files were written whole under temporary names; neither was renamed into place.
    assert len(left) == 2 and {fileio.temp_owner(n) for n in left} == {proc.pid}
    assert not (out / "m.dgproj").exists() and not (out / "m.weights.h5").exists()
    project = Project()
    project.graph.add_node("InputLayer", {"shape": [3]})
    project.save(out / "other.dgproj")  # the app's Save into that folder
    assert ours(out) == [] and load_project(out / "other.dgproj")


@pytest.mark.slow
def test_training_killed_at_a_checkpoint_leaves_a_temporary_that_resuming_removes(tmp_path):
    project = write_json(tmp_path / "p.dgproj", dense_project(dataset={"source": "builtin",
                                                                       "name": "iris"}))  # fmt: skip
    run = tmp_path / "run"
    checkpoints = run / "checkpoints"
    # The third rename into checkpoints/: the second epoch's model, after the first epoch's
    # model and state (so the run can resume).
    proc = _deepgui_child(["train", project, "--out", run, "--epochs", "3"], checkpoints, 3)
    _kill_when_paused(proc)
    left = ours(checkpoints)
    assert left and {fileio.temp_owner(n) for n in left} == {proc.pid}
    from deepgui.cli import main

    assert main(["train", str(project), "--out", str(run)]) == 0
    assert ours(checkpoints) == [] and ours(run) == []
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] == 3
