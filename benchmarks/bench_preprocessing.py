"""What preprocessing inside the model costs: training throughput and inference throughput.

    .venv/bin/python benchmarks/bench_preprocessing.py [--rows 20000] [--columns 30] [--repeats 3]

Data: a CSV written here, `--columns` numeric columns (some cells missing) and a string
category column, binary target. Model: Dense 64 - Dense 32 - Dense 2 on the feature vector.

1. Training. Baseline: what the loader did before the preprocessing moved into Keras layers:
   standardize and one-hot the columns with NumPy, then `model.fit` on the arrays. Ours: the
   adapted Keras layers turn the raw columns into arrays once (as `load_dataset` does), then
   the same `fit`. Both are timed from the raw columns to the end of fit (reading the CSV and
   fitting the statistics are the same work either way and left out). A third line shows the layers run per batch in a
   tf.data map every epoch instead of once, which is why deepgui computes them once.
2. Inference. Baseline: the bare network on preprocessed arrays. Ours: the run's raw-input
   model (one named input per column, preprocessing inside) on the raw columns. Timed two ways:
   the model called on batches (what `deepgui predict` and a serving loop do) and Keras's
   `predict()`, whose data adapter pays per input and per batch (31 inputs here).

Runs alternate A-B-B-A `--repeats` times in this process; figures are medians; ratios are
ours/baseline samples per second (aims: training >= 0.95, inference >= 0.9).
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

import numpy as np  # noqa: E402

from deepgui.core.data import load_dataset  # noqa: E402

EPOCHS, BATCH = 10, 64  # 10: a new project's default number of epochs


def write_csv(path: Path, rows: int, columns: int) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, columns)) * rng.uniform(1, 100, columns) + rng.uniform(-50, 50)
    cats = rng.choice(["red", "green", "blue", "grey"], rows)
    y = (x[:, 0] / x[:, 0].std() + (cats == "red") + rng.normal(0, 0.5, rows) > 0.5).astype(int)
    header = ",".join([*(f"f{i}" for i in range(columns)), "colour", "target"])
    lines = [header]
    for i in range(rows):
        cells = ["" if (i + j) % 97 == 0 else f"{v:.4f}" for j, v in enumerate(x[i])]
        lines.append(",".join([*cells, cats[i], str(y[i])]))
    path.write_text("\n".join(lines) + "\n")
    return path


def numpy_preprocessing(data) -> tuple[np.ndarray, np.ndarray]:
    """The old loader's way: NumPy statistics of the training split, applied to both splits."""

    def matrix(raw):
        cols = []
        for name, values in raw.items():
            if values.dtype == object:
                cats = sorted(set(data.raw_train[name]))
                cols.append((values[:, None] == np.array(cats)[None, :]).astype(np.float32))
            else:
                train = data.raw_train[name]
                fill = np.nanmean(train)
                v = np.where(np.isnan(values), fill, values)
                cols.append(((v - np.nanmean(train)) / np.nanstd(train))[:, None])
        return np.concatenate(cols, axis=1).astype(np.float32)

    return matrix(data.raw_train), matrix(data.raw_val)


def network(width: int):
    import keras

    inputs = keras.Input((width,), name="features")
    x = keras.layers.Dense(64, activation="relu")(inputs)
    x = keras.layers.Dense(32, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x), name="net")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def fit(x, y, width: int) -> float:
    import keras

    keras.utils.set_random_seed(1)
    model = network(width)
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, shuffle=True)
    return time.perf_counter() - t0


def train_baseline(data) -> float:
    t0 = time.perf_counter()
    x, _ = numpy_preprocessing(data)
    prep = time.perf_counter() - t0
    return len(x) * EPOCHS / (prep + fit(x, data.y_train, x.shape[1]))


def train_ours(data) -> float:
    """The layers fitted on the training split turn both splits into arrays once (what
    load_dataset does after reading), then the same fit."""
    pre = data.preprocessing
    pre._model = None  # build the layers anew each time, as a new load does
    t0 = time.perf_counter()
    x = pre.apply(data.raw_train)
    pre.apply(data.raw_val)
    prep = time.perf_counter() - t0
    return len(x) * EPOCHS / (prep + fit(x, data.y_train, x.shape[1]))


def train_per_batch_map(data) -> float:
    """The adapted layers in a tf.data map, run again every epoch."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(1)
    pre = data.preprocessing.model()
    raw = {k: (v.astype(str) if v.dtype == object else v) for k, v in data.raw_train.items()}
    ds = tf.data.Dataset.from_tensor_slices((raw, data.y_train)).shuffle(4096).batch(BATCH)
    ds = ds.map(lambda x, y: (pre(x), y), num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)
    model = network(data.x_train.shape[1])
    t0 = time.perf_counter()
    model.fit(ds, epochs=EPOCHS, verbose=0)
    return data.num_train * EPOCHS / (time.perf_counter() - t0)


def inference(data) -> dict[str, tuple[float, float]]:
    """(baseline, ours) samples per second on the training rows, two ways: calling the model on
    batches of 1024 (what deepgui predict and a serving loop do) and Keras's `predict`."""
    import keras

    net = network(data.x_train.shape[1])
    raw_model = data.preprocessing.wrap(net)
    path = Path(tempfile.mkdtemp()) / "model.keras"
    raw_model.save(path)
    loaded = keras.saving.load_model(path)
    x, raw = data.x_train, data.raw_train
    n = len(x)

    def called(model, inputs) -> None:
        for start in range(0, n, 1024):
            part = (
                {k: v[start : start + 1024] for k, v in inputs.items()}
                if isinstance(inputs, dict)
                else inputs[start : start + 1024]
            )
            model(part, training=False)

    def predicted(model, inputs) -> None:
        model.predict(inputs, batch_size=1024, verbose=0)

    out = {}
    for label, run in (("called on batches of 1024", called), ("Keras predict()", predicted)):
        run(net, x[:2048])
        run(loaded, {k: v[:2048] for k, v in raw.items()})
        base, ours = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            run(net, x)
            base.append(n / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            run(loaded, raw)
            ours.append(n / (time.perf_counter() - t0))
        out[label] = (statistics.median(base), statistics.median(ours))
    return out


def image_inference() -> tuple[float, float]:
    """The digits CNN example: the bare network on scaled pixels against the run's raw-input
    model (Rescaling inside) on raw pixels, called on batches of 256."""
    from deepgui.core.build import build_model
    from deepgui.core.paths import examples_dir
    from deepgui.core.project import load_project

    project = load_project(examples_dir() / "digits_cnn.dgproj")
    data = load_dataset(project.dataset, graph=project.graph)
    net = build_model(project.graph)
    raw_model = data.preprocessing.wrap(net)
    x = np.concatenate([data.x_train] * 8)
    raw = np.concatenate([data.raw_train] * 8)

    def called(model, inputs) -> float:
        t0 = time.perf_counter()
        for start in range(0, len(inputs), 256):
            model(inputs[start : start + 256], training=False)
        return len(inputs) / (time.perf_counter() - t0)

    called(net, x[:512])
    called(raw_model, raw[:512])
    base = [called(net, x) for _ in range(5)]
    ours = [called(raw_model, raw) for _ in range(5)]
    return statistics.median(base), statistics.median(ours)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    csv = write_csv(Path(tempfile.mkdtemp()) / "table.csv", args.rows, args.columns)
    data = load_dataset({"source": "csv", "path": str(csv), "target": "target"})
    base, ours = [], []
    for _ in range(args.repeats):
        base.append(train_baseline(data))
        ours.append(train_ours(data))
        ours.append(train_ours(data))
        base.append(train_baseline(data))
    b, o = statistics.median(base), statistics.median(ours)
    mapped = train_per_batch_map(data)
    print(
        f"training, {args.rows} rows x {args.columns + 1} columns, {EPOCHS} epochs, batch {BATCH}"
    )
    print(f"  NumPy preprocessing in the loader (before): {b:,.0f} samples/s")
    print(f"  adapted Keras layers, computed once (now):   {o:,.0f} samples/s  ratio {o / b:.2f}")
    print(f"  adapted Keras layers in a per-batch map:     {mapped:,.0f} samples/s  "
          f"ratio {mapped / b:.2f}")  # fmt: skip
    print(f"inference on {data.num_train} raw rows (bare network on preprocessed arrays -> "
          "raw-input model on the raw columns)")  # fmt: skip
    for label, (ib, io_) in inference(data).items():
        print(f"  {label:<26} {ib:>9,.0f} -> {io_:>9,.0f} samples/s  ratio {io_ / ib:.2f}")
    ib, io_ = image_inference()
    print("inference, digits CNN example (scaled pixels -> raw pixels 0-16, Rescaling inside)")
    print(f"  {'called on batches of 256':<26} {ib:>9,.0f} -> {io_:>9,.0f} samples/s  "
          f"ratio {io_ / ib:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
