import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepgui.core.errors import ProjectFormatError
from deepgui.core.project import FORMAT, Project, atomic_write_text, load_project, project_from_dict
from tests.helpers import small_cnn


def make_project() -> Project:
    g, n = small_cnn()
    g.move(n["dense"].id, (100, 400))
    return Project(graph=g, dataset={"source": "builtin", "name": "digits"}, training={"epochs": 3})


def test_save_and_load_round_trip(tmp_path):
    project = make_project()
    path = project.save(tmp_path / "a.dgproj")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT and data["version"] == 1
    assert set(data) == {"format", "version", "id", "graph", "layout", "dataset", "training"}
    loaded = load_project(path)
    assert loaded.to_dict() == project.to_dict()
    assert loaded.path == path and loaded.undo.is_clean and loaded.name == "a"


def test_atomic_save_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "p.dgproj"
    make_project().save(path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_text(path, "garbage")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.dgproj"]  # no temp file left behind


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{nope", "not valid JSON"),
        (b"[]", "top level must be an object"),
        (b'{"format": "other"}', 'field "format"'),
        (b'{"format": "deepgui-project", "version": 99, "graph": {}}', "newer deepgui"),
        (b'{"format": "deepgui-project", "version": 1, "graph": []}', 'field "graph"'),
        (
            b'{"format": "deepgui-project", "version": 1, "graph": {"nodes": [{"id": 1}]}}',
            "graph.nodes[0].id",
        ),
        (
            b'{"format": "deepgui-project", "version": 1, "graph": {"nodes": [], "edges": [{"source": "a", "target": "b"}]}}',
            "does not exist",
        ),
        (
            b'{"format": "deepgui-project", "version": 1, "graph": {}, "layout": {"positions": {"a": [1, NaN]}}}',
            "not valid JSON",
        ),
    ],
)
def test_malformed_files_name_the_problem(tmp_path, content, fragment):
    path = tmp_path / "bad.dgproj"
    path.write_bytes(content)
    with pytest.raises(ProjectFormatError) as info:
        load_project(path)
    assert fragment in str(info.value) and str(path) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProjectFormatError, match="no such file"):
        load_project(tmp_path / "none.dgproj")
    with pytest.raises(ProjectFormatError, match="is a folder"):
        load_project(tmp_path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_projects_raise_only_the_format_error(data):
    """Mangle a valid project at random places: loading either works or says ProjectFormatError."""
    doc = make_project().to_dict()
    for _ in range(data.draw(st.integers(1, 4))):
        target = doc
        path = []
        while isinstance(target, dict | list) and target and data.draw(st.booleans()):
            key = data.draw(
                st.sampled_from(
                    list(target) if isinstance(target, dict) else list(range(len(target)))
                )
            )
            path.append(key)
            if not isinstance(target[key], dict | list):
                break
            target = target[key]
        if not isinstance(target, dict | list) or not target:
            continue
        key = data.draw(
            st.sampled_from(list(target) if isinstance(target, dict) else list(range(len(target))))
        )
        action = data.draw(st.sampled_from(["replace", "delete"]))
        if action == "delete":
            del target[key]
        else:
            target[key] = data.draw(json_values)
    try:
        project = project_from_dict(doc)
    except ProjectFormatError:
        return
    assert isinstance(project, Project)
    project.graph.topological_order()


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200))
def test_random_bytes_raise_only_the_format_error(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "x.dgproj"
    path.write_bytes(raw)
    with pytest.raises(ProjectFormatError):
        load_project(path)


def test_identity_is_kept_in_the_file_and_runs_follow_the_project(tmp_path, monkeypatch):
    from deepgui.core.training import runs

    monkeypatch.setenv("DEEPGUI_SCRATCH", str(tmp_path / "scratch"))
    project = Project()
    scratch_run = runs.new_run_dir(project)
    assert runs.is_scratch(scratch_run)
    (scratch_run / "checkpoints").mkdir(parents=True)
    project.save(tmp_path / "a" / "first.dgproj")  # the first save moves the runs beside it
    assert (tmp_path / "a" / "first.runs" / scratch_run.name / "checkpoints").is_dir()
    assert not scratch_run.exists()
    again = load_project(tmp_path / "a" / "first.dgproj")
    assert again.id == project.id and [r.name for r in runs.project_runs(again)] == [
        scratch_run.name
    ]
    again.save(tmp_path / "b" / "copy.dgproj")  # Save As copies; the old file keeps its runs
    assert (tmp_path / "a" / "first.runs" / scratch_run.name).is_dir()
    assert (tmp_path / "b" / "copy.runs" / scratch_run.name).is_dir()
    other = Project(path=tmp_path / "a" / "other.dgproj")
    assert runs.project_runs(other) == []


def test_weights_follow_a_save_as_and_a_replaced_projects_weights_go_with_it(tmp_path):
    from deepgui.core.project import Project, weights_path_for

    first = Project()
    first.save(tmp_path / "a.dgproj")
    weights_path_for(tmp_path / "a.dgproj").write_bytes(b"weights of a")
    first.save(tmp_path / "b.dgproj")  # Save As: b gets a's weights, a keeps its own
    assert weights_path_for(tmp_path / "b.dgproj").read_bytes() == b"weights of a"
    assert weights_path_for(tmp_path / "a.dgproj").read_bytes() == b"weights of a"

    other = Project()
    other.save(tmp_path / "c.dgproj")  # c has no weights
    other.save(tmp_path / "b.dgproj")  # saved over b (the app asked): b's weights are not c's
    assert not weights_path_for(tmp_path / "b.dgproj").exists()
    fresh = Project()
    weights_path_for(tmp_path / "d.dgproj").write_bytes(b"weights of the old d")
    fresh.save(tmp_path / "d.dgproj")  # a new project saved over d
    assert not weights_path_for(tmp_path / "d.dgproj").exists()
    assert weights_path_for(tmp_path / "a.dgproj").is_file()  # nothing else touched
