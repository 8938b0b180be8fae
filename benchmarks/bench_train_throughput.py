"""Throughput of `deepgui train` against a plain Keras script, same model, data and batch size.

    .venv/bin/python benchmarks/bench_train_throughput.py [--epochs 3] [--repeats 2] [--tile 8]

The plain script is what a person would write in a notebook: build, compile, `model.fit(...,
verbose=0)`. The engine run is what `deepgui train` does: the same, plus its callback (events,
NaN guard, pause/stop checks), the terminal progress bar, the overfitting detector, a checkpoint
every epoch and the run directory. Both run in this process in the order A-B-B-A, `--repeats`
times; each figure is the median over its runs, and the ratio is engine/plain samples per second.
Model: the digits CNN example; data: the digits training split tiled `--tile` times.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from deepgui.core.build import build_model  # noqa: E402
from deepgui.core.data import load_dataset  # noqa: E402
from deepgui.core.paths import examples_dir  # noqa: E402
from deepgui.core.project import load_project  # noqa: E402
from deepgui.core.training import TrainingConfig, TrainingEngine  # noqa: E402
from deepgui.core.training.config import make_optimizer  # noqa: E402
from deepgui.train_cli import ProgressPrinter  # noqa: E402


class _Tty(io.StringIO):
    def isatty(self) -> bool:  # draw the bar as on a terminal
        return True


def plain(project, data, cfg: TrainingConfig) -> tuple[float, float]:
    """The notebook version; returns (wall, CPU) seconds from build to the end of fit."""
    import keras

    t0, c0 = time.perf_counter(), time.process_time()
    keras.utils.set_random_seed(cfg.seed)
    model = build_model(project.graph)
    steps = -(-data.num_train // cfg.batch_size)
    model.compile(optimizer=make_optimizer(cfg, steps), loss=cfg.resolved_loss(data),
                  metrics=cfg.resolved_metrics(data))  # fmt: skip
    model.fit(data.x_train, data.y_train, batch_size=cfg.batch_size, epochs=cfg.epochs,
              validation_data=(data.x_val, data.y_val), shuffle=True, verbose=0)  # fmt: skip
    return time.perf_counter() - t0, time.process_time() - c0


def engine(project, data, cfg: TrainingConfig, run_dir: Path) -> tuple[float, float]:
    """What `deepgui train` runs; returns (wall, CPU) seconds including the run directory."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = TrainingEngine(None, data, cfg, ProgressPrinter(_Tty()), project=project,
                            run_dir=run_dir).run()  # fmt: skip
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    assert result.reason == "completed", result.metrics.get("message")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tile", type=int, default=8)
    args = parser.parse_args()

    project = load_project(examples_dir() / "digits_cnn.dgproj")
    data = load_dataset({**project.dataset, "test_split": 0.0}, project.path.parent)
    data.x_train = np.concatenate([data.x_train] * args.tile)
    data.y_train = np.concatenate([data.y_train] * args.tile)
    cfg = TrainingConfig.from_dict({**project.training, "epochs": args.epochs, "device": "cpu"})
    samples = data.num_train * cfg.epochs
    print(f"model digits_cnn, {data.num_train} training samples, batch {cfg.batch_size}, "
          f"{cfg.epochs} epochs, order A-B-B-A x{args.repeats}")  # fmt: skip

    times: dict[str, list[float]] = {"plain": [], "engine": []}
    cpu: dict[str, list[float]] = {"plain": [], "engine": []}
    with tempfile.TemporaryDirectory() as tmp:
        plain(project, data, cfg.with_overrides(epochs=1))  # warm-up: imports and first trace
        for r in range(args.repeats):
            for i, which in enumerate(("plain", "engine", "engine", "plain")):
                if which == "plain":
                    t, c = plain(project, data, cfg)
                else:
                    t, c = engine(project, data, cfg, Path(tmp) / f"run{r}-{i}")
                times[which].append(t)
                cpu[which].append(c)
                print(f"  {which:6s} {t:7.2f} s wall {c:7.2f} s CPU  {samples / t:9,.0f} samples/s",
                      flush=True)  # fmt: skip
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    rate = {k: samples / v for k, v in med.items()}
    for k in ("plain", "engine"):
        print(
            f"median {k:6s}: {med[k]:.2f} s wall, {med_cpu[k]:.2f} s CPU, {rate[k]:,.0f} samples/s"
        )
    print(
        f"ratio engine/plain throughput (wall): {rate['engine'] / rate['plain']:.3f} (aim >= 0.97)"
    )
    print(f"ratio engine/plain CPU cost per sample: {med_cpu['engine'] / med_cpu['plain']:.3f} "
          "(lower is better; steadier than wall time on a shared machine)")  # fmt: skip


if __name__ == "__main__":
    main()
