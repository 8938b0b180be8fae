"""`deepgui train PROJECT [--data PATH] [--target COL[,COL…]] [--epochs N] [--batch-size N] [--out RUN_DIR]`

Trains without a window: a progress bar with ETA and samples/s on stderr, overfitting warnings
as they happen, and the run directory (shared/DESIGN.md). When --out names a run that was killed
part-way, training resumes from its last finished epoch with the settings it started with.
Exit status: 0 completed or stopped early; 2 bad input (a missing file, a wrong column, a bad
option, data whose shape the model's Inputs do not take), one sentence on stderr; 1 a failure
of training itself (an error, NaN loss, a full disk); 130 interrupted (Ctrl+C), 143 stopped by
SIGTERM: both after the batch in flight, keeping the last finished epoch's checkpoint.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from deepgui.cli_stop import StopOnSignal
from deepgui.cli_words import Parser, sentence, whole_number
from deepgui.core.errors import DeepGuiError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_TERMINATED = 143  # stopped by SIGTERM (128 + 15, as a shell reports a process it ended)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="the project file (.dgproj)")
    parser.add_argument("--data", help="train on this CSV, image folder or .npz instead")
    parser.add_argument(
        "--target",
        metavar="COL[,COL…]",
        help="the CSV column to predict; several, separated by commas, each feed the model "
        "output named after them",
    )
    parser.add_argument(
        "--epochs", type=whole_number, help="number of epochs (overrides the project)"
    )
    parser.add_argument("--batch-size", type=int, help="batch size (overrides the project)")
    parser.add_argument(
        "--engine",
        choices=("auto", "tensorflow", "xla", "jax"),
        help="what trains it: auto (the fastest, measured once per model and machine), "
        "tensorflow, xla (TensorFlow with XLA) or jax (in a worker process)",
    )
    parser.add_argument(
        "--out", help="the run directory (default: NAME.runs/<timestamp>/ beside the project)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="train on W ranks (this one and W-1 started with deepgui worker), with JAX",
    )
    parser.add_argument(
        "--coordinator",
        help="HOST:PORT this machine listens on for the other ranks (with --workers)",
    )
    parser.add_argument(
        "--join-timeout", type=int, default=300, help="seconds to wait for the other ranks"
    )
    parser.add_argument(
        "--missing",
        choices=("fill", "drop", "refuse"),
        help="missing values in a CSV: fill them inside the model (default), drop their rows, "
        "or refuse the file",
    )


def _fmt_time(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def _fmt_logs(logs: dict[str, Any]) -> str:
    # A learning rate is often below 1e-4 (fine-tuning's 1e-5): in significant digits, or it
    # would read 0.0000.
    return " ".join(f"{k} {v:.4g}" if k in ("learning_rate", "lr") else f"{k} {v:.4f}"
                    for k, v in sorted(logs.items()) if isinstance(v, float))  # fmt: skip


class ProgressPrinter:
    """The engine's listener for a terminal: rich's live bar on a TTY, a line per epoch otherwise.

    The bar shows the epoch's batches, the ETA of the whole run and the epoch's samples/s; it
    lives only while an epoch's batches are drawn, so every other line (the epoch's summary, an
    overfitting warning, a note) is plain text that logs and pipes read the same as on a TTY.
    Rich draws it (Keras already depends on rich); the figures are ours, because rich's own
    remaining-time column knows only the epoch, not the epochs after it.
    """

    def __init__(self, stream: TextIO, interval: float = 0.1) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval = interval
        self.steps = 1
        self.epochs = 1
        self.epoch = 0
        self.batch_size = 1
        self.done_batches = 0  # in this session, for the ETA
        self.t_start = 0.0
        self.t_epoch = 0.0
        self.t_drawn = 0.0
        self.remaining_batches = 0
        self._bar = None  # rich's Progress while an epoch's bar is on screen
        self._task = None

    def _write(self, text: str) -> None:
        if self._bar is not None:  # above the bar, which rich redraws below it
            self._bar.console.print(
                text.rstrip("\n"), markup=False, highlight=False, soft_wrap=True
            )
            return
        self.stream.write(text)
        self.stream.flush()

    def _show_bar(self, fields: dict[str, Any]) -> None:
        # rich: only a terminal's bar needs it
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        console = Console(file=self.stream, force_terminal=True, highlight=False)
        self._bar = Progress(
            TextColumn("Epoch {task.fields[epoch]}/{task.fields[epochs]}", markup=False),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("ETA {task.fields[eta]}", markup=False),
            TextColumn("{task.fields[rate]} samples/s{task.fields[loss]}", markup=False),
            console=console,
            auto_refresh=False,  # drawn from batch_ended, at most every `interval` seconds
            transient=True,  # the epoch's summary line takes its place
            # Ctrl+C's "Stopping…" line (written to sys.stderr) goes above the bar, not into it.
            redirect_stdout=False,
            redirect_stderr=self.stream is sys.stderr,
        )
        self._task = self._bar.add_task("", total=self.steps, epochs=self.epochs, **fields)
        self._bar.start()  # draws it

    def close(self) -> None:
        """Take the bar off the screen (and give the cursor back); safe to call at any time."""
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.stop()

    def started(self, steps_per_epoch: int, epochs: int, initial_epoch: int, info: dict) -> None:
        self.steps, self.epochs, self.batch_size = steps_per_epoch, epochs, info["batch_size"]
        self.remaining_batches = (epochs - initial_epoch) * steps_per_epoch
        self.t_start = time.perf_counter()
        what = "Resuming" if info.get("resumed") else "Training"
        engine = {"xla": "TensorFlow with XLA", "jax": "JAX", "tensorflow": "TensorFlow"}.get(
            info.get("engine", ""), "Keras"
        )
        if info.get("engine_note"):
            self._write(info["engine_note"] + "\n")
        self._write(
            f"{what} with {engine} on {info['device']}: {info['num_train']} training and "
            f"{info['num_val']} "
            f"validation samples, loss {info['loss']}, batch size {self.batch_size}, "
            f"epochs {initial_epoch + 1}-{epochs}.\n"
        )
        if info.get("fine_tuning_note"):
            self._write(info["fine_tuning_note"] + "\n")
        if info.get("weights"):
            fresh = info.get("fresh_layers") or []
            note = f"; fresh weights for {', '.join(fresh)}" if fresh else ""
            self._write(f"Starting from the weights in {info['weights']}{note}.\n")

    def epoch_started(self, epoch: int) -> None:
        self.epoch = epoch
        self.t_epoch = time.perf_counter()

    def batch_ended(self, step: int, logs: dict[str, float]) -> None:
        self.done_batches += 1
        if not self.tty:
            return
        now = time.perf_counter()
        if now - self.t_drawn < self.interval and step < self.steps:
            return
        self.t_drawn = now
        rate = step * self.batch_size / max(now - self.t_epoch, 1e-9)
        per_batch = (now - self.t_start) / self.done_batches
        eta = per_batch * (self.remaining_batches - self.done_batches)
        loss = logs.get("loss")
        fields = {
            "completed": min(step, self.steps),
            "epoch": self.epoch,
            "eta": _fmt_time(eta),
            "rate": f"{rate:,.0f}",
            "loss": f" loss {loss:.4f}" if isinstance(loss, float) else "",
        }
        if self._bar is None:
            self._show_bar(fields)
        else:
            self._bar.update(self._task, **fields)
            self._bar.refresh()

    def epoch_ended(self, epoch: int, logs: dict[str, float]) -> None:
        seconds = time.perf_counter() - self.t_epoch
        rate = self.steps * self.batch_size / max(seconds, 1e-9)
        self.close()
        self._write(
            f"Epoch {epoch}/{self.epochs}: {_fmt_logs(logs)} ({seconds:.1f} s, {rate:,.0f} samples/s)\n"
        )

    def overfitting_detected(self, report) -> None:
        tips = "; ".join(r.title.lower() for r in report.remedies[:3])
        advice = f" Try: {tips}." if tips else ""
        self._write(f"warning: overfitting from epoch {report.epoch}: {report.reason}.{advice}\n")

    def waiting(self, text: str) -> None:
        self._write(text + "\n")

    def paused(self) -> None: ...

    def resumed(self) -> None: ...

    def finished(self, reason: str, metrics: dict[str, Any]) -> None:
        self.close()  # run() prints the outcome: it knows the run directory


def _error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


def _missing_sentence(counts: dict[str, int], policy: str | None) -> str:
    cells, filled, dropped = counts["cells"], counts.get("filled", 0), counts["rows_dropped"]
    parts = []
    if filled:
        parts.append(f"{filled} filled inside the model (numbers with the training median, "
                     "categories as unseen)")  # fmt: skip
    if dropped:
        why = "with a gap" if policy == "drop" else "without a target value"
        parts.append(f"{dropped} row{'s' * (dropped != 1)} {why} left out")
    return f"Missing values: {cells} cell{'s' * (cells != 1)}; " + "; ".join(parts) + "."


class _DownloadsSaid:
    """The listener of the planning, which is quiet but for a download's progress (a
    backbone's ImageNet weights can take minutes)."""

    def __init__(self, printer: ProgressPrinter) -> None:
        self.printer = printer

    def waiting(self, text: str) -> None: ...

    def downloading(self, text: str) -> None:
        self.printer.waiting(text)


class _Terminated(BaseException):
    """SIGTERM before training starts: raised from the signal handler to leave the planning
    (a BaseException, so that no `except Exception` on the way swallows it); each step undoes
    its own part on the way out (the run folder's lock releases, the folder it made goes)."""


def run(args: argparse.Namespace) -> int:
    """Carry out `deepgui train` for parsed arguments; returns the exit status."""
    # SIGTERM while the run is planned (the project read, Keras imported, the data loaded, an
    # engine measured) leaves at once, in a sentence and with status 143, as it does in
    # training; _train answers it with a stop after the batch in flight instead.
    terminated: list[int] = []

    def terminate(signum, _frame):
        # Recorded as well as raised: raised inside a finalizer that Keras or TensorFlow runs
        # at that moment, Python drops the exception, and the record still ends the planning.
        terminated.append(signum)
        raise _Terminated

    def drop_lost_termination(unraisable) -> None:
        if not isinstance(unraisable.exc_value, _Terminated):
            previous_hook(unraisable)

    previous = signal.signal(signal.SIGTERM, terminate)
    previous_hook, sys.unraisablehook = sys.unraisablehook, drop_lost_termination
    planned: list = []  # the run, once planned
    try:
        return _plan_and_train(args, planned, terminated)
    except _Terminated:
        if planned and planned[0].engine is not None:  # trained: its report was being printed
            where = f"; the run is in {planned[0].run_dir}"
        else:
            where = " before training started; nothing was written"
        sys.stderr.write(f"Stopped by SIGTERM{where}.\n")
        return EXIT_TERMINATED
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = previous_hook


def _plan_and_train(args: argparse.Namespace, planned: list, terminated: list[int]) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # NumPy and the core: not for --help
    from deepgui.core.data.spec import parse_targets
    from deepgui.core.keras_loader import quiet_backend_start
    from deepgui.core.project import load_project
    from deepgui.core.training.run import Run, RunRequest

    printer = ProgressPrinter(sys.stderr)
    try:
        request = RunRequest(
            out=args.out,
            data=args.data,
            target=parse_targets(args.target) if args.target else None,
            epochs=args.epochs,
            batch_size=args.batch_size,
            missing=getattr(args, "missing", None),
            engine=getattr(args, "engine", None),
            workers=getattr(args, "workers", None),
            coordinator=getattr(args, "coordinator", None),
            join_seconds=getattr(args, "join_timeout", None) or 300,
        )
        # The project first: one too big (limits.py) is refused before Keras's seconds of
        # import. Planning is quiet: bad input is one sentence on stderr, nothing before it.
        project = load_project(args.project)
        quiet_backend_start()
        the_run = Run(project, request).plan(_DownloadsSaid(printer))
    except DeepGuiError as exc:
        _error(sentence(exc))
        return EXIT_BAD_INPUT
    planned.append(the_run)
    try:
        if terminated:  # a SIGTERM whose exception was dropped on the way
            raise _Terminated
        missing = the_run.data.extras.get("missing") or {}
        if missing.get("cells"):
            sys.stderr.write(_missing_sentence(missing, the_run.dataset_spec.get("missing")) + "\n")
        if the_run.note:
            sys.stderr.write(f"Engine: {the_run.note.rstrip('.')}.\n")
        return _train(the_run, printer)
    finally:
        the_run.release()


def _train(the_run, printer: ProgressPrinter) -> int:
    # SIGTERM (a scheduler, `kill`, a shutting-down machine) is Ctrl+C without a terminal: stop
    # after the batch in flight, keep the last finished epoch's checkpoint, and say so.
    def saying(signum: int) -> str:
        again = "Ctrl+C" if signum == signal.SIGINT else "SIGTERM"
        return f"\nStopping after this batch ({again} again to quit at once)…\n"

    interrupt = StopOnSignal(the_run.stop, saying)
    asked = interrupt.asked
    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        result = the_run.train(printer)
    finally:
        printer.close()  # a second Ctrl+C leaves mid-epoch: the bar must not stay
        for s, handler in previous.items():
            signal.signal(s, handler)
    interrupt.settle()
    code = _report(result, the_run.run_dir)
    if asked and result.reason == "user":
        sys.stderr.write(_stopped_sentence(asked[0], the_run.run_dir) + "\n")
        return EXIT_TERMINATED if asked[0] == signal.SIGTERM else code
    return code


def _stopped_sentence(signum: int, run_dir: Path) -> str:
    by = "SIGTERM" if signum == signal.SIGTERM else "Ctrl+C"
    return (f"Stopped by {by} after the batch in flight; the last finished epoch's checkpoint "
            f"is kept in {run_dir}: train with --out {run_dir} to resume.")  # fmt: skip


def _report(result, run_dir: Path) -> int:
    m = result.metrics
    if result.reason == "error" and not result.history:
        _error(m.get("message", "training failed."))
        return EXIT_FAILED
    out = sys.stdout
    out.write(f"run directory: {run_dir}\n")
    n = m["epochs_run"]
    out.write(f"stopped by: {result.reason}, after {n} epoch{'s' * (n != 1)} in {m['wall_seconds']:.1f} s "
              f"({m['samples_per_second']:,.0f} samples/s on {m['device']})\n")  # fmt: skip
    if m.get("final"):
        out.write(f"final: {_fmt_logs(m['final'])}\n")
    if m.get("best"):
        out.write(f"best: epoch {m['best']['epoch']} ({m['best']['monitor']} "
                  f"{m['best']['metrics'][m['best']['monitor']]:.4f})\n")  # fmt: skip
    if m.get("test"):
        out.write(f"test: {_fmt_logs(m['test'])}\n")
    if result.reason in ("error", "nan_loss"):
        _error(m.get("message", "training failed."))
        return EXIT_FAILED
    if result.reason == "user":
        return EXIT_INTERRUPTED
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="deepgui train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
