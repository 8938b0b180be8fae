"""The split a run trained on, kept in its folder (``split.json``, run_layout.SPLIT), so that
any baseline can be scored on the same rows and `deepgui predict RUN --split test` scores
exactly the rows the run's test figures came from.

    {"format": "deepgui-split", "version": 1, "of": "rows" | "files" | "windows" | "samples",
     "parts": {"train" | "validation" | "test": {"path": ..., "rows": [...]} }}

Each part lists its samples in the order the run held them, by where they are in the data the
user has:

    rows      a CSV: positions among its data rows (0 is the first row under the header)
    files     an image folder: each file's path inside the folder ("cat/001.png")
    windows   a time-series CSV: where each window starts among the rows kept, as
              `deepgui predict` numbers the windows of the file
    samples   an .npz: positions in the array named by "key"; Keras's sets ("keras": NAME,
              "key": "train" or "test") name the set instead of a path

A part read from a file of its own (a separate validation or test file) names that file and
all its rows. Written when training starts, from what the loader recorded (LoadedData.split);
`predict.split_samples` reads a part back from the data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from deepgui.core import fileio, run_layout
from deepgui.core.data.base import rows
from deepgui.core.errors import DeepGuiError

FORMAT = "deepgui-split"
PARTS = ("train", "validation", "test")
KINDS = ("rows", "files", "windows", "samples")
# What the parts are called in a sentence.
NOUNS = {"rows": "rows", "files": "images", "windows": "windows", "samples": "samples"}


def write(run_dir: str | os.PathLike, data) -> Path | None:
    """The split of `data` into RUN_DIR/split.json (atomically); None, and nothing written,
    for data whose loader did not record one (arrays handed over by a front end)."""
    split = getattr(data, "split", None) or {}
    if split.get("of") not in KINDS:
        return None
    held = {"train": data.y_train, "validation": data.y_val, "test": data.y_test}
    parts = {}
    for part in PARTS:
        info = split.get(part)
        if info is None or held[part] is None:
            continue
        entry: dict[str, Any] = {}
        if info.get("path") is not None:
            entry["path"] = str(Path(info["path"]).expanduser().resolve())
        entry.update({k: str(info[k]) for k in ("keras", "key") if k in info})
        if "files" in info:
            entry["files"] = [str(f) for f in info["files"]]
        else:
            entry["rows"] = [int(r) for r in np.asarray(info["rows"]).ravel()]
        count = len(entry.get("files", entry.get("rows", [])))
        if count != rows(held[part]):  # not the samples the run holds: not written as if
            continue
        parts[part] = entry
    if not parts:
        return None
    path = Path(run_dir) / run_layout.SPLIT
    text = json.dumps({"format": FORMAT, "version": 1, "of": split["of"], "parts": parts},
                      ensure_ascii=False, separators=(",", ":"))  # fmt: skip
    fileio.atomic_write_text(path, text + "\n")
    return path


def read(run_dir: str | os.PathLike) -> dict[str, Any]:
    """A run's split.json, checked; DeepGuiError, one sentence, when it has none or it does
    not read as one."""
    path = Path(run_dir) / run_layout.SPLIT
    if not path.is_file():
        raise DeepGuiError(
            f"{run_dir}: keeps no split ({run_layout.SPLIT}): it is not a run folder, or one "
            "trained before runs kept theirs; train it again to score the same rows."
        )
    try:
        data = json.loads(fileio.read_text(path, "split file", 512 * fileio.MiB))
    except ValueError as exc:
        raise DeepGuiError(f"{path}: cannot be read as JSON ({exc}).") from None
    bad = DeepGuiError(f"{path}: is not a split deepgui wrote.")
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("of") not in KINDS:
        raise bad
    parts = data.get("parts")
    if not isinstance(parts, dict) or not set(parts) <= set(PARTS):
        raise bad
    for entry in parts.values():
        listed = entry.get("files", entry.get("rows")) if isinstance(entry, dict) else None
        if not isinstance(listed, list):
            raise bad
        if "rows" in entry and not all(isinstance(r, int) and r >= 0 for r in listed):
            raise bad
    return data
