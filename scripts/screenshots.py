"""Run the app under Xvfb, click through its main states and save screenshots to screenshots/.

    .venv/bin/python scripts/screenshots.py [--out screenshots]

Needs Xvfb and Qt's xcb libraries (Debian: xvfb libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
libxkbcommon-x11-0 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
libxcb-randr0). The pictures are for a person to look at, not compared pixel by pixel.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _under_xvfb() -> int | None:
    """Re-run this script inside a fresh Xvfb display unless one is already set."""
    if os.environ.get("DEEPGUI_SCREENSHOTS_CHILD"):
        return None
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        print(
            "Xvfb is not installed: apt-get install -y xvfb (and the xcb libraries above).",
            file=sys.stderr,
        )
        return 2
    display = ":97"
    server = subprocess.Popen([xvfb, display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        time.sleep(1.0)
        env = dict(
            os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", DEEPGUI_SCREENSHOTS_CHILD="1"
        )
        return subprocess.call([sys.executable, __file__, *sys.argv[1:]], env=env)
    finally:
        server.terminate()
        server.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--part", choices=("all", "editor", "data"), default="all",
                        help="editor: building a model; data: missing values, what the Input "
                        "receives, predicting on a file")  # fmt: skip
    args = parser.parse_args()
    code = _under_xvfb()
    if code is not None:
        return code
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ["DEEPGUI_CONFIG_DIR"] = tempfile.mkdtemp(prefix="deepgui-shots-")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from PySide6.QtCore import QMimeData, QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from deepgui.core.commands import set_params
    from deepgui.ui.app import initial_project
    from deepgui.ui.editing import LAYER_MIME
    from deepgui.ui.main_window import MainWindow
    from deepgui.ui.theme import apply_theme

    app = QApplication(sys.argv[:1])
    apply_theme(app, dark=False)

    def wait(ms: int) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def settle(w: MainWindow) -> None:
        end = time.monotonic() + 60
        while time.monotonic() < end and (not w.doc.keras_ready or w.doc.inference_pending):
            wait(50)
        wait(300)

    def shot(w, name: str) -> None:
        path = out / f"{name}.png"
        w.grab().save(str(path))
        print(path)

    if args.part == "data":
        return data_shots(app, out, wait, settle, shot)

    # 1. First launch: the example project, shapes worked out in the background.
    project = initial_project(None).project
    w = MainWindow(project)
    w.resize(1500, 940)
    w.show()
    wait(200)
    shot(w, "01_startup_before_keras")
    w.start_background()
    w.view.fit_all()
    settle(w)
    shot(w, "02_example_with_shapes")

    # 2. Build a small CNN from the palette by hand.
    w.files.set_project(type(project)())
    wait(200)
    shot(w, "03_empty_project")

    def drop(class_name: str, x: float, y: float) -> str:
        mime = QMimeData()
        mime.setData(LAYER_MIME, class_name.encode())
        point = w.view.mapFromScene(QPointF(x, y))
        extra = (
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(w.view.viewport(), QDragEnterEvent(point, *extra))
        QApplication.sendEvent(w.view.viewport(), QDropEvent(QPointF(point), *extra))
        wait(30)
        return w.scene.selected_node_ids()[0]

    def wire(src: str, dst: str, port: int = 0) -> None:
        vp = w.view.viewport()
        start = w.view.mapFromScene(w.scene.nodes[src].output_port_pos())
        end = w.view.mapFromScene(w.scene.nodes[dst].input_port_pos(port))
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        QTest.mouseMove(vp, end)
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
        wait(30)

    w.view.resetTransform()
    w.view.centerOn(0, 350)
    names = ["InputLayer", "Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense"]
    ids = [drop(name, 0, 100 + i * 140) for i, name in enumerate(names)]
    for a, b in zip(ids, ids[1:], strict=False):
        wire(a, b)
    w.doc.push(set_params(w.doc.graph, ids[-1], units=10, activation="softmax"))
    w.view.fit_all()
    settle(w)
    w.scene.select_nodes([ids[1]])
    wait(100)
    shot(w, "04_small_cnn_built_inspector")

    # 3. Live feedback: dragging a connection onto an Input is refused with its reason.
    vp = w.view.viewport()
    start = w.view.mapFromScene(w.scene.nodes[ids[-1]].output_port_pos())
    over = w.view.mapFromScene(w.scene.nodes[ids[0]].sceneBoundingRect().center())
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, over)
    wait(100)
    shot(w, "05_refused_connection_feedback")
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, over)

    # 4. Break it: a kernel larger than the image, seen on the node and in Problems.
    w.doc.push(set_params(w.doc.graph, ids[3], kernel_size=[40, 40]))
    settle(w)
    w.tabs.setCurrentWidget(w.problems)
    w.scene.select_nodes([ids[3]])
    wait(100)
    shot(w, "06_error_on_node_and_problems")
    w.doc.undo()
    settle(w)

    # 5. The generated code, then the summary.
    w.tabs.setCurrentWidget(w.code)
    wait(400)
    shot(w, "07_code_tab")
    w.tabs.setCurrentWidget(w.summary)
    wait(100)
    shot(w, "08_summary_tab")

    # 6. Dark palette; then the training tab.
    apply_theme(app, dark=True)
    w.apply_theme()
    wait(200)
    shot(w, "09_dark")
    w.tabs.setCurrentIndex(3)
    wait(800)
    shot(w, "10_training_tab_dark")
    apply_theme(app, dark=False)
    w.apply_theme()
    w.files.unsaved_extra = False
    w.doc.project.undo.set_clean()
    w.close()
    if args.part == "all":
        return data_shots(app, out, wait, settle, shot)
    return 0


def flowers_csv(folder: Path) -> Path:
    """Iris with a category column and a few empty cells: the data panel has gaps to report."""
    import csv
    import random

    from deepgui.core.paths import datasets_dir

    rng = random.Random(7)
    with (datasets_dir() / "iris.csv").open() as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    body = [[*r[:4], rng.choice(["north", "south", "east"]), r[4]] for r in body]
    for i, j in ((3, 0), (17, 1), (40, 4), (77, 2), (101, 0), (120, 3)):
        body[i][j] = ""
    body[130][5] = ""  # a row without its label
    path = folder / "flowers.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([[*header[:4], "garden", header[4]], *body])
    return path


def data_shots(app, out: Path, wait, settle, shot) -> int:
    """The data panel's missing-values choice, what the Input layer receives, then a short run
    and Predict on a File with its table."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from deepgui.core.graph import Graph
    from deepgui.core.project import Project
    from deepgui.ui.editing import default_config
    from deepgui.ui.main_window import MainWindow

    folder = Path(tempfile.mkdtemp(prefix="deepgui-flowers-"))
    flowers_csv(folder)
    g = Graph()
    inp = g.add_node("InputLayer", {**default_config("InputLayer"), "shape": [8],
                                     "name": "measurements"}, (0.0, 0.0))  # fmt: skip
    hidden = g.add_node("Dense", {**default_config("Dense"), "units": 16,
                                  "activation": "relu"}, (0.0, 140.0))  # fmt: skip
    last = g.add_node("Dense", {**default_config("Dense"), "units": 3,
                                "activation": "softmax", "name": "species"}, (0.0, 280.0))  # fmt: skip
    g.connect(inp.id, hidden.id, 0)
    g.connect(hidden.id, last.id, 0)
    project = Project(
        graph=g,
        dataset={"source": "csv", "path": "flowers.csv", "target": "species"},
        training={"epochs": 15, "batch_size": 16, "learning_rate": 0.01},
    )
    project.save(folder / "flowers.dgproj")
    w = MainWindow(project)
    w.resize(1500, 940)
    w.show()
    w.start_background()
    settle(w)
    panel = w.training_panel()
    w.tabs.setCurrentWidget(panel)
    w.resizeDocks([w.bottom_dock], [560], Qt.Orientation.Vertical)
    view = panel.data_view

    def preview() -> None:
        view.last_preview = None
        QTest.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
        while view.last_preview is None:
            wait(50)
        wait(200)

    preview()
    shot(w, "11_data_panel_missing_filled")
    view.missing.setCurrentIndex(view.missing.findData("drop"))
    preview()
    shot(panel.settings_tabs, "12_data_form_missing_dropped")
    view.missing.setCurrentIndex(view.missing.findData("refuse"))
    preview()
    shot(panel.settings_tabs, "13_data_form_missing_refused")
    view.missing.setCurrentIndex(view.missing.findData("fill"))
    preview()

    w.bottom_dock.hide()  # the canvas at its full height
    wait(100)
    w.view.fit_all()
    wait(200)
    shot(w, "14_canvas_input_receives")
    w.view.resetTransform()
    w.view.centerOn(w.scene.nodes[inp.id].sceneBoundingRect().center())
    wait(200)
    shot(w.view, "15_canvas_input_caption_100pct")

    w.train()  # shows the bottom dock again
    while panel.is_training() or panel.last_reason is None:
        wait(100)
    dialog = w.predict_on_file()
    dialog.resize(900, 560)
    wait(200)
    QTest.mouseClick(dialog.predict_button, Qt.MouseButton.LeftButton)
    while not dialog.progress.isHidden():
        wait(50)
    wait(200)
    shot(dialog, "16_predict_dialog_results")
    dialog.data.setText(str(folder / "flowers_without_garden.csv"))
    (folder / "flowers_without_garden.csv").write_text("sepal_length,sepal_width\n5.1,3.5\n")
    QTest.mouseClick(dialog.predict_button, Qt.MouseButton.LeftButton)
    while not dialog.progress.isHidden():
        wait(50)
    wait(200)
    shot(dialog, "17_predict_dialog_error")
    dialog.close()
    w.doc.project.undo.set_clean()
    w.files.unsaved_extra = False
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
