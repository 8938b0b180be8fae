"""The engine probe's JAX process (engines.py measures each engine on a run's model):

    python -m deepgui.core.training.probe_entry FOLDER [--check]

trains the arrays handed over in FOLDER for a few batches and prints samples/s and the fixed
cost; with --check, prints "ok" when the model trains under JAX at all, else what failed.
"""

from __future__ import annotations

import sys

from deepgui.core.training.engines import probe_main
from deepgui.core.training.worker_process import without_tensorflow

if __name__ == "__main__":
    without_tensorflow()
    probe_main(sys.argv[1], check="--check" in sys.argv[2:])
