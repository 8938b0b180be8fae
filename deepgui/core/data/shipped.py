"""The sample data sets shipped in resources/datasets (never downloaded): their names, files and
how to read each. Below the data spec, which checks a name against them; `builtin` loads them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deepgui.core.errors import DatasetError
from deepgui.core.paths import datasets_dir

# name: (file, description, how to read it)
BUILTIN: dict[str, tuple[str, str, dict[str, Any]]] = {
    "digits": (
        "digits.npz",
        "handwritten digits, 1797 grey 8x8 images (8, 8, 1), 10 classes",
        {"class_names": [str(i) for i in range(10)], "scale": 1 / 16},
    ),
    "iris": (
        "iris.csv",
        "iris flowers, 150 rows, 4 numeric features, 3 species (target column 'species')",
        {"target": "species"},
    ),
    "sequence": (
        "sequence.npz",
        "1200 noisy series of 40 steps (40, 1): falling, level or rising, 3 classes (for RNNs)",
        {"class_names": ["falling", "level", "rising"], "scale": 1.0},
    ),
    "moons": (
        "moons.csv",
        "two interleaving half-moons, 500 points, 2 features, 2 classes (target column 'label')",
        {"target": "label"},
    ),
}


def builtin_datasets() -> list[tuple[str, Path, str]]:
    """(name, path, one-line description) of every shipped sample."""
    return [(name, datasets_dir() / file, text) for name, (file, text, _) in BUILTIN.items()]


def builtin_file(name: Any) -> tuple[Path, dict[str, Any]]:
    """The shipped file of the sample `name` and how to read it; DatasetError names the field."""
    if not isinstance(name, str) or name not in BUILTIN:
        raise DatasetError(
            f'The dataset field "name" is {name!r}; the built-in data sets are {", ".join(BUILTIN)}.'
        )
    file, _, how = BUILTIN[name]
    path = datasets_dir() / file
    if not path.exists():
        raise DatasetError(
            f"The built-in data set {name!r} is missing from this installation ({path}); reinstall deepgui."
        )
    return path, how


def builtin_path(spec: Mapping[str, Any]) -> tuple[str, Path, dict[str, Any]]:
    """(name, file, how to read it) for a caller that holds the project's dict rather than a
    DataSpec (predict_sources asks which file a project trains on)."""
    name = spec.get("name")
    return (name, *builtin_file(name))
