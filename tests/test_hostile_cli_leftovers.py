"""Issue 22's leftovers on the command line: a project too big is refused before TensorFlow
loads, SIGTERM while `deepgui train` plans ends as SIGTERM in training does (and a signal's stop
never waits on the main thread), and `sweep --epochs` takes the epoch limit's words. (`evaluate
--trust` is tested beside `predict --trust`, in test_hostile_files.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepgui.cli import main
from deepgui.core.run_layout import LOCK
from tests.test_large_inputs import chain_text

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- before TensorFlow
# In a process of its own: this one has TensorFlow loaded already. The limit is lowered there so
# that a 51-layer file stands for a 100,001-layer one.
_OVERSIZE = """
import sys
from deepgui.core import limits
limits.MAX_NODES = 50
from deepgui.cli import main
from deepgui.core.run_layout import LOCK
code = main(sys.argv[1:])
print(code, "tensorflow" in sys.modules, "keras" in sys.modules)
"""


@pytest.mark.parametrize(("command", "status", "prefix"), [("summary", 1, "deepgui: "),
                                                            ("train", 2, "error: "),
                                                            ("sweep", 2, "error: ")])  # fmt: skip
def test_a_project_too_big_is_refused_before_tensorflow_loads(tmp_path, command, status, prefix):
    path = tmp_path / "big.dgproj"
    path.write_text(chain_text(51))
    done = subprocess.run([sys.executable, "-c", _OVERSIZE, command, str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.stderr.strip() == (
        f"{prefix}{path}: has 51 layers, more than deepgui takes (at most 50)."
    )
    assert done.stdout.split() == [str(status), "False", "False"]  # neither TensorFlow nor Keras


# ----------------------------------------------------------------------------- SIGTERM in planning
def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (its SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
@pytest.mark.parametrize("when", ["handler", "lock"])
def test_sigterm_while_train_plans_ends_with_143_and_a_sentence(tmp_path, when):
    """SIGTERM as soon as `train` handles it (the project read, Keras importing), or once the
    run folder is locked (the data loading): status 143, one sentence, and the folder as it
    was. The second may land as training starts instead: then it is the stop after a batch."""
    data = json.loads(chain_text(3))
    data["graph"]["nodes"][-1]["config"] = {"units": 3, "activation": "softmax"}  # iris's classes
    data["dataset"] = {"source": "builtin", "name": "iris"}
    project = tmp_path / "p.dgproj"
    project.write_text(json.dumps(data))
    run_dir = tmp_path / "run"
    argv = [sys.executable, "-m", "deepgui", "train", str(project), "--out", str(run_dir),
            "--epochs", "1000"]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if _catches_sigterm(proc.pid) if when == "handler" else (run_dir / LOCK).exists():
                break
            time.sleep(0.005)
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "deepgui train never handled SIGTERM"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 143, err
    assert "Traceback" not in err, err
    last = err.strip().splitlines()[-1]
    before = "Stopped by SIGTERM before training started; nothing was written."
    # Keras's import alone outlasts the wait after the handler: that signal lands in planning.
    if when == "handler" or last == before:
        assert last == before, err
        assert not run_dir.exists()  # the folder the lock made went with the lock
    else:
        assert last.startswith("Stopped by SIGTERM after the batch in flight"), err
        assert f"train with --out {run_dir} to resume" in last


def test_sigterm_whose_exception_planning_swallowed_still_ends_the_run(
    tmp_path, monkeypatch, capsys
):
    """The handler's exception can be dropped on the way (raised inside a finalizer, or caught
    by a library's bare except): the SIGTERM is recorded too, and ends the run before training,
    never letting it train on for its 1000 epochs."""
    from deepgui.core.training import prepare

    data = json.loads(chain_text(3))
    data["graph"]["nodes"][-1]["config"] = {"units": 3, "activation": "softmax"}
    data["dataset"] = {"source": "builtin", "name": "iris"}
    project = tmp_path / "p.dgproj"
    project.write_text(json.dumps(data))
    load = prepare.load_dataset

    def load_in_a_library_that_swallows_everything(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs here, and its exception ends up below
        except BaseException:  # noqa: BLE001 - what such a library does
            pass
        return load(*args, **kwargs)

    monkeypatch.setattr(prepare, "load_dataset", load_in_a_library_that_swallows_everything)
    run_dir = tmp_path / "run"
    code = main(["train", str(project), "--out", str(run_dir), "--epochs", "1000"])
    err = capsys.readouterr().err
    assert code == 143, err
    assert err.strip().splitlines()[-1] == (
        "Stopped by SIGTERM before training started; nothing was written."
    )
    assert not run_dir.exists()
    assert signal.getsignal(signal.SIGTERM) is not None  # the test process's own, given back


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="POSIX signals")
def test_a_signal_while_the_main_thread_holds_what_the_stop_needs_stops_without_a_deadlock(
    capsys,
):
    """The handler runs on the main thread between two bytecodes: where that thread holds the
    lock the stop takes (or is writing to the pipe or stderr the stop writes to), stopping
    from the handler itself would wait for it forever. The stop goes to a thread of its own."""
    import threading

    from deepgui.cli_stop import StopOnSignal

    lock, stopped = threading.Lock(), threading.Event()

    def stop() -> None:
        with lock:
            stopped.set()

    handler = StopOnSignal(stop, lambda signum: f"stopping ({signum})\n")
    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        with lock:
            os.kill(os.getpid(), signal.SIGUSR1)
            time.sleep(0.3)  # the handler has run here, on this thread, with the lock held
            assert handler.asked == [signal.SIGUSR1] and not stopped.is_set()
        assert stopped.wait(10)
        handler.settle()
        assert capsys.readouterr().err == f"stopping ({int(signal.SIGUSR1)})\n"
        with pytest.raises(KeyboardInterrupt):  # the second signal leaves at once
            handler(signal.SIGUSR1, None)
    finally:
        signal.signal(signal.SIGUSR1, previous)


# ----------------------------------------------------------------------------- sweep --epochs
def test_sweep_refuses_endless_epochs_at_once_in_the_limits_words(tmp_path, capsys):
    path = tmp_path / "p.dgproj"
    path.write_text(chain_text(3))
    argv = ["sweep", str(path), "--epochs", "1e30", "--out", str(tmp_path / "sweep")]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        "error: The number of epochs must be at most 100,000, not 1e+30: a run that long "
        "would never end (--epochs)."
    )
    assert not (tmp_path / "sweep").exists()
