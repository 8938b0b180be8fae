"""Fine-tuning a backbone: deepgui's engine against the keras.io transfer-learning recipe.

    .venv/bin/python benchmarks/bench_fine_tuning.py [--app MobileNetV3Small] [--images 256]
        [--frozen 2] [--epochs 3] [--repeats 2]

The plain script is the keras.io recipe written by hand: the backbone (weights=None, offline)
frozen under a new head, `fit` for `--frozen` epochs, then its top 20 layers unfrozen
(BatchNormalization kept frozen), compiled again at 1e-5 and `fit` to `--epochs`. The engine
run is the same project with a palette backbone and `training.fine_tuning`, as `deepgui train`
trains it (callbacks, checkpoints, run folder). Order A-B-B-A `--repeats` times; medians; the
ratio is engine/plain samples per second (aim >= 0.97).
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
from deepgui.core.data.base import LoadedData  # noqa: E402
from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.core.training import (  # noqa: E402
    TrainingConfig,
    TrainingEngine,
    fine_tuning,  # noqa: E402
)
from deepgui.core.training.config import make_optimizer  # noqa: E402
from deepgui.train_cli import ProgressPrinter  # noqa: E402


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def project_for(app: str, size: int) -> Project:
    graph = Graph()
    image = graph.add_node("InputLayer", {"name": "image", "shape": [size, size, 3]})
    backbone = graph.add_node(
        app, {"weights": "none", "pooling": "avg", "include_top": False, "trainable": False}
    )
    head = graph.add_node("Dense", {"name": "classes", "units": 3, "activation": "softmax"})
    graph.connect(image.id, backbone.id)
    graph.connect(backbone.id, head.id)
    return Project(graph=graph)


def images(n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    tints = np.array([[200, 40, 40], [40, 200, 40], [40, 40, 200]], "float32")
    x = (rng.normal(0, 50, (n, size, size, 3)) + tints[y][:, None, None, :]).clip(0, 255)
    return x.astype("float32"), y.astype("int32")


def plain(project: Project, data, cfg: TrainingConfig) -> float:
    import keras

    start = time.perf_counter()
    keras.utils.set_random_seed(cfg.seed)
    model = build_model(project.graph)
    steps = -(-data.num_train // cfg.batch_size)
    loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    val = (data.x_val, data.y_val)
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layer.trainable = False
    model.compile(optimizer=make_optimizer(cfg, steps), loss=loss, metrics=metrics)
    frozen = cfg.fine_tuning.frozen_epochs
    model.fit(data.x_train, data.y_train, batch_size=cfg.batch_size, epochs=frozen,
              validation_data=val, verbose=0)  # fmt: skip

    def leaves(m):
        out = []
        for sub in m.layers:
            out += leaves(sub) if isinstance(sub, keras.Model) else [sub]
        return out

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layer.trainable = True
            inner = [sub for sub in leaves(layer) if sub.weights]
            for sub in inner[:-20]:
                sub.trainable = False
            for sub in inner:
                if isinstance(sub, keras.layers.BatchNormalization):
                    sub.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=loss, metrics=metrics)
    model.fit(data.x_train, data.y_train, batch_size=cfg.batch_size, epochs=cfg.epochs,
              initial_epoch=frozen, validation_data=val, verbose=0)  # fmt: skip
    return time.perf_counter() - start


def engine(project: Project, data, cfg: TrainingConfig, run_dir: Path) -> float:
    start = time.perf_counter()
    result = TrainingEngine(None, data, cfg, ProgressPrinter(_Tty()), project=project,
                            run_dir=run_dir).run()  # fmt: skip
    assert result.reason == "completed", result.metrics.get("message")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--app", default="MobileNetV3Small")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--frozen", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    project = project_for(args.app, args.size)
    x, y = images(args.images, args.size)
    cut = int(len(x) * 0.8)
    data = LoadedData(x_train=x[:cut], y_train=y[:cut], x_val=x[cut:], y_val=y[cut:],
                      class_names=["red", "green", "blue"])  # fmt: skip
    cfg = TrainingConfig.from_dict({
        "epochs": args.epochs, "batch_size": 32, "device": "cpu", "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy"],
        "fine_tuning": {"enabled": True, "frozen_epochs": args.frozen, "unfreeze_layers": 20,
                        "learning_rate": 1e-5},
    })  # fmt: skip
    print(fine_tuning.describe(cfg))
    samples = data.num_train * cfg.epochs
    print(f"{args.app} {args.size}x{args.size}, {data.num_train} training images, "
          f"{cfg.epochs} epochs, order A-B-B-A x{args.repeats}")  # fmt: skip
    times: dict[str, list[float]] = {"plain": [], "engine": []}
    with tempfile.TemporaryDirectory() as tmp:
        plain(project, data, cfg.with_overrides(epochs=args.frozen + 1))  # warm-up: first traces
        for r in range(args.repeats):
            for i, which in enumerate(("plain", "engine", "engine", "plain")):
                if which == "plain":
                    t = plain(project, data, cfg)
                else:
                    t = engine(project, data, cfg, Path(tmp) / f"run{r}-{i}")
                times[which].append(t)
                print(f"  {which:6s} {t:7.2f} s  {samples / t:8,.0f} samples/s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k in ("plain", "engine"):
        print(f"median {k:6s}: {med[k]:.2f} s, {samples / med[k]:,.0f} samples/s")
    print(f"ratio engine/plain throughput: {med['plain'] / med['engine']:.3f} (aim >= 0.97)")


if __name__ == "__main__":
    main()
