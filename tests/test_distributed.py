"""Runs on several machines, tried on one: real JAX ranks on 127.0.0.1 joined through the
coordination service. Both ranks end with bit-identical weights that match a single-process
run, the chief receives every batch's event, nothing listens beyond loopback, and a rank that
dies ends the run with a sentence, leaving no process behind."""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from deepgui import cli_words
from deepgui.core.data import load_dataset
from deepgui.core.errors import TrainingError
from deepgui.core.training import TrainingConfig, distributed, engines
from tests.helpers import selected_tests, side_by_side
from tests.machine import within
from tests.test_engines import Events, iris_project

pytest.importorskip("jax")

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- fast: the rules
def test_a_bad_cluster_is_one_sentence():
    for coordinator, world, rank, words in [
        ("localhost", 2, 0, "HOST:PORT"),
        ("127.0.0.1:99999", 2, 0, "HOST:PORT"),
        ("0.0.0.0:7477", 2, 0, "not a wildcard"),
        ("127.0.0.1:7477", 0, 0, "number of ranks must be 1 or more"),
        ("127.0.0.1:7477", 2, 2, "rank must be between 0 and 1"),
    ]:
        with pytest.raises(TrainingError, match=words) as refused:
            distributed.make_cluster(coordinator, world, rank)
        # The core names the setting; the command line names its flag.
        assert "--" not in str(refused.value)
        assert cli_words.sentence(refused.value).endswith(
            f"({cli_words.FLAGS[refused.value.setting]})."
        )
    cluster = distributed.make_cluster("::1:7477", 3, 1)
    assert cluster.coordinator == "[::1]:7477" and cluster.host == "::1"
    assert cluster.command_for(2) == "deepgui worker --coordinator [::1]:7477 --rank 2 --world 3"


def test_the_ranks_slices_are_the_single_process_batches_cut_in_pieces():
    order = distributed.permutation(103, seed=7, epoch=2)
    assert np.array_equal(order, distributed.permutation(103, seed=7, epoch=2))
    assert not np.array_equal(order, distributed.permutation(103, seed=7, epoch=3))
    for step in range(distributed.global_steps(103, 32)):
        pieces = [distributed.rank_rows(order, step, 32, r, 4) for r in range(4)]
        assert np.array_equal(np.concatenate(pieces), order[step * 32 : (step + 1) * 32])
    assert distributed.global_steps(103, 32) == 3  # full global batches only


def test_loopback_reaches_loopback():
    assert distributed.local_address("127.0.0.1") == "127.0.0.1"


# ----------------------------------------------------------------------------- slow: real ranks
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_rank(coordinator: str, rank: int, world: int, out: Path) -> subprocess.Popen:
    """`deepgui worker` as a user starts it on another machine."""
    command = [sys.executable, "-m", "deepgui", "worker", "--coordinator", coordinator,
               "--rank", str(rank), "--world", str(world), "--out", str(out),
               "--join-timeout", "120"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def socket_addresses(pids: set[int]) -> set[str]:
    """The local addresses of every TCP socket the processes hold (listening or connected)."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    out = set()
    for table, width in (("tcp", 8), ("tcp6", 32)):
        try:
            lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[9] in inodes:
                out.add(_address(fields[1].split(":")[0], width))
    return out


def _address(hexa: str, width: int) -> str:
    raw = bytes.fromhex(hexa)
    if width == 8:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def is_loopback(address: str) -> bool:
    return address in ("127.0.0.1", "::1", "::ffff:127.0.0.1")


def chief(tmp_path: Path, world: int, epochs: int, name: str, engine: str = "jax",
          test_split: float = 0.0):  # fmt: skip
    project = iris_project(tmp_path, epochs=epochs)
    if test_split:
        project.dataset["test_split"] = test_split
    data = load_dataset(project.dataset, graph=project.graph)
    config = TrainingConfig.from_dict(project.training)
    cluster = distributed.make_cluster(f"127.0.0.1:{free_port()}", world, 0, join_seconds=120)
    cluster = dataclasses.replace(cluster, engine=engine)
    events = Events()
    engine = engines.make_engine("jax", project, data, config, events,
                                 dataset_spec=project.dataset, run_dir=tmp_path / name,
                                 cluster=cluster)  # fmt: skip
    return engine, events, cluster


def network_weights(path: Path) -> dict[str, list[np.ndarray]]:
    """Weights by layer name, looking inside the preprocessing wrapper the chief adds."""
    import keras

    out: dict[str, list[np.ndarray]] = {}

    def visit(model):
        for layer in model.layers:
            if isinstance(layer, keras.Model):
                visit(layer)
            elif layer.weights and layer.name.startswith("dense"):
                out[layer.name] = [np.asarray(w) for w in layer.get_weights()]

    visit(keras.saving.load_model(path, safe_mode=True))
    return out


def assert_ranks_agree(chief_run: Path, rank_run: Path) -> dict[str, list[np.ndarray]]:
    """Both ranks' saved networks hold bit-identical weights; the chief's, by layer name."""
    chief_w = network_weights(chief_run / "model.keras")
    rank_w = network_weights(rank_run / "model.keras")
    assert chief_w.keys() == rank_w.keys() and chief_w
    for name in chief_w:
        for a, b in zip(chief_w[name], rank_w[name], strict=True):
            assert np.array_equal(a, b), f"{name} differs between the ranks"
    return chief_w


def two_ranks_run(folder: Path) -> SimpleNamespace:
    """Two JAX ranks on loopback train the iris project for 3 epochs, with the address of every
    socket of every process of the run, gathered while it runs."""
    engine, events, cluster = chief(folder, world=2, epochs=3, name="chief")
    results: list = []
    thread = threading.Thread(target=lambda: results.append(engine.run()))
    thread.start()
    rank = start_rank(cluster.coordinator, 1, 2, folder / "rank1")
    addresses: set[str] = set()
    while thread.is_alive():  # every socket of every process of the run, while it runs
        pids = {rank.pid} | descendants(rank.pid)
        if engine.process is not None:
            pids.add(engine.process.pid)
        addresses |= socket_addresses(pids)
        time.sleep(0.2)
    thread.join()
    _, err = rank.communicate(timeout=60)
    return SimpleNamespace(engine=engine, events=events, result=results[0], rank=rank, err=err,
                           addresses=addresses, folder=folder)  # fmt: skip


def single_run(folder: Path) -> SimpleNamespace:
    """The same run as two_ranks_run's on one rank."""
    single, _, _ = chief(folder, world=1, epochs=3, name="single")
    return SimpleNamespace(result=single.run(), folder=folder)


def data_parallel_run(folder: Path) -> SimpleNamespace:
    """The JAX engine on two CPU devices of this machine (training.device "cpu:0,cpu:1")."""
    project = iris_project(folder, epochs=2)
    project.training["device"] = "cpu:0,cpu:1"
    data = load_dataset(project.dataset, graph=project.graph)
    config = TrainingConfig.from_dict(project.training)
    events = Events()
    engine = engines.make_engine("jax", project, data, config, events,
                                 dataset_spec=project.dataset, run_dir=folder / "run")  # fmt: skip
    return SimpleNamespace(result=engine.run(), events=events)


def tensorflow_ranks_run(folder: Path) -> SimpleNamespace:
    """Two TensorFlow ranks (the chief's engine says so) train the iris project for 2 epochs,
    with a test split."""
    engine, events, cluster = chief(folder, world=2, epochs=2, name="chief",
                                    engine="tensorflow", test_split=0.1)  # fmt: skip
    results: list = []
    thread = threading.Thread(target=lambda: results.append(engine.run()))
    thread.start()
    rank = start_rank(cluster.coordinator, 1, 2, folder / "rank1")
    thread.join(180)
    _, err = rank.communicate(timeout=60)
    return SimpleNamespace(engine=engine, events=events, result=results[0], rank=rank, err=err,
                           folder=folder)  # fmt: skip


# The runs each test reads.
READS = {
    "test_two_ranks_on_loopback_train_as_one": ("two_ranks", "single"),
    "test_the_jax_engine_trains_data_parallel_over_several_devices_of_one_machine": (
        "data_parallel",
    ),
    "test_tensorflow_ranks_train_a_model_as_one_and_the_chief_tests_it": ("tensorflow_ranks",),
}
MAKERS = {"two_ranks": two_ranks_run, "single": single_run, "data_parallel": data_parallel_run,
          "tensorflow_ranks": tensorflow_ranks_run}  # fmt: skip


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> dict:
    """The runs the selected tests read, made side by side (helpers.side_by_side): their
    processes share the cores rather than take turns. The tests that time a stop, a pause or a
    rank's death make their own runs, after these, on a quiet machine. Each run's Future."""
    wanted = {run for item in selected_tests(request) for run in READS.get(item.originalname, ())}
    return side_by_side(
        {run: functools.partial(MAKERS[run], tmp_path_factory.mktemp(run)) for run in wanted}
    )


@pytest.mark.slow
def test_two_ranks_on_loopback_train_as_one(runs):
    ran = runs["two_ranks"].result()
    engine, events, result, rank, err, addresses = (
        ran.engine, ran.events, ran.result, ran.rank, ran.err, ran.addresses
    )  # fmt: skip
    assert result.reason == "completed", result.metrics.get("message")
    assert rank.returncode == 0, err[-2000:]
    assert addresses and all(is_loopback(a) for a in addresses), addresses
    # Per-batch events reach the chief: 112 training rows, global batch 16, 3 epochs.
    assert events.epochs == [1, 2, 3] and events.batches == 3 * 7
    chief_w = assert_ranks_agree(ran.folder / "chief", ran.folder / "rank1")

    # Every rank's folder holds the model that takes the raw columns, and they agree.
    import keras

    data = load_dataset(engine.project.dataset, graph=engine.project.graph)
    chief_model = keras.saving.load_model(ran.folder / "chief" / "model.keras")
    rank_model = keras.saving.load_model(ran.folder / "rank1" / "model.keras")
    np.testing.assert_array_equal(chief_model.predict(data.raw_val, verbose=0),
                                  rank_model.predict(data.raw_val, verbose=0))  # fmt: skip

    # The same run on one rank: the same global batches, so the same weights (to rounding).
    single = runs["single"].result()
    assert single.result.reason == "completed"
    single_w = network_weights(single.folder / "single" / "model.keras")
    for name in chief_w:
        for a, b in zip(chief_w[name], single_w[name], strict=True):
            np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.slow
def test_a_rank_that_dies_ends_the_run_with_a_sentence_and_nothing_is_left(tmp_path):
    engine, events, cluster = chief(tmp_path, world=2, epochs=2000, name="chief")
    results: list = []
    thread = threading.Thread(target=lambda: results.append(engine.run()))
    thread.start()
    rank = start_rank(cluster.coordinator, 1, 2, tmp_path / "rank1")
    assert events.first_epoch.wait(120)
    trainer = descendants(rank.pid)
    assert trainer
    for pid in trainer:
        os.kill(pid, signal.SIGKILL)  # the rank's training process dies (its machine, say)
    killed = time.perf_counter()
    thread.join(60)
    assert not thread.is_alive()
    waited = time.perf_counter() - killed
    result = results[0]
    assert result.reason == "error"
    message = result.metrics["message"]
    assert "Another rank of the run stopped" in message and "\n" not in message
    assert waited < 40
    _, err = rank.communicate(timeout=30)
    assert rank.returncode == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: ")
    assert engine.process.poll() is not None
    time.sleep(0.5)
    for pid in trainer | {engine.process.pid}:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    # The chief's last finished epoch is kept, to resume from (on one machine).
    assert (tmp_path / "chief" / "checkpoints" / "state.json").is_file()


class Paused(Events):
    def __init__(self) -> None:
        super().__init__()
        self.pauses = threading.Event()
        self.resumes = threading.Event()

    def paused(self):
        self.pauses.set()

    def resumed(self):
        self.resumes.set()


@pytest.mark.slow
def test_pause_and_stop_on_the_chief_reach_every_rank(tmp_path):
    engine, _, cluster = chief(tmp_path, world=2, epochs=2000, name="chief")
    events = engine.listener = Paused()
    results: list = []
    thread = threading.Thread(target=lambda: results.append(engine.run()))
    thread.start()
    rank = start_rank(cluster.coordinator, 1, 2, tmp_path / "rank1")
    assert events.first_epoch.wait(120)
    engine.pause()
    assert events.pauses.wait(5)
    held = events.batches
    time.sleep(1.5)
    assert events.batches == held  # no rank trains while the chief is paused
    engine.resume()
    assert events.resumes.wait(5)
    deadline = time.perf_counter() + 10
    while events.batches == held and time.perf_counter() < deadline:
        time.sleep(0.05)
    assert events.batches > held
    asked = time.perf_counter()
    engine.stop()
    thread.join(30)
    assert time.perf_counter() - asked < within(3.0)
    assert results[0].reason == "user"
    out, err = rank.communicate(timeout=30)
    assert rank.returncode == 0, err[-2000:]
    assert "stopped by: user" in out


@pytest.mark.slow
def test_the_jax_engine_trains_data_parallel_over_several_devices_of_one_machine(runs):
    """training.device "gpus" (or a list) makes one JAX process train over every device it
    names; two CPU devices stand in for two GPUs here."""
    ran = runs["data_parallel"].result()
    result, events = ran.result, ran.events
    assert result.reason == "completed", result.metrics.get("message")
    assert result.metrics["device"] == "2 devices (cpu)"
    assert events.epochs == [1, 2] and events.batches == 2 * 7  # full global batches of 16


@pytest.mark.slow
def test_tensorflow_ranks_train_a_model_as_one_and_the_chief_tests_it(runs):
    """The engine for a model JAX cannot train (or --engine tensorflow): TensorFlow's
    MultiWorkerMirroredStrategy over the same ranks, joined, handed over and watched as the
    JAX ranks are. Both ranks end with the same weights, every batch reaches the chief, and
    the test split (which no rank evaluates: it would be one more collective) is tested on
    the chief's saved model."""
    ran = runs["tensorflow_ranks"].result()
    engine, events, result, rank, err = ran.engine, ran.events, ran.result, ran.rank, ran.err
    assert result.reason == "completed", result.metrics.get("message")
    assert rank.returncode == 0, err[-2000:]
    assert "MultiWorkerMirroredStrategy over 2 ranks" in result.metrics["device"]
    assert result.metrics["engine"] == "tensorflow"
    # 101 training rows at a global batch of 16: 6 whole batches an epoch.
    assert events.epochs == [1, 2] and events.batches == 2 * 6
    assert set(result.metrics["test"]) >= {"loss", "accuracy"}
    assert_ranks_agree(ran.folder / "chief", ran.folder / "rank1")
    import keras

    data = load_dataset(engine.project.dataset, graph=engine.project.graph)
    model = keras.saving.load_model(ran.folder / "chief" / "model.keras")
    assert model.predict(data.raw_test, verbose=0).shape == (len(data.y_test), 3)


def test_several_machines_train_with_jax_unless_asked_otherwise(tmp_path):
    project = iris_project(tmp_path)
    data = load_dataset(project.dataset, graph=project.graph)
    config = TrainingConfig.from_dict(project.training)
    cluster = distributed.make_cluster("127.0.0.1:7477", 2)
    asked, note = engines.resolve_cluster("tensorflow", project, data, config, cluster)
    assert asked.engine == "tensorflow" and "trusted network" in note
    assert asked.to_dict()["engine"] == "tensorflow"
    assert distributed.Cluster.from_dict(asked.to_dict()) == asked
