"""A Keras model written out by deepgui as a program that stands alone: it needs Keras and NumPy
(and TensorFlow, Keras's backend, to read images), not deepgui. Its commands:

    python THIS_FILE.py                              the network, and whether it is trained
    python THIS_FILE.py predict DATA [-o OUT.csv]    predict on raw data
    python THIS_FILE.py train [DATA] [--epochs N]    train from scratch

This first part is the same in every program deepgui writes: the data read as deepgui reads it
(a CSV table, NumPy arrays, a folder of images, a time series, a Keras data set), split as
deepgui splits it, the Keras layers that turn the data as you have it into the network's
inputs, training, predicting and the command line. The part below "The project", at the end of
the file, is the project's own: its network as Keras code, its data and training settings, and
the constants its preprocessing learned.

`train` writes NAME.weights.h5, NAME.keras (the whole model) and NAME.signature.json (the
constants its preprocessing learned) beside this file, NAME being this file's name without
.py; `predict` uses them.

deepgui keeps this part as its module deepgui/script_runtime.py, copies it into each program
byte for byte, and uses its split and its label encoding itself. Keras is imported inside the
functions that need it: importing this code does not start TensorFlow.
"""

import argparse
import csv
import itertools
import json
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

# Cells that mean "no value" (deepgui's spellings): empty, na, n/a, nan, null, none, ?.
MISSING_TOKENS = ("", "na", "n/a", "nan", "null", "none", "?")
MISSING_CELLS = frozenset(
    {"NaN", *(v for t in MISSING_TOKENS for v in (t, t.upper(), t.capitalize()))}
)
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
MAX_ONE_HOT = 20  # a category column with more values than this becomes one index number
MAX_NUMERIC_CLASSES = 20  # a whole-number target with more distinct values is a regression
# Models compute in 32-bit floats: a value beyond this would become infinity once standardized.
MAX_MAGNITUDE = 1e38
# A number written with a decimal comma: 1,5  -2,75  3  1,5e3.
DECIMAL_COMMA = re.compile(r"\s*[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?\s*")
# What `predict` reads, in words, by reader.
READS = {
    "table": "a CSV file with the columns the model was trained on (with or without its target)",
    "windows": "a CSV file with the time series' feature columns",
    "images": "an image file or a folder of images (in class subfolders, to measure accuracy)",
    "npz": "an .npz file with an array x (and labels y, to measure accuracy)",
}


class Problem(Exception):
    """A problem with the data or the files, said in one sentence (no traceback)."""


# ---------------------------------------------------------------------- the project
class Project:
    """What this program knows of its project: the network, the data and where it lies, and
    (once trained) the constants that go with the weights beside this file. `train` is the
    project's training, a function of (data path or None, epochs or None). (A plain class, not
    a dataclass: this code also runs through exec, outside any module.)"""

    def __init__(
        self,
        script: str | Path,
        network: Callable[[], Any],
        dataset: dict,
        train: Callable[..., Any] | None = None,
        base: str | Path | None = None,
        standardize: bool = True,
        task: str | None = None,
        classes: list | None = None,
        preprocessing: dict | None = None,
        outputs: list | None = None,
        readers: tuple = ("npz",),
        unreadable: str = "",
        array_scale: float | None = None,
        keras_classes: list | None = None,
    ) -> None:
        self.script = script  # this file: the trained model's files are named after it
        self.network = network  # makes a fresh, untrained network
        self.dataset = dataset
        self.train = train
        self.base = base  # relative paths in `dataset` are read from here (None: this folder)
        self.standardize = standardize  # False when the network scales its inputs itself
        self.task = task
        self.classes = list(classes or [])
        self.preprocessing = preprocessing
        self.outputs = list(outputs or [])  # several outputs: the name, task, classes of each
        self.readers = tuple(readers)  # what `predict` reads: "table", "windows", "images", "npz"
        self.unreadable = unreadable  # why this program cannot read the project's data, if so
        self.array_scale = array_scale  # arrays: the factor deepgui scales them by
        self.keras_classes = list(keras_classes or [])  # a Keras data set's class names

    @property
    def name(self) -> str:
        return Path(self.script).name

    def beside(self, suffix: str) -> Path:
        """The file beside this one named after it: NAME.weights.h5, NAME.keras, ..."""
        script = Path(self.script).resolve()
        return script.with_name(script.stem + suffix)

    @property
    def weights(self) -> Path:
        return self.beside(".weights.h5")

    @property
    def saved_model(self) -> Path:
        return self.beside(".keras")

    @property
    def signature(self) -> Path:
        return self.beside(".signature.json")

    @property
    def not_trained(self) -> str:
        return (
            f"No trained weights: run `python {self.name} train` first; it writes "
            f"{self.weights.name} beside this script."
        )

    @property
    def data_help(self) -> str:
        return ", or ".join(text for key, text in READS.items() if key in self.readers)

    def path_of(self, value: Any, what: str) -> Path:
        """A path named in the dataset: a relative one is read from the project's folder."""
        if not value:
            raise Problem(
                f"The project names no {what}; give the data: python {self.name} train DATA."
            )
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = Path(self.base or Path(self.script).resolve().parent) / path
        if not path.exists():
            raise Problem(
                f"{path}: no such file or folder; give the data: python {self.name} train DATA."
            )
        return path

    def data_file(self, data_path: Any, what: str) -> Path:
        """DATA as given on the command line, else the dataset's own path."""
        if data_path:
            return Path(data_path).resolve()
        return self.path_of(self.dataset.get("path"), what)

    def load_data(self, data_path: Any = None) -> dict:
        """The data read, split and described for training, by the kind of data set: a dict
        with "preprocessing" (the raw inputs, not yet applied), "task", "classes", and "train",
        "validation", "test" as (raw x, y) or None."""
        if self.unreadable:
            raise Problem(self.unreadable)
        source = self.dataset.get("source")
        if source not in LOADERS:
            raise Problem(f"This program cannot read a data set of the kind {source!r}.")
        return LOADERS[source](self, data_path)

    # ------------------------------------------------------------------ the trained model
    def trained_constants(self) -> tuple[str, list, dict]:
        """(task, classes, preprocessing) that go with the weights beside this file: what
        `train` wrote to the signature file, else the project's constants."""
        if self.signature.is_file():
            try:
                with open(self.signature, encoding="utf-8") as fh:
                    signature = json.load(fh)
                return signature["task"], list(signature["classes"]), signature["preprocessing"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise Problem(f"{self.signature}: cannot be read ({exc}); train again.") from None
        if self.preprocessing is None or not self.weights.is_file():
            raise Problem(self.not_trained)
        return self.task, list(self.classes), self.preprocessing

    def trained_threshold(self):
        """The decision threshold of a model with two classes, from the signature file (deepgui
        writes the run's there; None: the likelier class)."""
        if not self.signature.is_file():
            return None
        try:
            with open(self.signature, encoding="utf-8") as fh:
                value = json.load(fh).get("threshold")
            return None if value is None else float(value)
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise Problem(f"{self.signature}: cannot be read ({exc}); train again.") from None

    def trained_outputs(self) -> list:
        """A model with several outputs: each one's name, task and classes, in the order the
        model returns them (from the signature file when `train` wrote it); [] for one."""
        if self.signature.is_file():
            try:
                with open(self.signature, encoding="utf-8") as fh:
                    return list(json.load(fh).get("outputs") or [])
            except (OSError, ValueError, AttributeError) as exc:
                raise Problem(f"{self.signature}: cannot be read ({exc}); train again.") from None
        return list(self.outputs)

    def load_trained_model(self) -> tuple[Any, str, list, dict]:
        """The whole model this code builds, the trained weights beside this file loaded into
        it; and its task, class names and preprocessing constants."""
        task, classes, pre = self.trained_constants()
        if not self.weights.is_file():
            raise Problem(self.not_trained)
        model = build_model(pre, self.network())
        try:
            model.load_weights(self.weights)
        except (OSError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise Problem(
                f"{self.weights}: does not fit the model in this script ({first})."
            ) from None
        return model, task, classes, pre

    def save_trained(self, pre: dict, network: Any, task: str, classes: list, outputs=None):
        """The whole model (raw data in) beside this file: its weights, which `predict` loads
        into the model this code builds, the model itself, and the constants it learned (and
        for several outputs, each one's name, task and classes in the model's order)."""
        pre = named_for(pre, network)
        model = build_model(pre, network)
        model.save_weights(self.weights)
        model.save(self.saved_model)
        signature = {
            "format": "deepgui-signature",
            "version": 1,
            "task": task,
            "classes": list(classes),
            "strings_as_numbers": False,
            "preprocessing": {"format": "deepgui-preprocessing", "version": 1, **pre},
        }
        if outputs:
            by_name = {o["name"]: o for o in outputs}
            signature["outputs"] = [by_name[str(n)] for n in network.output_names]
        self.signature.write_text(json.dumps(signature, indent=1) + "\n", encoding="utf-8")
        names = f"{self.weights.name}, {self.saved_model.name} and {self.signature.name}"
        print(f"Wrote {names} beside {self.name}.")

    # ------------------------------------------------------------------ the commands
    def predict(self, data_path: Any, out_path: Any = None) -> None:
        """Predict on raw data; write one row per sample (one_output_table, or for a model with
        several outputs several_outputs_table), to `out_path` or else to the screen."""
        model, task, classes, pre = self.load_trained_model()
        ids, x, labels = read_for_prediction(self, Path(data_path), pre, classes)
        several = self.trained_outputs()
        if several:
            arrays = run_outputs(model, x)
            header, rows, summary = several_outputs_table(ids, arrays, several, labels)
        else:
            outputs = run_model(model, x)
            header, rows, summary = one_output_table(ids, outputs, task, classes, pre, labels,
                                                     self.trained_threshold())  # fmt: skip
        if out_path is None:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
            print(summary + ".", file=sys.stderr)
            return
        with open(out_path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        print(f"{summary}. Wrote {out_path}.")

    def describe(self) -> None:
        """No command: the network's layers, and whether trained weights are beside this file."""
        self.network().summary()
        trained = self.weights.is_file()
        print(f"trained weights: {self.weights}" if trained else self.not_trained)

    def main(self, argv: list | None = None) -> None:
        """The command line: predict, train, or (no command) describe."""
        parser = argparse.ArgumentParser(
            prog=self.name,
            description="Train this Keras model, or predict with it on raw data.",
            epilog=f"DATA for predict: {self.data_help}.",
        )
        commands = parser.add_subparsers(dest="command", metavar="COMMAND")
        p = commands.add_parser("predict", help="predict on raw data with the trained weights")
        p.add_argument("data", help=self.data_help)
        p.add_argument("-o", "--output", help="write the predictions to this CSV (default: print)")
        t = commands.add_parser("train", help="train from scratch with the project's settings")
        t.add_argument("data", nargs="?", help="train on this data instead of the project's")
        t.add_argument("--epochs", type=int, help="train for this many epochs instead")
        args = parser.parse_args(argv)
        try:
            if args.command == "predict":
                self.predict(args.data, args.output)
            elif args.command == "train":
                if args.epochs is not None and args.epochs < 1:
                    raise Problem(f"--epochs must be a whole number from 1, not {args.epochs}.")
                if self.train is None:
                    raise Problem("This program has no training.")
                self.train(args.data, args.epochs)
            else:
                self.describe()
                parser.print_usage()
        except Problem as exc:
            sys.exit(f"{self.name}: {exc}")
        except OSError as exc:
            sys.exit(f"{self.name}: {exc.filename or 'a file'}: {exc.strerror or exc}")


# ---------------------------------------------------------------------- splits and labels
def split_indices(
    n: int,
    validation: float,
    test: float,
    *,
    shuffle: bool = True,
    seed: int = 0,
    labels: Any = None,
    what: str = "the data",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of the train, validation and test rows. With `labels` and `shuffle` the split is
    stratified (each class in the same proportions everywhere); without `shuffle` the order is
    kept and the last rows become validation, then test, which suits time-ordered data."""
    if n == 0:
        raise Problem(f"{what} has no samples.")
    n_test, n_val = int(round(n * test)), int(round(n * validation))
    if not shuffle:
        rows = np.arange(n)
        n_train = n - n_val - n_test
        train, val, tst = rows[:n_train], rows[n_train : n_train + n_val], rows[n_train + n_val :]
    elif labels is not None and np.ndim(labels) == 1:
        # Stratified with exact totals: each class's shuffled members are spread evenly over
        # (0, 1), then all samples are ordered by that position, so any prefix holds every
        # class in its share.
        rng = np.random.default_rng(seed)
        position = np.empty(n)
        for c in np.unique(labels):
            members = rng.permutation(np.flatnonzero(labels == c))
            position[members] = (np.arange(len(members)) + rng.random()) / len(members)
        rows = np.argsort(position)
        tst, val = rows[:n_test], rows[n_test : n_test + n_val]
        # Mix the classes back together so a batch never holds one class only.
        train = rng.permutation(rows[n_test + n_val :])
    else:
        rows = np.random.default_rng(seed).permutation(n)
        tst, val, train = rows[:n_test], rows[n_test : n_test + n_val], rows[n_test + n_val :]
    if len(train) == 0:
        raise Problem(
            f"{what} has only {n} samples: too few to keep any for training after the split."
        )
    if validation > 0 and len(val) == 0:
        raise Problem(
            f"{what} has only {n} samples: too few for a validation split of {validation:g}."
        )
    return train, val, tst


def encode_labels(
    values: Any, task: str | None = None, class_names: Any = None, *, what: str = "the target"
) -> tuple[np.ndarray, str, list]:
    """(labels, task, class names): class indices for classification, floats for regression,
    0/1 rows for multi-label. Text, or at most MAX_NUMERIC_CLASSES distinct whole numbers, are
    classes; other numbers a regression; one 0/1 column per class is multi-label unless each
    row has exactly one 1. Given `task` and `class_names` (from the training split) the same
    encoding is applied again, so validation and test labels line up with training ones."""
    y = np.asarray(values)
    if y.ndim == 0 or len(y) == 0:
        raise Problem(f"{what} has no labels.")
    if class_names is not None and not (
        isinstance(class_names, list | tuple) and all(isinstance(c, str) for c in class_names)
    ):
        raise Problem('The dataset field "class_names" must be a list of strings.')
    class_names = list(class_names) if class_names is not None else None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim > 1:
        return _encode_matrix(y, task, class_names, what)
    text = y.dtype.kind in "USO"
    if not text and not np.isfinite(y.astype(np.float64)).all():
        raise Problem(f"{what} holds NaN or infinite labels; remove those samples or fill them in.")
    if task == "regression":
        if text:
            raise Problem(
                f"{what} holds text, so it cannot be a regression target; choose a numeric "
                "column or a classification task."
            )
        return y.astype(np.float32), "regression", []
    found = inverse = None
    if task is None and not text and class_names is None:
        whole = np.all(np.mod(y, 1) == 0)
        if whole:
            found, inverse = np.unique(y, return_inverse=True)
        if not whole or len(found) > MAX_NUMERIC_CLASSES:
            return y.astype(np.float32), "regression", []
    if task == "multilabel":
        raise Problem(
            f"{what} has one label per sample; a multi-label task needs a 0/1 column per class."
        )
    if class_names is not None and not text and not all(is_number(c) for c in class_names):
        # Whole-number labels with named classes (["cat", "dog"]): the label is the index.
        if np.all(np.mod(y, 1) == 0) and y.min() >= 0 and y.max() < len(class_names):
            task = task or ("binary" if len(class_names) == 2 else "multiclass")
            return y.astype(np.int32), task, list(class_names)
        raise Problem(
            f"{what} holds labels outside 0..{len(class_names) - 1} for the "
            f"{len(class_names)} named classes."
        )
    if found is None:
        found, inverse = np.unique(y, return_inverse=True)
    names = [label_name(v) for v in found]
    if class_names is None:
        class_names = names
        mapping = np.arange(len(found))
    else:
        lookup = {c: i for i, c in enumerate(class_names)}
        unknown = [n for n in names if n not in lookup]
        if unknown:
            raise Problem(
                f"{what} has the label {unknown[0]!r}, which is not among the classes "
                f"({', '.join(class_names[:10])}); the training data must contain every class."
            )
        mapping = np.array([lookup[n] for n in names], dtype=np.int64)
    if len(class_names) < 2:
        raise Problem(
            f"{what} has only one class ({class_names[0]!r}); a classifier needs at least two."
        )
    if task == "binary" and len(class_names) != 2:
        raise Problem(
            f"{what} has {len(class_names)} classes, so it is not a binary task; use multiclass."
        )
    task = task or ("binary" if len(class_names) == 2 else "multiclass")
    return mapping[inverse.reshape(-1)].astype(np.int32), task, list(class_names)


def _encode_matrix(y: np.ndarray, task: str | None, class_names: list | None, what: str):
    """Labels given as one column per class: multi-label rows, one-hot rows (class indices),
    or a regression of several values."""
    if y.ndim != 2:
        raise Problem(
            f"{what} has labels of shape {y.shape[1:]} per sample; give one label, or one "
            "column per class."
        )
    if y.dtype.kind in "USO":
        raise Problem(f"{what} holds text in a label matrix; give numbers.")
    y = y.astype(np.float32)
    binary = np.isin(y, (0.0, 1.0)).all()
    one_hot = binary and np.all(y.sum(axis=1) == 1)
    names = class_names or [str(i) for i in range(y.shape[1])]
    if task == "regression" or (task is None and not binary):
        return y, "regression", []
    if not binary:
        raise Problem(
            f"{what} is a matrix of non-0/1 values, which cannot be class labels; use regression."
        )
    if len(names) != y.shape[1]:
        raise Problem(f"{what} has {y.shape[1]} label columns but {len(names)} class names.")
    if task == "multilabel" or (task is None and not one_hot):
        return y, "multilabel", names
    # One-hot rows become class indices: every multiclass label is sparse.
    labels = y.argmax(axis=1).astype(np.int32)
    return labels, task or ("binary" if y.shape[1] == 2 else "multiclass"), names


def label_name(value: Any) -> str:
    """A class's name from its label: text as it is, whole numbers without ".0"."""
    if isinstance(value, str | np.str_):
        return str(value)
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def label_text(value: Any) -> str:
    """A true label as the predictions file shows it: whole numbers without ".0"."""
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def split_data(project: Project, x, y, task, classes, pre, given=None, what="the data") -> dict:
    """What load_data returns: `x`, `y` split by the dataset's fractions, except where `given`
    holds a separate validation or test set ((x, y) by "validation" / "test")."""
    given = given or {}
    dataset = project.dataset
    rows = split_indices(
        len(y),
        0.0 if "validation" in given else dataset.get("validation_split", 0.2),
        0.0 if "test" in given else dataset.get("test_split", 0.0),
        shuffle=dataset.get("shuffle", True),
        seed=dataset.get("seed", 42),
        labels=y if task in ("multiclass", "binary") else None,
        what=what,
    )
    out = {"preprocessing": pre, "task": task, "classes": list(classes)}
    for key, part in zip(("train", "validation", "test"), rows, strict=True):
        if key in given:
            out[key] = given[key]
        elif len(part) or key == "train":
            pick = {k: v[part] for k, v in x.items()} if isinstance(x, dict) else x[part]
            out[key] = (pick, y[part])
        else:
            out[key] = None
    return out


def array_preprocessing(shape, name, scale=None, offset=None, dtype="float32", image=None):
    """One array input (images, windows, arrays): rescaled, or passed as it is; an image of
    any size is resized to the data set's size inside the model."""
    dims = [int(d) for d in shape]
    resize = None
    if image is not None and len(dims) == 3:
        resize, dims = dims[:2], [None, None, dims[2]]
    raw = {
        "name": name, "kind": "array", "shape": dims, "dtype": dtype,
        "column": None, "fill": None, "scale": scale, "offset": offset, "vocabulary": [],
        "one_hot": True, "sequence_length": 0, "resize": resize,
    }  # fmt: skip
    return {
        "inputs": [raw], "groups": [{"name": name, "inputs": [name]}],
        "table": False, "image": image, "target": None,
    }  # fmt: skip


# ---------------------------------------------------------------------- CSV files
class Table:
    """A CSV read as text: its header, its data rows, each row's number as a spreadsheet shows
    it (the header is row 1), and the delimiter it is separated by."""

    def __init__(self, path: Path, header: list, rows: list, numbers: list, delimiter: str):
        self.path, self.header, self.rows = path, header, rows
        self.numbers, self.delimiter = numbers, delimiter

    def cells(self, name: str) -> list:
        j = self.header.index(name)
        return [row[j] for row in self.rows]


def sniff_delimiter(path: Path, first_line: str) -> str:
    """Tabs in a .tsv file; else whichever of comma, semicolon or tab the header line holds most
    of (a comma on a tie, or when it holds none)."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    delimiter = max(",;\t", key=first_line.count)
    return delimiter if first_line.count(delimiter) else ","


def read_csv(path: Any, max_rows: int | None = None) -> Table:
    """A CSV's header and data rows as text, separated by commas, semicolons or tabs as its
    header line shows (tabs in a .tsv file); blank lines are skipped, and keep the numbering.
    With `max_rows`, only the file's first rows are read. deepgui reads CSV files through it."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            delimiter = sniff_delimiter(path, fh.readline())
            fh.seek(0)  # (utf-8-sig leaves out a byte-order mark again)
            reader = csv.reader(fh, delimiter=delimiter)
            rows = list(reader if max_rows is None else itertools.islice(reader, max_rows + 1))
    except UnicodeDecodeError:
        raise Problem(
            f"{path}: is not UTF-8 text, so it cannot be read as CSV; save it as UTF-8 CSV."
        ) from None
    except csv.Error as exc:
        raise Problem(f"{path}: is not valid CSV ({exc}).") from None
    if not rows or not rows[0]:
        raise Problem(f"{path}: is empty; a CSV needs a header row and at least one data row.")
    header = [h.strip() for h in rows[0]]
    for i, name in enumerate(header):
        if not name:
            raise Problem(f"{path}: column {i + 1} of the header row has no name.")
    if len(set(header)) != len(header):
        counts: dict = {}  # counted once: header.count per name takes minutes on a wide file
        for h in header:
            counts[h] = counts.get(h, 0) + 1
        twice = next(h for h in header if counts[h] > 1)
        raise Problem(f"{path}: the header names column {twice!r} more than once.")
    body = rows[1:]
    while body and not body[-1]:
        body.pop()
    numbers = list(range(2, len(body) + 2))
    if len(header) == 1:  # in a one-column file a blank line is an empty cell
        body = [row or [""] for row in body]
    else:
        kept = [i for i, row in enumerate(body) if row]
        body, numbers = [body[i] for i in kept], [numbers[i] for i in kept]
    if not body:
        raise Problem(f"{path}: has a header but no data rows.")
    for row, number in zip(body, numbers, strict=True):
        if len(row) != len(header):
            raise Problem(
                f"{path}: row {number} has {len(row)} fields but the header has {len(header)}; "
                "check for a stray delimiter or a missing quote."
            )
    return Table(path, header, body, numbers, delimiter)


def is_missing(cell: str) -> bool:
    """An empty cell or a usual spelling of "not available" (only a short cell can be one)."""
    return len(cell) <= 16 and cell.strip() in MISSING_CELLS


def column_kind(table: Table, name: str, kind: str | None = None) -> tuple[str, Any, np.ndarray]:
    """(kind, values, missing) of a CSV column, typed as deepgui types it: numbers (float64,
    NaN where missing or not finite) when every present cell is one, also when written with
    decimal commas in a file not separated by commas; else categories (few distinct strings)
    or text (many distinct, or several words each). `kind` forces the choice."""
    cells = table.cells(name)
    missing = np.array([is_missing(c) for c in cells], dtype=bool)
    present = [c for c, m in zip(cells, missing, strict=True) if not m]
    if kind in (None, "numeric"):
        numbers = _floats(present)
        if numbers is None:
            numbers = _decimal_commas(table, name, cells, missing)
        if numbers is not None:
            values = np.full(len(cells), np.nan)
            values[~missing] = numbers
            finite = np.isfinite(_within_range(table, name, values))
            return "numeric", np.where(finite, values, np.nan), ~finite
    distinct = sorted(set(present))
    if kind == "numeric" or (kind is None and _mostly_numbers(present)):
        which = [i for i, c in enumerate(cells) if not missing[i] and not is_number(c)]
        bad = which[0]
        if len(which) > len(present) / 2:  # text throughout, where numbers are needed
            raise Problem(
                f"{table.path.name}: column {name!r} holds text, not numbers (row "
                f"{table.numbers[bad]}: {cells[bad]!r}); choose a numeric column."
            )
        more = f" ({len(which)} such cells in all)" if len(which) > 1 else ""
        raise Problem(
            f"{table.path.name}: row {table.numbers[bad]}, column {name!r} holds the text "
            f"{cells[bad]!r} in a numeric column{more}; correct it, or mark it as missing "
            "(leave it empty)."
        )
    if kind is None:
        words = np.mean([c.strip().count(" ") + 1 for c in distinct[:2000]]) if distinct else 0
        many = len(distinct) > 50 and len(distinct) > 0.2 * max(len(present), 1)
        kind = "text" if words >= 3 or many else "category"
    strings = np.array(["" if m else c for c, m in zip(cells, missing, strict=True)], dtype=object)
    return kind, strings, missing


def numbers_in(table: Table, name: str) -> np.ndarray:
    """A column read as numbers (float64, NaN where a value is missing or not finite)."""
    return column_kind(table, name, "numeric")[1]


def _floats(cells: list) -> list | None:
    """The cells as numbers, or None when one is not a number."""
    try:
        return [float(c) for c in cells]
    except ValueError:
        return None


def _mostly_numbers(cells: list) -> bool:
    """At least half of the (present) cells are numbers."""
    return bool(cells) and sum(is_number(c) for c in cells) >= len(cells) / 2


def _decimal_commas(table: Table, name: str, cells: list, missing: np.ndarray) -> list | None:
    """The present cells as numbers when they are written with decimal commas (1,5): read so
    in a file separated by semicolons or tabs, where a comma cannot be a separator. In a
    comma-separated file (quoted "1,5") a comma may as well separate thousands: named, not
    guessed."""
    present = [(i, c) for i, c in enumerate(cells) if not missing[i]]
    with_comma = [(i, c) for i, c in present if "," in c]
    if not with_comma or not all(DECIMAL_COMMA.fullmatch(c) for _, c in present):
        return None
    if table.delimiter == ",":
        row, example = with_comma[0]
        raise Problem(
            f"{table.path.name}: column {name!r} writes numbers with commas (row "
            f"{table.numbers[row]}: {example!r}), which in a comma-separated file could be "
            "decimal commas or thousands separators; save the file with decimal points, or "
            "separated by semicolons."
        )
    return [float(c.strip().replace(",", ".")) for _, c in present]


def _within_range(table: Table, name: str, values: np.ndarray) -> np.ndarray:
    """A numeric column, refused (naming it) when a value is beyond what a model computes in."""
    big = np.isfinite(values) & (np.abs(np.nan_to_num(values)) > MAX_MAGNITUDE)
    if big.any():
        row = int(np.flatnonzero(big)[0])
        raise Problem(
            f"{table.path.name}: column {name!r} holds {values[row]:g} (row "
            f"{table.numbers[row]}), beyond what a model computes with (at most about "
            f"{MAX_MAGNITUDE:g} in size); rescale the column, for example to other units, or "
            'mark it "ignore".'
        )
    return values


def forward_fill(values: np.ndarray) -> np.ndarray:
    """Each gap takes the last value before it (the first value after it at the very start)."""
    out = values.copy()
    for j in range(out.shape[1]):
        column, ok = out[:, j], np.isfinite(out[:, j])
        if not ok.any():
            raise Problem('A time-series column has no values at all; leave it out of "features".')
        index = np.maximum.accumulate(np.where(ok, np.arange(len(column)), 0))
        filled = column[index]
        filled[: np.flatnonzero(ok)[0]] = column[np.flatnonzero(ok)[0]]
        out[:, j] = filled
    return out


# ---------------------------------------------------------------------- a CSV table
def safe_input_name(column: Any, taken: set) -> str:
    """A column name made safe as a model input name, unique among `taken`."""
    base = re.sub(r"[^A-Za-z0-9_]+", "_", str(column)).strip("_") or "column"
    if not base[0].isalpha():
        base = "c_" + base
    name, i = base, 2
    while name.lower() in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name.lower())
    return name


def target_columns(dataset: dict) -> list:
    """The target column, or the target columns of a model with one output per column."""
    target = dataset.get("target")
    if isinstance(target, list):
        return list(target)
    return [target] if target else []


def read_table(project: Project, path: Path, kinds: dict | None = None) -> tuple[list, dict]:
    """(feature names, {column: (kind, values, missing)}) of a CSV: the target and feature
    columns typed (or as `kinds` says), with rows that have gaps handled as the dataset says:
    "fill" leaves out rows without a target (the model fills features), "drop" every row with
    a gap, "refuse" reports them."""
    table = read_csv(path)
    header = table.header
    targets = target_columns(project.dataset)
    chosen = dict(project.dataset.get("columns") or {})
    if not targets:
        raise Problem(f'{path.name}: the project names no target column (dataset field "target").')
    for name in [*targets, *chosen]:
        if name not in header:
            shown = ", ".join(repr(h) for h in header[:12])
            raise Problem(f"{path.name} has no column {name!r}; its columns are {shown}.")
    features = [h for h in header if h not in targets and chosen.get(h) != "ignore"]
    if not features:
        shown = ", ".join(repr(t) for t in targets)
        raise Problem(f"{path.name}: has no columns besides the target {shown} to learn from.")
    kinds = kinds or {h: chosen.get(h) for h in features}
    typed = {h: column_kind(table, h, kinds.get(h)) for h in [*features, *targets]}
    policy = project.dataset.get("missing", "fill")
    bad, where, total = np.zeros(len(table.rows), dtype=bool), [], 0
    for h, (kind, _, missing) in typed.items():
        if (kind == "text" and h not in targets) or not missing.any():
            continue  # an empty text is still a text
        total += int(missing.sum())
        where += [(table.numbers[i], h) for i in np.flatnonzero(missing)[:5]]
        if policy == "drop" or h in targets:
            bad |= missing
    if total and policy in ("refuse", "error"):
        shown = ", ".join(f"row {r} column {c!r}" for r, c in sorted(where)[:5])
        more = f" and {total - 5} more" if total > 5 else ""
        noun = "value is" if total == 1 else "values are"
        raise Problem(
            f'{path.name}: {total} {noun} missing ({shown}{more}); set the dataset\'s "missing" '
            'to "drop" to leave those rows out or "fill" to fill them in.'
        )
    if bad.all():
        raise Problem(
            f"{path.name}: every row has a missing value, so none is left after dropping them."
        )
    keep = np.flatnonzero(~bad)
    return features, {h: (k, v[keep], m[keep]) for h, (k, v, m) in typed.items()}


def fit_table(project: Project, features: list, typed: dict, rows: np.ndarray, target) -> dict:
    """The raw inputs, one per feature column, with their constants learned on the training
    rows: a numeric column's median (for gaps), mean and deviation (x * scale + offset
    standardizes it); a category's values (StringLookup.adapt); a text's words
    (TextVectorization.adapt)."""
    from keras import layers

    taken, inputs = set(), []
    length = project.dataset.get("sequence_length", 64)
    for h in features:
        kind, values, missing = typed[h]
        r = {
            "name": safe_input_name(h, taken), "kind": kind, "shape": [1],
            "dtype": "float32" if kind == "numeric" else "string", "column": h, "fill": None,
            "scale": None, "offset": None, "vocabulary": [], "one_hot": True, "sequence_length": 0,
            "resize": None,
        }  # fmt: skip
        if kind == "numeric":
            present = values[rows][np.isfinite(values[rows])]
            r["fill"] = float(np.median(present)) if len(present) else 0.0
            if project.standardize and len(present):
                mean, std = float(present.mean()), float(present.std())
                if not (math.isfinite(mean) and math.isfinite(std)):
                    mean, std = 0.0, float(np.abs(present).max())  # beyond float range
                std = std if std > 1e-12 else 1.0  # a constant column stays 0
                r["scale"], r["offset"] = 1.0 / std, -mean / std
        elif kind == "category":
            present = values[rows][~missing[rows]].astype(str)
            lookup = layers.StringLookup(num_oov_indices=1)
            if len(present):
                lookup.adapt(present)
            # Sorted, as deepgui orders them, so that a run's constants and these agree.
            found = lookup.get_vocabulary(include_special_tokens=False) if len(present) else []
            r["vocabulary"] = sorted(str(v) for v in found)
            r["one_hot"] = len(r["vocabulary"]) <= MAX_ONE_HOT
        else:
            words = layers.TextVectorization(
                max_tokens=project.dataset.get("max_tokens", 20000),
                output_mode="int",
                output_sequence_length=length,
            )
            words.adapt(values[rows].astype(str), batch_size=4096)
            r["vocabulary"] = [str(w) for w in words.get_vocabulary(include_special_tokens=False)]
            r["sequence_length"] = length
        inputs.append(r)
    groups = [{"name": r["column"], "inputs": [r["name"]]} for r in inputs if r["kind"] == "text"]
    tabular = [r["name"] for r in inputs if r["kind"] != "text"]
    if tabular:
        groups.append({"name": "features", "inputs": tabular})
    return {"inputs": inputs, "groups": groups, "table": True, "image": None, "target": target}


def load_table(project: Project, data_path: Any = None) -> dict:
    """A CSV's columns as the model's raw inputs (one per feature column, by name), split.
    Several target columns (one per model output) give labels as a dict by column, the task
    "multioutput" and "outputs": each target's name, task and classes."""
    dataset = project.dataset
    path = project.data_file(data_path, "CSV file")
    targets = target_columns(dataset)
    one = len(targets) == 1
    features, typed = read_table(project, path)
    found = {}  # target -> (labels, task, classes)
    for target in targets:
        found[target] = encode_labels(
            typed[target][1],
            dataset.get("task") if one else None,
            dataset.get("class_names") if one else None,
            what=f"{path.name} column {target!r}",
        )
    given = {}
    for key, field_name in (("validation", "validation_path"), ("test", "test_path")):
        if dataset.get(field_name) and not data_path:
            other = project.path_of(dataset[field_name], f'file in "{field_name}"')
            kinds = {h: typed[h][0] for h in features}
            for target in targets:
                kinds[target] = "numeric" if typed[target][0] == "numeric" else "category"
            _, other_typed = read_table(project, other, kinds)
            labels = {
                t: encode_labels(other_typed[t][1], found[t][1], found[t][2], what=other.name)[0]
                for t in targets
            }
            given[key] = (other_typed, labels[targets[0]] if one else labels)
    classified = [t for t in targets if found[t][1] in ("multiclass", "binary")]
    train = split_indices(
        len(found[targets[0]][0]),
        0.0 if "validation" in given else dataset.get("validation_split", 0.2),
        0.0 if "test" in given else dataset.get("test_split", 0.0),
        shuffle=dataset.get("shuffle", True),
        seed=dataset.get("seed", 42),
        labels=found[classified[0]][0] if classified else None,  # stratified by the first
        what=path.name,
    )
    pre = fit_table(project, features, typed, train[0], targets[0] if one else targets)
    if one:
        y, task, classes = found[targets[0]]
    else:
        y = {t: found[t][0] for t in targets}
        task, classes = "multioutput", []

    def raw(columns, rows):
        x = {}
        for r in pre["inputs"]:
            kind, values, _ = columns[r["column"]]
            values = values if rows is None else values[rows]
            x[r["name"]] = (values.astype(np.float32 if kind == "numeric" else object))[:, None]
        return x

    def labels_of(rows):
        return {t: v[rows] for t, v in y.items()} if isinstance(y, dict) else y[rows]

    out = {"preprocessing": pre, "task": task, "classes": classes}
    if not one:
        out["outputs"] = [
            {"name": t, "task": found[t][1], "classes": list(found[t][2])} for t in targets
        ]
    for key, rows in zip(("train", "validation", "test"), train, strict=True):
        if key in given:
            out[key] = (raw(given[key][0], None), given[key][1])
        else:
            out[key] = (raw(typed, rows), labels_of(rows)) if len(rows) or key == "train" else None
    return out


# ---------------------------------------------------------------------- NumPy arrays
def read_npz(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError) as exc:
        raise Problem(f"{path}: is not a readable NumPy .npz file ({exc}).") from None


def as_features(x: Any, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise Problem(f"{what} holds {x.dtype} values; features must be numbers.")
    x = (x[:, None] if x.ndim < 2 else x).astype(np.float32)
    if not np.isfinite(x).all():
        raise Problem(f"{what} has NaN or infinite values; clean or fill them.")
    return x


def load_arrays(project: Project, data_path: Any = None) -> dict:
    """Arrays x and y (or x_train, y_train and maybe x_val, y_val, x_test, y_test)."""
    dataset = project.dataset
    path = project.data_file(data_path, "NumPy file")
    arrays = read_npz(path)
    if "x" in arrays and "y" in arrays:
        arrays["x_train"], arrays["y_train"] = arrays.pop("x"), arrays.pop("y")
    if "x_val" not in arrays and "x_validation" in arrays:
        arrays["x_val"], arrays["y_val"] = arrays.pop("x_validation"), arrays.pop("y_validation")
    if "x_train" not in arrays or "y_train" not in arrays:
        raise Problem(f'{path.name}: name the features "x" and the labels "y".')
    x = as_features(arrays["x_train"], path.name)
    y, task, classes = encode_labels(
        arrays["y_train"],
        dataset.get("task"),
        dataset.get("class_names"),
        what=f"{path.name} labels",
    )
    given = {}
    splits = (("validation", "val", "validation_path"), ("test", "test", "test_path"))
    for key, short, field_name in splits:
        if "x_" + short in arrays:
            pair, labels = arrays["x_" + short], arrays.get("y_" + short)
        elif dataset.get(field_name) and not data_path:
            other = read_npz(project.path_of(dataset[field_name], f'file in "{field_name}"'))
            pair = other.get("x", other.get("x_train"))
            labels = other.get("y", other.get("y_train"))
        else:
            continue
        if pair is None or labels is None:
            raise Problem(f"{path.name}: the {key} set needs both its arrays, x and y.")
        given[key] = (as_features(pair, path.name), encode_labels(labels, task, classes)[0])
    pre = array_preprocessing(x.shape[1:], "x", scale=project.array_scale)
    return split_data(project, x, y, task, classes, pre, given, what=path.name)


def load_builtin(project: Project, data_path: Any = None) -> dict:
    """One of deepgui's sample data sets, shipped as a CSV table or as NumPy arrays."""
    if str(project.dataset.get("path", "")).lower().endswith(".csv"):
        return load_table(project, data_path)
    return load_arrays(project, data_path)


# ---------------------------------------------------------------------- a folder of images
def class_folders(root: Path, least: int = 2) -> dict:
    """Image files per class subfolder, listed as deepgui lists them: every subfolder is a
    class named as it is (a leading dot too), its image files (regular files only) at any
    depth, folder by folder in sorted order."""
    if not root.is_dir():
        raise Problem(f"{root}: is not a folder of class subfolders with images.")
    classes = {}
    for name in sorted(p.name for p in root.iterdir() if p.is_dir()):
        files = []
        for folder, _, names in sorted(os.walk(os.path.join(root, name)), key=lambda w: w[0]):
            for n in sorted(names):
                path = os.path.join(folder, n)
                if n.lower().endswith(IMAGE_SUFFIXES) and os.path.isfile(path):
                    files.append(path)
        if files:
            classes[name] = files
    if len(classes) < least:
        raise Problem(
            f"{root}: needs at least {least} class subfolders with images, such as "
            f"{root.name}/cats/1.png and {root.name}/dogs/1.png."
        )
    return classes


def decode_image(raw: Any, channels: int) -> Any:
    """One image file's bytes as pixels with `channels` channels, decoded as deepgui decodes
    them: TensorFlow reads a GIF (a palette image) only as RGB, so a GIF is read as RGB and
    then made grayscale or given an opaque alpha channel; its first frame if animated."""
    import tensorflow as tf  # Keras's own image reading needs TensorFlow too

    def gif():
        image = tf.image.decode_image(raw, channels=3, expand_animations=False)
        if channels == 1:
            return tf.image.rgb_to_grayscale(image)
        if channels == 4:
            opaque = tf.fill(tf.shape(image[..., :1]), tf.constant(255, image.dtype))
            return tf.concat([image, opaque], -1)
        return image

    def other():
        return tf.image.decode_image(raw, channels=channels, expand_animations=False)

    return tf.cond(tf.equal(tf.strings.substr(raw, 0, 3), "GIF"), gif, other)


def read_image_folder(root: Path, classes: dict, size: tuple, mode: str, names: list):
    """All images under `root` as float32 pixel values 0-255 (resized as Keras resizes them),
    labels indexed into `names`."""
    import tensorflow as tf

    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[mode]
    paths = [f for files in classes.values() for f in files]
    labels = [i for i, files in enumerate(classes.values()) for _ in files]

    def load(path):
        image = decode_image(tf.io.read_file(path), channels)
        image = tf.image.resize(image, size, method="bilinear")
        image.set_shape((size[0], size[1], channels))
        return image

    try:
        images = tf.data.Dataset.from_tensor_slices(paths).map(load).batch(512)
        xs = list(images.as_numpy_iterator())
    except Exception as exc:  # TensorFlow's decode errors do not name the file
        for f in paths:
            try:
                decode_image(tf.io.read_file(f), 3)
            except Exception:
                raise Problem(f"{f}: is not a readable image (corrupt or truncated).") from None
        raise Problem(f"{root}: the images could not be read ({type(exc).__name__}).") from None
    remap = np.array([names.index(c) for c in classes], dtype=np.int32)
    return np.concatenate(xs).astype(np.float32), remap[np.asarray(labels, dtype=np.int64)]


def first_image(path: str) -> tuple[int, int, int]:
    """The first image's height, width and channels, as deepgui reads them when neither the
    project nor the network says."""
    import tensorflow as tf

    try:
        shape = tf.io.decode_image(tf.io.read_file(path), expand_animations=False).shape
    except Exception:  # TensorFlow's decode errors do not name the file
        raise Problem(f"{path}: is not a readable image (empty or corrupt).") from None
    return int(shape[0]), int(shape[1]), int(shape[2])


def load_images(project: Project, data_path: Any = None) -> dict:
    """A folder with one subfolder of images per class, read at the model's size."""
    dataset = project.dataset
    root = project.data_file(data_path, "image folder")
    classes = class_folders(root)
    size, mode = dataset.get("image_size"), dataset.get("color_mode")
    if not size or not mode:  # the first image's
        height, width, channels = first_image(next(iter(classes.values()))[0])
        size = size or [height, width]
        mode = mode or ("grayscale" if channels == 1 else "rgb")
    size = (int(size[0]), int(size[1]))
    names = list(classes)
    x, y = read_image_folder(root, classes, size, mode, names)
    given = {}
    for key, field_name in (("validation", "validation_path"), ("test", "test_path")):
        if dataset.get(field_name) and not data_path:
            other = project.path_of(dataset[field_name], f'folder in "{field_name}"')
            found = class_folders(other, least=1)
            unknown = [c for c in found if c not in classes]
            if unknown:
                raise Problem(f"{other}: has the class folder {unknown[0]!r}, which {root} lacks.")
            given[key] = read_image_folder(other, found, size, mode, names)
    rescale = 1 / 255 if project.standardize and dataset.get("rescale", True) else None
    image = {"height": size[0], "width": size[1], "color_mode": mode}
    pre = array_preprocessing(x.shape[1:], "image", scale=rescale, image=image)
    task = "binary" if len(names) == 2 else "multiclass"
    return split_data(project, x, y, task, names, pre, given, what=str(root))


# ---------------------------------------------------------------------- a time series
def windows(values, target, window, horizon, stride=1):
    """(samples, window, features), and the target `horizon` rows after each window ends."""
    count = len(values) - window - horizon + 1
    if count <= 0:
        return np.zeros((0, window, values.shape[1]), np.float32), np.zeros(0, np.float32)
    starts = np.arange(0, count, stride)
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)
    x = np.ascontiguousarray(view[starts].transpose(0, 2, 1))
    return x, target[starts + window + horizon - 1].astype(np.float32)


def series_features(project: Project, table: Table) -> list:
    """The feature columns of a time series: the dataset's, else every numeric column."""
    chosen = project.dataset.get("features")
    if chosen:
        return list(chosen)
    return [h for h in table.header if column_kind(table, h)[0] == "numeric"]


def load_timeseries(project: Project, data_path: Any = None) -> dict:
    """A time-series CSV cut into windows of `window` rows of the feature columns, each
    labelled with the target `horizon` rows after it; split in time order."""
    dataset = project.dataset
    path = project.data_file(data_path, "CSV file")
    table = read_csv(path)
    target = dataset.get("target")
    if target not in table.header:
        raise Problem(f"{path.name} has no column {target!r} to forecast.")
    window, horizon = dataset.get("window", 24), dataset.get("horizon", 1)
    names = series_features(project, table)
    for name in names:
        if name not in table.header:
            raise Problem(f"{path.name} has no column {name!r}.")
    values = np.stack([numbers_in(table, h) for h in names], axis=1)
    goal = numbers_in(table, target)
    gaps = np.isnan(values).any(axis=1) | np.isnan(goal)
    if gaps.any():
        policy = dataset.get("missing", "fill")
        if policy in ("refuse", "error"):
            raise Problem(f"{path.name}: {int(gaps.sum())} rows have missing values.")
        if policy == "drop":
            values, goal = values[~gaps], goal[~gaps]
        else:
            values, goal = forward_fill(values), forward_fill(goal[:, None])[:, 0]
    n = len(values)
    n_test = int(round(n * dataset.get("test_split", 0.0)))
    n_val = int(round(n * dataset.get("validation_split", 0.2)))
    bounds = [0, n - n_val - n_test, n - n_test, n]
    if bounds[1] < window + horizon:
        raise Problem(f"{path.name}: the training part has {bounds[1]} rows, too few for a window.")
    mean, std = values[: bounds[1]].mean(axis=0), values[: bounds[1]].std(axis=0)
    std[std < 1e-12] = 1.0
    stride = dataset.get("stride", 1)
    parts = [
        windows(values[lo:hi].astype(np.float32), goal[lo:hi], window, horizon, stride)
        for lo, hi in zip(bounds, bounds[1:], strict=False)
    ]
    if dataset.get("shuffle", True):  # training windows only; each window keeps its order
        order = np.random.default_rng(dataset.get("seed", 42)).permutation(len(parts[0][1]))
        parts[0] = (parts[0][0][order], parts[0][1][order])
    scale = offset = None
    if project.standardize:
        scale = [float(1 / v) for v in std]
        offset = [float(-m / v) for m, v in zip(mean, std, strict=True)]
    pre = array_preprocessing((window, len(names)), "window", scale=scale, offset=offset)
    out = {"preprocessing": pre, "task": "regression", "classes": []}
    for key, (x, y) in zip(("train", "validation", "test"), parts, strict=True):
        out[key] = (x, y) if len(y) or key == "train" else None
    return out


# ---------------------------------------------------------------------- a Keras data set
def load_keras_set(project: Project, data_path: Any = None) -> dict:
    """One of Keras's data sets (downloaded once into ~/.keras): its test split kept as the
    test set, validation taken from its training part."""
    import keras

    dataset = project.dataset
    name = dataset.get("name")
    if data_path:
        raise Problem(f"This project trains on Keras's {name} data set; it takes no DATA.")
    try:
        if name == "imdb":
            words = dataset.get("num_words", 10000)
            (x, y), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=words)
        else:
            (x, y), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as exc:  # no connection, HTTP errors, a broken cache
        raise Problem(
            f"The Keras data set {name!r} could not be downloaded ({type(exc).__name__}: {exc})."
        ) from None
    if name == "imdb":
        length = dataset.get("maxlen", 200)
        x = keras.utils.pad_sequences(x, maxlen=length).astype(np.int32)
        x_test = keras.utils.pad_sequences(x_test, maxlen=length).astype(np.int32)
        pre = array_preprocessing(x.shape[1:], "x", dtype="int32")
    else:
        x, x_test = (a.astype(np.float32) for a in (x, x_test))
        if x.ndim == 3:
            x, x_test = x[..., None], x_test[..., None]
        h, w, c = x.shape[1:]
        image = {"height": h, "width": w, "color_mode": "rgb" if c == 3 else "grayscale"}
        scale = 1 / 255 if project.standardize else None
        pre = array_preprocessing(x.shape[1:], "image", scale=scale, image=image)
    y = np.asarray(y).reshape(-1).astype(np.int32)
    y_test = np.asarray(y_test).reshape(-1).astype(np.int32)
    classes = project.keras_classes
    task = "binary" if len(classes) == 2 else "multiclass"
    given = {"test": (x_test, y_test)}
    return split_data(project, x, y, task, classes, pre, given, what=name)


# The loader of each kind of data set (the dataset's "source").
LOADERS = {
    "csv": load_table,
    "builtin": load_builtin,
    "npz": load_arrays,
    "image_folder": load_images,
    "timeseries": load_timeseries,
    "keras": load_keras_set,
}


# ---------------------------------------------------------------------- preprocessing layers
def layer_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def preprocess(pre: dict, raw: Any) -> Any:
    """The network's inputs made from the raw inputs by Keras layers holding the constants in
    `pre`, group by group (a group's parts side by side)."""
    from keras import layers

    tensors = raw if pre["table"] else {pre["inputs"][0]["name"]: raw}
    by_name = {r["name"]: r for r in pre["inputs"]}
    out = {}
    for group in pre["groups"]:
        parts = []
        for run in numeric_runs([by_name[n] for n in group["inputs"]]):
            if isinstance(run, list):  # neighbouring numeric columns: one set of operations
                parts.append(encode_numbers(run, [tensors[r["name"]] for r in run]))
            else:
                parts.append(encode(run, tensors[run["name"]]))
        if len(parts) == 1:
            out[group["name"]] = parts[0]
        else:
            merge = layers.Concatenate(name=layer_name(group["name"] + "_columns"))
            out[group["name"]] = merge(parts)
    return out if len(out) > 1 else next(iter(out.values()))


def numeric_runs(inputs: list) -> list:
    """The inputs in order, neighbouring numeric columns gathered into lists."""
    out = []
    for r in inputs:
        if r["kind"] == "numeric" and list(r["shape"]) == [1]:
            if out and isinstance(out[-1], list):
                out[-1].append(r)
                continue
            out.append([r])
        else:
            out.append(r)
    return [run[0] if isinstance(run, list) and len(run) == 1 else run for run in out]


def encode_numbers(run: list, tensors: list) -> Any:
    """Numeric columns side by side: each one's gaps become its training median, then
    x * scale + offset standardizes it."""
    import keras
    from keras import layers

    first = layer_name(run[0]["name"])
    x = layers.Concatenate(name=f"numbers_from_{first}")(tensors)
    if any(r["fill"] is not None for r in run):
        fill = np.array([0.0 if r["fill"] is None else r["fill"] for r in run], np.float32)
        x = keras.ops.where(keras.ops.isnan(x), fill, x)
    if any(r["scale"] is not None for r in run):
        scale = [1.0 if r["scale"] is None else r["scale"] for r in run]
        offset = [0.0 if r["offset"] is None else r["offset"] for r in run]
        x = layers.Rescaling(scale=scale, offset=offset, name=f"standardize_from_{first}")(x)
    return x


def encode(r: dict, x: Any) -> Any:
    """The layers for one raw input: a number as above; a category as one-hot columns (the
    first for unseen values) or its index; a text as word ids; an image or array rescaled, or
    passed as it is."""
    import keras
    from keras import layers

    if r["kind"] in ("numeric", "array"):
        if r.get("resize"):  # an image of any size, resized as the loader resized it
            x = layers.Resizing(*r["resize"], name=layer_name("resize_" + r["name"]))(x)
        if r["fill"] is not None:
            x = keras.ops.where(keras.ops.isnan(x), r["fill"], x)
        if r["scale"] is not None:
            x = layers.Rescaling(
                scale=r["scale"],
                offset=r["offset"] or 0.0,
                name=layer_name("scale_" + r["name"]),
            )(x)
        return x
    if r["kind"] == "category":
        x = layers.StringLookup(
            vocabulary=list(r["vocabulary"]) or ["[none]"],
            num_oov_indices=1,
            output_mode="one_hot" if r["one_hot"] else "int",
            name=layer_name("lookup_" + r["name"]),
        )(x)
        return x if r["one_hot"] else keras.ops.cast(x, "float32")
    words = layers.TextVectorization(
        vocabulary=list(r["vocabulary"]) or ["[none]"],
        output_mode="int",
        output_sequence_length=r["sequence_length"],
        name=layer_name("words_" + r["name"]),
    )
    return words(keras.ops.reshape(x, (-1,)))


def raw_inputs(pre: dict) -> Any:
    """One keras.Input per raw input: a dict by name for a table, else the one tensor."""
    import keras

    tensors = {
        r["name"]: keras.Input(shape=tuple(r["shape"]), dtype=r["dtype"], name=r["name"])
        for r in pre["inputs"]
    }
    return tensors if pre["table"] else next(iter(tensors.values()))


def preprocessing_model(pre: dict) -> Any:
    """The preprocessing alone: raw data in, the network's inputs out."""
    import keras

    raw = raw_inputs(pre)
    return keras.Model(raw, preprocess(pre, raw), name="preprocessing")


def named_for(pre: dict, network: Any) -> dict:
    """`pre` with its one raw array input named as the network's input, as the saved model has
    it (a table keeps its column names)."""
    inputs, groups = [dict(r) for r in pre["inputs"]], [dict(g) for g in pre["groups"]]
    pre = dict(pre, inputs=inputs, groups=groups)
    if not pre["table"] and len(pre["inputs"]) == 1 and len(network.inputs) == 1:
        name = str(network.inputs[0].name).split(":")[0]
        pre["inputs"][0]["name"] = name
        pre["groups"][0]["inputs"] = [name]
    return pre


def build_model(pre: dict, network: Any) -> Any:
    """The whole model: the data as you have it in (columns by name, raw pixels), the network's
    outputs out. It holds the same layers in the same order as the model deepgui trains and
    saves, so that model's weights load into this one."""
    import keras

    pre = named_for(pre, network)
    raw = raw_inputs(pre)
    feed = preprocessing_model(pre)(raw)
    if isinstance(feed, dict) and len(network.inputs) == 1:
        raise Problem(
            f"The network has one input but the data feeds {len(feed)} ({', '.join(feed)}): "
            "give it one Input per name."
        )
    return keras.Model(raw, network(feed), name=network.name + "_with_preprocessing")


# ---------------------------------------------------------------------- training
def run_preprocessing(transform: Any, raw: Any, batch: int = 4096) -> Any:
    """The network's inputs: the preprocessing model run once over raw data, in batches."""
    import keras

    n = len(next(iter(raw.values()))) if isinstance(raw, dict) else len(raw)
    chunks = []
    for start in range(0, n, batch):
        if isinstance(raw, dict):
            part = {k: v[start : start + batch] for k, v in raw.items()}
        else:
            part = raw[start : start + batch]
        out = transform(part, training=False)
        if isinstance(out, dict):
            chunks.append({k: keras.ops.convert_to_numpy(v) for k, v in out.items()})
        else:
            chunks.append(keras.ops.convert_to_numpy(out))
    if isinstance(chunks[0], dict):
        return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
    return np.concatenate(chunks)


def preprocessed(data: dict) -> tuple[Any, Any, Any, Any]:
    """(x_train, y_train, validation, test) of what load_data returns: the preprocessing,
    adapted to the training split, run once over each split (validation and test as (x, y)
    or None)."""
    transform = preprocessing_model(data["preprocessing"])
    x_train, y_train = run_preprocessing(transform, data["train"][0]), data["train"][1]
    validation = test = None
    if data["validation"] is not None:
        x, y = data["validation"]
        validation = (run_preprocessing(transform, x), y)
    if data["test"] is not None:
        x, y = data["test"]
        test = (run_preprocessing(transform, x), y)
    return x_train, y_train, validation, test


def check_shapes(network: Any, x: Any) -> None:
    """The data against the network's inputs: one sentence naming both when they differ."""
    if isinstance(x, dict) and len(x) == 1 and len(network.inputs) == 1:
        x = next(iter(x.values()))
    arrays = x if isinstance(x, dict) else {str(network.inputs[0].name).split(":")[0]: x}
    for tensor in network.inputs:
        name = str(tensor.name).split(":")[0]
        if name not in arrays:
            given = ", ".join(arrays)
            raise Problem(f"The network's input {name!r} gets no data; the data gives {given}.")
        want, got = tuple(tensor.shape)[1:], tuple(arrays[name].shape)[1:]
        if len(want) != len(got) or any(w not in (None, g) for w, g in zip(want, got, strict=True)):
            raise Problem(
                f"The network's input {name!r} takes samples of shape {want} but the data gives "
                f"{got}; change the Input layer's shape to {got}."
            )


def default_loss(task: str, units: int | None) -> str:
    """The loss for these labels (two softmax units on binary labels: the sparse one)."""
    if task == "binary" and units is not None and units > 1:
        return "sparse_categorical_crossentropy"
    return {
        "multiclass": "sparse_categorical_crossentropy",
        "binary": "binary_crossentropy",
        "multilabel": "binary_crossentropy",
        "regression": "mse",
    }[task]


def sample_count(y: Any) -> int:
    """Samples in a split's labels: one array, or a dict of arrays by output name."""
    return len(next(iter(y.values()))) if isinstance(y, dict) else len(y)


def balanced_class_weight(task: str, y: Any) -> dict:
    """Each class weighted by the inverse of its share of the training labels."""
    if task not in ("multiclass", "binary"):
        raise Problem(f"Balanced class weights need class labels, not a {task} task.")
    labels = np.asarray(y).reshape(len(y), -1)
    labels = labels[:, 0] if labels.shape[1] == 1 else labels.argmax(axis=1)
    found, counts = np.unique(labels.astype(int), return_counts=True)
    return {
        int(c): float(counts.sum() / (len(found) * n)) for c, n in zip(found, counts, strict=True)
    }


def class_index(names: list, key: str) -> int | None:
    """The index of the class a weight's key names: a class name, or a class index where no
    class has that name (a JSON key is text: "0"); None for neither."""
    if key in names:
        return names.index(key)
    if key.isdigit() and int(key) < len(names):
        return int(key)
    return None


def per_class_weight(task: str, classes: Any, weights: dict) -> dict:
    """{class index: weight} for the weights the project gives by class name, or by class index
    where no class has that name (a JSON key is text: "0"); a class left out weighs 1."""
    if task not in ("multiclass", "binary"):
        raise Problem(
            f"training.class_weight weighs classes, but the data is a {task} task: set it "
            'to "none".'
        )
    names = [str(c) for c in classes]
    out = dict.fromkeys(range(len(names)), 1.0)
    given: dict = {}
    for key, weight in weights.items():
        text = str(key)
        index = class_index(names, text)
        if index is None:
            raise Problem(
                f"training.class_weight names the class {text!r}, which the data does not have "
                f"(its classes: {', '.join(names[:20])})."
            )
        if index in given:
            raise Problem(
                f"training.class_weight weighs the class {names[index]!r} twice (as "
                f"{given[index]!r} and as {text!r}); keep one."
            )
        given[index] = text
        out[index] = float(weight)
    return out


def several_outputs(network, outputs, loss="auto", metrics="auto", weights=None):
    """Each output's loss, metrics and loss weight by output name, for a network with one
    output per target column: the output layer named after the column. "auto" (or an output
    the settings leave out) takes what deepgui takes for that target's task; a weight left out
    is 1."""
    import keras

    names = [str(n) for n in network.output_names]
    targets = [o["name"] for o in outputs]
    if sorted(names) != sorted(targets):
        raise Problem(
            f"The network's output layers are named {', '.join(map(repr, names))} but the target "
            f"columns are {', '.join(map(repr, targets))}; name each output layer after the "
            "target column it predicts."
        )
    widths = {n: t.shape[-1] for n, t in zip(names, network.outputs, strict=True)}
    losses, chosen = {}, {}
    for o in outputs:
        name = o["name"]
        # A dict is per output, unless it is one loss as keras.losses.serialize writes it.
        per_output = isinstance(loss, dict) and "class_name" not in loss
        wanted = loss.get(name, "auto") if per_output else loss
        if isinstance(wanted, dict):
            wanted = keras.losses.deserialize(wanted)
        losses[name] = default_loss(o["task"], widths[name]) if wanted == "auto" else wanted
        wanted = metrics.get(name, "auto") if isinstance(metrics, dict) else metrics
        auto = ["mae"] if o["task"] == "regression" else ["accuracy"]
        chosen[name] = auto if wanted == "auto" else list(wanted)
    if weights is not None:
        weights = {name: float(weights.get(name, 1.0)) for name in names}
    return losses, chosen, weights


def backbones_of(network: Any) -> list:
    """The models the network holds as layers: the backbones that fine-tuning trains."""
    import keras

    found = [layer for layer in network.layers if isinstance(layer, keras.Model)]
    if not found:
        raise Problem(
            "Fine-tuning needs a backbone: a model used as a layer of the network (a Keras "
            "Applications network, or a model of your own)."
        )
    return found


def leaves(model: Any) -> list:
    """Every layer inside `model`, nested models opened, in order."""
    import keras

    out = []
    for layer in model.layers:
        out += leaves(layer) if isinstance(layer, keras.Model) else [layer]
    return out


def freeze_backbones(network: Any) -> None:
    """Phase one of fine-tuning: every backbone frozen, so only the layers after it train."""
    for backbone in backbones_of(network):
        backbone.trainable = False


def unfreeze_top(network: Any, count: int) -> int:
    """Phase two: the top `count` layers with weights of each backbone train (all of them when
    0), BatchNormalization excepted: kept frozen, it runs in inference mode, so the statistics
    it learnt before are not overwritten by a few small batches. Returns how many train."""
    from keras import layers

    unfrozen = 0
    for backbone in backbones_of(network):
        backbone.trainable = True  # Keras sets every inner layer; the loop below narrows it
        inner = [layer for layer in leaves(backbone) if layer.weights]
        chosen = inner if count == 0 else inner[-count:]
        keep = {id(layer) for layer in chosen if not isinstance(layer, layers.BatchNormalization)}
        for layer in leaves(backbone):
            layer.trainable = id(layer) in keep
        unfrozen += len(keep)
    return unfrozen


# ---------------------------------------------------------------------- predicting
def read_for_prediction(project: Project, path: Path, pre: dict, classes: list):
    """(ids, the model's input, the true labels or None) from data as you have it, read by the
    readers this project's model takes."""
    if not path.exists():
        raise Problem(f"{path}: no such file or folder.")
    suffix = path.suffix.lower()
    readers = project.readers
    if path.is_file() and suffix in CSV_SUFFIXES:
        if "table" in readers:
            return read_table_for_prediction(path, pre)
        if "windows" in readers:
            return read_windows_for_prediction(project, path, pre)
    if "images" in readers and (path.is_dir() or suffix in IMAGE_SUFFIXES):
        if not pre.get("image"):
            raise Problem(f"{path}: this model does not take images.")
        return read_images_for_prediction(path, pre)
    if suffix == ".npz":
        return read_npz_for_prediction(path, classes)
    raise Problem(f"{path}: cannot tell what kind of data this is; give {project.data_help}.")


def read_table_for_prediction(path: Path, pre: dict):
    """The model's raw inputs from a CSV: numbers as floats (NaN where missing), categories and
    texts as strings; the target column's labels when the CSV has it."""
    table = read_csv(path)
    header = table.header
    absent = [r["column"] for r in pre["inputs"] if r["column"] not in header]
    if absent:
        raise Problem(
            f"{path.name}: lacks the column{'s' * (len(absent) > 1)} "
            f"{', '.join(repr(c) for c in absent[:5])}, which the model was trained on."
        )
    x = {}
    for r in pre["inputs"]:
        if r["kind"] == "numeric":
            values = numbers_in(table, r["column"]).astype(np.float32)
        else:
            cells = table.cells(r["column"])
            values = np.array(["" if is_missing(c) else c for c in cells], dtype=object)
        x[r["name"]] = values[:, None]
    labels = None
    if isinstance(pre.get("target"), list):  # several target columns: a dict of them
        found = {t: [label_text(c) for c in table.cells(t)] for t in pre["target"] if t in header}
        labels = found or None
    elif pre.get("target") in header:
        labels = [label_text(c) for c in table.cells(pre["target"])]
    return [str(n) for n in table.numbers], x, labels


def read_images_for_prediction(path: Path, pre: dict):
    """One image file, or a folder of them (in class subfolders: their names are the labels),
    read at the model's size and colour mode as raw pixel values 0-255."""
    import keras

    size = (int(pre["image"]["height"]), int(pre["image"]["width"]))
    labels = None
    if path.is_file():
        files = [str(path)]
    else:
        by_class = {}
        for folder in sorted(p for p in path.iterdir() if p.is_dir()):
            found = sorted(str(f) for f in folder.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
            if found:
                by_class[folder.name] = found
        if by_class:
            files = [f for found in by_class.values() for f in found]
            labels = [c for c, found in by_class.items() for _ in found]
        else:
            files = sorted(str(f) for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise Problem(f"{path}: holds no images (png, jpg, gif or bmp).")
    images = []
    for f in files:
        try:
            image = keras.utils.load_img(
                f, color_mode=pre["image"]["color_mode"], target_size=size, interpolation="bilinear"
            )
        except Exception as exc:  # the imaging library's errors do not name the file
            raise Problem(f"{f}: is not a readable image ({type(exc).__name__}).") from None
        images.append(keras.utils.img_to_array(image, dtype="float32"))
    return files, np.stack(images), labels


def read_npz_for_prediction(path: Path, classes: list):
    """The array "x" of an .npz file (x_test, x_val or x_train when it has no "x"), and the
    labels in its "y" when there are as many."""
    arrays = read_npz(path)
    x = next((arrays[k] for k in ("x", "x_test", "x_val", "x_train") if k in arrays), None)
    if x is None:
        raise Problem(f'{path.name}: has no array "x" to predict on.')
    y = next((arrays[k] for k in ("y", "y_test", "y_val", "y_train") if k in arrays), None)
    labels = None
    if y is not None and len(y) == len(x):
        y = np.asarray(y).reshape(len(y), -1)[:, 0]
        if classes and y.dtype.kind in "iu":
            labels = [classes[int(v)] if 0 <= int(v) < len(classes) else str(v) for v in y]
        else:
            labels = [label_text(v) for v in y]
    x = np.asarray(x, dtype=np.int32 if np.asarray(x).dtype.kind in "iu" else np.float32)
    return [str(i) for i in range(len(x))], x, labels


def read_windows_for_prediction(project: Project, path: Path, pre: dict):
    """A time-series CSV cut into every window of the model's length; each window is named by
    the row number of its last row (the prediction is for `horizon` rows after it)."""
    window, width = pre["inputs"][0]["shape"]
    table = read_csv(path)
    names = series_features(project, table)
    absent = [n for n in names if n not in table.header]
    if absent or len(names) != width:
        raise Problem(
            f"{path.name}: the model takes {width} feature columns per row, but this file has "
            f"{len(names) - len(absent)} of them ({', '.join(repr(n) for n in names[:6])})."
        )
    values = np.stack([numbers_in(table, n) for n in names], axis=1)
    if np.isnan(values).any():
        values = forward_fill(values)
    count = len(values) - window + 1
    if count <= 0:
        raise Problem(f"{path.name}: has {len(values)} rows, fewer than one window of {window}.")
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)
    x = np.ascontiguousarray(view[:count].transpose(0, 2, 1)).astype(np.float32)
    return [str(table.numbers[i + window - 1]) for i in range(count)], x, None


def run_outputs(model: Any, x: Any, batch: int = 4096) -> list:
    """Each of the model's outputs on `x` (an array, or a dict of arrays by input name), in
    batches, as (n, k) arrays in the order the model returns them."""
    import keras

    n = len(next(iter(x.values()))) if isinstance(x, dict) else len(x)
    outs = []
    for start in range(0, n, batch):
        if isinstance(x, dict):
            part = {k: v[start : start + batch] for k, v in x.items()}
        else:
            part = x[start : start + batch]
        out = model(part, training=False)
        if isinstance(out, dict):
            out = list(out.values())
        elif not isinstance(out, list | tuple):
            out = [out]
        rows = min(batch, n - start)
        outs.append(
            [np.asarray(keras.ops.convert_to_numpy(o), dtype=np.float64).reshape(rows, -1)
             for o in out]
        )  # fmt: skip
    if not outs:
        return [np.zeros((0, 1))]
    return [np.concatenate(parts) for parts in zip(*outs, strict=True)]


def run_model(model: Any, x: Any, batch: int = 4096) -> np.ndarray:
    """The model's first output on `x`, in batches, as an (n, k) array."""
    return run_outputs(model, x, batch)[0]


def class_columns(outputs: np.ndarray, classes: list, task: str, threshold=None):
    """(class names, one probability per class, the predicted labels) of a classifier's
    output; a single sigmoid unit gives P(second class). Two classes with a `threshold` (the
    signature's): the second from that probability up."""
    classes = classes or [str(i) for i in range(max(outputs.shape[1], 2))]
    probabilities = outputs
    if outputs.shape[1] == 1 and len(classes) == 2:
        probabilities = np.concatenate([1.0 - outputs, outputs], axis=1)
    if task == "multilabel":
        predicted = [
            ";".join(c for c, p in zip(classes, row, strict=True) if p >= 0.5)
            for row in probabilities
        ]
    elif threshold is not None and probabilities.shape[1] == 2:
        predicted = [classes[int(p >= threshold)] for p in probabilities[:, 1]]
    else:
        predicted = [classes[i] for i in probabilities.argmax(axis=1)]
    return classes, probabilities, predicted


def one_output_table(ids, outputs, task, classes, pre, labels, threshold=None):
    """(header, rows, summary): the row number or file, the predicted class and one
    probability per class (a regression: the predicted value), and the true label where the
    data has it. Two classes are decided at `threshold` when the signature has one."""
    classes = classes or [str(i) for i in range(max(outputs.shape[1], 2))]
    if task != "regression" and outputs.shape[1] == 1 and len(classes) > 2:
        task = "regression"
    first = "file" if ids and not ids[0].isdigit() else "row"
    predicted = None
    if task == "regression":
        header = [first, "prediction"]
        rows = [[i, f"{v:.6g}"] for i, v in zip(ids, outputs[:, 0], strict=True)]
    else:
        classes, probabilities, predicted = class_columns(outputs, classes, task, threshold)
        header = [first, "predicted", *(f"p({c})" for c in classes)]
        rows = [
            [i, label, *(f"{p:.6f}" for p in row)]
            for i, label, row in zip(ids, predicted, probabilities, strict=True)
        ]
    if labels is not None:
        header.append(pre.get("target") or "label" if pre.get("table") else "label")
        for row, label in zip(rows, labels, strict=True):
            row.append(label)
    summary = f"Predicted {len(ids)} sample{'s' * (len(ids) != 1)}"
    if labels is not None and predicted is not None and task != "multilabel" and ids:
        right = sum(p == str(t) for p, t in zip(predicted, labels, strict=True))
        summary += f"; accuracy {right / len(ids):.4f} against the labels in the data"
    return header, rows, summary


def several_outputs_table(ids, arrays, outputs, labels):
    """(header, rows, summary) of a model with several outputs: per output, named after it,
    NAME (the predicted class) and NAME_p(CLASS) per class, or NAME (the predicted value); then
    NAME_true for each target column the data holds (`labels`, by name)."""
    first = "file" if ids and not ids[0].isdigit() else "row"
    header, columns, scores = [first], [], []
    labels = labels if isinstance(labels, dict) else {}
    for info, out in zip(outputs, arrays, strict=True):
        name, task, truth = info["name"], info["task"], labels.get(info["name"])
        if task != "regression" and out.shape[1] == 1 and len(info["classes"]) > 2:
            task = "regression"
        if task == "regression":
            header.append(name)
            columns.append([[f"{v:.6g}"] for v in out[:, 0]])
            if truth is not None:
                values = np.array([number_or_nan(t) for t in truth], dtype=np.float64)
                known = np.isfinite(values)
                if known.any():
                    error = np.abs(out[known, 0] - values[known]).mean()
                    scores.append(f"{name} mean absolute error {error:.4f}")
            continue
        classes, probabilities, predicted = class_columns(out, list(info["classes"]), task)
        header += [name, *(f"{name}_p({c})" for c in classes)]
        columns.append(
            [[label, *(f"{p:.6f}" for p in row)]
             for label, row in zip(predicted, probabilities, strict=True)]
        )  # fmt: skip
        if truth is not None and task != "multilabel":
            pairs = [
                (p, str(t)) for p, t in zip(predicted, truth, strict=True)
                if str(t).strip() not in ("", "nan", "None")
            ]  # fmt: skip
            if pairs:
                right = sum(p == t for p, t in pairs)
                scores.append(f"{name} accuracy {right / len(pairs):.4f}")
    for info in outputs:
        if labels.get(info["name"]) is not None:
            header.append(info["name"] + "_true")
            columns.append([[t] for t in labels[info["name"]]])
    rows = [[i] for i in ids]
    for cells in columns:
        for row, more in zip(rows, cells, strict=True):
            row.extend(more)
    names = ", ".join(info["name"] for info in outputs)
    summary = f"Predicted {len(ids)} sample{'s' * (len(ids) != 1)} for the outputs {names}"
    if scores:
        summary += "; against the data's own values: " + ", ".join(scores)
    return header, rows, summary


def number_or_nan(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")
