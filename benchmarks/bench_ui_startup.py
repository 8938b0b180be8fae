"""Time from process start to the app's first painted window, against baselines run alike.

    .venv/bin/python benchmarks/bench_ui_startup.py [--runs 7]

Each figure is the median wall time from launching a fresh Python process to (a) its exit for
the baselines `python -c pass` and `import PySide6.QtWidgets`, (b) the first paint of a bare
QWidget, and (c) the first paint of deepgui's main window opening the example project
(DEEPGUI_STARTUP_PROBE makes the app print the moment and quit). Offscreen unless DISPLAY is set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

BARE_WINDOW = """
import time, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
class F(QObject):
    def eventFilter(self, o, e):
        if e.type() == QEvent.Type.Paint:
            print(f"first-paint {time.time():.6f}", flush=True)
            QTimer.singleShot(0, app.quit)
        return False
app = QApplication([])
w = QMainWindow(); w.resize(1400, 900)
f = F(); w.installEventFilter(f)
w.show(); app.exec()
"""

APP = "from deepgui.ui.app import run_app; run_app()"


def timed(code: str, env: dict[str, str], until_paint: bool) -> tuple[float, str]:
    start = time.time()
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    end = time.time()
    if until_paint:
        line = next((x for x in proc.stdout.splitlines() if x.startswith("first-paint")), None)
        if line is None:
            raise RuntimeError(f"no paint reported:\n{proc.stdout}\n{proc.stderr}")
        parts = line.split()
        return float(parts[1]) - start, " ".join(parts[2:])
    return end - start, ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", DEEPGUI_STARTUP_PROBE="1")
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    cases = [
        ("python -c pass", "pass", False),
        ("import PySide6.QtWidgets", "import PySide6.QtWidgets", False),
        ("bare QMainWindow first paint", BARE_WINDOW, True),
        ("deepgui first paint", APP, True),
    ]
    results: dict[str, list[float]] = {}
    notes: set[str] = set()
    for _ in range(args.runs):  # interleaved, so a busy moment hits every case alike
        for name, code, paint in cases:
            # A fresh settings folder: every run is a first launch opening the example.
            env["DEEPGUI_CONFIG_DIR"] = tempfile.mkdtemp(prefix="deepgui-bench-")
            seconds, note = timed(code, env, paint)
            results.setdefault(name, []).append(seconds)
            if note:
                notes.add(note)
    print(f"platform: {env['QT_QPA_PLATFORM']}, runs: {args.runs}, cpus: {os.cpu_count()}")
    base = statistics.median(results["python -c pass"])
    qt = statistics.median(results["import PySide6.QtWidgets"])
    for name, values in results.items():
        med = statistics.median(values)
        print(f"{name:32s} median {med * 1000:7.0f} ms  (min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"
              f"  x{med / base:5.1f} of python -c pass  x{med / qt:4.2f} of importing PySide6")  # fmt: skip
    app = statistics.median(results["deepgui first paint"])
    print(
        f"deepgui first paint: {app * 1000:.0f} ms (target < 1000 ms): {'OK' if app < 1.0 else 'SLOW'}"
    )
    print(f"at first paint: {', '.join(sorted(notes))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
