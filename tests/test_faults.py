"""Faults outside the user's input: a process killed -9 part-way, a read-only folder, a full disk,
two runs into one folder, a loss that turns NaN. Whatever happens, what the user had is still
there and whole, and what went wrong is one sentence naming the path.

The read-only folder is a read-only bind mount and the full disk a 1 MiB tmpfs where this
process may mount them (root); elsewhere the same errors (EROFS, ENOSPC) are injected where
files are opened for writing.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
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

from deepgui.cli import main
from tests.badinput.cases import IRIS_CSV, dense_project, write_json

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def one_sentence(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines, "nothing was said"
    line = lines[-1]
    assert "Traceback" not in err and "unexpected error" not in err, err
    assert line.startswith(("deepgui: ", "error: ")) and line.endswith("."), line
    return line


def listing(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def leftovers(folder: Path) -> list[str]:
    """Temporary files a failed write left (the lock file of a run folder is meant to stay)."""
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if (".tmp" in p.name or p.name.startswith(".")) and p.name != ".deepgui-run.lock"
    ]


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A project that trains in a second, a finished run of it, and a 4 MB Keras model."""
    import keras

    root = tmp_path_factory.mktemp("faults")
    project = write_json(root / "p.dgproj", dense_project(dataset={"source": "builtin",
                                                                   "name": "iris"}))  # fmt: skip
    run = root / "p.runs" / "done"
    rc, _, err = run_cli("train", project, "--out", run)
    assert rc == 0, err
    big = keras.Sequential([keras.Input((1000,)), keras.layers.Dense(1000, name="wide")])
    big.save(root / "big.keras")
    big_project = dense_project(inputs=1000, dataset={"source": "npz", "path": "big.npz"})
    big_project["graph"]["nodes"][1]["config"]["units"] = 1000
    write_json(root / "big.dgproj", big_project)
    rng = np.random.default_rng(0)
    np.savez(root / "big.npz", x=rng.normal(size=(16, 1000)).astype("float32"),
             y=np.arange(16) % 3)  # fmt: skip
    return {"root": root, "project": project, "run": run, "big": root / "big.keras",
            "big_project": root / "big.dgproj"}  # fmt: skip


def _mount(*args) -> bool:
    """Mount as asked, where this process may (DEEPGUI_TEST_NO_MOUNT=1 tries the injected
    errors instead, as a machine without root does)."""
    if os.environ.get("DEEPGUI_TEST_NO_MOUNT") or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", *map(str, args)], capture_output=True).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _inject(monkeypatch, folder: Path, code: int) -> None:
    """Opening a file for writing, or making a folder, under `folder` fails with `code`."""
    folder = os.path.abspath(folder)

    def inside(path) -> bool:
        try:
            return os.path.abspath(os.fspath(path)).startswith(folder)
        except TypeError:
            return False

    real_open, real_os_open, real_mkdir = builtins.open, os.open, os.mkdir

    def fake_open(file, mode="r", *args, **kwargs):
        if inside(file) and any(c in mode for c in "wax+"):
            raise OSError(code, os.strerror(code), str(file))
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(code, os.strerror(code), str(path))
        return real_os_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if inside(path):
            raise OSError(code, os.strerror(code), str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)


@pytest.fixture
def readonly(tmp_path, monkeypatch):
    """A folder holding one file, which nothing can write into."""
    source, folder = tmp_path / "ro_source", tmp_path / "ro"
    source.mkdir()
    folder.mkdir()
    (source / "kept.txt").write_text("kept")
    if _mount("--bind", source, folder):
        if _mount("-o", "remount,ro,bind", folder):
            yield folder
            _umount(folder)
            return
        _umount(folder)
    (folder / "kept.txt").write_text("kept")
    _inject(monkeypatch, folder, errno.EROFS)
    yield folder


@pytest.fixture
def full(tmp_path, monkeypatch):
    """A folder on a disk with 1 MiB free, holding one small file."""
    from deepgui.core.project import Project

    folder = tmp_path / "full"
    folder.mkdir()
    mounted = _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", folder)
    (folder / "kept.txt").write_text("kept")
    Project().save(folder / "small.dgproj")
    if mounted:
        yield folder
        _umount(folder)
        return
    _inject(monkeypatch, folder, errno.ENOSPC)
    yield folder


# ----------------------------------------------------------------------------- read-only
def test_a_read_only_folder_is_one_sentence_naming_it(work, readonly):
    from deepgui.core.fileio import WriteError
    from deepgui.core.project import load_project

    before = listing(readonly)
    run = work["run"]
    commands = [
        ("import", work["big"], "-o", readonly / "x.dgproj"),
        ("export", run, "--format", "keras", "-o", readonly / "m.keras"),
        ("export", run, "--format", "savedmodel", "-o", readonly / "saved"),
        ("export", run, "--format", "python", "-o", readonly / "script.py"),
        ("train", work["project"], "--out", readonly / "run"),
        ("predict", run, "--data", IRIS_CSV, "-o", readonly / "p.csv"),
    ]
    for argv in commands:
        rc, _, err = run_cli(*argv)
        line = one_sentence(err)
        assert rc != 0 and str(readonly) in line and "read-only" in line, (argv, line)
    project = load_project(work["project"])
    with pytest.raises(WriteError, match="read-only") as info:
        project.save(readonly / "copy.dgproj")
    assert str(readonly) in str(info.value)
    assert listing(readonly) == before


# ----------------------------------------------------------------------------- full disk
def test_a_full_disk_is_one_sentence_and_leaves_no_temporary_file(work, full):
    from deepgui.core.fileio import WriteError
    from deepgui.core.project import Project

    before = listing(full)
    commands = [
        ("import", work["big"], "-o", full / "x.dgproj"),
        ("export", work["big"], "--format", "keras", "-o", full / "m.keras"),
        ("train", work["big_project"], "--out", full / "run"),
    ]
    for argv in commands:
        rc, _, err = run_cli(*argv)
        line = one_sentence(err)
        assert rc != 0 and str(full) in line and "disk is full" in line, (argv, line)
        assert not leftovers(full), leftovers(full)
    kept = {k: v for k, v in listing(full).items() if not k.startswith("run")}
    assert kept == before
    # A save that does not fit leaves the project file as it was.
    project = Project()
    saved = (full / "small.dgproj").read_bytes()
    project.training["notes"] = "x" * (2 << 20)
    with pytest.raises(WriteError, match="disk is full"):
        project.save(full / "small.dgproj")
    assert (full / "small.dgproj").read_bytes() == saved and not leftovers(full)


@pytest.mark.slow
def test_a_full_disk_never_crashes_a_process(work, full):
    """In processes of their own: libhdf5 once crashed the interpreter at exit (exit 139)."""
    if not os.path.ismount(full):
        pytest.skip("needs a tmpfs mount (root): injected errors do not reach another process")
    commands = [
        ["import", work["big"], "-o", full / "x.dgproj"],
        ["export", work["big"], "--format", "keras", "-o", full / "m.keras"],
        ["export", work["big"], "--format", "savedmodel", "-o", full / "saved"],
        ["train", work["big_project"], "--out", full / "run"],
    ]
    script = (
        "import contextlib, io, json, sys\n"
        "from deepgui.cli import main\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    err = io.StringIO()\n"
        "    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):\n"
        "        rc = main(argv)\n"
        "    print(json.dumps([rc, err.getvalue()]), flush=True)\n"
    )
    argv = json.dumps([[str(a) for a in c] for c in commands])
    proc = subprocess.run(
        [sys.executable, "-c", script, argv], cwd=ROOT, capture_output=True, text=True,
        timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-800:])  # 139: a crash at exit
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(commands)
    for command, (rc, err) in zip(commands, results, strict=True):
        line = one_sentence(err)
        assert rc == 1 and "disk is full" in line, (command, line)
    assert not leftovers(full), leftovers(full)


# ----------------------------------------------------------------------------- two runs
def test_a_second_run_into_a_locked_folder_is_refused(work, tmp_path):
    from deepgui.core.training.rundir import RunLock

    out = tmp_path / "run"
    lock = RunLock.acquire(out)  # another run holds it
    try:
        before = listing(out)
        rc, _, err = run_cli("train", work["project"], "--out", out)
        line = one_sentence(err)
        assert rc == 2 and "another training run is writing to this folder" in line
        assert f"process {os.getpid()}" in line and listing(out) == before
    finally:
        lock.release()
    rc, _, err = run_cli("train", work["project"], "--out", out)
    assert rc == 0, err


@pytest.mark.slow
def test_two_train_processes_into_one_folder(work, tmp_path):
    """Two real processes: the second is refused, the first finishes its run untouched."""
    out = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-m", "deepgui", "train", str(work["project"]), "--out", str(out),
         "--epochs", "60"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 120
        while not (out / "checkpoints" / "state.json").exists():
            assert first.poll() is None and time.time() < deadline, first.stderr.read()
            time.sleep(0.05)
        second = subprocess.run(
            [sys.executable, "-m", "deepgui", "train", str(work["project"]), "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode == 2
        assert "another training run is writing to this folder" in one_sentence(second.stderr)
        assert first.wait(timeout=300) == 0
    finally:
        if first.poll() is None:
            first.kill()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 60 and metrics["stopped_by"] == "completed"


# ----------------------------------------------------------------------------- NaN
@pytest.fixture
def nan_data(tmp_path):
    """Values at the edge of float32: the first batch overflows to infinity, the loss to NaN."""
    x = np.full((40, 4), 3e38, "float32")
    x[::2] *= -1
    np.savez(tmp_path / "huge.npz", x=x, y=np.arange(40) % 3)
    return tmp_path / "huge.npz"


def test_nan_in_the_first_epoch_keeps_no_model_and_says_so(work, nan_data, tmp_path):
    out = tmp_path / "run"
    rc, _, err = run_cli("train", work["project"], "--data", nan_data, "--out", out)
    line = one_sentence(err)
    assert rc == 1 and "nan" in line.lower() and "keeps no model" in line
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stopped_by"] == "nan_loss" and metrics["model_saved"] is False
    assert not (out / "model.keras").exists() and not leftovers(out)
    rc, _, err = run_cli("export", out, "--format", "keras", "-o", tmp_path / "m.keras")
    assert rc == 1 and "no trained model" in one_sentence(err)
    assert not (tmp_path / "m.keras").exists()


def test_nan_after_a_finished_epoch_keeps_the_last_finite_model(work, tmp_path):
    from deepgui.core.project import load_project
    from deepgui.core.training.engine import TrainingEngine, TrainingListener
    from deepgui.core.training.prepare import prepare_run

    class Poison(TrainingListener):
        """After epoch 1 (checkpointed) the weights turn NaN: epoch 2's loss is NaN."""

        def epoch_ended(self, epoch, logs):
            if epoch == 1:
                weights = engine.model.get_weights()
                weights[0][:] = np.nan
                engine.model.set_weights(weights)

    prepared = prepare_run(load_project(work["project"]), tmp_path / "run", epochs=3)
    try:
        data = prepared.load_data()
        engine = TrainingEngine(
            prepared.project.graph, data, prepared.config, Poison(), project=prepared.project,
            dataset_spec=prepared.spec, run_dir=prepared.run_dir,
        )  # fmt: skip
        result = engine.run()
    finally:
        prepared.release()
    assert result.reason == "nan_loss"
    assert result.metrics["model_epoch"] == 1 and "epoch 1" in result.metrics["message"]
    rc, out, err = run_cli("export", tmp_path / "run", "--format", "keras", "-o",
                           tmp_path / "m.keras")  # fmt: skip
    assert rc == 0 and "largest difference" in out, err


def test_exports_refuse_a_model_with_nan_weights(tmp_path):
    import keras

    from deepgui.core.errors import ExportError
    from deepgui.core.export import export_model

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    weights = model.get_weights()
    weights[0][0, 0] = np.nan
    model.set_weights(weights)
    for fmt in ("keras", "savedmodel", "tflite", "onnx"):
        with pytest.raises(ExportError, match="NaN or infinite weights") as info:
            export_model(model, fmt, tmp_path / f"m_{fmt}")
        assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["keras", "savedmodel", "tflite", "onnx"])
def test_every_self_check_fails_on_non_finite_outputs(fmt, tmp_path, monkeypatch):
    import keras

    from deepgui.core.export import formats, verify

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    monkeypatch.setattr(formats, "run", lambda f, p, m, arrays: [np.full((4, 2), np.nan)])
    report = verify(fmt, tmp_path / "artefact", model)
    assert not report.ok and "NaN or infinite" in report.message
    monkeypatch.setattr(formats, "run", lambda f, p, m, arrays: [np.full((4, 2), np.inf)])
    assert not verify(fmt, tmp_path / "artefact", model).ok
    weights = model.get_weights()
    weights[1][:] = np.nan  # the Keras model itself computes NaN: its check fails too
    model.set_weights(weights)
    monkeypatch.setattr(formats, "run", lambda f, p, m, arrays: [np.full((4, 2), np.nan)])
    report = verify(fmt, tmp_path / "artefact", model)
    assert not report.ok and "NaN or infinite" in report.message


# ----------------------------------------------------------------------------- kill -9
def _child(argv, pause_in: Path | None = None, pause_at: int = 1) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if pause_in is not None:
        env.update(DEEPGUI_TEST_PAUSE_IN=str(pause_in), DEEPGUI_TEST_PAUSE_AT=str(pause_at))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults_child", *map(str, argv)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _kill_when_paused(proc: subprocess.Popen, timeout: float = 180) -> str:
    """Wait for the child to stop before its rename, then kill it -9; the destination."""
    deadline = time.time() + timeout
    line = ""
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("PAUSED") or not line and proc.poll() is not None:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert line.startswith("PAUSED"), proc.stderr.read()[-800:]
    return line.split(" ", 1)[1].strip()


@pytest.mark.slow
@pytest.mark.parametrize("moment", [1, 2])
def test_kill_during_import_leaves_the_earlier_project_whole(work, tmp_path, moment):
    """--force over an earlier import, killed before the first and before the second rename:
    each file is the earlier one or the new one, whole, and both load."""
    from deepgui.core.project import load_project
    from deepgui.core.weights import read_weights

    out = tmp_path / "imported.dgproj"
    rc, _, err = run_cli("import", work["big"], "-o", out)
    assert rc == 0, err
    earlier = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    proc = _child(["import", work["big"], "-o", out, "--force"], tmp_path, moment)
    _kill_when_paused(proc)
    for name, data in earlier.items():
        assert (tmp_path / name).read_bytes() == data or moment == 2, name
    load_project(out)
    assert read_weights(tmp_path / "imported.weights.h5")["wide"]


@pytest.mark.slow
def test_kill_during_export_leaves_the_earlier_export_whole(work, tmp_path):
    from deepgui.core.keras_import import load_model_file

    target = tmp_path / "m.keras"
    rc, _, err = run_cli("export", work["run"], "--format", "keras", "-o", target)
    assert rc == 0, err
    earlier = target.read_bytes()
    proc = _child(["export", work["run"], "--format", "keras", "-o", target, "--force"],
                  tmp_path)  # fmt: skip
    assert _kill_when_paused(proc) == str(target)
    assert target.read_bytes() == earlier
    load_model_file(target)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "m.keras",
        "m.keras.signature.json",
    ]


@pytest.mark.slow
def test_kill_during_savedmodel_export_never_leaves_no_savedmodel(work, tmp_path):
    """Killed at several moments while it replaces an earlier SavedModel (--force): there is
    always one whole SavedModel at the path."""
    import tensorflow as tf

    target = tmp_path / "saved"
    rc, _, err = run_cli("export", work["run"], "--format", "savedmodel", "-o", target)
    assert rc == 0, err
    argv = ["export", work["run"], "--format", "savedmodel", "-o", target, "--force"]
    assert _kill_when_paused(_child(argv, target)) == str(target)  # at the swap itself
    proc = _child(argv)  # and wherever it happens to be
    time.sleep(4.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert (target / "saved_model.pb").is_file() and (target / "variables").is_dir()
    tf.saved_model.load(str(target))


@pytest.mark.slow
def test_kill_during_training_resumes_and_loses_nothing(work, tmp_path):
    out = tmp_path / "run"
    project_bytes = work["project"].read_bytes()
    other = {p.name: p.read_bytes() for p in work["run"].iterdir() if p.is_file()}
    # 15 epochs: killed after 3, the 12 left are the margin that it is killed, not finished.
    proc = _child(["train", work["project"], "--out", out, "--epochs", "15"])
    deadline = time.time() + 180
    state = out / "checkpoints" / "state.json"
    while True:
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read()[-800:]
        if state.exists():
            try:
                if json.loads(state.read_text())["epochs_done"] >= 3:
                    break
            except (ValueError, KeyError):
                pass
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    from deepgui.core.training.rundir import is_resumable, read_checkpoint

    assert is_resumable(out) and read_checkpoint(out)["epochs_done"] >= 3
    rc, _, err = run_cli("train", work["project"], "--out", out)
    assert rc == 0, err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_run"] == 15 and metrics["resumed_from_epoch"] >= 3
    assert work["project"].read_bytes() == project_bytes
    assert {p.name: p.read_bytes() for p in work["run"].iterdir() if p.is_file()} == other
