"""A folder of images with one subfolder per class, read as
``keras.utils.image_dataset_from_directory`` reads one (the same decoding and resizing, the same
file order) and materialized to float32 arrays of raw pixel values 0-255. The model divides by 255 itself (a Rescaling layer, see preprocessing.py) unless
"rescale" is false or the network starts with its own Rescaling or Normalization.

Options (spec.ImageOptions): "image_size" [height, width] (default: the model's input, else the
first image's size), "color_mode" "grayscale" | "rgb" | "rgba" (default: the model's channels,
else the first image's), "rescale" (default true)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from deepgui.core import fileio
from deepgui.core.data.base import LoadedData
from deepgui.core.data.preprocessing import array_preprocessing
from deepgui.core.data.spec import IMAGE_SUFFIXES
from deepgui.core.data.split import split_indices
from deepgui.core.errors import DatasetError

if TYPE_CHECKING:
    from deepgui.core.data.spec import DataSpec, ImageOptions

_MODES = {1: "grayscale", 3: "rgb", 4: "rgba"}


def class_folders(root: Path, min_classes: int = 2) -> dict[str, list[str]]:
    """Image files per class subfolder, in the order Keras lists them; DatasetError when the
    folder is not laid out as one subfolder per class. A class is named by its folder as it is
    (dots, quotes, a leading dot and all). Only regular files are taken: a device or a pipe
    named like an image would hang the reader. Plain strings and os.walk: a folder of 10,000
    images is listed in milliseconds, where pathlib takes a good part of a second."""
    if not root.is_dir():
        raise DatasetError(
            f"{root}: is not a folder; an image data set is a folder with one subfolder per class."
        )
    classes = {}
    try:
        with os.scandir(root) as entries:
            subfolders = sorted(e.name for e in entries if e.is_dir())
    except OSError as exc:
        raise DatasetError(f"{root}: cannot be read: {fileio.why(exc)}.") from None
    for name in subfolders:
        files = []
        walked = sorted(os.walk(os.path.join(root, name)), key=lambda entry: entry[0])
        for folder, _, names in walked:
            for n in sorted(names):
                path = os.path.join(folder, n)
                if n.lower().endswith(IMAGE_SUFFIXES) and os.path.isfile(path):
                    files.append(path)
        if files:
            classes[name] = files
    if not classes:
        loose = any(f.suffix.lower() in IMAGE_SUFFIXES for f in root.iterdir())
        hint = (
            " (the images lie in the folder itself: move them into one subfolder per class)"
            if loose
            else ""
        )
        raise DatasetError(
            f"{root}: has no class subfolders with images{hint}; expected for example "
            f"{root.name}/cats/1.png and {root.name}/dogs/1.png (png, jpg, gif or bmp)."
        )
    if len(classes) < min_classes:
        raise DatasetError(
            f"{root}: has images for one class only ({next(iter(classes))!r}); a classifier needs at least two class subfolders."
        )
    return classes


# Pixels one image may have: decoding takes width x height x channels bytes at once, whatever
# size it is resized to afterwards (a small PNG can claim 50,000 x 50,000).
MAX_PIXELS = 10**8


def check_dimensions(classes: dict[str, list[str]]) -> None:
    """DatasetError naming the first image whose header claims more than MAX_PIXELS, read from
    the headers alone before anything is decoded. Files without a readable header are left to
    the decoder, which names them."""
    try:
        from PIL import Image  # Pillow: imported when an image is read
    except ImportError:  # pragma: no cover - Pillow comes with Keras's image utilities
        return
    for files in classes.values():
        for f in files:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with Image.open(f) as image:
                        width, height = image.size
            except Image.DecompressionBombError:
                width = height = MAX_PIXELS
            except Exception:  # noqa: BLE001 - not an image PIL reads: the decoder will say
                continue
            if width * height > MAX_PIXELS:
                raise DatasetError(
                    f"{f}: claims {width}x{height} pixels, more than deepgui decodes "
                    f"({MAX_PIXELS:,} pixels); make it smaller or leave it out."
                )


def _find_undecodable(classes: dict[str, list[str]]) -> str | None:
    """The first file TensorFlow cannot decode: its own error does not say which (only looked
    for after a failure, so a good folder is not read twice)."""
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    for files in classes.values():
        for f in files:
            try:
                tf.io.decode_image(tf.io.read_file(str(f)), expand_animations=False)
            except Exception:  # noqa: BLE001 - any decode failure names this file
                return f
    return None


def _first_image_shape(path: str) -> tuple[int, int, int]:
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    try:
        shape = tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False).shape
    except Exception:  # noqa: BLE001
        raise DatasetError(
            f"{path}: is not a readable image (empty or corrupt); delete or replace it."
        ) from None
    return int(shape[0]), int(shape[1]), int(shape[2])


def image_settings(
    opts: ImageOptions, classes: dict[str, list[str]], input_shape=None
) -> tuple[tuple[int, int], str]:
    """The size and colour mode to read at: the options' own (checked when the spec was read),
    else what the model's Input takes, else the first image's."""
    size, mode = opts.image_size, opts.color_mode
    shape = tuple(input_shape) if input_shape is not None else None
    if shape is not None and len(shape) == 3:
        if size is None and shape[0] and shape[1]:
            size = (int(shape[0]), int(shape[1]))
        if mode is None and shape[2] in _MODES:
            mode = _MODES[shape[2]]
    if size is None or mode is None:
        h, w, c = _first_image_shape(next(iter(classes.values()))[0])
        size = size or (h, w)
        mode = mode or ("grayscale" if c == 1 else "rgb")
    return size, mode


def _amount(size: int) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"


def memory_budget() -> int:
    """Bytes the images may take: half the physical memory (the model and training need the
    rest)."""
    return fileio.memory_budget()


def load_image_folder(
    spec: DataSpec, opts: ImageOptions, input_shape=None, *, standardize: bool = True
) -> LoadedData:
    """The size and colour mode used are in `extras` ("image_size", "color_mode"), for the run
    to record."""
    root = opts.path
    classes = class_folders(root)
    check_dimensions(classes)  # before the first image is decoded to learn its size
    size, mode = image_settings(opts, classes, input_shape)
    names = list(classes)
    others = {}
    for key, other in (("val", opts.validation_path), ("test", opts.test_path)):
        if other is not None:
            found = class_folders(other, min_classes=1)  # a held-out set may lack a class
            unknown = [c for c in found if c not in classes]
            if unknown:
                raise DatasetError(
                    f"{other}: has the class folder {unknown[0]!r}, which {root} lacks; "
                    "both need the same class subfolders."
                )
            others[key] = (other, found)
    count = sum(len(f) for c in [classes, *(f for _, f in others.values())] for f in c.values())
    needed = count * size[0] * size[1] * {"grayscale": 1, "rgb": 3, "rgba": 4}[mode] * 4
    if needed > memory_budget():
        raise DatasetError(
            f"{root}: {count} images of {size[0]}x{size[1]} {mode} would take {_amount(needed)} "
            f"in memory, more than this computer can spare; choose a smaller image_size."
        )
    for _, found in others.values():
        check_dimensions(found)
    x, y = _read(root, classes, size, mode, names)
    val_frac = 0.0 if "val" in others else spec.validation_split
    test_frac = 0.0 if "test" in others else spec.test_split
    tr, va, te = split_indices(
        len(x), val_frac, test_frac, shuffle=spec.shuffle, seed=spec.seed,
        labels=y if spec.shuffle else None, what=str(root),
    )  # fmt: skip
    parts = {"val": (x[va], y[va]), "test": (x[te], y[te])}
    for key, (other, found) in others.items():
        parts[key] = _read(other, found, size, mode, names)
    (x_va, y_va), (x_te, y_te) = parts["val"], parts["test"]
    task = "binary" if len(names) == 2 else "multiclass"
    files = np.array(_inside(root, classes), dtype=object)
    split = {"of": "files", "train": {"path": str(root), "files": list(files[tr])},
             "validation": {"path": str(root), "files": list(files[va])},
             "test": {"path": str(root), "files": list(files[te])}}  # fmt: skip
    for key, (other, found) in others.items():
        split["validation" if key == "val" else "test"] = {"path": str(other),
                                                           "files": _inside(other, found)}  # fmt: skip
    return LoadedData(
        x[tr],
        y[tr],
        x_va,
        y_va,
        x_te,
        y_te,
        task=task,
        class_names=names,
        description=f"{root.name}: {count} images of {size[0]}x{size[1]} {mode}, {len(names)} classes",
        extras={"image_size": list(size), "color_mode": mode},
        preprocessing=array_preprocessing(
            x.shape[1:],
            "image",
            scale=1 / 255 if standardize and opts.rescale else None,
            image={"height": size[0], "width": size[1], "color_mode": mode},
        ),
        split=split,
    )


def _inside(root: Path, classes: dict[str, list[str]]) -> list[str]:
    """Each image's path inside `root` ("cat/1.png"), in the order `_read` reads them."""
    return [Path(os.path.relpath(f, root)).as_posix() for fs in classes.values() for f in fs]


def _read(root: Path, classes: dict[str, list[str]], size, mode: str, names: list[str]):
    """All images under `root` as float32 (n, h, w, c) pixel values, labels indexed into `names`.

    The files listed by class_folders, decoded and resized as Keras's
    image_dataset_from_directory does; a GIF (TensorFlow decodes GIFs only as RGB) is decoded
    as RGB and then converted to the colour mode asked for, its first frame if animated."""
    import tensorflow as tf  # TensorFlow (seconds): imported when used

    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[mode]
    paths = [f for files in classes.values() for f in files]
    labels = [i for i, files in enumerate(classes.values()) for _ in files]

    def load(path):
        raw = tf.io.read_file(path)

        def gif():
            image = tf.io.decode_image(raw, channels=3, expand_animations=False)
            if channels == 1:
                return tf.image.rgb_to_grayscale(image)
            if channels == 4:
                return tf.concat(
                    [image, tf.fill(tf.shape(image[..., :1]), tf.constant(255, image.dtype))], -1
                )
            return image

        def other():
            return tf.io.decode_image(raw, channels=channels, expand_animations=False)

        image = tf.cond(tf.equal(tf.strings.substr(raw, 0, 3), "GIF"), gif, other)
        image = tf.image.resize(image, size, method="bilinear")
        image.set_shape((size[0], size[1], channels))
        return image

    try:
        ds = tf.data.Dataset.from_tensor_slices(paths).map(
            load, num_parallel_calls=tf.data.AUTOTUNE
        )
        ds = ds.batch(512)
        xs = list(ds.as_numpy_iterator())
    except Exception as exc:  # noqa: BLE001 - TensorFlow's decode errors do not name the file
        bad = _find_undecodable(classes)
        if bad is not None:
            raise DatasetError(
                f"{bad}: is not a readable image (corrupt or truncated); delete or replace it."
            ) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatasetError(f"{root}: the images could not be read ({first[:200]}).") from None
    x = np.concatenate(xs).astype(np.float32, copy=False)
    # This folder's own class order, mapped onto the training folder's.
    remap = np.array([names.index(c) for c in classes], dtype=np.int32)
    return x, remap[np.asarray(labels, dtype=np.int64)]
