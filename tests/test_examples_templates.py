"""A bundled example is a template, however it is opened (issue 23, point 5): on the command
line (as `make run` does), File > Open, a recent file or File > Open Example, it opens as a new
project whose runs go to the scratch area and whose Save asks where; nothing is ever written
inside the examples folder. The tests work on a copy of the examples (DEEPGUI_RESOURCES), so
the code as it was, which wrote there, cannot touch the checkout's own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from deepgui.core import paths
from deepgui.core.training import runs

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"


@pytest.fixture
def examples(tmp_path, monkeypatch) -> Path:
    """A copy of the bundled examples, where the app looks for them; and a fresh config."""
    resources = tmp_path / "install" / "resources"
    shutil.copytree(EXAMPLES, resources / "examples")
    monkeypatch.setenv("DEEPGUI_RESOURCES", str(resources))
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    assert paths.examples_dir() == resources / "examples"
    return resources / "examples"


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def test_the_rule_is_the_cores(examples, tmp_path):
    example = examples / "digits_cnn.dgproj"
    assert paths.is_bundled_example(example)
    assert paths.is_bundled_example(examples / ".." / "examples" / "iris_dense.dgproj")
    own = tmp_path / "mine" / "digits_cnn.dgproj"
    own.parent.mkdir()
    shutil.copyfile(example, own)
    assert not paths.is_bundled_example(own)
    assert not paths.is_bundled_example(examples.parent / "datasets" / "x.csv")


pytest.importorskip("pytestqt")


class _Dialogs:
    """Answers without a modal dialog; Save As answers with `save_path`."""

    def __init__(self, open_path: Path | None = None, save_path: Path | None = None) -> None:
        self.open_path, self.save_path = open_path, save_path
        self.asked: list[tuple[str, str]] = []

    def unsaved_changes(self, name):
        self.asked.append(("unsaved", name))
        return "discard"

    def offer_recovery(self, description):
        return False

    def error(self, title, message):
        self.asked.append(("error", message))

    def info(self, title, message):
        self.asked.append(("info", message))

    def open_file(self, caption="Open", file_filter=""):
        return str(self.open_path)

    def save_file(self, suggestion, file_filter=""):
        self.asked.append(("save_as", suggestion))
        return str(self.save_path) if self.save_path else None


def _window(qtbot, project=None, name=None):
    from deepgui.core.project import Project
    from deepgui.ui.main_window import MainWindow

    w = MainWindow(project or Project(), autosave_ms=3_600_000)
    qtbot.addWidget(w)
    if name:
        w.doc.display_name = name
        w.refresh_title()
    return w


def _opened_as_template(w, examples: Path, name: str) -> None:
    project = w.doc.project
    assert project.path is None, f"the example was opened as {project.path}"
    assert len(project.graph) > 0
    assert w.windowTitle().startswith(name)
    for where in (runs.runs_root(project), runs.new_run_dir(project)):
        assert runs.is_scratch(where), where
        assert not str(where.resolve()).startswith(str(examples.resolve())), where


@pytest.mark.ui
def test_an_example_opened_any_way_trains_into_scratch_and_save_asks_where(
    qtbot, examples, tmp_path
):
    from deepgui.ui import settings
    from deepgui.ui.app import initial_project

    before = listing(examples)
    example = examples / "digits_cnn.dgproj"

    # On the command line, as `make run` opens it.
    project, pending, name = initial_project(str(example))
    assert pending is None and name == "digits_cnn"
    w = _window(qtbot, project, name)
    w.dialogs = _Dialogs(open_path=example, save_path=tmp_path / "work" / "digits.dgproj")
    _opened_as_template(w, examples, "digits_cnn")
    assert settings.recent_files() == [] and settings.last_project() is None

    # File > Open, a recent file (left there by an older version), File > Open Example.
    w.files.set_project(type(project)())
    w.files.open_dialog()
    _opened_as_template(w, examples, "digits_cnn")
    settings.add_recent(examples / "iris_dense.dgproj")
    w.files.fill_recent_menu()
    w.recent_menu.actions()[0].trigger()
    _opened_as_template(w, examples, "iris_dense")
    w.files.open_example(examples / "moons_dense.dgproj")
    _opened_as_template(w, examples, "moons_dense")

    # Save asks where (Save As, suggesting the example's name), and writes there only.
    w.files.open_path(example)
    assert w.files.save()
    assert ("save_as", "digits_cnn.dgproj") in w.dialogs.asked
    assert w.doc.project.path == tmp_path / "work" / "digits.dgproj"
    assert (tmp_path / "work" / "digits.dgproj").is_file()
    assert not any(kind == "error" for kind, _ in w.dialogs.asked), w.dialogs.asked
    assert listing(examples) == before
