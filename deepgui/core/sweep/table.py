"""The trials of a sweep as a table, DIR/trials.csv: one row per trial, with the columns
`trial`, `status` (completed, failed, stopped), the objective named as its metric (val_loss)
and one column per NAME the sweep varies; with ranks taking trials, last, the `rank` that ran
each (0: the chief). It is rewritten whole after every trial."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepgui.core import fileio
from deepgui.core.sweep.space import format_value

TRIALS_CSV = "trials.csv"
COMPLETED, FAILED, STOPPED = "completed", "failed", "stopped"


@dataclass
class Trial:
    """One trial as the table and a front end show it."""

    number: int  # from 1
    status: str  # completed, failed or stopped
    values: dict[str, Any]  # NAME -> the value the trial trained with
    objective: float | None = None  # its best epoch's value of the objective
    run_dir: Path | None = None
    message: str = ""  # why it failed
    epochs: int = 0  # epochs trained
    metrics: dict[str, Any] = field(default_factory=dict, repr=False)  # its best epoch's
    rank: int | None = None  # the rank that ran it, in a sweep over several machines

    def describe(self, objective: str) -> str:
        """trial 3: completed, val_loss 0.3121, hidden.units=32 training.optimizer=sgd"""
        score = "" if self.objective is None else f", {objective} {self.objective:.4g}"
        values = " ".join(f"{k}={format_value(v)}" for k, v in self.values.items())
        why = f" ({self.message})" if self.message and self.status == FAILED else ""
        return f"trial {self.number}: {self.status}{score}, {values}{why}"


def best(trials: list[Trial], direction: str) -> Trial | None:
    """The completed trial with the best objective (the earliest of equals); None: none."""
    scored = [t for t in trials if t.status == COMPLETED and _finite(t.objective)]
    if not scored:
        return None
    sign = -1 if direction == "max" else 1
    return min(scored, key=lambda t: (sign * t.objective, t.number))


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def csv_text(objective: str, names: list[str], trials: list[Trial]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    ranks = any(t.rank is not None for t in trials)
    writer.writerow(["trial", "status", objective, *names, *(["rank"] if ranks else [])])
    for t in sorted(trials, key=lambda t: t.number):
        score = "" if t.objective is None else repr(float(t.objective))
        rank = [_cell(t.rank)] if ranks else []
        writer.writerow([t.number, t.status, score, *(_cell(t.values.get(n)) for n in names),
                         *rank])  # fmt: skip
    return buf.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def write(folder: Path, objective: str, names: list[str], trials: list[Trial]) -> Path:
    return fileio.atomic_write_text(Path(folder) / TRIALS_CSV, csv_text(objective, names, trials))


def read(folder: Path) -> list[dict[str, str]]:
    """trials.csv's rows, each a dict of its columns (text as written)."""
    text = fileio.read_text(Path(folder) / TRIALS_CSV, "trials file")
    return list(csv.DictReader(io.StringIO(text, newline="")))
