"""The Keras callback that turns `fit`'s hooks into the engine's events.

Per batch it only reads the loss, calls the listener and checks two flags, so training keeps
its speed; the reading happens off the training loop (Keras's async dispatch), as a plain `fit`
with no batch callbacks does. Stopping sets `model.stop_training` (the batch in flight
finishes); pausing blocks before the next batch on the engine's Event; a partial epoch
(stopped or NaN) is not recorded.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepgui.core.training.engine import TrainingEngine


def make_callback(keras, engine: TrainingEngine, steps: int):
    """The Keras callback that turns fit's hooks into engine events (built lazily: keras)."""

    class _EngineCallback(keras.callbacks.Callback):
        # Keras runs an async-safe callback's batch-end hooks in a thread pool, so reading the
        # batch's loss (a device sync) no longer holds up the next batch: a plain `fit` with no
        # batch callbacks overlaps them the same way. Pause and stop act in the batch-begin
        # hook, which Keras calls in order before each batch; the batch-end events are put back
        # in order here (`_pending`), at most one batch behind, and all in when the epoch ends.
        # Not under JAX: its next step may donate (delete) the arrays a late reading would use.
        async_safe = keras.backend.backend() == "tensorflow"

        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.begun = 0  # batches of this epoch started (the training thread's count)
            self.batches = 0  # batch-end events delivered, in order
            self._pending: dict[int, dict] = {}
            self._delivered = threading.Condition()
            self._failed: Exception | None = None
            self.t_epoch = 0.0
            self.t_train_end: float | None = None
            self.paused_in_epoch = 0.0

        def on_train_begin(self, logs=None):
            if engine._stop:
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1
            self.begun = self.batches = 0
            self._pending.clear()
            self.t_train_end = None
            self.paused_in_epoch = 0.0
            self.t_epoch = time.perf_counter()
            engine.listener.epoch_started(self.epoch)

        def on_train_batch_begin(self, batch, logs=None):
            # At most one batch's events outstanding: a pause or stop asked at batch k's event
            # holds before batch k + 2, whatever the thread pool's pace.
            with self._delivered:
                self._delivered.wait_for(lambda: self.batches >= batch - 1 or engine._stop)
            if self._failed is not None:  # a listener failed in the thread pool: fit fails
                raise self._failed
            if not engine._go.is_set():
                self._wait()
            if engine._stop or engine._nan is not None:
                self.model.stop_training = True
            self.begun = batch + 1

        def on_train_batch_end(self, batch, logs=None):
            with self._delivered:
                self._pending[batch + 1] = dict(logs or {})
                while self.batches + 1 in self._pending:
                    self.batches += 1
                    try:
                        self._deliver(self.batches, self._pending.pop(self.batches))
                    except Exception as exc:  # noqa: BLE001 - raised in the training loop
                        self._failed = self._failed or exc
                self._delivered.notify_all()

        def _deliver(self, step: int, logs: dict) -> None:
            loss = logs.get("loss")
            if loss is not None and not math.isfinite(loss):
                if engine._nan is None:
                    engine._nan = (self.epoch, step, loss)
                self.model.stop_training = True
            engine.listener.batch_ended(step, logs)
            if engine._stop:
                self.model.stop_training = True

        def _wait(self) -> None:
            t0 = time.perf_counter()
            engine.listener.paused()
            engine._go.wait()
            waited = time.perf_counter() - t0
            self.paused_in_epoch += waited
            engine.paused_seconds += waited
            engine.listener.resumed()

        def on_test_begin(self, logs=None):
            self.t_train_end = time.perf_counter()
            if self.begun < steps:  # a partial epoch: its validation is not worth waiting for
                self.model.stop_evaluating = True

        def on_epoch_end(self, epoch, logs=None):
            end = self.t_train_end or time.perf_counter()
            if self.begun < steps or engine._nan is not None:
                return  # stopped part-way: the epoch is not counted
            seconds = end - self.t_epoch - self.paused_in_epoch
            engine._epoch_done(epoch + 1, dict(logs or {}), seconds)

    return _EngineCallback()
