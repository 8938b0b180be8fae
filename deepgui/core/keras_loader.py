"""Keras, imported once, lazily and quietly: its import brings TensorFlow (seconds), so nothing
that can answer without it (the palette, a project's file, `deepgui --help`) waits for it.
Everything below the Keras layers asks here (keras_layers re-exports both names)."""

from __future__ import annotations

import os
import sys
import threading

_loaded = False
# The first import of Keras and TensorFlow happens once, on one thread: two threads importing
# them at the same moment (the training worker and the device probe) can see half-initialised
# TensorFlow modules ("module ... has no attribute DatasetV2").
_import_lock = threading.Lock()


def keras():
    """Import Keras lazily (it brings TensorFlow: seconds), quietly."""
    quiet_backend_start()
    import keras as _keras  # seconds (TensorFlow), so at the first call (imported by then)

    return _keras


def quiet_backend_start() -> None:
    """Import Keras and its backend with the native log lines silenced.

    TensorFlow's C++ side writes INFO lines (oneDNN, CUDA probing) straight to file
    descriptor 2 before its logging is configured, whatever TF_CPP_MIN_LOG_LEVEL says; a
    user of `deepgui summary` should not see them. Python exceptions still propagate.
    Only the first call does anything.
    """
    global _loaded
    if _loaded:
        return
    with _import_lock:
        if not _loaded:
            _import_quietly()
            _loaded = True


def _import_quietly() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("DEEPGUI_DEBUG"):
        import keras as _keras  # noqa: F401 - its log lines shown, as DEEPGUI_DEBUG asks

        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras as _keras  # the first import, with descriptor 2 silenced

            if _keras.backend.backend() == "tensorflow":
                import tensorflow as tf  # imported by Keras already: only named here

                tf.config.list_physical_devices("GPU")  # the CUDA probe logs now, silenced
    finally:
        os.dup2(saved, 2)
        os.close(saved)
