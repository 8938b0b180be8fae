"""`deepgui worker --coordinator HOST:PORT --rank N --world W [--out DIR] [--device D]`

One rank of a run on several machines. The chief (`deepgui train PROJECT --workers W
--coordinator HOST:PORT`, or the app) hands this rank the project, settings and data when all
ranks have joined; this rank trains its slice of every batch and saves the same model into its
own run folder. The chief decides the engine: JAX, or TensorFlow for a model JAX cannot train
(then this rank's TensorFlow server also listens, on every interface, on port PORT+1+rank: for
trusted networks only). The training runs in a child process that this command supervises:
when the run ends, or another rank dies, or Ctrl+C is pressed, or this command is killed,
nothing is left running.
When the chief runs a sweep (`deepgui sweep ... --workers W --coordinator HOST:PORT`), this
rank takes trials instead, one at a time, each an ordinary run in a folder of its own under
--out, until the sweep ends (core/sweep/ranks.py).
Exit status: 0 the run completed or was stopped, 1 it failed, 2 bad input, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from deepgui.cli_words import sentence
from deepgui.core.errors import DeepGuiError
from deepgui.train_cli import ProgressPrinter

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--coordinator", required=True,
                        help="HOST:PORT the chief listens on (its --coordinator)")  # fmt: skip
    parser.add_argument("--rank", type=int, required=True, help="this rank, 1 to W-1")
    parser.add_argument("--world", type=int, required=True, help="the number of ranks, W")
    parser.add_argument("--out", help="this rank's run folder (default: deepgui-rankN-TIME)")
    parser.add_argument("--device", default="auto",
                        help="auto, cpu, gpu:N or gpus: the devices this rank trains on")  # fmt: skip
    parser.add_argument("--join-timeout", type=int, default=300,
                        help="seconds to wait for the chief (default 300)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    # NumPy and the core: not for --help
    from deepgui.core.sweep.ranks import join_sweep
    from deepgui.core.training import distributed
    from deepgui.core.training.devices import check_device_spec
    from deepgui.core.training.worker_process import device_problem

    deadline = time.time() + max(args.join_timeout, 0)  # the join timeout holds from the start
    try:
        cluster = distributed.make_cluster(args.coordinator, args.world, args.rank,
                                           join_seconds=args.join_timeout)  # fmt: skip
        if cluster.is_chief:
            raise DeepGuiError(
                "rank 0 is the chief: start it with deepgui train PROJECT --workers "
                f"{cluster.world} --coordinator {cluster.coordinator} (or from the app)."
            )
        problem = check_device_spec(args.device) or device_problem(args.device)
        if problem:
            raise DeepGuiError(f"--device {problem}")
        out = Path(args.out or f"deepgui-rank{cluster.rank}-{time.strftime('%Y%m%d-%H%M%S')}")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise DeepGuiError(f"{out}: already exists and is not an empty folder; "
                               "give another --out.")  # fmt: skip
        distributed.local_address(cluster.host)  # says so now when the chief is unreachable
    except DeepGuiError as exc:
        sys.stderr.write(f"error: {sentence(exc)}\n")
        return EXIT_BAD_INPUT
    sys.stderr.write(f"Rank {cluster.rank} of {cluster.world}: joining the run at "
                     f"{cluster.coordinator}; this rank saves into {out}.\n")  # fmt: skip
    try:
        channel = join_sweep(cluster)  # None: the chief trains a run, not a sweep
        if channel is None:
            distributed.greet(cluster, deadline)  # the run's chief, before a process starts
    except DeepGuiError as exc:
        sys.stderr.write(f"error: {sentence(exc)}\n")
        return EXIT_FAILED
    if channel is not None:
        return take_trials(channel, cluster, out, args.device)
    return supervise(cluster, out, args.device, deadline)


def take_trials(channel, cluster, out: Path, device: str) -> int:
    """This rank's part in a sweep: the chief's trials, one at a time, until it is done."""
    sys.stderr.write(f"The chief runs a sweep: this rank takes its trials into {out}.\n")
    out.mkdir(parents=True, exist_ok=True)

    def report(text: str) -> None:
        sys.stderr.write(f"rank {cluster.rank}: {text}\n")
        sys.stderr.flush()

    from deepgui.core.sweep.ranks import serve  # NumPy and the core: not for --help

    try:
        ended = serve(channel, cluster.rank, out, device, report)
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted: this rank has left the sweep; its trial goes to another "
                         "rank.\n")  # fmt: skip
        return EXIT_INTERRUPTED
    finally:
        channel.close()
    if ended == "gone":
        sys.stderr.write("error: the sweep's chief went away before the sweep ended.\n")
        return EXIT_FAILED
    sys.stdout.write(f"The sweep is over; this rank's trials are in {out}.\n")
    return EXIT_OK


def supervise(cluster, out: Path, device: str, deadline: float) -> int:
    """Start the rank's training process, print its progress, end it with the run. The
    process dies with this one (worker_process.die_with_parent)."""
    # NumPy and the core: not for --help
    from deepgui.core.training.worker_process import (
        child_environment,
        crash_sentence,
        end_process,
        grace_seconds,
        parse_event,
        relay_progress,
        worker_environment,
    )

    command = [sys.executable, "-m", "deepgui.core.training.worker_entry", "--rank",
               cluster.coordinator, str(cluster.rank), str(cluster.world), str(out),
               str(cluster.join_seconds), repr(deadline)]  # fmt: skip
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=child_environment(worker_environment("jax", device)), bufsize=1,
        start_new_session=True,
    )  # fmt: skip
    errors: list[str] = []
    drain = threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True)
    drain.start()
    interrupted = False

    def leave(*_):
        nonlocal interrupted
        interrupted = True
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.5)

    previous = {s: signal.signal(s, leave) for s in (signal.SIGINT, signal.SIGTERM)}
    printer = ProgressPrinter(sys.stderr)
    outcome = None
    try:
        for line in process.stdout:
            event = parse_event(line)
            if event is None:
                continue
            if event["event"] == "finished":
                outcome = (event["reason"], event["metrics"])
            elif event["event"] != "overfitting":  # the chief reports it, with its remedies
                relay_progress(event, printer)
        code = end_process(process, grace_seconds(cluster))
    finally:
        printer.close()  # leaving mid-epoch: the bar must not stay on the terminal
        for s, handler in previous.items():
            signal.signal(s, handler)
    drain.join(5)
    if interrupted:
        sys.stderr.write("Interrupted: this rank has left the run; the others end too.\n")
        return EXIT_INTERRUPTED
    if outcome is None:
        sys.stderr.write(f"error: {crash_sentence(code, errors)}\n")
        return EXIT_FAILED
    reason, metrics = outcome
    if reason in ("error", "nan_loss"):
        # NumPy and the core: not for --help
        from deepgui.core.training.worker_process import cluster_sentence

        message = cluster_sentence(metrics.get("message", "training failed."), errors)
        sys.stderr.write(f"error: {message}\n")
        return EXIT_FAILED
    n = metrics.get("epochs_run", 0)
    sys.stdout.write(f"run directory: {out}\nstopped by: {reason}, after {n} "
                     f"epoch{'s' * (n != 1)}\n")  # fmt: skip
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deepgui worker", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
