"""The exported script's runtime (deepgui/script_runtime.py) is one real module: every script
starts with its text byte for byte, deepgui splits and labels its data through it, and it reads
a CSV as deepgui does in the branches the end-to-end parity tests never reach (delimiters,
decimal commas, missing-value spellings, values beyond float32)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepgui import script_runtime as runtime
from deepgui.core.codegen import generate_script
from deepgui.core.data import labels as deepgui_labels
from deepgui.core.data import load_dataset
from deepgui.core.data import split as deepgui_split
from deepgui.core.data import table as deepgui_table
from deepgui.core.errors import DatasetError
from deepgui.core.graph import Graph
from tests.helpers import add

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "deepgui" / "script_runtime.py"


def dense_graph(width: int) -> Graph:
    g = Graph()
    node = add(g, "InputLayer", shape=[width], name="features")
    add(g, "Dense", node, units=2, activation="softmax")
    return g


def project(dataset: dict, base: Path) -> runtime.Project:
    return runtime.Project(base / "model.py", lambda: None, dataset, base=base)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------- one module, copied
@pytest.mark.parametrize(
    "dataset",
    [{"source": "csv", "path": "data.csv", "target": "y"}, {"source": "builtin", "name": "digits"}],
)
def test_every_script_starts_with_the_module_byte_for_byte(dataset):
    source = generate_script(dense_graph(4), dataset, {"epochs": 1}, name="model")
    module = MODULE.read_bytes().decode("utf-8")
    assert source.startswith(module)
    project_part = source[len(module) :]
    assert "def load_data" not in project_part and "def split_indices" not in project_part
    assert "PROJECT = Project(" in project_part and "def build_network():" in project_part


def test_the_codegen_modules_hold_no_python_functions_in_strings():
    """What the runtime replaced: functions kept as text (``r'''def load_data...'''``)."""
    found = []
    for path in sorted((ROOT / "deepgui" / "core").glob("codegen*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if "\n" in text and "def " in text:
                    try:
                        tree = ast.parse(text.strip("\n"))
                    except SyntaxError:
                        continue
                    if any(isinstance(n, ast.FunctionDef) for n in ast.walk(tree)):
                        found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_importing_the_runtime_starts_neither_keras_nor_tensorflow():
    check = (
        "import sys, deepgui.script_runtime, deepgui.core.data.split, deepgui.core.data.labels\n"
        "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_desktop_bundle_ships_the_runtime_as_a_file_to_copy():
    spec = (ROOT / "installer" / "deepgui.spec").read_text(encoding="utf-8")
    assert '"script_runtime.py"' in spec


def test_the_runtime_knows_deepguis_constants():
    from deepgui.core.data import preprocessing, spec

    assert set(deepgui_table._MISSING_SPELLINGS) == runtime.MISSING_CELLS
    assert runtime.CSV_SUFFIXES == spec.CSV_SUFFIXES
    assert runtime.IMAGE_SUFFIXES == spec.IMAGE_SUFFIXES
    assert runtime.MAX_ONE_HOT == preprocessing.MAX_ONE_HOT == deepgui_table.MAX_ONE_HOT
    assert runtime.MAX_MAGNITUDE == deepgui_table.MAX_MAGNITUDE


# ---------------------------------------------------------------------- deepgui uses it
def test_deepgui_splits_and_labels_through_the_runtime(monkeypatch):
    calls = []
    for name in ("split_indices", "encode_labels"):
        original = getattr(runtime, name)
        monkeypatch.setattr(
            runtime, name, lambda *a, _f=original, _n=name, **k: calls.append(_n) or _f(*a, **k)
        )
    labels = np.array(["b", "a", "b", "c"] * 10)
    encoded, task, classes = deepgui_labels.encode_labels(labels)
    deepgui_split.split_indices(40, 0.2, 0.1, seed=3, labels=encoded)
    assert calls == ["encode_labels", "split_indices"]
    assert (task, classes) == ("multiclass", ["a", "b", "c"])
    # Its refusals stay deepgui's own errors, in one sentence.
    with pytest.raises(DatasetError, match="too few for a validation split of 0.2"):
        deepgui_split.split_indices(2, 0.2, 0.0)
    with pytest.raises(DatasetError, match="only one class"):
        deepgui_labels.encode_labels(np.array(["a", "a"]))


def test_boolean_and_float_labels_are_named_as_deepgui_names_them():
    """Where the script's own copy once differed: True/False labels were "True"/"False"."""
    _, task, classes = runtime.encode_labels(np.array([True, False, True]))
    assert (task, classes) == ("binary", ["0", "1"])
    _, _, classes = runtime.encode_labels(np.array([0.5, 1.5], np.float32), task="binary")
    assert classes == ["0.5", "1.5"]


# ---------------------------------------------------------------------- reading a CSV
SERIES = "a{d}b{d}label\n1{d}2{d}x\n3{d}4{d}y\n\n5{d}6{d}x\n"


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [("comma.csv", ","), ("semicolon.csv", ";"), ("tabs.csv", "\t"), ("tabs.tsv", "\t")],
)
def test_the_delimiter_is_sniffed_from_the_header_as_deepgui_sniffs_it(tmp_path, name, delimiter):
    path = write(tmp_path / name, SERIES.format(d=delimiter))
    ours, theirs = runtime.read_csv(path), deepgui_table.read_csv(path)
    assert ours.delimiter == theirs.delimiter == delimiter
    assert ours.header == theirs.header == ["a", "b", "label"]
    assert ours.numbers == list(theirs.row_numbers) == [2, 3, 5]  # the blank line 4 skipped
    for column in ours.header:
        assert ours.cells(column) == [str(c) for c in theirs.column(column)]


def test_a_tsv_file_is_read_by_tabs_even_with_commas_in_its_header(tmp_path):
    path = write(tmp_path / "odd.tsv", "a,x\tb\n1\t2\n")
    assert runtime.read_csv(path).header == deepgui_table.read_csv(path).header == ["a,x", "b"]


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty
        "a,,c\n1,2,3\n",  # a header cell without a name
        "a,b,a\n1,2,3\n",  # a name twice
        "a,b\n\n\n",  # a header and blank lines only
        "a,b,c\n1,2,3\n\n4,5\n",  # a short row after a blank line: numbered as row 4
        "a\tb,c\n1\t2\n",  # a tab and a comma in the header: a comma separates
    ],
)
def test_deepgui_reads_a_csv_through_the_runtimes_reader_and_words_its_errors(tmp_path, text):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(runtime.Problem) as ours:
        runtime.read_csv(path)
    with pytest.raises(DatasetError) as theirs:
        deepgui_table.read_csv(path)
    assert str(theirs.value) == str(ours.value)


def test_the_first_rows_of_a_long_file_are_read_as_deepguis_preview_reads_them(tmp_path):
    path = write(tmp_path / "long.csv", "a;b\n" + "".join(f"{i};{i % 3}\n" for i in range(50)))
    ours, theirs = runtime.read_csv(path, max_rows=5), deepgui_table.read_csv(path, max_rows=5)
    assert ours.numbers == list(theirs.row_numbers) == [2, 3, 4, 5, 6]
    assert ours.cells("b") == theirs.column("b").tolist() == ["0", "1", "2", "0", "1"]


def test_a_blank_line_sends_the_file_to_the_careful_reader_without_numpy_parsing_it(
    tmp_path, monkeypatch
):
    path = write(tmp_path / "gap.csv", "a,b\n1,2\n\n3,4\n")

    def parse(*_args, **_kwargs):
        raise AssertionError("NumPy parsed a file it cannot number rows of")

    monkeypatch.setattr(deepgui_table, "_loadtxt", parse)
    table = deepgui_table.read_csv(path)
    assert table.row_numbers.tolist() == [2, 4] and table.column("b").tolist() == ["2", "4"]


MISSING = ["", " ", "NA", "n/a", "N/A", "?", "null", "NULL", "None", "nan", "NaN", " na "]


def test_missing_value_spellings_are_deepguis(tmp_path):
    cells = [*MISSING, "1.5", "none at all", " " * 20, "nAn"]
    rows = "\n".join(f'"{c}",{i}' for i, c in enumerate(cells))
    path = write(tmp_path / "gaps.csv", "v,i\n" + rows + "\n")
    ours = runtime.read_csv(path)
    want = deepgui_table.missing_mask(deepgui_table.read_csv(path).column("v"))
    got = [runtime.is_missing(c) for c in ours.cells("v")]
    assert got == want.tolist()
    assert got[: len(MISSING)] == [True] * len(MISSING) and not any(got[len(MISSING) :])


def test_a_numeric_column_with_missing_spellings_reads_as_deepguis(tmp_path):
    cells = ["1.5", "NA", "", "?", "2", "inf", "null", "-3e2"]
    path = write(tmp_path / "n.csv", "v,i\n" + "\n".join(f"{c},{i}" for i, c in enumerate(cells)))
    kind, values, missing = runtime.column_kind(runtime.read_csv(path), "v")
    theirs = deepgui_table.type_column(deepgui_table.read_csv(path), "v")
    assert kind == theirs.kind == "numeric"
    assert missing.tolist() == theirs.missing.tolist()
    np.testing.assert_array_equal(values[~missing], theirs.values[~theirs.missing])
    assert np.isnan(values[missing]).all()  # an infinite value counts as missing, read as NaN


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_decimal_commas_are_read_as_numbers_where_no_comma_separates(tmp_path, delimiter):
    lines = ["price;size;kind", "1,5;2;a", "-2,75;3;b", ";4;a", "1,5e3;NA;b", ",5;6;a"]
    path = write(tmp_path / "prices.csv", "\n".join(lines).replace(";", delimiter) + "\n")
    table, theirs = runtime.read_csv(path), deepgui_table.read_csv(path)
    for column in ("price", "size"):
        kind, values, missing = runtime.column_kind(table, column)
        want = deepgui_table.type_column(theirs, column)
        assert kind == want.kind == "numeric", column
        assert missing.tolist() == want.missing.tolist()
        np.testing.assert_array_equal(values[~missing], want.values[~want.missing])
    assert runtime.numbers_in(table, "price")[:2].tolist() == [1.5, -2.75]


def test_decimal_commas_in_a_comma_separated_file_are_named_not_guessed(tmp_path):
    path = write(tmp_path / "prices.csv", 'price,kind\n"1,5",a\n"2,25",b\n')
    with pytest.raises(DatasetError) as theirs:
        deepgui_table.type_column(deepgui_table.read_csv(path), "price")
    with pytest.raises(runtime.Problem) as ours:
        runtime.column_kind(runtime.read_csv(path), "price")
    assert str(ours.value) == str(theirs.value)
    assert "decimal commas or thousands separators" in str(ours.value)


@pytest.mark.parametrize(
    ("cells", "kind"),
    [
        (["1", "2", "x", "4"], None),  # mostly numbers: the text is named
        (["x", "y", "z", "4"], "numeric"),  # text where numbers are forced
        (["1", "2e39", "3"], None),  # beyond what float32 computes with
    ],
)
def test_numbers_deepgui_refuses_the_runtime_refuses_in_the_same_words(tmp_path, cells, kind):
    path = write(tmp_path / "t.csv", "v,i\n" + "\n".join(f"{c},{i}" for i, c in enumerate(cells)))
    with pytest.raises(DatasetError) as theirs:
        deepgui_table.type_column(deepgui_table.read_csv(path), "v", kind)
    with pytest.raises(runtime.Problem) as ours:
        runtime.column_kind(runtime.read_csv(path), "v", kind)
    assert str(ours.value) == str(theirs.value)


def test_a_semicolon_table_with_decimal_commas_and_gaps_trains_on_deepguis_constants(tmp_path):
    """Through the whole table loader: the split, the labels and every learned constant (the
    medians that fill gaps, the standardization, the categories) are deepgui's."""
    rng = np.random.default_rng(4)
    lines = ["weight;height;colour;fruit"]
    for i in range(60):
        weight = "NA" if i % 7 == 2 else f"{rng.normal(150, 20):.2f}".replace(".", ",")
        height = "?" if i % 11 == 4 else f"{rng.normal(8, 1):.1f}".replace(".", ",")
        colour = "" if i % 13 == 6 else ["red", "green", "yellow"][i % 3]
        lines.append(f"{weight};{height};{colour};{['apple', 'pear'][i % 2]}")
    write(tmp_path / "fruit.csv", "\n".join(lines) + "\n")
    dataset = {"source": "csv", "path": "fruit.csv", "target": "fruit", "test_split": 0.1}
    ours = runtime.load_table(project(dataset, tmp_path))
    theirs = load_dataset(dataset, tmp_path, graph=dense_graph(6))
    assert (ours["task"], ours["classes"]) == (theirs.task, theirs.class_names)
    want = theirs.preprocessing.to_dict()
    assert ours["preprocessing"]["groups"] == want["groups"]
    for got, expected in zip(ours["preprocessing"]["inputs"], want["inputs"], strict=True):
        for key, value in expected.items():
            if isinstance(value, float):
                assert got[key] == pytest.approx(value, rel=1e-9), key
            else:
                assert got[key] == value, key
    assert ours["preprocessing"]["inputs"][0]["fill"] != 0.0  # a median of decimal commas
    for key, y, raw in (
        ("train", theirs.y_train, theirs.raw_train),
        ("validation", theirs.y_val, theirs.raw_val),
        ("test", theirs.y_test, theirs.raw_test),
    ):
        x, labels = ours[key]
        assert labels.tolist() == y.tolist(), key
        np.testing.assert_array_equal(x["weight"][:, 0], raw["weight"])
        assert x["colour"][:, 0].tolist() == list(raw["colour"])
