"""Big valid inputs cost time in proportion to their size, and absurd ones are refused in one
sentence before any work (issue 22, point 2; deepgui/core/limits.py).

Time bounds are ratios measured in the same process (CPU seconds, the best of a few tries), never
bare seconds: a busy machine slows both sides alike."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from collections import deque

import numpy as np
import pytest

from deepgui.cli import main
from deepgui.core import limits
from deepgui.core.data import table
from deepgui.core.errors import DatasetError, GraphError, ProjectFormatError, TrainingError
from deepgui.core.graph import Graph
from deepgui.core.project import load_project, parse_json, project_from_dict
from deepgui.core.shapes import ShapeInference
from deepgui.core.training.config import parse_training


def chain_text(n_layers: int) -> str:
    """A project file's text: an Input, then Dense layers one after another, none named."""
    nodes = [{"id": "n1", "class_name": "InputLayer", "config": {"shape": [4]}}]
    edges = []
    for i in range(2, n_layers + 1):
        nodes.append({"id": f"n{i}", "class_name": "Dense", "config": {"units": 4}})
        edges.append({"source": f"n{i - 1}", "target": f"n{i}", "target_port": 0})
    return json.dumps(
        {
            "format": "deepgui-project",
            "version": 1,
            "graph": {"nodes": nodes, "edges": edges},
            "layout": {"positions": {}},
            "dataset": {},
            "training": {},
        }
    )


def load_and_infer(text: str) -> ShapeInference:
    project = project_from_dict(parse_json(text, "chain.dgproj"))
    inference = ShapeInference(project.graph)
    inference.update()
    return inference


def plain_python(text: str) -> list[str]:
    """The least any loader does with the same text: parse it, index the edges, order it."""
    data = json.loads(text)
    children = {raw["id"]: [] for raw in data["graph"]["nodes"]}
    indegree = dict.fromkeys(children, 0)
    for edge in data["graph"]["edges"]:
        children[edge["source"]].append(edge["target"])
        indegree[edge["target"]] += 1
    ready, order = deque(n for n, d in indegree.items() if d == 0), []
    while ready:
        order.append(ready.popleft())
        for child in children[order[-1]]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return order


def cpu_seconds(fn, tries: int) -> float:
    """The least CPU time `fn` took over `tries` runs."""
    best = float("inf")
    for _ in range(tries):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


@pytest.fixture(scope="module")
def keras_warm():
    """Keras imported and one layer inferred, outside every timing."""
    load_and_infer(chain_text(3))


def test_a_20000_layer_chain_loads_and_infers_in_linear_time(keras_warm):
    small, big = chain_text(2_000), chain_text(20_000)
    small_s = cpu_seconds(lambda: load_and_infer(small), 5)
    big_s = cpu_seconds(lambda: load_and_infer(big), 3)
    base_s = cpu_seconds(lambda: plain_python(big), 3)
    # Linear: ten times the layers, at most ~15 times the time (quadratic would be ~100).
    assert big_s <= 15 * small_s, f"2,000 layers {small_s:.3f} s, 20,000 layers {big_s:.3f} s"
    # And a small multiple of merely parsing and ordering the same file (before: thousands).
    assert big_s <= 100 * base_s, f"{big_s:.3f} s against plain Python's {base_s:.4f} s"
    inference = load_and_infer(big)
    assert inference.total_params() == 4 * 4 + 4 + 19_998 * (4 * 4 + 4)
    assert inference.asked_keras <= 2  # Dense on (None, 4): the same layer 19,999 times


def test_summary_of_a_3000_connection_chain_answers(tmp_path, capsys, keras_warm):
    text = chain_text(3_001)
    path = tmp_path / "chain.dgproj"
    path.write_text(text)
    start = time.process_time()
    assert main(["summary", str(path)]) == 0
    took = time.process_time() - start
    base = cpu_seconds(lambda: plain_python(text), 3)
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"Total params: {3_000 * 20}"
    assert sum(1 for line in out if line.startswith("dense")) == 3_000
    assert took <= 200 * base, f"summary {took:.3f} s against plain Python's {base:.4f} s"


def test_a_layer_added_below_a_long_chain_is_checked_for_cycles_at_once():
    """Connecting a new layer under a chain looks downstream of the new layer (nothing), not
    at every layer above: building a 3,000-layer chain edit by edit stays linear."""
    graph = Graph()
    previous = graph.add_node("InputLayer", {"shape": [4]})
    steps = []
    for _ in range(1_500):
        node = graph.add_node("Dense", {"units": 4})
        start = time.process_time()
        graph.connect(previous.id, node.id)
        steps.append(time.process_time() - start)
        previous = node
    first, last = np.median(steps[:200]), np.median(steps[-200:])
    assert last <= 5 * first + 1e-4, f"first connections {first:.6f} s, last {last:.6f} s"
    first_dense = list(graph.nodes)[1]
    with pytest.raises(GraphError, match="would make a cycle"):
        graph.connect(previous.id, first_dense)


def wide_csv(path, rows: int, columns: int) -> None:
    """Half the columns numbers, half short words, and a label."""
    rng = np.random.default_rng(0)
    words = np.array(["red", "green", "blue"])
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([f"c{j}" for j in range(columns)] + ["label"])
        for i in range(rows):
            numbers = rng.normal(size=columns).round(3)
            cells = [words[(i + j) % 3] if j % 2 else numbers[j] for j in range(columns)]
            writer.writerow([*cells, i % 2])


def test_a_csv_of_40_rows_and_10000_columns_is_read_and_typed(tmp_path):
    path = tmp_path / "wide.csv"
    wide_csv(path, 40, 10_000)

    def read_and_type():
        t = table.read_csv(path)
        return [table.type_column(t, h) for h in t.header]

    def plain_csv():
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        return [np.array(column) for column in zip(*rows[1:], strict=True)]

    columns = read_and_type()
    assert len(columns) == 10_001
    assert [c.kind for c in columns[:4]] == ["numeric", "category", "numeric", "category"]
    assert columns[1].categories == ["blue", "green", "red"]
    ours, base = cpu_seconds(read_and_type, 2), cpu_seconds(plain_csv, 3)
    # Reading and typing each column costs a small multiple of the csv module's bare split
    # (before: NumPy's string parser alone took hundreds of times as long on this shape).
    assert ours <= 60 * base, f"deepgui {ours:.3f} s against the csv module's {base:.4f} s"


def test_a_header_beyond_the_column_limit_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_COLUMNS", 100)
    path = tmp_path / "wide.csv"
    wide_csv(path, 3, 100)  # 101 columns with the label
    with pytest.raises(DatasetError) as caught:
        table.read_csv(path)
    assert str(caught.value) == "wide.csv has 101 columns, more than deepgui takes (at most 100)."


def test_a_project_beyond_the_layer_or_connection_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_NODES", 50)
    path = tmp_path / "big.dgproj"
    path.write_text(chain_text(51))
    with pytest.raises(ProjectFormatError) as caught:
        load_project(path)
    assert str(caught.value) == (f"{path}: has 51 layers, more than deepgui takes (at most 50).")
    monkeypatch.setattr(limits, "MAX_NODES", 100)
    monkeypatch.setattr(limits, "MAX_EDGES", 40)
    with pytest.raises(ProjectFormatError, match="has 50 connections, more than deepgui takes"):
        load_project(path)
    # A Keras model imported is held to the same limits, through Graph.from_dict.
    with pytest.raises(GraphError, match="^The model has 50 connections"):
        Graph.from_dict(json.loads(path.read_text())["graph"])


def test_the_limits_are_the_documented_ones():
    assert (limits.MAX_NODES, limits.MAX_EDGES) == (100_000, 400_000)
    assert (limits.MAX_COLUMNS, limits.MAX_EPOCHS) == (100_000, 100_000)


@pytest.mark.parametrize("epochs", [1e12, 1e30, 100_001])
def test_a_project_asking_for_endless_epochs_is_refused(epochs):
    with pytest.raises(TrainingError) as caught:
        parse_training({"epochs": epochs})
    assert str(caught.value).startswith("training.epochs must be at most 100,000, not ")
    assert parse_training({"epochs": 100_000}).epochs == 100_000


@pytest.mark.parametrize(
    ("given", "shown"), [("1e30", "1e+30"), ("1000000000", "1,000,000,000"), ("100001", "100,001")]
)
def test_train_refuses_endless_epochs_in_one_sentence(tmp_path, capsys, given, shown):
    path = tmp_path / "p.dgproj"
    path.write_text(chain_text(3))
    assert main(["train", str(path), "--epochs", given]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: The number of epochs must be at most 100,000, not {shown}: a run that long "
        "would never end (--epochs)."
    )
    assert not (tmp_path / "p.runs").exists()  # refused before any work: no run folder


def test_train_refuses_a_project_whose_epochs_never_end(tmp_path):
    data = json.loads(chain_text(3))
    data["dataset"] = {"source": "builtin", "name": "iris"}
    data["training"] = {"epochs": 1e12}
    path = tmp_path / "p.dgproj"
    path.write_text(json.dumps(data))
    # In a process of its own, with a timeout: accepted, such a run would never end.
    argv = [sys.executable, "-m", "deepgui", "train", str(path), "--out", str(tmp_path / "run")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    err = done.stderr.strip()
    assert err == (
        "error: training.epochs must be at most 100,000, not 1,000,000,000,000: a run that "
        "long would never end."
    )
