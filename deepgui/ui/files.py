"""File handling for the main window: new, open (projects and Keras models), save, save as,
recent files, the unsaved-changes prompt, export, and autosave with recovery after a crash."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication

from deepgui.core.errors import DeepGuiError
from deepgui.core.paths import is_bundled_example
from deepgui.core.project import SUFFIX, Project, load_project
from deepgui.ui import recovery, settings
from deepgui.ui.dialogs import MODEL_FILTER
from deepgui.ui.tasks import Background

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
REPLACE_PROJECT = "The file is replaced by the project in the editor; runs kept beside it stay."


class _BusyCursor:
    def __enter__(self):
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)

    def __exit__(self, *exc):
        QGuiApplication.restoreOverrideCursor()


class FileActions(QObject):
    # The project was written to its file; its runs moved or were copied beside it.
    saved = Signal()

    def __init__(self, window, autosave_ms: int = 30_000) -> None:
        super().__init__(window)
        self.window = window
        self.unsaved_extra = (
            False  # changes outside the undo stack: recovered, imported, training settings
        )
        self.recovery = recovery.RecoveryFile(recovery_dir())
        self._autosaved_at: tuple[int, int] | None = None
        self.importing: Path | None = None  # a Keras model being imported in the background
        self._edits_at_import = 0
        self.background = Background(self)
        self.timer = QTimer(self)
        self.timer.setInterval(autosave_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()

    @property
    def doc(self):
        return self.window.doc

    @property
    def dialogs(self):
        return self.window.dialogs

    def display_name(self) -> str:
        return self.doc.files_name()

    def is_dirty(self) -> bool:
        return self.doc.is_dirty or self.unsaved_extra

    # ------------------------------------------------------------------ replacing the project
    def set_project(self, project: Project, recovered: bool = False) -> None:
        self.doc.set_project(project)
        self.doc.display_name = None
        self.unsaved_extra = recovered
        self._autosaved_at = None
        if not recovered:
            self.recovery.discard()
        self.window.refresh_title()
        self.window.refresh_actions()
        QTimer.singleShot(0, self.window.view.fit_all)

    def new_project(self) -> None:
        if self.can_leave():
            self.set_project(Project())

    def revert(self) -> bool:
        """Throw away the edits since the last save: the file as it is on disk."""
        path = self.doc.project.path
        if path is None or not self.is_dirty():
            return False
        if not self.dialogs.confirm(
            "Revert", f"Discard every change since {path.name} was last saved?"
        ):
            return False
        return self.open_path(path, ask=False)

    def open_dialog(self) -> None:
        if not self.can_leave():
            return
        path = self.dialogs.open_file()
        if path:
            self.open_path(path, ask=False)

    def import_dialog(self) -> None:
        if not self.can_leave():
            return
        path = self.dialogs.open_file("Import Keras model", MODEL_FILTER)
        if path:
            self.open_path(path, ask=False)

    def open_paths(self, paths: list[str]) -> None:
        """Files dropped on the window: the first one is opened."""
        if paths:
            self.open_path(paths[0])

    def open_path(self, path: str | os.PathLike, ask: bool = True) -> bool:
        """Open a project, or import a Keras model; errors are shown, never raised."""
        path = Path(path)
        if ask and not self.can_leave():
            return False
        if path.suffix.lower() in MODEL_SUFFIXES:
            return self.import_model(path)
        try:
            with _BusyCursor():
                project, template = load_for_editing(path)
        except DeepGuiError as exc:
            self.dialogs.error("Cannot open project", str(exc))
            settings.remove_recent(str(path.resolve()))
            return False
        self.set_project(project)
        if template:
            self.doc.display_name = template
            self.window.refresh_title()
            self.window.statusBar().showMessage(
                f"Opened the example {template} as a new project: Save asks where to keep it.",
                8000,
            )
            return True
        settings.add_recent(path)
        self.window.statusBar().showMessage(f"Opened {path}.", 5000)
        return True

    def import_model(self, path: Path) -> bool:
        """Import a Keras model in the background (loading it can take seconds, TensorFlow
        included); the project is replaced when it is ready. True when the import started."""
        from deepgui.core.keras_import import project_from_model_file

        self.importing = path
        self._edits_at_import = self.doc.edits
        self.window.statusBar().showMessage(f"Importing {path.name}…")
        self.background.run(
            "import", lambda: _import_file(project_from_model_file, path), self._imported,
            self._import_failed,
        )  # fmt: skip
        return True

    def _import_failed(self, message: str) -> None:
        self.importing = None
        self.window.statusBar().clearMessage()
        self.dialogs.error("Cannot import model", message)

    def _imported(self, result) -> None:
        path, self.importing = self.importing, None
        if self.doc.edits != self._edits_at_import and not self.maybe_save():
            self.window.statusBar().showMessage(f"Import of {path.name} set aside.", 5000)
            return
        self.set_project(result)
        self.doc.display_name = path.stem
        # An imported model is a new project: it is saved only when the user chooses where.
        self.unsaved_extra = True
        self.window.refresh_title()
        self.window.statusBar().showMessage(
            f"Imported {path.name}: {len(result.graph)} layers. Save it as a project to keep it."
            + "".join(f" {note}" for note in result.import_notes),
            8000,
        )

    @staticmethod
    def _layout_if_stacked(project: Project) -> None:
        positions = {n.position for n in project.graph}
        if len(project.graph) > 1 and len(positions) < len(project.graph):
            from deepgui.ui.editing import layout_command

            command = layout_command(project.graph)
            if command is not None:
                command.redo(project.graph)  # part of the import, not an undo step

    def mark_changed(self) -> None:
        """A change outside the undo stack (data or training settings): unsaved until saved."""
        self.unsaved_extra = True
        self.doc.edits += 1  # so the next autosave writes it
        self.window.refresh_title()

    # ------------------------------------------------------------------ saving
    def save(self) -> bool:
        project = self.doc.project
        if project.path is None or project.path.suffix != SUFFIX:
            return self.save_as()
        return self._save_to(project.path)

    def save_as(self, path: str | os.PathLike | None = None) -> bool:
        if path is None:
            suggestion = (
                str(self.doc.project.path.with_suffix(SUFFIX))
                if self.doc.project.path
                else f"{self.display_name()}{SUFFIX}"
            )
            chosen = self.dialogs.save_file(suggestion)
            if not chosen:
                return False
            path = _with_suffix(Path(chosen))
            # The file dialog asked about the name as typed; with .dgproj added it may name
            # another file, which is not written over without asking either.
            taken = path != Path(chosen) and (path.exists() or path.is_symlink())
            if taken and not self.dialogs.replace([path], "this project", REPLACE_PROJECT):
                return False
        return self._save_to(_with_suffix(Path(path)))

    def _save_to(self, path: Path) -> bool:
        try:
            self.doc.project.save(path)
        except (DeepGuiError, OSError) as exc:
            self.dialogs.error(
                "Cannot save", f"{path}: {exc}" if isinstance(exc, OSError) else str(exc)
            )
            return False
        self.unsaved_extra = False
        self.recovery.discard()
        settings.add_recent(path)
        self.window.refresh_title()
        self.window.statusBar().showMessage(f"Saved {path}.", 5000)
        self.saved.emit()
        return True

    def can_leave(self, action: str = "open another project") -> bool:
        """Before the project is replaced: stop a run in progress (asked), then offer to save."""
        panel = getattr(self.window, "_training_panel", None)
        if panel is not None and panel.is_training() and not panel.confirm_stop(action):
            return False
        return self.maybe_save()

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.is_dirty():
            return True
        answer = self.dialogs.unsaved_changes(self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ------------------------------------------------------------------ recent files
    def fill_recent_menu(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        files = settings.recent_files()
        for i, path in enumerate(files):
            action = QAction(f"&{i + 1}  {Path(path).name}", menu)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
            menu.addAction(action)
        if not files:
            empty = menu.addAction("No recent files")
            empty.setEnabled(False)

    def fill_examples_menu(self) -> None:
        menu = self.window.examples_menu
        menu.clear()
        menu.setToolTipsVisible(True)
        for name, path, description in examples():
            # What each example is, in the menu itself: a bare name told a newcomer nothing.
            action = QAction(f"{name} — {description}" if description else name, menu)
            action.setStatusTip(description)
            action.setToolTip(description)
            action.triggered.connect(lambda _=False, p=path: self.open_example(p))
            menu.addAction(action)
        if menu.isEmpty():
            menu.addAction("No examples installed").setEnabled(False)

    def open_example(self, path: str | os.PathLike) -> bool:
        """Open a shipped example as a new project: Save asks where, the example stays intact
        (the same way as any other opening of a file in the examples folder)."""
        return self.open_path(path)

    # ------------------------------------------------------------------ export
    def export_dialog(self) -> None:
        """Export a run's trained model or the project; the dialog shows the self-check."""
        from deepgui.ui.export_dialog import ExportDialog

        self._export = ExportDialog(self.doc.project, self.window)
        self._export.show()

    # ------------------------------------------------------------------ autosave and recovery
    def autosave(self) -> bool:
        """Write the recovery file when there are changes it does not hold yet."""
        marker = (id(self.doc.project), self.doc.edits)
        if not self.is_dirty():
            self.recovery.discard()
            return False
        if marker == self._autosaved_at:
            return False
        try:
            self.recovery.write(self.doc.project)
        except (OSError, ValueError):
            return False  # autosave is best effort: never interrupt the user for it
        self._autosaved_at = marker
        return True

    def check_recovery(self) -> bool:
        """Offer the work a crashed session left behind; True when it was recovered. A file in
        the recovery folder that cannot be read never stops the start: it is moved aside into
        `unreadable/` (recovery.screen) and the user is told which, after the offer."""
        good, set_aside = recovery.screen(recovery_dir())
        recovered = False
        for path in good:
            original = recovery.original_path(path)
            what = Path(original).name if original else "an unsaved project"
            if not self.dialogs.offer_recovery(what):
                path.unlink(missing_ok=True)
                continue
            try:
                project = recovery.load_recovered(path)
            except DeepGuiError as exc:  # it changed since it was screened: moved aside too
                self.dialogs.error("Cannot recover", str(exc))
                continue
            self.set_project(project, recovered=True)
            self.recovery.write(project)  # now this session's own recovery file
            path.unlink(missing_ok=True)
            recovered = True
            break
        if set_aside:
            self.dialogs.error("Autosaved work set aside", set_aside_message(set_aside))
        return recovered

    def shutdown(self) -> None:
        """A clean exit: nothing is left to recover."""
        self.timer.stop()
        self.recovery.discard()


def _with_suffix(path: Path) -> Path:
    return path if path.suffix == SUFFIX else path.with_name(path.name + SUFFIX)


def load_for_editing(path: str | os.PathLike) -> tuple[Project, str | None]:
    """The project at `path` and, for a bundled example (`paths.is_bundled_example`), the name
    to show: an example opens as a new project with no file of its own, so its runs go to the
    scratch area and Save asks where. ProjectFormatError (a DeepGuiError) when unreadable."""
    project = load_project(path)
    if not is_bundled_example(path):
        return project, None
    project.path = None
    return project, Path(path).stem


def _import_file(load, path: Path):
    """Runs in a worker thread: the laid-out project; DeepGuiError says why not."""
    try:
        project, _model = load(path)
    except DeepGuiError:
        raise
    except Exception as exc:  # Keras's own loaders raise anything; say it in one sentence
        raise DeepGuiError(f"{path}: cannot be read as a Keras model ({exc}).") from None
    FileActions._layout_if_stacked(project)
    return project


def examples() -> list[tuple[str, Path, str]]:
    """(name, path, description) of the bundled examples; none when they are not installed."""
    from deepgui.core.training.examples import list_examples

    try:
        return [tuple(e) for e in list_examples()]
    except DeepGuiError:
        return []


def set_aside_message(set_aside: list[tuple[Path, str]]) -> str:
    """One sentence naming each recovery file that could not be read and where it went."""
    moved = [(Path(p), _reason(why)) for p, why in set_aside]
    if len(moved) == 1:
        path, why = moved[0]
        where = (
            f"moved it to {path}" if path.parent.name == recovery.UNREADABLE else "left it there"
        )
        return f"deepgui could not recover the autosaved file {path.name} and {where}: {why}."
    folders = {p.parent for p, _ in moved}
    where = f"moved them to {next(iter(folders))}" if len(folders) == 1 else "set them aside"
    listed = "; ".join(f"{p.name} ({why})" for p, why in moved)
    return f"deepgui could not recover {len(moved)} autosaved files and {where}: {listed}."


def _reason(why: str) -> str:
    """A reason without the file's path in front (the message names the file once) and
    without its full stop (it goes inside a sentence)."""
    head, sep, rest = why.partition(": ")
    if sep and head.endswith(".dgproj"):
        why = rest
    return why.strip().rstrip(".")


def recovery_dir() -> Path:
    return settings.config_dir() / "recovery"
