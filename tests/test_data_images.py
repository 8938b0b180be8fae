"""Image folders: one subfolder per class, any size, resized, grayscale or RGB."""

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from deepgui.core.data import load_dataset, preview
from deepgui.core.errors import DatasetError


def write_png(path: Path, pixels: np.ndarray) -> None:
    """A minimal PNG encoder (8-bit grey or RGB), so tests need no imaging library."""
    h, w = pixels.shape[:2]
    color = 2 if pixels.ndim == 3 else 0
    raw = b"".join(b"\x00" + pixels[r].astype(np.uint8).tobytes() for r in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def shapes(tmp_path: Path) -> Path:
    """Bright and dark images of mixed sizes, 6 per class."""
    rng = np.random.default_rng(0)
    root = tmp_path / "shapes"
    for i in range(6):
        size = (10 + i, 12 + 2 * i)
        write_png(root / "bright" / f"{i}.png", rng.integers(200, 256, size=(*size, 3)))
        write_png(root / "dark" / f"{i}.png", rng.integers(0, 50, size=(*size, 3)))
    return root


def test_folder_loads_resized_and_scaled(shapes: Path):
    data = load_dataset(
        {
            "source": "image_folder",
            "path": "shapes",
            "image_size": [16, 16],
            "validation_split": 0.25,
        },
        shapes.parent,
    )
    assert data.class_names == ["bright", "dark"] and data.task == "binary"
    assert data.x_train.shape == (9, 16, 16, 3) and data.x_val.shape == (3, 16, 16, 3)
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    bright = data.x_train[data.y_train == 0].mean()
    dark = data.x_train[data.y_train == 1].mean()
    assert bright > 0.75 and dark < 0.2
    assert data.spec["image_size"] == [16, 16] and data.spec["color_mode"] == "rgb"


def test_size_and_mode_follow_the_model_input(shapes: Path):
    data = load_dataset({"source": "image_folder", "path": str(shapes)}, input_shape=(8, 8, 1))
    assert data.sample_shape == (8, 8, 1)
    default = load_dataset({"source": "image_folder", "path": str(shapes)})
    assert default.sample_shape == (10, 12, 3)  # the first image's size


def test_reproducible_split(shapes: Path):
    spec = {"source": "image_folder", "path": str(shapes), "image_size": [8, 8], "seed": 5}
    a, b = load_dataset(spec), load_dataset(spec)
    assert np.array_equal(a.x_val, b.x_val) and np.array_equal(a.y_train, b.y_train)


def test_empty_folder(tmp_path: Path):
    (tmp_path / "empty" / "cats").mkdir(parents=True)
    with pytest.raises(DatasetError, match="has no class subfolders with images"):
        load_dataset({"source": "image_folder", "path": str(tmp_path / "empty")})


def test_loose_images_get_a_hint(tmp_path: Path):
    write_png(tmp_path / "flat" / "a.png", np.zeros((4, 4)))
    with pytest.raises(DatasetError, match="move them into one subfolder per class"):
        load_dataset({"source": "image_folder", "path": str(tmp_path / "flat")})


def test_one_class_only(tmp_path: Path):
    write_png(tmp_path / "one" / "cats" / "a.png", np.zeros((4, 4)))
    with pytest.raises(DatasetError, match="one class only"):
        load_dataset({"source": "image_folder", "path": str(tmp_path / "one")})


def test_corrupt_file_named(shapes: Path):
    bad = shapes / "dark" / "broken.png"
    bad.write_bytes(b"this is not an image")
    with pytest.raises(DatasetError, match=r"broken.png: is not a readable image"):
        load_dataset({"source": "image_folder", "path": str(shapes), "image_size": [8, 8]})


def test_truncated_file_named(shapes: Path):
    good = (shapes / "dark" / "0.png").read_bytes()
    (shapes / "dark" / "cut.png").write_bytes(good[:40])
    with pytest.raises(DatasetError, match=r"cut.png: is not a readable image"):
        load_dataset({"source": "image_folder", "path": str(shapes), "image_size": [8, 8]})


def test_missing_folder(tmp_path: Path):
    with pytest.raises(DatasetError, match="no such file or folder"):
        load_dataset({"source": "image_folder", "path": "gone"}, tmp_path)


def test_preview_lists_files_per_class(shapes: Path):
    info = preview({"source": "image_folder", "path": str(shapes)}, rows=2)
    assert info["kind"] == "images" and info["counts"] == {"bright": 6, "dark": 6}
    assert len(info["files"]["dark"]) == 2 and info["files"]["dark"][0].endswith("0.png")


def test_too_big_for_memory_is_refused_before_reading(shapes: Path, monkeypatch):
    import deepgui.core.data.images as images

    monkeypatch.setattr(images, "memory_budget", lambda: 10_000)
    with pytest.raises(
        DatasetError,
        match=r"12 images of 64x64 rgb would take 0.6 MiB in memory.*smaller image_size",
    ):
        load_dataset({"source": "image_folder", "path": str(shapes), "image_size": [64, 64]})


def test_separate_validation_folder(shapes: Path, tmp_path: Path):
    rng = np.random.default_rng(1)
    for i in range(2):  # only one of the two classes: labels must still line up by name
        write_png(tmp_path / "val" / "dark" / f"{i}.png", rng.integers(0, 50, size=(9, 9, 3)))
    data = load_dataset(
        {
            "source": "image_folder",
            "path": str(shapes),
            "validation_path": str(tmp_path / "val"),
            "image_size": [8, 8],
        }
    )
    assert (
        data.num_train == 12 and data.y_val.tolist() == [1, 1] and data.x_val.shape == (2, 8, 8, 3)
    )
    write_png(tmp_path / "val" / "grey" / "0.png", np.zeros((4, 4, 3)))
    with pytest.raises(DatasetError, match="has the class folder 'grey'"):
        load_dataset(
            {
                "source": "image_folder",
                "path": str(shapes),
                "validation_path": str(tmp_path / "val"),
            }
        )
