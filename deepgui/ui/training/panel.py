"""The Training tab: data, configuration, Train/Pause/Resume/Stop with progress, live plots,
the overfitting banner, evaluation and the runs of the project.

The panel shows the core's state and sends it commands. Training runs in a `TrainingRun`
(a worker QObject in a QThread); every update arrives as a queued signal, and the only
blocking wait on the GUI thread is the bounded one in `shutdown()`.

Every handler keeps its slice of the GUI thread short (a 10 ms timer elsewhere stays within a
few ms while a run trains): the plots draw one plot per timer tick, and the end of a run is
shown over several event-loop turns (`_finish_steps`) before `run_finished` says it is shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from deepgui.core.errors import DeepGuiError
from deepgui.core.project import Project
from deepgui.core.sweep.marks import TRAINING
from deepgui.core.training import rundir, runs
from deepgui.ui.tasks import Background
from deepgui.ui.theme import status_color
from deepgui.ui.training.banner import OverfittingBanner
from deepgui.ui.training.buffers import RateMeter, format_seconds
from deepgui.ui.training.config_form import TrainingForm
from deepgui.ui.training.data_view import DataView
from deepgui.ui.training.evaluation_view import EMPTY, EvaluationView
from deepgui.ui.training.plots import LivePlots
from deepgui.ui.training.runs_view import RunsView
from deepgui.ui.training.sweep_view import SweepView
from deepgui.ui.training.worker import TrainingRun
from deepgui.ui.vary import edit_mark

REASON_TEXT = {
    "completed": "Training finished",
    "early_stopping": "Stopped early: the watched metric stopped improving",
    "user": "Stopped by you",
    "nan_loss": "Stopped: the loss became NaN",
    "error": "Training failed",
}

# A failure's sentence is about the project as it was trained; once it changed, this stands instead.
CHANGED_SINCE_FAILURE = "The project has changed since the last run failed: train again (F5)."

SHORT_REASON = {"completed": "finished", "early_stopping": "stopped early", "user": "stopped",
                "nan_loss": "NaN loss", "error": "failed"}  # fmt: skip


# Heights of the views below the controls that show them whole: the plots beside a banner, and
# the confusion matrix with the sample predictions.
PLOTS_HEIGHT = 240
EVALUATION_HEIGHT = 330
# While a run trains, the plots ask for this share of the window's height at least: at
# 1366x768 they were 75 px tall, below a settings form that cannot be edited mid-run.
PLOTS_SHARE = 0.45


def _scroll(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(widget)
    return area


class TrainingPanel(QWidget):
    run_started = Signal()
    run_finished = Signal(str)  # the reason: completed, early_stopping, user, nan_loss, error
    open_project_requested = Signal(str)
    predict_requested = Signal(str)  # a run folder to predict with
    problem_shown = Signal(str)  # a layer whose problem keeps the model from training
    # The panel's height that shows what just appeared whole (the overfitting banner, the
    # evaluation the user opened); the main window grows the dock, within limits.
    room_wanted = Signal(int)

    def __init__(self, get_project: Callable[[], Project], parent=None) -> None:
        super().__init__(parent)
        self.get_project = get_project
        # What keeps the model from training, as the canvas found it: (layer id or "", sentence)
        # or None. The main window supplies it (it holds the shapes worked out for the canvas).
        self.preflight: Callable[[], tuple[str, str] | None] = lambda: None
        self.run: TrainingRun | None = None
        self.run_dir: Path | None = None
        self.last_reason: str | None = None
        self.last_metrics: dict[str, Any] = {}
        self.last_model = None
        self.epochs_seen: list[int] = []
        self.history: list[dict[str, Any]] = []  # the run's epochs: {"epoch", logs...}
        self.batches_seen = 0
        self._project_seen: Project | None = None
        self._started_as: str | None = None  # the project as the latest run started (fingerprint)
        self._form_editing = False  # a form edit is being pushed
        self.form_data_of: Project | None = None  # the project whose data the form was told
        self._devices_probed = False
        self.vary_dialog = None  # the mark of a training field being edited, while it is open
        # Bumped when what the panel shows is replaced (a new run, another project): the steps
        # still showing the end of an earlier run then stop drawing.
        self._shown = 0
        self._reset_progress_state()
        self.background = Background(self)
        # If the panel goes away mid-run, the run must not go on training without it.
        self._live_worker: list = []
        self.destroyed.connect(lambda _=None, box=self._live_worker: [w.stop() for w in box])

        self.data_view = DataView(get_project)
        self.form = TrainingForm(get_graph=lambda: self.get_project().graph)
        self.plots = LivePlots()
        self.banner = OverfittingBanner()
        self.evaluation = EvaluationView()
        self.runs = RunsView()

        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train the model on the data (F5)")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after the batch in flight; the run is kept (Shift+F5)")
        self.epoch_bar = QProgressBar()
        self.epoch_bar.setFormat("epoch %v/%m batches")
        self.run_bar = QProgressBar()
        self.run_bar.setFormat("run %p%")
        self.speed = QLabel("")
        self.speed.setMinimumWidth(220)
        self.message = QLabel("Ready to train.")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        controls = QHBoxLayout()
        for b in (self.train_button, self.pause_button, self.resume_button, self.stop_button):
            controls.addWidget(b)
        controls.addWidget(self.epoch_bar, 1)
        controls.addWidget(self.run_bar, 1)
        controls.addWidget(self.speed)

        self.settings_tabs = QTabWidget()
        self.settings_tabs.addTab(_scroll(self.data_view), "Data")
        self.settings_tabs.addTab(_scroll(self.form), "Configuration")
        self.view_tabs = QTabWidget()
        self.view_tabs.addTab(self.plots, "Live plots")
        self.view_tabs.addTab(self.evaluation, "Evaluation")
        self.view_tabs.addTab(self.runs, "Runs")
        self.sweep = SweepView(get_project, is_training=self.is_training)
        self.view_tabs.addTab(self.sweep, "Sweep")
        # The plots' options in the row of the tabs, where they cost the plots no height.
        self.plots.layout().removeWidget(self.plots.options)
        self.view_tabs.setCornerWidget(self.plots.options, Qt.Corner.TopRightCorner)
        # Wide enough for the data form without cutting a field or a button: the forms
        # scroll up and down in a short dock, never sideways.
        form_width = self.data_view.minimumSizeHint().width()
        self.settings_tabs.setMinimumWidth(form_width + 28)
        self.split = split = QSplitter()
        split.setChildrenCollapsible(False)
        split.addWidget(self.settings_tabs)
        split.addWidget(self.view_tabs)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([form_width + 28, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)

        self.train_button.clicked.connect(self.start_training)
        self.stop_button.clicked.connect(self.stop_training)
        self.pause_button.clicked.connect(self.pause_training)
        self.resume_button.clicked.connect(self.resume_training)
        self.form.edited.connect(self._edit_training)
        self.form.measure_requested.connect(self._measure_engines)
        self.form.vary_requested.connect(self._vary)
        self.data_view.edited.connect(self._edit_dataset)
        # The data described (a preview shown): the form offers the metrics and the classes
        # to weigh that fit it.
        self.data_view.inputs_described.connect(self._data_described)
        # The preview's rows and images are samples the Activations tab offers too.
        self.data_view.preview_changed.connect(self.evaluation.activations_view.set_preview)
        self.banner.remedy_clicked.connect(self.apply_remedy)
        self.runs.open_project_requested.connect(self.open_project_requested)
        self.evaluation.predict_requested.connect(
            lambda: self.predict_requested.emit(str(self.run_dir) if self.run_dir else "")
        )
        self.runs.resume_requested.connect(lambda path: self.start_training(resume=Path(path)))
        self.view_tabs.currentChanged.connect(self._view_changed)
        self.plots.timer.timeout.connect(self._update_progress)
        self.reload()

    # ------------------------------------------------------------------ project
    def reload(self) -> None:
        """Show the current project's settings and runs (call after opening another project)."""
        project = self.get_project()
        if project is not self._project_seen:
            self._project_seen = project
            # Undo of a remedy can change the training dict: show it again when the stack moves.
            project.undo.subscribe(lambda p=project: self._undo_moved(p))
            project.settings.subscribe(lambda *field, p=project: self._setting_changed(p, *field))
            project.marks.subscribe(
                lambda owner, _key, p=project: owner == TRAINING and self._show_marks(p)
            )
            if not self.is_training():
                self._clear_run_display()
                self._show_last_run(project)
            self.sweep.follow_project()  # a sweep of the project before stops
        self.form.load(project.training)
        if project is not self.form_data_of:
            self.form_data_of = project
            self.form.set_data(None, [])  # another project's data: not known until described
        self._show_marks(project)
        self.data_view.load(project.dataset)
        self.runs.set_project(project)
        self.sweep.refresh_marks()
        self._set_buttons()

    def _clear_run_display(self) -> None:
        """Another project: nothing of the previous one's run stays on screen (the plots'
        ranges included)."""
        self._shown += 1
        self.run_dir = None
        self.last_reason, self.last_metrics, self.last_model = None, {}, None
        self.epochs_seen, self.batches_seen, self.history = [], 0, []
        self._reset_progress_state()
        self.plots.reset(1)
        self.evaluation.clear(EMPTY)
        self.banner.clear()
        self.message.setStyleSheet("")
        self.message.setText("Ready to train.")
        self.speed.setText("")
        for bar in (self.epoch_bar, self.run_bar):
            bar.reset()

    def _show_last_run(self, project: Project) -> None:
        """A project opened again shows its newest finished run as it ended: the curves from
        its history.csv and, from its metrics.json, how it ended and its held-out scores (the
        confusion matrix needs the model run on the data: it comes with the next run)."""
        finished = [r for r in runs.project_runs(project) if r.finished]
        if not finished:
            return
        run = finished[0]
        try:
            rows = rundir.read_history(run.path)
        except DeepGuiError:
            return  # a damaged history: the Runs tab says so; nothing to draw
        if not rows:
            return
        metrics = run.metrics
        self.run_dir, self.last_metrics = run.path, dict(metrics)
        self.last_reason = str(metrics.get("stopped_by", "completed"))
        self.history = rows
        self.epochs_seen = [int(r["epoch"]) for r in rows]
        planned = int(metrics.get("epochs_planned") or 0)
        self.plots.set_epochs(0, max(planned, self.epochs_seen[-1]))
        for row in rows:
            self.plots.add_epoch(row["epoch"], {k: v for k, v in row.items() if k != "epoch"})
        best = metrics.get("best") or {}
        flags = metrics.get("overfitting") or []
        if flags and best.get("epoch") is not None and int(best["epoch"]) < int(flags[-1]["epoch"]):
            self.plots.shade_overfitting(int(flags[-1]["epoch"]))  # still overfitting at the end
        phases = metrics.get("fine_tuning")  # {"from_epoch": N, ...} for a fine-tuning run
        self.plots.mark_fine_tuning(phases.get("from_epoch") if isinstance(phases, dict) else None)
        self.plots.redraw()
        self.message.setText(f"Last run, {run.name}: {self._outcome_text(metrics)}")
        self.evaluation.show_stored(run.name, metrics, run.path)

    def _outcome_text(self, metrics: dict[str, Any]) -> str:
        """How a run ended, in the words the panel uses when it ends (one place for both)."""
        reason = str(metrics.get("stopped_by", "completed"))
        text = REASON_TEXT.get(reason, reason)
        if reason in ("error", "nan_loss"):
            message = metrics.get("message", "")
            return f"{text}: {message}" if message else text
        best = metrics.get("best") or {}
        extra = f" Best {best.get('monitor')} at epoch {best.get('epoch')}." if best else ""
        where = f" Saved in {self.run_dir}." if self.run_dir and self.run_dir.exists() else ""
        return f"{text} after {metrics.get('epochs_run', 0)} epochs.{extra}{where}"

    def _edit_training(self, changes: dict) -> None:
        self._push_settings("training", changes, "Change training settings")

    def _show_marks(self, project: Project) -> None:
        """The ⟳ of each training field as the project marks it (a mark another setting rules
        out now is shown red, with the core's sentence)."""
        if project is self.get_project():
            marks = project.marks
            self.form.show_marks(lambda k: (marks.spec(TRAINING, k), marks.problem(TRAINING, k)))

    def _vary(self, key: str) -> None:
        """The editor of a training field's mark; OK pushes one SetMark."""
        project = self.get_project()
        current = project.settings.get("training", key)
        self.vary_dialog = edit_mark(self, project, TRAINING, key, current, self._push_mark)
        self.vary_dialog.finished.connect(lambda _r: setattr(self, "vary_dialog", None))

    def _push_mark(self, command) -> None:
        try:
            self.get_project().undo.push(command)
        except DeepGuiError as exc:  # checked by the editor already; said, never raised
            self.message.setText(str(exc))

    def _data_described(self, _captions=None) -> None:
        preview = self.data_view.last_preview or {}
        if "task" in preview:
            self.form.set_data(preview["task"], preview.get("classes") or [])

    def _edit_dataset(self, changes: dict) -> None:
        self._push_settings("dataset", changes, "Change data settings")

    def _push_settings(self, section: str, changes: dict, text: str) -> None:
        """A form edit becomes one command on the project's undo stack (consecutive edits of
        one field merge into one step)."""
        from deepgui.core.commands import set_fields

        project = self.get_project()
        command = set_fields(getattr(project, section), text, **changes)
        if command is not None:
            self._form_editing = True  # the form already shows it: no reload mid-typing
            try:
                project.undo.push(command)
            finally:
                self._form_editing = False

    def _undo_moved(self, project: Project) -> None:
        # Hidden or not: a stale form would send its old values back with the next edit.
        if project is self.get_project():
            self.banner.refresh_applied()  # a remedy undone is offered again
        if project is self.get_project() and not self._form_editing:
            self.form.graph_changed()  # the settings' fields follow _setting_changed
            if not self.data_view.shows(project.dataset):
                self.data_view.load(project.dataset)
        if project is self.get_project():
            self.data_view.revisit()
            self._revisit_failure(project)
            self.sweep.refresh_marks()  # a mark set or a layer renamed

    def _setting_changed(self, project: Project, section: str, key: str) -> None:
        """One field of the settings changed (an undo, a remedy): its form shows that field."""
        if project is self.get_project() and not self._form_editing:
            form = self.form if section == "training" else self.data_view
            form.show_field(getattr(project, section), key)
        if section == "training":
            self._show_marks(project)  # another setting can rule a mark's values out

    def _revisit_failure(self, project: Project) -> None:
        """The red "Training failed: …" of the latest run goes once the project differs from
        what that run trained (the model fixed, the data chosen again); a save keeps it."""
        if self.is_training() or self.last_reason not in ("error", "nan_loss"):
            return
        if self._started_as is None or project.fingerprint() == self._started_as:
            return
        self._started_as = None
        self.message.setStyleSheet("")
        self.message.setText(CHANGED_SINCE_FAILURE)

    def follow_save(self) -> None:
        """The project was saved: its runs now live beside its file (moved out of the scratch
        area on a first save, copied on a Save As), so the run shown is named where it is now."""
        if self.run_dir is None or self.is_training():
            return
        here = runs.runs_root(self.get_project()) / self.run_dir.name
        if here == self.run_dir or not here.is_dir():
            return
        old, self.run_dir = self.run_dir, here
        if self.evaluation.run_dir == old:  # a moved threshold is kept where the run is now
            self.evaluation.run_dir = here
        self.message.setText(self.message.text().replace(str(old), str(here)))
        self.runs.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.get_project() is not self._project_seen:
            self.reload()
        if not self._devices_probed:
            # TensorFlow is imported in the background once the window is up.
            self._devices_probed = True
            QTimer.singleShot(0, self._probe_devices)

    def _probe_devices(self) -> None:
        from deepgui.ui.training.devices_probe import detect_devices

        self.background.run("devices", detect_devices, self.form.set_devices, lambda _m: None)

    def _measure_engines(self) -> None:
        """Each engine's speed on this model, measured in the background (cached per machine
        and model shape by the core), shown beside the engine choice."""
        from deepgui.core.training.engines import measure_project
        from deepgui.core.training.outputs import refuse_measuring

        snapshot = self.get_project().snapshot()  # the user may edit on while it measures

        def measure():
            refuse_measuring(snapshot)  # several outputs: TensorFlow, nothing to choose
            return measure_project(snapshot)

        self.background.run(
            "engines", measure, self.form.show_speeds,
            lambda message: self.form.show_speeds(None, message),
        )  # fmt: skip

    # ------------------------------------------------------------------ control
    def is_training(self) -> bool:
        return self.run is not None and not self.run.done

    def start_training(self, resume: Path | None = None) -> bool:
        """Start a run of the current project, or continue the stopped run in `resume` from its
        last checkpoint; False (with a message) when one is running."""
        if self.is_training():
            self.message.setText("A run is already in progress: stop it first.")
            return False
        if self.sweep.is_running():  # one thing trains in a window at a time
            self.message.setText("A sweep is running (the Sweep tab): stop it before a run starts.")
            return False
        project = self.get_project()
        if project is not self._project_seen:
            self.reload()
        if not project.dataset:
            self.message.setText("Choose the data first (Data tab).")
            self.settings_tabs.setCurrentIndex(0)
            return False
        problem = self.preflight()
        if problem is not None:  # it would only start and then fail
            node_id, sentence = problem
            sentence = sentence.rstrip()
            sentence += "" if sentence.endswith((".", "!", "?")) else "."
            self.message.setStyleSheet(f"color: {status_color(False)};")
            self.message.setText(
                f"Not started: {sentence} Fix it on the canvas first (the Problems tab lists "
                "every problem), then train."
            )
            if node_id:
                self.problem_shown.emit(node_id)
            return False
        self.run_dir = Path(resume) if resume else runs.new_run_dir(project)
        self._started_as = project.fingerprint()
        self._shown += 1
        self.plots.reset(1)
        # A resumed run goes on from the epochs its checkpoint holds: they are drawn first, on
        # the loss and the metrics plots alike, and the new epochs follow them.
        earlier = self._checkpoint_epochs(self.run_dir) if resume else []
        if not resume:
            # The x axis set now, at the click, for the epochs the run will have: when the run
            # reports them (`_on_started`, mid-run) it is already right, and three plots'
            # axes and grids are not redrawn at once then.
            self.plots.set_epochs(0, int(project.training.get("epochs") or 1))
        elif earlier:
            self.plots.set_epochs(0, earlier[-1]["epoch"] + 1)  # until the run says its epochs
        self.banner.clear()
        self.evaluation.clear()
        self.epochs_seen, self.batches_seen, self.history = [], 0, []
        for row in earlier:
            self.epochs_seen.append(row["epoch"])
            self.history.append(row)
            self.plots.add_epoch(row["epoch"], {k: v for k, v in row.items() if k != "epoch"})
        if earlier:
            self.plots.redraw()
        self._reset_progress_state()
        self.last_reason, self.last_metrics, self.last_model = None, {}, None
        self.message.setText("Starting…")
        self.message.setStyleSheet("")
        run = TrainingRun(project, self.run_dir)
        w = run.worker
        w.status.connect(self.message.setText)
        w.started.connect(self._on_started)
        w.epoch_started.connect(self._on_epoch_started)
        w.batches_ended.connect(self._on_batches)
        w.epoch_ended.connect(self._on_epoch)
        w.overfitting_detected.connect(self._on_overfitting)
        # Bound methods only: a lambda connected to a worker signal would run in the worker
        # thread; a method of this widget is queued to the GUI thread.
        w.paused.connect(self._on_worker_paused)
        w.resumed.connect(self._on_worker_resumed)
        w.finished.connect(self._on_finished)
        run.thread.finished.connect(self._thread_done)
        self._live_worker[:] = [w]
        self.run = run
        self.view_tabs.setCurrentWidget(self.plots)
        self._ask_for_room(PLOTS_HEIGHT, plots=True)  # curves worth reading while it trains
        run.start()
        self.plots.start()
        self._set_buttons()
        self.run_started.emit()
        return True

    @staticmethod
    def _checkpoint_epochs(run_dir: Path) -> list[dict[str, Any]]:
        """The epochs a stopped run's checkpoint holds (the history the engine resumes with),
        numbers only; none when it has no readable checkpoint (the run then says why)."""
        try:
            state = rundir.read_checkpoint(run_dir)
        except DeepGuiError:
            return []
        rows = []
        for row in (state or {}).get("history", []):
            epoch = row.get("epoch")
            if isinstance(epoch, bool) or not isinstance(epoch, int):
                continue
            values = {k: float(v) for k, v in row.items() if k != "epoch"
                      and isinstance(v, int | float) and not isinstance(v, bool)}  # fmt: skip
            rows.append({"epoch": epoch, **values})
        return rows

    def stop_training(self) -> None:
        if self.is_training():
            self.run.worker.stop()
            self.message.setText("Stopping after the batch in flight…")

    def pause_training(self) -> None:
        if self.is_training():
            self.run.worker.pause()
            self._paused_requested = True
            self._set_buttons()

    def resume_training(self) -> None:
        if self.is_training():
            self.run.worker.resume()
            self._paused_requested = False
            self._set_buttons()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Stop the run cleanly and wait (at most `timeout_ms`) for its thread; the run
        directory and its checkpoint are kept. True when no training thread is left running."""
        self.background.wait(0)
        if not self.sweep.shutdown(timeout_ms):
            return False
        run = self.run
        if run is None:
            return True
        run.worker.stop()
        ok = run.wait(timeout_ms)
        if ok:
            self.plots.timer.stop()
        return ok

    def confirm_stop(self, action: str = "close the window", timeout_ms: int = 10000) -> bool:
        """For the main window before closing or opening another project: when a run is in
        progress, ask whether to stop it; on yes stop it cleanly (checkpoint kept). True when
        nothing is training any more, so `action` may go ahead."""
        if not self.is_training():
            return self.shutdown(timeout_ms)
        answer = QMessageBox.question(
            self,
            "Training in progress",
            f"A model is training. Stop the run to {action}? The finished epochs are kept in "
            f"{self.run_dir}.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.message.setText("Stopping the run…")
        return self.shutdown(timeout_ms)

    # ------------------------------------------------------------------ worker events
    def _reset_progress_state(self) -> None:
        self.steps_per_epoch, self.total_epochs, self.initial_epoch = 1, 1, 0
        self.current_epoch, self.current_step, self.batch_size = 0, 0, 1
        self.num_train = 0
        self.rate = RateMeter()
        self._paused_requested = False
        self._paused = False
        self.info: dict[str, Any] = {}
        self.t_start = time.perf_counter()

    def _on_started(self, steps: int, epochs: int, initial: int, info: dict) -> None:
        self.steps_per_epoch, self.total_epochs, self.initial_epoch = steps, epochs, initial
        self.batch_size = int(info.get("batch_size", 1))
        self.num_train = int(info.get("num_train", 0))
        self.info = info
        self.plots.steps_per_epoch = steps
        # From the first epoch, a resumed run's too: its earlier epochs are drawn.
        self.plots.set_epochs(0, epochs)
        self.plots.mark_fine_tuning(info.get("fine_tuning_from"), info.get("fine_tuning_note", ""))
        self.epoch_bar.setRange(0, steps)
        self.run_bar.setRange(0, max(1, (epochs - initial) * steps))
        val = f", {info.get('num_val')} for validation" if info.get("num_val") else ""
        self.message.setText(
            f"Training on {info.get('device', '?')}: {self.num_train} samples{val}, "
            f"loss {info.get('loss')}, metrics {', '.join(info.get('metrics') or [])}."
        )
        self.data_view.check_label.setText(
            f"<span style='color:{status_color(True)}'>✓ The data fits the model (checked at "
            "the start of training).</span>"
        )

    def _on_epoch_started(self, epoch: int) -> None:
        self.current_epoch, self.current_step = epoch, 0

    def _on_batches(self, batches: list) -> None:
        epoch = max(1, self.current_epoch)
        for step, logs, seconds in batches:
            self.batches_seen += 1
            self.current_step = step
            samples = min(self.batch_size, max(0, self.num_train - (step - 1) * self.batch_size))
            self.rate.add(samples or self.batch_size, seconds)
            self.plots.add_batch(epoch, step, logs)

    def _on_epoch(self, epoch: int, logs: dict) -> None:
        self.epochs_seen.append(epoch)
        self.history.append({"epoch": epoch, **logs})
        self.plots.add_epoch(epoch, logs)
        self._revisit_banner()

    def _on_overfitting(self, report) -> None:
        # The engine flags before it reports the epoch's end: count that epoch in already.
        self.plots.shade_overfitting(report.epoch)
        rows = self.history
        if not rows or rows[-1]["epoch"] < report.detected_at:
            rows = [*rows, {"epoch": report.detected_at}]
        self.banner.show_report(report, rows)
        self._ask_for_room(PLOTS_HEIGHT, plots=True)

    def apply_theme(self) -> None:
        """Follow a light/dark switch where pyqtgraph keeps colours of its own."""
        self.evaluation.follow_palette()
        self.plots.follow_palette()
        self.runs.follow_palette()
        self.sweep.follow_palette()
        if self.message.styleSheet():  # a failure said in red: the red of the new look
            self.message.setStyleSheet(f"color: {status_color(False)};")

    def _ask_for_room(self, views_height: int, plots: bool = False) -> None:
        """Ask for the height that shows the controls, the banner and `views_height` of the
        plots or evaluation, once the layout has taken in what changed. For the `plots` of a
        run, at least PLOTS_SHARE of the window's height for the plots themselves."""

        def ask() -> None:
            above = self.split.mapTo(self, self.split.rect().topLeft()).y()
            height = views_height
            if plots:
                around = max(0, self.view_tabs.height() - self.plots.row_height())
                height = max(height, int(PLOTS_SHARE * self.window().height()) + around)
            self.room_wanted.emit(above + height + 12)

        QTimer.singleShot(0, ask)

    def _view_changed(self, _index: int) -> None:
        self.plots.options.setVisible(self.view_tabs.currentWidget() is self.plots)
        if self.view_tabs.currentWidget() is self.evaluation:
            self._ask_for_room(EVALUATION_HEIGHT)

    def _revisit_banner(self) -> None:
        """After every epoch the banner says again what the flag means: a new best since ends
        the shaded stretch, and the best epoch it names is the run's own."""
        if self.banner.report is None:
            return
        status = self.banner.revisit(self.history)
        if status is not None and not status.active:
            self.plots.close_overfitting(status.best_epoch)

    def _on_worker_paused(self) -> None:
        self._on_paused(True)

    def _on_worker_resumed(self) -> None:
        self._on_paused(False)

    def _on_paused(self, paused: bool) -> None:
        self._paused = paused
        self.message.setText("Paused: Resume continues from here." if paused else "Training…")
        self._set_buttons()

    def _on_finished(self, reason: str, metrics: dict, evaluation: Any) -> None:
        """How the run ended, at once; the plots' last points, the evaluation and the runs
        list follow over several event-loop turns (drawn in one go they held the GUI thread
        for 70-85 ms), then `run_finished`."""
        run = self.run
        if run is not None:
            run.done = True  # the thread ends right after this signal; no more events come
        self.last_reason, self.last_metrics = reason, dict(metrics or {})
        self.last_model = run.worker.model if run is not None else None
        self.plots.timer.stop()
        self._update_progress()
        if reason in ("error", "nan_loss"):
            self.message.setStyleSheet(f"color: {status_color(False)};")
            self.message.setText(self._outcome_text({**self.last_metrics, "stopped_by": reason}))
            if reason == "error":  # a check made at the start no longer vouches for anything
                self.data_view.check_label.setText("")
        else:
            self.message.setStyleSheet("")
            self.message.setText(self._outcome_text({**self.last_metrics, "stopped_by": reason}))
        self._set_buttons()
        self._step_through(self._finish_steps(evaluation), lambda: self.run_finished.emit(reason))

    def _finish_steps(self, evaluation: Any) -> Iterator[None]:
        """The end of a run shown, one short slice per step: the plots' last points (one plot
        a step), the evaluation (a few cells a step), the runs list."""
        while self.plots.pending():
            self.plots.tick()
            yield
        yield from self.evaluation.result_steps(evaluation, self.last_model, self.run_dir)
        yield
        self.runs.refresh()

    def _step_through(self, steps: Iterator[None], then: Callable[[], None]) -> None:
        """Run one step of `steps` per event-loop turn (timers and input are served between
        them), then `then`. Steps showing what has since been replaced (a new run, another
        project) are dropped; `then` still runs."""
        shown = self._shown

        def step() -> None:
            if shown == self._shown:
                try:
                    next(steps)
                except StopIteration:
                    pass
                except BaseException:
                    then()  # whoever waits for the end hears of it, failed step or not
                    raise
                else:
                    QTimer.singleShot(0, self, step)
                    return
            then()

        QTimer.singleShot(0, self, step)

    def _thread_done(self) -> None:
        # Only the current run's thread counts; an older one may finish after a new run began.
        if self.run is not None and self.sender() is self.run.thread:
            self.run.done = True
        self._set_buttons()

    # ------------------------------------------------------------------ remedies
    def apply_remedy(self, remedy) -> bool:
        """Push the remedy's edit on the project's undo stack (one undoable step)."""
        project = self.get_project()
        try:
            command = remedy.apply(project)
        except DeepGuiError as exc:
            self.message.setText(f"{remedy.title} could not be applied: {exc}")
            return False
        self.banner.mark_applied(remedy.key, command)
        return True

    # ------------------------------------------------------------------ display
    def _set_buttons(self) -> None:
        running = self.is_training()
        paused = self._paused_requested
        self.train_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.pause_button.setEnabled(running and not paused)
        self.resume_button.setEnabled(running and paused)
        self.form.setEnabled(not running)
        self.data_view.setEnabled(not running)

    def _update_progress(self) -> None:
        if not self.is_training() and self.last_reason is None:
            return
        if not self.is_training() and not self.epochs_seen and self.current_epoch == 0:
            # It ended before an epoch began (a failed start): no progress to show.
            for bar in (self.epoch_bar, self.run_bar):
                bar.reset()
                bar.setFormat("")
            self.speed.setText("")
            return
        self.epoch_bar.setValue(self.current_step)
        self.epoch_bar.setFormat(f"epoch {self.current_epoch}/{self.total_epochs}: %v/%m batches")
        self.run_bar.setFormat("run %p%")
        done = max(0, self.current_epoch - 1 - self.initial_epoch) * self.steps_per_epoch
        self.run_bar.setValue(min(self.run_bar.maximum(), done + self.current_step))
        if not self.is_training():
            state = SHORT_REASON.get(self.last_reason or "", "done")
            self.speed.setText(f"{self.rate.rate:,.0f} samples/s · {state}")
            return
        left_batches = self.run_bar.maximum() - self.run_bar.value()
        eta = self.rate.eta(left_batches * self.batch_size)
        self.speed.setText(f"{self.rate.rate:,.0f} samples/s · ETA {format_seconds(eta)}")
