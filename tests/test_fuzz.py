"""Hypothesis mutates the bundled example projects and the iris CSV, and every result must be
read or refused in one sentence: never a traceback, a generic "unexpected error", a hang, or a
change to the file read. Derandomized, so a failure reproduces; the slow variants try more."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepgui.cli import main
from deepgui.core.errors import DeepGuiError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.dgproj"))
IRIS = (ROOT / "resources" / "datasets" / "iris.csv").read_text(encoding="utf-8")

QUICK = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MORE = settings(QUICK, max_examples=600)

# Values people and programs get wrong: types, signs, sizes, text where numbers go.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 300),
    st.sampled_from([0, -1, 10**12, 2**63, -(2**31)]),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "abc",
            "relu",
            "same",
            "../../etc/passwd",
            "/dev/zero",
            "d\U0001f600",
            "a\x00b",
            "None",
            "1e400",
            "[4]",
        ]
    ),  # fmt: skip
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=8,
)  # fmt: skip


def _paths(value, prefix=()):
    """Every place in a JSON tree (dict keys and list indexes), the root included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _get(tree, path):
    for step in path:
        tree = tree[step]
    return tree


@st.composite
def mutated_projects(draw):
    data = json.loads(draw(st.sampled_from(EXAMPLES)).read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        # Layer settings most of the time: the file's outer fields are checked before any
        # layer is built, so mutations there stop early.
        configs = [
            p for p in paths if len(p) > 4 and p[:2] == ("graph", "nodes") and p[3] == "config"
        ]
        inner = configs and draw(st.sampled_from([True, True, True, False]))
        path = draw(st.sampled_from(configs if inner else paths))
        parent, last = _get(data, path[:-1]), path[-1]
        action = draw(st.sampled_from(["replace", "delete", "wrap", "add"]))
        if action == "replace":
            parent[last] = draw(VALUES)
        elif action == "delete":
            del parent[last]
        elif action == "wrap":
            parent[last] = [parent[last]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(VALUES)
        else:
            parent.append(draw(VALUES))
    return data


def _summary(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["summary", str(path)])
    return rc, err.getvalue()


def _check_project(data, folder: Path) -> None:
    path = folder / "fuzzed.dgproj"
    try:
        text = json.dumps(data, ensure_ascii=False)
    except ValueError:  # a float the JSON writer refuses
        return
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = path.read_bytes()
    rc, err = _summary(path)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc in (0, 1), err
    assert "Traceback" not in err and "unexpected error" not in err, err
    if rc == 1:
        assert lines, "a failure with nothing said"
        if lines[0].startswith("deepgui: "):
            assert len(lines) == 1, lines
        for line in lines:
            assert line.startswith(("deepgui: ", "error: ", "warning: ")), line
            assert line.rstrip().endswith("."), line
    assert path.read_bytes() == before


@QUICK
@given(data=mutated_projects())
def test_mutated_projects_are_read_or_refused_in_one_sentence(data, tmp_path_factory):
    _check_project(data, tmp_path_factory.mktemp("fuzz"))


@pytest.mark.slow
@MORE
@given(data=mutated_projects())
def test_many_mutated_projects(data, tmp_path_factory):
    _check_project(data, tmp_path_factory.mktemp("fuzz"))


# ----------------------------------------------------------------------------- CSV files
CELLS = st.sampled_from(["", "abc", "1,5", "1e400", "-1e308", "1e307", "nan", "NA", "?", '"',
                         '"a,b"', "\t", ";", "\x00", "∞", "１２", " 3 ", "0x10", "1_000", "inf",
                         "-0", "1.5.5", "ﬁ", "\r", "setosa", "x" * 300])  # fmt: skip


@st.composite
def mutated_csvs(draw):
    lines = IRIS.splitlines()
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["cell", "cell", "cell", "drop", "blank", "delimiter",
                                       "duplicate", "truncate"]))  # fmt: skip
        i = draw(st.integers(0, len(lines) - 1))
        if action == "cell":
            cells = lines[i].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(CELLS)
            lines[i] = ",".join(cells)
        elif action == "drop" and len(lines) > 1:
            del lines[i]
        elif action == "blank":
            lines.insert(i, "")
        elif action == "delimiter":
            lines[i] = lines[i].replace(",", draw(st.sampled_from([";", "\t", ", ", ",,"])))
        elif action == "duplicate":
            lines.insert(i, lines[i])
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n", "\n\n"]))


def _check_csv(text: str, folder: Path) -> None:
    from deepgui.core.data import load_dataset

    path = folder / "fuzzed.csv"
    path.write_text(text, encoding="utf-8")
    spec = {"source": "csv", "path": str(path), "target": "species"}
    try:
        data = load_dataset(spec, None)
    except DeepGuiError as exc:
        message = str(exc)
        assert "\n" not in message and message.endswith("."), message
        return
    x = data.x_train
    for values in x.values() if isinstance(x, dict) else [x]:
        values = np.asarray(values)
        if values.dtype.kind == "f":
            finite = values[np.isfinite(values)]
            assert not finite.size or float(np.abs(finite).max()) <= 1e38
    if data.preprocessing is not None:
        for raw in data.preprocessing.inputs:
            for number in (raw.scale, raw.offset, raw.fill):
                assert number is None or math.isfinite(number), raw


@QUICK
@given(text=mutated_csvs())
def test_mutated_csvs_are_read_or_refused_in_one_sentence(text, tmp_path_factory):
    _check_csv(text, tmp_path_factory.mktemp("fuzz"))


@pytest.mark.slow
@MORE
@given(text=mutated_csvs())
def test_many_mutated_csvs(text, tmp_path_factory):
    _check_csv(text, tmp_path_factory.mktemp("fuzz"))


def test_the_mutations_reach_the_loaders():
    """The fuzz is worth running: the plain examples and CSV load, and a mutation changes them."""
    for path in EXAMPLES:
        rc, err = _summary(path)
        assert rc == 0, err
    original = json.loads(EXAMPLES[0].read_text(encoding="utf-8"))
    assert copy.deepcopy(original) == original
