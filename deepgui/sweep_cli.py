"""`deepgui sweep PROJECT --vary NAME=SPEC [--vary ...] [--trials N] [--algorithm A] [--objective METRIC] [--minutes M] [--data PATH --target COL] [--epochs N] [--patience N] [--parallel K|auto] [--workers W --coordinator HOST:PORT] [--out DIR] [--apply]`

Searches for better settings without a window: KerasTuner proposes values, each trial trains
as an ordinary run (one run folder per trial under DIR), DIR/trials.csv gathers them, and the
best trial is printed; --apply writes its values into PROJECT (the earlier file kept as
PROJECT.bak). Run again with the same --out, a stopped or killed sweep resumes. --patience N
stops each trial after N epochs without its objective improving. --parallel runs
K trials at once on this machine, each in its own process (auto: as many as the cores and
memory allow); --workers W --coordinator HOST:PORT lets the ranks of `deepgui worker` on other
machines take trials too, one at a time each (this machine is rank 0).
Exit status: 0 done (at least one trial completed); 2 bad input, one sentence on stderr; 1 no
trial completed, or trials kept failing; 130 interrupted (resumable).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import TextIO

from deepgui.cli_stop import StopOnSignal
from deepgui.cli_words import Parser, sentence, whole_number
from deepgui.core.errors import DeepGuiError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="the project file (.dgproj)")
    parser.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="what to vary: NAME is LAYER.PARAM (hidden.units) or training.FIELD "
        "(training.learning_rate); SPEC is choices a,b,c or a range LO..HI, :log for a log "
        "scale; repeat for several (default: what the project marks)",
    )
    parser.add_argument("--trials", type=int, help="at most N trials (default 10)")
    parser.add_argument(
        "--algorithm",
        choices=("random", "bayesian", "hyperband"),
        default="random",
        help="KerasTuner's search (default random)",
    )
    parser.add_argument(
        "--objective",
        default="val_loss",
        metavar="METRIC",
        help="the metric to seek, such as val_accuracy; :min or :max when its name does not "
        "say (default val_loss)",
    )
    parser.add_argument(
        "--minutes", type=float, help="start no trial and stop the current one after M minutes"
    )
    parser.add_argument("--data", help="train on this CSV, image folder or .npz instead")
    parser.add_argument("--target", metavar="COL[,COL…]", help="the CSV column(s) to predict")
    parser.add_argument(
        "--epochs", type=whole_number, help="epochs per trial (overrides the project)"
    )
    parser.add_argument(
        "--patience",
        type=int,
        metavar="N",
        help="early stopping per trial: a trial ends after N epochs without its objective "
        "improving (default: the project's own early stopping)",
    )
    parser.add_argument(
        "--parallel",
        type=_parallel,
        default=1,
        metavar="K",
        help="trials at once on this machine, each in its own process, or auto: as many as "
        "its cores and memory allow (default 1)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="W",
        help="ranks taking trials, this machine included: start `deepgui worker "
        "--coordinator HOST:PORT --rank N --world W` on the others",
    )
    parser.add_argument(
        "--coordinator",
        metavar="HOST:PORT",
        help="the address of this machine the ranks reach (with --workers)",
    )
    parser.add_argument(
        "--join-timeout",
        type=int,
        default=300,
        metavar="S",
        help="seconds to wait for the ranks to join (default 300)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="the sweep folder (default NAME.sweeps/<timestamp>/ beside the project); the "
        "folder of a stopped sweep resumes it",
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="write the best trial's values into PROJECT (the earlier file kept as PROJECT.bak)",
    )


def _parallel(text: str) -> int | str:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number or auto, not {text!r}") from None


def _error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


def run(args: argparse.Namespace) -> int:
    """Carry out `deepgui sweep` for parsed arguments; returns the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # NumPy and the core: not for --help
    from deepgui.core import limits
    from deepgui.core.data.spec import parse_targets
    from deepgui.core.keras_loader import quiet_backend_start
    from deepgui.core.project import load_project
    from deepgui.core.sweep.search import Sweep, SweepRequest

    try:
        if args.epochs is not None and limits.epochs_refusal(args.epochs):
            # Said at once, as train says it, before the project or Keras loads.
            refusal = limits.epochs_refusal(args.epochs)
            raise DeepGuiError(f"The number of epochs {refusal}", setting="epochs")
        request = SweepRequest(
            vary=tuple(args.vary),
            out=args.out,
            trials=args.trials,
            algorithm=args.algorithm,
            objective=args.objective,
            minutes=args.minutes,
            epochs=args.epochs,
            patience=args.patience,
            data=args.data,
            target=parse_targets(args.target) if args.target else None,
            parallel=args.parallel,
            workers=args.workers,
            coordinator=args.coordinator,
            join_seconds=args.join_timeout,
        )
        # The project first: one too big (limits.py) is refused before Keras's seconds of
        # import.
        project = load_project(args.project)
        quiet_backend_start()
        sweep = Sweep(project, request).plan()
    except DeepGuiError as exc:
        _error(sentence(exc))
        return EXIT_BAD_INPUT
    try:
        return _sweep(sweep, args)
    except DeepGuiError as exc:
        _error(sentence(exc))
        return EXIT_BAD_INPUT
    finally:
        sweep.release()


def _sweep(sweep, args) -> int:
    from deepgui.core.sweep import apply  # NumPy and the core: not for --help

    interrupt = StopOnSignal(
        sweep.stop,
        lambda _: "\nStopping the trials after their batch (Ctrl+C again to quit at once)…\n",
    )
    sys.stderr.write(f"Sweep folder: {sweep.folder}\n")
    if sweep.request.parallel != 1:
        sys.stderr.write(f"Trials at once on this machine: {sweep.parallel()}\n")
    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        outcome = sweep.run(TrialPrinter(sys.stdout, sys.stderr, sweep))
    finally:
        signal.signal(signal.SIGINT, previous)
    interrupt.settle()
    out = sys.stdout
    out.write(f"trials: {outcome.folder / 'trials.csv'}\n")
    best = outcome.best
    if best is not None:
        out.write(f"best: {best.describe(sweep.objective)} ({best.run_dir})\n")
    if outcome.reason == "stopped":
        sys.stderr.write(f"Stopped; run the same command with --out {outcome.folder} to resume.\n")
        return EXIT_INTERRUPTED
    if outcome.reason == "time":
        sys.stderr.write("The time budget is spent.\n")
    if outcome.reason == "failed":
        _error(outcome.message)
    if best is None:
        if outcome.reason != "failed":
            _error("no trial completed, so there is no best trial.")
        return EXIT_FAILED
    if args.apply:
        project = apply.apply_to_file(args.project, best.values, f"Apply trial {best.number}")
        if project is None:
            out.write(f"{args.project} holds trial {best.number}'s values already.\n")
        else:
            out.write(f"Wrote trial {best.number}'s values into {args.project} (the earlier "
                      f"file is {apply.backup_path(args.project)}).\n")  # fmt: skip
    return EXIT_FAILED if outcome.reason == "failed" else EXIT_OK


class TrialPrinter:
    """The sweep's listener for a terminal: a line per trial on stdout as it ends; on a TTY,
    the current trial's epoch on stderr."""

    def __init__(self, out: TextIO, err: TextIO, sweep) -> None:
        self.out, self.err, self.sweep = out, err, sweep
        self.started: dict[int, float] = {}  # trial -> when it started (several run at once)
        self.epochs: dict[int, int] = {}

    def trial_started(self, trial, epochs: int) -> None:
        self.started[trial.number] = time.perf_counter()
        self.epochs[trial.number] = epochs

    def trial_finished(self, trial) -> None:
        seconds = time.perf_counter() - self.started.pop(trial.number, time.perf_counter())
        where = f" on rank {trial.rank}" if trial.rank else ""
        self.out.write(f"{trial.describe(self.sweep.objective)} ({seconds:.1f} s{where})\n")
        self.out.flush()

    def training(self, trial):
        # NumPy and the core: not for --help
        from deepgui.core.training.engine import TrainingListener

        err, objective = self.err, self.sweep.objective
        epochs = self.epochs.get(trial.number, 0)
        tty = bool(getattr(err, "isatty", lambda: False)())

        class EpochLine(TrainingListener):
            def epoch_ended(self, epoch, logs):
                if tty:
                    value = logs.get(objective)
                    shown = f" {objective} {value:.4f}" if isinstance(value, float) else ""
                    err.write(f"\rtrial {trial.number}: epoch {epoch}/{epochs}{shown}\x1b[K")
                    err.flush()

            def finished(self, reason, metrics):
                if tty:
                    err.write("\r\x1b[K")
                    err.flush()

        return EpochLine()

    def waiting(self, text: str) -> None:
        self.err.write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="deepgui sweep", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
