"""The feed of a run in one process (feeds.py): `fit` takes the arrays, and Keras splits each
batch among the placement's devices when there are several. The data-parallel feeds build on it
(feeds.JaxFeed, mirrored.MirroredFeed), and `feeds` chooses among them, so it sits below both."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deepgui.core.training.devices import Placement
    from deepgui.core.training.distributed import Cluster


class Feed:
    """One process: fit takes the arrays, and Keras splits each batch among the placement's
    devices when there are several (TensorFlow's MirroredStrategy)."""

    def __init__(self, placement: Placement, cluster: Cluster | None = None) -> None:
        self.placement = placement
        self.cluster = cluster  # the ranks that agree on stop and pause; None: this one alone
        # The chief's requests, carried out by every rank at the next agreed step: the engine's
        # own stop and pause act at once, which would leave the other ranks in a collective.
        self.stop_requested = False
        self.pause_requested = False
        self.sync_seconds = 0.0  # time spent agreeing on stop and pause: the benchmark's cost
        self.syncs = 0

    @property
    def evaluates(self) -> bool:
        """Whether the engine scores the saved model on the held-out split. Not a rank of
        several: it would score its slice alone, in one more collective every rank must run
        alike; the chief's launcher tests the saved model instead (WorkerEngine)."""
        return self.cluster is None

    # ------------------------------------------------------------------ control (any thread)
    def stop(self) -> None:
        self.stop_requested = True

    def pause(self) -> None:
        self.pause_requested = True

    def resume(self) -> None:
        self.pause_requested = False

    # ------------------------------------------------------------------ what fit is given
    def steps(self, num_train: int, batch_size: int) -> int:
        return max(1, math.ceil(num_train / batch_size))

    def fit_args(self, keras, data, config, class_weight, val) -> dict[str, Any]:
        return {"x": data.x_train, "y": data.y_train, "batch_size": config.batch_size,
                "validation_data": val, "class_weight": class_weight, "shuffle": True}  # fmt: skip

    def callbacks(self, keras, engine) -> list:
        if self.cluster is None:
            return []  # the engine's own stop and pause
        from deepgui.core.training.callbacks import SyncControl  # imports Keras

        return [SyncControl(self, engine)]
