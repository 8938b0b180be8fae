"""Screenshots of the Training panel training the digits example, for docs and review.

    .venv/bin/python scripts/screenshots_training.py [OUT_DIR]     (default: screenshots/)

Runs under Xvfb when there is no display (re-executes itself through xvfb-run). The panel sits
in a plain QMainWindow. The example is copied to a temporary folder (its runs are written beside
it) and, so that it overfits within a minute, trained longer on fewer samples without its
Dropout. Writes data.png, configuration.png, live_plots.png, overfitting.png, runs.png and
confusion_matrix.png.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ensure_display() -> None:
    if os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return
    runner = shutil.which("xvfb-run")
    if runner is None:
        sys.exit(
            "No display and no xvfb-run: install xvfb (apt-get install xvfb libxcb-cursor0 …)."
        )
    cmd = [runner, "-a", "-s", "-screen 0 1680x1050x24", sys.executable, *sys.argv]
    sys.exit(subprocess.call(cmd))


def main() -> None:
    _ensure_display()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QObject, QTimer, Slot
    from PySide6.QtWidgets import QApplication, QMainWindow

    from deepgui.core.paths import examples_dir
    from deepgui.core.project import load_project
    from deepgui.ui.training.panel import TrainingPanel

    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="deepgui-shots-"))
    shutil.copy(examples_dir() / "digits_cnn.dgproj", work / "digits_cnn.dgproj")
    project = load_project(work / "digits_cnn.dgproj")
    for node in project.graph:
        if node.class_name == "Dropout":
            node.config["rate"] = 0.0
    project.dataset.update(validation_split=0.5, test_split=0.1)
    project.training.update(epochs=60, learning_rate=0.003,
                            overfitting={"patience": 2, "gap": 0.1})  # fmt: skip

    app = QApplication.instance() or QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("deepgui — digits_cnn — Training")
    panel = TrainingPanel(lambda: project)
    window.setCentralWidget(panel)
    window.resize(1600, 980)
    window.show()
    shots: list[str] = []

    def shot(name: str) -> None:
        app.processEvents()
        panel.plots.redraw()
        app.processEvents()
        window.grab().save(str(out / f"{name}.png"))
        shots.append(name)
        print(f"wrote {out / name}.png", flush=True)

    class Director(QObject):
        """Receives the worker's signals on the GUI thread (a QObject's slots are queued)."""

        overfit_epoch: int | None = None

        @Slot(int, object)
        def on_epoch(self, epoch: int, _logs) -> None:
            if epoch == 4:
                QTimer.singleShot(150, lambda: shot("live_plots"))
            if self.overfit_epoch and epoch == self.overfit_epoch + 3:
                shot("overfitting")
                panel.stop_training()

        @Slot(object)
        def on_overfit(self, report) -> None:
            self.overfit_epoch = report.detected_at

    director = Director()

    def on_finished(reason: str) -> None:
        if "overfitting" not in shots:
            shot("overfitting")
        panel.view_tabs.setCurrentWidget(panel.evaluation)
        shot("confusion_matrix")
        panel.view_tabs.setCurrentWidget(panel.runs)
        if panel.runs.runs:
            panel.runs.select([panel.runs.runs[0].name])
        shot("runs")
        QTimer.singleShot(100, app.quit)

    def start() -> None:
        panel.settings_tabs.setCurrentIndex(0)
        panel.data_view.refresh_preview()
        QTimer.singleShot(2500, after_preview)

    def after_preview() -> None:
        shot("data")
        panel.settings_tabs.setCurrentIndex(1)
        shot("configuration")
        panel.start_training()
        panel.run.worker.epoch_ended.connect(director.on_epoch)
        panel.run.worker.overfitting_detected.connect(director.on_overfit)

    panel.run_finished.connect(on_finished)
    QTimer.singleShot(300, start)
    QTimer.singleShot(240_000, app.quit)  # never hang
    app.exec()
    panel.shutdown(10000)
    shutil.rmtree(work, ignore_errors=True)
    print(f"{len(shots)} screenshots in {out}")


if __name__ == "__main__":
    main()
