"""Pretrained backbones: the Keras Applications families as palette blocks.

A backbone node is named by its Keras Applications class (``MobileNetV3Small``) and holds its
options: where its weights come from (``imagenet`` from Keras's origin into its cache, a
``.weights.h5`` file, or ``none``), its pooling, whether it keeps ImageNet's classifier on top,
and whether it trains (``trainable``). It is built for the size of the image it receives.

The family's own input preprocessing sits inside the block, as all preprocessing sits inside
a deepgui model: raw pixels 0-255 go in, here and in every export. EfficientNet, MobileNetV3
and ConvNeXt carry theirs already; the others get the layers their ``preprocess_input`` would
apply (scaling to [-1, 1]; ImageNet mean and deviation; BGR order less the ImageNet mean).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepgui.core import fileio
from deepgui.core.errors import BuildError
from deepgui.core.keras_loader import keras

# How each family wants its pixels (Keras's imagenet_utils modes); "inside": the model has it.
_INSIDE, _TF, _TORCH, _CAFFE = "inside", "tf", "torch", "caffe"


@dataclass(frozen=True)
class Family:
    class_name: str
    preprocessing: str
    default_size: int  # the size its ImageNet classifier (include_top) was trained on
    min_size: int = 32


def _families() -> dict[str, Family]:
    table = [
        *[(f"EfficientNetB{i}", _INSIDE, s) for i, s in enumerate((224, 240, 260, 300, 380, 456, 528, 600))],
        *[(f"EfficientNetV2{v}", _INSIDE, s) for v, s in (("B0", 224), ("B1", 240), ("B2", 260), ("B3", 300), ("S", 384), ("M", 480), ("L", 480))],
        ("MobileNetV3Small", _INSIDE, 224), ("MobileNetV3Large", _INSIDE, 224),
        *[(f"ConvNeXt{v}", _INSIDE, 224) for v in ("Tiny", "Small", "Base", "Large", "XLarge")],
        ("MobileNet", _TF, 224), ("MobileNetV2", _TF, 224),
        ("ResNet50V2", _TF, 224), ("ResNet101V2", _TF, 224), ("ResNet152V2", _TF, 224),
        ("Xception", _TF, 299), ("InceptionV3", _TF, 299), ("InceptionResNetV2", _TF, 299),
        ("NASNetMobile", _TF, 224), ("NASNetLarge", _TF, 331),
        ("DenseNet121", _TORCH, 224), ("DenseNet169", _TORCH, 224), ("DenseNet201", _TORCH, 224),
        ("ResNet50", _CAFFE, 224), ("ResNet101", _CAFFE, 224), ("ResNet152", _CAFFE, 224),
        ("VGG16", _CAFFE, 224), ("VGG19", _CAFFE, 224),
    ]  # fmt: skip
    minimum = {"InceptionV3": 75, "InceptionResNetV2": 75, "Xception": 71}
    return {n: Family(n, p, s, minimum.get(n, 32)) for n, p, s in table}


FAMILIES = _families()
WEIGHT_CHOICES = ("imagenet", "none")
POOLING_CHOICES = (None, "avg", "max")

# ImageNet statistics of Keras's imagenet_utils, in RGB order.
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def default_config() -> dict[str, Any]:
    """A new backbone block: ImageNet weights, frozen, average pooling, no ImageNet top."""
    return {"weights": "imagenet", "pooling": "avg", "include_top": False, "trainable": False}


def description(class_name: str) -> str:
    family = FAMILIES[class_name]
    inside = "its own" if family.preprocessing == _INSIDE else "the"
    return (
        f"Keras Applications {class_name}, pretrained on ImageNet (or not): takes raw pixels "
        f"0-255 ({inside} preprocessing is inside). Trained at {family.default_size}x"
        f"{family.default_size}; any image of at least {family.min_size}x{family.min_size} works "
        "without the ImageNet top."
    )


class BackboneError(BuildError):
    """A backbone that cannot be made as set (weights missing offline, a bad size)."""


def config_problems(name: str, config: dict[str, Any]) -> list[str]:
    """Each invalid backbone option, as one sentence naming the block and the option."""
    problems = []
    weights = config.get("weights", "imagenet")
    if not isinstance(weights, str) or not (
        weights in WEIGHT_CHOICES or weights.endswith(".weights.h5") or weights.endswith(".h5")
    ):
        problems.append(
            f"{name}: weights must be imagenet, none or the path of a .weights.h5 file, "
            f"not {weights!r}."
        )
    if config.get("pooling") not in POOLING_CHOICES:
        problems.append(f"{name}: pooling must be avg, max or none, not {config['pooling']!r}.")
    for flag in ("include_top", "trainable"):
        if not isinstance(config.get(flag, False), bool):
            problems.append(f"{name}: {flag} must be true or false.")
    return problems


def make_backbone(node, input_shapes: list | None, with_weights: bool = False):
    """The backbone of `node` as a Keras model named after the node, for images of the shape
    it receives, with its weights when `with_weights` (shape inference needs none)."""
    family = FAMILIES[node.class_name]
    config = node.config
    problems = config_problems(node.name, config)
    if problems:
        raise BackboneError(problems[0])
    if not input_shapes or input_shapes[0] is None or len(input_shapes[0]) != 4:
        got = input_shapes[0] if input_shapes else None
        raise BackboneError(
            f"{node.name} takes images (batch, height, width, 3) but receives {got}: feed it "
            "from an image Input."
        )
    shape = tuple(input_shapes[0][1:])
    height, width, channels = shape
    include_top = bool(config.get("include_top", False))
    if channels != 3:
        raise BackboneError(
            f"{node.name} takes colour images with 3 channels but receives {channels}: "
            "convert the images to RGB in the Data panel."
        )
    if include_top and (height, width) != (family.default_size, family.default_size):
        size = family.default_size
        raise BackboneError(
            f"{node.name} keeps ImageNet's classifier, which takes {size}x{size} images, but "
            f"receives {height}x{width}: resize the images or turn include_top off."
        )
    if any(d is not None and d < family.min_size for d in (height, width)):
        raise BackboneError(
            f"{node.name} needs images of at least {family.min_size}x{family.min_size}, not "
            f"{height}x{width}: resize the images in the Data panel."
        )
    k = keras()
    constructor = getattr(k.applications, node.class_name)
    app = constructor(
        include_top=include_top,
        weights=None,
        input_shape=shape,
        pooling=config.get("pooling"),
        name=node.name if family.preprocessing == _INSIDE else f"{node.name}_network",
    )
    if family.preprocessing == _INSIDE:
        model = app
    else:
        inputs = k.Input(shape=shape, name=f"{node.name}_pixels")
        model = k.Model(inputs, app(_preprocess(k, family, inputs, node.name)), name=node.name)
    if with_weights:
        load_backbone_weights(app, node, include_top, shape)
    model.trainable = bool(config.get("trainable", False))
    return model


def _preprocess(k, family: Family, pixels, name: str):
    """The layers of the family's ``preprocess_input``, on raw 0-255 RGB pixels. Rescaling
    only (per channel where needed), not Normalization: Keras's ONNX exporter turns
    Normalization's constants into graph inputs."""
    if family.preprocessing == _TF:
        return k.layers.Rescaling(1 / 127.5, offset=-1.0, name=f"{name}_scale")(pixels)
    if family.preprocessing == _TORCH:  # (x / 255 - mean) / std
        scale = [1 / (255.0 * s) for s in _TORCH_STD]
        offset = [-m / s for m, s in zip(_TORCH_MEAN, _TORCH_STD, strict=True)]
        return k.layers.Rescaling(scale, offset=offset, name=f"{name}_scale")(pixels)
    # caffe: channels in BGR order, less ImageNet's mean, no scaling.
    bgr = k.ops.flip(pixels, axis=-1)
    offset = [-m for m in _CAFFE_MEAN_BGR]
    return k.layers.Rescaling(1.0, offset=offset, name=f"{name}_centre")(bgr)


# ----------------------------------------------------------------------------- weights
def load_backbone_weights(app, node, include_top: bool, shape) -> None:
    weights = node.config.get("weights", "imagenet")
    if weights == "none":
        return
    if weights == "imagenet":
        path = imagenet_weights_file(node.class_name, include_top, shape)
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise BackboneError(
                f"{node.name}: its weights file {path} does not exist: pick another or choose "
                "'none'."
            )
    try:
        _load_h5(app, path)
    except Exception as exc:  # noqa: BLE001 - Keras raises many kinds; one sentence
        first = " ".join(str(exc).split())[:160]
        raise BackboneError(
            f"{node.name}: the weights in {path} do not fit {node.class_name} "
            f"(include_top={include_top}): {first}"
        ) from None


def _load_h5(app, path: Path) -> None:
    """Keras's ImageNet files are in the legacy HDF5 layout; a file saved by Keras 3's
    ``save_weights`` (``.weights.h5``) in the new one. Either is read."""
    if str(path).endswith(".weights.h5"):
        app.load_weights(str(path))
        return
    try:
        app.load_weights(str(path))
    except Exception:  # noqa: BLE001 - not the legacy layout: try the new one
        with tempfile.TemporaryDirectory() as folder:
            alias = Path(folder) / "backbone.weights.h5"
            os.symlink(path.resolve(), alias)
            app.load_weights(str(alias))


@dataclass(frozen=True)
class WeightsFile:
    """Where Keras keeps (and downloads) a family's ImageNet weights."""

    fname: str
    origin: str
    file_hash: str | None
    cache_subdir: str

    @property
    def cached_path(self) -> Path:
        # Keras brings TensorFlow (seconds): imported when used
        from keras.src.backend.config import keras_home

        return Path(keras_home()) / self.cache_subdir / self.fname


class _Recorded(Exception):
    pass


def weights_file(class_name: str, include_top: bool, shape) -> WeightsFile:
    """The file Keras's own loader would fetch for these ImageNet weights, asked of Keras
    itself: the family's constructor runs with Keras's ``get_file`` recording its request."""
    from keras.src.utils import file_utils  # Keras brings TensorFlow (seconds): imported when used

    k = keras()
    seen: dict[str, Any] = {}

    def record(fname=None, origin=None, cache_subdir="datasets", file_hash=None, **_):
        seen.update(fname=fname, origin=origin, cache_subdir=cache_subdir, file_hash=file_hash)
        raise _Recorded

    real = file_utils.get_file
    file_utils.get_file = record
    try:
        with contextlib.suppress(_Recorded):
            getattr(k.applications, class_name)(
                include_top=include_top, weights="imagenet", input_shape=shape
            )
    finally:
        file_utils.get_file = real
    if not seen:
        raise BackboneError(f"Keras offers no ImageNet weights for {class_name} as set.")
    return WeightsFile(seen["fname"], seen["origin"], seen["file_hash"], seen["cache_subdir"])


def imagenet_weights_file(class_name: str, include_top: bool, shape) -> Path:
    """The cached ImageNet weights file, downloaded into Keras's cache when it is not there
    yet. A file in Keras's cache is taken as it is (the cache is Keras's own folder, filled by
    Keras or by the user); a download is checked against Keras's recorded hash."""
    wanted = weights_file(class_name, include_top, shape)
    if wanted.cached_path.is_file():
        return wanted.cached_path
    return download_weights(wanted, class_name)


DOWNLOAD_CHUNK = 1 << 20
DOWNLOAD_TIMEOUT_S = 60  # a server that sends nothing for this long is taken as gone
DOWNLOAD_STEP = 0.1  # progress is said at each tenth of the file (each 10 MiB, size unknown)


class _Stopped(Exception):
    pass


class _Failed(Exception):
    """A download that did not arrive whole; its reason."""


def download_weights(
    wanted: WeightsFile,
    class_name: str,
    say: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Path:
    """Download `wanted` into Keras's cache, where Keras's own loader finds it, saying how far
    it got (`say`) and leaving off when `should_stop()`. Not Keras's `get_file`, which draws
    its progress bar on the terminal and cannot be stopped; the same file, origin and hash.
    Nothing is kept of a download that fails, is stopped or does not match its hash."""
    import urllib.request

    from keras.src.utils.file_utils import validate_file  # Keras's own hash check

    target = wanted.cached_path
    say = say or (lambda _text: None)
    say(f"Downloading the ImageNet weights of {class_name} ({wanted.fname})…")
    try:
        with fileio.staged(target, suffix=".h5") as part:
            try:
                with urllib.request.urlopen(wanted.origin, timeout=DOWNLOAD_TIMEOUT_S) as response:
                    total = int(response.headers.get("Content-Length") or 0)
                    _copy(response, part, total, class_name, say, should_stop)
            except (OSError, ValueError) as exc:  # offline, refused, cut off, a full disk
                raise _Failed(" ".join(str(exc).split())[:120] or type(exc).__name__) from None
            if wanted.file_hash and not validate_file(str(part), wanted.file_hash):
                raise BackboneError(
                    f"The ImageNet weights of {class_name} downloaded from {wanted.origin} do "
                    "not match the hash Keras records for them, so nothing was kept: try "
                    "again, pick a .weights.h5 file, or choose weights 'none'."
                )
    except _Stopped:
        raise BackboneError(
            f"The download of {class_name}'s ImageNet weights was stopped; nothing was kept."
        ) from None
    except _Failed as exc:
        raise BackboneError(
            f"The ImageNet weights of {class_name} are not in Keras's cache "
            f"({target}) and could not be downloaded ({exc}): connect to the "
            "internet once, pick a .weights.h5 file, or choose weights 'none'."
        ) from None
    except fileio.WriteError as exc:  # Keras's cache folder cannot be written
        raise BackboneError(f"The ImageNet weights of {class_name} cannot be kept: {exc}") from None
    say(
        f"Downloaded the ImageNet weights of {class_name} ({fileio.amount(target.stat().st_size)})."
    )
    return target


def _copy(response, part: Path, total: int, class_name: str, say, should_stop) -> None:
    step = int(total * DOWNLOAD_STEP) if total else 10 * fileio.MiB
    done, next_said = 0, step
    with open(part, "wb") as out:
        while chunk := response.read(DOWNLOAD_CHUNK):
            if should_stop():
                raise _Stopped
            out.write(chunk)
            done += len(chunk)
            if done >= next_said and (not total or done < total):
                of = f" of {fileio.amount(total)} ({100 * done // total}%)" if total else ""
                say(f"Downloading the ImageNet weights of {class_name}: "
                    f"{fileio.amount(done)}{of}…")  # fmt: skip
                next_said = done - done % step + step
        if total and done != total:
            raise OSError(f"the server sent {done} of {total} bytes")


_cached_lookups: dict[tuple, WeightsFile | None] = {}


def looked_up_weights_file(node, input_shape) -> WeightsFile | None:
    """`weights_file` for a backbone node fed `input_shape` (batch axis first), asked of Keras
    once per family, include_top and size (asking builds the family's network); None where
    Keras offers no ImageNet weights as set."""
    include_top = bool(node.config.get("include_top", False))
    key = (node.class_name, include_top, tuple(input_shape[1:]))
    if key not in _cached_lookups:
        try:
            _cached_lookups[key] = weights_file(node.class_name, include_top, key[2])
        except Exception:  # noqa: BLE001 - Keras offers none as set: training will say so
            _cached_lookups[key] = None
    return _cached_lookups[key]


def weights_warnings(node, input_shape) -> list[str]:
    """What shape inference says about a backbone's weights before any training: ImageNet
    weights that Keras's cache does not hold yet, or a weights file that is not there."""
    weights = node.config.get("weights", "imagenet")
    if weights == "none":
        return []
    if weights != "imagenet":
        if not Path(weights).expanduser().is_file():
            return [f"{node.name}: its weights file {weights} does not exist."]
        return []
    wanted = looked_up_weights_file(node, input_shape)
    if wanted is None:
        return [f"{node.name}: Keras has no ImageNet weights for {node.class_name} as set."]
    if wanted.cached_path.is_file():
        return []
    return [
        f"{node.name}: its ImageNet weights are not in Keras's cache yet "
        f"({wanted.cached_path}); the first training downloads them. Offline, choose weights "
        "'none' or a .weights.h5 file."
    ]
