"""The app never writes over a user's file without asking: the Export dialog, Save As (when the
name it adds .dgproj to is taken) and the Predict dialog's CSV each ask "Replace?" with the
path, replace on Yes (and then only what deepgui itself wrote: otherwise the core's sentence is
shown), and change nothing on No. The questions are real message boxes, answered with the
mouse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.export_dialog import ExportDialog  # noqa: E402
from tests.helpers import small_cnn  # noqa: E402

pytestmark = pytest.mark.ui


class Boxes:
    """Answers the message boxes the app shows, as a user does: each in turn, by clicking the
    button whose text is next in `answers`; keeps what each box said (its text and details).
    Use as a context manager around the action that shows them."""

    def __init__(self, qtbot, *answers: str) -> None:
        self.qtbot = qtbot
        self.answers = list(answers)
        self.seen: list[str] = []
        # The boxes answered, kept alive: a set of id()s could take a new box for an old one
        # whose id was reused, and leave it open for ever (seen in a long run of the suite).
        self._done: list[QMessageBox] = []
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._answer)

    def __enter__(self) -> Boxes:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.stop()

    def _answer(self) -> None:
        # Any visible message box, not only the active modal widget: under a loaded machine
        # the box may be shown before it becomes active (or something else may be active).
        boxes = [w for w in QApplication.topLevelWidgets()
                 if isinstance(w, QMessageBox) and w.isVisible()
                 and not any(done is w for done in self._done)]  # fmt: skip
        if not boxes:
            return
        box = boxes[0]
        self._done.append(box)
        said = "\n".join(t for t in (box.text(), box.informativeText()) if t)
        self.seen.append(said)
        buttons = {b.text().replace("&", ""): b for b in box.buttons()}
        wanted = self.answers.pop(0) if self.answers else None
        if wanted not in buttons:  # not a question the test expected: closed (Esc), and seen
            self.seen.append(f"(no button {wanted!r} among {sorted(buttons)})")
            box.reject()
            return
        self.qtbot.mouseClick(buttons[wanted], Qt.MouseButton.LeftButton)

    def wait_all_answered(self, timeout: int = 10_000) -> None:
        self.qtbot.waitUntil(lambda: not self.answers, timeout=timeout)


# ----------------------------------------------------------------------------- export
@pytest.fixture
def project_with_run(tmp_path):
    from deepgui.core.build import build_model

    graph, _ = small_cnn()
    project = Project(graph=graph)
    project.save(tmp_path / "digits.dgproj")
    run = tmp_path / "digits.runs" / "20261125-101010"
    run.mkdir(parents=True)
    build_model(graph).save(run / "model.keras")
    metrics = {"epochs_run": 1, "stopped_by": "completed", "best": {"epoch": 1, "metrics": {}}}
    (run / "metrics.json").write_text(json.dumps(metrics))
    (run / "history.csv").write_text("epoch,loss,val_loss\n1,0.9,0.8\n")
    Project(graph=graph.copy(), id=project.id).save(run / "project.dgproj")
    return project, run


def export_dialog(qtbot, project, fmt: str, path: Path) -> ExportDialog:
    dialog = ExportDialog(project)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    dialog.path.setText(str(path))
    return dialog


def click_export(qtbot, dialog: ExportDialog, *answers: str) -> Boxes:
    """Press Export, answer the questions, and wait for the export to end (if one started)."""
    with Boxes(qtbot, *answers) as boxes:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        boxes.wait_all_answered()
    qtbot.waitUntil(lambda: not dialog.background.busy() and dialog.progress.isHidden(),
                    timeout=120_000)  # fmt: skip
    return boxes


def test_export_over_an_earlier_export_asks_and_replaces_on_yes(qtbot, project_with_run, tmp_path):
    project, _run = project_with_run
    target = tmp_path / "out" / "history.csv"
    dialog = export_dialog(qtbot, project, "csv", target)
    assert not click_export(qtbot, dialog).seen  # nothing there yet: nothing to ask
    assert dialog.report is not None and dialog.report.ok, dialog.result.text()
    target.write_text("epoch,loss\n1,7\n")  # an earlier export of the same run's history
    boxes = click_export(qtbot, dialog, "Replace")
    assert len(boxes.seen) == 1 and str(target) in boxes.seen[0] and "Replace" in boxes.seen[0]
    assert dialog.report.ok and target.read_text().startswith("epoch,loss,val_loss")
    assert "✓" in dialog.result.text()


def test_export_over_an_existing_file_changes_nothing_on_no(qtbot, project_with_run, tmp_path):
    project, _run = project_with_run
    target = tmp_path / "model.keras"
    target.write_bytes(b"PK\x03\x04 an earlier export")
    dialog = export_dialog(qtbot, project, "keras", target)
    boxes = click_export(qtbot, dialog, "Cancel")
    assert len(boxes.seen) == 1 and str(target) in boxes.seen[0]
    assert target.read_bytes() == b"PK\x03\x04 an earlier export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.dgproj", "digits.runs",
                                                          "model.keras"]  # fmt: skip
    assert dialog.report is None and dialog.export_button.isEnabled()
    assert "Nothing was exported" in dialog.result.text()


def test_what_deepgui_did_not_write_is_not_replaced_even_on_yes(qtbot, project_with_run, tmp_path):
    """A folder of the user's where a SavedModel would go: asked, Yes, then refused by the
    core in one sentence naming it, and the folder is as it was."""
    project, run = project_with_run
    folder = tmp_path / "holiday"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(b"\xff\xd8 my photo")
    dialog = export_dialog(qtbot, project, "savedmodel", folder)
    dialog.source.setCurrentIndex(0)  # the run (runs come first)
    assert dialog.source.currentData() == run
    boxes = click_export(qtbot, dialog, "Replace")
    assert str(folder) in boxes.seen[0]
    text = dialog.result.text()
    assert str(folder) in text and "not replaced" in text and "\n" not in text
    assert [p.name for p in folder.iterdir()] == ["photo.jpg"]
    assert (folder / "photo.jpg").read_bytes() == b"\xff\xd8 my photo"


def test_a_run_exports_signature_beside_is_asked_about_too(qtbot, project_with_run, tmp_path):
    """The artefact is new but the signature file beside it is there already: asked, by name."""
    from deepgui.core import signature

    project, run = project_with_run
    classes = [str(i) for i in range(10)]
    signature.write(signature.Signature("multiclass", classes, None), run / signature.RUN_FILE)
    target = tmp_path / "m.keras"
    beside = tmp_path / "m.keras.signature.json"
    beside.write_text('{"task": "multiclass"}')
    dialog = export_dialog(qtbot, project, "keras", target)
    dialog.source.setCurrentIndex(0)  # the run (runs come first)
    assert dialog.source.currentData() == run
    boxes = click_export(qtbot, dialog, "Cancel")
    assert len(boxes.seen) == 1 and beside.name in boxes.seen[0]
    assert not target.exists() and beside.read_text() == '{"task": "multiclass"}'


# ----------------------------------------------------------------------------- save as
def test_save_as_asks_when_the_name_with_dgproj_added_is_taken(qtbot, tmp_path, monkeypatch):
    """The file dialog asks about the name as typed ("work"); the project goes to work.dgproj,
    which is another project: asked about by name, kept on Cancel, replaced on Replace."""
    from deepgui.core.project import load_project
    from deepgui.ui.dialogs import Dialogs
    from deepgui.ui.main_window import MainWindow
    from tests.ui_support import FakeDialogs

    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    other = Project()
    other.graph.add_node("InputLayer", {"shape": [9]})
    existing = other.save(tmp_path / "work.dgproj")
    before = existing.read_bytes()
    window = MainWindow(Project(graph=small_cnn()[0]), autosave_ms=3_600_000)
    qtbot.addWidget(window)
    window.dialogs = Dialogs(window)
    typed = []
    monkeypatch.setattr(window.dialogs, "save_file", lambda *a, **k: typed.pop(0))

    typed.append(str(tmp_path / "work"))
    with Boxes(qtbot, "Cancel") as boxes:
        window.actions["save_as"].trigger()
        boxes.wait_all_answered()
    assert len(boxes.seen) == 1 and str(existing) in boxes.seen[0]
    assert existing.read_bytes() == before and window.doc.project.path is None

    typed.append(str(tmp_path / "work"))
    with Boxes(qtbot, "Replace") as boxes:
        window.actions["save_as"].trigger()
        boxes.wait_all_answered()
    assert window.doc.project.path == existing
    assert len(load_project(existing).graph) == len(small_cnn()[0])

    typed.append(str(tmp_path / "fresh"))
    with Boxes(qtbot) as boxes:  # a free name: nothing to ask
        window.actions["save_as"].trigger()
    assert not boxes.seen and (tmp_path / "fresh.dgproj").is_file()
    window.dialogs = FakeDialogs()  # closing asks nothing: a modal box would wait forever
    window.doc.shutdown()


# ----------------------------------------------------------------------------- predict
@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    from deepgui.core.data import load_dataset
    from deepgui.core.paths import examples_dir
    from deepgui.core.project import load_project
    from deepgui.core.training import runs
    from deepgui.core.training.config import TrainingConfig
    from deepgui.core.training.engine import TrainingEngine

    root = tmp_path_factory.mktemp("iris")
    project = load_project(examples_dir() / "iris_dense.dgproj")
    project.save(root / "iris.dgproj")
    data = load_dataset(project.dataset, root, graph=project.graph)
    config = TrainingConfig.from_dict({**project.training, "epochs": 1})
    run_dir = runs.new_run_dir(project)
    TrainingEngine(project.graph, data, config, project=project, dataset_spec=project.dataset,
                   run_dir=run_dir).run()  # fmt: skip
    return project, run_dir


def test_saving_predictions_asks_and_never_replaces_the_users_data(
    qtbot, iris_run, tmp_path, monkeypatch
):
    from deepgui.core.paths import datasets_dir
    from deepgui.ui import predict_dialog
    from deepgui.ui.predict_dialog import PredictDialog

    project, run_dir = iris_run
    data = tmp_path / "flowers.csv"
    data.write_bytes((datasets_dir() / "iris.csv").read_bytes())
    d = PredictDialog(project, None, str(run_dir))
    qtbot.addWidget(d)
    d.show()
    d.data.setText(str(data))
    qtbot.mouseClick(d.predict_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.save_button.isEnabled(), timeout=60_000)
    chosen: list[Path] = []
    monkeypatch.setattr(predict_dialog.QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(chosen.pop(0)), ""))  # fmt: skip

    def save(path: Path, *answers: str) -> Boxes:
        chosen.append(path)
        with Boxes(qtbot, *answers) as boxes:
            qtbot.mouseClick(d.save_button, Qt.MouseButton.LeftButton)
            boxes.wait_all_answered()
        return boxes

    # The data itself, picked by mistake: asked, and even on Replace it is not replaced.
    original = data.read_bytes()
    boxes = save(data, "Replace")
    assert str(data) in boxes.seen[0] and data.read_bytes() == original
    assert "is not a predictions file deepgui wrote" in d.status.text()
    out = tmp_path / "flowers_predictions.csv"
    assert not save(out).seen and out.read_text().startswith("row,predicted")
    earlier = out.read_bytes()
    out.write_bytes(earlier + b"an edit of the user's\n")
    edited = out.read_bytes()
    boxes = save(out, "Cancel")
    assert str(out) in boxes.seen[0] and out.read_bytes() == edited
    assert "Nothing was saved" in d.status.text()
    save(out, "Replace")
    assert out.read_bytes() == earlier and str(out) in d.status.text()
    d.wait(30)
