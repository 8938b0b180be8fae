"""Importing models people bring: `deepgui import` against Keras's own loading of the file.

    .venv/bin/python benchmarks/bench_import.py [--apps ConvNeXtTiny,MobileNetV3Small] [--repeats 3]

For each Keras Applications backbone (weights=None, 64x64) under a new head, saved as .keras:
  deepgui: import_model_file (safe load, graph with the backbone as one block, weights written
           beside the project)  vs  keras.saving.load_model of the same file
and prints the medians, their ratio (deepgui / Keras; lower is better) and the aim (ConvNeXtTiny
under 3 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deepgui.core.keras_import import import_model_file  # noqa: E402
from deepgui.core.keras_layers import keras  # noqa: E402


def save_under_head(app: str, path: Path) -> None:
    k = keras()
    backbone = getattr(k.applications, app)(
        include_top=False, weights=None, input_shape=(64, 64, 3)
    )
    inputs = k.Input((64, 64, 3))
    x = k.layers.GlobalAveragePooling2D()(backbone(inputs))
    k.Model(inputs, k.layers.Dense(10, activation="softmax")(x)).save(path)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", default="ConvNeXtTiny,MobileNetV3Small")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    k = keras()
    with tempfile.TemporaryDirectory() as folder:
        for app in args.apps.split(","):
            source = Path(folder) / f"{app}.keras"
            save_under_head(app, source)
            ours, theirs = [], []
            for i in range(args.repeats):
                target = Path(folder) / f"{app}_{i}.dgproj"
                ours.append(timed(lambda s=source, t=target: import_model_file(s, t)))
                theirs.append(timed(lambda s=source: k.saving.load_model(s, safe_mode=True)))
            mine, base = statistics.median(ours), statistics.median(theirs)
            aim = (
                "  (aim < 3 s: " + ("met)" if mine < 3 else "not met)")
                if app == "ConvNeXtTiny"
                else ""
            )
            print(
                f"{app:18s} deepgui import {mine:6.2f} s   keras load_model {base:6.2f} s   "
                f"ratio {mine / base:4.2f}x{aim}"
            )


if __name__ == "__main__":
    main()
