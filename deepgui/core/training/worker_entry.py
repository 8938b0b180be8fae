"""The training worker process's entry point (worker_process.py is the library it runs).

python -m deepgui.core.training.worker_entry RUN_DIR
    a worker the app or `deepgui train` supervises (WorkerEngine): trains the arrays handed
    over in RUN_DIR with the backend KERAS_BACKEND names, events on stdout
python -m deepgui.core.training.worker_entry --rank COORDINATOR RANK WORLD OUT_DIR [JOIN DEADLINE]
    a rank other than 0 that `deepgui worker` supervises; its backend is the chief's
    engine's, learnt on joining; it joins within JOIN seconds, by DEADLINE (time.time())
Either ends when its launcher dies (worker_process.die_with_parent).
"""

from __future__ import annotations

import sys

from deepgui.core.training.worker_process import (
    die_with_parent,
    rank_main,
    without_tensorflow,
    worker_main,
)


def main(argv: list[str]) -> int:
    die_with_parent()
    if argv[0] == "--rank":
        coordinator, rank, world, out_dir = argv[1:5]
        timing = argv[5:7]
        if len(timing) == 2:
            return rank_main(coordinator, int(rank), int(world), out_dir, int(timing[0]),
                             float(timing[1]))  # fmt: skip
        return rank_main(coordinator, int(rank), int(world), out_dir)
    without_tensorflow()
    return worker_main(argv[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
