"""The bundled example projects: listed, loadable, buildable, fit their data, and train."""

from __future__ import annotations

import json

import pytest

from deepgui.core.build import build_model
from deepgui.core.data import check_against_model, load_dataset
from deepgui.core.paths import examples_dir
from deepgui.core.project import load_project
from deepgui.core.training import TrainingConfig, TrainingEngine
from deepgui.core.training.examples import example_path, list_examples

EXAMPLES = ["digits_cnn", "iris_dense", "sequence_lstm", "moons_dense"]


def test_index_lists_every_example_with_a_description():
    found = list_examples()
    assert [e.name for e in found] == EXAMPLES
    for ex in found:
        name, path, description = ex  # `deepgui examples` unpacks them
        assert (name, path, description) == (ex.name, ex.path, ex.description)
        assert ex.path.is_file() and ex.path.suffix == ".dgproj"
        assert len(ex.description) > 20
    index = json.loads((examples_dir() / "index.json").read_text())
    assert {e["file"] for e in index} == {p.name for p in examples_dir().glob("*.dgproj")}
    assert example_path("iris_dense").name == "iris_dense.dgproj"
    with pytest.raises(Exception, match="digits_cnn"):
        example_path("nope")


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_fits_its_data_and_trains(name, tmp_path):
    project = load_project(example_path(name))
    cfg = TrainingConfig.from_dict(project.training)
    assert cfg.seed is not None and cfg.epochs <= 40  # bounded, reproducible
    data = load_dataset(project.dataset, project.path.parent)
    model = build_model(project.graph)
    assert check_against_model(data, model, cfg.resolved_loss(data)) == []
    quick = cfg.with_overrides(epochs=2)
    result = TrainingEngine(None, data, quick, project=project, run_dir=tmp_path / "run").run()
    assert result.reason == "completed", result.metrics.get("message")
    assert result.metrics["epochs_run"] == 2
    first, last = result.history[0]["loss"], result.history[-1]["loss"]
    assert last < first  # it learns


def test_generator_reproduces_the_committed_files(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_examples", examples_dir() / "make_examples.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    module.main()
    for name in EXAMPLES:
        fresh = json.loads((tmp_path / f"{name}.dgproj").read_text())
        committed = json.loads((examples_dir() / f"{name}.dgproj").read_text())
        assert fresh == committed, f"{name}.dgproj is stale: run make_examples.py"
