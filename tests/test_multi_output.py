"""Several outputs and several targets: a CSV's target columns each feed the model output named
after them. A two-output network (a softmax head "kind" for a category column, a linear head
"price" for a numeric one) is imported as a deepgui project, trained through the core the
command line uses and through `deepgui train --target kind,price` in a process of its own, and
its run predicts, exports and describes both outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from deepgui.core.data.spec import DataSpec, parse_targets
from deepgui.core.errors import DatasetError

COLORS = ("red", "green", "blue")


def write_csv(path: Path, rows: int = 480, seed: int = 0) -> Path:
    """x1, x2 (numbers), color (a category) and two targets: kind ("low", "mid", "high" by
    x1 + x2, a rule a small network learns in a few epochs) and price (a linear function of
    x1, x2 and the colour, with a little noise)."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    color = rng.choice(COLORS, rows)
    total = x1 + x2
    kind = np.where(total < -0.6, "low", np.where(total > 0.6, "high", "mid"))
    price = 3 * x1 - 2 * x2 + 1.5 * (color == "red") + rng.normal(0, 0.1, rows)
    lines = ["x1,x2,color,kind,price"]
    lines += [f"{a:.4f},{b:.4f},{c},{k},{p:.4f}" for a, b, c, k, p in
              zip(x1, x2, color, kind, price, strict=True)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def two_output_project(path: Path, names: tuple[str, str] = ("kind", "price")) -> Path:
    """The network as Keras builds it, imported into a project: one Input "features" (x1, x2
    and the colour one-hot with its unseen slot: 6 numbers), a softmax head and a linear head
    named `names`. The project has no data yet: the command line gives it."""
    import keras

    from deepgui.core.keras_import import import_model
    from deepgui.core.project import Project

    features = keras.Input((6,), name="features")
    hidden = keras.layers.Dense(24, activation="relu", name="hidden")(features)
    kind = keras.layers.Dense(3, activation="softmax", name=names[0])(hidden)
    price = keras.layers.Dense(1, name=names[1])(hidden)
    network = keras.Model(features, [kind, price], name="two_heads")
    training = {"epochs": 3, "batch_size": 16, "learning_rate": 0.02, "seed": 3}
    Project(graph=import_model(network).graph, training=training).save(path)
    return path


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


# ----------------------------------------------------------------------------- the spec
def test_the_target_is_a_list_only_when_there_are_several(tmp_path):
    data = write_csv(tmp_path / "x.csv", rows=20)
    base = {"source": "csv", "path": str(data)}
    several = DataSpec.from_dict({**base, "target": ["kind", "price"]})
    assert several.options.target == ("kind", "price")
    assert several.to_dict()["target"] == ["kind", "price"]
    # One name, as a string or a list of one, reads and records as the string it always was.
    assert DataSpec.from_dict({**base, "target": "kind"}).to_dict()["target"] == "kind"
    assert DataSpec.from_dict({**base, "target": ["kind"]}).to_dict()["target"] == "kind"
    assert parse_targets("kind, price") == ["kind", "price"] and parse_targets("kind") == "kind"
    for spec, words in (
        ({**base, "target": ["kind", "kind"]}, "'kind' twice"),
        ({**base, "target": ["kind", 3]}, '"target" must list column names'),
        ({**base, "target": ["kind", "price"], "task": "multiclass"}, '"task" describes one'),
        ({**base, "target": ["kind", "price"], "columns": {"price": "ignore"}}, "'price' is a"),
        ({"source": "timeseries", "path": str(data), "target": ["x1", "x2"]}, "a column name"),
    ):
        with pytest.raises(DatasetError) as caught:
            DataSpec.from_dict(spec)
        assert words in str(caught.value) and str(caught.value).count(". ") == 0, caught.value
    with pytest.raises(DatasetError, match="empty column name"):
        parse_targets("kind,,price")


# ----------------------------------------------------------------------------- bad input
def test_targets_that_do_not_fit_the_model_are_one_sentence(tmp_path):
    """A column that is not there, more targets than outputs, outputs named otherwise than the
    targets, an output too wide for its target: each one sentence naming both sides."""
    from deepgui.core.data import load_dataset
    from deepgui.core.project import load_project
    from deepgui.core.training.config import TrainingConfig
    from deepgui.core.training.engine import TrainingEngine

    data = write_csv(tmp_path / "x.csv", rows=60)
    spec = {"source": "csv", "path": str(data), "target": ["kind", "nope"]}
    with pytest.raises(DatasetError, match=r"x\.csv has no column 'nope'; its columns are"):
        load_dataset(spec, tmp_path)

    def failure(project: Path, targets: list[str]) -> str:
        graph = load_project(project).graph
        loaded = load_dataset({**spec, "target": targets}, tmp_path, graph=graph)
        result = TrainingEngine(graph, loaded, TrainingConfig.from_dict({"epochs": 1})).run()
        assert result.reason == "error"
        return result.metrics["message"]

    renamed = two_output_project(tmp_path / "renamed.dgproj", ("species", "cost"))
    message = failure(renamed, ["kind", "price"])
    assert message == (
        "The model's output layers are named 'species', 'cost' but the target columns are "
        "'kind', 'price'; name each output layer after the target column it predicts."
    )
    right = two_output_project(tmp_path / "right.dgproj")
    message = failure(right, ["kind", "price", "x2"])
    assert message.startswith("The data has 3 target columns ('kind', 'price', 'x2') but the "
                              "model has 2 outputs ('kind', 'price')")  # fmt: skip
    # A width that does not fit is said for its output, as for one output.
    wide = two_output_project(tmp_path / "wide.dgproj")
    graph = load_project(wide).graph
    node = next(n for n in graph.nodes.values() if n.name == "kind")
    node.config["units"] = 5
    loaded = load_dataset({**spec, "target": ["kind", "price"]}, tmp_path, graph=graph)
    result = TrainingEngine(graph, loaded, TrainingConfig.from_dict({"epochs": 1})).run()
    assert result.metrics["message"].startswith(
        "For the output 'kind': the data has 3 classes but the last Dense ('kind') has 5 units"
    )


# ----------------------------------------------------------------------------- the whole way
@pytest.mark.slow
def test_two_outputs_train_predict_export_and_describe_themselves(tmp_path):
    """Trained through the core `deepgui train` uses (here) and through the command line (in a
    process of its own, meanwhile): history and metrics name each output's metrics, the run's
    model takes raw columns and gives both outputs, predictions have both outputs' columns with
    sane values, the signature lists both, and the .keras and ONNX exports check out."""
    from tests.test_raw_model import deepgui_commands

    data = write_csv(tmp_path / "x.csv")
    project_file = two_output_project(tmp_path / "two.dgproj")
    cli_run, out = tmp_path / "cli_run", tmp_path / "out.csv"
    commands = deepgui_commands(
        ("train", project_file, "--data", data, "--target", "kind,price", "--out", cli_run),
        ("predict", cli_run, "--data", data, "-o", out),
        ("train", project_file, "--data", data, "--target", "kind,nope", "--out",
         tmp_path / "bad_run"),
    )  # fmt: skip

    from deepgui.core.export import export_project
    from deepgui.core.predict import predict_file
    from deepgui.core.project import load_project
    from deepgui.core.training import engines
    from deepgui.core.training.prepare import prepare_run

    prepared = prepare_run(load_project(project_file), tmp_path / "run", data=str(data),
                           target=["kind", "price"])  # fmt: skip
    try:
        loaded = prepared.load_data()
        assert [o.name for o in loaded.outputs] == ["kind", "price"]
        engine = engines.make_engine("tensorflow", prepared.project, loaded, prepared.config,
                                     None, dataset_spec=loaded.spec, run_dir=prepared.run_dir)  # fmt: skip
        result = engine.run()
    finally:
        prepared.release()
    assert result.reason == "completed", result.metrics.get("message")
    run = tmp_path / "run"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["classes"] == [] and metrics["task"] == "multioutput"
    assert metrics["outputs"] == [
        {"name": "kind", "task": "multiclass", "classes": ["high", "low", "mid"]},
        {"name": "price", "task": "regression", "classes": []},
    ]
    assert metrics["loss"] == {"kind": "sparse_categorical_crossentropy", "price": "mse"}
    header = (run / "history.csv").read_text().splitlines()[0].split(",")
    for key in ("loss", "val_loss", "kind_loss", "price_loss", "kind_accuracy", "price_mae",
                "val_kind_accuracy", "val_price_mae"):  # fmt: skip
        assert key in header, header
    assert metrics["final"]["val_kind_accuracy"] > 0.6  # three classes: chance is about 0.4
    assert [o["name"] for o in metrics["evaluation"]["outputs"]] == ["kind", "price"]
    signature = json.loads((run / "signature.json").read_text())
    assert signature["outputs"] == metrics["outputs"]

    # The run's model takes the columns as the CSV has them and gives both outputs.
    import keras

    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    raw = {"x1": np.array([[0.5], [-2.0]], "float32"), "x2": np.array([[1.0], [-1.0]], "float32"),
           "color": np.array([["red"], ["blue"]], object)}  # fmt: skip
    kind, price = (keras.ops.convert_to_numpy(o) for o in model(raw, training=False))
    assert kind.shape == (2, 3) and price.shape == (2, 1)
    np.testing.assert_allclose(kind.sum(axis=1), 1.0, rtol=1e-5)

    # The exports check themselves and predict both outputs like the run.
    by_run = predict_file(run, data).table()
    script = export_project(run, "python", tmp_path / "script.py")  # builds, compares both
    assert script.ok and "checked" in script.message, script.message
    for fmt, name in (("keras", "model.keras"), ("onnx", "model.onnx")):
        report = export_project(run, fmt, tmp_path / name)
        assert report.ok, report.message
        sidecar = json.loads((tmp_path / f"{name}.signature.json").read_text())
        assert [o["name"] for o in sidecar["outputs"]] == ["kind", "price"]
        header, rows = predict_file(tmp_path / name, data).table()
        assert header == by_run[0]
        assert [r[1] for r in rows] == [r[1] for r in by_run[1]]  # the same classes predicted

    # The command line's run: predictions with each output's columns, named after it.
    trained, predicted, refused = commands.results()
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "kind sparse_categorical_crossentropy, price mse" in trained.stderr
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert "kind accuracy" in predicted.stdout
    header, rows = read_rows(out)
    assert header == ["row", "kind", "kind_p(high)", "kind_p(low)", "kind_p(mid)", "price",
                      "kind_true", "price_true"]  # fmt: skip
    assert len(rows) == 480
    right = np.mean([r["kind"] == r["kind_true"] for r in rows])
    assert right > 0.6, right
    for r in rows:
        probabilities = [float(r[f"kind_p({c})"]) for c in ("high", "low", "mid")]
        assert abs(sum(probabilities) - 1) < 1e-4
        assert r["kind"] == ("high", "low", "mid")[int(np.argmax(probabilities))]
    guess = np.array([float(r["price"]) for r in rows])
    truth = np.array([float(r["price_true"]) for r in rows])
    assert np.isfinite(guess).all() and np.corrcoef(guess, truth)[0, 1] > 0.8
    # A target column that is not there: one sentence, no traceback, exit status 2.
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        "error: x.csv has no column 'nope'; its columns are 'x1', 'x2', 'color', 'kind', 'price'."
    )
    assert "Traceback" not in refused.stderr


# ----------------------------------------------------------------------------- the settings
def test_each_output_gets_its_loss_metrics_and_weight():
    """Automatic losses and metrics by each target's task, a dict by output name (a loss
    serialized by Keras included), loss weights; a name the model lacks is one sentence."""
    from types import SimpleNamespace

    from deepgui.core.data.base import MULTI_OUTPUT, LoadedData, OutputInfo
    from deepgui.core.errors import TrainingError
    from deepgui.core.training.outputs import plan

    y = {"kind": np.array([0, 1, 2]), "price": np.array([1.0, 2.0, 3.0], "float32")}
    data = LoadedData(np.zeros((3, 6), "float32"), y, task=MULTI_OUTPUT, outputs=[
        OutputInfo("kind", "multiclass", ("a", "b", "c")), OutputInfo("price", "regression"),
    ])  # fmt: skip
    widths = {"kind": 3, "price": 1}

    def settings(**given):
        return SimpleNamespace(**{"loss": "auto", "metrics": "auto", **given})

    auto = plan(settings(), data, widths)
    assert auto.losses == {"kind": "sparse_categorical_crossentropy", "price": "mse"}
    assert auto.metrics == {"kind": ["accuracy"], "price": ["mae"]} and auto.loss_weights is None
    huber = {"class_name": "Huber", "config": {"delta": 2.0}}
    chosen = plan(
        settings(loss={"price": huber}, metrics={"price": ["mse"]}, loss_weights={"price": 0.5}),
        data,
        widths,
    )
    assert chosen.losses == {"kind": "sparse_categorical_crossentropy", "price": huber}
    assert chosen.metrics == {"kind": ["accuracy"], "price": ["mse"]}
    assert chosen.loss_weights == {"kind": 1.0, "price": 0.5}
    assert (
        chosen.describe()
        == "kind sparse_categorical_crossentropy (weight 1), price Huber (weight 0.5)"
    )
    with pytest.raises(TrainingError) as caught:
        plan(settings(loss={"cost": "mse"}), data, widths)
    assert str(caught.value) == (
        "training.loss names the output 'cost', which the model does not have; its outputs "
        "are 'kind', 'price'."
    )


def test_the_standalone_program_trains_several_targets_and_lints_clean(tmp_path):
    """The Python export of a project with two targets compiles each output with its own loss,
    metrics and weight (a serialized Keras loss rebuilt by Keras), and lints clean."""
    import shutil
    import subprocess
    import sys

    from deepgui.core.codegen import generate_script
    from deepgui.core.project import load_project

    project = load_project(two_output_project(tmp_path / "two.dgproj"))
    dataset = {"source": "csv", "path": "x.csv", "target": ["kind", "price"]}
    huber = {"class_name": "Huber", "config": {"delta": 2.0}}
    training = {"epochs": 2, "loss": {"price": huber}, "loss_weights": {"price": 0.5}}
    source = generate_script(project.graph, dataset, training, name="two")
    compile(source, "two.py", "exec")
    assert "several_outputs(" in source and '"class_name": "Huber"' in source
    assert max(len(line) for line in source.splitlines()) <= 100
    namespace: dict = {"__name__": "not_main", "__file__": str(tmp_path / "two.py")}
    exec(compile(source, "two.py", "exec"), namespace)
    network = namespace["build_network"]()
    outputs = [{"name": "kind", "task": "multiclass", "classes": ["a", "b", "c"]},
               {"name": "price", "task": "regression", "classes": []}]  # fmt: skip
    losses, metrics, weights = namespace["several_outputs"](
        network, outputs, training["loss"], "auto", training["loss_weights"]
    )
    assert losses["kind"] == "sparse_categorical_crossentropy"
    assert type(losses["price"]).__name__ == "Huber"
    assert losses["price"]._fn_kwargs == {"delta": 2.0}  # Keras keeps the config there
    assert metrics == {"kind": ["accuracy"], "price": ["mae"]}
    assert weights == {"kind": 1.0, "price": 0.5}
    wrong = [dict(outputs[0], name="species"), outputs[1]]
    with pytest.raises(namespace["Problem"], match="name each output layer after the target"):
        namespace["several_outputs"](network, wrong)
    tool = Path(sys.executable).with_name("ruff")
    tool = str(tool) if tool.is_file() else shutil.which("ruff")
    if tool is None:
        pytest.skip("ruff is not installed: the program was only compiled and run in part")
    (tmp_path / "two.py").write_text(source, encoding="utf-8")
    args = ["check", "--isolated", "--no-cache", "--target-version", "py310", "--line-length",
            "100", "--select", "E,F,W,I,B,UP,SIM", str(tmp_path / "two.py")]  # fmt: skip
    done = subprocess.run([tool, *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_wording_a_user_knows():
    """Issue 23's wording: a single sample's summary is its label and probability; a long
    list of missing columns is cut with "and N more"."""
    from deepgui.core.predict import Predictions, _listed

    one = Predictions(
        ["cat.png"], np.array([[0.1, 0.7, 0.2]]), ["bird", "cat", "dog"], "multiclass"
    )
    assert one.summary() == "Predicted 1 sample: cat (70.0%)."
    assert _listed(["a"]) == "'a'"
    assert _listed(["a", "b", "c"]) == "'a', 'b' and 'c'"
    assert _listed([f"c{i}" for i in range(8)]) == "'c0', 'c1', 'c2', 'c3', 'c4' and 3 more"
