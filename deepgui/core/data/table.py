"""Reading a CSV into columns of strings and deciding what each column is: numbers, categories
or free text. NumPy's parser where it can, else the exported script's reader (plain ``csv``);
rows are numbered as a spreadsheet shows them (header = 1)."""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deepgui import script_runtime
from deepgui.core import fileio, limits
from deepgui.core.errors import DatasetError

# The exported script reads data as deepgui does: these are its, and deepgui's.
MISSING_TOKENS = script_runtime.MISSING_TOKENS
KINDS = ("numeric", "category", "text", "ignore")
MAX_ONE_HOT = script_runtime.MAX_ONE_HOT  # more categories than this are integer-encoded
# Models compute in 32-bit floats: a value beyond this (3.4e38 is their limit, and the
# standardization divides by the spread) would become infinity, or scale every value to zero.
MAX_MAGNITUDE = script_runtime.MAX_MAGNITUDE
_DECIMAL_COMMA = script_runtime.DECIMAL_COMMA  # 1,5  -2,75  3  1,5e3
_BLANK_LINE = re.compile(rb"\n\r?\n")
# NumPy's parser of string cells slows down faster than a row grows (40 rows of 4,000 columns:
# 4 s, against 0.08 s through the csv module); a wider file's text goes through the csv module.
_NUMPY_TEXT_COLUMNS = 256


def max_bytes() -> int:
    """The biggest CSV read: its cells take several times its size once parsed."""
    return fileio.memory_budget() // 8


@dataclass
class Table:
    """A CSV's columns. Columns of numbers only may come already parsed (`floats`, by name); their
    text is made only if asked for. Every other column is an array of strings in `text`."""

    path: Path
    header: list[str]
    text: list[np.ndarray | None]
    row_numbers: np.ndarray  # spreadsheet row number of each data row
    floats: dict[str, np.ndarray] = field(default_factory=dict)
    delimiter: str = ","
    # Each column's position by name, so that typing every column of a wide file is linear.
    _positions: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_rows(self) -> int:
        return len(self.row_numbers)

    @property
    def cells(self) -> list[np.ndarray]:
        return [self.column(h) for h in self.header]

    def column(self, name: str) -> np.ndarray:
        i = self.index(name)
        if self.text[i] is None:
            self.text[i] = _as_text(self.floats[name])
        return self.text[i]

    def index(self, name: str) -> int:
        if len(self._positions) != len(self.header):
            self._positions = {h: i for i, h in enumerate(self.header)}
        try:
            return self._positions[name]
        except KeyError:
            shown = ", ".join(repr(h) for h in self.header[:12])
            raise DatasetError(
                f"{self.path.name} has no column {name!r}; its columns are {shown}."
            ) from None


def _as_text(values: np.ndarray) -> np.ndarray:
    integral = np.isfinite(values) & (np.mod(values, 1) == 0)
    out = values.astype(str)
    out[integral] = values[integral].astype(np.int64).astype(str)
    return out


@dataclass
class Column:
    """A column read and typed: `values` are floats for numeric columns, strings otherwise."""

    name: str
    kind: str
    values: np.ndarray
    missing: np.ndarray  # bool per row
    categories: list[str] = field(default_factory=list)


def read_csv(path: Path, max_rows: int | None = None) -> Table:
    """Read a delimited text file (comma, semicolon or tab, sniffed from the header line).
    Whole regular files go through NumPy's C parser; anything it refuses (ragged rows, blank
    lines, quoted line breaks) through the exported script's reader (script_runtime.read_csv,
    one implementation of what a CSV is), which also words the errors. Only a regular file is
    read (a device or a pipe is refused), only one that fits in memory, and only one of at most
    limits.MAX_COLUMNS columns (refused from its header line, before the rest is read)."""
    fileio.check_file(path, "CSV file", max_bytes(), error=DatasetError)
    _check_width(Path(path))
    if max_rows is None:
        table = _read_fast(Path(path))
        if table is not None:
            return table
    try:
        read = script_runtime.read_csv(path, max_rows)
    except script_runtime.Problem as exc:
        raise DatasetError(str(exc)) from None
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise DatasetError(f"{path}: is a folder, not a CSV file.") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    cells = [np.array(column) for column in zip(*read.rows, strict=True)]
    numbers = np.array(read.numbers, dtype=np.int64)
    return Table(Path(path), read.header, cells, numbers, delimiter=read.delimiter)


def _check_width(path: Path) -> None:
    """Refuse a file whose header line names more columns than deepgui takes. Counted with the
    csv module, so a delimiter inside quotes is no column; a header it cannot read is left to
    the reader, which says what is wrong with it."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            line = fh.readline()
        delimiter = script_runtime.sniff_delimiter(path, line)
        header = next(csv.reader([line], delimiter=delimiter), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return
    problem = limits.refusal("columns", len(header), limits.MAX_COLUMNS)
    if problem:
        raise DatasetError(f"{path.name} {problem}")


def _read_fast(path: Path) -> Table | None:
    """The whole file through np.loadtxt: floats when every cell is a number, else strings.
    None when the file needs the careful path (or fails: the careful path then says why)."""
    try:
        data = fileio.read_bytes(path, "CSV file", max_bytes(), error=DatasetError)
        header_end = data.find(b"\n") + 1
        header_line = data[:header_end].decode("utf-8-sig")
    except (DatasetError, ValueError):
        return None
    end = len(data)
    while end > header_end and data[end - 1] in b"\r\n":
        end -= 1
    # Data lines up to the last non-empty one; NumPy skips blank lines, so a different count
    # means blank lines (or line breaks inside quotes): the careful path then numbers rows.
    expected = data.count(b"\n", header_end, end) + 1
    # Found before parsing, a blank line spares NumPy parsing the whole file for nothing.
    blank = _BLANK_LINE.search(data, header_end, end) is not None
    del data
    if header_end == 0 or end == header_end or blank:
        return None
    delimiter = script_runtime.sniff_delimiter(path, header_line)
    header = next(csv.reader([header_line.rstrip("\r\n")], delimiter=delimiter), [])
    header = [h.strip() for h in header]
    if len(header) < 2 or not all(header) or len(set(header)) != len(header):
        return None
    numbers = np.arange(2, expected + 2)
    everything = _loadtxt(path, delimiter, np.float64)
    if everything is not None:
        if everything.shape != (expected, len(header)):
            return None
        floats = {h: everything[:, j] for j, h in enumerate(header)}
        return Table(path, header, [None] * len(header), numbers, floats, delimiter)
    # Mixed: columns whose first rows are all numbers are parsed as floats by NumPy (its
    # string-to-float conversion afterwards is several times slower); the rest as strings.
    try:
        sample = read_csv(path, max_rows=200)
    except DatasetError:
        return None
    numeric = [j for j, c in enumerate(sample.text) if _all_floats(c)]
    numbered = set(numeric)
    others = [j for j in range(len(header)) if j not in numbered]
    if len(others) > _NUMPY_TEXT_COLUMNS:
        return None
    parsed = _loadtxt(path, delimiter, np.float64, numeric) if numeric else np.zeros((expected, 0))
    if parsed is None:
        numeric, others, parsed = [], list(range(len(header))), np.zeros((expected, 0))
    strings = _loadtxt(path, delimiter, str, others)
    if strings is None or strings.shape != (expected, len(others)) or len(parsed) != expected:
        return None
    text: list[np.ndarray | None] = [None] * len(header)
    for k, j in enumerate(others):
        text[j] = np.ascontiguousarray(strings[:, k])
    floats = {header[j]: parsed[:, k] for k, j in enumerate(numeric)}
    return Table(path, header, text, numbers, floats, delimiter)


def _loadtxt(path: Path, delimiter: str, dtype, usecols: list[int] | None = None):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy's note on blank lines: rows are counted
            return np.loadtxt(
                path, delimiter=delimiter, dtype=dtype, comments=None, quotechar='"',
                ndmin=2, skiprows=1, encoding="utf-8", usecols=usecols,
            )  # fmt: skip
    except (ValueError, UnicodeDecodeError):
        return None


def _all_floats(cells: np.ndarray) -> bool:
    try:
        return bool(np.isfinite(cells.astype(np.float64)).all())
    except ValueError:
        return False


# Case variants spelled out: comparing is a fast ufunc, lower-casing a slow Python loop.
_MISSING_SPELLINGS = sorted(script_runtime.MISSING_CELLS)
# NumPy 2's string ufuncs are several times faster than the older np.char functions.
_strings = getattr(np, "strings", np.char)


def missing_mask(cells: np.ndarray) -> np.ndarray:
    """Empty cells and the usual spellings of "not available"; only short cells can be one."""
    short = np.flatnonzero(_strings.str_len(cells) <= 16)
    mask = np.zeros(len(cells), bool)
    if len(short):
        mask[short] = np.isin(_strings.strip(cells[short]), _MISSING_SPELLINGS)
    return mask


def type_column(table: Table, name: str, kind: str | None = None) -> Column:
    """Type one column: numbers (standardized later), categories (few distinct strings) or text
    (many distinct strings of several words). `kind` forces the choice."""
    if kind is not None and kind not in KINDS:
        raise DatasetError(
            f'The dataset field "columns" gives {name!r} the kind {kind!r}; use one of {", ".join(KINDS)}.'
        )
    if name in table.floats and kind in (None, "numeric"):
        values = table.floats[name]
        return _numeric(table, name, values, ~np.isfinite(values))
    cells = table.column(name)
    if kind in (None, "numeric"):
        try:  # fast path: every cell a number (NaN and inf count as missing)
            values = cells.astype(np.float64)
            return _numeric(table, name, values, ~np.isfinite(values))
        except ValueError:
            pass
    missing = missing_mask(cells)
    present = cells[~missing]
    values = np.full(len(cells), np.nan)
    if kind in (None, "numeric"):
        try:
            values[~missing] = present.astype(np.float64)
            return _numeric(table, name, values, missing | ~np.isfinite(values))
        except ValueError:
            pass
        commas = _decimal_commas(table, name, cells, missing)
        if commas is not None:
            values[~missing] = commas
            return _numeric(table, name, values, missing | ~np.isfinite(values))
    uniq, inverse = np.unique(present, return_inverse=True)
    numeric_uniq = np.array([_is_float(u) for u in uniq], dtype=bool)
    is_number = numeric_uniq[inverse] if len(present) else np.zeros(0, bool)
    if kind == "numeric" or (kind is None and is_number.mean() >= 0.5):
        bad = np.flatnonzero(~missing)[np.flatnonzero(~is_number)[0]]
        count = int((~is_number).sum())
        more = f" ({count} such cells in all)" if count > 1 else ""
        if is_number.mean() < 0.5:  # text throughout, where numbers are needed
            raise DatasetError(
                f"{table.path.name}: column {name!r} holds text, not numbers (row "
                f"{table.row_numbers[bad]}: {str(cells[bad])!r}); choose a numeric column."
            )
        raise DatasetError(
            f"{table.path.name}: row {table.row_numbers[bad]}, column {name!r} holds the text "
            f"{str(cells[bad])!r} in a numeric column{more}; correct it, or mark it as missing (leave it empty)."
        )
    if kind is None:
        words = np.char.count(np.char.strip(uniq[:2000]), " ").mean() + 1 if len(uniq) else 0
        many = len(uniq) > 50 and len(uniq) > 0.2 * max(len(present), 1)
        kind = "text" if words >= 3 or many else "category"
    strings = np.where(missing, "", cells)
    return Column(
        name, kind, strings, missing, [str(u) for u in uniq] if kind == "category" else []
    )


def _numeric(table: Table, name: str, values: np.ndarray, missing: np.ndarray) -> Column:
    """A numeric column, refused (naming it) when a value is beyond what a model computes in."""
    finite = values[~missing]
    if finite.size:
        big = np.abs(finite) > MAX_MAGNITUDE
        if big.any():
            row = np.flatnonzero(~missing)[np.flatnonzero(big)[0]]
            raise DatasetError(
                f"{table.path.name}: column {name!r} holds {values[row]:g} (row "
                f"{table.row_numbers[row]}), beyond what a model computes with (at most "
                f"about {MAX_MAGNITUDE:g} in size); rescale the column, for example to other "
                'units, or mark it "ignore".'
            )
    return Column(name, "numeric", values, missing)


def _decimal_commas(
    table: Table, name: str, cells: np.ndarray, missing: np.ndarray
) -> np.ndarray | None:
    """The present cells as numbers when they are written with decimal commas (1,5): read so
    in a file separated by semicolons or tabs, where a comma cannot be a separator. In a comma-
    separated file (quoted "1,5") a comma may as well separate thousands: named, not guessed."""
    present = [str(c) for c in cells[~missing]]
    if not present or not any("," in c for c in present):
        return None
    if not all(_DECIMAL_COMMA.fullmatch(c) for c in present):
        return None
    if table.delimiter == ",":
        row = table.row_numbers[np.flatnonzero(~missing)[next(i for i, c in enumerate(present)
                                                              if "," in c)]]  # fmt: skip
        example = next(c for c in present if "," in c)
        raise DatasetError(
            f"{table.path.name}: column {name!r} writes numbers with commas (row {row}: "
            f"{example!r}), which in a comma-separated file could be decimal commas or "
            "thousands separators; save the file with decimal points, or separated by "
            "semicolons."
        )
    return np.array([float(c.strip().replace(",", ".")) for c in present], dtype=np.float64)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def describe_missing(path: Path, cells: list[tuple[int, str]], total: int) -> str:
    """One sentence listing where values are missing, the first few by row and column."""
    shown = ", ".join(f"row {r} column {c!r}" for r, c in cells[:5])
    more = f" and {total - 5} more" if total > 5 else ""
    noun = "value is" if total == 1 else "values are"
    return (
        f'{path.name}: {total} {noun} missing ({shown}{more}); set the dataset\'s "missing" to '
        '"drop" to leave those rows out or "fill" to fill them in.'
    )
