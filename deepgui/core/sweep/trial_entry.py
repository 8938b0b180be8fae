"""A trial process: trials of a sweep, one after another, each trained as an ordinary Run
(parallel.LocalSlot starts it, and so does a rank of `deepgui worker` taking a sweep's trials).

python -m deepgui.core.sweep.trial_entry
    stdin: trials, each one JSON line ({"trial", "project", "project_path", "out", "epochs"}),
    and control words for the trial in flight (stop, pause, resume), one a line; stdin closing
    stops the trial in flight after its batch and ends the process (the sweep is over or went
    away). stdout: each run's events as JSON lines, as a training worker prints them
    (worker_process.py); a trial's last event is its `finished`.

One process trains trial after trial, as a sweep of one trial at a time does in its own
process: TensorFlow is imported, and the data loaded, once. Its environment names its share
of the cores (parallel.trial_environment): it pins itself to them and sizes TensorFlow's
thread pools to match before TensorFlow starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import sys
import threading

from deepgui.core.sweep.parallel import CPUS_ENV, THREADS_ENV


def keep_to_share() -> None:
    """This process's share of the cores, before any library starts its threads."""
    cpus = os.environ.get(CPUS_ENV)
    if cpus and hasattr(os, "sched_setaffinity"):
        # A share this machine does not have: the thread limits still hold.
        with contextlib.suppress(OSError, ValueError):
            os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    threads = int(os.environ.get(THREADS_ENV) or 0)
    if threads and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        from deepgui.core.keras_layers import quiet_backend_start

        quiet_backend_start()
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):  # started already: the environment's hold
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(2, threads))


class Trials:
    """What stdin brings: trials for the main thread, words for the trial in flight. Words
    that come before a trial's line belong to the trial before it, and are dropped."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.run = None
        self.stop = self.pause = False

    def read(self, lines) -> None:
        for line in lines:
            line = line.strip()
            if line.startswith("{"):
                with self.lock:
                    self.stop = self.pause = False
                self.queue.put(line)
            elif line in ("stop", "pause", "resume"):
                self.tell(line)
        self.tell("stop")
        self.queue.put(None)

    def tell(self, word: str) -> None:
        with self.lock:
            if word == "stop":
                self.stop = True
            elif word in ("pause", "resume"):
                self.pause = word == "pause"
            run = self.run
        if run is not None:
            {"stop": run.stop, "pause": run.pause, "resume": run.resume_training}[word]()

    def started(self, run) -> None:
        """The trial's run exists: the words it was sent before are handed to it."""
        with self.lock:
            self.run = run
            stop, pause = self.stop, self.pause
        if stop:
            run.stop()
        elif pause:
            run.pause()


def main() -> int:
    from deepgui.core.training.worker_process import _PipeListener

    out = sys.stdout
    sys.stdout = sys.stderr  # libraries' prints must not mix with the event stream
    listener = _PipeListener(out)
    trials = Trials()
    threading.Thread(target=trials.read, args=(sys.stdin,), name="stdin", daemon=True).start()
    keep_to_share()
    data: dict[str, object] = {}  # the data each dataset loaded to: the trials share it
    while True:
        line = trials.queue.get()
        if line is None:
            return 0
        try:
            train(json.loads(line), listener, trials, data)
        except Exception as exc:  # noqa: BLE001 - the trial fails with one sentence
            from deepgui.core.training.engine import describe_error

            listener.finished("error", {"stopped_by": "error", "message": describe_error(exc)})
        finally:
            with trials.lock:
                trials.run = None


def train(spec: dict, listener, trials: Trials, data: dict) -> None:
    from deepgui.core.training import handover
    from deepgui.core.training.run import Run, RunRequest

    project = handover.project_of(spec, f"trial {spec.get('trial')}'s project")
    # Trials differ in their layers' settings, never in their data (as in search.py).
    key = json.dumps([spec.get("project_path"), project.dataset], sort_keys=True, default=str)
    run = Run(project, RunRequest(out=spec["out"], epochs=int(spec["epochs"])), data=data.get(key))
    trials.started(run)
    run.execute(listener)
    if run.data is not None and not run.resume:
        data[key] = run.data


if __name__ == "__main__":
    code = main()
    # Every trial's files are written and its events flushed: leave without TensorFlow's
    # teardown (seconds), which only holds up the sweep's end.
    sys.stdout.flush()
    sys.__stdout__.flush()
    sys.stderr.flush()
    os._exit(code)
