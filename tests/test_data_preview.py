"""What the data panel shows: plain JSON-able previews."""

import json
from pathlib import Path

import numpy as np

from deepgui.core.data import preview


def test_table_preview(tmp_path: Path):
    rows = [f"{i},{'ab'[i % 2]},{i * 1.5}" for i in range(50)]
    rows[3] = "x3,b,4.5"  # mostly numbers, one text: shown as mixed, not an error
    (tmp_path / "t.csv").write_text("id,kind,value\n" + "\n".join(rows) + "\n")
    info = preview({"source": "csv", "path": "t.csv", "target": "value"}, tmp_path, rows=5)
    assert info["kind"] == "table" and info["columns"] == ["id", "kind", "value"]
    assert info["types"] == ["mixed", "category", "numeric"]
    assert info["rows"][0] == ["0", "a", "0.0"] and len(info["rows"]) == 5
    assert info["row_numbers"] == [2, 3, 4, 5, 6] and info["target"] == "value"
    json.dumps(info)


def test_builtin_previews_are_json():
    seq = preview({"source": "builtin", "name": "sequence"}, rows=3)
    assert seq["kind"] == "sequences" and len(seq["series"]) == 3 and len(seq["series"][0]) == 40
    assert seq["class_names"] == ["falling", "level", "rising"]
    iris = preview({"source": "builtin", "name": "iris"})
    assert iris["types"][-1] == "category" and iris["target"] == "species"
    json.dumps(seq)
    json.dumps(iris)


def test_npz_preview(tmp_path: Path):
    np.savez(tmp_path / "d.npz", x=np.arange(20.0).reshape(10, 2), y=np.arange(10) % 2)
    info = preview({"source": "npz", "path": str(tmp_path / "d.npz")}, rows=2)
    assert info["arrays"]["x"] == {"shape": [10, 2], "dtype": "float64"}
    assert info["samples"] == [[0.0, 1.0], [2.0, 3.0]] and info["labels"] == [0, 1]
