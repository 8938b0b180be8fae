"""Where a sweep's trials run when several run at once: slots, each taking one trial at a time.

    LocalSlot  a trial process on this machine (`python -m deepgui.core.sweep.trial_entry`),
               supervised as WorkerEngine supervises a training worker: trials and control
               words on its stdin, JSON-lines events on its stdout, its process group ended
               with the sweep; it trains one trial after another (imports and data once)
    RankSlot   a rank of `deepgui worker` on another machine, one trial at a time (ranks.py)

Every slot reports into one queue as (slot, event): the trial's progress events, then one
`ended` event ({"reason", "message"}), after which the slot is free. The sweep's thread alone
talks to KerasTuner's oracle (search.py); the slots only carry trials.

How many trials at once on one machine (`auto`): as many as leave each trial the cores and
memory it trains at full speed with. A trial of the models deepgui trains on a CPU gains
little from a second core (its steps are small; TensorFlow's per-step overhead is
single-threaded), so each gets CORES_PER_TRIAL cores, and a trial process with TensorFlow
loaded holds about MEMORY_PER_TRIAL of memory: auto = min(cores // CORES_PER_TRIAL,
available memory // MEMORY_PER_TRIAL), at least 1, at most the trials left. Each trial
process is kept to its share of the cores (pinned to its own cores where the processor has
enough, TensorFlow's thread pools sized to match), so K trials share the machine fairly.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from typing import Any

from deepgui.core.training.worker_process import (
    crash_sentence,
    end_process,
    kill_group,
    parse_event,
)

CORES_PER_TRIAL = 1
MEMORY_PER_TRIAL = 1.5 * 2**30  # bytes: Python, TensorFlow and a small model's run
CPUS_ENV = "DEEPGUI_TRIAL_CPUS"  # the cores a trial process pins itself to (trial_entry.py)
THREADS_ENV = "DEEPGUI_TRIAL_THREADS"  # TensorFlow's threads in a trial process
TRIAL_GRACE_SECONDS = 10.0  # a trial that has reported its end may take this long to leave


# ----------------------------------------------------------------------------- how many at once
def usable_cores() -> list[int]:
    """The cores this process may run on (a container or taskset may allow fewer than exist)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def available_memory() -> int | None:
    """Bytes of memory available to new processes (Linux's MemAvailable); None: unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def auto_parallel(trials_left: int | None = None) -> int:
    """The number of trials `--parallel auto` runs at once on this machine (module doc)."""
    count = len(usable_cores()) // CORES_PER_TRIAL
    memory = available_memory()
    if memory is not None:
        count = min(count, int(memory // MEMORY_PER_TRIAL))
    if trials_left is not None:
        count = min(count, trials_left)
    return max(1, count)


def core_shares(cores: list[int], k: int) -> list[list[int] | None]:
    """The cores each of k trial processes is pinned to: equal disjoint shares when there are
    at least k cores; None (no pinning, one thread each) when there are fewer."""
    if k <= 1 or len(cores) < k:
        return [None] * k
    share = len(cores) // k
    return [cores[i * share : (i + 1) * share] for i in range(k)]


def trial_environment(cpus: list[int] | None, threads: int | None, device: str = "auto"):
    """A trial process's environment: TensorFlow's backend (the run chooses its engine and
    starts its own JAX worker when that is faster), its share of the cores, and a GPU it
    shares with the other trials without taking all its memory up front."""
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2",
           "TF_FORCE_GPU_ALLOW_GROWTH": "true"}  # fmt: skip
    env.pop(CPUS_ENV, None)
    env.pop(THREADS_ENV, None)
    if cpus:
        env[CPUS_ENV] = ",".join(map(str, cpus))
    if threads:
        env[THREADS_ENV] = str(threads)
        # OpenMP (oneDNN) and a JAX worker the run may start follow the same share.
        env["OMP_NUM_THREADS"] = str(threads)
        env["TF_NUM_INTRAOP_THREADS"] = str(threads)
        env["TF_NUM_INTEROP_THREADS"] = str(min(2, threads))
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
        env["JAX_PLATFORMS"] = "cpu"
    elif device.startswith("gpu:"):
        env["CUDA_VISIBLE_DEVICES"] = ",".join(p.strip()[4:] for p in device.split(","))
    return env


def local_slots(k: int, rank: int | None = None) -> list[LocalSlot]:
    """k slots on this machine, each with its share of the cores."""
    cores = usable_cores()
    shares = core_shares(cores, k)
    threads = max(1, len(cores) // k)
    names = ["deepgui"] + [f"deepgui-{i + 1}" for i in range(1, k)]  # the first as one at a time
    return [LocalSlot(names[i], shares[i], threads, rank=rank) for i in range(k)]


# ----------------------------------------------------------------------------- the slots
class Slot:
    """One place a trial runs; `tuner_id` is its name with KerasTuner's oracle."""

    tuner_id: str
    rank: int | None = None  # the rank it runs on (None: a sweep without ranks)
    alive = True  # False once a rank has gone away: it takes no more trials

    def start(self, spec: dict[str, Any], events: queue.Queue) -> None:
        raise NotImplementedError

    def control(self, word: str) -> None:
        """stop, pause or resume the trial in flight."""

    def kill(self) -> None:
        """End the trial in flight now, with every process it started."""

    def close(self) -> None:
        """The sweep is over."""


class LocalSlot(Slot):
    """Trials on this machine, one at a time, in a process of its own that trains trial after
    trial: TensorFlow is imported and the data loaded once per slot, not once per trial (on a
    small model that is most of a trial's time). A process that dies is replaced for the next
    trial."""

    def __init__(self, tuner_id: str, cpus: list[int] | None = None, threads: int | None = None,
                 device: str = "auto", rank: int | None = None) -> None:  # fmt: skip
        self.tuner_id, self.cpus, self.threads, self.device = tuner_id, cpus, threads, device
        self.rank = rank
        self.process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._events: queue.Queue | None = None
        self._in_flight = False  # a trial handed over whose end is not reported yet

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, spec: dict[str, Any], events: queue.Queue) -> None:
        with self._lock:
            self._events = events
            self._in_flight = True
            if self.process is None or self.process.poll() is not None:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "deepgui.core.sweep.trial_entry"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True, bufsize=1, start_new_session=True,
                    env=trial_environment(self.cpus, self.threads, self.device),
                )  # fmt: skip
                threading.Thread(target=self._pump, args=(self.process,), daemon=True,
                                 name=f"trials of {self.tuner_id}").start()  # fmt: skip
            process = self.process
        self._write(process, json.dumps(spec))

    def _pump(self, process: subprocess.Popen) -> None:
        """Relay the process's events; each trial's `finished` ends it, and a process that
        leaves with a trial unfinished ends that trial with why."""
        errors: list[str] = []
        drain = threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True)
        drain.start()
        for line in process.stdout:
            event = parse_event(line)
            if event is None:
                continue
            self._events.put((self, event))
            if event["event"] == "finished":
                metrics = event.get("metrics") or {}
                with self._lock:
                    self._in_flight = False
                self._events.put((self, {"event": "ended", "reason": event.get("reason", "error"),
                                         "message": str(metrics.get("message") or "")}))  # fmt: skip
        code = end_process(process, TRIAL_GRACE_SECONDS)
        drain.join(5)
        with self._lock:
            lost, self._in_flight = self._in_flight, False
        if lost:
            sentence = crash_sentence(code, errors)
            self._events.put((self, {"event": "ended", "reason": "error", "message": sentence}))

    def _write(self, process: subprocess.Popen, line: str) -> None:
        with self._lock:
            if process.poll() is not None:
                return
            try:
                process.stdin.write(line + "\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the process is gone; _pump reports how it ended

    def control(self, word: str) -> None:
        if self.process is not None:
            self._write(self.process, word)

    def kill(self) -> None:
        """End the process now, with every process it started (its JAX worker)."""
        if self.process is not None:
            kill_group(self.process)

    def close(self) -> None:
        """No more trials: the process leaves when its stdin closes (or is ended)."""
        process = self.process
        if process is None:
            return
        with self._lock, contextlib.suppress(OSError, ValueError):
            process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=TRIAL_GRACE_SECONDS)
        self.kill()  # anything it left in its group, or itself when it lingers
