"""A backbone's ImageNet weights missing from Keras's cache are downloaded while the run is
planned, before any engine builds the model, saying how far they got; a stopped run stops the
download, and a download that fails or does not match Keras's hash keeps nothing. The origin is
a server on this machine's loopback serving a real MobileNetV3Small weights file."""

from __future__ import annotations

import hashlib
import http.server
import threading

import numpy as np
import pytest

from deepgui.core import backbones
from deepgui.core.build import build_model
from deepgui.core.project import Project
from deepgui.core.training.engine import TrainingListener
from deepgui.core.training.run import Run, RunRequest
from deepgui.core.training.weights_fetch import fetch_imagenet_weights, missing_imagenet_weights
from tests.test_start_from_existing import palette_backbone

SIZE = 64


class _Files(http.server.BaseHTTPRequestHandler):
    served: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802 - http.server's name
        body = self.served.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None: ...


@pytest.fixture(scope="module")
def weights_bytes(tmp_path_factory):
    """A MobileNetV3Small's weights (random, as offline), saved as Keras saves them."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.applications.MobileNetV3Small(
        include_top=False, weights=None, input_shape=(SIZE, SIZE, 3)
    )
    path = tmp_path_factory.mktemp("weights") / "reference.weights.h5"
    model.save_weights(path)
    return path.read_bytes(), [w.numpy() for w in model.weights]


@pytest.fixture
def origin(tmp_path, monkeypatch, weights_bytes):
    """Keras's cache in a fresh folder, and Keras's record of the file pointing at a loopback
    server; (the served files by path, the server's address, the file Keras wants)."""
    from keras.src.backend import config

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras_home"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    data = weights_bytes[0]
    _Files.served = {"/weights.h5": data}
    real = backbones.weights_file("MobileNetV3Small", False, (SIZE, SIZE, 3))
    wanted = backbones.WeightsFile(real.fname, f"{address}/weights.h5",
                                   hashlib.sha256(data).hexdigest(), real.cache_subdir)  # fmt: skip
    monkeypatch.setattr(backbones, "weights_file", lambda *_args: wanted)
    monkeypatch.setattr(backbones, "_cached_lookups", {})  # none kept from Keras's own record
    yield _Files.served, address, wanted
    server.shutdown()
    server.server_close()


def _cache_listing(wanted) -> list[str]:
    folder = wanted.cached_path.parent
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_missing_weights_download_with_their_progress_and_keras_loads_them(
    origin, weights_bytes, monkeypatch
):
    _, _, wanted = origin
    monkeypatch.setattr(backbones, "DOWNLOAD_CHUNK", 64 * 1024)
    graph = palette_backbone("MobileNetV3Small", weights="imagenet", size=SIZE)
    assert [c for c, _ in missing_imagenet_weights(graph)] == ["MobileNetV3Small"]
    said: list[str] = []
    fetch_imagenet_weights(graph, said.append, lambda: False)

    assert wanted.cached_path.read_bytes() == weights_bytes[0]
    assert _cache_listing(wanted) == [wanted.fname]  # no temporary left beside it
    assert said[0] == f"Downloading the ImageNet weights of MobileNetV3Small ({wanted.fname})…"
    assert said[-1].startswith("Downloaded the ImageNet weights of MobileNetV3Small (")
    percents = [int(s.rsplit("(", 1)[1].split("%")[0]) for s in said[1:-1]]
    assert len(percents) >= 5 and percents == sorted(percents) and percents[-1] < 100
    assert missing_imagenet_weights(graph) == []  # cached now: nothing to fetch again
    # Keras's loader takes the file as its own.
    block = build_model(graph).get_layer("mobilenetv3small")
    for mine, theirs in zip(block.weights, weights_bytes[1], strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs)


def test_a_runs_planning_downloads_before_any_engine_and_a_stop_keeps_nothing(origin, tmp_path):
    from PIL import Image

    _, _, wanted = origin
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs", "fish"):
        (tmp_path / "images" / name).mkdir(parents=True)
        for i in range(3):
            pixels = rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "images" / name / f"{i}.png")
    graph = palette_backbone("MobileNetV3Small", weights="imagenet", size=SIZE)
    project = Project(graph=graph, training={"epochs": 1, "engine": "tensorflow"})

    class Heard(TrainingListener):
        def __init__(self) -> None:
            self.downloads: list[str] = []

        def downloading(self, text: str) -> None:
            self.downloads.append(text)

    # Stopped while planning: the download stops, the run starts nothing, the cache is as it was.
    stopped = Run(project, RunRequest(out=tmp_path / "stopped", data=str(tmp_path / "images")))
    stopped.stop()
    with pytest.raises(backbones.BackboneError) as refused:
        stopped.plan(Heard())
    assert str(refused.value) == (
        "The download of MobileNetV3Small's ImageNet weights was stopped; nothing was kept."
    )
    assert _cache_listing(wanted) == [] and not (tmp_path / "stopped").exists()

    heard = Heard()
    run = Run(project, RunRequest(out=tmp_path / "run", data=str(tmp_path / "images"))).plan(heard)
    try:
        assert run.engine is None  # planned, not trained: the file came first
        assert heard.downloads[0].startswith("Downloading the ImageNet weights")
        assert heard.downloads[-1].startswith("Downloaded the ImageNet weights")
        assert wanted.cached_path.is_file()
    finally:
        run.release()


def test_a_download_that_does_not_match_or_cannot_be_made_keeps_nothing(origin):
    served, address, wanted = origin
    graph = palette_backbone("MobileNetV3Small", weights="imagenet", size=SIZE)
    served["/weights.h5"] = served["/weights.h5"][:-10] + b"0123456789"  # changed on the way
    with pytest.raises(backbones.BackboneError) as mismatch:
        fetch_imagenet_weights(graph, lambda _text: None, lambda: False)
    assert str(mismatch.value) == (
        f"The ImageNet weights of MobileNetV3Small downloaded from {wanted.origin} do not "
        "match the hash Keras records for them, so nothing was kept: try again, pick a "
        ".weights.h5 file, or choose weights 'none'."
    )
    assert _cache_listing(wanted) == []

    del served["/weights.h5"]  # the server answers 404
    with pytest.raises(backbones.BackboneError) as gone:
        fetch_imagenet_weights(graph, lambda _text: None, lambda: False)
    message = str(gone.value)
    assert message.startswith("The ImageNet weights of MobileNetV3Small are not in Keras's cache")
    assert "404" in message and message.endswith("or choose weights 'none'.")
    assert "\n" not in message and _cache_listing(wanted) == []


def test_the_command_lines_quiet_planning_says_a_downloads_progress():
    import io

    from deepgui.train_cli import ProgressPrinter, _DownloadsSaid

    err = io.StringIO()
    heard = _DownloadsSaid(ProgressPrinter(err))
    heard.waiting("Loading data…")  # planning stays quiet
    heard.downloading("Downloading the ImageNet weights of MobileNetV3Small: 1.0 MiB…")
    assert err.getvalue() == "Downloading the ImageNet weights of MobileNetV3Small: 1.0 MiB…\n"
