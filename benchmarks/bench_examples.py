"""`auto` on every bundled example against a plain TensorFlow Keras script of the same model, in
the same run (aim: never below 0.97x).

    .venv/bin/python benchmarks/bench_examples.py [--repeats 2] [--epochs N] [--engines all]
                                                   [--examples iris_dense,moons_dense] [--no-script]

For each example of `deepgui examples`, each repeat:
- the probe, from a fresh cache (a new DEEPGUI_CONFIG_DIR), as `engines.resolve("auto", ...)` runs
  it the first time a model is trained on a machine: what it measured, what it chose, how long;
- the plain script in this process (TensorFlow already imported, as in the app): build, compile,
  `model.fit(..., verbose=0)`, with the engine's optimizer, loss and metrics;
- the plain script as a new process (`python script.py`, TensorFlow's import included), for the
  whole-run comparison of an engine that starts a process (skip with --no-script);
- the engine `auto` chose and TensorFlow, the default (`--engines all`: every engine; `--engines
  auto`: only auto's), as `deepgui train --engine` runs it: events, a checkpoint each epoch, the
  run directory, the evaluation at the end; JAX in its worker process.

Two figures per engine, each as a ratio to the plain script (above 1: faster than the script):
- steady: samples per second over the epochs after the first (the first compiles), each epoch
  timed from its start event to its end event (validation and, for an engine, its checkpoint
  included), the median epoch; the figure bench_engines.py prints;
- whole run: the plain fit's wall clock (build to the end of fit) over the engine's (make_engine
  to the end of run(): a worker's start-up, hand-over and final save included), and, for auto the
  first time, with the probe added to the engine's. The examples train for their own epochs.
Orders alternate between repeats; every figure is a median over the repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from deepgui.core.project import load_project  # noqa: E402
from deepgui.core.training import TrainingConfig, TrainingListener, engines  # noqa: E402
from deepgui.core.training.examples import list_examples  # noqa: E402
from deepgui.core.training.prepare import PreparedRun  # noqa: E402

AIM = 0.97
med = statistics.median


class Timer(TrainingListener):
    """Each epoch from the engine's own events, and when the first event and each epoch's end
    came (for where a run's wall clock goes)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.first = 0.0
        self.starts: dict[int, float] = {}
        self.seconds: list[float] = []
        self.ends: list[float] = []

    def started(self, steps_per_epoch, epochs, initial_epoch, info):
        self.first = time.perf_counter() - self.t0

    def epoch_started(self, epoch):
        self.starts[epoch] = time.perf_counter()

    def epoch_ended(self, epoch, logs):
        now = time.perf_counter()
        self.seconds.append(now - self.starts[epoch])
        self.ends.append(now - self.t0)


def compile_args(config, data, model) -> dict:
    import math

    from deepgui.core.training.config import make_optimizer

    steps = max(1, math.ceil(data.num_train / config.batch_size))
    units = model.outputs[0].shape[-1]
    return {"optimizer": make_optimizer(config, steps), "loss": config.resolved_loss(data, units),
            "metrics": config.resolved_metrics(data)}  # fmt: skip


def fresh_state() -> None:
    """Every run in this process starts from an empty Keras session (earlier models dropped)."""
    import gc

    import keras

    keras.backend.clear_session()
    gc.collect()


def plain(project, data, config) -> dict:
    """The script a person writes, in this process."""
    import keras

    from deepgui.core.build import build_model

    seconds: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.t)

    fresh_state()
    t = time.perf_counter()
    keras.utils.set_random_seed(config.seed or 1)
    model = build_model(project.graph)
    model.compile(**compile_args(config, data, model))
    model.fit(data.x_train, data.y_train, batch_size=config.batch_size, epochs=config.epochs,
              validation_data=(data.x_val, data.y_val), verbose=0, callbacks=[Clock()])  # fmt: skip
    wall = time.perf_counter() - t
    return {"rate": data.num_train / med(seconds[1:]), "wall": wall}


SCRIPT = """
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
sys.path.insert(0, {root!r})
import numpy as np
import keras
from deepgui.core.build import build_model
from deepgui.core.project import load_project
from deepgui.core.training import TrainingConfig
from deepgui.core.training.config import make_optimizer
arrays = np.load({npz!r})
project = load_project({project!r})
config = TrainingConfig.from_dict(project.training).with_overrides(epochs={epochs})
keras.utils.set_random_seed(config.seed or 1)
model = build_model(project.graph)
model.compile(optimizer=make_optimizer(config, {steps}), loss={loss!r}, metrics={metrics!r})
model.fit(arrays["x_train"], arrays["y_train"], batch_size=config.batch_size,
          epochs=config.epochs, validation_data=(arrays["x_val"], arrays["y_val"]), verbose=0)
"""


def plain_process(project, data, config, folder: Path) -> dict:
    """The same script as a new process: `python script.py`, imports included."""
    npz = folder / "arrays.npz"
    if not npz.exists():
        np.savez(npz, x_train=data.x_train, y_train=data.y_train, x_val=data.x_val,
                 y_val=data.y_val)  # fmt: skip
    import math

    from deepgui.core.build import build_model

    units = build_model(project.graph).outputs[0].shape[-1]
    code = SCRIPT.format(root=str(ROOT), npz=str(npz), project=str(project.path),
                         epochs=config.epochs, loss=config.resolved_loss(data, units),
                         metrics=config.resolved_metrics(data),
                         steps=max(1, math.ceil(data.num_train / config.batch_size)))  # fmt: skip
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=600)  # fmt: skip
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"the plain script failed:\n{out.stderr[-2000:]}")
    return {"wall": wall}


def engine_run(name, project, data, config, folder: Path) -> dict:
    timer = Timer()
    run_dir = Path(tempfile.mkdtemp(dir=folder)) / "run"
    fresh_state()
    t = time.perf_counter()
    timer.t0 = t
    engine = engines.make_engine(name, project, data, config, timer,
                                 dataset_spec=project.dataset, run_dir=run_dir)  # fmt: skip
    result = engine.run()
    wall = time.perf_counter() - t
    if result.reason != "completed":
        raise SystemExit(f"{name}: {result.reason}: {result.metrics.get('message')}")
    # Where the wall clock goes: start-up (to the first event), the first epoch (it compiles),
    # the other epochs, and the ending (final save, evaluation, a worker's exit and hand-back).
    phases = (timer.first, timer.ends[0] - timer.first, timer.ends[-1] - timer.ends[0],
              wall - timer.ends[-1])  # fmt: skip
    return {"rate": data.num_train / med(timer.seconds[1:]), "wall": wall, "phases": phases}


def fresh_probe(project, data, config, folder: Path) -> dict:
    """`auto` as the first run on this machine decides: the probe from an empty cache."""
    fresh_state()
    saved = os.environ.get("DEEPGUI_CONFIG_DIR")
    os.environ["DEEPGUI_CONFIG_DIR"] = tempfile.mkdtemp(dir=folder)
    try:
        t = time.perf_counter()
        chosen, _note = engines.resolve("auto", project, data, config)
        seconds = time.perf_counter() - t
        speeds = engines.cached(engines.model_key(project, data, config)) or {}
    finally:
        if saved is None:
            os.environ.pop("DEEPGUI_CONFIG_DIR", None)
        else:
            os.environ["DEEPGUI_CONFIG_DIR"] = saved
    return {"chosen": chosen, "seconds": seconds, "speeds": speeds}


def short(name: str) -> str:
    return {"tensorflow": "TF", "xla": "XLA", "jax": "JAX"}.get(name, name)


def verdict(ratio: float) -> str:
    return "meets" if ratio >= AIM else "BELOW"


def bench_example(ex, args, folder: Path) -> dict:
    project = load_project(ex.path)
    config = TrainingConfig.from_dict(project.training)
    if args.epochs:
        config = config.with_overrides(epochs=args.epochs)
    data = PreparedRun(project, dict(project.dataset), config, Path(), False).load_data()
    where = Path(tempfile.mkdtemp(dir=folder, prefix=ex.name))
    probes, plains, scripts = [], [], []
    runs: dict[str, list[dict]] = {}
    for r in range(args.repeats):
        probe = fresh_probe(project, data, config, where)
        probes.append(probe)
        names = {"all": engines.available(), "auto": [probe["chosen"]],
                 "tensorflow": sorted({probe["chosen"], "tensorflow"})}[args.engines]  # fmt: skip
        order = ["plain", *(["script"] if args.script else []), *names]
        for which in order if r % 2 == 0 else order[::-1]:
            if which == "plain":
                plains.append(plain(project, data, config))
            elif which == "script":
                scripts.append(plain_process(project, data, config, where))
            else:
                out = engine_run(which, project, data, config, where)
                out["repeat"] = r
                runs.setdefault(which, []).append(out)
        shown = ", ".join(f"{short(e)} {s:,.0f}" for e, s in sorted(probe["speeds"].items()))
        print(f"  {ex.name} run {r + 1}: probe {probe['seconds']:.1f} s ({shown}) -> "
              f"{short(probe['chosen'])}; plain {plains[-1]['rate']:,.0f}/s {plains[-1]['wall']:.2f} s; "
              + "; ".join(f"{short(n)} {v[-1]['rate']:,.0f}/s {v[-1]['wall']:.2f} s"
                          for n, v in runs.items() if v and v[-1]["repeat"] == r)
              + (f"; script process {scripts[-1]['wall']:.2f} s" if scripts else ""),
              flush=True)  # fmt: skip

    p_rate, p_wall = med(x["rate"] for x in plains), med(x["wall"] for x in plains)
    print(f"{ex.name}: {data.num_train} training samples, batch {config.batch_size}, "
          f"{config.epochs} epochs, medians of {args.repeats}")  # fmt: skip
    print(
        f"  plain TF Keras script, this process : {p_rate:>9,.0f} samples/s   fit wall {p_wall:6.2f} s"
    )
    s_wall = med(x["wall"] for x in scripts) if scripts else None
    if s_wall is not None:
        print(f"  plain TF Keras script, new process  : {'':>9}             wall {s_wall:6.2f} s "
              "(TensorFlow's import included)")  # fmt: skip
    table = {}
    for name, values in runs.items():
        rate, wall = med(x["rate"] for x in values), med(x["wall"] for x in values)
        phases = [med(x["phases"][i] for x in values) for i in range(4)]
        table[name] = (rate / p_rate, p_wall / wall)
        extra = f"; vs new process {s_wall / wall:.2f}" if s_wall is not None else ""
        print(
            f"  {engines.LABELS[name]:<22}: {rate:>9,.0f} samples/s   run wall {wall:6.2f} s   "
            f"steady ratio {rate / p_rate:.2f}   whole-run ratio {p_wall / wall:.2f}{extra}"
        )
        print(f"  {'':<22}  wall: start-up {phases[0]:.2f} s, first epoch {phases[1]:.2f} s, "
              f"other epochs {phases[2]:.2f} s, ending {phases[3]:.2f} s")  # fmt: skip
    chosen = [p["chosen"] for p in probes]
    pick = max(set(chosen), key=chosen.count)
    probe_s = med(p["seconds"] for p in probes)
    probe_speeds = {e: med(p["speeds"].get(e, 0.0) for p in probes) for e in probes[0]["speeds"]}
    steady, whole = table[pick]
    pick_wall = med(x["wall"] for x in runs[pick])
    first_time = p_wall / (pick_wall + probe_s)
    best_steady = max(table, key=lambda n: table[n][0])
    best_whole = max(table, key=lambda n: table[n][1])
    shown = ", ".join(f"{short(e)} {s:,.0f}" for e, s in sorted(probe_speeds.items()))
    print(f"  probe (fresh cache, median {probe_s:.1f} s): {shown} samples/s; "
          f"auto chose {', '.join(short(c) for c in chosen)}")  # fmt: skip
    print(f"  auto -> {engines.LABELS[pick]}: steady {steady:.2f} ({verdict(steady)} >= {AIM}), "
          f"whole run {whole:.2f} ({verdict(whole)}), first time with the probe {first_time:.2f} "
          f"({verdict(first_time)})")  # fmt: skip
    if len(table) > 1:
        print(f"  fastest measured here: steady {engines.LABELS[best_steady]}, "
              f"whole run {engines.LABELS[best_whole]}")  # fmt: skip
    return {"name": ex.name, "pick": pick, "chosen": chosen, "steady": steady, "whole": whole,
            "first_time": first_time, "best_steady": best_steady, "best_whole": best_whole,
            "table": table, "n": data.num_train, "epochs": config.epochs}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=0, help="override the examples' epochs")
    parser.add_argument("--engines", choices=("tensorflow", "auto", "all"), default="tensorflow",
                        help="the engine auto chose and TensorFlow (the default engine), only "
                        "the one auto chose, or every engine")  # fmt: skip
    parser.add_argument("--examples", default="", help="comma-separated names (default: all)")
    parser.add_argument("--no-script", dest="script", action="store_false",
                        help="skip the plain script as a new process")  # fmt: skip
    args = parser.parse_args()
    examples = list_examples()
    if args.examples:
        wanted = args.examples.split(",")
        examples = [e for e in examples if e.name in wanted]
    folder = Path(tempfile.mkdtemp(prefix="deepgui-bench-examples-"))
    import keras  # noqa: F401 - import TensorFlow before timing anything

    warm = examples[0]
    project = load_project(warm.path)
    config = TrainingConfig.from_dict(project.training).with_overrides(epochs=2)
    plain(project, PreparedRun(project, dict(project.dataset), config, Path(), False).load_data(),
          config)  # fmt: skip
    print(f"engines here: {', '.join(engines.available())}; {os.cpu_count()} cores; "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    results = [bench_example(ex, args, folder) for ex in examples]
    print()
    print(f"auto against the plain TF Keras script (aim: never below {AIM}x)")
    print(f"  {'example':<14} {'samples':>7} {'epochs':>6}  {'auto':<5} {'steady':>7} "
          f"{'whole run':>9} {'1st time':>8}  fastest steady; fastest whole run (its ratio)")  # fmt: skip
    for x in results:
        print(f"  {x['name']:<14} {x['n']:>7} {x['epochs']:>6}  {short(x['pick']):<5} "
              f"{x['steady']:>6.2f}{'' if x['steady'] >= AIM else '!'} "
              f"{x['whole']:>8.2f}{'' if x['whole'] >= AIM else '!'} "
              f"{x['first_time']:>7.2f}{'' if x['first_time'] >= AIM else '!'}  "
              f"{short(x['best_steady'])}; {short(x['best_whole'])} "
              f"({x['table'][x['best_whole']][1]:.2f})")  # fmt: skip
    low = [x["name"] for x in results if x["steady"] < AIM]
    low_whole = [x["name"] for x in results if x["whole"] < AIM]
    print(f"  steady: {'every example meets it' if not low else 'below on ' + ', '.join(low)}; "
          f"whole run: {'every example meets it' if not low_whole else 'below on ' + ', '.join(low_whole)}"
          "   (! marks a ratio below the aim)")  # fmt: skip


if __name__ == "__main__":
    main()
