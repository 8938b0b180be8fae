import subprocess
import sys

CHECK = """
import sys
import deepgui.core, deepgui.cli
import deepgui.core.graph, deepgui.core.commands, deepgui.core.catalogue, deepgui.core.shapes
import deepgui.core.build, deepgui.core.project, deepgui.core.keras_layers
heavy = sorted(m for m in ("PySide6", "tensorflow", "keras", "pyqtgraph") if m in sys.modules)
print(",".join(heavy))
"""


def test_core_and_cli_load_neither_qt_nor_tensorflow():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_core_imports_no_qt_anywhere():
    from pathlib import Path

    core = Path(__file__).resolve().parents[1] / "deepgui" / "core"
    offenders = [
        str(p.relative_to(core))
        for p in core.rglob("*.py")
        if any(word in p.read_text(encoding="utf-8") for word in ("PySide6", "pyqtgraph", "QtCore"))
    ]
    assert offenders == []
