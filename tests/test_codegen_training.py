import subprocess
import sys

from deepgui.core.export import export_project
from deepgui.core.project import load_project
from deepgui.core.training.examples import example_path


def test_exported_script_runs_as_a_program_and_trains_one_epoch(tmp_path):
    project = load_project(example_path("iris_dense"))
    project.training = dict(project.training, epochs=1)
    saved = project.save(tmp_path / "iris.dgproj")
    report = export_project(saved, "python", tmp_path / "train_iris.py")
    assert report.ok, report.message
    run = subprocess.run(
        [sys.executable, str(tmp_path / "train_iris.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Epochs run: 1\n" in run.stdout
    # The held-out test split is evaluated at the end, with the metrics the data suggests.
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("Test metrics: {'accuracy': ") and "'loss': " in last
