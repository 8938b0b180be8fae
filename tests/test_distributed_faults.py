"""Runs on several machines under faults (issue 22): a worker that finds no chief leaves within
its join timeout, absurd options are refused before any wait, a stranger on the chief's port
does not end a run, a launcher's death ends its training process, and SIGTERM stops `deepgui
train` as Ctrl+C does. Real processes throughout; time bounds are scaled by how long this
machine takes to start `python -c pass`, never bare seconds."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deepgui.core.errors import TrainingError
from deepgui.core.paths import examples_dir
from deepgui.core.training import distributed, rundir
from deepgui.core.training.worker_process import gpu_count
from tests.test_distributed import chief, descendants, free_port, start_rank

pytest.importorskip("jax")

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def start_up() -> float:
    """Seconds of allowance for a command's start-up on this machine, as it is loaded now: 200
    times the median `python -c pass` of the venv (0.02 s → 4 s on a quiet 2-core machine; a
    deepgui command imports NumPy and the core, about 25 times that)."""
    times = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - began)
    return 200 * statistics.median(times)


def worker(*args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "deepgui", "worker", "--rank", "1", *args]
    return subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip


def finish(process: subprocess.Popen, within: float) -> tuple[str, str, float]:
    """stdout, stderr and the seconds `process` took to end, killing its group (the test then
    fails) when it is still running after `within` seconds."""
    began = time.perf_counter()
    try:
        out, err = process.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"still running after {within:.0f} s")
    return out, err, time.perf_counter() - began


def our_lines(stderr: str) -> list[str]:
    noise = ("I0000", "E0000", "W0000", "WARNING: All log", "To enable the following")
    return [line for line in stderr.splitlines() if line and not line.startswith(noise)]


# ----------------------------------------------------------------------------- the join timeout
class Silent:
    """A port that takes connections and never answers (a chief's machine that hangs, or a
    service that is not deepgui's)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()


def closed_port() -> str:
    return f"127.0.0.1:{free_port()}"


@pytest.mark.parametrize("coordinator", ["closed", "silent"])
def test_a_worker_that_finds_no_chief_leaves_within_its_join_timeout(coordinator, start_up,
                                                                     tmp_path):  # fmt: skip
    silent = Silent() if coordinator == "silent" else None
    address = silent.address if silent else closed_port()
    join = 3
    try:
        began = time.perf_counter()
        process = worker("--coordinator", address, "--world", "2", "--join-timeout", str(join),
                         "--out", str(tmp_path / "rank1"))  # fmt: skip
        _, err, _ = finish(process, join + 2 * start_up)
        took = time.perf_counter() - began
    finally:
        if silent:
            silent.close()
    assert process.returncode == 1
    assert took <= join + start_up, f"{took:.1f} s for a join timeout of {join} s"
    lines = our_lines(err)
    assert lines[-1].startswith("error: No chief answered at") and f"within {join} s" in lines[-1]
    assert "Traceback" not in err


# ----------------------------------------------------------------------------- refused at once
@pytest.mark.parametrize(
    "args, words",
    [
        (["--coordinator", "127.0.0.1:7477", "--world", "1000000000"], "at most 1024"),
        (["--coordinator", " 127.0.0.1:7477", "--world", "2"], "holds a space"),
        (
            ["--coordinator", "127.0.0.1:7477", "--world", "2", "--device", "gpu:99"],
            "does not have",
        ),  # fmt: skip
        (["--coordinator", "a" * 64 + ".lab:7477", "--world", "2"], "longer than a host name"),
    ],
)
def test_absurd_worker_options_are_refused_before_any_wait(args, words, start_up, tmp_path):
    if "gpu:99" in args and gpu_count() is None:
        pytest.skip("this platform's GPUs are not counted without a framework")
    _, err, _ = finish(worker(*args, "--out", str(tmp_path / "r")), start_up)
    lines = our_lines(err)
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], err
    assert not (tmp_path / "r").exists()


def test_the_coordinator_address_is_checked_strictly():
    for bad, words in [
        (" 10.0.0.5:7477", "space"),
        ("10.0.0.5:7477 ", "space"),
        ("10.0.0.5:\t7477", "space"),
        ("chief\x00:7477", "unprintable"),
        ("x" * 64 + ".lab:7477", "longer than a host name"),
        (".".join(["a" * 60] * 5) + ":7477", "longer than a host name"),  # 304 characters
        ("-chief.lab:7477", "neither an IP address nor a host name"),
        ("chief..lab:7477", "neither an IP address nor a host name"),
        ("chief_1:7477", "neither an IP address nor a host name"),
        ("999.1.1.1:7477", "neither an IP address nor a host name"),
        ("[chief]:7477", "not an IPv6 address"),
        ("10.0.0.5:+7477", "HOST:PORT"),
        ("10.0.0.5:0", "HOST:PORT"),
    ]:
        with pytest.raises(TrainingError, match=words):
            distributed.parse_coordinator(bad)
    for good, host in [
        ("10.0.0.5:7477", "10.0.0.5"),
        ("chief-1.lab.example:7477", "chief-1.lab.example"),
        ("[fe80::1]:7477", "fe80::1"),
        ("::1:7477", "::1"),
        ("x" * 63 + ".lab:7477", "x" * 63 + ".lab"),
    ]:
        assert distributed.parse_coordinator(good) == (host, 7477)


# ----------------------------------------------------------------------------- strangers
def stranger(address: str, payload: bytes, within: float) -> bytes:
    """What the chief's port answers a peer that sends `payload`, up to its closing."""
    host, port = address.rsplit(":", 1)
    answer = b""
    with socket.create_connection((host, int(port)), timeout=within) as sock:
        try:
            sock.sendall(payload)
            while chunk := sock.recv(4096):
                answer += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass  # closed while the payload was on its way
        except TimeoutError:
            answer += b"(held open)"
    return answer


HTTP2 = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def test_a_rank_is_held_by_one_process_at_the_gate():
    """A second process claiming a rank (a worker started twice, one left from an earlier
    run) is refused at the gate: let through, it would register a second task, and the
    coordination service ends the whole run for that."""
    gate = distributed.Gate(distributed.make_cluster(f"127.0.0.1:{free_port()}", 2))
    try:

        def hello(**more):
            return {"hello": distributed.HELLO_RANK, "version": distributed.GATE_VERSION,
                    "rank": 1, "world": 2, **more}  # fmt: skip

        assert gate._refusal(hello(probe=True)) is None
        assert gate._refusal(hello(token="first")) is None
        assert gate._refusal(hello(token="first")) is None  # the same process reconnects
        assert "joined this run already" in gate._refusal(hello(token="second"))
        assert "joined this run already" in gate._refusal(hello(probe=True))
        assert "differs from the chief's" in gate._refusal(hello())  # no claim at all
    finally:
        gate.sock.close()


def test_a_hello_sent_a_byte_at_a_time_is_bounded_as_a_whole():
    """The gate's hello time bounds the whole line, not each read: a peer dribbling a byte
    now and then would otherwise hold its place at the gate for hours."""
    ours, theirs = socket.socketpair()
    sent = []
    stop = threading.Event()

    def dribble():
        while not stop.is_set() and len(sent) < 40:
            try:
                theirs.sendall(b"{")
            except OSError:
                return
            sent.append(1)
            time.sleep(0.05)

    sender = threading.Thread(target=dribble, daemon=True)
    ours.settimeout(0.5)
    sender.start()
    try:
        message, _ = distributed._read_line(ours)
        dribbled = len(sent)
    finally:
        stop.set()
        sender.join(5)
        ours.close()
        theirs.close()
    assert message is None
    assert dribbled < 40  # given up while the peer was still sending, not when it stopped


@pytest.mark.slow
def test_strangers_on_the_chiefs_port_do_not_end_a_run(tmp_path, start_up):
    """Garbage, an HTTP/2 client (what the coordination service speaks) and a rank of another
    run, during the join and during training: each is closed, the run completes."""
    engine, events, cluster = chief(tmp_path, world=2, epochs=6, name="chief")
    results: list = []
    thread = threading.Thread(target=lambda: results.append(engine.run()))
    thread.start()
    within = distributed.HELLO_SECONDS + start_up
    deadline = time.monotonic() + 60 * start_up
    while time.monotonic() < deadline:  # the chief's gate opens once its worker has started
        try:
            socket.create_connection(cluster.coordinator.rsplit(":", 1), timeout=within).close()
            break
        except OSError:
            time.sleep(0.1)
    answers = [stranger(cluster.coordinator, os.urandom(2048), within),
               stranger(cluster.coordinator, HTTP2, within)]  # fmt: skip
    rank = start_rank(cluster.coordinator, 1, 2, tmp_path / "rank1")
    assert events.first_epoch.wait(120)
    answers += [stranger(cluster.coordinator, os.urandom(2048), within),
                stranger(cluster.coordinator, b"\x00" * 70000, within),
                stranger(cluster.coordinator, HTTP2 + os.urandom(512), within)]  # fmt: skip
    other = json.dumps({"hello": distributed.HELLO_RANK, "version": distributed.GATE_VERSION,
                        "rank": 1, "world": 3}).encode() + b"\n"  # fmt: skip
    refusal = stranger(cluster.coordinator, other, within)
    thread.join(240)
    assert not thread.is_alive()
    # Nothing of the coordination service answers a stranger: not a byte back.
    assert answers == [b""] * 5
    assert b"the run has 2 ranks, not 3" in refusal
    result = results[0]
    assert result.reason == "completed", result.metrics.get("message")
    assert events.epochs == list(range(1, 7))
    _, err = rank.communicate(timeout=60)
    assert rank.returncode == 0, err[-2000:]


# ----------------------------------------------------------------------------- a launcher's death
class WaitingChief:
    """A chief's gate that admits rank 1 and then waits for other ranks forever: the rank's
    training process starts and waits in its join."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.sock.accept()
            except OSError:
                return
            line = sock.makefile("rb").readline(4096)
            try:
                hello = json.loads(line)
            except ValueError:
                hello = {}
            if isinstance(hello, dict) and hello.get("hello") == distributed.HELLO_RANK:
                sock.sendall(b'{"hello": "deepgui-run-chief", "accepted": true}\n')
                self.held.append(sock)  # admitted; the coordination service never answers
            else:
                sock.close()

    def close(self) -> None:
        self.sock.close()
        for sock in self.held:
            sock.close()


def alive(pid: int) -> bool:
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_killed_worker_group_leaves_no_process(tmp_path, start_up):
    waiting = WaitingChief()
    process = worker("--coordinator", waiting.address, "--world", "2", "--join-timeout", "600",
                     "--out", str(tmp_path / "rank1"))  # fmt: skip
    try:
        deadline = time.monotonic() + 10 * start_up
        children: set[int] = set()
        while not children and time.monotonic() < deadline:
            children = descendants(process.pid)
            time.sleep(0.05)
        assert children, "the worker started no training process"
        time.sleep(start_up / 4)  # into its imports and its join
        os.killpg(process.pid, signal.SIGKILL)  # `deepgui worker`'s group, not its child's
        process.wait()
        # Polled, at most 100 times a fortieth of the start-up allowance apart.
        for _ in range(100):
            if not any(alive(pid) for pid in children):
                break
            time.sleep(start_up / 40)
        left = {pid for pid in children if alive(pid)}
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, "the training process outlived its launcher"
    finally:
        waiting.close()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# ----------------------------------------------------------------------------- SIGTERM
@pytest.mark.slow
def test_sigterm_stops_training_like_ctrl_c_and_the_run_resumes(tmp_path):
    project = tmp_path / "moons_dense.dgproj"
    shutil.copy(examples_dir() / "moons_dense.dgproj", project)
    out = tmp_path / "run"
    command = [sys.executable, "-m", "deepgui.train_cli", str(project), "--epochs", "40",
               "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(command, env=ENV, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    state = out / "checkpoints" / "state.json"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None and not state.exists():
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    said = our_lines(stderr)[-1]
    assert said.startswith("Stopped by SIGTERM") and f"--out {out}" in said
    assert "stopped by: user" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    done = json.loads(state.read_text())["epochs_done"]
    assert metrics["stopped_by"] == "user" and 1 <= done == metrics["epochs_run"] < 40
    assert rundir.is_resumable(out)

    again = subprocess.run(command, env=ENV, cwd=ROOT, capture_output=True, text=True,
                           timeout=240)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert any(line.startswith("Resuming") for line in our_lines(again.stderr))
    assert json.loads((out / "metrics.json").read_text())["resumed_from_epoch"] == done
