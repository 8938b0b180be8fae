"""Keras's downloadable data sets, through Keras's own loading code (cached in ~/.keras after the
first download). Images become float32 pixel values 0-255 with a channel axis (the model rescales
them); imdb reviews become
integer sequences padded to "maxlen" (default 200) with "num_words" (default 10000)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from deepgui.core.data.base import LoadedData
from deepgui.core.data.preprocessing import array_preprocessing
from deepgui.core.data.split import split_indices
from deepgui.core.errors import DatasetError
from deepgui.core.keras_layers import keras

if TYPE_CHECKING:
    from deepgui.core.data.spec import DataSpec, KerasOptions

KERAS_SETS = {
    "mnist": (
        "handwritten digits, 70000 grey 28x28 images, 10 classes",
        [str(i) for i in range(10)],
    ),
    "fashion_mnist": (
        "clothing, 70000 grey 28x28 images, 10 classes",
        [
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ],
    ),
    "cifar10": (
        "small photos, 60000 colour 32x32 images, 10 classes",
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    ),
    "imdb": (
        "movie reviews as word indices, 50000 reviews, positive or negative",
        ["negative", "positive"],
    ),
}


def load_keras_set(spec: DataSpec, opts: KerasOptions, *, standardize: bool = True) -> LoadedData:
    name = opts.name
    k = keras()
    try:
        if name == "imdb":
            (x_tr, y_tr), (x_te, y_te) = k.datasets.imdb.load_data(num_words=opts.num_words)
        else:
            (x_tr, y_tr), (x_te, y_te) = getattr(k.datasets, name).load_data()
    except Exception as exc:  # noqa: BLE001 - urllib, HTTP and file errors all mean the same here
        raise DatasetError(
            f"The Keras data set {name!r} could not be downloaded (no internet connection?): "
            f"{type(exc).__name__}: {exc}. Connect once to download it, or choose a built-in data set."
        ) from None
    if name == "imdb":
        x_tr = k.utils.pad_sequences(x_tr, maxlen=opts.maxlen).astype(np.int32)
        x_te = k.utils.pad_sequences(x_te, maxlen=opts.maxlen).astype(np.int32)
        extras: dict[str, Any] = {"vocabulary_size": opts.num_words}
        pre = array_preprocessing(x_tr.shape[1:], "x", dtype="int32")
    else:
        x_tr = _images(x_tr)
        x_te = _images(x_te)
        extras = {}
        h, w, c = x_tr.shape[1:]
        pre = array_preprocessing(
            x_tr.shape[1:],
            "image",
            scale=1 / 255 if standardize else None,
            image={"height": h, "width": w, "color_mode": "rgb" if c == 3 else "grayscale"},
        )
    y_tr = np.asarray(y_tr).reshape(-1).astype(np.int32)
    y_te = np.asarray(y_te).reshape(-1).astype(np.int32)
    # Keras's own test split is kept as the test set; validation comes from the training part.
    tr, va, _ = split_indices(
        len(x_tr),
        spec.validation_split,
        0.0,
        shuffle=spec.shuffle,
        seed=spec.seed,
        labels=y_tr,
        what=name,
    )
    text, classes = KERAS_SETS[name]
    return LoadedData(
        x_tr[tr],
        y_tr[tr],
        x_tr[va],
        y_tr[va],
        x_te,
        y_te,
        task="binary" if len(classes) == 2 else "multiclass",
        class_names=classes,
        description=f"{name}: {text}",
        extras=extras,
        preprocessing=pre,
        # No file to read them back from: the split names Keras's set and its parts' rows.
        split={
            "of": "samples",
            "train": {"keras": name, "key": "train", "rows": tr},
            "validation": {"keras": name, "key": "train", "rows": va},
            "test": {"keras": name, "key": "test", "rows": np.arange(len(y_te))},
        },
    )


def _images(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    return x[..., None] if x.ndim == 3 else x
