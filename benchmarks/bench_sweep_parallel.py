"""`deepgui sweep --parallel 2` against the same sweep one trial at a time, in the same run.

    .venv/bin/python benchmarks/bench_sweep_parallel.py [--example digits_cnn] [--trials 12]
        [--epochs 4] [--parallel 2]

Both sweeps propose the same values (the same oracle and seed) and train with TensorFlow. One at
a time, trials train in this process (TensorFlow imported and the data loaded once, all the
cores to each trial); side by side, each slot is a process of its own pinned to its share of
the cores, which imports TensorFlow and loads the data once and then trains trial after trial.
The figures are the wall time of the whole sweep, start-up of the trial processes included, and
the time per trial once every slot has ended its first trial (what a longer sweep tends to);
the speed-ups are one-at-a-time / side-by-side.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_sweep_overhead import DEFAULT_VARY, Clock  # noqa: E402
from deepgui.core.paths import examples_dir  # noqa: E402
from deepgui.core.project import load_project  # noqa: E402
from deepgui.core.sweep.search import Sweep, SweepRequest  # noqa: E402


def steady(clock: Clock, k: int) -> float:
    """Seconds per trial once every slot has ended its first trial (start-up paid)."""
    ends = sorted(clock.ends)
    return (ends[-1] - ends[k - 1]) / max(1, len(ends) - k)


def sweep_seconds(path: Path, request: SweepRequest) -> tuple[float, Clock, list]:
    project = load_project(path)
    project.training["engine"] = "tensorflow"
    sweep = Sweep(project, request).plan()
    clock = Clock()
    try:
        begun = time.perf_counter()
        outcome = sweep.run(clock)
        seconds = time.perf_counter() - begun
    finally:
        sweep.release()
    if outcome.reason != "completed":
        raise SystemExit(f"parallel {request.parallel}: {outcome.reason} {outcome.message}")
    return seconds, clock, outcome.trials


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--example", default="digits_cnn")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    path = examples_dir() / f"{args.example}.dgproj"
    vary = DEFAULT_VARY.get(args.example, ())
    with tempfile.TemporaryDirectory() as folder:
        common = {"vary": vary, "trials": args.trials, "epochs": args.epochs,
                  "objective": "val_accuracy"}  # fmt: skip
        one, one_clock, seq = sweep_seconds(path, SweepRequest(out=Path(folder) / "one", **common))
        many, many_clock, par = sweep_seconds(
            path, SweepRequest(out=Path(folder) / "many", parallel=args.parallel, **common)
        )
    same = [t.values for t in seq] == [t.values for t in par]
    print(f"{args.example}: {args.trials} trials of {args.epochs} epochs, {os.cpu_count()} cores "
          "(a shared machine: other work runs beside this one); the same values proposed: "
          f"{same}")  # fmt: skip
    k = args.parallel
    print(f"  one at a time:     {one:7.1f} s  ({one / args.trials:.2f} s per trial; "
          f"{steady(one_clock, 1):.2f} s after the first)")  # fmt: skip
    print(f"  {k} side by side:    {many:7.1f} s  ({many / args.trials:.2f} s per trial; "
          f"{steady(many_clock, k):.2f} s after each slot's first, whose process starts)")  # fmt: skip
    print(f"  speed-up of --parallel {k}: {one / many:.2f}x for the whole sweep, "
          f"{steady(one_clock, 1) / steady(many_clock, k):.2f}x once started")  # fmt: skip


if __name__ == "__main__":
    main()
