"""Loading speed of deepgui's data sources against plain NumPy/Keras loading of the same files.

    .venv/bin/python benchmarks/bench_data_loading.py [--rows 1000000] [--images 10000] [--repeats 3]

Generates, in a temporary folder, a CSV of numeric columns and a class column, and a folder of
small PNG images in 10 class subfolders. Then times, median of the repeats:
  csv:    load_dataset (typing, missing check, split, standardization)  vs  np.loadtxt + split
  csv with string columns (one-hot city, string label)  vs  np.loadtxt per column + np.unique
  images: load_dataset (header check, read, split)  vs  keras image_dataset_from_directory to arrays
and prints each pair with their ratio (deepgui / baseline; lower is better).
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deepgui.core.data import load_dataset  # noqa: E402


def write_png(path: Path, pixels: np.ndarray) -> None:
    h, w = pixels.shape[:2]
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def make_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 5)) * [1, 10, 100, 0.1, 5]
    y = rng.integers(0, 3, size=rows)
    table = np.column_stack([x, y])
    np.savetxt(
        path, table, delimiter=",", fmt=["%.5f"] * 5 + ["%d"], header="a,b,c,d,e,label", comments=""
    )


def make_mixed_csv(path: Path, rows: int) -> None:
    """Numbers, a city column and a string label: the loader's string path."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 4))
    city = np.array(["paris", "rome", "oslo", "lima"])[rng.integers(0, 4, size=rows)]
    label = np.array(["low", "mid", "high"])[rng.integers(0, 3, size=rows)]
    with open(path, "w") as fh:
        fh.write("a,b,c,d,city,label\n")
        for i in range(0, rows, 100_000):
            block = x[i : i + 100_000]
            lines = [
                f"{r[0]:.5f},{r[1]:.5f},{r[2]:.5f},{r[3]:.5f},{c},{lab}"
                for r, c, lab in zip(
                    block, city[i : i + 100_000], label[i : i + 100_000], strict=True
                )
            ]
            fh.write("\n".join(lines) + "\n")


def baseline_mixed_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    x = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(4))
    city = np.loadtxt(path, delimiter=",", skiprows=1, usecols=4, dtype=str)
    label = np.loadtxt(path, delimiter=",", skiprows=1, usecols=5, dtype=str)
    cities, codes = np.unique(city, return_inverse=True)
    one_hot = np.eye(len(cities), dtype=np.float32)[codes]
    _, y = np.unique(label, return_inverse=True)
    idx = np.random.default_rng(42).permutation(len(y))
    train = idx[len(y) // 5 :]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    return np.hstack([((x - mean) / std).astype(np.float32), one_hot]), y


def make_images(root: Path, count: int, size: int = 32) -> None:
    rng = np.random.default_rng(0)
    for i in range(count):
        folder = root / f"class{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        write_png(folder / f"{i}.png", rng.integers(0, 256, size=(size, size, 3), dtype=np.uint8))


def baseline_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    x, y = table[:, :-1].astype(np.float32), table[:, -1].astype(np.int32)
    idx = np.random.default_rng(42).permutation(len(y))
    n_val = len(y) // 5
    train = idx[n_val:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    return (x - mean) / std, y


def baseline_images(root: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    import keras

    ds = keras.utils.image_dataset_from_directory(
        str(root), image_size=(size, size), batch_size=512, shuffle=False, verbose=False
    )
    xs, ys = zip(*ds.as_numpy_iterator(), strict=True)
    x = np.concatenate(xs) / 255.0
    y = np.concatenate(ys)
    idx = np.random.default_rng(42).permutation(len(y))
    return x[idx], y[idx]


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(label: str, ours, base, repeats: int) -> None:
    ours()  # warm up: imports and the first tf.data graph are not what we measure
    base()
    # Both orders, so neither side profits from the other's warm file cache.
    t_ours = [median_time(ours, repeats)]
    t_base = [median_time(base, repeats)]
    t_base.append(median_time(base, repeats))
    t_ours.append(median_time(ours, repeats))
    o, b = statistics.median(t_ours), statistics.median(t_base)
    print(f"{label:<34} deepgui {o:7.3f} s   baseline {b:7.3f} s   ratio {o / b:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv = tmp / "big.csv"
        start = time.perf_counter()
        make_csv(csv, args.rows)
        print(
            f"generated {args.rows} CSV rows ({csv.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s"
        )
        spec = {"source": "csv", "path": str(csv), "target": "label"}
        compare(
            f"CSV, {args.rows} rows x 6 columns",
            lambda: load_dataset(spec),
            lambda: baseline_csv(csv),
            args.repeats,
        )
        csv.unlink()
        mixed = tmp / "mixed.csv"
        make_mixed_csv(mixed, args.rows)
        mixed_spec = {"source": "csv", "path": str(mixed), "target": "label"}
        compare(
            f"CSV with strings, {args.rows} rows",
            lambda: load_dataset(mixed_spec),
            lambda: baseline_mixed_csv(mixed),
            args.repeats,
        )
        mixed.unlink()

        root = tmp / "images"
        start = time.perf_counter()
        make_images(root, args.images)
        print(
            f"generated {args.images} PNG images of 32x32 RGB in {time.perf_counter() - start:.1f} s"
        )
        img_spec = {
            "source": "image_folder",
            "path": str(root),
            "image_size": [32, 32],
            "color_mode": "rgb",
        }
        compare(
            f"image folder, {args.images} images",
            lambda: load_dataset(img_spec),
            lambda: baseline_images(root, 32),
            args.repeats,
        )


if __name__ == "__main__":
    main()
