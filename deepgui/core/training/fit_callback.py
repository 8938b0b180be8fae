"""The Keras callback that turns `fit`'s hooks into the engine's events.

Per batch it only reads the loss, calls the listener and checks two flags, so training keeps
its speed. Stopping sets `model.stop_training` (the batch in flight finishes); pausing blocks
here on the engine's Event; a partial epoch (stopped or NaN) is not recorded.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from deepgui.core.training.engine import TrainingEngine


def make_callback(keras, engine: TrainingEngine, steps: int):
    """The Keras callback that turns fit's hooks into engine events (built lazily: keras)."""

    class _EngineCallback(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.batches = 0
            self.t_epoch = 0.0
            self.t_train_end: float | None = None
            self.paused_in_epoch = 0.0

        def on_train_begin(self, logs=None):
            if engine._stop:
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1
            self.batches = 0
            self.t_train_end = None
            self.paused_in_epoch = 0.0
            self.t_epoch = time.perf_counter()
            engine.listener.epoch_started(self.epoch)

        def on_train_batch_end(self, batch, logs=None):
            self.batches = batch + 1
            loss = logs.get("loss") if logs else None
            if loss is not None and not math.isfinite(loss):
                engine._nan = (self.epoch, self.batches, loss)
                self.model.stop_training = True
            engine.listener.batch_ended(self.batches, logs)
            if not engine._go.is_set():
                self._wait()
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
            if self.batches < steps:  # a partial epoch: its validation is not worth waiting for
                self.model.stop_evaluating = True

        def on_epoch_end(self, epoch, logs=None):
            end = self.t_train_end or time.perf_counter()
            if self.batches < steps or engine._nan is not None:
                return  # stopped part-way: the epoch is not counted
            seconds = end - self.t_epoch - self.paused_in_epoch
            engine._epoch_done(epoch + 1, dict(logs or {}), seconds)

    return _EngineCallback()
