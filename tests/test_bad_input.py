"""The bad-input corpus (tests/badinput/): project files, Keras files, CSV files, image folders,
.npz files, run folders and recovery files, as a hostile or careless user would hand them over.

Each case asserts one clean sentence on stderr and a non-zero exit (or success, for the valid
inputs an earlier version refused), no traceback, and that every file that was there is still
there, unchanged. The quick cases run in this process; the slow test runs every case in a
process apart from pytest's (one for all the families, a fresh one after a crash), so that a
crash (a segfault) or a hang no alarm can interrupt is caught and named too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.badinput.cases import FAMILIES, Case, example, fifo, link, nested, sparse, write_json
from tests.badinput.runner import problems, run_family

ROOT = Path(__file__).resolve().parents[1]
CLI_FAMILIES = sorted(FAMILIES)


def _report(results: list[tuple[Case, dict]]) -> list[str]:
    failures = []
    for case, result in results:
        for problem in problems(case, result):
            failures.append(f"{case.name}: {problem}")
    return failures


@pytest.mark.timeout(300)
@pytest.mark.parametrize("family", CLI_FAMILIES)
def test_bad_inputs_get_one_sentence_and_lose_nothing(family, tmp_path):
    results = run_family(family, tmp_path / family, slow=False)
    assert results, "the family has no cases"
    assert not _report(results), "\n".join(_report(results))


def in_processes(families: list[str], root: Path) -> dict[str, dict]:
    """Every case of each family, the valid ones that train included, in a process of its own:
    one process for the families, one after another (each process spends seconds importing
    TensorFlow), and after a crash, a hang or a failed runner a fresh one for the families after
    it. For each family: its cases, their results, and what went wrong with its process."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    outcome: dict[str, dict] = {}
    todo = list(families)
    while todo:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.badinput.runner", ",".join(todo), str(root)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            out, err = proc.communicate(timeout=900)
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            timed_out = True
        running, done = {}, []
        for line in out.splitlines():
            item = json.loads(line)
            family = item["family"]
            got = outcome.setdefault(family, {"cases": {}, "results": [], "failures": []})
            if "cases" in item:
                got["cases"] = {c["name"]: Case(**c) for c in item["cases"]}
            elif "start" in item:
                running[family] = item["start"]
            elif "result" in item:
                got["results"].append(item["result"])
                running.pop(family, None)
            else:
                done.append(family)
        unfinished = [f for f in todo if f not in done]
        if not unfinished:
            if proc.returncode != 0:  # every case ran, then the process failed (at exit, say)
                for family in todo:
                    outcome[family]["failures"].append(
                        f"the runner failed (exit {proc.returncode}): {err[-800:]}"
                    )
            break
        family, todo = unfinished[0], unfinished[1:]
        got = outcome.setdefault(family, {"cases": {}, "results": [], "failures": []})
        if family in running:
            what = "hung" if timed_out else f"crashed the process (exit {proc.returncode})"
            got["failures"].append(f"{running[family]}: {what}; stderr ends {err[-500:]!r}")
        else:
            got["failures"].append(f"the runner failed (exit {proc.returncode}): {err[-800:]}")
    return outcome


@pytest.fixture(scope="module")
def separate_process(request, tmp_path_factory):
    """The families this session's tests ask for, run by in_processes once for them all."""
    asked = {
        item.callspec.params["family"]
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_bad_inputs_in_a_process_of_their_own"
    }
    families = [f for f in CLI_FAMILIES if f in asked]
    return in_processes(families, tmp_path_factory.mktemp("badinput"))


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("family", CLI_FAMILIES)
def test_bad_inputs_in_a_process_of_their_own(family, separate_process):
    """Every case, the valid ones that train included, with crashes and hangs caught."""
    got = separate_process[family]
    cases = got["cases"]
    failures = _report([(cases[r["name"]], r) for r in got["results"]]) + got["failures"]
    assert not failures, "\n".join(failures)
    assert cases and len(got["results"]) == len(cases)


# ----------------------------------------------------------------------------- recovery files
@pytest.fixture
def recovery_folder(tmp_path):
    """A recovery folder with one good file and every kind of odd one."""
    folder = tmp_path / "recovery"
    folder.mkdir()
    good = example()
    good["recovery"] = {"path": str(tmp_path / "work.dgproj"), "saved_at": 1.0}
    write_json(folder / "session-999999999001.dgproj", good)
    bad = {
        "session-999999999002.dgproj": b"{not json",
        "session-999999999003.dgproj": b"",
        "session-999999999004.dgproj": bytes(range(256)),
        "session-999999999005.dgproj": json.dumps(nested(900)).encode(),
        "session-999999999006.dgproj": b"[" * 100_000 + b"]" * 100_000,
        "session-999999999007.dgproj": json.dumps({**example(), "recovery": [1, 2]}).encode(),
        "session-999999999008.dgproj": json.dumps({**example(), "recovery": {"path": 7}}).encode(),
        "session-999999999009.dgproj": json.dumps(
            {**example(), "recovery": {"path": "a\x00b"}}
        ).encode(),
        "session-999999999010.dgproj": json.dumps({"format": "deepgui-project"}).encode(),
        "session-999999999011.dgproj": json.dumps([1, 2, 3]).encode(),
        "session-999999999012.dgproj": json.dumps(
            {
                **example(),
                "graph": {
                    "nodes": [
                        {"id": "n1", "class_name": "Dense", "config": {"name": "d\U0001f600"}}
                    ]
                },
            }
        ).encode(),  # fmt: skip
    }
    for name, content in bad.items():
        (folder / name).write_bytes(content)
    odd = [
        link(folder / "session-999999999013.dgproj", str(folder / "gone")),
        fifo(folder / "session-999999999014.dgproj"),
        sparse(folder / "session-999999999015.dgproj", 200 << 20),
    ]
    (folder / "session-999999999016.dgproj").mkdir()
    (folder / f"session-{'9' * 40}.dgproj").write_bytes(b"{}")  # a pid no system has
    (folder / "session-0.dgproj").write_bytes(b"{}")
    (folder / "notes.txt").write_text("not a recovery file")
    return folder, list(bad), odd


@pytest.mark.timeout(60)
def test_recovery_tolerates_any_file_in_its_folder(recovery_folder):
    from deepgui.core.errors import ProjectFormatError
    from deepgui.ui import recovery

    folder, bad, _odd = recovery_folder
    contents = {n: (folder / n).read_bytes() for n in bad}
    assert not recovery.pid_alive(10**40) and not recovery.pid_alive(-1)
    found = recovery.orphans(folder)
    assert folder / "session-999999999001.dgproj" in found
    for path in found:
        recovery.original_path(path)  # never raises
    good, set_aside = recovery.screen(folder)
    # A malformed "recovery" field loses only the name of the file it was editing.
    unnamed = {f"session-99999999900{i}.dgproj" for i in (7, 8, 9)}
    assert {p.name for p in good} == {"session-999999999001.dgproj", *unnamed}
    for path in good:
        project = recovery.load_recovered(path)
        assert project.graph.nodes
        assert (project.path is None) == (path.name in unnamed)
    moved = {Path(p).name.split(".dgproj")[0] + ".dgproj": (p, why) for p, why in set_aside}
    for name in set(bad) - unnamed:  # each unreadable file was set aside whole, with its reason
        path, why = moved[name]
        assert path.parent.name == recovery.UNREADABLE and path.read_bytes() == contents[name]
        assert "\n" not in why and why.endswith(".")
    # A file that goes bad after it was listed: set aside, and the message says where.
    later = folder / "session-999999999020.dgproj"
    later.write_bytes(b"{broken")
    with pytest.raises(ProjectFormatError) as info:
        recovery.load_recovered(later)
    message = str(info.value)
    assert "\n" not in message and recovery.UNREADABLE in message and not later.exists()
    assert (folder / "notes.txt").read_text() == "not a recovery file"


@pytest.mark.timeout(120)
def test_the_app_starts_with_any_file_in_its_recovery_folder(qtbot, tmp_path, monkeypatch):
    """What the app does at start-up (FileActions.check_recovery), with the odd files."""
    pytest.importorskip("pytestqt")
    from deepgui.core.project import Project
    from deepgui.ui.files import recovery_dir
    from deepgui.ui.main_window import MainWindow
    from tests.test_ui_files import FakeDialogs

    monkeypatch.setenv("DEEPGUI_CONFIG_DIR", str(tmp_path / "config"))
    folder = recovery_dir()
    folder.mkdir(parents=True)
    (folder / "session-999999999002.dgproj").write_bytes(b"{not json")
    (folder / "session-999999999005.dgproj").write_text(json.dumps(nested(900)))
    link(folder / "session-999999999013.dgproj", str(folder / "gone"))
    fifo(folder / "session-999999999014.dgproj")
    (folder / f"session-{'9' * 40}.dgproj").write_bytes(b"{}")
    window = MainWindow(Project(), autosave_ms=3_600_000)
    window.dialogs = FakeDialogs()
    qtbot.addWidget(window)
    assert window.files.check_recovery() is False
    errors = [m for kind, m in window.dialogs.asked if kind == "error"]
    assert errors and all("Traceback" not in m and "\n" not in m for m in errors)
    kept = list((folder / "unreadable").iterdir())
    assert {p.name.split(".dgproj")[0] for p in kept} >= {
        "session-999999999002",
        "session-999999999005",
    }
