"""The overfitting detector: pure Python, fed one epoch's logs at a time.

It flags two things, each once per episode (it re-arms when validation loss reaches a new best):

- rising: validation loss has stayed above its best for `patience` epochs, ending clearly
  higher than its best, while training loss kept falling over the same epochs;
- gap: validation loss has moved more than `gap` (a fraction, 0.2 = 20 %) above its best while
  training loss is no higher than it was at that best.

Epochs are counted from 1, as a person reads them. The epoch a report gives as the start is the
first epoch after the best validation loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class OverfittingReport:
    epoch: int  # where it began: the first epoch after the best validation loss
    detected_at: int
    kind: str  # "rising" or "gap"
    reason: str
    best_epoch: int
    best_val_loss: float
    remedies: list[Any] = field(default_factory=list)  # filled by the engine (see remedies.py)

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "reason": self.reason}


class OverfittingDetector:
    """Call `update(epoch, logs)` after every epoch; it returns a report when it flags."""

    def __init__(self, patience: int = 3, gap: float = 0.2, min_rise: float = 0.02) -> None:
        self.patience = max(1, int(patience))
        self.gap = float(gap)
        self.min_rise = float(min_rise)  # below this a "rise" is noise
        self.epochs: list[int] = []
        self.loss: list[float] = []
        self.val_loss: list[float] = []
        self.reports: list[OverfittingReport] = []
        self._armed = {"rising": True, "gap": True}
        self._best_index: int | None = None

    def update(self, epoch: int, logs: dict[str, Any]) -> OverfittingReport | None:
        loss, val = logs.get("loss"), logs.get("val_loss")
        if not _finite(loss) or not _finite(val):
            return None  # no validation data (or a broken epoch): nothing to compare
        self.epochs.append(int(epoch))
        self.loss.append(float(loss))
        self.val_loss.append(float(val))
        i = len(self.val_loss) - 1
        if self._best_index is None or self.val_loss[i] < self.val_loss[self._best_index]:
            self._best_index = i
            self._armed = {"rising": True, "gap": True}  # a new best ends an episode
            return None
        report = self._check_rising(i) or self._check_gap(i)
        if report:
            self.reports.append(report)
        return report

    def _check_rising(self, i: int) -> OverfittingReport | None:
        b = self._best_index
        since = i - b
        if not self._armed["rising"] or since < self.patience:
            return None
        best = self.val_loss[b]
        window = range(i - self.patience + 1, i + 1)
        vals = [self.val_loss[j] for j in window]
        losses = [self.loss[j] for j in range(i - self.patience, i + 1)]
        rose = vals[-1] > best * (1 + self.min_rise) + 1e-12 and vals[-1] >= vals[0]
        fell = losses[-1] < losses[0]
        if not (rose and fell):
            return None
        self._armed["rising"] = False
        start = self.epochs[b + 1]
        reason = (
            f"validation loss has risen for {since} epochs (from {best:.4g} at epoch "
            f"{self.epochs[b]} to {self.val_loss[i]:.4g}) while training loss kept falling"
        )
        return self._report(start, i, "rising", reason)

    def _check_gap(self, i: int) -> OverfittingReport | None:
        b = self._best_index
        if not self._armed["gap"]:
            return None
        best = self.val_loss[b]
        rel = (self.val_loss[i] - best) / max(abs(best), 1e-12)
        if rel <= self.gap or self.loss[i] > self.loss[b]:
            return None
        self._armed["gap"] = False
        start = self.epochs[b + 1]
        reason = (
            f"validation loss is {rel:.0%} above its best ({best:.4g} at epoch "
            f"{self.epochs[b]}) while training loss is still falling"
        )
        return self._report(start, i, "gap", reason)

    def _report(self, start: int, i: int, kind: str, reason: str) -> OverfittingReport:
        b = self._best_index
        return OverfittingReport(
            epoch=start,
            detected_at=self.epochs[i],
            kind=kind,
            reason=reason,
            best_epoch=self.epochs[b],
            best_val_loss=self.val_loss[b],
        )

    def replay(self, rows: list[dict[str, Any]]) -> None:
        """Feed a resumed run's history back in, so the detector picks up where it was."""
        for row in rows:
            self.update(int(row["epoch"]), row)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
