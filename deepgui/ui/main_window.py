"""The main window: canvas in the middle, palette, inspector and the bottom tabs as docks,
menus, toolbar and status bar. File handling lives in `files.FileActions`."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QTabWidget,
    QWidget,
)

from deepgui.core.commands import AddNode, Macro, MoveNodes
from deepgui.core.layout import free_spot
from deepgui.core.project import Project
from deepgui.ui import settings
from deepgui.ui.canvas import CanvasScene, CanvasView
from deepgui.ui.canvas_items import NODE_HEIGHT, NODE_WIDTH
from deepgui.ui.dialogs import Dialogs
from deepgui.ui.document import Document
from deepgui.ui.editing import (
    CLIPBOARD_MIME,
    add_after_command,
    copy_selection,
    default_config,
    delete_and_reconnect_command,
    delete_command,
    layout_command,
    paste_command,
    pasted_ids,
)
from deepgui.ui.files import FileActions
from deepgui.ui.icons import icon
from deepgui.ui.inspector import Inspector
from deepgui.ui.palette import Palette
from deepgui.ui.panels import CodePanel, ProblemsPanel, SummaryPanel, TrainingPanel
from deepgui.ui.theme import apply_theme


class MainWindow(QMainWindow):
    def __init__(self, project: Project | None = None, autosave_ms: int = 30_000) -> None:
        super().__init__()
        self.setWindowIcon(icon("app"))
        self.dialogs = Dialogs(self)
        self.doc = Document(project, parent=self)
        self.scene = CanvasScene(self.doc, self)
        self.view = CanvasView(self.scene)
        self.setCentralWidget(self.view)
        self.palette_panel = Palette()
        self.inspector = Inspector(self.doc)
        self.summary = SummaryPanel(self.doc)
        self.code = CodePanel(self.doc)
        self.problems = ProblemsPanel(self.doc)
        self.training = TrainingPanel()  # the empty state until the real panel is loaded
        self._training_panel = None
        self.getting_started = None  # Help ▸ Getting Started, made when first shown
        self.tabs = QTabWidget()
        self.tabs.addTab(self.summary, "Summary")
        self.tabs.addTab(self.code, "Code")
        self.tabs.addTab(self.problems, "Problems")
        self.tabs.addTab(self.training, "Training")
        self.palette_dock = self._dock(
            "Layers", self.palette_panel, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.inspector_dock = self._dock(
            "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.bottom_dock = self._dock("Model", self.tabs, Qt.DockWidgetArea.BottomDockWidgetArea)
        # Its tabs are its title: a title bar above them took height from the canvas (View ▸
        # Model shows and hides it).
        self.bottom_dock.setTitleBarWidget(QWidget())
        self.files = FileActions(self, autosave_ms)
        self._build_actions()
        self._build_status_bar()
        self._wire()
        self.setAcceptDrops(True)
        if not self.restore_layout():
            self.default_layout()
        self.refresh_title()

    # ------------------------------------------------------------------ building
    def default_layout(self) -> None:
        """The first start's sizes: the window fills a laptop's screen (85 % of a larger one)
        and the canvas gets most of it; the docks take what their contents need."""
        screen = self.screen().availableGeometry()
        small = screen.width() <= 1440 or screen.height() <= 900
        scale = 1.0 if small else 0.85
        self.resize(int(screen.width() * scale), int(screen.height() * scale))
        self.layout_docks()

    def layout_docks(self) -> None:
        """Side docks as narrow as their contents allow and the bottom dock a quarter of the
        height: the canvas is the largest thing in the window."""
        w, h = self.width(), self.height()
        tree = self.palette_panel.tree
        palette = tree.sizeHintForColumn(0) + tree.verticalScrollBar().sizeHint().width() + 16
        self.resizeDocks(
            [self.palette_dock, self.inspector_dock],
            [max(palette, int(w * 0.12)), min(380, max(300, int(w * 0.19)))],
            Qt.Orientation.Horizontal,
        )
        share = 0.25 if h < 1100 else 0.32  # a tall screen has room for taller plots too
        self.resizeDocks([self.bottom_dock], [max(200, int(h * share))], Qt.Orientation.Vertical)

    def give_bottom_room(self, height: int) -> None:
        """Grow the bottom dock so its tab shows `height` pixels, never past 62 % of the
        window: what just appeared (the overfitting banner, the evaluation, the plots of a run
        at 40 % of the window) is seen whole. A dock already that tall keeps the size the user
        gave it."""
        target = min(height + self.tabs.tabBar().sizeHint().height(), int(self.height() * 0.62))
        if self.bottom_dock.isVisible() and self.bottom_dock.height() < target:
            self.resizeDocks([self.bottom_dock], [target], Qt.Orientation.Vertical)

    def restore_layout(self) -> bool:
        """The window's size and docks as the user left them; False the first time."""
        saved = settings.window_layout()
        if saved is None:
            return False
        return self.restoreGeometry(saved[0]) and self.restoreState(saved[1])

    def save_layout(self) -> None:
        settings.set_window_layout(bytes(self.saveGeometry()), bytes(self.saveState()))

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(
        self, text: str, slot, shortcut=None, icon_name: str | None = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
            action.setProperty("icon_name", icon_name)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())  # slots take no `checked`
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        f = self.files
        a = self.actions = {}
        a["new"] = self._action("&New", f.new_project, K.New, "new", "Start an empty project")
        a["open"] = self._action(
            "&Open…", f.open_dialog, K.Open, "open", "Open a project or a Keras model"
        )
        a["save"] = self._action("&Save", f.save, K.Save, "save", "Save the project")
        a["save_as"] = self._action(
            "Save &As…", f.save_as, K.SaveAs, None, "Save the project under a new name"
        )
        a["revert"] = self._action(
            "Re&vert", f.revert, None, None, "Discard the changes since the last save"
        )
        a["import"] = self._action(
            "&Import Keras model…",
            f.import_dialog,
            "Ctrl+I",
            None,
            "Turn a .keras or .h5 model into a project",
        )
        a["export"] = self._action(
            "&Export…",
            f.export_dialog,
            "Ctrl+E",
            None,
            "Export the model (Keras, SavedModel, TFLite, ONNX, Python)",
        )
        a["quit"] = self._action("&Quit", self.close, K.Quit)
        a["undo"] = self._action("&Undo", self.doc.undo, K.Undo, "undo")
        a["redo"] = self._action(
            "&Redo",
            self.doc.redo,
            [K.Redo, "Ctrl+Y"] if QKeySequence(K.Redo).toString() != "Ctrl+Y" else K.Redo,
            "redo",
        )
        a["cut"] = self._action("Cu&t", self.cut, K.Cut, "cut")
        a["copy"] = self._action("&Copy", self.copy, K.Copy, "copy")
        a["paste"] = self._action("&Paste", self.paste, K.Paste, "paste")
        a["duplicate"] = self._action("D&uplicate", self.duplicate, "Ctrl+D")
        a["delete"] = self._action(
            "&Delete", self.delete_selection, [K.Delete, "Backspace"], "delete"
        )
        a["dissolve"] = self._action(
            "Delete and &Reconnect", self.delete_and_reconnect, ["Ctrl+Delete", "Ctrl+Backspace"],
            None, "Delete the selected layers and connect what fed them to what they fed",
        )  # fmt: skip
        a["select_all"] = self._action("Select &All", self.select_all, K.SelectAll)
        a["add_layer"] = self._action(
            "Add &Layer…", self.focus_palette, "Ctrl+K", None,
            "Type a layer's name, Enter adds it after the selected layer",
        )  # fmt: skip
        a["zoom_in"] = self._action(
            "Zoom &In", lambda: self.view.zoom_by(1.25), [K.ZoomIn, "Ctrl+="], "zoom_in"
        )
        a["zoom_out"] = self._action(
            "Zoom &Out", lambda: self.view.zoom_by(0.8), K.ZoomOut, "zoom_out"
        )
        a["fit"] = self._action("&Fit to Window", self.view.fit_all, "Ctrl+0", "fit")
        a["layout"] = self._action(
            "Auto &Layout", self.auto_layout, "Ctrl+L", "layout", "Arrange the layers top to bottom"
        )
        a["train"] = self._action("&Train", self.train, "F5", "train", "Train the model")
        a["stop"] = self._action("&Stop", self.stop, "Shift+F5", "stop", "Stop training")
        a["stop"].setEnabled(False)
        a["predict"] = self._action(
            "&Predict on a File…", self.predict_on_file, None, None,
            "Run a trained model on a CSV, an image, an image folder or an .npz file",
        )  # fmt: skip
        a["getting_started"] = self._action(
            "&Getting Started", self.show_getting_started, None, None,
            "Build, choose data, train (F5), export and predict: the steps in one page",
        )  # fmt: skip
        a["shortcuts"] = self._action("&Keyboard Shortcuts", self.show_shortcuts, "F1", "help")
        a["crash_log"] = self._action(
            "&Crash Log…", self.show_crash_log, None, None,
            "Where deepgui records crashes, and its newest entries for a bug report",
        )  # fmt: skip
        a["about"] = self._action("&About deepgui", self.show_about)
        # The delete keys must not fire while the user edits a text field.
        for name in ("delete", "dissolve", "cut", "copy", "paste", "select_all", "undo", "redo"):
            a[name].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(a[name])
        menu = self.menuBar()
        m = menu.addMenu("&File")
        for key in ("new", "open"):
            m.addAction(a[key])
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self.files.fill_recent_menu)
        self.examples_menu = m.addMenu("Open E&xample")
        self.examples_menu.aboutToShow.connect(self.files.fill_examples_menu)
        m.addSeparator()
        for key in ("save", "save_as", "revert"):
            m.addAction(a[key])
        m.addSeparator()
        m.addAction(a["import"])
        m.addAction(a["export"])
        m.addSeparator()
        m.addAction(a["quit"])
        m = menu.addMenu("&Edit")
        for key in (
            "undo",
            "redo",
            None,
            "add_layer",
            None,
            "cut",
            "copy",
            "paste",
            "duplicate",
            "delete",
            "dissolve",
            None,
            "select_all",
        ):
            m.addSeparator() if key is None else m.addAction(a[key])
        m = menu.addMenu("&View")
        for key in ("zoom_in", "zoom_out", "fit", None, "layout"):
            m.addSeparator() if key is None else m.addAction(a[key])
        m.addSeparator()
        for dock in (self.palette_dock, self.inspector_dock, self.bottom_dock):
            m.addAction(dock.toggleViewAction())
        m.addSeparator()
        looks = m.addMenu("&Appearance")
        group = QActionGroup(self)
        self.theme_actions = {}
        for key, label in (
            ("system", "Follow the &System"),
            ("light", "&Light"),
            ("dark", "&Dark"),
        ):
            action = looks.addAction(label)
            action.setCheckable(True)
            action.setChecked(key == settings.theme())
            action.triggered.connect(lambda _=False, k=key: self.set_theme(k))
            group.addAction(action)
            self.theme_actions[key] = action
        m = menu.addMenu("&Run")
        m.addAction(a["train"])
        m.addAction(a["stop"])
        m.addSeparator()
        m.addAction(a["predict"])
        m = menu.addMenu("&Help")
        m.addAction(a["getting_started"])
        m.addAction(a["shortcuts"])
        m.addAction(a["crash_log"])
        m.addSeparator()
        m.addAction(a["about"])
        bar = self.addToolBar("Main")
        bar.setObjectName("toolbar_main")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for key in (
            "new",
            "open",
            "save",
            None,
            "undo",
            "redo",
            None,
            "delete",
            None,
            "zoom_in",
            "zoom_out",
            "fit",
            "layout",
            None,
            "train",
            "stop",
        ):
            bar.addSeparator() if key is None else bar.addAction(a[key])
        for action in a.values():
            if action.shortcut().toString():
                action.setToolTip(
                    f"{action.text().replace('&', '')} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                )

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.problem_label = QLabel()
        self.params_label = QLabel()
        self.zoom_label = QLabel("100%")
        self.keras_label = QLabel("Loading Keras…")
        # What trains, said where a newcomer looks first (hidden while a run trains).
        self.train_hint = QLabel("F5 trains the model")
        self.train_hint.setObjectName("train_hint")
        self.train_hint.setToolTip("Run ▸ Train (F5); Shift+F5 stops. Help ▸ Getting Started")
        for w in (
            self.train_hint, self.params_label, self.problem_label, self.keras_label,
            self.zoom_label,
        ):  # fmt: skip
            bar.addPermanentWidget(w)

    def _wire(self) -> None:
        doc = self.doc
        doc.message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        doc.undo_changed.connect(self.refresh_actions)
        doc.undo_changed.connect(self.refresh_title)
        doc.undo_changed.connect(self.refresh_status)  # the layer count, before shapes come
        doc.info_changed.connect(self.refresh_status)
        doc.keras_loaded.connect(lambda: self.keras_label.setText(""))
        doc.project_replaced.connect(self.refresh_title)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.palette_panel.layer_activated.connect(self.add_layer_after_selection)
        self.view.hint.connect(
            lambda text: (
                self.statusBar().showMessage(text) if text else self.statusBar().clearMessage()
            )
        )
        self.view.files_dropped.connect(self.files.open_paths)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        self.tabs.currentChanged.connect(self._tab_changed)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.summary.layer_clicked.connect(self.select_node)
        self.problems.layer_clicked.connect(self.select_node)
        self.refresh_actions()
        self.refresh_status()

    # ------------------------------------------------------------------ state -> widgets
    def refresh_title(self) -> None:
        self.setWindowTitle(f"{self.files.display_name()}[*] — deepgui")
        self.setWindowModified(self.files.is_dirty())

    def refresh_actions(self) -> None:
        stack = self.doc.project.undo
        a = self.actions
        a["undo"].setEnabled(stack.can_undo())
        a["redo"].setEnabled(stack.can_redo())
        a["undo"].setText(f"&Undo {stack.undo_text()}".rstrip())
        a["redo"].setText(f"&Redo {stack.redo_text()}".rstrip())
        selected = bool(self.scene.selectedItems())
        for key in ("cut", "copy", "duplicate", "delete"):
            a[key].setEnabled(selected)
        a["dissolve"].setEnabled(bool(self.scene.selected_node_ids()))
        a["revert"].setEnabled(self.doc.project.path is not None and self.files.is_dirty())

    def refresh_status(self) -> None:
        errors, warnings = self.problems.count()
        parts = []
        if errors:
            parts.append(f"{errors} error{'s' * (errors != 1)}")
        if warnings:
            parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
        self.problem_label.setText(
            " · ".join(parts) if parts else ("No problems" if self.doc.keras_ready else "")
        )
        self.problem_label.setStyleSheet("color: #d32f2f;" if errors else "")
        total = sum(getattr(i, "params", 0) for i in self.doc.info.values())
        count = len(self.doc.graph)
        self.params_label.setText(f"{count} layer{'s' * (count != 1)} · {total:,} params")
        self.tabs.setTabText(
            2, f"Problems ({errors + warnings})" if errors + warnings else "Problems"
        )

    def _selection_changed(self) -> None:
        ids = self.scene.selected_node_ids()
        self.inspector.show_node(ids[0] if len(ids) == 1 else None)
        if len(ids) == 1 and self._training_panel is not None:  # its output, in Activations
            name = self.doc.graph.node(ids[0]).name
            self._training_panel.evaluation.activations_view.follow_layer(name)
        self.refresh_actions()

    # ------------------------------------------------------------------ editing
    def select_node(self, node_id: str) -> None:
        self.scene.select_nodes([node_id])
        self.view.center_on_node(node_id)

    def focus_palette(self) -> None:
        self.palette_dock.show()
        self.palette_panel.search.setFocus()
        self.palette_panel.search.selectAll()

    def select_all(self) -> None:
        for item in self.scene.nodes.values():
            item.setSelected(True)

    def add_layer_after_selection(self, class_name: str) -> str | None:
        """Add a layer below the selected one and connect it; without a selection, at the centre."""
        graph = self.doc.graph
        selected = self.scene.selected_node_ids()
        config = default_config(class_name)
        new_id = graph.new_id()
        if len(selected) == 1:
            command = add_after_command(graph, selected[0], class_name, config, new_id)
            ok = self.doc.push(command)
            if not ok:  # a connection refused: the layer on its own, in the room made for it
                alone = [c for c in command.commands if isinstance(c, AddNode | MoveNodes)]
                ok = self.doc.push(Macro(alone, text=command.text))
        else:
            centre = self.view.mapToScene(self.view.viewport().rect().center())
            spot = free_spot(
                {n.id: n.position for n in graph},
                centre.x() - NODE_WIDTH / 2,
                centre.y() - NODE_HEIGHT / 2,
            )
            ok = self.doc.push(AddNode(class_name, config, spot, new_id))
        if not ok:
            return None
        self.select_node(new_id)
        return new_id

    def delete_selection(self) -> None:
        graph, ids = self.doc.graph, self.scene.selected_node_ids()
        command = delete_command(graph, ids, self.scene.selected_edges())
        # A layer in the middle of a chain leaves it broken: say how to keep it whole.
        middle = [graph.node(n).name for n in ids
                  if any(e.source not in ids for e in graph.in_edges(n))
                  and any(e.target not in ids for e in graph.out_edges(n))]  # fmt: skip
        if command is not None and self.doc.push(command) and middle:
            self.statusBar().showMessage(
                f"Deleted {', '.join(middle)}: the layers around it are no longer connected. "
                "Ctrl+Z, then Edit ▸ Delete and Reconnect (Ctrl+Delete) keeps the chain whole.",
                15_000,
            )

    def delete_and_reconnect(self) -> None:
        command = delete_and_reconnect_command(self.doc.graph, self.scene.selected_node_ids())
        if command is not None:
            self.doc.push(command)

    def copy(self) -> None:
        ids = self.scene.selected_node_ids()
        if not ids:
            return
        text = copy_selection(self.doc.graph, ids)
        mime = QMimeData()
        mime.setData(CLIPBOARD_MIME, text.encode())
        mime.setText(text)
        QGuiApplication.clipboard().setMimeData(mime)

    @staticmethod
    def release_clipboard() -> None:
        """Give back layers copied to the clipboard before Qt shuts down: Qt's clipboard
        outlives Python and would otherwise free our QMimeData after the interpreter is gone,
        which crashes the process on exit."""
        clipboard = QGuiApplication.clipboard()
        mime = clipboard.mimeData()
        if mime is not None and mime.hasFormat(CLIPBOARD_MIME):
            clipboard.clear()

    def cut(self) -> None:
        self.copy()
        self.delete_selection()

    def paste(self, text: str | None = None) -> list[str]:
        if text is None:
            mime = QGuiApplication.clipboard().mimeData()
            if mime is None:
                return []
            text = (
                bytes(mime.data(CLIPBOARD_MIME).data()).decode()
                if mime.hasFormat(CLIPBOARD_MIME)
                else mime.text()
            )
        command = paste_command(self.doc.graph, text)
        if command is None or not self.doc.push(command):
            return []
        ids = pasted_ids(command)
        self.scene.select_nodes(ids)
        return ids

    def duplicate(self) -> list[str]:
        ids = self.scene.selected_node_ids()
        return self.paste(copy_selection(self.doc.graph, ids)) if ids else []

    def auto_layout(self) -> None:
        command = layout_command(self.doc.graph)
        if command is not None:
            self.doc.push(command)
        QTimer.singleShot(0, self.view.fit_all)

    # ------------------------------------------------------------------ run / help
    def training_panel(self):
        """The Training tab's panel, loaded on first use (it brings pyqtgraph: ~0.4 s, which
        would otherwise delay the first paint)."""
        if self._training_panel is None:
            from deepgui.ui.training.panel import TrainingPanel as Panel

            panel = Panel(lambda: self.doc.project)
            panel.run_started.connect(self._training_state)
            panel.run_finished.connect(self._training_state)
            panel.open_project_requested.connect(lambda path: self.files.open_path(path))
            panel.predict_requested.connect(lambda path: self.predict_on_file(path or None))
            panel.preflight = self.training_blocker
            panel.room_wanted.connect(self.give_bottom_room)
            panel.problem_shown.connect(self.select_node)
            # What the Input layers receive, once the data panel or a starting run loaded data.
            panel.data_view.inputs_described.connect(self.scene.show_input_captions)
            panel.run_started.connect(lambda: panel.data_view.follow_run(panel.run.worker))
            self.doc.project_replaced.connect(panel.reload)
            self.files.saved.connect(panel.follow_save)  # "Saved in" names where the run is now
            index = self.tabs.indexOf(self.training)
            current = self.tabs.currentIndex()
            self.tabs.blockSignals(True)
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, panel, "Training")
            self.tabs.setCurrentIndex(current)
            self.tabs.blockSignals(False)
            self.training.deleteLater()
            self.training = panel
            self._training_panel = panel
        return self._training_panel

    def training_blocker(self) -> tuple[str, str] | None:
        """The first error the shapes worked out for the canvas found, as (layer id or "",
        its sentence); None when nothing is known to stop the model from training (while the
        shapes are still being worked out, training finds out for itself)."""
        if not self.doc.keras_ready or self.doc.inference_pending:
            return None
        errors = [(nid, message) for nid, severity, message in self.doc.problems
                  if severity == "error"]  # fmt: skip
        if not errors:
            return None
        order = {nid: i for i, nid in enumerate(self.doc.graph.topological_order())}
        return min(errors, key=lambda e: order.get(e[0], -1))

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.training and self._training_panel is None:
            self.training_panel()

    def _training_state(self, *_args) -> None:
        panel = self._training_panel
        running = bool(panel and panel.is_training())
        self.actions["train"].setEnabled(not running)
        self.actions["stop"].setEnabled(running)
        self.train_hint.setVisible(not running)

    def train(self) -> None:
        """F5: train the model in the Training tab."""
        self.bottom_dock.show()
        panel = self.training_panel()
        self.tabs.setCurrentWidget(self.training)
        panel.start_training()
        self._training_state()

    def predict_on_file(self, model_path: str | None = None):
        """Run ▸ Predict on a File: the dialog, non-modal, on the project's latest run."""
        from deepgui.ui.predict_dialog import PredictDialog

        previous = getattr(self, "_predict", None)
        if previous is not None:
            previous.close()  # one at a time: a second would show another project's runs
        self._predict = PredictDialog(self.doc.project, self, model_path)
        self._predict.show()
        return self._predict

    def stop(self) -> None:
        if self._training_panel is not None:
            self._training_panel.stop_training()

    def show_shortcuts(self) -> None:
        rows = []
        for action in self.actions.values():
            keys = ", ".join(
                s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts()
            )
            if keys:
                rows.append(
                    f"<tr><td>{action.text().replace('&', '')}</td><td><b>{keys}</b></td></tr>"
                )
        extra = [
            ("Zoom", "Mouse wheel"), ("Pan", "Middle button drag, or Space + drag"),
            ("Connect", "Drag from a layer's bottom port to another's top port"),
            ("Add a layer", "Drag from the palette, or double-click it (connects after the selection)"),
            ("Insert into a connection", "Drop a layer on the connection"),
            ("Cancel connecting", "Esc"),
        ]  # fmt: skip
        rows += [f"<tr><td>{a}</td><td><b>{b}</b></td></tr>" for a, b in extra]
        self.dialogs.info(
            "Keyboard shortcuts", "<table cellspacing=6>" + "".join(rows) + "</table>"
        )

    def show_getting_started(self):
        """Help ▸ Getting Started (and the first launch): the steps, beside the window."""
        from deepgui.ui.getting_started import GettingStartedDialog

        if self.getting_started is None:
            self.getting_started = GettingStartedDialog(self)
        self.getting_started.show()
        self.getting_started.raise_()
        self.getting_started.activateWindow()
        return self.getting_started

    def show_crash_log(self) -> None:
        from deepgui.ui.app import show_crash_log  # app imports this module: not at the top

        show_crash_log(self)

    def show_about(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("deepgui")
        except PackageNotFoundError:
            number = "development"
        self.dialogs.info(
            "About deepgui",
            f"<b>deepgui {number}</b><br>Build, train and export Keras neural networks visually."
            "<br><br>Every layer is a Keras layer; the Code tab shows the script your model stands for.",
        )

    # ------------------------------------------------------------------ window events
    def closeEvent(self, event) -> None:
        panel = self._training_panel
        if panel is not None and not panel.confirm_stop("close the window"):
            event.ignore()
            return
        if not self.files.maybe_save():
            event.ignore()
            return
        self.files.shutdown()
        self.doc.shutdown()
        self.save_layout()
        event.accept()

    def dragEnterEvent(self, event) -> None:
        if CanvasView._openable(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = CanvasView._openable(event.mimeData())
        if paths:
            self.files.open_paths(paths)
            event.acceptProposedAction()

    def set_theme(self, choice: str) -> None:
        """'system', 'light' or 'dark'; remembered for the next start."""
        settings.set_theme(choice)
        app = QApplication.instance()
        apply_theme(app, None if choice == "system" else choice == "dark")
        self.apply_theme()

    def _context_menu(self, pos) -> None:
        scene_pos = self.view.mapToScene(pos)
        item = self.scene.node_at(scene_pos) or self.scene.edge_at(scene_pos)
        if item is not None and not item.isSelected():
            self.scene.clearSelection()
            item.setSelected(True)
        menu = QMenu(self)
        a = self.actions
        for key in (
            "cut",
            "copy",
            "paste",
            "duplicate",
            "delete",
            "dissolve",
            None,
            "add_layer",
            "layout",
            "fit",
        ):
            menu.addSeparator() if key is None else menu.addAction(a[key])
        selected = self.scene.selected_node_ids()
        if len(selected) == 1 and not self.doc.graph.node(selected[0]).is_input:
            node = self.doc.graph.node(selected[0])
            menu.addSeparator()
            toggle = menu.addAction("Also a model output")
            toggle.setCheckable(True)
            toggle.setChecked(node.output)
            toggle.setToolTip(
                "Return this layer's output from the model even though others read it"
            )
            toggle.toggled.connect(lambda on, nid=node.id: self.set_model_output(nid, on))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def set_model_output(self, node_id: str, output: bool) -> None:
        """Mark a layer that others read as a model output too (undoable)."""
        from deepgui.core.commands import SetOutput

        self.doc.push(SetOutput(node_id, output))

    def apply_theme(self) -> None:
        """Redraw in the current palette after a light/dark switch."""
        for action in self.actions.values():
            name = action.property("icon_name")
            if name:
                action.setIcon(icon(name))
        self.scene.apply_colors()
        self.view.resetCachedContent()
        self.view.refresh_hint()
        if self._training_panel is not None:
            self._training_panel.apply_theme()

    def start_background(self) -> None:
        """Called once the window has painted: load Keras and infer shapes in the background."""
        self.doc.start_inference()
