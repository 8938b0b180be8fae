"""The bundled example projects (resources/examples/index.json), for `deepgui examples` and the
app's first launch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from deepgui.core.errors import ProjectFormatError
from deepgui.core.paths import examples_dir


class Example(NamedTuple):
    """Unpacks as (name, path, description)."""

    name: str
    path: Path
    description: str


def list_examples() -> list[Example]:
    """Every example whose project file is present, in the index's order."""
    folder = examples_dir()
    index = folder / "index.json"
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise ProjectFormatError(f"{index}: cannot be read ({exc}).") from None
    out = []
    for entry in entries:
        path = folder / entry["file"]
        if path.is_file():
            out.append(Example(entry["name"], path, entry.get("description", "")))
    return out


def example_path(name: str) -> Path:
    """The project file of the example called `name`."""
    for ex in list_examples():
        if ex.name == name:
            return ex.path
    names = ", ".join(e.name for e in list_examples())
    raise ProjectFormatError(f"There is no example called {name!r}; the examples are: {names}.")
