"""Training on several machines: JAX processes joined by JAX's coordination service, trained
data-parallel through Keras's distribution API (`DataParallel`), one `model.fit` per rank.

Rank 0, the chief, runs the coordination service on the address it is given and nowhere else,
hands every rank the project, settings and arrays (one blob through JAX's own collectives, so
no second listener is opened), and reports to the app or the terminal. Every rank feeds its
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

import dataclasses
import functools
import ipaddress
import os
import socket
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


def make_cluster(coordinator: str, world: int, rank: int = 0, *,
                 join_seconds: int = JOIN_SECONDS) -> Cluster:  # fmt: skip
    """A checked cluster description; TrainingError with one sentence for a bad value."""
    text = (coordinator or "").strip()
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TrainingError(
            f"The coordinator must be HOST:PORT, such as 127.0.0.1:7477 or 10.0.0.5:7477, "
            f"not {coordinator!r}.",
            setting="coordinator",
        )
    if host in ("0.0.0.0", "::", "*"):
        raise TrainingError(
            f"The coordinator {text}: give the address of one network interface of the chief "
            "(the run listens only there), not a wildcard.",
            setting="coordinator",
        )
    if world < 1:
        raise TrainingError(f"The number of ranks must be 1 or more, not {world}.", setting="world")
    if not 0 <= rank < world:
        raise TrainingError(f"The rank must be between 0 and {world - 1} for {world} ranks, "
                            f"not {rank}.", setting="rank")  # fmt: skip
    if join_seconds < 1:
        raise TrainingError(f"the join timeout must be at least 1 second, not {join_seconds}.")
    return Cluster(f"{_bracketed(host)}:{int(port)}", world, rank, join_seconds)


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
def join(cluster: Cluster) -> Cluster:
    """Join the run (rank 0 starts the coordination service, bound to its given address only)
    and learn the run's engine from the chief; blocks until all have joined or
    `cluster.join_seconds` pass. Returns the cluster with that engine. Keras is not imported
    here: the engine decides the backend it is imported with (`use_engine`)."""
    import jax  # JAX (seconds): imported when used

    if cluster.world > 1:
        # The coordination service of rank 0 would otherwise listen on every interface.
        os.environ["JAX_COORDINATOR_BIND_ADDRESS"] = cluster.coordinator
        _collectives_listen_on(local_address(cluster.host))
        try:
            jax.distributed.initialize(
                cluster.coordinator, cluster.world, cluster.rank,
                initialization_timeout=cluster.join_seconds,
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
    if cluster.is_chief and ("address already in use" in text.lower() or "bind" in text.lower()):
        return (f"The chief cannot listen on {cluster.coordinator}: the port is in use or the "
                "address is not this machine's; choose another coordinator address.")  # fmt: skip
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
