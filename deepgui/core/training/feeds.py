"""Where a run trains and what `fit` is given: one feed per run, one data-parallel path per
backend, for the devices of one machine and for several machines alike.

    feed = feeds.local(device, mixed_precision)   # this machine alone (TrainingEngine decides)
    feed = feeds.of_cluster(cluster, device, ...)  # a rank of several (the worker decides)

- One device: `Feed`; fit takes the arrays.
- JAX over several devices: `JaxFeed`, Keras's distribution API (`keras.distribution.DataParallel`
  over every device of every rank: this machine's, or every process's of a cluster).
- TensorFlow over several devices: `mirrored.MirroredFeed`, one tf.distribute strategy scope
  (MirroredStrategy over this machine's devices, MultiWorkerMirroredStrategy over the ranks').

The engine has one code path for them all: it builds and fits inside `feed.placement.scope()`,
with `feed.steps`, `feed.fit_args` and `feed.callbacks`, and scores the saved model itself where
`feed.evaluates`. Keras is imported only inside the functions.

A feed of a cluster makes the chief's stop and pause every rank's (callbacks.SyncControl). Keras
has no equivalent: `model.stop_training` stops one process's `fit`, and a rank that stopped or
paused alone would leave the others waiting in a collective.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from deepgui.core import keras_layers
from deepgui.core.training import devices, distributed
from deepgui.core.training.feed_base import Feed
from deepgui.core.training.mirrored import MirroredFeed

if TYPE_CHECKING:
    from deepgui.core.training.devices import Placement
    from deepgui.core.training.distributed import Cluster


def several_devices(spec: str) -> bool:
    """Whether a device spec asks for data parallelism on this machine ("gpus", or a list such
    as "gpu:0,gpu:1"); "auto" is the first GPU alone."""
    return spec == "gpus" or "," in spec


class JaxFeed(Feed):
    """JAX over several devices: Keras's `DataParallel` over every device of every rank (of this
    machine alone without a cluster), each rank feeding its slice of every global batch: the
    batch a single-process run would train on, cut in `world` pieces (ShardedBatches), so the
    weights match a single-process run and every rank ends with the same weights."""

    def __init__(self, placement: Placement, cluster: Cluster | None = None) -> None:
        super().__init__(placement, cluster)
        import jax  # JAX (seconds): imported when used
        import keras  # Keras brings TensorFlow (seconds): imported when used

        distribution = keras.distribution.DataParallel(devices=jax.devices())
        # Keras's own cut of the batches among the ranks (`distribute_dataset`) takes tf.data
        # only, which would put TensorFlow in every JAX process (2-3 s of its start), and it
        # cuts a short last batch into fewer pieces than ranks, so that the ranks take unequal
        # numbers of steps and wait for each other for ever: each rank cuts its own slice.
        distribution.auto_shard_dataset = False
        keras.distribution.set_distribution(distribution)

    @property
    def evaluates(self) -> bool:
        # The arrays of a batch are laid out over the devices, which takes only batches that
        # divide among them: the evaluation's are not cut so (and on a rank, see Feed).
        return False

    def steps(self, num_train: int, batch_size: int) -> int:
        return distributed.global_steps(num_train, batch_size)

    def fit_args(self, keras, data, config, class_weight, val) -> dict[str, Any]:
        seed = config.seed
        train = make_batches(keras, data.x_train, data.y_train, batch=config.batch_size,
                             cluster=self.cluster, seed=seed, shuffle=True, full_batches=True)  # fmt: skip
        args: dict[str, Any] = {"x": train, "class_weight": class_weight}
        if val is not None:
            args["validation_data"] = make_batches(
                keras, val[0], val[1], batch=config.batch_size, cluster=self.cluster, seed=seed,
                shuffle=False, full_batches=False,
            )  # fmt: skip
        return args


def make_batches(keras, x, y, *, batch: int, cluster: Cluster | None, seed: int | None,
                 shuffle: bool, full_batches: bool):  # fmt: skip
    """A `keras.utils.PyDataset` of this rank's slices of the global batches of (x, y)."""
    import jax  # JAX (seconds): imported when used

    n = len(y)
    steps = distributed.global_steps(n, batch) if full_batches else max(1, math.ceil(n / batch))
    rank, world = (cluster.rank, cluster.world) if cluster is not None else (0, 1)
    local_devices = jax.local_device_count()

    def take(values, rows):
        return {k: v[rows] for k, v in values.items()} if isinstance(values, dict) else values[rows]

    class ShardedBatches(keras.utils.PyDataset):
        def __init__(self) -> None:
            super().__init__()
            self.epoch = 0
            self.order = self._order()

        def _order(self) -> np.ndarray:
            return distributed.permutation(n, seed or 0, self.epoch) if shuffle else np.arange(n)

        def __len__(self) -> int:
            return steps

        def __getitem__(self, step: int):
            rows = distributed.rank_rows(self.order, step, batch, rank, world, local_devices)
            return take(x, rows), y[rows]

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = self._order()

    return ShardedBatches()


def local(device: str, mixed_precision: bool = False) -> Feed:
    """The feed of a run on this machine alone, by its device spec and the Keras backend:
    JaxFeed or MirroredFeed over several devices, else Feed. TrainingError for a device that
    is not there."""
    placement = devices.choose(device, mixed_precision)
    backend = keras_layers.keras().backend.backend()
    if backend == "jax" and several_devices(device):
        # The worker showed JAX exactly the devices the spec names (worker_environment).
        return JaxFeed(placement)
    if placement.strategy is not None:
        return MirroredFeed(placement)
    return Feed(placement)


def of_cluster(cluster: Cluster, device: str = "auto", mixed_precision: bool = False) -> Feed:
    """The feed of one rank of a run on several machines, after `distributed.join` and
    `use_engine`: the cluster's engine decides the backend's path. TensorFlow's strategy must
    be made before any TensorFlow operation runs."""
    if cluster.engine == "tensorflow":
        return MirroredFeed.across(cluster)
    return JaxFeed(devices.choose(device, mixed_precision), cluster)
