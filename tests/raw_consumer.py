"""Uses deepgui's exports the way a person would without deepgui: reads the raw CSV or image
files with the standard library, NumPy and PIL, reads the signature JSON beside each artefact,
and runs each artefact in its own runtime (Keras, TensorFlow's SavedModel loader, LiteRT,
onnxruntime). Importing deepgui is blocked here, so nothing of it can help.

    python raw_consumer.py DATA (CSV or image folder) ARTEFACT [ARTEFACT ...]

prints one JSON object: {artefact: accuracy against the labels in DATA}.
"""

from __future__ import annotations

import csv
import json
import re
import string
import sys
from pathlib import Path


class _NoDeepgui:
    def find_spec(self, name, path=None, target=None):
        if name == "deepgui" or name.startswith("deepgui."):
            raise ImportError("deepgui is not available to this consumer")
        return None


sys.meta_path.insert(0, _NoDeepgui())

import numpy as np  # noqa: E402

MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}


def signature_of(artefact: Path) -> dict:
    return json.loads((artefact.parent / f"{artefact.name}.signature.json").read_text("utf-8"))


def read_table(path: Path, sig: dict) -> tuple[dict[str, np.ndarray], list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    target = sig["preprocessing"]["target"]
    feed = {}
    for spec in sig["inputs"]:
        cells = [row[spec["column"]].strip() for row in rows]
        if spec["dtype"] == "float32":
            values = [np.nan if c.lower() in MISSING else float(c) for c in cells]
            feed[spec["name"]] = np.array(values, np.float32)[:, None]
        elif spec["dtype"] == "string":
            feed[spec["name"]] = np.array(cells, dtype=object)[:, None]
        else:  # a string column that this format takes as numbers: the vocabulary says how
            feed[spec["name"]] = encode(cells, sig["vocabularies"][spec["column"]], spec["shape"])
    return feed, [row[target] for row in rows]


def encode(cells: list[str], vocab: dict, shape: list) -> np.ndarray:
    words = {w: i for i, w in enumerate(vocab["values"])}
    if shape[1] == 1:  # a category: position + 1, 0 for missing or unseen
        return np.array([[words[c] + 1 if c in words else 0] for c in cells], np.int32)
    length = shape[1]  # a text: lower-case, no punctuation, split; position + 2, 1 unknown
    out = np.zeros((len(cells), length), np.int32)
    for i, text in enumerate(cells):
        tokens = re.sub(f"[{re.escape(string.punctuation)}]", "", text.lower()).split()
        ids = [words[t] + 2 if t in words else 1 for t in tokens][:length]
        out[i, : len(ids)] = ids
    return out


def read_images(folder: Path, sig: dict) -> tuple[np.ndarray, list[str]]:
    from PIL import Image

    image = sig["preprocessing"]["image"]
    mode = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}[image["color_mode"]]
    xs, labels = [], []
    for class_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for f in sorted(class_dir.iterdir()):
            img = Image.open(f).convert(mode).resize((image["width"], image["height"]))
            arr = np.asarray(img, dtype=np.float32)
            xs.append(arr[..., None] if arr.ndim == 2 else arr)
            labels.append(class_dir.name)
    return np.stack(xs), labels


def run(artefact: Path, feed) -> np.ndarray:
    suffix = artefact.suffix
    if suffix == ".keras":
        import keras

        model = keras.saving.load_model(artefact, compile=False)
        return np.asarray(model(feed, training=False))
    if artefact.is_dir():
        import tensorflow as tf

        loaded = tf.saved_model.load(str(artefact))
        args = {k: tf.constant(v) for k, v in feed.items()} if isinstance(feed, dict) else feed
        return np.asarray(loaded.serve(args))
    if suffix == ".tflite":
        from ai_edge_litert.interpreter import Interpreter

        runner = Interpreter(model_path=str(artefact)).get_signature_runner()
        names = sorted(runner.get_input_details())
        feed = feed if isinstance(feed, dict) else {names[0]: feed}
        out = runner(**{k: np.ascontiguousarray(v) for k, v in feed.items()})
        return np.asarray(next(iter(out.values())))
    import onnxruntime as ort

    session = ort.InferenceSession(str(artefact), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feed = feed if isinstance(feed, dict) else {names[0]: feed}
    return np.asarray(session.run(None, {n: feed[n] for n in names})[0])


def accuracy(artefact: Path, data: Path) -> float:
    sig = signature_of(artefact)
    if data.is_dir():
        feed, labels = read_images(data, sig)
    else:
        feed, labels = read_table(data, sig)
    probs = run(artefact, feed)
    classes = sig["classes"]
    if probs.shape[1] == 1:
        predicted = [classes[int(p >= 0.5)] for p in probs[:, 0]]
    else:
        predicted = [classes[i] for i in probs.argmax(axis=1)]
    return float(np.mean([p == t for p, t in zip(predicted, labels, strict=True)]))


def main(argv: list[str]) -> None:
    data = Path(argv[0])
    print(json.dumps({a: accuracy(Path(a), data) for a in argv[1:]}))


if __name__ == "__main__":
    main(sys.argv[1:])
