"""A deepgui sweep's time per trial against KerasTuner driving plain Keras on the same search
space, in the same run.

    .venv/bin/python benchmarks/bench_sweep_overhead.py [--example digits_cnn] [--trials 5]
        [--epochs 4] [--repeats 2] [--vary NAME=SPEC ...]

The baseline is what a person writes with KerasTuner: a RandomSearch whose hypermodel builds the
same model (the project's graph with the trial's values, as plain Keras), compiles it with the
same optimizer and loss and fits it on the same arrays (`verbose=0`); KerasTuner saves its own
checkpoints. deepgui's trial is what `deepgui sweep` runs (one trial at a time, in process): an
ordinary run per trial, with its run folder (history, checkpoints, metrics, the model with its
preprocessing, the split, the signature), events, the overfitting detector and the table. Both
train with TensorFlow and load the data once. A trial's time is from the start of the trial to
its end as each reports it; the figure is the median over the trials of --repeats sweeps of
each (which goes first alternates), the ratio deepgui/plain.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepgui.core.paths import examples_dir  # noqa: E402
from deepgui.core.project import load_project  # noqa: E402
from deepgui.core.sweep.search import Sweep, SweepListener, SweepRequest, declare  # noqa: E402

DEFAULT_VARY = {
    "digits_cnn": (
        "dense.units=16..128:log",
        "dropout.rate=0.1..0.5",
        "training.learning_rate=1e-3..1e-2:log",
    ),  # fmt: skip
    "iris_dense": ("dense.units=4..32:log", "training.learning_rate=1e-3..1e-1:log"),
}


class Clock(SweepListener):
    def __init__(self) -> None:
        self.begun: dict[int, float] = {}
        self.seconds: list[float] = []
        self.ends: list[float] = []  # when each trial ended, in order

    def trial_started(self, trial, epochs):
        self.begun[trial.number] = time.perf_counter()

    def trial_finished(self, trial):
        self.ends.append(time.perf_counter())
        self.seconds.append(self.ends[-1] - self.begun[trial.number])


def deepgui_trials(project_path: Path, request: SweepRequest) -> list[float]:
    project = load_project(project_path)
    project.training["engine"] = "tensorflow"  # as the baseline trains
    clock = Clock()
    sweep = Sweep(project, request).plan()
    try:
        outcome = sweep.run(clock)
    finally:
        sweep.release()
    if outcome.reason != "completed":
        raise SystemExit(f"deepgui's sweep: {outcome.reason} {outcome.message}")
    return clock.seconds


def plain_trials(project_path: Path, request: SweepRequest, folder: Path) -> list[float]:
    """KerasTuner's RandomSearch over the same dimensions, on plain Keras."""
    import keras
    import keras_tuner as kt

    from deepgui.core.build import build_model
    from deepgui.core.sweep import apply
    from deepgui.core.training.config import TrainingConfig, make_optimizer

    # The sweep's own reading of the space and the data (planned, never run).
    sweep = Sweep(load_project(project_path), replace(request, out=folder / "planned")).plan()
    sweep.release()
    data, base, dims = sweep.data, sweep.base, sweep.dims

    def build(hp):
        declare(hp, dims)  # the same space deepgui's oracle searches
        values = {d.name: d.value_of(hp.get(d.name)) for d in dims}
        trial = apply.applied(base, values)
        config = TrainingConfig.from_dict(trial.training)
        model = build_model(trial.graph)
        steps = -(-data.num_train // config.batch_size)
        model.compile(optimizer=make_optimizer(config, steps),
                      loss=config.resolved_loss(data, model.outputs[0].shape[-1]),
                      metrics=["accuracy"])  # fmt: skip
        return model

    seconds: list[float] = []

    class Timed(kt.RandomSearch):
        def on_trial_begin(self, trial):
            self._begun = time.perf_counter()
            super().on_trial_begin(trial)

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            seconds.append(time.perf_counter() - self._begun)

    keras.utils.set_random_seed(1)
    config = TrainingConfig.from_dict(base.training)
    tuner = Timed(build, objective=kt.Objective(sweep.objective, sweep.direction),
                  max_trials=request.trials, seed=1, directory=str(folder), project_name="kt",
                  overwrite=True)  # fmt: skip
    tuner.search(data.x_train, data.y_train, epochs=sweep.epochs, batch_size=config.batch_size,
                 validation_data=(data.x_val, data.y_val), verbose=0)  # fmt: skip
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--example", default="digits_cnn")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--vary", action="append")
    parser.add_argument("--repeats", type=int, default=2, help="each sweep this many times")
    args = parser.parse_args()
    path = examples_dir() / f"{args.example}.dgproj"
    vary = tuple(args.vary or DEFAULT_VARY.get(args.example, ()))
    with tempfile.TemporaryDirectory() as folder:
        request = SweepRequest(vary=vary, trials=args.trials, epochs=args.epochs,
                               objective="val_accuracy", out=Path(folder) / "sweep")  # fmt: skip
        plain: list[float] = []
        ours: list[float] = []
        for i in range(args.repeats):  # alternating which goes first: the load drifts
            for who in ("plain", "deepgui") if i % 2 == 0 else ("deepgui", "plain"):
                out = Path(folder) / f"{who}{i}"
                if who == "plain":
                    plain += plain_trials(path, replace(request, out=out / "sweep"), out)
                else:
                    ours += deepgui_trials(path, replace(request, out=out))
    p, d = statistics.median(plain), statistics.median(ours)
    print(f"{args.example}: {args.repeats} x {args.trials} trials of {args.epochs} epochs, varying "
          f"{', '.join(vary)}; {os.cpu_count()} cores (a shared machine: other work runs "
          "beside this one)")  # fmt: skip
    print(f"  KerasTuner on plain Keras:  {p:6.2f} s per trial (median; "
          f"{', '.join(f'{s:.2f}' for s in plain)})")  # fmt: skip
    print(f"  deepgui sweep:              {d:6.2f} s per trial (median; "
          f"{', '.join(f'{s:.2f}' for s in ours)})")  # fmt: skip
    print(f"  ratio deepgui/plain {d / p:.3f}: overhead per trial {100 * (d / p - 1):+.1f} % "
          f"({d - p:+.2f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
