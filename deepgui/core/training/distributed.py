"""Training on several machines: JAX processes joined by JAX's coordination service, trained
data-parallel through Keras's distribution API (`DataParallel`), one `model.fit` per rank.

Rank 0, the chief, listens on the address it is given and nowhere else (deepgui's gate, which
admits ranks and relays them to the coordination service on loopback: `Gate`), hands every rank
the project, settings and arrays (one blob through JAX's own collectives), and reports to the
app or the terminal. Every rank feeds its
slice of each global batch: the batch the single-process run would train on, cut in `world`
pieces (`rank_rows`, fed by feeds.JaxFeed), so the weights match a single-process run and every
rank ends with the same weights. Stop and pause are the chief's, broadcast to every rank every
few batches. What Keras offers is used (its `DataParallel`); what it has no equivalent for is
written by hand: the join and the hand-over here, the agreement on stop and pause in
callbacks.SyncControl.

A rank that dies is noticed by the others through the coordination service's heartbeat (or
at once, by a collective that fails); they end their run with a sentence, and the launcher of
each rank makes sure no process is left behind (worker_process.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import ipaddress
import json
import os
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepgui.core.errors import TrainingError

HEARTBEAT_SECONDS = 10
JOIN_SECONDS = 300
PAUSE_POLL_SECONDS = 0.25
SYNC_SECONDS = 0.1  # how often the ranks agree on stop and pause: a stop waits at most this
MAX_STEPS_BETWEEN_SYNCS = 1000


@dataclass(frozen=True)
class Cluster:
    """Where a rank finds the others: the chief's address, the number of ranks, this rank."""

    coordinator: str  # HOST:PORT of the chief's coordination service
    world: int
    rank: int = 0
    join_seconds: int = JOIN_SECONDS
    heartbeat_seconds: int = HEARTBEAT_SECONDS
    # "jax" (Keras's distribution API), or "tensorflow" for a model JAX cannot train
    # (MultiWorkerMirroredStrategy, mirrored.py). The chief's choice; the others learn it on joining.
    engine: str = "jax"

    @property
    def host(self) -> str:
        return self.coordinator.rsplit(":", 1)[0].strip("[]")

    @property
    def is_chief(self) -> bool:
        return self.rank == 0

    def command_for(self, rank: int) -> str:
        """What to type on the machine of `rank` to join this run."""
        return f"deepgui worker --coordinator {self.coordinator} --rank {rank} --world {self.world}"

    def to_dict(self) -> dict[str, Any]:
        return {"coordinator": self.coordinator, "world": self.world, "rank": self.rank,
                "join_seconds": self.join_seconds,
                "heartbeat_seconds": self.heartbeat_seconds, "engine": self.engine}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cluster:
        return cls(str(d["coordinator"]), int(d["world"]), int(d.get("rank", 0)),
                   int(d.get("join_seconds", JOIN_SECONDS)),
                   int(d.get("heartbeat_seconds", HEARTBEAT_SECONDS)),
                   str(d.get("engine", "jax")))  # fmt: skip


MAX_WORLD = 1024  # ranks of one run: far beyond a lab's machines, and refused before any wait
MAX_JOIN_SECONDS = 7 * 24 * 3600  # a week: what JAX's join timeout (an int of seconds) takes


def make_cluster(coordinator: str, world: int, rank: int = 0, *,
                 join_seconds: int = JOIN_SECONDS) -> Cluster:  # fmt: skip
    """A checked cluster description; TrainingError with one sentence for a bad value."""
    host, port = parse_coordinator(coordinator)
    if not 1 <= world <= MAX_WORLD:
        raise TrainingError(f"The number of ranks must be 1 or more and at most {MAX_WORLD}, "
                            f"not {world}.", setting="world")  # fmt: skip
    if not 0 <= rank < world:
        raise TrainingError(f"The rank must be between 0 and {world - 1} for {world} ranks, "
                            f"not {rank}.", setting="rank")  # fmt: skip
    if not 1 <= join_seconds <= MAX_JOIN_SECONDS:
        raise TrainingError(f"The join timeout must be between 1 and {MAX_JOIN_SECONDS} "
                            f"seconds, not {join_seconds}.", setting="join_seconds")  # fmt: skip
    return Cluster(f"{_bracketed(host)}:{port}", world, rank, join_seconds)


_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?")


def parse_coordinator(text: str) -> tuple[str, int]:
    """The host and port of a coordinator address, checked strictly (the one place that checks
    it): HOST:PORT with an IPv4 address, an IPv6 address (bracketed or not) or a host name of
    DNS's form, and a port 1-65535; nothing around it, not even a space. TrainingError with one
    sentence otherwise."""
    text = text if isinstance(text, str) else ""
    if any(c.isspace() or not c.isprintable() for c in text):
        raise TrainingError(f"The coordinator {text!r} holds a space or an unprintable "
                            "character: give HOST:PORT alone, such as 10.0.0.5:7477.",
                            setting="coordinator")  # fmt: skip
    host, sep, port = text.rpartition(":")
    bracketed = host.startswith("[") and host.endswith("]")
    host = host[1:-1] if bracketed else host
    if not sep or not host or not re.fullmatch(r"[0-9]{1,5}", port) or not 0 < int(port) < 65536:
        raise TrainingError(
            f"The coordinator must be HOST:PORT, such as 127.0.0.1:7477 or 10.0.0.5:7477, "
            f"not {text!r}.",
            setting="coordinator",
        )
    if host in ("0.0.0.0", "::", "*"):
        raise TrainingError(
            f"The coordinator {text}: give the address of one network interface of the chief "
            "(the run listens only there), not a wildcard.",
            setting="coordinator",
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (bracketed or address.version == 4 or ":" in host):
        return host, int(port)
    if bracketed or ":" in host:
        raise TrainingError(f"The coordinator's host {host!r} is not an IPv6 address.",
                            setting="coordinator")  # fmt: skip
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or any(len(label) > 63 for label in labels):  # DNS's limits
        raise TrainingError(f"The coordinator's host name {host[:24]}… is longer than a host "
                            "name can be (63 letters between dots, 253 in all).",
                            setting="coordinator")  # fmt: skip
    if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise TrainingError(f"The coordinator's host {host!r} is neither an IP address nor a "
                            "host name (letters, digits and hyphens between dots).",
                            setting="coordinator")  # fmt: skip
    return host, int(port)


def cluster_of(config, resume: bool = False) -> Cluster | None:
    """The cluster a run's settings ask for (training.ranks > 1), as rank 0; None: one machine."""
    if config.ranks <= 1:
        return None
    if resume:
        raise TrainingError(RESUME_REFUSED)
    return make_cluster(config.coordinator, config.ranks, 0)


# Every rank would have to start from the same checkpoint, which only the chief has.
RESUME_REFUSED = ("A run on several machines cannot be resumed; resume it on this machine "
                  "alone (training.ranks 1), or start a new run.")  # fmt: skip


def _bracketed(host: str) -> str:
    try:
        return f"[{host}]" if ipaddress.ip_address(host).version == 6 else host
    except ValueError:
        return host  # a host name


def local_address(host: str) -> str:
    """The address of this machine's interface that reaches `host`: where this rank's own
    collectives listen. Loopback stays loopback; nothing is sent (a UDP 'connect' only routes)."""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    try:
        family = socket.getaddrinfo(host, None)[0][0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((host, 9))
            return probe.getsockname()[0]
    except OSError as exc:
        raise TrainingError(f"The coordinator {host} cannot be reached from this machine "
                            f"({exc.strerror or exc}).") from None  # fmt: skip


# ----------------------------------------------------------------------------- in a JAX process
# Joining is written here rather than left to `keras.distribution.initialize`, which calls
# `jax.distributed.initialize` with neither a join timeout nor a heartbeat, leaves the
# coordination service and the collectives listening on every interface, imports Keras before
# the chief has said which backend the run takes, and lets gRPC's own errors through where a
# user needs one sentence (`_join_failure`).
def join(cluster: Cluster, deadline: float | None = None) -> Cluster:
    """Join the run (rank 0 opens the gate on its given address and starts the coordination
    service behind it) and learn the run's engine from the chief; blocks until all have joined
    or `deadline` (time.time(); default: `cluster.join_seconds` from now) passes. Returns the
    cluster with that engine. Keras is not imported here: the engine decides the backend it is
    imported with (`use_engine`)."""
    deadline = deadline if deadline is not None else time.time() + cluster.join_seconds
    if cluster.world > 1 and not cluster.is_chief:
        greet(cluster, deadline)  # sockets only: a chief that is not there is said at once
        # The chief is there: the ranks now wait for each other as long as the chief does.
        deadline = time.time() + cluster.join_seconds
    import jax  # JAX (seconds): imported when used

    if cluster.world > 1:
        # The coordination service listens on loopback only, behind deepgui's gate (Gate).
        service = Gate.open(cluster).service if cluster.is_chief else RankRelay(cluster).address
        os.environ["JAX_COORDINATOR_BIND_ADDRESS"] = service
        _collectives_listen_on(local_address(cluster.host))
        try:
            jax.distributed.initialize(
                service, cluster.world, cluster.rank,
                initialization_timeout=max(1, round(deadline - time.time())),
                heartbeat_timeout_seconds=cluster.heartbeat_seconds,
                shutdown_timeout_seconds=cluster.heartbeat_seconds,
            )  # fmt: skip
            cluster = _agree_on_engine(cluster)
        except TrainingError:
            raise
        except Exception as exc:  # noqa: BLE001 - JAX's errors name gRPC internals
            raise TrainingError(_join_failure(cluster, exc)) from None
    if cluster.engine == "tensorflow":
        # JAX only carries the ranks' small messages; the devices are TensorFlow's.
        jax.config.update("jax_platforms", "cpu")
    return cluster


# ----------------------------------------------------------------------------- the gate
# Why deepgui's own gate in front of JAX's coordination service rather than the service on the
# address the user gives: that service is XLA's gRPC server, written for a trusted cluster.
# Whatever reaches its port is parsed by gRPC and may register, report an error or shut the
# cluster down, and the service's answer to a fault is to end every process of the run (a
# stray connection to the chief's port ended a run with SIGABRT, issue 22). So HOST:PORT, the
# one address a user opens in a firewall, is the gate's: it reads one JSON line from each peer
# (a rank's hello: its rank, the run's number of ranks), closes any peer that sends anything
# else or nothing within HELLO_SECONDS, and relays the bytes of an admitted rank to the
# service, which listens on loopback only, on a port the system picks. On each rank, a relay on
# its own loopback says the hello for every connection the rank's JAX client opens. The
# collectives (Gloo) and TensorFlow's servers keep their own ports: they carry the training,
# once every rank has joined, and a stray connection does not end them.
HELLO_RANK, HELLO_CHIEF, GATE_VERSION = "deepgui-run-rank", "deepgui-run-chief", 1
HELLO_SECONDS = 10  # a peer that has not said hello by then is closed
MAX_HELLO = 4096  # bytes of a hello line
MAX_STRANGERS = 32  # peers that have not said hello yet, at once; more are closed at once
LOOPBACK = "127.0.0.1"


def _hello(rank: int, world: int, probe: bool = False, token: str | None = None) -> bytes:
    message = {"hello": HELLO_RANK, "version": GATE_VERSION, "rank": rank, "world": world,
               "probe": probe, "token": token}  # fmt: skip
    return (json.dumps(message) + "\n").encode()


def _read_line(sock: socket.socket) -> tuple[dict[str, Any] | None, bytes]:
    """One JSON object on a line (None: anything else, or the peer left) and the bytes after.
    The socket's timeout bounds the whole line, not each read: a peer that sends a byte now
    and then must not hold its place at the gate for hours."""
    data = b""
    budget = sock.gettimeout()
    deadline = None if budget is None else time.monotonic() + budget
    try:
        while b"\n" not in data and len(data) < MAX_HELLO:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, b""
                sock.settimeout(left)
            chunk = sock.recv(MAX_HELLO)
            if not chunk:
                return None, b""
            data += chunk
    except OSError:
        return None, b""
    line, newline, rest = data.partition(b"\n")
    if not newline:
        return None, b""
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, b""
    return (message if isinstance(message, dict) else None), rest


def _send_line(sock: socket.socket, message: dict[str, Any]) -> bool:
    try:
        sock.sendall((json.dumps(message) + "\n").encode())
        return True
    except OSError:
        return False


def _close(*socks: socket.socket | None) -> None:
    for sock in socks:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()


def _pipe(a: socket.socket, b: socket.socket, first: bytes = b"") -> None:
    """Carry bytes both ways until either side ends; then close both."""

    def copy(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(1 << 16):
                dst.sendall(data)
        except OSError:
            pass
        # Either side ending ends the connection: shutting both down wakes the other
        # direction's read, which would otherwise wait forever on a peer that lost its power.
        for sock in (dst, src):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    for sock in (a, b):
        with contextlib.suppress(OSError):
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        if first:
            b.sendall(first)
    except OSError:
        _close(a, b)
        return
    back = threading.Thread(target=copy, args=(b, a), daemon=True, name="relay")
    back.start()
    copy(a, b)
    back.join()
    _close(a, b)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family)


def _accepted(listener: socket.socket) -> socket.socket | None:
    """The next connection; None once `listener` is closed. A failure to accept one (out of
    file descriptors under a flood of connections) does not end the listening."""
    while True:
        try:
            return listener.accept()[0]
        except OSError:
            if listener.fileno() == -1:
                return None
            time.sleep(0.1)


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


_TAKEN = "rank {rank} has joined this run already, from another process: give each rank once."


class Gate:
    """The chief's listener on the coordinator's address (see above); lives as long as the
    process, in daemon threads."""

    opened: Gate | None = None  # this process's gate: one run per process

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        port = int(cluster.coordinator.rsplit(":", 1)[1])
        try:
            self.sock = _listen(cluster.host, port)
        except OSError as exc:
            raise TrainingError(
                f"The chief cannot listen on {cluster.coordinator} ({exc.strerror or exc}): "
                "the port is in use or the address is not this machine's; choose another "
                "coordinator address.",
                setting="coordinator",
            ) from None
        self.service = f"{LOOPBACK}:{_free_loopback_port()}"
        self.strangers = threading.BoundedSemaphore(MAX_STRANGERS)
        # Each rank's process, pinned by the token its relay sends: a second process claiming
        # a rank (a worker started twice, one left from an earlier run) would register a
        # second task with the service, which answers by ending the whole run.
        self.holders: dict[int, str] = {}
        self.holders_lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="gate").start()

    @classmethod
    def open(cls, cluster: Cluster) -> Gate:
        if cls.opened is None:
            cls.opened = cls(cluster)
        return cls.opened

    def _accept(self) -> None:
        while True:
            sock = _accepted(self.sock)
            if sock is None:
                return  # closed
            if not self.strangers.acquire(blocking=False):
                _close(sock)  # a flood of connections: the ranks' gRPC clients try again
                continue
            threading.Thread(target=self._admit, args=(sock,), daemon=True).start()

    def _admit(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(HELLO_SECONDS)
            hello, rest = _read_line(sock)
        finally:
            self.strangers.release()
        if hello is None:
            _close(sock)  # not a rank of deepgui: nothing of it reaches the service
            return
        refusal = self._refusal(hello)
        if refusal or hello.get("probe") is True:
            _send_line(sock, {"hello": HELLO_CHIEF, "version": GATE_VERSION,
                              "refused": refusal} if refusal else
                             {"hello": HELLO_CHIEF, "version": GATE_VERSION, "accepted": True})  # fmt: skip
            _close(sock)
            return
        service = self._reach_service()
        if service is None or not _send_line(sock, {"hello": HELLO_CHIEF, "accepted": True}):
            _close(sock, service)
            return
        _pipe(sock, service, rest)

    def _refusal(self, hello: dict[str, Any]) -> str | None:
        world, rank = self.cluster.world, hello.get("rank")
        if hello.get("hello") != HELLO_RANK:
            return f"{self.cluster.coordinator} is the chief of a run, not of a sweep."
        if hello.get("version") != GATE_VERSION:
            return "this rank's deepgui differs from the chief's: install the chief's version."
        if hello.get("world") != world:
            return f"the run has {world} ranks, not {hello.get('world')}: give --world {world}."
        if not isinstance(rank, int) or isinstance(rank, bool) or not 0 < rank < world:
            return f"rank {rank} is not one of 1 to {world - 1}."
        token = hello.get("token")
        with self.holders_lock:
            holder = self.holders.get(rank)
            if hello.get("probe") is True:
                return _TAKEN.format(rank=rank) if holder is not None else None
            if not isinstance(token, str) or not token:
                return "this rank's deepgui differs from the chief's: install the chief's version."
            if holder is not None and holder != token:
                return _TAKEN.format(rank=rank)
            self.holders[rank] = token
        return None

    def _reach_service(self) -> socket.socket | None:
        """A connection to the coordination service, which may be starting still."""
        host, port = self.service.rsplit(":", 1)
        for _ in range(100):
            try:
                return socket.create_connection((host, int(port)), timeout=HELLO_SECONDS)
            except OSError:
                time.sleep(0.1)
        return None


def greet(cluster: Cluster, deadline: float) -> None:
    """A rank's first word with the chief's gate: returns once the chief has accepted it;
    TrainingError when the chief refuses it, or none answers by `deadline` (time.time())."""
    port = int(cluster.coordinator.rsplit(":", 1)[1])
    while True:
        left = deadline - time.time()
        answer = None
        if left > 0:
            try:
                with socket.create_connection((cluster.host, port),
                                              timeout=min(HELLO_SECONDS, left)) as sock:  # fmt: skip
                    sock.settimeout(max(0.1, min(HELLO_SECONDS, deadline - time.time())))
                    sock.sendall(_hello(cluster.rank, cluster.world, probe=True))
                    answer, _ = _read_line(sock)
            except OSError:
                pass
        if isinstance(answer, dict) and answer.get("hello") == HELLO_CHIEF:
            if answer.get("refused"):
                raise TrainingError(f"The chief at {cluster.coordinator} refused this rank: "
                                    f"{answer['refused']}")  # fmt: skip
            return
        if time.time() >= deadline:
            raise TrainingError(
                f"No chief answered at {cluster.coordinator} within {cluster.join_seconds} s: "
                "start the training there first, and check that the port is open."
            )
        time.sleep(min(0.5, max(0.0, deadline - time.time())))


class RankRelay:
    """A rank's end of the gate: listens on this machine's loopback; every connection the
    rank's JAX client opens there is carried to the chief's gate, after the hello."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.sock = _listen(LOOPBACK, 0)
        self.address = f"{LOOPBACK}:{self.sock.getsockname()[1]}"
        self.token = secrets.token_hex(16)  # this process's claim on its rank, at the gate
        threading.Thread(target=self._accept, daemon=True, name="relay").start()

    def _accept(self) -> None:
        while True:
            sock = _accepted(self.sock)
            if sock is None:
                return  # closed
            threading.Thread(target=self._carry, args=(sock,), daemon=True).start()

    def _carry(self, local: socket.socket) -> None:
        cluster = self.cluster
        port = int(cluster.coordinator.rsplit(":", 1)[1])
        chief = None
        try:
            chief = socket.create_connection((cluster.host, port), timeout=HELLO_SECONDS)
            chief.sendall(_hello(cluster.rank, cluster.world, token=self.token))
            answer, rest = _read_line(chief)
        except OSError:
            _close(local, chief)  # the client tries again, until its join timeout
            return
        if not isinstance(answer, dict) or not answer.get("accepted"):
            _close(local, chief)
            return
        if rest:
            with contextlib.suppress(OSError):
                local.sendall(rest)
        _pipe(local, chief)


def use_engine(cluster: Cluster) -> None:
    """After `join`, before Keras is imported: the backend of the cluster's engine. Its
    data-parallel path (Keras's distribution over every rank's devices, or TensorFlow's
    strategy) is the rank's feed (feeds.of_cluster)."""
    os.environ["KERAS_BACKEND"] = "tensorflow" if cluster.engine == "tensorflow" else "jax"


ENGINE_KEY = "deepgui/engine"


def coordination_client():
    """JAX's client of the run's coordination service: its key-value store is how the ranks
    tell each other small things before any collective can run."""
    from jax._src import distributed as jax_distributed  # JAX (seconds): imported when used

    return jax_distributed.global_state.client


def _agree_on_engine(cluster: Cluster) -> Cluster:
    client = coordination_client()
    if cluster.is_chief:
        client.key_value_set(ENGINE_KEY, cluster.engine)
        return cluster
    engine = client.blocking_key_value_get(ENGINE_KEY, cluster.join_seconds * 1000)
    if engine not in ("jax", "tensorflow"):
        raise TrainingError(f"The chief at {cluster.coordinator} asked for the engine "
                            f"{engine!r}, which this version of deepgui does not have; "
                            "install the chief's version here.")  # fmt: skip
    return dataclasses.replace(cluster, engine=engine)


def _collectives_listen_on(address: str) -> None:
    """JAX's CPU collectives (Gloo) listen on the address the host name resolves to, which may
    be every interface's; give them this rank's address instead."""
    from jax._src import xla_bridge  # JAX (seconds): imported when used

    make = xla_bridge._jax.make_gloo_tcp_collectives
    if not isinstance(make, functools.partial):
        xla_bridge._jax.make_gloo_tcp_collectives = functools.partial(make, hostname=address)


def _join_failure(cluster: Cluster, exc: BaseException) -> str:
    text = str(exc)
    if "DEADLINE_EXCEEDED" in text or "timed out" in text.lower() or "timeout" in text.lower():
        if cluster.is_chief:
            others = "; ".join(cluster.command_for(r) for r in range(1, cluster.world))
            return (f"Not every worker joined at {cluster.coordinator} within "
                    f"{cluster.join_seconds} s: start them with: {others}.")  # fmt: skip
        return (f"No chief answered at {cluster.coordinator} within {cluster.join_seconds} s: "
                "start the training there first, and check that the port is open.")  # fmt: skip
    first = text.strip().splitlines()[0][:200] if text.strip() else type(exc).__name__
    return f"Joining the run at {cluster.coordinator} failed: {first}."


def share(blob: bytes | None) -> bytes:
    """The chief's bytes, on every rank (the others pass None): through JAX's collectives, as
    raw bytes so that no dtype is narrowed on the way."""
    from jax.experimental import multihost_utils  # JAX (seconds): imported when used

    size = np.array([len(blob) if blob is not None else 0], dtype=np.int32)
    size = int(np.asarray(multihost_utils.broadcast_one_to_all(size))[0])
    # int32 lengths: the hand-over is at most 2 GB, said in a sentence before it is tried.
    buffer = np.frombuffer(blob, dtype=np.uint8) if blob is not None else np.zeros(size, np.uint8)
    out = multihost_utils.broadcast_one_to_all(buffer)
    return np.asarray(out, dtype=np.uint8).tobytes()


def broadcast_flags(values: list[int]) -> list[int]:
    """The chief's small integers on every rank (one collective)."""
    from jax.experimental import multihost_utils  # JAX (seconds): imported when used

    out = multihost_utils.broadcast_one_to_all(np.asarray(values, dtype=np.int32))
    return [int(v) for v in np.asarray(out)]


# ----------------------------------------------------------------------------- the ranks' rows
def global_steps(n: int, global_batch: int) -> int:
    """Full global batches only: every rank must feed the same number of rows per step."""
    return max(1, n // global_batch)


def permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """Epoch `epoch`'s order of the training rows, the same on every rank."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def rank_rows(order: np.ndarray, step: int, batch: int, rank: int, world: int,
              multiple: int = 1) -> np.ndarray:  # fmt: skip
    """The rows of global batch `step` that `rank` feeds: its piece of the batch cut in `world`
    equal pieces (a short last batch is cut in equal pieces too, its remainder dropped), each
    a multiple of the rank's device count, which split it again."""
    rows = order[step * batch : (step + 1) * batch]
    piece = len(rows) // world
    piece -= piece % multiple
    return rows[rank * piece : (rank + 1) * piece]
