"""Start-up of the command line: each command's wall time against `python -c "import keras"`,
measured in the same run.

    .venv/bin/python benchmarks/bench_startup.py [--runs 3]

Each figure is the median wall time of a fresh process from launch to exit, the cases
interleaved so that a busy moment hits them alike, after one untimed round. Bytecode is cached
as it is in an installed package (the site-packages are): a PYTHONDONTWRITEBYTECODE setting is
dropped for the measured processes, or deepgui alone would be compiled afresh every time. Aims (issue 23): `summary` at most 1.2x
the Keras import (it needs Keras, and little else), `--help` under 0.5 s, and `predict` on an
ONNX file under 2 s (it needs neither TensorFlow nor Keras).
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

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "resources" / "examples" / "digits_cnn.dgproj"
DEEPGUI = [sys.executable, "-m", "deepgui"]


def tiny_onnx(folder: Path) -> tuple[Path, Path] | None:
    """A small ONNX classifier and samples for `predict`; None without the onnx package."""
    try:
        import numpy as np
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        return None
    rng = np.random.default_rng(0)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W", "b"], ["z"]),
         helper.make_node("Softmax", ["z"], ["probs"], axis=1)],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", 3])],
        initializer=[numpy_helper.from_array(rng.normal(size=(4, 3)).astype("float32"), "W"),
                     numpy_helper.from_array(np.zeros(3, "float32"), "b")],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(folder / "tiny.onnx"))
    np.savez(folder / "samples.npz", x=rng.normal(size=(100, 4)).astype("float32"))
    return folder / "tiny.onnx", folder / "samples.npz"


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stderr[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    for name in ("DEEPGUI_DEBUG", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    folder = Path(tempfile.mkdtemp(prefix="deepgui-bench-startup-"))
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import keras"': [sys.executable, "-c", "import keras"],
        "deepgui --help": [*DEEPGUI, "--help"],
        "deepgui examples": [*DEEPGUI, "examples"],
        "deepgui datasets": [*DEEPGUI, "datasets"],
        "deepgui summary digits_cnn": [*DEEPGUI, "summary", str(EXAMPLE)],
    }
    onnx_files = tiny_onnx(folder)
    if onnx_files is not None:
        model, data = onnx_files
        cases["deepgui predict (ONNX)"] = [*DEEPGUI, "predict", str(model), "--data", str(data)]
    results: dict[str, list[float]] = {name: [] for name in cases}
    for run in range(args.runs + 1):
        for name, argv in cases.items():
            seconds = timed(argv, env)
            if run:  # the first round warms the bytecode and the disk cache
                results[name].append(seconds)
    medians = {name: statistics.median(values) for name, values in results.items()}
    keras_s = medians['python -c "import keras"']
    print(f"runs: {args.runs}, cpus: {os.cpu_count()}, medians of wall time per process")
    for name, seconds in medians.items():
        print(f"  {name:30s} {seconds:6.2f} s  {seconds / keras_s:5.2f}x import keras")
    aims = [
        ("summary <= 1.2x import keras",
         medians["deepgui summary digits_cnn"] / keras_s <= 1.2),
        ("--help under 0.5 s", medians["deepgui --help"] < 0.5),
    ]  # fmt: skip
    if onnx_files is not None:
        aims.append(("predict on ONNX under 2 s", medians["deepgui predict (ONNX)"] < 2.0))
    for aim, met in aims:
        print(f"  aim {aim}: {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
