"""Trials side by side (core/sweep/parallel.py, trial_entry.py) and on the ranks of `deepgui
worker` (core/sweep/ranks.py): trials overlap in time in processes of their own, the table and
the best come out as a sequential sweep's do, stopping leaves no process behind and the sweep
resumes, and two loopback ranks each take trials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepgui import cli
from deepgui.core.project import load_project
from deepgui.core.sweep import parallel, table
from deepgui.core.sweep.search import Sweep, SweepListener, SweepRequest
from deepgui.core.training import TrainingListener
from tests.test_distributed import descendants, free_port
from tests.test_sweep import iris_example

ROOT = Path(__file__).resolve().parents[1]


class Windows(SweepListener):
    """When each trial's training started and finished (as its process reported), and the
    first epoch any trial ended."""

    def __init__(self, on_epoch=None) -> None:
        self.started: dict[int, float] = {}
        self.finished: dict[int, float] = {}
        self.ended: list[tuple[int, str]] = []
        self.on_epoch = on_epoch

    def trial_finished(self, trial):
        self.ended.append((trial.number, trial.status))

    def training(self, trial):
        heard = self

        class Times(TrainingListener):
            def started(self, steps_per_epoch, epochs, initial_epoch, info):
                heard.started[trial.number] = time.monotonic()

            def epoch_ended(self, epoch, logs):
                if heard.on_epoch is not None:
                    heard.on_epoch(trial.number)

            def finished(self, reason, metrics):
                heard.finished[trial.number] = time.monotonic()

        return Times()


def run_sweep(path: Path, listener=None, **request):
    sweep = Sweep(load_project(path), SweepRequest(**request)).plan()
    try:
        return sweep, sweep.run(listener)
    finally:
        sweep.release()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# ----------------------------------------------------------------------------- fast
def test_auto_gives_each_trial_its_cores_and_memory(monkeypatch):
    monkeypatch.setattr(parallel, "usable_cores", lambda: list(range(8)))
    monkeypatch.setattr(parallel, "available_memory", lambda: int(4.6 * 2**30))
    assert parallel.auto_parallel() == 3  # memory for three trial processes, not eight
    monkeypatch.setattr(parallel, "available_memory", lambda: 64 * 2**30)
    assert parallel.auto_parallel() == 8 // parallel.CORES_PER_TRIAL
    assert parallel.auto_parallel(trials_left=2) == 2
    monkeypatch.setattr(parallel, "usable_cores", lambda: [0])
    assert parallel.auto_parallel() == 1
    # K trials share the cores in disjoint shares; more trials than cores are not pinned.
    assert parallel.core_shares([0, 1, 2, 3, 4], 2) == [[0, 1], [2, 3]]
    assert parallel.core_shares([0, 1], 3) == [None, None, None]
    env = parallel.trial_environment([2, 3], 2)
    assert env[parallel.CPUS_ENV] == "2,3" and env["TF_NUM_INTRAOP_THREADS"] == "2"


def test_bad_parallel_or_rank_settings_are_one_sentence(tmp_path, capsys):
    path = iris_example(tmp_path)
    cases = [
        (["--parallel", "many"], "must be a number or auto"),
        (["--parallel", "0"], "trials at once must be auto or at least 1"),
        (["--coordinator", "127.0.0.1:7477"], "A coordinator needs the number of ranks"),
        (["--workers", "2"], "Several ranks need a coordinator"),
        (["--workers", "2", "--coordinator", "0.0.0.0:7477"], "not a wildcard"),
    ]
    for extra, words in cases:
        rc = cli.main(["sweep", str(path), "--vary", "dense.units=4,8", *extra,
                       "--out", str(tmp_path / "sweep")])  # fmt: skip
        err = capsys.readouterr().err
        assert rc == 2, extra
        assert words in err and "Traceback" not in err, (extra, err)
        assert len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "sweep").exists()


def test_ranks_that_do_not_join_are_named_with_the_command_to_start_them(tmp_path):
    path = iris_example(tmp_path)
    coordinator = f"127.0.0.1:{free_port()}"
    sweep = Sweep(load_project(path), SweepRequest(
        vary=("dense.units=4,8",), trials=2, epochs=1, out=tmp_path / "sweep", workers=3,
        coordinator=coordinator, join_seconds=1)).plan()  # fmt: skip
    try:
        with pytest.raises(Exception, match="Not every rank joined") as caught:
            sweep.run()
    finally:
        sweep.release()
    text = str(caught.value)
    assert f"deepgui worker --coordinator {coordinator} --rank 1 --world 3" in text
    assert "--rank 2 --world 3" in text
    assert not any(alive(p) for s in sweep.slots for p in [s.pid] if p)


# ----------------------------------------------------------------------------- slow: training
@pytest.mark.slow  # two sweeps of three trials: about a minute
def test_two_trials_run_side_by_side_and_keep_the_sequential_bookkeeping(tmp_path):
    path = iris_example(tmp_path)
    request = {"vary": ("dense.units=2..32:log",), "trials": 3, "epochs": 25,
               "objective": "val_accuracy"}  # fmt: skip
    windows = Windows()
    sweep, outcome = run_sweep(path, windows, parallel=2, out=tmp_path / "parallel", **request)
    assert outcome.reason == "completed"
    # Trials 1 and 2 trained at the same time, in two processes.
    (a0, a1), (b0, b1) = [(windows.started[n], windows.finished[n]) for n in (1, 2)]
    assert max(a0, b0) < min(a1, b1), windows.__dict__
    assert len({s.pid for s in sweep.slots}) == 2
    assert not any(alive(s.pid) for s in sweep.slots)  # both left with the sweep

    _, sequential = run_sweep(path, out=tmp_path / "sequential", **request)
    rows, seq_rows = table.read(tmp_path / "parallel"), table.read(tmp_path / "sequential")
    assert [r["trial"] for r in rows] == ["1", "2", "3"]
    assert {r["status"] for r in rows} == {"completed"}
    # The oracle proposed the same values, and each trained to (nearly) the same score.
    assert [r["dense.units"] for r in rows] == [r["dense.units"] for r in seq_rows]
    for r, s in zip(rows, seq_rows, strict=True):
        assert float(r["val_accuracy"]) == pytest.approx(float(s["val_accuracy"]), abs=0.07)
    best_row = max(rows, key=lambda r: (float(r["val_accuracy"]), -int(r["trial"])))
    assert outcome.best.number == int(best_row["trial"])
    for n in (1, 2, 3):  # each an ordinary run folder
        metrics = json.loads((tmp_path / "parallel" / f"trial_00{n}" / "metrics.json").read_text())
        assert metrics["stopped_by"] == "completed" and metrics["epochs_run"] == 25


@pytest.mark.slow  # about a minute
def test_stopping_leaves_no_process_behind_and_the_sweep_resumes(tmp_path):
    path = iris_example(tmp_path)
    out = tmp_path / "sweep"
    request = {"vary": ("dense.units=4..16",), "trials": 3, "epochs": 20, "out": out}
    sweep = Sweep(load_project(path), SweepRequest(parallel=2, **request)).plan()
    processes: set[int] = set()

    def stop_at_first_epoch(number: int) -> None:
        if not sweep.stop_requested:
            for slot in sweep.slots:
                if slot.pid:
                    processes.add(slot.pid)
                    processes.update(descendants(slot.pid))
            sweep.stop()

    try:
        outcome = sweep.run(Windows(on_epoch=stop_at_first_epoch))
    finally:
        sweep.release()
    assert outcome.reason == "stopped"
    assert len(processes) >= 2
    assert not [p for p in processes if alive(p)], "trial processes left running"
    rows = table.read(out)
    assert "stopped" in {r["status"] for r in rows}
    assert {r["status"] for r in rows} <= {"stopped", "completed"}

    # Resumed one trial at a time: the stopped trials go on with their values.
    windows = Windows()
    _, resumed = run_sweep(path, windows, **request)
    assert resumed.reason == "completed"
    after = table.read(out)
    assert [r["status"] for r in after] == ["completed"] * 3
    for before in rows:
        assert after[int(before["trial"]) - 1]["dense.units"] == before["dense.units"]


@pytest.mark.slow  # a chief and a rank of `deepgui worker`: about a minute
def test_two_loopback_ranks_each_take_trials(tmp_path):
    path = iris_example(tmp_path)
    coordinator = f"127.0.0.1:{free_port()}"
    rank_out = tmp_path / "rank1"
    worker = subprocess.Popen(
        [sys.executable, "-m", "deepgui", "worker", "--coordinator", coordinator, "--rank", "1",
         "--world", "2", "--out", str(rank_out), "--join-timeout", "120"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, start_new_session=True,
    )  # fmt: skip
    try:
        out = tmp_path / "sweep"
        _, outcome = run_sweep(path, vary=("dense.units=4..32",), trials=4, epochs=2, out=out,
                               workers=2, coordinator=coordinator,
                               objective="val_accuracy")  # fmt: skip
        stdout, stderr = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, 9)
    assert outcome.reason == "completed"
    assert worker.returncode == 0, stderr
    assert "The sweep is over" in stdout
    rows = table.read(out)
    assert list(rows[0])[-1] == "rank"
    assert {r["status"] for r in rows} == {"completed"} and len(rows) == 4
    assert {r["rank"] for r in rows} == {"0", "1"}  # each rank ran at least one trial
    for row in rows:
        folder = out / f"trial_{int(row['trial']):03d}"
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["epochs_run"] == 2
        if row["rank"] == "1":
            # The rank trained it in its own folder; the chief holds its history and metrics.
            assert metrics["rank"] == 1
            assert (Path(metrics["rank_run_dir"]) / "model.keras").is_file()
            assert Path(metrics["rank_run_dir"]).parent == rank_out.resolve()
        else:
            assert (folder / "model.keras").is_file()
    best_row = max(rows, key=lambda r: (float(r["val_accuracy"]), -int(r["trial"])))
    assert outcome.best.number == int(best_row["trial"])


@pytest.mark.slow  # about 40 s
def test_a_rank_that_goes_away_hands_its_trial_to_another(tmp_path):
    path = iris_example(tmp_path)
    coordinator = f"127.0.0.1:{free_port()}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "deepgui", "worker", "--coordinator", coordinator, "--rank", "1",
         "--world", "2", "--out", str(tmp_path / "rank1"), "--join-timeout", "120"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}, start_new_session=True,
    )  # fmt: skip
    heard: list[str] = []

    class KillRank(Windows):
        def waiting(self, text):
            heard.append(text)

        def training(self, trial):
            inner = super().training(trial)
            if trial.rank != 1:
                return inner

            class Kill(type(inner)):
                def epoch_ended(self, epoch, logs):
                    if worker.poll() is None:
                        os.kill(worker.pid, 9)  # the rank's machine goes away mid-trial

            return Kill()

    out = tmp_path / "sweep"
    try:
        _, outcome = run_sweep(path, KillRank(), vary=("dense.units=4..32",), trials=3,
                               epochs=30, out=out, workers=2,
                               coordinator=coordinator)  # fmt: skip
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, 9)
        worker.wait()
    assert outcome.reason == "completed"
    rows = table.read(out)
    assert [r["status"] for r in rows] == ["completed"] * 3
    assert {r["rank"] for r in rows} == {"0"}  # the lost trial trained again on the chief
    assert any("Rank 1 went away" in text for text in heard)
