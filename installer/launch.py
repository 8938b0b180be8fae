"""Entry script of the desktop bundle: the same `deepgui` command as the installed package."""

import logging
import multiprocessing
import os
import sys

from deepgui.cli import main

if __name__ == "__main__":
    # Frozen executables re-enter here in child processes; this keeps them from starting the app.
    multiprocessing.freeze_support()
    # The bundle carries compiled modules only, so TensorFlow's AutoGraph cannot read their
    # source and warns about each traced function; it runs them unchanged, as intended.
    os.environ.setdefault("AUTOGRAPH_VERBOSITY", "0")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    sys.exit(main())
