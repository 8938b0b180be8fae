"""Dark mode (issue 23, point 10): the training plots turn dark as soon as the look changes, not
after a resize, and green and red text reads on the dark backgrounds (WCAG AA: a contrast ratio
of at least 4.5)."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from deepgui.core.project import Project  # noqa: E402
from deepgui.ui import theme  # noqa: E402
from deepgui.ui.training.panel import TrainingPanel  # noqa: E402
from tests.ui_support import on_screen  # noqa: E402

pytestmark = pytest.mark.ui

AA = 4.5


@pytest.fixture
def look():
    """Switches the application's look; the one it had comes back afterwards."""
    app = QApplication.instance()
    style, palette = app.style().name(), QPalette(app.palette())
    yield lambda dark: theme.apply_theme(app, dark=dark)
    app.setStyle(style)
    app.setPalette(palette)


def test_green_and_red_text_read_on_either_look(qtbot):
    app = QApplication.instance()
    dark = theme._dark_palette()
    light = app.style().standardPalette()
    for palette in (dark, light):
        for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
            background = palette.color(role)
            for ok in (True, False):
                colour = QColor(theme.status_color(ok, palette))
                ratio = theme.contrast_ratio(colour, background)
                assert ratio >= AA, (colour.name(), background.name(), ratio)
    # The ratio is WCAG's: black on white is 21, a colour on itself 1.
    assert theme.contrast_ratio(QColor("black"), QColor("white")) == pytest.approx(21.0)
    assert theme.contrast_ratio(QColor("#d9534f"), QColor("#d9534f")) == pytest.approx(1.0)
    # The red the panel used before, on the dark window: what the user could not read.
    assert theme.contrast_ratio(QColor("#d9534f"), dark.color(QPalette.ColorRole.Window)) < AA


def colour_in(style_sheet: str) -> QColor:
    return QColor(re.search(r"color:\s*(#[0-9a-fA-F]{6})", style_sheet).group(1))


def test_a_failure_said_in_red_reads_on_the_dark_panel(qtbot, look, tmp_path):
    look(True)
    project = Project()
    project.dataset = {"source": "builtin", "name": "digits"}
    panel = TrainingPanel(lambda: project)
    qtbot.addWidget(panel)
    panel.preflight = lambda: ("", "The model has no output layer.")
    assert not panel.start_training()
    assert panel.message.text().startswith("Not started")
    background = QApplication.palette().color(QPalette.ColorRole.Window)
    red = colour_in(panel.message.styleSheet())
    assert theme.contrast_ratio(red, background) >= AA, red.name()
    # The sample predictions of an evaluation, right and wrong, on the dark look too.
    result = {"split": "test", "count": 2, "metrics": {"accuracy": 0.5}, "task": "multiclass",
              "class_names": ["a", "b"], "confusion": [[1, 0], [1, 0]], "y_true": [0, 1],
              "y_pred": [0, 0]}  # fmt: skip
    panel.evaluation.show_result(result)
    labels = [panel.evaluation.samples_grid.itemAt(i).widget().findChildren(type(panel.message))
              for i in range(2)]  # fmt: skip
    for cell in labels:
        colour = colour_in(cell[-1].styleSheet())
        assert theme.contrast_ratio(colour, background) >= AA, colour.name()


def test_the_plots_turn_dark_at_once(qtbot, look, tmp_path):
    look(False)
    panel = TrainingPanel(lambda: Project())
    qtbot.addWidget(panel)
    panel.resize(1200, 420)
    panel.show()
    qtbot.waitExposed(panel)
    plots = panel.plots
    for i in range(1, 4):
        plots.add_epoch(i, {"loss": 1.0 / i, "accuracy": 0.5 + i / 10})
    plots.redraw()
    qtbot.wait(50)
    size = plots.loss_plot.size()

    look(True)  # the look changes; nothing is resized
    QApplication.processEvents()  # Qt tells the widgets at the next turn of the event loop
    dark = QApplication.palette().color(QPalette.ColorRole.Window)
    for plot in (*plots.plots.values(), panel.runs.plot):
        brush = plot.backgroundBrush()
        assert brush.style() != brush.style().NoBrush and brush.color() == dark
    # What the screen shows after the next paint: the plot's background is the dark one.
    qtbot.wait(100)
    assert plots.loss_plot.size() == size
    shown = on_screen(plots.loss_plot)
    corner = shown[3:12, -12:-3].reshape(-1, 3)  # the top right corner, away from curves
    assert (corner.max(axis=-1) < 80).all(), corner[0]  # dark #262a32, not the light #efefef
    # The axes' text follows the look too.
    axis = plots.loss_plot.getPlotItem().getAxis("left")
    assert axis.textPen().color() == QApplication.palette().color(QPalette.ColorRole.WindowText)
