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
    # Large enough for the biggest window size shot (2560x1440).
    server = subprocess.Popen([xvfb, display, "-screen", "0", "2560x1440x24", "-nolisten", "tcp"],
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


SIZES = {"1366x768": (1366, 768), "2560x1440": (2560, 1440)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "screenshots"))
    parser.add_argument("--part", choices=("all", "main", "data", "transfer", "help", "compare",
                                           "vary", "sweep", "inside"),
                        default="all",
                        help="main: the main views (empty, building, training, a plot in its "
                        "own window, overfitting banner, evaluation, export, dark) at each size; "
                        "data: missing values, "
                        "what the Input receives, predicting on a file; transfer: an imported "
                        "backbone block, a palette backbone, a fine-tuning run; help: the first "
                        "launch with Getting Started; compare: two runs of one project side "
                        "by side (the run diff); "
                        "vary: settings marked to vary in a sweep, and the mark's editor; "
                        "sweep: the Sweep tab after a short sweep; "
                        "inside: a layer's activations and why a prediction, on an image, a "
                        "table and a series run")  # fmt: skip
    parser.add_argument("--size", choices=("all", *SIZES), default="all")
    args = parser.parse_args()
    code = _under_xvfb()
    if code is not None:
        return code
    out = Path(args.out)
    os.environ["DEEPGUI_CONFIG_DIR"] = tempfile.mkdtemp(prefix="deepgui-shots-")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from PySide6.QtWidgets import QApplication

    from deepgui.ui.theme import apply_theme

    app = QApplication(sys.argv[:1])
    apply_theme(app, dark=False)
    shots = Shots(app)
    sizes = list(SIZES) if args.size == "all" else [args.size]
    if args.part in ("all", "main"):
        for size in sizes:
            main_views(shots, out / size, SIZES[size])
    if args.part in ("all", "data"):
        data_shots(app, out / "1366x768", shots.wait, shots.settle, shots.shot)
    if args.part in ("all", "transfer"):
        transfer_shots(shots, out / "1366x768")
    if args.part in ("all", "help"):
        getting_started_shots(shots, out / "1366x768")
    if args.part in ("all", "compare"):
        compare_shots(shots, out / "1366x768")
    if args.part in ("all", "vary"):
        vary_shots(shots, out / "1366x768")
    if args.part in ("all", "sweep"):
        sweep_shots(shots, out / "1366x768")
    if args.part in ("all", "inside"):
        inside_shots(shots, out / "1366x768")
    print(f"{shots.count} screenshots in {out}")
    return 0


class Shots:
    """Waiting on the app and saving what a window shows."""

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0

    def wait(self, ms: int) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def until(self, condition, seconds: float = 120.0) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if condition():
                return True
            self.wait(50)
        return False

    def settle(self, w) -> None:
        self.until(lambda: w.doc.keras_ready and not w.doc.inference_pending, 60)
        self.wait(300)

    def shot(self, widget, path) -> None:
        path = Path(path).with_suffix(".png")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.wait(50)
        widget.grab().save(str(path))
        self.count += 1
        print(path)


def main_views(shots: Shots, out: Path, size: tuple[int, int]) -> None:
    """The main window at one size: empty, building a model (and a refused connection, and F5
    with a problem), training (and its loss plot in a window of its own), the overfitting
    banner, the evaluation, the export dialog, the project reopened with its last run, and the
    dark look of the same views."""
    from PySide6.QtCore import QMimeData, QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from deepgui.core.commands import set_params
    from deepgui.core.paths import examples_dir
    from deepgui.core.project import Project, load_project
    from deepgui.ui.editing import LAYER_MIME
    from deepgui.ui.main_window import MainWindow
    from deepgui.ui.theme import apply_theme

    wait, shot = shots.wait, shots.shot
    w = MainWindow(Project())
    w.resize(*size)
    w.layout_docks()  # as the first start lays them out on a screen of this size
    w.move(0, 0)
    w.show()
    wait(300)
    w.start_background()
    shot(w, out / "01_empty")

    def drop(class_name: str, x: float, y: float) -> str:
        mime = QMimeData()
        mime.setData(LAYER_MIME, class_name.encode())
        point = w.view.mapFromScene(QPointF(x, y))
        extra = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                 Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(w.view.viewport(), QDragEnterEvent(point, *extra))
        QApplication.sendEvent(w.view.viewport(), QDropEvent(QPointF(point), *extra))
        wait(30)
        return w.scene.selected_node_ids()[0]

    def wire(src: str, dst: str) -> None:
        vp = w.view.viewport()
        start = w.view.mapFromScene(w.scene.nodes[src].output_port_pos())
        end = w.view.mapFromScene(w.scene.nodes[dst].input_port_pos(0))
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
        QTest.mouseMove(vp, end)
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
        wait(30)

    # Building: a small CNN dropped from the palette and wired by hand, one layer selected.
    w.view.centerOn(0, 300)
    names = ["InputLayer", "Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense"]
    ids = [drop(name, 0, 60 + i * 140) for i, name in enumerate(names)]
    for a, b in zip(ids, ids[1:], strict=False):
        wire(a, b)
    w.doc.push(set_params(w.doc.graph, ids[0], shape=[28, 28, 1]))
    w.doc.push(set_params(w.doc.graph, ids[-1], units=10, activation="softmax"))
    shots.settle(w)
    w.view.fit_all()
    w.scene.select_nodes([ids[1]])
    shot(w, out / "02_building")
    vp = w.view.viewport()
    start = w.view.mapFromScene(w.scene.nodes[ids[-1]].output_port_pos())
    over = w.view.mapFromScene(w.scene.nodes[ids[0]].sceneBoundingRect().center())
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, over)
    wait(100)
    shot(w, out / "03_building_refused_connection")
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, over)
    # F5 with a problem on the canvas: nothing starts, the layer to fix is selected.
    w.doc.push(set_params(w.doc.graph, ids[3], kernel_size=[40, 40]))
    w.doc.project.dataset = {"source": "builtin", "name": "digits"}
    shots.settle(w)
    w.train()
    wait(200)
    shot(w, out / "04_f5_with_a_problem")

    # Training the digits example (copied: its runs go beside the copy), made to overfit:
    # no dropout, half the data held out for validation.
    folder = Path(tempfile.mkdtemp(prefix="deepgui-digits-"))
    shutil.copy(examples_dir() / "digits_cnn.dgproj", folder / "digits_cnn.dgproj")
    project = load_project(folder / "digits_cnn.dgproj")
    for node in project.graph:
        if node.class_name == "Dropout":
            node.config["rate"] = 0.0
    project.dataset.update(validation_split=0.5, test_split=0.1)
    project.training.update(epochs=40, learning_rate=0.003,
                            overfitting={"patience": 2, "gap": 0.1})  # fmt: skip
    project.save(folder / "digits_cnn.dgproj")
    w.doc.project.undo.set_clean()
    w.files.open_path(folder / "digits_cnn.dgproj", ask=False)
    shots.settle(w)
    w.view.fit_all()
    w.train()
    panel = w.training
    shots.until(lambda: len(panel.epochs_seen) >= 4, 120)
    panel.plots.redraw()
    shot(w, out / "05_training")
    # The loss plot in a window of its own, following the run.
    window = panel.plots.pop_out("loss")
    window.move(40, 40)
    wait(300)
    shot(window, out / "05_training_plot_window")
    window.close()
    flagged = shots.until(lambda: panel.banner.isVisible() or not panel.is_training(), 240)
    if flagged and panel.is_training():
        seen = len(panel.epochs_seen)
        shots.until(lambda: len(panel.epochs_seen) >= seen + 2 or not panel.is_training(), 60)
        panel.stop_training()
    shots.until(lambda: not panel.is_training() and panel.last_reason is not None, 120)
    panel.plots.redraw()
    shot(w, out / "06_overfit_banner")
    panel.view_tabs.setCurrentWidget(panel.evaluation)
    shot(w, out / "07_evaluation")

    w.files.export_dialog()
    dialog = w.files._export
    dialog.show()
    dialog.format.setCurrentIndex(dialog.format.findData("keras"))
    dialog.path.setText(str(folder / "digits.keras"))
    QTest.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    shots.until(lambda: not dialog.background.busy(), 120)
    shot(dialog, out / "08_export")
    dialog.close()

    # Dark: the same views.
    apply_theme(shots.app, dark=True)
    w.apply_theme()
    shot(w, out / "09_dark_evaluation")
    panel.view_tabs.setCurrentWidget(panel.plots)
    w.scene.select_nodes([next(iter(w.scene.nodes))])
    shot(w, out / "10_dark_training")
    w.tabs.setCurrentWidget(w.summary)
    shot(w, out / "11_dark_building")
    apply_theme(shots.app, dark=False)
    w.apply_theme()

    # Reopened: the project shows its last run's curves and scores.
    w.files.open_path(folder / "digits_cnn.dgproj", ask=False)
    w.tabs.setCurrentWidget(panel)
    shots.settle(w)
    shot(w, out / "12_reopened_last_run")
    panel.view_tabs.setCurrentWidget(panel.evaluation)
    shot(w, out / "13_reopened_evaluation")

    # The engine choice, measured on this model, and a run on two machines.
    form = panel.form
    scroll = form.parentWidget().parentWidget()  # the Configuration tab's scroll area
    panel.settings_tabs.setCurrentWidget(scroll)
    QTest.mouseClick(form.measure, Qt.MouseButton.LeftButton)
    shots.until(lambda: form.measure.isEnabled(), 300)
    form.engine.setCurrentIndex(form.engine.findData("jax"))
    scroll.ensureWidgetVisible(form.join_command)
    shots.settle(w)
    shot(w, out / "14_engine_choice")
    form.ranks.setValue(2)
    form.coordinator.setText("10.0.0.5:7477")
    form.coordinator.editingFinished.emit()
    scroll.ensureWidgetVisible(form.join_command)
    shots.settle(w)
    shot(w, out / "15_two_machines")
    w.doc.project.undo.set_clean()
    w.files.unsaved_extra = False
    w.close()


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
    w.resize(1366, 768)
    w.layout_docks()
    w.show()
    w.start_background()
    settle(w)
    panel = w.training_panel()
    w.tabs.setCurrentWidget(panel)
    w.resizeDocks([w.bottom_dock], [420], Qt.Orientation.Vertical)
    view = panel.data_view

    def preview() -> None:
        view.last_preview = None
        QTest.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
        while view.last_preview is None:
            wait(50)
        wait(200)

    preview()
    shot(w, out / "21_data_panel_missing_filled")
    view.missing.setCurrentIndex(view.missing.findData("drop"))
    preview()
    shot(panel.settings_tabs, out / "22_data_form_missing_dropped")
    view.missing.setCurrentIndex(view.missing.findData("refuse"))
    preview()
    shot(panel.settings_tabs, out / "23_data_form_missing_refused")
    view.missing.setCurrentIndex(view.missing.findData("fill"))
    preview()

    w.bottom_dock.hide()  # the canvas at its full height
    wait(100)
    w.view.fit_all()
    wait(200)
    shot(w, out / "24_canvas_input_receives")
    w.view.resetTransform()
    w.view.centerOn(w.scene.nodes[inp.id].sceneBoundingRect().center())
    wait(200)
    shot(w.view, out / "25_canvas_input_caption_100pct")

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
    shot(dialog, out / "26_predict_dialog_results")
    dialog.data.setText(str(folder / "flowers_without_garden.csv"))
    (folder / "flowers_without_garden.csv").write_text("sepal_length,sepal_width\n5.1,3.5\n")
    QTest.mouseClick(dialog.predict_button, Qt.MouseButton.LeftButton)
    while not dialog.progress.isHidden():
        wait(50)
    wait(200)
    shot(dialog, out / "27_predict_dialog_error")
    dialog.close()
    w.doc.project.undo.set_clean()
    w.files.unsaved_extra = False
    w.close()
    return 0


def image_folder(folder: Path, per_class: int = 12, size: int = 64) -> Path:
    """Three classes of small colour images, each a tint plus noise (learnable in a few epochs)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    tints = {"red": (200, 40, 40), "green": (40, 200, 40), "blue": (40, 40, 200)}
    for name, tint in tints.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = (rng.normal(0, 50, (size, size, 3)) + tint).clip(0, 255).astype("uint8")
            Image.fromarray(pixels).save(folder / name / f"{i}.png")
    return folder


def transfer_shots(shots: Shots, out: Path) -> None:
    """Start from what exists: a Keras model holding MobileNetV3Small opened as one block, a
    palette backbone in the inspector, and a fine-tuning run's curves with the phase marked."""
    from deepgui.core.keras_layers import keras
    from deepgui.core.project import Project
    from deepgui.ui.main_window import MainWindow

    k = keras()
    folder = Path(tempfile.mkdtemp(prefix="deepgui-transfer-"))
    backbone = k.applications.MobileNetV3Small(
        include_top=False, weights=None, input_shape=(64, 64, 3)
    )
    backbone.trainable = False
    inputs = k.Input((64, 64, 3), name="image")
    x = k.layers.GlobalAveragePooling2D(name="pool")(backbone(inputs))
    x = k.layers.Dropout(0.2, name="dropout")(x)
    outputs = k.layers.Dense(3, activation="softmax", name="classes")(x)
    k.Model(inputs, outputs).save(folder / "mobilenet_head.keras")

    w = MainWindow(Project())
    w.resize(1366, 768)
    w.layout_docks()
    w.move(0, 0)
    w.show()
    w.start_background()
    w.files.open_path(folder / "mobilenet_head.keras", ask=False)
    shots.until(lambda: any(n.class_name == "Functional" for n in w.doc.graph), 120)
    shots.settle(w)
    w.view.fit_all()
    block = next(n for n in w.doc.graph if n.class_name == "Functional")
    w.scene.select_nodes([block.id])
    shots.settle(w)
    shots.shot(w, out / "30_imported_backbone_block")

    # A palette backbone with fine-tuning, trained on an image folder.
    graph = w.doc.graph
    from deepgui.core.commands import AddNode, Connect, Macro, RemoveNode

    w.doc.push(RemoveNode(block.id))
    image = graph.node_by_name("image")
    pool = graph.node_by_name("pool")
    # ResNet50V2: without ImageNet weights (offline) its random features still tell the
    # tints apart, where a random MobileNet's vanish, so the curves show learning.
    added = AddNode("ResNet50V2", {"weights": "none", "pooling": None,
                                         "include_top": False, "trainable": False},
                    position=block.position)  # fmt: skip
    w.doc.push(added)
    node_id = added.node_id
    w.doc.push(Macro([Connect(image.id, node_id), Connect(node_id, pool.id)], "Wire it"))
    w.doc.project.dataset = {
        "source": "image_folder",
        "path": str(image_folder(folder / "images")),
    }
    w.doc.project.training.update(
        epochs=6,
        batch_size=8,
        fine_tuning={"enabled": True, "frozen_epochs": 3, "unfreeze_layers": 20,
                     "learning_rate": 1e-4},
    )  # fmt: skip
    w.scene.select_nodes([node_id])
    shots.settle(w)
    w.view.fit_all()
    shots.shot(w, out / "31_palette_backbone")
    w.train()
    panel = w.training
    shots.until(lambda: not panel.is_training() and panel.last_reason is not None, 300)
    panel.plots.redraw()
    shots.shot(w, out / "32_fine_tuning_run")
    w.doc.project.undo.set_clean()
    w.files.unsaved_extra = False
    w.close()


def getting_started_shots(shots: Shots, out: Path) -> None:
    """The first launch as a newcomer sees it: the example on the canvas, the status bar saying
    that F5 trains, and Help ▸ Getting Started opened over the window (the screen, so both
    windows are in the picture); then the page by itself."""
    from deepgui.ui import app as desktop

    config = os.environ["DEEPGUI_CONFIG_DIR"]
    os.environ["DEEPGUI_CONFIG_DIR"] = tempfile.mkdtemp(prefix="deepgui-first-launch-")
    try:
        w = desktop.open_window(None)
        w.resize(1366, 768)
        w.layout_docks()  # as the first start lays them out on a screen of this size
        w.move(0, 0)
        shots.until(lambda: w.getting_started is not None and w.getting_started.isVisible(), 30)
        shots.settle(w)
        w.view.fit_all()
        page = w.getting_started
        frame = w.frameGeometry()
        # Over the inspector, so the example on the canvas and the status bar show beside it.
        page.move(frame.right() - page.frameGeometry().width() - 8, frame.top() + 60)
        page.raise_()
        shots.wait(500)
        path = out / "40_first_launch_getting_started.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        w.screen().grabWindow(0, 0, 0, frame.width(), frame.height()).save(str(path))
        shots.count += 1
        print(path)
        shots.shot(page, out / "41_getting_started")
        page.close()
        w.dialogs.unsaved_changes = lambda _name: "discard"
        w.close()
    finally:
        os.environ["DEEPGUI_CONFIG_DIR"] = config


def compare_shots(shots: Shots, out: Path) -> None:
    """Two real runs of the iris example, the second with a wider second layer, a dropout put
    before it and another learning rate: the Runs tab with both selected, then Compare…, in
    the light look and the dark."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from deepgui.core.paths import examples_dir
    from deepgui.core.project import load_project
    from deepgui.core.training.run import Run
    from deepgui.ui.editing import default_config
    from deepgui.ui.theme import apply_theme

    folder = Path(tempfile.mkdtemp(prefix="deepgui-compare-"))
    shutil.copy(examples_dir() / "iris_dense.dgproj", folder / "iris.dgproj")
    project = load_project(folder / "iris.dgproj")
    project.training.update(epochs=20)
    project.save()
    Run(project).plan().train()
    graph = project.graph
    first, second = graph.node_by_name("dense"), graph.node_by_name("dense_1")
    graph.set_config(second.id, {**second.config, "units": 32})
    [edge] = [e for e in graph.out_edges(first.id) if e.target == second.id]
    graph.disconnect(edge)
    x, y = second.position
    dropout = graph.add_node("Dropout", {**default_config("Dropout"), "rate": 0.2}, (x, y))
    for node in [second, *(graph.nodes[n] for n in graph.descendants(second.id))]:
        graph.move(node.id, (node.position[0], node.position[1] + 138))
    graph.connect(first.id, dropout.id)
    graph.connect(dropout.id, second.id)
    project.training.update(learning_rate=0.003)
    project.save()
    Run(project).plan().train()

    w, panel = _training_window(shots, project)
    panel.view_tabs.setCurrentWidget(panel.runs)
    runs = panel.runs
    runs.refresh()
    runs.select([r.name for r in runs.runs[:2]])
    shots.shot(w, out / "50_runs_two_selected")
    QTest.mouseClick(runs.compare_button, Qt.MouseButton.LeftButton)
    window = runs.compare_window
    window.resize(1366, 768)
    window.move(0, 0)
    shots.until(lambda: "b" in window.shapes_known, 60)
    shots.wait(300)
    shots.shot(window, out / "51_compare_runs")
    apply_theme(shots.app, dark=True)
    w.apply_theme()
    window.follow_palette()
    shots.wait(200)
    shots.shot(window, out / "52_dark_compare_runs")
    apply_theme(shots.app, dark=False)
    w.apply_theme()
    window.close()
    w.doc.project.undo.set_clean()
    w.files.unsaved_extra = False
    w.close()


def vary_shots(shots: Shots, out: Path) -> None:
    """The iris example with its first layer's units and the learning rate marked to vary in a
    sweep: the inspector's and the form's tinted ⟳, the layer's badge, and the mark's editor."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from deepgui.core.paths import examples_dir
    from deepgui.core.project import load_project
    from deepgui.core.sweep.marks import TRAINING, SetMark

    folder = Path(tempfile.mkdtemp(prefix="deepgui-vary-"))
    shutil.copy(examples_dir() / "iris_dense.dgproj", folder / "iris.dgproj")
    project = load_project(folder / "iris.dgproj")
    dense = project.graph.node_by_name("dense").id
    project.undo.push(SetMark(project, dense, "units", "8,16,32,64"))
    project.undo.push(SetMark(project, TRAINING, "learning_rate", "1e-4..1e-2:log"))
    w, panel = _training_window(shots, project)
    panel.settings_tabs.setCurrentWidget(panel.form.parentWidget().parentWidget())  # its scroll
    w.scene.select_nodes([dense])
    shots.shot(w, out / "60_vary_marks")
    QTest.mouseClick(w.inspector.form.vary_buttons["units"], Qt.MouseButton.LeftButton)
    dialog = w.inspector.vary_dialog
    shots.wait(200)
    shots.shot(dialog, out / "61_vary_editor")
    dialog.reject()
    w.doc.project.undo.set_clean()
    w.close()


def sweep_shots(shots: Shots, out: Path) -> None:
    """The Sweep tab after a short sweep of the iris example (its first layer's units and the
    learning rate marked): the trials, the best highlighted, the last trial's curves and the
    parameters against the objective."""
    from deepgui.core.paths import examples_dir
    from deepgui.core.project import load_project
    from deepgui.core.sweep.marks import TRAINING, SetMark

    folder = Path(tempfile.mkdtemp(prefix="deepgui-sweep-"))
    shutil.copy(examples_dir() / "iris_dense.dgproj", folder / "iris.dgproj")
    project = load_project(folder / "iris.dgproj")
    dense = project.graph.node_by_name("dense").id
    project.undo.push(SetMark(project, dense, "units", "2,4,8,16,32"))
    project.undo.push(SetMark(project, TRAINING, "learning_rate", "1e-3..1e-1:log"))
    w, panel = _training_window(shots, project)
    view = panel.sweep
    panel.view_tabs.setCurrentWidget(view)
    panel.room_wanted.emit(420)  # the dock as tall as the window lets it be
    view.trial_count.setValue(6)
    view.epochs.setValue(8)
    view.objective.setText("val_accuracy")
    view.start_button.click()
    shots.until(lambda: view.job is None, 300)
    shots.wait(300)
    shots.shot(w, out / "70_sweep")
    w.doc.project.undo.set_clean()
    w.close()


def inside_shots(shots: Shots, out: Path) -> None:
    """Look inside three short runs of the examples, in the Evaluation tab: the digits CNN's
    feature maps (its canvas's selected layer) and Grad-CAM over the samples beside the most
    confidently wrong; the iris table's attributions per column, for a row and averaged, and a
    row of its data preview in the Activations tab; the LSTM's output over time and its
    attributions per time step."""
    from deepgui.core.paths import examples_dir
    from deepgui.core.project import load_project
    from deepgui.core.training.run import Run
    from deepgui.ui.training.explain_view import AVERAGE

    runs = (("digits_cnn", 4, "conv2d", "80_activations_maps", "81_why_grad_cam"),
            ("iris_dense", 40, None, None, "82_why_table_row"),
            ("sequence_lstm", 4, "lstm", "84_activations_sequence", "85_why_series"))  # fmt: skip
    for example, epochs, layer, activations_shot, why_shot in runs:
        folder = Path(tempfile.mkdtemp(prefix="deepgui-inside-"))
        shutil.copy(examples_dir() / f"{example}.dgproj", folder / f"{example}.dgproj")
        project = load_project(folder / f"{example}.dgproj")
        project.training.update(epochs=epochs)
        if example == "sequence_lstm":  # the LSTM's output over time, averaged for the head
            _lstm_over_time(project.graph)
        project.save()
        Run(project).plan().train()
        w, panel = _training_window(shots, project)
        panel.view_tabs.setCurrentWidget(panel.evaluation)
        panel.room_wanted.emit(420)  # the dock as tall as the window lets it be
        evaluation = panel.evaluation
        if activations_shot:
            view = evaluation.activations_view
            evaluation.pages.setCurrentWidget(view)
            shots.until(lambda v=view: v.picture is not None, 120)
            node = project.graph.node_by_name(layer)
            w.scene.select_nodes([node.id])
            shots.until(lambda v=view, n=layer: v.picture is not None and v.picture.layer == n, 60)
            shots.wait(300)
            shots.shot(w, out / activations_shot)
        why = evaluation.why_view
        evaluation.pages.setCurrentWidget(why)
        shots.until(lambda v=why: v.selected is not None, 180)
        if why.why is not None and why.why.wrong:
            why.gallery.setCurrentRow(0)
        shots.wait(300)
        shots.shot(w, out / why_shot)
        if example == "iris_dense":
            why.scope.setCurrentText(AVERAGE)
            shots.until(lambda v=why: v.caption.text().startswith("Mean"), 120)
            shots.wait(300)
            shots.shot(w, out / "83_why_table_average")
            # A row of the Data panel's preview, looked at in the Activations tab.
            view = evaluation.activations_view
            evaluation.pages.setCurrentWidget(view)
            if panel.data_view.last_preview is None:
                panel.data_view.refresh_preview()
            combo = view.sample_choice

            def preview_rows(c=combo) -> list[int]:
                return [i for i in range(c.count()) if c.itemText(i).startswith("Data preview")]

            shots.until(lambda: len(preview_rows()) > 3, 120)
            view.layer_choice.setCurrentIndex(0)
            combo.setCurrentIndex(preview_rows()[3])
            shots.until(lambda v=view: v.picture is not None and v.status.text().endswith(")."), 60)
            shots.wait(300)
            shots.shot(w, out / "86_activations_preview_row")
        w.doc.project.undo.set_clean()
        w.files.unsaved_extra = False
        w.close()
        shutil.rmtree(folder, ignore_errors=True)


def _lstm_over_time(graph) -> None:
    """The example's LSTM returning its whole sequence, pooled over time before its head."""
    from deepgui.ui.editing import default_config

    lstm, head = graph.node_by_name("lstm"), graph.node_by_name("trend")
    graph.set_config(lstm.id, {**lstm.config, "return_sequences": True})
    [edge] = [e for e in graph.out_edges(lstm.id) if e.target == head.id]
    graph.disconnect(edge)
    x, y = head.position
    pool = graph.add_node("GlobalAveragePooling1D", default_config("GlobalAveragePooling1D"),
                          (x, y))  # fmt: skip
    graph.move(head.id, (x, y + 138))
    graph.connect(lstm.id, pool.id)
    graph.connect(pool.id, head.id)


def _training_window(shots: Shots, project):
    """The main window on `project` at 1366x768, laid out as a first start lays it out, the
    canvas fitted and the Training tab open: (the window, its training panel)."""
    from deepgui.ui.main_window import MainWindow

    w = MainWindow(project)
    w.resize(1366, 768)
    w.layout_docks()
    w.move(0, 0)
    w.show()
    w.start_background()
    shots.settle(w)
    w.view.fit_all()
    panel = w.training_panel()
    w.tabs.setCurrentWidget(panel)
    return w, panel


if __name__ == "__main__":
    sys.exit(main())
