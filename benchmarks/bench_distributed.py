"""Two local ranks against one, and one rank against the plain JAX engine, in the same run.

    .venv/bin/python benchmarks/bench_distributed.py [--example digits_cnn] [--epochs 4] [--repeats 2]

A run on several machines pays for agreeing after every step: the gradients' all-reduce and the
chief's stop/pause flags. Here every rank is on this machine, on 127.0.0.1: the JAX engine
without ranks (arrays straight into fit), one rank (the same run through the rank machinery),
and two ranks each feeding half of every global batch. Figures are samples per second over the
epochs after the first (the first compiles), medians over --repeats, timed by the chief's own
epoch events. With both ranks on one machine they share its cores, so the two-rank figure is
the cost of synchronising, not a speed-up; the per-step figure is the time a step takes beyond
that of one rank.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_engines import Timer  # noqa: E402
from deepgui.core.paths import examples_dir  # noqa: E402
from deepgui.core.project import load_project  # noqa: E402
from deepgui.core.training import TrainingConfig, distributed, engines  # noqa: E402
from deepgui.core.training.prepare import PreparedRun  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def speed(project, data, config, world: int | None, engine_name: str = "jax") -> float:
    timer = Timer()
    with tempfile.TemporaryDirectory() as folder:
        cluster = None
        if world is not None:
            cluster = distributed.make_cluster(f"127.0.0.1:{free_port()}", world, 0)
            cluster = dataclasses.replace(cluster, engine=engine_name)
        engine = engines.make_engine(engine_name, project, data, config, timer,
                                     dataset_spec=project.dataset,
                                     run_dir=Path(folder) / "run", cluster=cluster)  # fmt: skip
        ranks = []
        for rank in range(1, world or 1):
            command = [sys.executable, "-m", "deepgui", "worker", "--coordinator",
                       cluster.coordinator, "--rank", str(rank), "--world", str(world),
                       "--out", str(Path(folder) / f"rank{rank}")]  # fmt: skip
            ranks.append(subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))  # fmt: skip
        results = []
        thread = threading.Thread(target=lambda: results.append(engine.run()))
        thread.start()
        thread.join()
        for p in ranks:
            p.wait(120)
    if results[0].reason != "completed":
        raise SystemExit(f"{world} rank(s): {results[0].metrics.get('message')}")
    return data.num_train / statistics.median(timer.seconds[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--example", default="digits_cnn")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--tensorflow",
        action="store_true",
        help="also TensorFlow's engine for several machines (the fallback)",
    )
    args = parser.parse_args()
    project = load_project(examples_dir() / f"{args.example}.dgproj")
    config = TrainingConfig.from_dict(project.training).with_overrides(epochs=args.epochs)
    data = PreparedRun(project, dict(project.dataset), config, Path(), False).load_data()
    figures: dict[str, list[float]] = {"jax": [], "1 rank": [], "2 ranks": [], "tf": [],
                                       "2 tf ranks": []}  # fmt: skip
    for _ in range(args.repeats):
        figures["jax"].append(speed(project, data, config, None))
        figures["1 rank"].append(speed(project, data, config, 1))
        figures["2 ranks"].append(speed(project, data, config, 2))
        if args.tensorflow:
            figures["tf"].append(speed(project, data, config, None, "tensorflow"))
            figures["2 tf ranks"].append(speed(project, data, config, 2, "tensorflow"))
    med = {k: statistics.median(v) for k, v in figures.items() if v}
    batch = config.batch_size
    step = {k: 1000 * batch / v for k, v in med.items()}  # ms per global batch
    print(f"{args.example}: {data.num_train} samples, global batch {batch}, {args.epochs} epochs, "
          f"medians of {args.repeats}, {os.cpu_count()} cores shared by every rank")  # fmt: skip
    print(f"  JAX engine, no ranks:  {med['jax']:>8,.0f} samples/s  {step['jax']:6.2f} ms/step")
    print(f"  1 rank:                {med['1 rank']:>8,.0f} samples/s  {step['1 rank']:6.2f} "
          f"ms/step  ratio to the JAX engine {med['1 rank'] / med['jax']:.2f}")  # fmt: skip
    print(f"  2 ranks on 127.0.0.1:  {med['2 ranks']:>8,.0f} samples/s  {step['2 ranks']:6.2f} "
          f"ms/step  ratio to 1 rank {med['2 ranks'] / med['1 rank']:.2f}")  # fmt: skip
    print(f"  synchronising each step costs {step['2 ranks'] - step['1 rank'] / 2:.2f} ms "
          "beyond half a one-rank step (two ranks, each half the batch)")  # fmt: skip

    if args.tensorflow:
        print(f"  TensorFlow engine:     {med['tf']:>8,.0f} samples/s  {step['tf']:6.2f} ms/step")
        print(f"  2 TensorFlow ranks (MultiWorkerMirroredStrategy): {med['2 tf ranks']:>8,.0f} "
              f"samples/s  {step['2 tf ranks']:6.2f} ms/step  ratio to the TensorFlow engine "
              f"{med['2 tf ranks'] / med['tf']:.2f}; synchronising costs "
              f"{step['2 tf ranks'] - step['tf'] / 2:.2f} ms a step")  # fmt: skip


if __name__ == "__main__":
    main()
