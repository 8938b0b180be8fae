"""Each engine against a plain TensorFlow Keras script of the same model, in the same run.

    .venv/bin/python benchmarks/bench_engines.py [--example digits_cnn] [--epochs 4] [--repeats 2]

The plain script is what a person writes: build, compile, `model.fit(..., verbose=0)` under
TensorFlow. Each engine is what `deepgui train --engine NAME` runs (events, checkpoints, the run
directory; JAX in its worker process, start-up included). Figures are samples per second over the
epochs after the first (the first compiles), medians over `--repeats`; the ratio is
engine/plain. `auto` is the engine the probe picks.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepgui.core.paths import examples_dir  # noqa: E402
from deepgui.core.project import load_project  # noqa: E402
from deepgui.core.training import TrainingConfig, TrainingListener, engines  # noqa: E402
from deepgui.core.training.prepare import PreparedRun  # noqa: E402


class Timer(TrainingListener):
    """Times each epoch from the engine's own events."""

    def __init__(self) -> None:
        self.starts: dict[int, float] = {}
        self.seconds: list[float] = []

    def epoch_started(self, epoch):
        self.starts[epoch] = time.perf_counter()

    def epoch_ended(self, epoch, logs):
        self.seconds.append(time.perf_counter() - self.starts[epoch])


def plain(project, data, config) -> float:
    import keras

    from deepgui.core.build import build_model
    from deepgui.core.training.config import make_optimizer

    keras.utils.set_random_seed(1)
    model = build_model(project.graph)
    units = model.outputs[0].shape[-1]
    model.compile(optimizer=make_optimizer(config, 1), loss=config.resolved_loss(data, units),
                  metrics=["accuracy"])  # fmt: skip
    seconds = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.t)

    model.fit(data.x_train, data.y_train, batch_size=config.batch_size, epochs=config.epochs,
              validation_data=(data.x_val, data.y_val), verbose=0, callbacks=[Clock()])  # fmt: skip
    return data.num_train / statistics.median(seconds[1:])


def engine_speed(name, project, data, config) -> float:
    timer = Timer()
    with tempfile.TemporaryDirectory() as folder:
        engine = engines.make_engine(name, project, data, config, timer,
                                     dataset_spec=project.dataset, run_dir=Path(folder) / "run")  # fmt: skip
        result = engine.run()
    if result.reason != "completed":
        raise SystemExit(f"{name}: {result.metrics.get('message')}")
    return data.num_train / statistics.median(timer.seconds[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--example", default="digits_cnn")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    project = load_project(examples_dir() / f"{args.example}.dgproj")
    config = TrainingConfig.from_dict(project.training).with_overrides(epochs=args.epochs)
    data = PreparedRun(project, dict(project.dataset), config, Path(), False).load_data()
    chosen, note = engines.resolve("auto", project, data, config)
    names = [n for n in engines.available()]
    figures: dict[str, list[float]] = {"plain": [], **{n: [] for n in names}}
    for _ in range(args.repeats):
        figures["plain"].append(plain(project, data, config))
        for name in names:
            figures[name].append(engine_speed(name, project, data, config))
    base = statistics.median(figures["plain"])
    print(f"{args.example}: {data.num_train} samples, batch {config.batch_size}, "
          f"{args.epochs} epochs, medians of {args.repeats}")  # fmt: skip
    print(f"  plain TensorFlow Keras script: {base:,.0f} samples/s")
    for name in names:
        speed = statistics.median(figures[name])
        print(f"  {engines.LABELS[name]:<22} {speed:>9,.0f} samples/s  ratio {speed / base:.2f}")
    auto = statistics.median(figures[chosen])
    print(f"  auto -> {engines.LABELS[chosen]}: ratio {auto / base:.2f} ({note})")


if __name__ == "__main__":
    main()
