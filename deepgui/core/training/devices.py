"""Which device trains: GPU detection (memory growth on), CPU or one GPU, several devices
through `tf.distribute.MirroredStrategy`, and mixed precision where the GPU supports it. What
`fit` is given over several devices, and over several machines, is the run's feed (feeds.py).

Device specs (the training dict's ``device``): ``auto`` (first GPU, else the CPU), ``cpu``,
``gpu:N``, ``gpus`` (every GPU, mirrored), or a comma list such as ``cpu:0,cpu:1`` (mirrored
over exactly those devices). TensorFlow is imported only inside the functions.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from deepgui.core.errors import TrainingError
from deepgui.core.keras_layers import keras, quiet_backend_start

_ONE = re.compile(r"(cpu|gpu):\d+")


def check_device_spec(spec: str) -> str | None:
    """Why `spec` is not a device spec, in words; None when it is. Needs no TensorFlow."""
    if spec in ("auto", "cpu", "gpus"):
        return None
    parts = [p.strip() for p in spec.split(",")]
    if all(_ONE.fullmatch(p) for p in parts):
        return None
    return f'must be "auto", "cpu", "gpu:N", "gpus" or a list like "gpu:0,gpu:1", not {spec!r}.'


def list_gpus() -> list[dict[str, Any]]:
    """The GPUs TensorFlow sees, with memory growth switched on (so one run does not take all
    the memory up front). Each: {"index", "name", "compute_capability"}."""
    quiet_backend_start()  # the first import of TensorFlow, on one thread at a time
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    out = []
    for i, gpu in enumerate(tf.config.list_physical_devices("GPU")):
        # Fails once TensorFlow has initialised the GPU; growth is then whatever was set first.
        with contextlib.suppress(RuntimeError, ValueError):
            tf.config.experimental.set_memory_growth(gpu, True)
        details: dict[str, Any] = {}
        with contextlib.suppress(Exception):
            details = tf.config.experimental.get_device_details(gpu) or {}
        out.append(
            {
                "index": i,
                "name": details.get("device_name", gpu.name),
                "compute_capability": details.get("compute_capability"),
            }
        )
    return out


class Placement:
    """Where a run's model is built and fitted: use ``with placement.scope():`` around both."""

    def __init__(self, description: str, strategy=None, device: str | None = None,
                 mixed_precision: bool = False) -> None:  # fmt: skip
        self.description = description
        self.strategy = strategy
        self.device = device
        self.mixed_precision = mixed_precision

    @property
    def replicas(self) -> int:
        return self.strategy.num_replicas_in_sync if self.strategy is not None else 1

    @contextlib.contextmanager
    def scope(self):
        if self.strategy is None and self.device is None:
            yield  # JAX places arrays itself; TensorFlow may not even be installed there
            return
        import tensorflow as tf  # TensorFlow (seconds): imported when used

        if self.strategy is not None:
            with self.strategy.scope():
                yield
        elif self.device is not None:
            with tf.device(self.device):
                yield
        else:
            yield


def choose(spec: str, mixed_precision: bool = False) -> Placement:
    """Resolve a device spec against the machine. Raises TrainingError for a missing device."""
    problem = check_device_spec(spec)
    if problem:
        raise TrainingError(f"training.device {problem}")

    backend = keras().backend.backend()
    if backend == "jax":
        return _jax_placement(spec, mixed_precision)
    if backend != "tensorflow":  # PyTorch places arrays itself
        return Placement(f"{backend} backend, its default device")
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    gpus = list_gpus()
    if spec == "auto":
        spec = "gpu:0" if gpus else "cpu"
    if spec == "gpus":
        if not gpus:
            raise TrainingError('training.device is "gpus" but this machine has no GPU: use "cpu".')
        spec = ",".join(f"gpu:{g['index']}" for g in gpus)
    parts = [p.strip() for p in spec.split(",")]
    for p in parts:
        if p.startswith("gpu:") and int(p[4:]) >= len(gpus):
            have = f"{len(gpus)} GPU" + ("" if len(gpus) == 1 else "s")
            raise TrainingError(f"training.device names {p} but this machine has {have}: "
                                'choose another or "cpu".')  # fmt: skip
        if p.startswith("cpu:"):
            logical = tf.config.list_logical_devices("CPU")
            if int(p[4:]) >= len(logical):
                raise TrainingError(f"training.device names {p} but only {len(logical)} CPU "
                                    "device(s) are configured.")  # fmt: skip
    mixed = bool(mixed_precision) and _supports_mixed(parts, gpus)
    if len(parts) > 1:
        devices = [f"/{p.split(':')[0].upper()}:{p.split(':')[1]}" for p in parts]
        strategy = tf.distribute.MirroredStrategy(devices)
        return Placement(f"MirroredStrategy over {', '.join(parts)}", strategy=strategy,
                         mixed_precision=mixed)  # fmt: skip
    if spec == "cpu" or parts[0].startswith("cpu"):
        return Placement("cpu", device="/CPU:0")
    index = int(parts[0][4:])
    name = gpus[index]["name"]
    return Placement(f"gpu:{index} ({name})", device=f"/GPU:{index}", mixed_precision=mixed)


def _jax_placement(spec: str, mixed_precision: bool) -> Placement:
    """Under JAX the parent process chose the devices by what it showed the worker
    (worker_process.worker_environment); here they are named, and mixed precision is used
    where every one of them is a GPU with tensor cores. A run over several devices or ranks
    is data parallel through Keras's distribution (feeds.JaxFeed)."""
    import jax  # JAX (seconds): imported when used

    local = jax.local_devices()
    if spec.startswith("gpu") and local[0].platform == "cpu":
        raise TrainingError(f'training.device is "{spec}" but JAX sees no GPU here (is the '
                            'CUDA build of JAX installed?): use "cpu" or "auto".')  # fmt: skip
    kinds = sorted({d.device_kind for d in local})
    count = len(jax.devices())
    what = local[0].platform if local[0].platform == "cpu" else ", ".join(kinds)
    description = what if count == 1 else f"{count} devices ({what})"
    mixed = bool(mixed_precision) and all(
        d.platform == "gpu" and float(getattr(d, "compute_capability", "0") or 0) >= 7.0
        for d in local
    )  # fmt: skip
    return Placement(description, mixed_precision=mixed)


def _supports_mixed(parts: list[str], gpus: list[dict[str, Any]]) -> bool:
    """float16 pays off on GPUs with tensor cores (compute capability 7.0 and up)."""
    for p in parts:
        if not p.startswith("gpu:"):
            return False
        cc = gpus[int(p[4:])].get("compute_capability")
        if not cc or tuple(cc) < (7, 0):
            return False
    return True


@contextlib.contextmanager
def precision_policy(mixed: bool):
    """Build under the mixed_float16 policy, then put the global policy back."""
    if not mixed:
        yield
        return
    import keras  # Keras brings TensorFlow (seconds): imported when used

    old = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(old)
