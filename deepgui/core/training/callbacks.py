"""The Keras callbacks of a run, as module-level classes like keras.callbacks' own. Importing
this module imports Keras: the engine imports it when a run builds its callbacks.

EngineCallback turns `fit`'s hooks into the engine's events. Per batch it only reads the loss,
calls the listener and checks two flags, so training keeps its speed; the reading happens off
the training loop (Keras's async dispatch), as a plain `fit` with no batch callbacks does.
Stopping sets `model.stop_training` (the batch in flight finishes); pausing blocks before the
next batch on the engine's Event; a partial epoch (stopped or NaN) is not recorded.

EpochClock times the epochs of the engine probe (engines.py); SyncControl makes the chief's
stop and pause every rank's on a run on several machines (feeds.py, distributed.py).
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING, Any

import keras

from deepgui.core.training.distributed import (
    MAX_STEPS_BETWEEN_SYNCS,
    PAUSE_POLL_SECONDS,
    SYNC_SECONDS,
    broadcast_flags,
)

if TYPE_CHECKING:
    from deepgui.core.training.engine import TrainingEngine
    from deepgui.core.training.feeds import Feed


class EngineCallback(keras.callbacks.Callback):
    """fit's hooks as the engine's events, with its stop, pause and NaN checks."""

    # Keras runs an async-safe callback's batch-end hooks in a thread pool, so reading the
    # batch's loss (a device sync) no longer holds up the next batch: a plain `fit` with no
    # batch callbacks overlaps them the same way. Pause and stop act in the batch-begin
    # hook, which Keras calls in order before each batch; the batch-end events are put back
    # in order here (`_pending`), at most one batch behind, and all in when the epoch ends.
    # Not under JAX: its next step may donate (delete) the arrays a late reading would use.
    async_safe = keras.backend.backend() == "tensorflow"

    def __init__(self, engine: TrainingEngine, steps: int) -> None:
        super().__init__()
        self.engine = engine
        self.steps = steps
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
        if self.engine._stop:
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.begun = self.batches = 0
        self._pending.clear()
        self.t_train_end = None
        self.paused_in_epoch = 0.0
        self.t_epoch = time.perf_counter()
        self.engine.listener.epoch_started(self.epoch)

    def on_train_batch_begin(self, batch, logs=None):
        # At most one batch's events outstanding: a pause or stop asked at batch k's event
        # holds before batch k + 2, whatever the thread pool's pace.
        with self._delivered:
            self._delivered.wait_for(lambda: self.batches >= batch - 1 or self.engine._stop)
        if self._failed is not None:  # a listener failed in the thread pool: fit fails
            raise self._failed
        if not self.engine._go.is_set():
            self._wait()
        if self.engine._stop or self.engine._nan is not None:
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
            if self.engine._nan is None:
                self.engine._nan = (self.epoch, step, loss)
            self.model.stop_training = True
        self.engine.listener.batch_ended(step, logs)
        if self.engine._stop:
            self.model.stop_training = True

    def _wait(self) -> None:
        t0 = time.perf_counter()
        self.engine.listener.paused()
        self.engine._go.wait()
        waited = time.perf_counter() - t0
        self.paused_in_epoch += waited
        self.engine.paused_seconds += waited
        self.engine.listener.resumed()

    def on_test_begin(self, logs=None):
        self.t_train_end = time.perf_counter()
        if self.begun < self.steps:  # a partial epoch: its validation is not worth waiting for
            self.model.stop_evaluating = True

    def on_epoch_end(self, epoch, logs=None):
        end = self.t_train_end or time.perf_counter()
        if self.begun < self.steps or self.engine._nan is not None:
            return  # stopped part-way: the epoch is not counted
        seconds = end - self.t_epoch - self.paused_in_epoch
        self.engine._epoch_done(epoch + 1, dict(logs or {}), seconds)


class EpochClock(keras.callbacks.Callback):
    """The time each epoch begins and ends (perf_counter), in `marks`: the engine probe's."""

    def __init__(self) -> None:
        super().__init__()
        self.marks: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.marks.append(time.perf_counter())

    def on_epoch_end(self, epoch, logs=None):
        self.marks.append(time.perf_counter())


class SyncControl(keras.callbacks.Callback):
    """First in a rank's list: every rank learns the chief's stop and pause at the same step.
    A broadcast costs about a millisecond, a small model's whole step, so the ranks agree only
    every few steps: each broadcast carries the step of the next one, chosen by the chief to
    come about every SYNC_SECONDS. A pause keeps the ranks exchanging flags, so no collective
    is left waiting."""

    def __init__(self, feed: Feed, engine: Any) -> None:
        super().__init__()
        self.feed = feed
        self.engine = engine
        self.chief = feed.cluster.is_chief
        self.step = 0
        self.next_sync = 1
        self.t_sync = time.perf_counter()
        self.step_synced = 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step < self.next_sync:
            return
        t0 = time.perf_counter()
        stop, paused = self._agree()
        if paused and not stop:
            if self.chief:
                self.engine.listener.paused()
            while paused and not stop:
                time.sleep(PAUSE_POLL_SECONDS)
                stop, paused = self._agree()
            if self.chief:
                self.engine.listener.resumed()
                self.engine.paused_seconds += time.perf_counter() - t0
        if stop:
            self.engine.stop()
        self.feed.sync_seconds += time.perf_counter() - t0
        self.feed.syncs += 1

    def _agree(self) -> tuple[bool, bool]:
        mine = [0, 0, 0]
        if self.chief:
            now = time.perf_counter()
            steps = max(1, self.step - self.step_synced)
            per_step = (now - self.t_sync) / steps
            ahead = int(min(MAX_STEPS_BETWEEN_SYNCS,
                            max(1, SYNC_SECONDS / max(per_step, 1e-6))))  # fmt: skip
            mine = [int(self.feed.stop_requested), int(self.feed.pause_requested),
                    self.step + ahead]  # fmt: skip
            self.t_sync, self.step_synced = now, self.step
        stop, paused, self.next_sync = broadcast_flags(mine)
        return bool(stop), bool(paused)
