"""Reading and typing a mixed CSV: deepgui's reader, the exported script's reader, and pandas.

    .venv/bin/python benchmarks/bench_csv_read.py [--rows 100000] [--repeats 5]

Writes, in a temporary folder, a table of ROWS rows: three float columns (one with 1% of its
cells "NA"), an integer column, two category columns and a column of short phrases, comma-
separated; the same table separated by semicolons with decimal commas; and the first with a
blank line in its middle (which only deepgui's careful path reads). Then times, median
of the repeats, against pandas.read_csv on the same file (the baseline, measured in this run):
  read:  deepgui.core.data.table.read_csv  |  deepgui.script_runtime.read_csv
  typed: read_csv + type_column on every column  |  runtime read_csv + column_kind on every column
  pandas: read_csv(sep=",", na_values=deepgui's spellings)  and  read_csv(sep=None) (sniffing,
          which pandas does only with its Python engine)
and prints each with its ratio to pandas with the delimiter given (lower is better).

Then a wide table, WIDE columns by 40 rows (--wide, default 10,000; 0 leaves it out): all
numbers, and half numbers half short words, read and typed by deepgui against pandas.read_csv
of the same file; and the same at a tenth of the columns, for the growth exponent (1.0 is
linear). --rows 0 leaves the long tables out.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deepgui import script_runtime as runtime  # noqa: E402
from deepgui.core.data import table as deepgui_table  # noqa: E402


def make_table(
    path: Path, rows: int, delimiter: str = ",", decimal: str = ".", blank: bool = False
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3)) * [1, 10, 100]
    gaps = rng.random(rows) < 0.01
    count = rng.integers(0, 1000, size=rows)
    city = np.array(["paris", "rome", "oslo", "lima", "quito"])[rng.integers(0, 5, size=rows)]
    label = np.array(["low", "mid", "high"])[rng.integers(0, 3, size=rows)]
    words = np.array(["red", "old", "small", "fast", "car", "house", "tree", "river"])
    phrase = [" ".join(words[rng.integers(0, 8, size=3)]) for _ in range(rows)]
    d = delimiter
    with open(path, "w") as fh:
        fh.write(d.join(["a", "b", "c", "count", "city", "note", "label"]) + "\n")
        for i in range(rows):
            a = "NA" if gaps[i] else f"{x[i, 0]:.5f}"
            b, c = f"{x[i, 1]:.4f}", f"{x[i, 2]:.3f}"
            if decimal != ".":
                a, b, c = (v.replace(".", decimal) for v in (a, b, c))
            fh.write(d.join([a, b, c, str(count[i]), city[i], phrase[i], label[i]]) + "\n")
            if blank and i == rows // 2:
                fh.write("\n")  # NumPy's parser refuses it: deepgui's careful path reads it


def make_wide_table(path: Path, rows: int, columns: int, words: bool) -> None:
    """`columns` columns and a label; with `words`, every other column short words."""
    rng = np.random.default_rng(0)
    names = np.array(["red", "green", "blue"])
    with open(path, "w") as fh:
        fh.write(",".join(f"c{j}" for j in range(columns)) + ",label\n")
        for i in range(rows):
            numbers = [f"{v:.3f}" for v in rng.normal(size=columns)]
            if words:
                numbers[1::2] = names[(i + np.arange(1, columns, 2)) % 3]
            fh.write(",".join(numbers) + f",{i % 2}\n")


def wide_tables(tmp: str, columns: int, repeats: int) -> None:
    import pandas as pd

    for words in (False, True):
        kind = "half numbers, half words" if words else "numbers"
        times = {}
        for width in (columns // 10, columns):
            path = Path(tmp) / f"wide{width}.csv"
            make_wide_table(path, 40, width, words)

            def deepgui_typed(path=path):
                t = deepgui_table.read_csv(path)
                return [deepgui_table.type_column(t, h) for h in t.header]

            base = median_seconds(lambda path=path: pd.read_csv(path), repeats)
            ours = median_seconds(deepgui_typed, repeats)
            times[width] = ours
            print(f"40 rows x {width:,} columns, {kind}, median of {repeats}:")
            print(f"  {'pandas.read_csv (baseline)':46s} {base * 1000:8.1f} ms")
            print(
                f"  {'deepgui read_csv + type_column':46s} {ours * 1000:8.1f} ms  {ours / base:5.2f}x"
            )
        small, big = columns // 10, columns
        growth = math.log(times[big] / times[small]) / math.log(big / small)
        print(f"  growth exponent from {small:,} to {big:,} columns: {growth:.2f}")


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--wide", type=int, default=10_000)
    args = parser.parse_args()
    import pandas as pd

    na = sorted(deepgui_table._MISSING_SPELLINGS)
    with tempfile.TemporaryDirectory() as tmp:
        long_tables = (
            ("comma-separated", ",", ".", False),
            ("semicolon-separated, decimal commas", ";", ",", False),
            ("comma-separated with a blank line", ",", ".", True),
        )
        for name, delimiter, decimal, blank in long_tables if args.rows else ():
            path = Path(tmp) / "table.csv"
            make_table(path, args.rows, delimiter, decimal, blank)

            def deepgui_typed(path=path):
                t = deepgui_table.read_csv(path)
                return [deepgui_table.type_column(t, h) for h in t.header]

            def runtime_typed(path=path):
                t = runtime.read_csv(path)
                return [runtime.column_kind(t, h) for h in t.header]

            def pandas_read(path=path, sep=delimiter, decimal=decimal):
                return pd.read_csv(
                    path, sep=sep, decimal=decimal, na_values=na, keep_default_na=False
                )

            def pandas_sniffed(path=path, decimal=decimal):
                return pd.read_csv(
                    path, sep=None, engine="python", decimal=decimal, na_values=na,
                    keep_default_na=False,
                )  # fmt: skip

            base = median_seconds(pandas_read, args.repeats)
            print(f"{name}, {args.rows:,} rows, median of {args.repeats}:")
            print(f"  {'pandas.read_csv, delimiter given (baseline)':46s} {base * 1000:8.1f} ms")
            for what, fn in (
                ("pandas.read_csv(sep=None), sniffed", pandas_sniffed),
                ("deepgui table.read_csv", lambda path=path: deepgui_table.read_csv(path)),
                ("deepgui read_csv + type_column", deepgui_typed),
                ("script_runtime.read_csv", lambda path=path: runtime.read_csv(path)),
                ("script_runtime read_csv + column_kind", runtime_typed),
            ):
                s = median_seconds(fn, args.repeats)
                print(f"  {what:46s} {s * 1000:8.1f} ms  {s / base:5.2f}x")
        if args.wide:
            wide_tables(tmp, args.wide, args.repeats)


if __name__ == "__main__":
    main()
