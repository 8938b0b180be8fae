"""The Export dialog never presents an export that failed its own check as good: it says so
first, and whether the file was kept. (Leaving random augmentation layers out of exports and
deleting an artefact that fails its check are the exporters' part, tested with them.)"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402

import deepgui.core.export as export_module  # noqa: E402
from deepgui.core.export.report import ExportReport  # noqa: E402
from deepgui.core.graph import Graph  # noqa: E402
from deepgui.core.project import Project  # noqa: E402
from deepgui.ui.export_dialog import ExportDialog  # noqa: E402
from deepgui.ui.theme import status_color  # noqa: E402
from tests.helpers import add  # noqa: E402

pytestmark = pytest.mark.ui


def small_project() -> Project:
    g = Graph()
    add(g, "Dense", add(g, "InputLayer", shape=[4]), units=2)
    return Project(graph=g)


def fake_export(ok: bool, keep: bool):
    """An exporter whose check comes out `ok` (the real ones take seconds and a runtime)."""

    def export_project(source, fmt, path, **options):
        if keep:
            Path(path).write_bytes(b"onnx")
        message = "The ONNX model matches Keras (largest difference 1e-07)."
        if not ok:
            message = "onnxruntime could not load it: INVALID_GRAPH."
            if not keep:  # as the core says it when it deletes what failed
                message = ("The ONNX export failed its check, so it was deleted and nothing "
                           f"was written to {path}: {message}")  # fmt: skip
        return ExportReport(path=path, format=fmt, size_bytes=4, max_abs_diff=None if not ok
                            else 1e-7, tolerance=1e-4, ok=ok, message=message,
                            kept=keep)  # fmt: skip

    return export_project


@pytest.mark.parametrize(("ok", "keep"), [(False, True), (False, False), (True, True)])
def test_the_dialog_says_plainly_whether_the_export_passed_its_check(
    qtbot, tmp_path, monkeypatch, ok, keep
):
    monkeypatch.setattr(export_module, "export_project", fake_export(ok, keep))
    dialog = ExportDialog(small_project())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.format.setCurrentIndex(dialog.format.findData("onnx"))
    target = tmp_path / "model.onnx"
    dialog.path.clear()
    qtbot.keyClicks(dialog.path, str(target))
    with qtbot.waitSignal(dialog.export_done, timeout=10_000):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    text = dialog.result.text()
    if ok:
        assert text.startswith("✓ The ONNX model matches Keras")
        return
    if keep:
        assert text.startswith("✗ The export failed its check. onnxruntime could not load it")
        assert text.endswith(f"The file at {target} did not pass: do not use it.")
    else:  # said once, by the core: what was deleted
        assert text.startswith("✗ The ONNX export failed its check, so it was deleted")
        assert text.count("failed its check") == 1
    assert status_color(False) in dialog.result.styleSheet()  # the look's red
