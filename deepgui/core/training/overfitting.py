"""The overfitting detector: pure Python, fed one epoch's logs at a time.

It flags two things, each once per episode (it re-arms when validation loss reaches a new best),
and only on a rise that lasts: a single epoch's spike is noise, not overfitting.

- rising: validation loss has stayed above its best for `patience` epochs, its last two
  epochs clearly higher than its best, while training loss kept falling over the same epochs;
- gap: validation loss has stayed more than `gap` (a fraction, 0.2 = 20 %) above its best for
  two epochs in a row (one when `patience` is 1) while training loss is no higher than it was
  at that best.

Both rules also ask that the rise be large against the loss's own scale: at least `min_scale`
(1 %) of the first epoch's validation loss. A classifier that has driven its loss from 1.1 to
0.0005 is nearly certain of every validation sample; that loss tripling to 0.0016 is a few
samples a hair less certain, not memorisation, however large the rise is against the best.

A flag is revisited as epochs come (`assess`): when validation loss later reaches a new best,
the rise was not lasting, and what the banner says follows the run's own best epoch.

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
    params: int = 0  # the model's weights when it was found: remedies weigh it against the data

    def to_dict(self) -> dict[str, Any]:
        """As metrics.json lists it: where it began and why, and what `revise` needs to say
        later whether it still holds."""
        return {
            "epoch": self.epoch,
            "reason": self.reason,
            "kind": self.kind,
            "detected_at": self.detected_at,
            "best_epoch": self.best_epoch,
            "best_val_loss": self.best_val_loss,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OverfittingReport:
        """A stored flag back; one from before flags kept their best (only `epoch` and
        `reason`) gets it from the definition: the best was the epoch before it began."""
        epoch = int(data["epoch"])
        best = data.get("best_val_loss")
        return cls(
            epoch=epoch,
            detected_at=int(data.get("detected_at") or epoch),
            kind=str(data.get("kind") or "rising"),
            reason=str(data.get("reason") or ""),
            best_epoch=int(data.get("best_epoch") or epoch - 1),
            best_val_loss=float(best) if _finite(best) else math.inf,
        )


class OverfittingDetector:
    """Call `update(epoch, logs)` after every epoch; it returns a report when it flags."""

    def __init__(
        self, patience: int = 3, gap: float = 0.2, min_rise: float = 0.02, min_scale: float = 0.01
    ) -> None:
        self.patience = max(1, int(patience))
        self.gap = float(gap)
        self.min_rise = float(min_rise)  # below this, of the best, a "rise" is noise
        self.min_scale = float(min_scale)  # below this, of the first epoch's loss, it is too
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
        clearly = best + self._least_rise(best)
        # Sustained: the last two epochs (one with patience 1) both clearly above the best.
        lasting = all(v > clearly for v in vals[-min(2, self.patience) :])
        rose = lasting and vals[-1] >= vals[0]
        fell = losses[-1] < losses[0]
        if not (rose and fell):
            return None
        self._armed["rising"] = False
        start = self.epochs[b + 1]
        reason = (
            f"validation loss has risen for {since} epochs (from {best:.4g} at epoch "
            f"{self.epochs[b]} to {self.val_loss[i]:.4g} at epoch {self.epochs[i]}) while "
            "training loss kept falling"
        )
        return self._report(start, i, "rising", reason)

    def _check_gap(self, i: int) -> OverfittingReport | None:
        b = self._best_index
        if not self._armed["gap"]:
            return None
        best = self.val_loss[b]
        confirm = min(2, self.patience)  # epochs in a row: one spike is not a gap
        if i - b < confirm:
            return None
        rels = [
            (self.val_loss[j] - best) / max(abs(best), 1e-12) for j in range(i - confirm + 1, i + 1)
        ]
        rel = rels[-1]
        if min(rels) <= self.gap or self.loss[i] > self.loss[b]:
            return None
        least = best + self._least_rise(best)
        if any(self.val_loss[j] <= least for j in range(i - confirm + 1, i + 1)):
            return None  # far above a tiny best, but tiny against the loss's own scale
        self._armed["gap"] = False
        start = self.epochs[b + 1]
        # Said of its epoch: later epochs move the figure, and `assess` gives the latest.
        reason = (
            f"at epoch {self.epochs[i]} validation loss was {rel:.0%} above its best "
            f"({best:.4g} at epoch {self.epochs[b]}) while training loss was still falling"
        )
        return self._report(start, i, "gap", reason)

    def _least_rise(self, best: float) -> float:
        """How far above its best validation loss must be before a rise counts: `min_rise` of
        the best, and `min_scale` of the loss's own scale (its first epoch; the larger of the
        two magnitudes, so a loss that starts near zero or below it still has one)."""
        scale = max(abs(self.val_loss[0]), abs(best))
        return max(abs(best) * self.min_rise, scale * self.min_scale) + 1e-12

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


@dataclass(frozen=True)
class OverfittingStatus:
    """What the overfitting banner says now, for a report and the epochs seen since."""

    active: bool  # still overfitting at the newest epoch (False: a new best came after it)
    started: int  # the first epoch after the best the flag was raised from
    best_epoch: int  # the run's own best so far: its lowest validation loss
    best_val_loss: float
    headline: str
    explanation: str


def best_epoch(rows: list[dict[str, Any]]) -> tuple[int, float] | None:
    """(epoch, validation loss) of the lowest validation loss, the first of equals: the same
    best a run's metrics.json names."""
    scored = [r for r in rows if _finite(r.get("val_loss"))]
    if not scored:
        return None
    row = min(scored, key=lambda r: r["val_loss"])
    return int(row["epoch"]), float(row["val_loss"])


def assess(report: OverfittingReport, rows: list[dict[str, Any]]) -> OverfittingStatus:
    """Revisit `report` given every epoch so far (history rows with `epoch` and `val_loss`):
    still overfitting, or over because validation loss reached a new best since. The one rule
    for the banner (live) and for the run's metrics.json (`revise`)."""
    best = best_epoch(rows) or (report.best_epoch, report.best_val_loss)
    now = _latest(rows)
    if best[0] > report.best_epoch:
        return OverfittingStatus(
            active=False,
            started=report.epoch,
            best_epoch=best[0],
            best_val_loss=best[1],
            headline=f"Validation loss improved again: its best is now epoch {best[0]}.",
            explanation=(
                f"It rose from epoch {report.epoch} to {report.detected_at} ({report.reason}), "
                f"then reached a new low of {best[1]:.4g} at epoch {best[0]}, so that rise did "
                "not last. If it rises again, these remedies help:"
            ),
        )
    return OverfittingStatus(
        active=True,
        started=report.epoch,
        best_epoch=best[0],
        best_val_loss=best[1],
        headline=f"The model has started to overfit (from epoch {report.epoch}).",
        explanation=(
            "It is memorising the training data instead of learning what generalises: "
            f"{report.reason}.{_since_then(report, best, now)} The best model so far was at "
            f"epoch {best[0]} (validation loss {best[1]:.4g}). Pick a remedy for the next run "
            "(each is one undoable edit):"
        ),
    )


def _latest(rows: list[dict[str, Any]]) -> tuple[int, float] | None:
    """(epoch, validation loss) of the newest epoch that has one."""
    scored = [r for r in rows if _finite(r.get("val_loss"))]
    if not scored:
        return None
    row = max(scored, key=lambda r: int(r["epoch"]))
    return int(row["epoch"]), float(row["val_loss"])


def _since_then(
    report: OverfittingReport, best: tuple[int, float], now: tuple[int, float] | None
) -> str:
    """Where validation loss stands at the newest epoch, once it is past the one the flag was
    raised at: the flag's own figure is of its epoch, and a banner kept on screen must not
    leave it as the last word while the loss goes on rising."""
    if now is None or now[0] <= report.detected_at:
        return ""
    epoch, loss = now
    rel = (loss - best[1]) / max(abs(best[1]), 1e-12)
    return (
        f" At epoch {epoch}, the latest, validation loss is {loss:.4g}, {rel:.0%} above its best."
    )


def revise(flags: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run's stored flags (metrics.json's `overfitting`) as `assess` reads them given every
    epoch in `rows`: each gets ``"status": "active"``, or ``"withdrawn"`` when validation loss
    reached a new best after it (then ``withdrawn`` says where, in numbers and in words), so a
    finished run never lists a warning its own best epoch contradicts. Idempotent: a resumed
    run revises its stored flags again with the epochs that followed."""
    out = []
    for flag in flags:
        try:
            report = OverfittingReport.from_dict(flag)
        except (KeyError, TypeError, ValueError):
            out.append(flag)  # not one of ours: kept as it is
            continue
        if not math.isfinite(report.best_val_loss):  # an older flag: its best from the history
            row = next((r for r in rows if r.get("epoch") == report.best_epoch), {})
            if _finite(row.get("val_loss")):
                report.best_val_loss = float(row["val_loss"])
        status = assess(report, rows)
        entry = {k: v for k, v in flag.items() if k not in ("status", "withdrawn")}
        entry.update({k: v for k, v in report.to_dict().items() if k not in entry})
        entry["status"] = "active" if status.active else "withdrawn"
        if not status.active:
            entry["withdrawn"] = {
                "best_epoch": status.best_epoch,
                "best_val_loss": status.best_val_loss,
                "reason": (
                    f"validation loss reached a new best ({status.best_val_loss:.4g} at epoch "
                    f"{status.best_epoch}) after this warning, so the rise did not last"
                ),
            }
        out.append(entry)
    return out


def active_flags(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored flags that still hold (a run from before revision: all of them)."""
    return [f for f in flags if isinstance(f, dict) and f.get("status", "active") == "active"]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
