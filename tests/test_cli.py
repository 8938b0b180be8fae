import subprocess
import sys

import pytest

from deepgui.cli import main
from deepgui.core.project import Project
from tests.helpers import small_cnn


@pytest.fixture
def project_file(tmp_path):
    g, _ = small_cnn()
    return Project(graph=g).save(tmp_path / "cnn.dgproj")


def test_summary_prints_rows_and_total(project_file, capsys):
    assert main(["summary", str(project_file)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["Layer", "Type", "Output", "shape", "Params", "Connected", "to"]
    dense = next(line for line in out if line.startswith("dense"))
    assert "(None, 10)" in dense and "370" in dense and dense.rstrip().endswith("flatten")
    assert out[-1] == "Total params: 410"


def test_summary_of_a_broken_project_names_the_layer_and_fails(tmp_path, capsys):
    g, n = small_cnn()
    g.set_config(n["conv"].id, dict(n["conv"].config, filters=0))
    path = Project(graph=g).save(tmp_path / "broken.dgproj")
    assert main(["summary", str(path)]) == 1
    assert "error: conv2d: filters must be at least 1, not 0." in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["summary", "nowhere.dgproj"], "nowhere.dgproj: no such file."),
        (["nowhere.dgproj"], "nowhere.dgproj: no such file."),
    ],
)
def test_bad_input_is_one_sentence_and_nonzero(argv, fragment, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"deepgui: {fragment}"


def test_malformed_project_through_the_real_entry_point(tmp_path):
    bad = tmp_path / "bad.dgproj"
    bad.write_text('{"format": "deepgui-project", "version": 1, "graph": {"nodes": 3}}')
    run = subprocess.run(
        [sys.executable, "-m", "deepgui", "summary", str(bad)], capture_output=True, text=True
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.strip() == f'deepgui: {bad}: field "graph.nodes" must be a list.'


def test_import_writes_project_and_weights_and_refuses_to_overwrite(tmp_path, capsys):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
    model.save(tmp_path / "m.keras")
    out = tmp_path / "m.dgproj"
    assert main(["import", str(tmp_path / "m.keras"), "-o", str(out)]) == 0
    assert out.exists() and (tmp_path / "m.weights.h5").exists()
    assert main(["summary", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "Total params: 15"
    before = out.read_bytes()
    assert main(["import", str(tmp_path / "m.keras"), "-o", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before
