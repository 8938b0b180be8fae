"""Write the shipped sample data sets. A developer tool, run once; deepgui never runs it.

    python resources/datasets/make_samples.py SKLEARN_DATA_DIR

digits and iris are the real data sets, read from the CSV files that scikit-learn bundles in
``sklearn/datasets/data`` (pass that folder); sequence (falling, level or rising walks) and moons are generated here with a fixed
seed. deepgui itself reads only the files this script writes.
"""

from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20240521


def write_digits(sk_data: Path) -> None:
    with gzip.open(sk_data / "digits.csv.gz", "rt") as fh:
        table = np.loadtxt(fh, delimiter=",")
    x = table[:, :-1].astype(np.uint8).reshape(-1, 8, 8, 1)  # grey levels 0..16
    y = table[:, -1].astype(np.uint8)
    np.savez_compressed(HERE / "digits.npz", x=x, y=y)


def write_iris(sk_data: Path) -> None:
    names = ["setosa", "versicolor", "virginica"]
    with open(sk_data / "iris.csv", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    with open(HERE / "iris.csv", "w", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
        for row in rows:
            out.writerow([*row[:4], names[int(row[4])]])


def trends(n: int, steps: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noisy random walks that fall (class 0), stay level (1) or rise (2), from a random start."""
    y = rng.integers(0, 3, size=n)
    drift = np.array([-0.2, 0.0, 0.2])[y][:, None]
    x = np.cumsum(drift + rng.normal(0.0, 0.2, size=(n, steps)), axis=1)
    x += rng.normal(0.0, 1.0, size=(n, 1))
    return x[..., None].astype(np.float16), y.astype(np.uint8)


def write_sequence() -> None:
    x, y = trends(1200, 40, np.random.default_rng(SEED))
    np.savez_compressed(HERE / "sequence.npz", x=x, y=y)


def write_moons(n: int = 500) -> None:
    rng = np.random.default_rng(SEED)
    half = n // 2
    angle_a = rng.uniform(0, np.pi, half)
    angle_b = rng.uniform(0, np.pi, n - half)
    a = np.stack([np.cos(angle_a), np.sin(angle_a)], axis=1)
    b = np.stack([1 - np.cos(angle_b), 0.5 - np.sin(angle_b)], axis=1)
    x = np.concatenate([a, b]) + rng.normal(0, 0.15, size=(n, 2))
    y = np.concatenate([np.zeros(half, int), np.ones(n - half, int)])
    order = rng.permutation(n)
    with open(HERE / "moons.csv", "w", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["x1", "x2", "label"])
        for i in order:
            out.writerow([f"{x[i, 0]:.4f}", f"{x[i, 1]:.4f}", y[i]])


if __name__ == "__main__":
    sk = Path(sys.argv[1])
    write_digits(sk)
    write_iris(sk)
    write_sequence()
    write_moons()
