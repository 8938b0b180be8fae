import os
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


SAVE = """
import sys
from pathlib import Path
from deepgui.core.project import Project, load_project
project = Project()
project.graph.add_node("InputLayer", {"shape": [4]})
folder = Path(sys.argv[1])
project.save(folder / "a.dgproj")  # a first save: its runs leave the scratch area
load_project(folder / "a.dgproj").save(folder / "b.dgproj")  # Save As: its runs are copied
loaded = ("numpy", "deepgui.core.training", "deepgui.core.data")
print(",".join(m for m in loaded if m in sys.modules))
"""


def test_opening_and_saving_a_project_loads_neither_numpy_nor_the_training(tmp_path):
    """Where a project's runs live is decided below the project (run_layout): a save moves them
    without importing the training package, and with it NumPy (issue 19, point 6)."""
    env = {**os.environ, "DEEPGUI_SCRATCH": str(tmp_path / "scratch")}
    out = subprocess.run([sys.executable, "-c", SAVE, str(tmp_path)], env=env,
                         capture_output=True, text=True, check=True)  # fmt: skip
    assert out.stdout.strip() == ""
    assert (tmp_path / "b.dgproj").is_file()
