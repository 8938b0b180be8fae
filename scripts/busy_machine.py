"""Run a command while one CPU-bound process per core keeps the machine busy.

`make test-busy` runs the suite this way: the tests' time bounds must hold when other work
shares the cores, as it does on a CI machine.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys


def spin() -> None:
    while True:
        pass


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: busy_machine.py COMMAND [ARG ...]", file=sys.stderr)
        return 2
    hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(os.cpu_count() or 2)]
    for hog in hogs:
        hog.start()
    try:
        return subprocess.call(argv)
    finally:
        for hog in hogs:
            hog.terminate()
        for hog in hogs:
            hog.join()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
