"""What every data source produces, and how a project describes its data.

A project's ``dataset`` section is a plain dict (JSON), for example::

    {"source": "builtin", "name": "digits", "validation_split": 0.2, "test_split": 0.1,
     "shuffle": true, "seed": 42}
    {"source": "csv", "path": "data/iris.csv", "target": "species", "missing": "drop", ...}

`deepgui.core.data.load_dataset(spec, base_dir)` turns it into a `LoadedData`; relative paths
are resolved against ``base_dir`` (the project's folder).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from deepgui.core.errors import DatasetError

# What the labels are, which decides the default loss and the last layer's check.
TASKS = ("multiclass", "binary", "regression", "multilabel")
# The task of data with several targets, one per model output (each has its own task).
MULTI_OUTPUT = "multioutput"


@dataclass(frozen=True)
class OutputInfo:
    """One target of data with several: the column, which is also the name of the model output
    it feeds, its task and its class names (in label order; none for a regression)."""

    name: str
    task: str
    class_names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "task": self.task, "classes": list(self.class_names)}


def rows(y: Any) -> int:
    """Samples in a split's labels: one array, or a dict of arrays by output name."""
    if isinstance(y, dict):
        return len(next(iter(y.values()))) if y else 0
    return len(y)


def take_rows(y: Any, stop: int) -> Any:
    """The first `stop` labels of one array or of each array in a dict."""
    if isinstance(y, dict):
        return {k: v[:stop] for k, v in y.items()}
    return y[:stop]


@dataclass
class LoadedData:
    """Arrays ready for ``model.fit``. x arrays may be dicts keyed by input name for models
    with several inputs. Labels for "multiclass" and "binary" are integer class indices
    (sparse); "multilabel" labels are 0/1 rows; regression targets are floats. A split that is
    not there (no validation or test data) is None, never an empty array.

    Data with several targets (a CSV with a list of target columns) has task MULTI_OUTPUT, no
    class names of its own, `outputs` describing each target, and y arrays as dicts by output
    name (what Keras's fit takes for a model whose outputs are named so)."""

    x_train: Any
    y_train: np.ndarray
    x_val: Any | None = None
    y_val: np.ndarray | None = None
    x_test: Any | None = None
    y_test: np.ndarray | None = None
    task: str = "multiclass"
    class_names: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    description: str = ""
    # What else the source found: "vocabulary" and "vocabulary_size" (text), "column_kinds",
    # "missing" (counts of cells filled and rows dropped), "image_size" and "color_mode".
    extras: dict[str, Any] = field(default_factory=dict)
    # The dataset spec with every default filled in, as loaded: record it to reproduce the run.
    spec: dict[str, Any] = field(default_factory=dict)
    # The Keras layers between the data as the user has it and the network (preprocessing.py).
    # Loaders hand over raw x arrays; load_dataset keeps them in raw_* and fills x_* with what
    # these layers make of them.
    preprocessing: Any = None
    raw_train: Any = None
    raw_val: Any = None
    raw_test: Any = None
    # One per target when there are several (task MULTI_OUTPUT); empty for one target.
    outputs: list[OutputInfo] = field(default_factory=list)
    # Where each part's samples come from, which the run folder keeps (split.json, see
    # core/run_split.py): {"of": "rows" | "files" | "windows" | "samples", "train" |
    # "validation" | "test": {"path": the file or folder, "rows": positions in its data rows
    # (or "files": paths inside the folder), "key": the array of an .npz}}, in the order of
    # the part's own arrays. Empty where the loader does not say (arrays handed over).
    split: dict[str, Any] = field(default_factory=dict)

    @property
    def multi_output(self) -> bool:
        return bool(self.outputs)

    def for_output(self, name: str) -> LoadedData:
        """This data as if `name` were its only target: the same inputs, that target's labels,
        task and classes (each output is checked and evaluated as one-target data is)."""
        info = next(o for o in self.outputs if o.name == name)

        def pick(y: Any) -> Any:
            return None if y is None else y[name]

        return replace(
            self, y_train=pick(self.y_train), y_val=pick(self.y_val), y_test=pick(self.y_test),
            task=info.task, class_names=list(info.class_names), outputs=[],
        )  # fmt: skip

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        x = self.x_train
        if isinstance(x, dict):
            x = next(iter(x.values()))
        return tuple(np.shape(x)[1:])

    @property
    def num_train(self) -> int:
        return int(rows(self.y_train))

    def suggested_loss(self, output_units: int | None = None) -> str:
        """The loss for these labels; a two-class model with two softmax units takes the sparse
        categorical loss rather than the binary one."""
        if self.task == MULTI_OUTPUT:
            raise DatasetError(
                "Data with several targets has one loss per output, not one for the whole "
                "model; train it with the TensorFlow engine."
            )
        if self.task == "binary" and output_units is not None and output_units > 1:
            return "sparse_categorical_crossentropy"
        return {
            "multiclass": "sparse_categorical_crossentropy",
            "binary": "binary_crossentropy",
            "multilabel": "binary_crossentropy",
            "regression": "mse",
        }[self.task]

    def suggested_metrics(self) -> list[str]:
        return ["mae"] if self.task == "regression" else ["accuracy"]
