"""Feed a family of bad inputs to the `deepgui` command line and judge what came back.

In-process (`run_family`): each case runs `deepgui.cli.main` with stdout and stderr captured,
under a watchdog (SIGALRM) that turns a hang into a verdict. As a process of its own
(`python -m tests.badinput.runner FAMILY[,FAMILY...] ROOT`: each family in ROOT/FAMILY, one
after another), it prints one JSON line, naming its family, before each case and one after,
and one when a family is done, so the parent sees a crash (a signal, a segfault) or a hang that
no alarm could interrupt, and which case caused it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import signal
import stat
import sys
import time
import traceback
from pathlib import Path

from tests.badinput.cases import FAMILIES, Case


class _Hang(BaseException):
    pass


@contextlib.contextmanager
def _watchdog(seconds: float):
    def ring(*_):
        raise _Hang

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(root: Path) -> dict[str, str]:
    """What every entry under `root` is: a small file's hash, a big file's size and time, a
    link's target, a pipe, a folder. Never reads a pipe or a device."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "link:" + os.readlink(path)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = "dir"
            elif not stat.S_ISREG(st.st_mode):
                out[rel] = "special"
            elif st.st_size > 1 << 20:
                out[rel] = f"big:{st.st_size}:{st.st_mtime_ns}"
            else:
                with open(path, "rb") as fh:
                    out[rel] = hashlib.sha1(fh.read()).hexdigest()
    return out


def run_case(case: Case, root: Path) -> dict:
    """Run one case; what it printed, its exit status and what it changed."""
    from deepgui.cli import main

    before = snapshot(root)
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            with _watchdog(case.timeout):
                rc = main(case.argv)
        except _Hang:
            rc = "hang"
        except SystemExit as exc:
            rc = exc.code
        except BaseException:  # noqa: BLE001 - a traceback is the finding
            rc = "raised"
            err.write(traceback.format_exc())
    seconds = time.perf_counter() - start
    after = snapshot(root)
    changed = sorted(p for p, h in before.items() if after.get(p) != h)
    return {
        "name": case.name,
        "argv": case.argv,
        "rc": rc,
        "stderr": err.getvalue(),
        "stdout": out.getvalue()[-2000:],
        "changed": changed,
        "seconds": round(seconds, 3),
    }


def problems(case: Case, result: dict) -> list[str]:
    """What is wrong with a case's outcome ([] when it held)."""
    found = []
    rc, stderr = result["rc"], result["stderr"]
    if rc == "hang":
        found.append(f"hung for more than {case.timeout:g} s")
    if rc == "crash":
        found.append("crashed the process")
    if rc == "raised" or "Traceback" in stderr:
        found.append("traceback: " + stderr.strip().splitlines()[-1][:300])
    if result["changed"]:
        found.append(f"changed or lost {result['changed'][:5]}")
    if found:
        return found
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    if case.ok:
        if rc != 0:
            found.append(f"a valid input failed (exit {rc}): {' | '.join(lines)[-300:]}")
        return found
    if rc in (0, None):
        found.append("exit status 0 for a bad input")
    if len(lines) != 1:
        found.append(f"{len(lines)} lines on stderr, not one sentence: {lines[:4]}")
        return found
    line = lines[0]
    if not line.startswith(("deepgui: ", "error: ")):
        found.append(f"not a deepgui message: {line[:200]}")
    if "unexpected error" in line:
        found.append(f"generic message: {line[:200]}")
    if not line.rstrip().endswith("."):
        found.append(f"not a sentence: {line[:200]}")
    if case.fragment and case.fragment not in line:
        found.append(f"does not name {case.fragment!r}: {line[:200]}")
    return found


def build(family: str, root: Path) -> list[Case]:
    root.mkdir(parents=True, exist_ok=True)
    return FAMILIES[family](root)


def run_family(family: str, root: Path, slow: bool = True) -> list[tuple[Case, dict]]:
    cases = build(family, root)
    return [(c, run_case(c, root)) for c in cases if slow or not c.slow]


def _main(argv: list[str]) -> int:
    families, root = argv[0].split(","), Path(argv[1])
    slow = "--quick" not in argv

    def say(family: str, **item) -> None:
        print(json.dumps({"family": family, **item}), flush=True)

    for family in families:
        cases = [c for c in build(family, root / family) if slow or not c.slow]
        say(family, cases=[dataclasses.asdict(c) for c in cases])
        for case in cases:
            say(family, start=case.name)
            say(family, result=run_case(case, root / family))
        say(family, done=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(_main(sys.argv[1:]))
