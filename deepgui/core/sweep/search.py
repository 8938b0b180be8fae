"""A sweep: KerasTuner's oracle proposes values, each trial trains as an ordinary Run.

    sweep = Sweep(project, SweepRequest(vary=("hidden.units=8..64",), trials=10)).plan()
    outcome = sweep.run(listener)
    sweep.release()

We drive the oracle ourselves (create_trial, update_trial, end_trial), not a KerasTuner
Tuner: a Tuner builds and fits Keras models, and a trial here is a deepgui run of the
project with the trial's values, on the project's engine, with its own run folder
(history, checkpoints, metrics.json, the model).

The sweep folder holds

    sweep.json      what the sweep varies and seeks; a second call must ask the same
    oracle/         KerasTuner's own state (oracle.json, trial_N/trial.json)
    trial_001/ ...  one run folder per trial
    trials.csv      the table (table.py)

A killed or stopped sweep, run again into the same folder, resumes where it stopped: the
oracle reloads its state and hands the unfinished trial out again with the same values, and
that trial's run folder resumes from its last finished epoch; finished trials are not rerun.

Hyperband gives each trial a number of epochs; here such a trial trains that many epochs from
the start, rather than going on from an earlier trial's weights.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import queue
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepgui.core import fileio, run_layout
from deepgui.core.errors import DeepGuiError, TrainingError
from deepgui.core.run_layout import scratch_root
from deepgui.core.sweep import apply, parallel, space, table
from deepgui.core.sweep.ranks import RankServer, RankSlot
from deepgui.core.sweep.table import COMPLETED, FAILED, STOPPED, Trial
from deepgui.core.training import distributed
from deepgui.core.training.config import TrainingConfig
from deepgui.core.training.engine import TrainingListener
from deepgui.core.training.overfitting import OverfittingReport
from deepgui.core.training.prepare import PreparedRun, dataset_spec
from deepgui.core.training.run import Run, RunRequest
from deepgui.core.training.rundir import LOCK, RunLock, is_resumable, read_history
from deepgui.core.training.worker_process import relay_progress

ALGORITHMS = ("random", "bayesian", "hyperband")
DEFAULT_TRIALS = 10
DEFAULT_OBJECTIVE = "val_loss"
SETTINGS = "sweep.json"
ORACLE = "oracle"  # KerasTuner's project folder, inside the sweep folder
FORMAT = "deepgui-sweep"
TRIAL_FOLDER = "trial_{:03d}"
TUNER_ID = "deepgui"
# Trials failing one after another mean the sweep itself is wrong (KerasTuner's default too).
FAILURES_IN_A_ROW = 3
# Metrics that are better lower; any other is better higher (accuracy, auc, precision...).
_LOWER_IS_BETTER = ("loss", "error", "crossentropy", "mae", "mse", "mape", "msle", "rmse",
                    "hinge", "logcosh", "divergence", "poisson")  # fmt: skip
_FINISHED = ("completed", "early_stopping")


def declare(hp, dims) -> None:
    """Declare the search space `dims` on KerasTuner's HyperParameters `hp`."""
    for d in dims:
        sampling = "log" if d.log else "linear"
        if d.kind == "int":
            hp.Int(d.name, int(d.low), int(d.high), sampling=sampling)
        elif d.kind == "float":
            hp.Float(d.name, d.low, d.high, sampling=sampling)
        else:
            hp.Choice(d.name, d.tuner_choices())


@dataclass(frozen=True)
class SweepRequest:
    """What to vary and seek, and the budget; None keeps the project's own setting. Named as
    settings, so that a front end can point at its control for each."""

    vary: tuple[str, ...] = ()  # NAME=SPEC, each (space.py)
    out: str | Path | None = None  # the sweep folder; one of a stopped sweep resumes it
    trials: int | None = None  # at most this many trials (default: 10, or no limit with minutes)
    algorithm: str = "random"  # random, bayesian or hyperband
    objective: str = DEFAULT_OBJECTIVE  # a metric, with :min or :max when its name does not say
    minutes: float | None = None  # no trial goes on past this
    epochs: int | None = None  # each trial's (Hyperband's most)
    # Early stopping per trial: a trial ends after this many epochs without its objective
    # improving; None keeps the project's own early stopping.
    patience: int | None = None
    data: str | None = None
    target: str | list[str] | None = None
    parallel: int | str = 1  # trials at once on this machine, or "auto" (parallel.py)
    workers: int | None = None  # ranks of `deepgui worker` taking trials too (this one is 0)
    coordinator: str | None = None  # HOST:PORT where the ranks join (ranks.py)
    join_seconds: int = 300


class SweepListener:
    """What a front end hears of a sweep; every method defaults to nothing."""

    def trial_started(self, trial: Trial, epochs: int) -> None: ...

    def trial_finished(self, trial: Trial) -> None: ...

    def training(self, trial: Trial) -> TrainingListener | None:
        """The listener of this trial's run (its epochs, for the current trial's curves)."""
        return None

    def waiting(self, text: str) -> None: ...


@dataclass
class SweepOutcome:
    reason: str  # completed (its budget or its space used up), stopped, time or failed
    trials: list[Trial]
    best: Trial | None
    folder: Path
    message: str = ""  # why it failed


def parse_objective(text: str) -> tuple[str, str]:
    """(metric, "min" or "max") for `val_accuracy`, `val_accuracy:max`, `val_loss`."""
    name, _, direction = (text or "").strip().partition(":")
    name, direction = name.strip(), direction.strip().lower()
    if not name or not name.replace("_", "").isalnum():
        raise DeepGuiError(
            f"The objective must be a metric a run logs, such as val_loss or val_accuracy, "
            f"not {text!r}.",
            setting="objective",
        )
    if not direction:
        lower = any(word in name.lower() for word in _LOWER_IS_BETTER)
        direction = "min" if lower else "max"
    if direction not in ("min", "max"):
        raise DeepGuiError(
            f"The objective's direction must be min or max, not {direction!r}.",
            setting="objective",
        )
    return name, direction


def default_folder(project, now: _dt.datetime | None = None) -> Path:
    """A fresh `NAME.sweeps/<timestamp>/` beside the project (not created yet)."""
    if project.path is not None:
        root = Path(project.path).with_name(Path(project.path).stem + ".sweeps")
    else:
        root = scratch_root() / project.id / "sweeps"
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    target, i = root / stamp, 1
    while target.exists():
        target, i = root / f"{stamp}-{i}", i + 1
    return target


def project_marks(project) -> list[str]:
    """NAME=SPEC for each setting marked to vary in the project (in the app, kept in its
    file: marks.py), layers in the canvas's order, then training."""
    return project.marks.texts()


class Sweep:
    """Plans a sweep (what varies, the folder, the data), then runs its trials: one at a time
    in this process, or several at once in slots (parallel.py: trial processes on this
    machine, and the ranks of `deepgui worker`). stop() may be called from any thread: the
    trials in flight stop after their batch, and are marked stopped; running the sweep again
    into its folder finishes them."""

    def __init__(self, project, request: SweepRequest | None = None) -> None:
        self.project = project
        self.request = request or SweepRequest()
        self.dims: list[space.Dimension] = []
        self.objective, self.direction = DEFAULT_OBJECTIVE, "min"
        self.base = None  # the project every trial starts from (the data swapped in)
        self.epochs = 0  # each trial's, as the project or the request says
        self.folder: Path | None = None
        self.data = None  # loaded once, shared by the trials
        self.trials: dict[int, Trial] = {}
        self._lock_file: RunLock | None = None
        self._lock = threading.Lock()
        self._run = None
        self._stop = False
        self._out_of_time = False
        self._timer: threading.Timer | None = None
        self.cluster = None  # the ranks taking trials too (distributed.Cluster), or None
        self._busy: dict[str, Any] = {}  # tuner id -> the slot training a trial (parallel.py)
        self.slots: list[Any] = []  # where trials run when several run at once
        self._paused = False

    # ------------------------------------------------------------------ planning
    def plan(self, listener: SweepListener | None = None) -> Sweep:
        """Check the request against the project, lock the sweep folder and load the data.
        DeepGuiError, one sentence, for anything that cannot be swept."""
        listener = listener or SweepListener()
        r = self.request
        self._check_budget()
        self.objective, self.direction = parse_objective(r.objective)
        vary = list(r.vary) or project_marks(self.project)
        if not vary:
            raise DeepGuiError(
                f"Nothing in {self.project.name} is marked to vary; name what to vary as "
                f"NAME=SPEC, such as {space.EXAMPLE}.",
                setting="vary",
            )
        self.dims = space.dimensions(self.project, vary)
        self.base = self._base()
        _keras_tuner(r.algorithm)  # not installed: said now, before anything is written
        self.folder = Path(r.out).expanduser() if r.out else default_folder(self.project)
        self._refuse_foreign_folder()  # before the lock file goes into someone's folder
        self._lock_file = RunLock.acquire(self.folder)
        try:
            self._settle_folder()
            listener.waiting("Loading data…")
            self.data = self._load_data()
        except BaseException:
            self.release()
            raise
        return self

    def _check_budget(self) -> None:
        r = self.request
        if r.algorithm not in ALGORITHMS:
            raise DeepGuiError(
                f"The search algorithm must be one of {', '.join(ALGORITHMS)}, not "
                f"{r.algorithm!r}.",
                setting="algorithm",
            )
        if r.trials is not None and r.trials < 1:
            raise DeepGuiError(
                f"The number of trials must be at least 1, not {r.trials}.", setting="trials"
            )
        if r.minutes is not None and not (math.isfinite(r.minutes) and r.minutes > 0):
            raise DeepGuiError(
                f"The time budget must be more than 0 minutes, not {r.minutes}.",
                setting="minutes",
            )
        if r.parallel != "auto" and (not isinstance(r.parallel, int) or r.parallel < 1):
            raise DeepGuiError(
                f"The number of trials at once must be auto or at least 1, not {r.parallel}.",
                setting="parallel",
            )
        self.cluster = self._cluster()
        if r.epochs is not None and r.epochs < 1:
            raise DeepGuiError(
                f"The number of epochs must be at least 1, not {r.epochs}.", setting="epochs"
            )
        if r.patience is not None and (isinstance(r.patience, bool) or r.patience < 1):
            raise DeepGuiError(
                f"The early stopping patience must be at least 1 epoch, not {r.patience}.",
                setting="patience",
            )

    def _cluster(self):
        """The ranks the request asks for, as rank 0; None: this machine alone."""
        r = self.request
        if r.workers is None or r.workers <= 1:
            if r.coordinator:
                raise DeepGuiError("A coordinator needs the number of ranks (workers) too.",
                                   setting="workers")  # fmt: skip
            if r.workers is not None and r.workers < 1:
                raise DeepGuiError(f"The number of ranks must be 1 or more, not {r.workers}.",
                                   setting="workers")  # fmt: skip
            return None
        if not r.coordinator:
            raise DeepGuiError(
                "Several ranks need a coordinator, HOST:PORT, the address of this machine "
                "that the other ranks reach (127.0.0.1:PORT when they all run here).",
                setting="coordinator",
            )
        return distributed.make_cluster(r.coordinator, r.workers, 0,
                                        join_seconds=r.join_seconds)  # fmt: skip

    def parallel(self) -> int:
        """Trials at once on this machine: as asked, or as `auto` measures it (parallel.py)."""
        k = self.request.parallel
        if k != "auto":
            return int(k)
        left = None
        if self.request.trials is not None:
            done = sum(t.status in (COMPLETED, FAILED) for t in self.trials.values())
            left = max(1, self.request.trials - done)
        return parallel.auto_parallel(left)

    def _base(self):
        """The project the trials start from: the request's data swapped in, one machine."""
        r = self.request
        varied = {d.name for d in self.dims}
        if "training.epochs" in varied and (r.epochs is not None or r.algorithm == "hyperband"):
            who = "Hyperband" if r.algorithm == "hyperband" else "The epochs given"
            raise DeepGuiError(
                f"{who} sets every trial's epochs, so training.epochs cannot vary too.",
                setting="vary",
            )
        base = self.project.snapshot()
        base.dataset = dataset_spec(base.dataset, r.data, r.target)
        if not base.dataset:
            where = self.project.path or "The project"
            raise DeepGuiError(
                f"{where}: has no dataset; choose its data (a CSV, an image folder or an .npz).",
                setting="data",
            )
        # Trials run on this machine: a project set to train on several ranks is not waited on.
        base.training = {k: v for k, v in base.training.items() if k not in ("ranks",)}
        if r.patience is not None:
            # Watching the objective, in the project's own early stopping (restoring the best
            # weights as the project says): the trial's model is its best epoch's. The
            # direction goes too: Keras cannot tell it from a name it does not know.
            stopping = dict(base.training.get("early_stopping") or {})
            stopping.update(enabled=True, monitor=self.objective, patience=r.patience,
                            mode=self.direction)  # fmt: skip
            base.training["early_stopping"] = stopping
        config = TrainingConfig.from_dict(base.training).with_overrides(epochs=r.epochs)
        self.epochs = config.epochs
        return base

    def _settings(self) -> dict[str, Any]:
        r = self.request
        base = self.base
        # What the trials train, less where the layers sit: resuming asks for the same.
        state = json.dumps([base.graph.to_dict(), base.dataset, base.training], sort_keys=True,
                           default=str)  # fmt: skip
        fingerprint = hashlib.sha256(state.encode()).hexdigest()[:16]
        return {
            "format": FORMAT,
            "version": 1,
            "vary": [d.text for d in self.dims],
            "algorithm": r.algorithm,
            "objective": self.objective,
            "direction": self.direction,
            "epochs": self.epochs,
            "patience": r.patience,
            "project": fingerprint,
        }

    def _settle_folder(self) -> None:
        """A new sweep goes into an empty folder; one holding a sweep resumes it if it asks
        the same (what varies, the algorithm, the objective, the epochs, the project)."""
        settings = self._settings()
        path = self.folder / SETTINGS
        if path.exists():
            try:
                earlier = json.loads(fileio.read_text(path, "sweep settings", 1 << 20))
            except (DeepGuiError, ValueError):
                earlier = None
            if not isinstance(earlier, dict) or earlier.get("format") != FORMAT:
                raise DeepGuiError(f"{path}: is not a sweep's settings file.", setting="out")
            differs = [k for k in settings if k != "version" and earlier.get(k) != settings[k]]
            if differs:
                what = {"project": "the project or its data", "vary": "what varies",
                        "patience": "its early stopping"}  # fmt: skip
                raise DeepGuiError(
                    f"{self.folder}: holds a sweep that differs in "
                    f"{what.get(differs[0], 'its ' + differs[0])}; ask the same to resume it, "
                    "or choose another folder.",
                    setting="out",
                )
            return
        self._refuse_foreign_folder()
        fileio.atomic_write_text(path, json.dumps(settings, indent=1) + "\n")

    def _refuse_foreign_folder(self) -> None:
        folder = self.folder
        if folder.is_file():
            raise DeepGuiError(f"{folder}: is a file; a sweep needs a folder.", setting="out")
        if not folder.is_dir() or (folder / SETTINGS).exists():
            return
        if {p.name for p in folder.iterdir()} - {LOCK}:
            raise DeepGuiError(
                f"{folder}: is not empty and holds no sweep; choose a new folder.", setting="out"
            )

    def _load_data(self):
        base = self.base
        return PreparedRun(base, dict(base.dataset), TrainingConfig(), Path(), False).load_data()

    # ------------------------------------------------------------------ running
    def run(self, listener: SweepListener | None = None) -> SweepOutcome:
        """Run trials until the budget (trials or minutes) or the search space is used up, or
        stop() is called. Raises DeepGuiError (setting "objective") when the trials do not log
        the objective."""
        if self.folder is None:
            raise RuntimeError("Sweep.run() before Sweep.plan()")
        listener = listener or SweepListener()
        oracle = self.oracle()
        self._known_trials(oracle)
        if self.request.minutes is not None:
            self._timer = threading.Timer(self.request.minutes * 60, self._time_up)
            self._timer.daemon = True
            self._timer.start()
        failures, message = 0, ""
        try:
            if self.cluster is not None or self.parallel() > 1:
                return self._run_slots(oracle, listener)
            while True:
                if self._stop or self._out_of_time:
                    return self._outcome("time" if self._out_of_time else "stopped")
                proposed = oracle.create_trial(TUNER_ID)
                if proposed.status != "RUNNING":  # the budget or the space is used up
                    return self._outcome("completed")
                trial = self._run_trial(oracle, proposed, listener)
                if trial.status == STOPPED:
                    return self._outcome("time" if self._out_of_time else "stopped")
                failures = failures + 1 if trial.status == FAILED else 0
                message = trial.message
                if failures >= FAILURES_IN_A_ROW:
                    why = message.rstrip(".") or "no reason given"
                    return self._outcome(
                        "failed", f"{failures} trials in a row failed; the last: {why}."
                    )
        finally:
            if self._timer is not None:
                self._timer.cancel()

    def _outcome(self, reason: str, message: str = "") -> SweepOutcome:
        trials = [self.trials[n] for n in sorted(self.trials)]
        best = table.best(trials, self.direction)
        return SweepOutcome(reason, trials, best, self.folder, message)

    def oracle(self):
        """KerasTuner's oracle for the request, its state reloaded from the sweep folder."""
        kt = _keras_tuner(self.request.algorithm)
        r = self.request
        hp = kt.HyperParameters()
        declare(hp, self.dims)
        limit = r.trials if r.trials is not None else None if r.minutes else DEFAULT_TRIALS
        seed = TrainingConfig.from_dict(self.base.training).seed or 1
        common = {
            "objective": kt.Objective(self.objective, self.direction),
            "hyperparameters": hp,
            "seed": seed,
            # Failures are counted here (FAILURES_IN_A_ROW), where they end the sweep with a
            # sentence; KerasTuner's own count raises before it saves its state.
            "max_consecutive_failed_trials": 1 << 30,
        }
        if r.algorithm == "hyperband":
            oracle = kt.oracles.HyperbandOracle(max_epochs=self.epochs, hyperband_iterations=None,
                                                **common)  # fmt: skip
            oracle.max_trials = limit
        elif r.algorithm == "bayesian":
            oracle = kt.oracles.BayesianOptimizationOracle(max_trials=limit, **common)
        else:
            oracle = kt.oracles.RandomSearchOracle(max_trials=limit, **common)
        oracle.verbose = 0  # the front end says what happens, not KerasTuner's tables
        # What a Tuner does with its directory: the oracle keeps its state under it.
        oracle._set_project_dir(str(self.folder), ORACLE)
        if (self.folder / ORACLE / "oracle.json").exists():
            try:
                oracle.reload()
            except (RuntimeError, ValueError, KeyError, TypeError, OSError) as exc:
                raise DeepGuiError(
                    f"{self.folder / ORACLE}: KerasTuner's state there cannot be read "
                    f"({' '.join(str(exc).split())[:200]}); choose another folder.",
                    setting="out",
                ) from None
        return oracle

    def _known_trials(self, oracle) -> None:
        """The trials an earlier call ran, for the table: finished ones as the oracle kept
        them, an unfinished one (handed out again first) as stopped."""
        ranks = self._earlier_ranks()
        for trial_id, kept in oracle.trials.items():
            number = int(trial_id) + 1
            values = self._values(kept.hyperparameters.values)
            status = {"COMPLETED": COMPLETED, "FAILED": FAILED, "INVALID": FAILED}.get(
                kept.status, STOPPED
            )
            folder = self.folder / TRIAL_FOLDER.format(number)
            trial = Trial(number, status, values, run_dir=folder, message=kept.message or "",
                          rank=ranks.get(number))  # fmt: skip
            self._score(trial, _history(folder))
            self.trials[number] = trial
        self._write_table()

    def _earlier_ranks(self) -> dict[int, int]:
        """trial -> the rank that ran it, as the table an earlier call wrote says."""
        if not (self.folder / table.TRIALS_CSV).exists():
            return {}
        try:
            rows = table.read(self.folder)
        except DeepGuiError:
            return {}
        return {int(r["trial"]): int(r["rank"]) for r in rows
                if str(r.get("trial", "")).isdigit() and str(r.get("rank") or "").isdigit()}  # fmt: skip

    def _values(self, tuned: dict[str, Any]) -> dict[str, Any]:
        return {d.name: d.value_of(tuned[d.name]) for d in self.dims if d.name in tuned}

    def _run_trial(self, oracle, proposed, listener: SweepListener) -> Trial:
        trial, project, epochs, problem = self._begin(proposed, listener)
        if problem:
            reason, message = "error", problem
        else:
            reason, message = self._train(project, trial.run_dir, epochs,
                                          listener.training(trial))  # fmt: skip
        return self._conclude(oracle, proposed, trial, reason, message, listener)

    def _begin(self, proposed, listener: SweepListener, rank: int | None = None):
        """(the trial, its project, its epochs, why it cannot train: "" when it can)."""
        tuned = proposed.hyperparameters.values
        number = int(proposed.trial_id) + 1
        epochs = int(tuned.get("tuner/epochs", self.epochs))
        folder = self.folder / TRIAL_FOLDER.format(number)
        trial = Trial(number, STOPPED, self._values(tuned), run_dir=folder, rank=rank)
        self.trials[number] = trial
        listener.trial_started(trial, epochs)
        try:
            return trial, apply.applied(self.base, trial.values), epochs, ""
        except DeepGuiError as exc:
            return trial, None, epochs, str(exc)

    def _conclude(self, oracle, proposed, trial: Trial, reason: str, message: str,
                  listener: SweepListener) -> Trial:  # fmt: skip
        """Record how the trial's run ended: in the trial, the oracle and the table."""
        history = _history(trial.run_dir)
        self._score(trial, history)
        if reason in _FINISHED:
            trial.status = COMPLETED
            if not any(self.objective in row for row in history):
                self._end(oracle, proposed, trial, FAILED, "the objective was not logged")
                raise DeepGuiError(
                    f"The objective {self.objective} is not among the metrics a trial logs "
                    f"({', '.join(sorted({k for row in history for k in row} - {'epoch'}))}); "
                    "choose one of those.",
                    setting="objective",
                )
            for row in history:
                if self.objective in row:
                    oracle.update_trial(proposed.trial_id, {self.objective: row[self.objective]},
                                        step=int(row.get("epoch", 0)))  # fmt: skip
            self._end(oracle, proposed, trial, COMPLETED)
        elif reason == "user":
            # Left running in the oracle: the next call hands it out again, and its run
            # folder resumes from its last finished epoch.
            trial.status = STOPPED
            self._write_table()
        else:
            self._end(oracle, proposed, trial, FAILED, message or f"stopped by {reason}")
        listener.trial_finished(trial)
        return trial

    def _train(self, project, folder: Path, epochs: int, heard) -> tuple[str, str]:
        """(how the trial's run ended, why when it failed)."""
        done = _finished_run(folder)
        if done is not None:  # killed after its run ended, before the oracle heard of it
            return done
        run = Run(project, RunRequest(out=folder, epochs=epochs), data=self.data)
        with self._lock:
            self._run = run
            if self._stop or self._out_of_time:
                run.stop()
        try:
            try:
                run.plan(heard)
            except DeepGuiError as exc:
                return "error", str(exc)
            result = run.train(heard)
            return result.reason, str(result.metrics.get("message") or "")
        finally:
            run.release()
            with self._lock:
                self._run = None

    # ------------------------------------------------------------------ several at once
    def _run_slots(self, oracle, listener: SweepListener) -> SweepOutcome:
        """Trials in slots (parallel.py): K processes on this machine, and each rank that
        joined; the oracle hands a trial to each slot that is free, this thread alone talks
        to it. Whatever way this ends, no trial process is left running."""
        events: queue.Queue = queue.Queue()
        slots = parallel.local_slots(self.parallel(), rank=0 if self.cluster else None)
        self.slots = slots
        server = None
        try:
            if self.cluster is not None:
                server = RankServer(self.cluster)
                others = "; ".join(self.cluster.command_for(r)
                                   for r in range(1, self.cluster.world))  # fmt: skip
                listener.waiting(f"Waiting at {self.cluster.coordinator} for "
                                 f"{self.cluster.world - 1} more rank(s) to join: {others}")  # fmt: skip
                try:
                    channels = server.wait_for_ranks(lambda: self._stop or self._out_of_time)
                except TrainingError as exc:
                    raise DeepGuiError(str(exc), setting="workers") from None
                for rank, channel in sorted(channels.items()):
                    slot = RankSlot(rank, channel)
                    slot.listen(events)
                    slots.append(slot)
            return self._schedule(oracle, slots, events, listener)
        finally:
            with self._lock:
                busy, self._busy = list(self._busy.values()), {}
            for slot in busy:
                slot.kill()
            closing = [threading.Thread(target=slot.close) for slot in slots]  # each waits
            for thread in closing:
                thread.start()
            for thread in closing:
                thread.join()
            if server is not None:
                server.close()

    def _schedule(self, oracle, slots, events: queue.Queue, listener) -> SweepOutcome:
        running: dict[str, tuple] = {}  # tuner id -> (slot, proposed, trial, heard)
        handed_back: list[tuple[str, Any]] = []  # (tuner id, trial) of ranks that went away
        failures, exhausted = 0, False
        while True:
            if not (self._stop or self._out_of_time):
                for slot in slots:
                    if slot.tuner_id in running or not slot.alive:
                        continue
                    if handed_back:
                        proposed = self._hand_over(oracle, slot, handed_back)
                    elif exhausted:
                        break
                    else:
                        proposed = self._next_trial(oracle, slot, bool(running))
                        if proposed is None:  # Hyperband waits for a running trial first
                            break
                        if proposed is False:  # the budget or the space is used up
                            exhausted = True
                            break
                    running[slot.tuner_id] = self._start(slot, proposed, events, listener)
            if not running:
                if self._stop or self._out_of_time:
                    return self._outcome("time" if self._out_of_time else "stopped")
                return self._outcome("completed")
            slot, event = events.get()
            if event["event"] == "gone":
                listener.waiting(event["message"])
                continue
            entry = running.get(slot.tuner_id)
            if entry is None:
                continue
            _, proposed, trial, heard = entry
            if event["event"] != "ended":
                _relay(event, heard)
                continue
            del running[slot.tuner_id]
            with self._lock:
                self._busy.pop(slot.tuner_id, None)
            if event["reason"] == "lost":
                listener.waiting(f"{event['message']} Trial {trial.number} starts again on "
                                 "another rank.")  # fmt: skip
                handed_back.append((slot.tuner_id, proposed))
                continue
            trial = self._conclude(oracle, proposed, trial, event["reason"],
                                   event.get("message", ""), listener)  # fmt: skip
            if trial.status == STOPPED:
                continue  # the others stop too; the loop ends when none runs
            failures = failures + 1 if trial.status == FAILED else 0
            if failures >= FAILURES_IN_A_ROW:
                why = trial.message.rstrip(".") or "no reason given"
                return self._outcome(
                    "failed", f"{failures} trials in a row failed; the last: {why}."
                )

    def _hand_over(self, oracle, slot, handed_back: list):
        """A trial a lost rank handed back, now the free slot's."""
        tuner_id, proposed = handed_back.pop(0)
        # The oracle keeps running trials by who runs them: the trial changes hands.
        oracle.ongoing_trials.pop(tuner_id, None)
        oracle.ongoing_trials[slot.tuner_id] = proposed
        oracle.save()
        return proposed

    def _next_trial(self, oracle, slot, others_running: bool):
        """The oracle's next trial for a free slot; None: wait for a running trial to end;
        False: no more trials."""
        proposed = oracle.create_trial(slot.tuner_id)
        if proposed.status == "RUNNING":
            return proposed
        if proposed.status == "IDLE" and others_running:
            return None
        return False

    def _start(self, slot, proposed, events: queue.Queue, listener) -> tuple:
        trial, project, epochs, problem = self._begin(proposed, listener, rank=slot.rank)
        heard = listener.training(trial)
        self._write_table()
        done = ("error", problem) if problem else _finished_run(trial.run_dir)
        if done is not None:  # cannot train, or its run ended before the oracle heard of it
            events.put((slot, {"event": "ended", "reason": done[0], "message": done[1]}))
            return slot, proposed, trial, heard
        path = Path(project.path).resolve() if project.path else None
        slot.start({"trial": trial.number, "project": project.to_dict(),
                    "project_path": str(path) if path else None,
                    "out": str(trial.run_dir.resolve()), "epochs": epochs}, events)  # fmt: skip
        with self._lock:
            self._busy[slot.tuner_id] = slot
            if self._stop or self._out_of_time:
                slot.control("stop")
            elif self._paused:
                slot.control("pause")
        return slot, proposed, trial, heard

    def _score(self, trial: Trial, history: list[dict[str, Any]]) -> None:
        """The trial's objective: its best epoch's value (as KerasTuner scores a trial)."""
        scored = [row for row in history if _finite(row.get(self.objective))]
        trial.epochs = len(history)
        if not scored:
            trial.objective = None
            return
        sign = -1 if self.direction == "max" else 1
        row = min(scored, key=lambda row: sign * row[self.objective])
        trial.objective, trial.metrics = float(row[self.objective]), dict(row)

    def _end(self, oracle, proposed, trial: Trial, status: str, message: str = "") -> None:
        proposed.status = "COMPLETED" if status == COMPLETED else "FAILED"
        proposed.message = message or None
        oracle.end_trial(proposed)
        # end_trial saves its state while the trial is still listed as running, and only then
        # drops it: saved again, a reload does not hand the trial out once more.
        oracle.save()
        # KerasTuner turns a completed trial whose objective is NaN into a failed one.
        kept = oracle.get_trial(proposed.trial_id)
        trial.status = COMPLETED if kept.status == "COMPLETED" else FAILED
        if trial.status == FAILED:
            trial.message = message or "its objective was not a number"
        self._write_table()

    def _write_table(self) -> None:
        trials = [self.trials[n] for n in sorted(self.trials)]
        table.write(self.folder, self.objective, [d.name for d in self.dims], trials)

    # ------------------------------------------------------------------ control (any thread)
    def stop(self) -> None:
        with self._lock:
            self._stop = True
            self._tell_trials("stop")

    def _time_up(self) -> None:
        with self._lock:
            self._out_of_time = True
            self._tell_trials("stop")

    def pause(self) -> None:
        """Pause the trials in flight (and any that starts before resume())."""
        with self._lock:
            self._paused = True
            self._tell_trials("pause")

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            self._tell_trials("resume")

    def _tell_trials(self, word: str) -> None:
        if self._run is not None:
            {"stop": self._run.stop, "pause": self._run.pause,
             "resume": self._run.resume_training}[word]()  # fmt: skip
        for slot in self._busy.values():
            slot.control(word)

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._lock_file is not None:
            self._lock_file.release()
            self._lock_file = None


def _keras_tuner(algorithm: str):
    """KerasTuner, imported when a sweep runs (it imports TensorFlow)."""
    try:
        import keras_tuner  # KerasTuner brings Keras (seconds): imported when a sweep runs
    except ImportError:
        raise DeepGuiError(
            "Sweeps need KerasTuner, which is not installed here (pip install keras-tuner)."
        ) from None
    if algorithm == "bayesian":
        try:
            import sklearn  # noqa: F401  (KerasTuner's Bayesian search needs it)
        except ImportError:
            raise DeepGuiError(
                "The bayesian search needs scikit-learn, which is not installed here "
                "(pip install scikit-learn).",
                setting="algorithm",
            ) from None
    return keras_tuner


def _relay(event: dict[str, Any], heard: TrainingListener | None) -> None:
    """A trial process's (or a rank's) event as its listener's call."""
    if heard is None:
        return
    kind = event["event"]
    try:
        if kind == "finished":
            heard.finished(str(event.get("reason")), dict(event.get("metrics") or {}))
        elif kind == "overfitting":
            heard.overfitting_detected(OverfittingReport(**event["report"],
                                                         params=event.get("params") or 0))  # fmt: skip
        else:
            relay_progress(event, heard)
    except (KeyError, TypeError, ValueError):
        pass  # an event a rank of another version words differently: its progress is not shown


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _history(folder: Path) -> list[dict[str, Any]]:
    try:
        return read_history(folder)
    except TrainingError:
        return []


def _finished_run(folder: Path) -> tuple[str, str] | None:
    """(reason, message) of a run that ended in this folder and cannot resume; None when
    it is to be trained (or resumed). A run stopped before its first epoch is cleared, to be
    trained afresh: it holds nothing to keep."""
    metrics_path = folder / run_layout.METRICS
    if not metrics_path.exists() or is_resumable(folder):
        return None
    try:
        metrics = json.loads(fileio.read_text(metrics_path, "metrics file", 1 << 26))
    except (DeepGuiError, ValueError):
        return "error", f"{metrics_path}: cannot be read"
    reason = str(metrics.get("stopped_by") or "error")
    if reason == "user" and not metrics.get("epochs_run"):
        shutil.rmtree(folder, ignore_errors=True)
        return None
    if reason == "user":
        reason = "completed"  # stopped after its last epoch: nothing left to train
    return reason, str(metrics.get("message") or "")


def trial_folder(folder: str | Path, number: int) -> Path:
    return Path(folder) / TRIAL_FOLDER.format(number)
