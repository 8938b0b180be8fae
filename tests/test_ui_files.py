"""Files in the app: save and reopen, unsaved-changes prompt, recent files, autosave and
recovery after a crash, importing a Keras model, and what opens first."""

from __future__ import annotations

import json
import os
import time

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from deepgui.core.commands import AddNode, Connect, set_params  # noqa: E402
from deepgui.core.project import Project, load_project  # noqa: E402
from deepgui.ui import recovery, settings  # noqa: E402
from deepgui.ui.app import initial_project  # noqa: E402
from deepgui.ui.main_window import MainWindow  # noqa: E402

pytestmark = pytest.mark.ui


class FakeDialogs:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []
        self.unsaved_answer = "discard"
        self.recover_answer = True
        self.save_path: str | None = None

    def unsaved_changes(self, name):
        self.asked.append(("unsaved", name))
        return self.unsaved_answer

    def offer_recovery(self, description):
        self.asked.append(("recover", description))
        return self.recover_answer

    def error(self, title, message):
        self.asked.append(("error", message))

    def info(self, title, message):
        self.asked.append(("info", message))

    def save_file(self, suggestion, file_filter=""):
        self.asked.append(("save_as", suggestion))
        return self.save_path


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def make_window(qtbot, project=None) -> MainWindow:
    w = MainWindow(project or Project(), autosave_ms=3_600_000)
    w.dialogs = FakeDialogs()
    qtbot.addWidget(w)
    return w


def small_model(w: MainWindow) -> tuple[str, str]:
    a, b = AddNode("InputLayer", {"shape": [4]}, (0, 0)), AddNode("Dense", {"units": 2}, (0, 150))
    for cmd in (a, b):
        w.doc.push(cmd)
    w.doc.push(Connect(a.node_id, b.node_id))
    return a.node_id, b.node_id


def test_save_and_reopen_give_the_same_project(qtbot, config, tmp_path):
    w = make_window(qtbot)
    small_model(w)
    w.doc.project.training["epochs"] = 3
    path = tmp_path / "net.dgproj"
    assert w.files.save_as(path)
    assert not w.files.is_dirty() and not w.isWindowModified()
    assert w.doc.project.path == path
    before = w.doc.project.to_dict()
    w2 = make_window(qtbot)
    assert w2.files.open_path(path)
    assert w2.doc.project.to_dict() == before
    assert len(w2.scene.nodes) == 2 and len(w2.scene.edges) == 1
    assert settings.recent_files()[0] == str(path.resolve())
    assert settings.last_project() == str(path.resolve())


def test_save_asks_where_for_a_new_project_and_adds_suffix(qtbot, config, tmp_path):
    w = make_window(qtbot)
    small_model(w)
    w.dialogs.save_path = str(tmp_path / "chosen")
    assert w.files.save()
    assert (tmp_path / "chosen.dgproj").is_file()
    assert load_project(tmp_path / "chosen.dgproj").graph.to_dict() == w.doc.graph.to_dict()


def test_unsaved_changes_prompt(qtbot, config, tmp_path):
    w = make_window(qtbot)
    small_model(w)
    assert w.isWindowModified()
    w.dialogs.unsaved_answer = "cancel"
    w.show()
    assert not w.close()  # cancelled: the window stays with its work
    assert w.isVisible() and len(w.doc.graph) == 2
    w.dialogs.unsaved_answer = "save"
    w.dialogs.save_path = str(tmp_path / "kept.dgproj")
    assert w.close()
    assert load_project(tmp_path / "kept.dgproj").graph.to_dict() == w.doc.graph.to_dict()
    assert [k for k, _ in w.dialogs.asked].count("unsaved") == 2


def test_open_reports_bad_file_in_one_sentence(qtbot, config, tmp_path):
    bad = tmp_path / "broken.dgproj"
    bad.write_text("{not json", encoding="utf-8")
    w = make_window(qtbot)
    assert not w.files.open_path(bad)
    kind, message = w.dialogs.asked[-1]
    assert kind == "error" and "broken.dgproj" in message and "Traceback" not in message


def test_recovery_after_simulated_crash(qtbot, config, tmp_path, monkeypatch):
    saved = tmp_path / "work.dgproj"
    crashed = make_window(qtbot)
    _, dense = small_model(crashed)
    crashed.files.save_as(saved)
    crashed.doc.push(set_params(crashed.doc.graph, dense, units=7))  # unsaved edit
    assert crashed.files.autosave()
    assert not crashed.files.autosave()  # nothing new since: no rewrite
    written = crashed.files.recovery.path
    data = json.loads(written.read_text(encoding="utf-8"))
    assert data["recovery"]["path"] == str(saved)
    # The process "dies": its recovery file stays, and its pid is no longer running.
    crashed.files.timer.stop()
    monkeypatch.setattr(recovery, "pid_alive", lambda pid: False)
    w = make_window(qtbot)
    assert w.files.check_recovery()
    assert ("recover", "work.dgproj") in w.dialogs.asked
    assert w.doc.graph.nodes[dense].config["units"] == 7
    assert w.doc.project.path == saved and w.files.is_dirty()  # still to be saved
    assert not written.exists()
    assert load_project(saved).graph.nodes[dense].config["units"] == 2  # the file itself untouched
    monkeypatch.setattr(recovery, "pid_alive", lambda pid: False)
    w2 = make_window(qtbot)  # offered only once (w's own file now holds it, under w's pid)
    w2.files.recovery.path = w2.files.recovery.folder / "session-other.dgproj"
    w.files.shutdown()
    assert not w2.files.check_recovery()


def test_declined_recovery_is_discarded(qtbot, config, tmp_path, monkeypatch):
    crashed = make_window(qtbot)
    small_model(crashed)
    crashed.files.autosave()
    monkeypatch.setattr(recovery, "pid_alive", lambda pid: False)
    w = make_window(qtbot)
    w.dialogs.recover_answer = False
    assert not w.files.check_recovery()
    assert len(w.doc.graph) == 0
    assert recovery.orphans(config / "recovery") == []


def test_clean_close_leaves_nothing_to_recover(qtbot, config, tmp_path):
    w = make_window(qtbot)
    small_model(w)
    w.files.autosave()
    assert w.files.recovery.path.exists()
    w.files.save_as(tmp_path / "x.dgproj")
    assert not w.files.recovery.path.exists()  # saved: the recovery file has nothing more


def test_opening_a_keras_file_imports_it(qtbot, config, tmp_path):
    pytest.importorskip("deepgui.core.keras_import", reason="Keras import not available")
    import keras

    inputs = keras.Input((6,), name="features")
    hidden = keras.layers.Dense(5, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(2, name="scores")(hidden)
    path = tmp_path / "tiny.keras"
    keras.Model(inputs, outputs).save(path)
    w = make_window(qtbot)
    assert w.files.open_path(path)  # started: the model loads in the background
    qtbot.waitUntil(lambda: w.files.importing is None, timeout=60_000)
    names = {n.name for n in w.doc.graph}
    assert {"hidden", "scores"} <= names
    assert len(w.scene.nodes) == len(w.doc.graph) and len(w.scene.edges) == 2
    assert w.files.is_dirty() and w.doc.project.path is None  # a new project, not yet saved
    assert w.windowTitle().startswith("tiny")
    positions = {n.position for n in w.doc.graph}
    assert len(positions) == len(w.doc.graph)  # laid out, not stacked


def test_first_launch_opens_the_example(config):
    project, pending, name = initial_project(None)
    from deepgui.core.paths import examples_dir

    example = examples_dir() / "digits_cnn.dgproj"
    if example.is_file():
        assert len(project.graph) > 0 and pending is None and name == "digits_cnn"
        assert project.path is None  # Save asks where: the shipped example stays intact
    else:
        assert len(project.graph) == 0


def test_later_launch_opens_the_last_project(config, tmp_path):
    project = Project()
    project.graph.add_node("InputLayer", {"shape": [3]})
    path = project.save(tmp_path / "last.dgproj")
    settings.add_recent(path)
    settings.mark_launched()
    opened, pending, _ = initial_project(None)
    assert opened.path == path and pending is None
    opened, pending, _ = initial_project(str(tmp_path / "model.keras"))
    assert pending.endswith("model.keras") and len(opened.graph) == 0


def test_recent_and_example_menus(qtbot, config, tmp_path):
    w = make_window(qtbot)
    small_model(w)
    path = tmp_path / "recent.dgproj"
    w.files.save_as(path)
    w.files.set_project(Project())
    w.files.fill_recent_menu()
    actions = w.recent_menu.actions()
    assert "recent.dgproj" in actions[0].text()
    actions[0].trigger()
    assert w.doc.project.path == path and len(w.doc.graph) == 2
    w.files.fill_examples_menu()
    examples = [a for a in w.examples_menu.actions() if a.isEnabled()]
    if examples:  # the bundled examples are installed
        examples[0].trigger()
        assert w.doc.project.path is None and len(w.doc.graph) > 0
        # The menu says what the example is; the title names it.
        name, _, description = examples[0].text().partition(" — ")
        assert description and w.windowTitle().startswith(name)


def test_importing_a_broken_model_says_why(qtbot, config, tmp_path):
    pytest.importorskip("deepgui.core.keras_import", reason="Keras import not available")
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip file")
    w = make_window(qtbot)
    small_model(w)
    assert w.files.open_path(bad, ask=False)
    qtbot.waitUntil(lambda: w.files.importing is None, timeout=60_000)
    kind, message = w.dialogs.asked[-1]
    assert kind == "error" and "broken.keras" in message and "\n" not in message.strip()
    assert len(w.doc.graph) == 2  # the open project is untouched


def test_start_with_odd_recovery_files_offers_the_good_session_and_names_the_rest(
    qtbot, config, tmp_path
):
    """Beside a crashed session's autosave: a pid no system has, JSON nested 5000 deep, a link
    to nowhere, a malformed "recovery" field. The start offers the crashed session back (real
    message boxes, clicked), then names the files it moved aside, and nothing raises."""
    from deepgui.ui.dialogs import Dialogs
    from deepgui.ui.files import recovery_dir
    from tests.test_ui_replace import Boxes

    folder = recovery_dir()
    saved = tmp_path / "work.dgproj"
    project = Project()
    project.graph.add_node("InputLayer", {"shape": [4]}, node_id="in")
    project.save(saved)
    project.graph.nodes["in"].config["shape"] = [7]  # the unsaved edit the crash would lose
    crashed = recovery.RecoveryFile(folder, pid=999_999_999_001).write(project)
    autosaved = crashed.read_bytes()
    impossible = folder / f"session-{'9' * 40}.dgproj"
    impossible.write_bytes(autosaved)
    nested = folder / "session-999999999002.dgproj"
    nested.write_text("[" * 5000 + "]" * 5000)
    dangling = folder / "session-999999999003.dgproj"
    dangling.symlink_to(folder / "gone")
    malformed = folder / "session-999999999004.dgproj"
    malformed.write_text(json.dumps({**Project().to_dict(), "recovery": "yesterday"}))
    for age, path in enumerate((crashed, nested, dangling, malformed)):
        os.utime(path, (time.time() - 60 * age,) * 2, follow_symlinks=False)

    w = MainWindow(Project(), autosave_ms=3_600_000)
    qtbot.addWidget(w)
    w.dialogs = Dialogs(w)
    w.show()
    with Boxes(qtbot, "Yes", "OK") as boxes:
        assert w.files.check_recovery()
        boxes.wait_all_answered()
    offer, note = boxes.seen
    assert "work.dgproj had unsaved changes" in offer
    assert w.doc.project.path == saved and w.doc.graph.nodes["in"].config["shape"] == [7]
    moved = sorted((folder / recovery.UNREADABLE).iterdir())
    assert [p.name.split(".dgproj")[0] for p in moved] == [
        "session-999999999002",
        "session-999999999003",
    ]
    assert "could not recover 2 autosaved files" in note and str(moved[0].parent) in note
    assert all(p.name in note for p in moved) and "nested" in note and "\n" not in note
    assert impossible.read_bytes() == autosaved  # a pid no system has: not a session of ours
    assert malformed.exists() and not crashed.exists()
    w.files.shutdown()
    w.dialogs = FakeDialogs()  # closing the window then discards the recovered edits unasked

    # The malformed field only loses the name of the file it was editing: offered next time.
    again = MainWindow(Project(), autosave_ms=3_600_000)
    qtbot.addWidget(again)
    again.dialogs = Dialogs(again)
    with Boxes(qtbot, "No") as boxes:
        assert not again.files.check_recovery()
        boxes.wait_all_answered()
    again.dialogs = FakeDialogs()
    assert len(boxes.seen) == 1 and "an unsaved project" in boxes.seen[0]
    assert not malformed.exists() and impossible.exists()  # a pid no system has: not a session
