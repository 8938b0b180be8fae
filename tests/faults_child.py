"""`deepgui` in a child process that stops just before it renames a finished file into a
watched folder, so a test can kill it -9 at exactly that moment (and at any earlier one).

    DEEPGUI_TEST_PAUSE_IN=FOLDER DEEPGUI_TEST_PAUSE_AT=N python -m tests.faults_child ARGS...

Before the N-th rename (os.replace or fileio.exchange, counted from 1) whose destination lies in
FOLDER it prints
``PAUSED <destination>`` on stdout and sleeps; without the variables it is `deepgui ARGS`.
"""

from __future__ import annotations

import os
import sys
import time


def _install() -> None:
    folder = os.environ.get("DEEPGUI_TEST_PAUSE_IN")
    if not folder:
        return
    target = int(os.environ.get("DEEPGUI_TEST_PAUSE_AT", "1"))
    real = os.replace
    seen = 0

    def replace(src, dst, *args, **kwargs):
        nonlocal seen
        if os.path.abspath(os.fspath(dst)).startswith(os.path.abspath(folder)):
            seen += 1
            if seen == target:
                print(f"PAUSED {os.fspath(dst)}", flush=True)
                time.sleep(600)
        return real(src, dst, *args, **kwargs)

    os.replace = replace

    from deepgui.core import fileio  # a folder is replaced by a swap, not a rename

    real_exchange = fileio.exchange

    def exchange(a, b):
        nonlocal seen
        if os.path.abspath(os.fspath(b)).startswith(os.path.abspath(folder)):
            seen += 1
            if seen == target:
                print(f"PAUSED {os.fspath(b)}", flush=True)
                time.sleep(600)
        return real_exchange(a, b)

    fileio.exchange = exchange


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _install()
    from deepgui.cli import main

    sys.exit(main(sys.argv[1:]))
