"""CSV data sets: typing, encoding, standardization, missing values, the target and its errors."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepgui.core.data import load_dataset, preview
from deepgui.core.data.labels import encode_labels
from deepgui.core.data.table import read_csv, type_column
from deepgui.core.errors import DatasetError


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def people(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        city = ["paris", "rome", "oslo"][i % 3]
        rows.append(
            f"{rng.normal(40, 10):.2f},{rng.normal(1000, 200):.1f},{city},{['no', 'yes'][i % 2]}"
        )
    return write(tmp_path / "people.csv", "age,income,city,bought", rows)


def test_csv_encodes_and_standardizes_on_training_rows(people: Path):
    data = load_dataset({"source": "csv", "path": "people.csv", "target": "bought"}, people.parent)
    assert data.task == "binary" and data.class_names == ["no", "yes"]
    assert data.feature_names == [
        "age", "income", "city=[unseen]", "city=oslo", "city=paris", "city=rome"
    ]  # fmt: skip
    assert data.x_train.shape == (48, 6) and data.x_val.shape == (12, 6)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    # Statistics come from the training rows only: exactly 0/1 there, not in validation.
    assert np.allclose(data.x_train[:, :2].mean(axis=0), 0, atol=1e-5)
    assert np.allclose(data.x_train[:, :2].std(axis=0), 1, atol=1e-4)
    assert not np.allclose(data.x_val[:, :2].mean(axis=0), 0, atol=1e-3)
    assert np.all(data.x_train[:, 3:].sum(axis=1) == 1) and not data.x_train[:, 2].any()
    # The raw columns are kept as the file has them, one named input per column.
    assert set(data.raw_train) == {"age", "income", "city"}
    assert 20 < float(np.mean(data.raw_train["age"])) < 60
    assert set(data.raw_train["city"]) == {"oslo", "paris", "rome"}


def test_same_seed_same_split_other_seed_other(people: Path):
    spec = {"source": "csv", "path": str(people), "target": "bought", "seed": 3}
    a, b = load_dataset(spec), load_dataset(spec)
    c = load_dataset({**spec, "seed": 4})
    assert np.array_equal(a.x_val, b.x_val) and np.array_equal(a.y_train, b.y_train)
    assert not np.array_equal(a.x_val, c.x_val)
    assert a.spec["seed"] == 3 and a.spec["validation_split"] == 0.2


def test_missing_target_column_lists_columns(people: Path):
    with pytest.raises(
        DatasetError, match=r"people.csv has no column 'price'; its columns are 'age', 'income'"
    ):
        load_dataset({"source": "csv", "path": str(people), "target": "price"})


def test_no_target_asks_for_one(people: Path):
    with pytest.raises(DatasetError, match='"target"'):
        load_dataset({"source": "csv", "path": str(people)})


def test_missing_file_named(tmp_path: Path):
    with pytest.raises(DatasetError, match=r"nope.csv: no such file"):
        load_dataset({"source": "csv", "path": "nope.csv", "target": "y"}, tmp_path)


def test_text_in_numeric_column_names_row_column_value(tmp_path: Path):
    rows = [f"{i},{i % 2}" for i in range(20)]
    rows[6] = "seven,0"
    path = write(tmp_path / "d.csv", "x,y", rows)
    with pytest.raises(
        DatasetError, match=r"d.csv: row 8, column 'x' holds the text 'seven' in a numeric column"
    ):
        load_dataset({"source": "csv", "path": str(path), "target": "y"})


def test_missing_values_reported_by_row_and_column(tmp_path: Path):
    rows = [f"{i},{i * 2},{i % 2}" for i in range(20)]
    rows[2] = "2,,0"
    rows[9] = "NA,18,1"
    path = write(tmp_path / "gaps.csv", "a,b,y", rows)
    spec = {"source": "csv", "path": str(path), "target": "y", "shuffle": False}
    with pytest.raises(DatasetError) as err:
        load_dataset({**spec, "missing": "refuse"})
    msg = str(err.value)
    assert (
        "2 values are missing" in msg and "row 4 column 'b'" in msg and "row 11 column 'a'" in msg
    )
    assert '"drop"' in msg and '"fill"' in msg
    dropped = load_dataset({**spec, "missing": "drop", "validation_split": 0.0})
    assert dropped.num_train == 18
    filled = load_dataset({**spec, "validation_split": 0.0})  # filling is the default
    assert filled.num_train == 20 and np.isfinite(filled.x_train).all()
    assert filled.extras["missing"] == {"cells": 2, "filled": 2, "rows_dropped": 0}
    # The raw column keeps the gap; the model fills it with the training median.
    assert np.isnan(filled.raw_train["b"][2])
    b = np.delete(np.arange(20) * 2.0, 2)
    assert filled.x_train[2, 1] == pytest.approx((np.median(b) - b.mean()) / b.std(), rel=1e-5)


def test_missing_target_always_dropped_when_filling(tmp_path: Path):
    rows = [f"{i},{i % 2}" for i in range(10)] + ["10,"]
    path = write(tmp_path / "t.csv", "a,y", rows)
    data = load_dataset(
        {
            "source": "csv",
            "path": str(path),
            "target": "y",
            "missing": "fill",
            "validation_split": 0.0,
        }
    )
    assert data.num_train == 10


def test_regression_and_numeric_classes(tmp_path: Path):
    rows = [f"{i},{i * 0.37:.3f},{i % 4}" for i in range(40)]
    path = write(tmp_path / "r.csv", "a,price,kind", rows)
    reg = load_dataset({"source": "csv", "path": str(path), "target": "price"})
    assert reg.task == "regression" and reg.y_train.dtype == np.float32 and reg.class_names == []
    cls = load_dataset({"source": "csv", "path": str(path), "target": "kind"})
    assert cls.task == "multiclass" and cls.class_names == ["0", "1", "2", "3"]
    assert set(np.unique(cls.y_train)) == {0, 1, 2, 3}


def test_many_categories_integer_encoded(tmp_path: Path):
    rows = [f"c{i % 30},{i % 2}" for i in range(90)]
    data = load_dataset(
        {"source": "csv", "path": str(write(tmp_path / "m.csv", "code,y", rows)), "target": "y"}
    )
    assert data.feature_names == ["code"] and data.x_train.shape[1] == 1
    # The index in the sorted categories, from 1 (0 is the slot for unseen values).
    assert data.x_train.max() <= 30 and data.x_train.min() >= 1


def test_text_column_through_text_vectorization(tmp_path: Path):
    good = ["a great and lovely film", "truly wonderful acting here", "great fun for all"]
    bad = ["a dull and boring film", "truly awful acting here", "boring waste of time"]
    rows = [f'"{(good if i % 2 else bad)[i % 3]}",{i},{i % 2}' for i in range(40)]
    path = write(tmp_path / "reviews.csv", "review,n,liked", rows)
    only_text = load_dataset(
        {
            "source": "csv",
            "path": str(path),
            "target": "liked",
            "columns": {"n": "ignore"},
            "sequence_length": 8,
        }
    )
    assert only_text.x_train.shape == (32, 8) and only_text.x_train.dtype.kind == "i"
    vocab = only_text.extras["vocabulary"]["review"]
    assert "great" in vocab and "boring" in vocab
    assert only_text.extras["vocabulary_size"] == len(vocab)
    both = load_dataset(
        {"source": "csv", "path": str(path), "target": "liked", "sequence_length": 8}
    )
    assert set(both.x_train) == {"review", "features"}
    assert both.x_train["features"].shape == (32, 1)


def test_separate_validation_file_uses_training_encoding(tmp_path: Path):
    train = write(
        tmp_path / "train.csv", "x,c,y", [f"{i},{'ab'[i % 2]},{'pq'[i % 2]}" for i in range(20)]
    )
    val = write(tmp_path / "val.csv", "x,c,y", ["100,a,p", "200,z,q"])
    data = load_dataset(
        {"source": "csv", "path": "train.csv", "validation_path": "val.csv", "target": "y"},
        tmp_path,
    )
    assert data.num_train == 20 and len(data.y_val) == 2
    assert data.y_val.tolist() == [0, 1]
    assert data.x_val[1, 1:].tolist() == [1.0, 0.0, 0.0]  # an unseen category: its own slot
    x = np.arange(20.0)
    assert data.x_val[0, 0] == pytest.approx((100 - x.mean()) / x.std(), rel=1e-5)
    write(val, "x,c,y", ["1,a,p", "2,b,r"])
    with pytest.raises(DatasetError, match=r"label 'r'.*not among the classes"):
        load_dataset(
            {"source": "csv", "path": str(train), "validation_path": str(val), "target": "y"}
        )
    write(val, "x,y", ["1,p"])
    with pytest.raises(DatasetError, match=r"val.csv has no column 'c'"):
        load_dataset(
            {"source": "csv", "path": str(train), "validation_path": str(val), "target": "y"}
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("a,b\n", "no data rows"),
        ("a,b\n1,2\n3\n", "row 3 has 1 fields but the header has 2"),
        ("a,a\n1,2\n", "more than once"),
    ],
)
def test_malformed_csv(tmp_path: Path, content: str, message: str):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_dataset({"source": "csv", "path": str(path), "target": "b"})


def test_not_utf8(tmp_path: Path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_dataset({"source": "csv", "path": str(path), "target": "b"})


def test_semicolons_and_blank_lines_keep_row_numbers(tmp_path: Path):
    path = tmp_path / "semi.csv"
    path.write_text("a;b\n1;0\n\n2;1\nx;0\n")
    table = read_csv(path)
    assert table.header == ["a", "b"] and table.row_numbers.tolist() == [2, 4, 5]
    with pytest.raises(DatasetError, match="row 5, column 'a'"):
        type_column(table, "a")


def test_encode_labels_one_hot_and_named():
    y, task, names = encode_labels(np.eye(3)[[0, 2, 1, 2]])
    assert task == "multiclass" and y.tolist() == [0, 2, 1, 2] and names == ["0", "1", "2"]
    y, task, names = encode_labels(np.array([1, 0, 1]), class_names=["cat", "dog"])
    assert task == "binary" and y.tolist() == [1, 0, 1] and names == ["cat", "dog"]
    y, task, _ = encode_labels(np.array([[1, 0, 1], [0, 0, 1]]))
    assert task == "multilabel" and y.shape == (2, 3)
    with pytest.raises(DatasetError, match="only one class"):
        encode_labels(np.array(["a", "a"]))
    with pytest.raises(DatasetError, match="NaN"):
        encode_labels(np.array([1.0, np.nan]))


@pytest.mark.parametrize(
    "content",
    [
        'a,b,c\r\n1,"x, y",3\r\n4,"he said ""hi""",6\r\n',
        "\ufeffa,b,c\n1.5,2,3\n4,nan,6\n7,8,9\n\n",
        "a;b;c\n1;paris;2\n3;rome;4\n",
        "a,b,c\n1, spaced ,3\n4,x,6\n",
    ],
)
def test_fast_and_careful_readers_agree(tmp_path: Path, content: str):
    path = tmp_path / "same.csv"
    path.write_bytes(content.encode("utf-8"))
    fast, careful = read_csv(path), read_csv(path, max_rows=1000)
    assert fast.header == careful.header == ["a", "b", "c"]
    assert fast.row_numbers.tolist() == careful.row_numbers.tolist()
    for name in fast.header:
        f, c = type_column(fast, name), type_column(careful, name)
        assert f.kind == c.kind and f.missing.tolist() == c.missing.tolist()
        if f.kind == "numeric":
            assert np.allclose(f.values, c.values, equal_nan=True)
        else:
            assert f.values.tolist() == c.values.tolist()


CELLS = ["1", "2.5", "-3", "", "NA", "abc", "nan", "inf", "1e3", '"q,uoted"', " 7 ", "x", "0"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    grid=st.lists(st.lists(st.sampled_from(CELLS), min_size=3, max_size=3), max_size=10),
    ragged=st.booleans(),
    blank=st.booleans(),
    missing=st.sampled_from(["error", "drop", "fill"]),
    target=st.sampled_from(["a", "c", "z"]),
    source=st.sampled_from(["csv", "timeseries"]),
)
def test_any_csv_loads_or_says_why(tmp_path, grid, ragged, blank, missing, target, source):
    """Whatever the file holds, the result is data or a DatasetError, never another exception."""
    lines = ["a,b,c", *(",".join(row) for row in grid)]
    if ragged and len(lines) > 1:
        lines[-1] += ",extra"
    if blank:
        lines.insert(len(lines) // 2 + 1, "")
    path = tmp_path / "any.csv"
    path.write_text("\n".join(lines) + "\n")
    spec = {"source": source, "path": str(path), "target": target, "missing": missing, "window": 2}
    for call in (load_dataset, preview):
        try:
            call(spec)
        except DatasetError as exc:
            assert str(exc) and "\n" not in str(exc)


def test_missing_spellings(tmp_path: Path):
    rows = [f"{i},c{i % 2},{i % 2}" for i in range(12)]
    rows[1], rows[4], rows[7] = "N/A,c1,1", "5,NULL,0", " NaN ,?,1"
    path = write(tmp_path / "spell.csv", "a,b,y", rows)
    with pytest.raises(
        DatasetError,
        match=r"4 values are missing \(row 3 column 'a', row 6 column 'b', row 9 column 'a', row 9 column 'b'\)",
    ):
        load_dataset({"source": "csv", "path": str(path), "target": "y", "missing": "refuse"})
