"""Choosing a CSV in the Data tab: every column is offered as the target, the last one chosen
(where tables usually keep it), without previewing first; the Data tab is wide enough for its
fields at a laptop's size."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from tests.helpers import add  # noqa: E402
from tests.ui_support import open_window  # noqa: E402

pytestmark = pytest.mark.ui

COLUMNS = [f"feature_{i}" for i in range(30)] + ["outcome"]


def wide_csv(folder) -> str:
    rows = [",".join(COLUMNS)]
    rows += [",".join(str((i * 7 + j) % 5) for j in range(30)) + f",{'yes' if i % 2 else 'no'}"
             for i in range(60)]  # fmt: skip
    path = folder / "survey.csv"
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    g = Graph()
    add(g, "Dense", add(g, "InputLayer", shape=[30]), units=2, activation="softmax")
    w = open_window(qtbot, Project(graph=g))
    tab_bar = w.tabs.tabBar()
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(3).center())
    yield w
    w.training.shutdown()
    w.doc.shutdown()


def test_a_csv_offers_every_column_as_target_and_picks_the_last(window, qtbot, tmp_path):
    view = window.training.data_view
    path = wide_csv(tmp_path)
    view.source.setFocus()
    while view.source.currentData() != "csv":  # the Source list, from the keyboard
        qtbot.keyClick(view.source, Qt.Key.Key_Down)
    qtbot.keyClicks(view.path, path)
    qtbot.keyClick(view.path, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.target.count() == len(COLUMNS), timeout=10_000)
    assert [view.target.itemText(i) for i in range(view.target.count())] == COLUMNS
    assert view.target.currentText() == "outcome"
    dataset = window.doc.project.dataset
    assert dataset["target"] == "outcome" and dataset["path"] == path
    # The preview then loads the data with it: a summary, no error.
    view.last_preview = None
    qtbot.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.last_preview is not None, timeout=20_000)
    assert "error" not in view.last_preview, view.last_preview.get("error")
    assert "outcome" in view.status.text() or "train" in view.status.text()
    # Another target chosen from the list is kept; undo takes the choice back (one step with
    # the first choice, as consecutive edits of one field are).
    view.target.setFocus()
    qtbot.keyClick(view.target, Qt.Key.Key_Up)
    assert dataset["target"] == "feature_29"
    window.doc.undo()
    assert "target" not in dataset and view.target.currentText() == ""
    assert view.target.count() == len(COLUMNS)  # the list stays for the next choice


def test_a_preview_without_a_target_shows_the_table_then_picks_the_last(window, qtbot, tmp_path):
    view = window.training.data_view
    window.doc.project.dataset.update(source="csv", path=wide_csv(tmp_path))
    view.load(window.doc.project.dataset)
    qtbot.waitUntil(lambda: view.target.count() == len(COLUMNS), timeout=10_000)
    assert view.target.currentText() == ""  # opening changes nothing by itself
    assert "target" not in window.doc.project.dataset
    qtbot.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.table.columnCount() == len(COLUMNS), timeout=20_000)
    qtbot.waitUntil(lambda: window.doc.project.dataset.get("target") == "outcome", timeout=5_000)
    qtbot.waitUntil(lambda: "error" not in (view.last_preview or {"error": 1}), timeout=20_000)


def test_the_data_tab_shows_its_fields_whole_at_a_laptops_size(window, qtbot):
    panel = window.training
    panel.settings_tabs.setCurrentIndex(0)
    qtbot.wait(50)
    view = panel.data_view
    scroll = panel.settings_tabs.currentWidget()
    assert not scroll.horizontalScrollBar().isVisible()  # nothing cut off at the right
    assert view.browse.width() >= view.browse.sizeHint().width()
    assert view.browse.text() == "Browse…"


def test_the_target_is_a_column_named_like_one_or_the_last_of_categories():
    """Penguins ends with `year`: the last column would train as a 3-class problem. The core
    takes a column named like a target, else the last column of categories."""
    from deepgui.core.data.preview import likely_target

    penguins = ["species", "island", "bill_length_mm", "body_mass_g", "sex", "year"]
    kinds = ["category", "category", "numeric", "numeric", "category", "numeric"]
    assert likely_target(penguins, kinds) == "species"
    assert likely_target(["Class", "b", "c"], ["numeric"] * 3) == "Class"
    assert likely_target(["a", "colour", "size", "year"], ["numeric", "category", "numeric",
                                                         "numeric"]) == "colour"  # fmt: skip
    assert likely_target(["x1", "x2", "amount"], ["numeric"] * 3) == "amount"


def test_a_preview_of_penguins_picks_species(window, qtbot, tmp_path):
    view = window.training.data_view
    rows = ["island,species,bill_length_mm,sex,year"]
    rows += [f"{'Biscoe' if i % 2 else 'Dream'},{['Adelie', 'Gentoo'][i % 2]},{40 + i % 7},"
             f"{'male' if i % 3 else 'female'},{2007 + i % 3}" for i in range(40)]  # fmt: skip
    path = tmp_path / "penguins.csv"
    path.write_text("\n".join(rows) + "\n")
    window.doc.project.dataset.update(source="csv", path=str(path))
    view.load(window.doc.project.dataset)
    qtbot.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.doc.project.dataset.get("target") == "species", timeout=20_000)
