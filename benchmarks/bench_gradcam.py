"""Grad-CAM per image: deepgui.core.explain.grad_cam against a plain tf.GradientTape version.

    .venv/bin/python benchmarks/bench_gradcam.py [--size 64] [--images 32] [--repeats 2]

The plain version is the keras.io recipe written by hand on the same model: a probe model
outputting the last convolution's maps and the predictions, the tape's gradient of the
predicted class, channel weights by mean gradient, ReLU, resized to the input and divided by
its maximum (the same output as grad_cam). Each image is explained alone, as a user clicks one.
Order A-B-B-A `--repeats` times; medians; the ratio is plain/deepgui seconds per image (aim
>= 0.9).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from deepgui.core.explain import grad_cam, last_conv_layer  # noqa: E402
from deepgui.core.keras_layers import keras  # noqa: E402


def _model(size: int):
    k = keras()
    x = inputs = k.Input((size, size, 3))
    for filters in (32, 64):
        x = k.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = k.layers.MaxPooling2D()(x)
    x = k.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = k.layers.GlobalAveragePooling2D()(x)
    return k.Model(inputs, k.layers.Dense(10, activation="softmax")(x))


def _plain(model):
    import tensorflow as tf

    conv = last_conv_layer(model)
    probe = keras().Model(model.inputs, [conv.output, model.output])

    def heat_map(image):
        with tf.GradientTape() as tape:
            maps, out = probe(image, training=False)
            score = tf.gather(out, tf.argmax(out, axis=-1), axis=1, batch_dims=1)
        grads = tape.gradient(score, maps)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        heat = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1))[..., None]
        heat = tf.image.resize(heat, image.shape[1:3])[..., 0]
        top = tf.reduce_max(heat, axis=(1, 2), keepdims=True)
        return np.asarray(tf.math.divide_no_nan(heat, top))

    return heat_map


def _seconds_per_image(explain, images) -> float:
    start = time.perf_counter()
    for image in images:
        explain(image[None])
    return (time.perf_counter() - start) / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    model = _model(args.size)
    images = np.random.default_rng(0).random((args.images, args.size, args.size, 3), np.float32)
    plain = _plain(model)

    def ours(image):
        return grad_cam(model, image)

    same = np.abs(ours(images[:1]) - plain(images[:1])).max()
    print(f"largest difference between the two heat maps: {same:.2e}")
    for explain in (plain, ours):  # warm-up: traces and kernels
        _seconds_per_image(explain, images[:4])
    times = {"plain": [], "deepgui": []}
    for _ in range(args.repeats):
        for name in ("plain", "deepgui", "deepgui", "plain"):
            times[name].append(_seconds_per_image(plain if name == "plain" else ours, images))
    plain_s, ours_s = statistics.median(times["plain"]), statistics.median(times["deepgui"])
    print(f"plain tf.GradientTape: {plain_s * 1000:.2f} ms per image")
    print(f"deepgui grad_cam:      {ours_s * 1000:.2f} ms per image")
    print(f"ratio (plain/deepgui, aim >= 0.9): {plain_s / ours_s:.2f}")


if __name__ == "__main__":
    main()
