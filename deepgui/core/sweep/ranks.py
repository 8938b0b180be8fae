"""A sweep's trials on several machines (the chief's end: RankServer, RankSlot; a rank's:
join_sweep, serve): the ranks of `deepgui worker` take trials from the chief (`deepgui sweep ... --workers W --coordinator HOST:PORT`), one at a time each; every
trial trains on one rank as an ordinary Run in that rank's own folder, and its end, metrics and
history go back to the chief, which records them in its oracle and trials.csv.

Why a small channel of its own (JSON lines over one TCP connection per rank, on the
coordinator's address) rather than JAX's coordination service, which joins the ranks of a run:
that service ends every process of the cluster when one rank stops answering its heartbeat,
the chief included, so a rank that went away would take the sweep and its oracle with it. A
sweep should lose only that rank's trial, and hand it to another rank. The same `deepgui
worker` command joins either: it says hello on the coordinator's address, and a sweep's chief
answers with a JSON line; a run's chief (JAX's gRPC service) does not, and the rank joins the
run as before.

The channel listens only on the address given (never a wildcard), carries JSON and nothing
that is executed (the project is read as a project file is, the data by the rank's own
loader), and, like the run's coordination service, has no password: for trusted networks.

A rank reads the trial's data where the chief names it: a built-in set anywhere; a file at the
same path (a shared folder, or the same layout on every machine). It keeps each trial's run
folder (the model too) under its --out; the chief keeps the trial's history and metrics.
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

from deepgui.core import fileio, run_layout
from deepgui.core.errors import TrainingError
from deepgui.core.sweep.parallel import LocalSlot, Slot

HELLO_RANK, HELLO_CHIEF, VERSION = "deepgui-sweep-rank", "deepgui-sweep-chief", 1
HELLO_SECONDS = 10  # a connection that says nothing in this time is not a rank (or a chief)
MAX_LINE = 1 << 26  # one message: a project, or a trial's history
RUN_FILES = (run_layout.HISTORY, run_layout.METRICS, run_layout.PROJECT)


class ChannelError(Exception):
    """The other end broke the protocol (a line too long, or not JSON)."""


class Channel:
    """JSON objects, one a line, over a connected socket; send may be called from any thread."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._reader = sock.makefile("rb")
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> bool:
        """False when the other end is gone."""
        data = (json.dumps(message, default=str) + "\n").encode("utf-8")
        with self._lock:
            try:
                self.sock.sendall(data)
                return True
            except OSError:
                return False

    def receive(self) -> dict[str, Any] | None:
        """The next message; None when the other end has closed."""
        try:
            line = self._reader.readline(MAX_LINE)
        except (OSError, ValueError):
            return None
        if not line:
            return None
        if not line.endswith(b"\n"):
            raise ChannelError("a message longer than the channel carries")
        try:
            message = json.loads(line)
        except ValueError:
            raise ChannelError("a message that is not JSON") from None
        if not isinstance(message, dict):
            raise ChannelError("a message that is not a JSON object")
        return message

    def close(self) -> None:
        for close in (self._reader.close, lambda: self.sock.shutdown(socket.SHUT_RDWR),
                      self.sock.close):  # fmt: skip
            with contextlib.suppress(OSError):
                close()


# ----------------------------------------------------------------------------- the chief
class RankServer:
    """The chief's end: listens on the coordinator's address, lets ranks 1..W-1 join."""

    def __init__(self, cluster) -> None:
        self.cluster = cluster
        host, port = cluster.host, int(cluster.coordinator.rsplit(":", 1)[1])
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
            self.sock = socket.create_server((host, port), family=family)
        except OSError as exc:
            raise TrainingError(
                f"The chief cannot listen on {cluster.coordinator} ({exc.strerror or exc}): the "
                "port is in use or the address is not this machine's; choose another "
                "coordinator address.",
                setting="coordinator",
            ) from None
        self.channels: dict[int, Channel] = {}

    def wait_for_ranks(self, should_stop=lambda: False) -> dict[int, Channel]:
        """Every other rank's channel, once all have joined; TrainingError with the commands
        to type when they have not within the cluster's join time."""
        cluster = self.cluster
        deadline = time.monotonic() + cluster.join_seconds
        self.sock.settimeout(0.5)
        while len(self.channels) < cluster.world - 1:
            if should_stop():
                return self.channels
            if time.monotonic() > deadline:
                missing = [r for r in range(1, cluster.world) if r not in self.channels]
                commands = "; ".join(cluster.command_for(r) for r in missing)
                raise TrainingError(
                    f"Not every rank joined the sweep at {cluster.coordinator} within "
                    f"{cluster.join_seconds} s: start them with: {commands}.",
                    setting="workers",
                )
            try:
                sock, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                continue
            self._greet(sock)
        return self.channels

    def _greet(self, sock: socket.socket) -> None:
        sock.settimeout(HELLO_SECONDS)
        channel = Channel(sock)
        try:
            hello = channel.receive()
        except (ChannelError, OSError):
            hello = None
        if not isinstance(hello, dict) or hello.get("hello") != HELLO_RANK:
            channel.close()  # not a rank of ours
            return
        rank, world = hello.get("rank"), hello.get("world")
        refusal = None
        if world != self.cluster.world:
            refusal = (f"the sweep at {self.cluster.coordinator} has {self.cluster.world} ranks, "
                       f"not {world}: give --world {self.cluster.world}.")  # fmt: skip
        elif not isinstance(rank, int) or not 0 < rank < self.cluster.world:
            refusal = f"rank {rank} is not one of 1 to {self.cluster.world - 1}."
        elif rank in self.channels:
            refusal = f"rank {rank} has joined already; give another --rank."
        if refusal:
            channel.send({"hello": HELLO_CHIEF, "version": VERSION, "refused": refusal})
            channel.close()
            return
        sock.settimeout(None)
        channel.send({"hello": HELLO_CHIEF, "version": VERSION, "accepted": True})
        self.channels[rank] = channel

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


# ----------------------------------------------------------------------------- a rank
def join_sweep(cluster) -> Channel | None:
    """The channel to the chief when it runs a sweep; None when it runs something else (a run
    on several machines, whose JAX service does not answer in JSON). Waits for the chief to
    listen up to the cluster's join time; TrainingError when it never does, or refuses."""
    port = int(cluster.coordinator.rsplit(":", 1)[1])
    deadline = time.monotonic() + cluster.join_seconds
    while True:
        try:
            # Never past the join timeout, even when a port takes the connection and is silent.
            left = min(HELLO_SECONDS, max(0.1, deadline - time.monotonic()))
            sock = socket.create_connection((cluster.host, port), timeout=left)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise TrainingError(
                    f"No chief answered at {cluster.coordinator} within {cluster.join_seconds} "
                    "s: start the sweep or the training there first, and check that the port "
                    "is open."
                ) from None
            time.sleep(0.5)
    channel = Channel(sock)
    if not channel.send({"hello": HELLO_RANK, "version": VERSION, "rank": cluster.rank,
                         "world": cluster.world}):  # fmt: skip
        channel.close()
        return None
    try:
        first = sock.recv(1, socket.MSG_PEEK)
    except OSError:
        first = b""
    if first != b"{":
        channel.close()
        return None
    try:
        answer = channel.receive()
    except (ChannelError, OSError):
        answer = None
    if not isinstance(answer, dict) or answer.get("hello") != HELLO_CHIEF:
        channel.close()
        return None
    if answer.get("refused"):
        channel.close()
        raise TrainingError(f"The sweep's chief refused this rank: {answer['refused']}")
    sock.settimeout(None)
    return channel


def serve(channel: Channel, rank: int, out: Path, device: str = "auto", report=None) -> str:
    """Train the trials the chief hands this rank, one at a time, until it says done ("done")
    or goes away ("gone"). `report(text)` hears a line per trial. Leaves nothing running."""
    report = report or (lambda text: None)
    slot = LocalSlot(f"rank-{rank}", None, None, device=device, rank=rank)
    events: queue.Queue = queue.Queue()
    orders: queue.Queue = queue.Queue()

    def listen() -> None:
        while True:
            try:
                message = channel.receive()
            except ChannelError:
                message = None
            orders.put(message)
            if message is None or message.get("done"):
                return

    threading.Thread(target=listen, name="chief", daemon=True).start()
    ended = "gone"
    try:
        while True:
            message = orders.get()
            if message is None or message.get("done"):
                ended = "gone" if message is None else "done"
                return ended
            trial = message.get("trial")
            if isinstance(trial, dict):
                ended = _train_trial(trial, slot, out, channel, events, orders, report)
                if ended:
                    return ended
    finally:
        if ended != "done":  # interrupted, or the chief went away: now
            slot.kill()
        slot.close()


def _train_trial(trial: dict[str, Any], slot, out: Path, channel: Channel, events: queue.Queue,
                 orders: queue.Queue, report) -> str:  # fmt: skip
    """One trial, its events relayed to the chief; "" when it is over and the chief waits for
    the next, "done" or "gone" when the chief said it is done or went away meanwhile."""
    number = int(trial.get("trial") or 0)
    folder = _fresh_folder(out, number)
    report(f"trial {number}: training into {folder}")
    slot.start({**trial, "out": str(folder)}, events)
    ended = ""
    while True:
        # Orders from the chief (stop, pause, resume) while the trial trains.
        while not orders.empty():
            order = orders.get()
            if order is None or order.get("done"):
                ended = ended or ("gone" if order is None else "done")
                slot.control("stop")
            elif order.get("control") in ("stop", "pause", "resume"):
                slot.control(order["control"])
        try:
            _, event = events.get(timeout=0.2)
        except queue.Empty:
            continue
        if event["event"] != "ended":
            if event["event"] != "batch_ended":  # the chief shows epochs, not every batch
                channel.send(event)
            continue
        files = {}
        for name in RUN_FILES:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                files[name] = (folder / name).read_text(encoding="utf-8")
        metrics_kept = _with_rank(files, number, folder, trial)
        if metrics_kept:
            files[run_layout.METRICS] = metrics_kept
        sent = channel.send({**event, "files": files, "run_dir": str(folder)})
        report(f"trial {number}: {event.get('reason')}"
               + (f" ({event['message']})" if event.get("message") else ""))  # fmt: skip
        return ended or ("" if sent else "gone")


def _with_rank(files: dict[str, str], number: int, folder: Path, trial: dict) -> str | None:
    """metrics.json as the chief keeps it: with the rank and where the run's folder is."""
    text = files.get(run_layout.METRICS)
    if not text:
        return None
    try:
        metrics = json.loads(text)
    except ValueError:
        return None
    metrics["rank"] = trial.get("rank")
    metrics["rank_run_dir"] = str(folder.resolve())
    return json.dumps(metrics, indent=1) + "\n"


def _fresh_folder(out: Path, number: int) -> Path:
    """trial_NNN under this rank's folder; trial_NNN-2... when a trial comes back (another
    rank's trial handed on): each is trained from its start."""
    base = out / f"trial_{number:03d}"
    folder, i = base, 2
    while folder.exists():
        folder, i = base.with_name(f"{base.name}-{i}"), i + 1
    return folder


class RankSlot(Slot):
    """A rank of `deepgui worker` that joined the sweep (ranks.py): it trains each trial it is
    handed in its own run folder and sends back the events, the end and the run's small files
    (history, metrics), which are written into the trial's folder here."""

    def __init__(self, rank: int, channel) -> None:
        self.rank = rank
        self.tuner_id = f"deepgui-rank-{rank}"
        self.channel = channel
        self._out: Path | None = None
        self._events: queue.Queue | None = None
        self._lock = threading.Lock()
        self._busy = False

    def listen(self, events: queue.Queue) -> None:
        """Relay what the rank says into `events` until it goes away."""
        self._events = events
        threading.Thread(target=self._pump, daemon=True, name=f"rank {self.rank}").start()

    def start(self, spec: dict[str, Any], events: queue.Queue) -> None:
        with self._lock:
            self._out, self._busy = Path(spec["out"]), True
        handed = {**{k: v for k, v in spec.items() if k != "out"}, "rank": self.rank}
        if not self.channel.send({"trial": handed}):
            self._gone()

    def _pump(self) -> None:
        while True:
            try:
                message = self.channel.receive()
            except ChannelError:
                message = None
            if message is None:
                self._gone()
                return
            event = message.get("event")
            if not isinstance(event, str):
                continue
            if event == "ended":
                # A trial stopped part-way starts again from its beginning when the sweep
                # resumes (its checkpoints are on the rank): nothing of it is kept here.
                stopped = message.get("reason") == "user"
                self._keep_files(None if stopped else message.get("files"))
                with self._lock:
                    self._busy = False
                message = {"event": "ended", "reason": str(message.get("reason", "error")),
                           "message": str(message.get("message") or "")}  # fmt: skip
            self._events.put((self, message))

    def _keep_files(self, files: Any) -> None:
        """The rank's run's small files, in the trial's folder on this machine (what the
        table, resume and a comparison of runs read); the model stays on the rank."""
        if self._out is None:
            return
        shutil.rmtree(self._out, ignore_errors=True)  # a partial run of this trial, if any
        if not isinstance(files, dict):
            return
        self._out.mkdir(parents=True, exist_ok=True)
        for name in RUN_FILES:
            if isinstance(files.get(name), str):
                fileio.atomic_write_text(self._out / name, files[name])

    def _gone(self) -> None:
        with self._lock:
            if not self.alive:
                return
            self.alive = False
            busy, self._busy = self._busy, False
        if self._events is not None:
            sentence = f"Rank {self.rank} went away (its process, machine or network stopped)."
            event = {"event": "ended", "reason": "lost", "message": sentence}
            self._events.put((self, event if busy else {"event": "gone", "message": sentence}))

    def control(self, word: str) -> None:
        self.channel.send({"control": word})

    def kill(self) -> None:
        self.channel.send({"control": "stop"})

    def close(self) -> None:
        self.channel.send({"done": True})
        self.channel.close()
