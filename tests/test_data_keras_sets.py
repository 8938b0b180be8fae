"""Keras's downloadable sets: the real loading code, a clear message when offline."""

import urllib.error

import pytest

from deepgui.core.data import load_dataset, preview
from deepgui.core.errors import DatasetError


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No cached copy and every download fails, whatever the machine's network."""
    import keras.src.backend.config as config
    import keras.src.utils.file_utils as file_utils

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path))
    monkeypatch.setattr(file_utils, "urlretrieve", refuse)


@pytest.mark.parametrize("name", ["mnist", "imdb"])
def test_offline_message(offline, name):
    with pytest.raises(
        DatasetError,
        match=rf"The Keras data set '{name}' could not be downloaded \(no internet connection\?\).*choose a built-in data set",
    ):
        load_dataset({"source": "keras", "name": name})


def test_unknown_keras_set():
    with pytest.raises(
        DatasetError, match="the Keras data sets are mnist, fashion_mnist, cifar10, imdb"
    ):
        load_dataset({"source": "keras", "name": "svhn"})


def test_preview_does_not_download(offline):
    info = preview({"source": "keras", "name": "cifar10"})
    assert info["kind"] == "keras" and info["class_names"][0] == "airplane"
