"""Export benchmark: what the self-check costs, and how the exported runtimes compare.

For the digits CNN and the sequence LSTM examples, per format:
- time of `export_model` (write + load + compare) against the bare Keras export call, as a ratio
  (the self-check's overhead);
- artefact size against the `.keras` file;
- loading the artefact in its runtime and running a batch of 32, against the same for `.keras`
  (Keras's load_model and a call).
Medians of REPEATS runs, all measured in this process.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPEATS = 3
FORMATS = ["keras", "savedmodel", "tflite", "onnx"]


def median_time(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_export(model, fmt: str, path: Path, batch_size: int | None) -> None:
    """The Keras call alone, no staging and no check (the baseline)."""
    if fmt == "keras":
        model.save(str(path))
    elif fmt == "savedmodel":
        model.export(str(path), format="tf_saved_model", verbose=False)
    elif fmt == "tflite":
        from deepgui.core.export.formats import write_tflite

        write_tflite(model, path, None, batch_size)
    else:
        model.export(str(path), format="onnx", verbose=False)


def main() -> None:
    from deepgui.core.export import load_source_model
    from deepgui.core.export.samples import random_inputs, reference_outputs

    examples = ROOT / "resources" / "examples"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ("digits_cnn", "sequence_lstm"):
            model, _ = load_source_model(examples / f"{name}.dgproj")
            batch = random_inputs(model, batch=32, seed=1)
            reference_outputs(model, batch)  # trace once
            call = median_time(lambda m=model, b=batch: reference_outputs(m, b), 7)
            print(f"\n{name}: {model.count_params()} params; Keras model call on 32 samples "
                  f"{call * 1e3:.2f} ms")  # fmt: skip
            print(f"{'format':<11}{'export+check s':>15}{'bare s':>8}{'ratio':>7}"
                  f"{'size vs .keras':>16}{'load+run ms':>12}{'vs .keras':>10}{'max diff':>10}")  # fmt: skip
            keras_size = keras_latency = None
            for fmt in FORMATS:
                report, checked, bare, latency = bench_format(model, fmt, tmp / name, batch)
                keras_size = keras_size or report.size_bytes
                keras_latency = keras_latency or latency
                print(
                    f"{fmt:<11}{checked:>15.2f}{bare:>8.2f}{checked / bare:>7.2f}"
                    f"{report.size_bytes / keras_size:>16.2f}{latency * 1e3:>12.1f}"
                    f"{latency / keras_latency:>10.2f}{report.max_abs_diff:>10.1e}"
                )
                assert report.ok, report.message


def bench_format(model, fmt: str, stem: Path, batch: list):
    """(report, export+check seconds, bare export seconds, load+run seconds), medians."""
    from deepgui.core.export import export_model
    from deepgui.core.export import formats as F

    reports = []
    checked = median_time(lambda: reports.append(export_model(model, fmt, f"{stem}_{fmt}")))
    report = reports[-1]
    fixed = 1 if "batch size fixed" in report.message else None
    bare_path = Path(f"{stem}_{fmt}_bare{F.FORMATS[fmt].suffix}")
    bare = median_time(lambda: bare_export(model, fmt, bare_path, fixed))
    F.run(fmt, report.path, model, batch)  # warm
    latency = median_time(lambda: F.run(fmt, report.path, model, batch), 5)
    return report, checked, bare, latency


if __name__ == "__main__":
    main()
