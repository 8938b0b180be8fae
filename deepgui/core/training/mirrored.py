"""TensorFlow's one data-parallel path (feeds.py): a tf.distribute strategy scope, the same
for the devices of one machine (MirroredStrategy, made by devices.choose) and for several
machines (MultiWorkerMirroredStrategy, made here): `MirroredFeed`.

Several machines train with TensorFlow when JAX cannot train the model: the ranks are joined
the same way as JAX's (distributed.join: JAX's coordination service carries the hand-over, the
agreement on stop and pause, and the heartbeat that ends the survivors of a dead rank); only
the training is TensorFlow's.

Two things differ from the JAX engine, and the README and the Training panel say them:
- TensorFlow's gRPC server listens on every interface without authentication (no bind address
  can be given), so this engine is for trusted networks only;
- each rank's server uses port PORT+1+rank of its own machine (PORT: the coordinator's).

Keras 3.15's TensorFlow trainer calls `strategy.reduce` with a nest of per-replica values and
with axis 0 on scalars, both of which MultiWorkerMirroredStrategy refuses (keras-team/keras#20585,
tensorflow/tensorflow#72388, unfixed): `_strategy_class` reduces each value of the nest on its
own, over no axis when it is a scalar.
"""

from __future__ import annotations

import json
import os
from typing import Any

from deepgui.core.training import distributed
from deepgui.core.training.devices import Placement
from deepgui.core.training.distributed import (
    Cluster,
    _bracketed,
    coordination_client,
    local_address,
)
from deepgui.core.training.feed_base import Feed

ADDRESS_KEY = "deepgui/tensorflow/{rank}"
TRUSTED_ONLY = ("TensorFlow on several machines listens on every network interface without "
                "authentication: use it on a trusted network only.")  # fmt: skip


def server_address(cluster: Cluster) -> str:
    """Where this rank's TensorFlow server is reached: its address toward the chief, on port
    PORT+1+rank (fixed, so that a firewall can let exactly these through)."""
    port = int(cluster.coordinator.rsplit(":", 1)[1]) + 1 + cluster.rank
    return f"{_bracketed(local_address(cluster.host))}:{port}"


def make_strategy(cluster: Cluster):
    """The strategy over every rank: each rank publishes its server's address through the
    coordination service and reads the others' (so no rank needs to know the others' machines)."""
    client = coordination_client()
    client.key_value_set(ADDRESS_KEY.format(rank=cluster.rank), server_address(cluster))
    timeout_ms = cluster.join_seconds * 1000
    workers = [client.blocking_key_value_get(ADDRESS_KEY.format(rank=r), timeout_ms)
               for r in range(cluster.world)]  # fmt: skip
    os.environ["TF_CONFIG"] = json.dumps(
        {"cluster": {"worker": workers}, "task": {"type": "worker", "index": cluster.rank}}
    )
    return _strategy_class()()


def _strategy_class():
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    class Strategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis):
            def one(v):
                over = axis
                if over is not None:
                    local = self.experimental_local_results(v)[0]
                    if getattr(local, "shape", None) is not None and local.shape.rank == 0:
                        over = None  # a scalar (a metric's total) has no axis to reduce over
                return super(Strategy, self).reduce(reduce_op, v, axis=over)

            return tf.nest.map_structure(one, value)

    return Strategy


class MirroredFeed(Feed):
    """TensorFlow over several devices: the model is built and fitted in the strategy's scope.
    On one machine fit takes the arrays, which the strategy cuts among its devices batch by
    batch. Across machines every rank must take the same steps in the same order: fit takes
    `tf.data` datasets of whole global batches, shuffled alike on every rank, which the
    strategy cuts among the ranks (the DATA sharding policy)."""

    @classmethod
    def across(cls, cluster: Cluster) -> MirroredFeed:
        """The feed of one rank of `cluster`; before any TensorFlow operation runs."""
        strategy = make_strategy(cluster)
        placement = Placement(
            f"MultiWorkerMirroredStrategy over {cluster.world} ranks "
            f"({strategy.num_replicas_in_sync} replicas)", strategy=strategy,
        )  # fmt: skip
        return cls(placement, cluster)

    def steps(self, num_train: int, batch_size: int) -> int:
        if self.cluster is None:
            return super().steps(num_train, batch_size)
        return distributed.global_steps(num_train, batch_size)

    def fit_args(self, keras, data, config, class_weight, val) -> dict[str, Any]:
        if self.cluster is None:
            return super().fit_args(keras, data, config, class_weight, val)
        import tensorflow as tf  # TensorFlow (seconds): imported when used

        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )

        def batches(x, y, *, shuffle: bool, whole: bool):
            ds = tf.data.Dataset.from_tensor_slices((x, y))
            if shuffle:
                ds = ds.shuffle(len(y), seed=config.seed or 0, reshuffle_each_iteration=True)
            # Whole batches for training: every rank must take the same number of steps.
            return ds.batch(config.batch_size, drop_remainder=whole).with_options(options)

        args: dict[str, Any] = {
            "x": batches(data.x_train, data.y_train, shuffle=True, whole=True),
            "class_weight": class_weight,
            "shuffle": False,  # the dataset shuffles itself, alike on every rank
        }
        if val is not None:
            args["validation_data"] = batches(val[0], val[1], shuffle=False, whole=False)
        return args
