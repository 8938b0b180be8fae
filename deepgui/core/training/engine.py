"""The training engine: `model.fit` with events, stop/pause/resume, NaN guard, checkpoints.

Qt-free. The app runs `TrainingEngine.run()` in a worker thread and calls `stop()`, `pause()`
and `resume()` from the GUI thread; those only flip flags and an Event, so they are cheap and
thread-safe. The listener is called from the training thread. Epochs are counted from 1.

Stopping is cooperative (`model.stop_training`): the batch in flight finishes, a partial epoch
is not recorded, and the run directory is written as usual.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deepgui.core import fileio, run_layout, run_split, signature
from deepgui.core.build import build_model
from deepgui.core.data import check_against_model
from deepgui.core.data.base import LoadedData, rows, take_rows
from deepgui.core.data.check import match_outputs, output_names
from deepgui.core.errors import DatasetError, DeepGuiError, TrainingError
from deepgui.core.graph import Graph
from deepgui.core.keras_layers import keras
from deepgui.core.keras_layers import keras as _keras  # where `keras` names the module
from deepgui.core.project import atomic_write_text
from deepgui.core.shapes import ShapeInference
from deepgui.core.training import devices, feeds, fine_tuning, outputs, rundir
from deepgui.core.training.config import (
    TrainingConfig,
    balanced_class_weight,
    check_loss_and_metrics,
    class_weight_by_index,
    compile_loss,
    make_optimizer,
)
from deepgui.core.training.evaluation import evaluate, stored
from deepgui.core.training.overfitting import OverfittingDetector, OverfittingReport, revise
from deepgui.core.training.remedies import suggest_remedies
from deepgui.core.weights import load_weights

REASONS = ("completed", "early_stopping", "user", "nan_loss", "error")


class TrainingListener:
    """Receives the engine's events. Override what you need; every method defaults to nothing."""

    def started(self, steps_per_epoch: int, epochs: int, initial_epoch: int, info: dict) -> None:
        """info: device, loss, metrics, batch_size, num_train, num_val, resumed."""

    def epoch_started(self, epoch: int) -> None: ...

    def batch_ended(self, step: int, logs: dict[str, float]) -> None:
        """step: batches finished in this epoch (1 … steps_per_epoch)."""

    def epoch_ended(self, epoch: int, logs: dict[str, float]) -> None: ...

    def overfitting_detected(self, report: OverfittingReport) -> None: ...

    def waiting(self, text: str) -> None:
        """Something before or between epochs that takes a while: loading the data, measuring
        the engines, waiting for other ranks to join."""

    def downloading(self, text: str) -> None:
        """A download's progress before training (a backbone's ImageNet weights): worth saying
        even where the other waits are not (the command line plans quietly)."""
        self.waiting(text)

    def paused(self) -> None: ...

    def resumed(self) -> None: ...

    def finished(self, reason: str, metrics: dict[str, Any]) -> None:
        """reason: one of REASONS; metrics as in metrics.json (with "message" for errors)."""


@dataclass
class RunResult:
    reason: str
    metrics: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    model: Any = None
    run_dir: Path | None = None
    # The saved model on the held-out split (evaluation.evaluate), images included; what
    # metrics.json keeps of it is its "evaluation". None when no model was saved, and for a
    # run the user stopped or one on several ranks (see _write_run).
    evaluation: dict[str, Any] | None = None


# Lines Keras puts before the real reason ("Exception encountered when calling
# Functional.call().") or after it ("Arguments received by ...").
_WRAPPER_LINES = (
    "exception encountered when calling",
    "arguments received by",
    "•",
    "call context",
)


def describe_error(exc: BaseException, batch_size: int | None = None) -> str:
    """One sentence for any exception that escaped training."""
    if isinstance(exc, DeepGuiError):
        return str(exc)
    name = type(exc).__name__
    plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # Keras colours its messages
    lines = [ln.strip() for ln in plain.strip().splitlines() if ln.strip()]
    text = lines[0] if lines else ""
    if (
        isinstance(exc, MemoryError)
        or "ResourceExhausted" in name
        or "out of memory" in text.lower()
    ):
        hint = f" (now {batch_size})" if batch_size else ""
        return f"Training ran out of memory: lower the batch size{hint} or use a smaller model."
    disk = fileio.disk_problem(exc)
    if disk is not None and isinstance(exc, OSError | IOError):
        where = getattr(exc, "filename", None)
        return (
            f"{where}: cannot be written: {disk}."
            if where
            else f"A file cannot be written: {disk}."
        )
    if disk is not None:
        return f"Training could not write its files: {disk}."
    reasons = [ln for ln in lines if not ln.lower().startswith(_WRAPPER_LINES)]
    if reasons and lines and lines[0].lower().startswith(_WRAPPER_LINES[0]):
        layer = re.search(r"calling (\w+)", lines[0])
        where = f" in {layer.group(1)}" if layer else ""
        text = f"{reasons[0]}{where}"
    text = re.sub(r"\s+", " ", text).rstrip(".")
    return f"Training failed ({name}): {text[:300]}."


class TrainingEngine:
    """One training run. `model` may be a compiled-or-not keras.Model or a Graph (built here,
    after seeding and inside the device scope — needed for several devices)."""

    def __init__(
        self,
        model: Any,
        data: LoadedData,
        config: TrainingConfig,
        listener: TrainingListener | None = None,
        *,
        project=None,
        dataset_spec: dict[str, Any] | None = None,
        run_dir: str | Path | None = None,
        resume: bool = False,
        feed=None,
    ) -> None:
        self.source = model if model is not None else (project.graph if project else None)
        self.data = data
        self.config = config
        self.listener = listener or TrainingListener()
        self.project = project
        self.dataset_spec = dataset_spec
        self.run_dir = Path(run_dir) if run_dir else None
        self.resume_requested = resume
        self._stop = False
        self._go = threading.Event()
        self._go.set()
        self._control = threading.Lock()
        self._nan: tuple[int, int, float] | None = None
        self.model = None
        self._inference = None
        # The loss as compiled (a dict by output name for several outputs), and in words.
        self.loss_used: Any = None
        self.loss_text = ""
        self.output_order: list[str] = []  # the model's output names, for several outputs
        self.evaluation: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []
        self.overfitting: list[dict[str, Any]] = []
        self.detector = OverfittingDetector(config.overfitting.patience, config.overfitting.gap)
        self.device = "unknown"
        self.started_at = 0.0
        self.paused_seconds = 0.0
        self.train_seconds = 0.0
        self.samples = 0
        self._prior_wall = 0.0
        self.initial_epoch = 0
        self.engine_used = "xla" if config.engine == "xla" else _backend_engine()
        self.engine_note = ""
        self.unfrozen_layers = 0  # layers of the backbone fine-tuning unfroze (phase two)
        # Where the run trains and what fit is given (feeds.py): a rank of several is given
        # its cluster's feed; None: this machine's, chosen by training.device when it starts.
        self.feed = feed

    # ------------------------------------------------------------------ control (any thread)
    def stop(self) -> None:
        """Stop after the batch in flight; also releases a paused run."""
        with self._control:
            self._stop = True
            self._go.set()

    def pause(self) -> None:
        """Block before the next batch until resume() or stop()."""
        with self._control:
            if not self._stop:  # a pause after stop would block a run nobody will resume
                self._go.clear()

    def resume(self) -> None:
        self._go.set()

    @property
    def is_paused(self) -> bool:
        return not self._go.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop

    # ------------------------------------------------------------------ the run
    def run(self) -> RunResult:
        """Train to the end. Never raises for bad input or a failed fit: the outcome is the
        result's reason and the listener's finished() event."""
        self.started_at = time.perf_counter()
        try:
            reason, message = self._train()
        except Exception as exc:  # noqa: BLE001 - every failure becomes an event
            reason, message = "error", describe_error(exc, self.config.batch_size)
        metrics = self._metrics(reason, message)
        if self.run_dir is not None and (self.history or reason != "error"):
            try:
                self._write_run(reason, metrics)
                reason = metrics["stopped_by"]
            except Exception as exc:  # noqa: BLE001
                metrics["message"] = describe_error(exc)
                reason = metrics["stopped_by"] = "error"
        self.listener.finished(reason, metrics)
        return RunResult(
            reason, metrics, list(self.history), self.model, self.run_dir, self.evaluation
        )

    def _train(self) -> tuple[str, str]:
        keras = _keras()

        cfg, data = self.config, self.data
        if data.num_train == 0:
            raise DatasetError("The training set is empty: check the data source and the split.")
        weights = None  # per output, for a model with several
        if not data.multi_output:
            loss, metric_names = self._one_output_settings()
        if self.feed is None:
            self.feed = feeds.local(cfg.device, cfg.mixed_precision)
        placement = self.feed.placement
        self.device = placement.description
        if cfg.seed is not None:
            keras.utils.set_random_seed(cfg.seed)
        steps = self.feed.steps(data.num_train, cfg.batch_size)
        state = self._load_state()
        weights_info: dict[str, Any] = {}
        with placement.scope():
            if state is not None and state["model_path"].endswith(".keras"):
                model = keras.saving.load_model(state["model_path"], safe_mode=True)
                if data.multi_output:
                    loss, metric_names, weights = self._several_outputs_settings(model)
            else:
                model = self._make_model(placement)
                if data.multi_output:  # matched by name to the model's outputs, once built
                    loss, metric_names, weights = self._several_outputs_settings(model)
                jit = self._xla_compiles(placement, loss, weights, steps)
                phase_cfg = self._fine_tuning_phase(model)
                model.compile(optimizer=make_optimizer(phase_cfg, steps), loss=compile_loss(loss),
                              metrics=metric_names, loss_weights=weights,
                              jit_compile=jit)  # fmt: skip
                if state is not None:
                    rundir.restore_weights(model, Path(state["model_path"]))
                else:
                    weights_info = self._start_weights(model)
            self.model = model
            check_data(data, model, loss)
            if state is None:
                _adapt_leading_normalization(model, data.x_train)
            es, callbacks = self._callbacks(keras, steps)
            class_weight = self._class_weight()
            if self.run_dir is not None:
                self._write_project_copy()
                run_split.write(self.run_dir, data)  # the rows of each part (split.json)
            val = (data.x_val, data.y_val) if present(data.x_val, data.y_val) else None
            self.listener.started(
                steps,
                cfg.epochs,
                self.initial_epoch,
                {
                    "device": self.device,
                    "engine": self.engine_used,
                    "engine_note": self.engine_note,
                    "loss": self.loss_text,
                    "metrics": metric_names,
                    "batch_size": cfg.batch_size,
                    "num_train": data.num_train,
                    "num_val": 0 if val is None else rows(data.y_val),
                    "resumed": state is not None,
                    **weights_info,
                    **self._fine_tuning_info(),
                },
            )
            if self.initial_epoch < cfg.epochs and not self._stop:
                inputs = self.feed.fit_args(keras, data, cfg, class_weight, val)
                callbacks = self.feed.callbacks(keras, self) + callbacks
                switch = self._fine_tuning_switch()
                if switch is not None:  # phase one: the head on a frozen backbone
                    model.fit(**inputs, epochs=switch, initial_epoch=self.initial_epoch,
                              callbacks=callbacks, verbose=0)  # fmt: skip
                    if not self._stop and self._nan is None:
                        self._second_phase(model, steps, loss, metric_names, weights)
                if switch is None or (not self._stop and self._nan is None):
                    model.fit(
                        **inputs,
                        epochs=cfg.epochs,
                        initial_epoch=max(self.initial_epoch, switch or 0),
                        callbacks=callbacks,
                        verbose=0,
                    )
        if self._nan is not None:
            epoch, batch, value = self._nan
            return "nan_loss", (
                f"The loss became {value} at epoch {epoch}, batch {batch}: lower the learning rate "
                f"(now {cfg.learning_rate:g}), check the data for missing or huge values, or add "
                "BatchNormalization."
            )
        if self._stop:
            return "user", "Stopped by the user."
        if es is not None and es.stopped_epoch > 0:
            return "early_stopping", f"{cfg.early_stopping.monitor} stopped improving."
        return "completed", ""

    # ------------------------------------------------------------------ fine-tuning
    def _fine_tuning_phase(self, model):
        """Before the first compile: the backbone frozen (phase one), or, for a run resumed in
        phase two, its top layers unfrozen; returns the settings to compile with."""
        ft = self.config.fine_tuning
        if not ft.enabled:
            return self.config
        if self.initial_epoch < ft.frozen_epochs:
            fine_tuning.freeze(model)
            return self.config
        self.unfrozen_layers = fine_tuning.unfreeze_top(model, ft.unfreeze_layers)
        return fine_tuning.second_phase_config(self.config)

    def _fine_tuning_switch(self) -> int | None:
        """The epoch (0-based) where phase two starts, when this run crosses it."""
        ft = self.config.fine_tuning
        if ft.enabled and self.initial_epoch < ft.frozen_epochs < self.config.epochs:
            return ft.frozen_epochs
        return None

    def _second_phase(self, model, steps: int, loss, metric_names, weights) -> None:
        """Phase two: the top layers of the backbone train, at the fine-tuning learning rate.
        Keras takes a change of `trainable` only when the model is compiled again."""
        self.unfrozen_layers = fine_tuning.unfreeze_top(
            model, self.config.fine_tuning.unfreeze_layers
        )
        second = fine_tuning.second_phase_config(self.config)
        model.compile(optimizer=make_optimizer(second, steps), loss=compile_loss(loss),
                      metrics=metric_names, loss_weights=weights,
                      jit_compile=model.jit_compile)  # fmt: skip

    def _fine_tuning_info(self) -> dict[str, Any]:
        """What the run's start and metrics.json say of fine-tuning: the first epoch
        (1-based) of phase two, its learning rate and how many layers it unfreezes."""
        ft = self.config.fine_tuning
        if not ft.enabled:
            return {}
        return {
            "fine_tuning_from": ft.frozen_epochs + 1,
            "fine_tuning_note": fine_tuning.describe(self.config),
        }

    def _one_output_settings(self) -> tuple[str, list[str]]:
        """The loss and metrics of a one-output model (the settings may name its output)."""
        cfg, data = self.config, self.data
        names = self._output_names()
        name = names[0] if len(names) == 1 else None
        known = names if name is not None else None
        units = self._output_units()
        loss = outputs.loss_for(cfg, data, units, name, known)
        metric_names = outputs.metrics_for(cfg, data, name, known, units)
        check_loss_and_metrics(loss, metric_names)
        self.loss_used, self.loss_text = loss, outputs.loss_text(loss)
        return loss, metric_names

    def _several_outputs_settings(self, model):
        """Each output's loss, metrics and loss weight, its target matched by name; one
        sentence naming the outputs and the target columns when they do not match."""
        names = output_names(model)
        mismatch = match_outputs([o.name for o in self.data.outputs], names)
        if mismatch:
            raise DatasetError(mismatch)
        plan = outputs.plan(self.config, self.data, outputs.output_widths(model))
        for name, loss in plan.losses.items():
            check_loss_and_metrics(loss, plan.metrics[name])
        self.loss_used, self.loss_text = plan.losses, plan.describe()
        self.output_order = names
        return plan.losses, plan.metrics, plan.loss_weights

    def _output_names(self) -> list[str]:
        """The model's output names, read without building (a dict of settings names them)."""
        source = self.source
        try:
            if isinstance(source, Graph):
                return [n.name for n in source.output_nodes()]

            return output_names(source)
        except Exception:  # noqa: BLE001 - an unbuildable graph fails later with its message
            return []

    def _xla_compiles(self, placement, loss, weights, steps: int) -> bool | str:
        """For the XLA engine: whether this model compiles with XLA, tried on one batch with a
        throwaway copy; a layer that cannot compile falls back to plain TensorFlow, said in a
        sentence. Other engines let Keras decide ("auto")."""
        if self.config.engine != "xla":
            return "auto"
        cfg, data = self.config, self.data
        try:
            probe = self._make_model(placement)
            if probe is self.source:  # a built model given: no throwaway copy to try on
                return True
            probe.compile(optimizer=make_optimizer(cfg, steps), loss=compile_loss(loss),
                          loss_weights=weights, jit_compile=True)  # fmt: skip
            x = data.x_train
            x = (
                {k: v[: cfg.batch_size] for k, v in x.items()}
                if isinstance(x, dict)
                else (x[: cfg.batch_size])
            )
            probe.train_on_batch(x, take_rows(data.y_train, cfg.batch_size))
        except Exception as exc:  # noqa: BLE001 - XLA refuses some layers: say so and go on
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            self.engine_used = "tensorflow"
            self.engine_note = (
                "XLA cannot compile this model, so TensorFlow trains it without XLA"
                + (f" ({first})" if first else "")
                + "."
            )
            return False
        return True

    def _load_state(self) -> dict[str, Any] | None:
        if not (self.resume_requested and self.run_dir is not None):
            return None
        state = rundir.read_checkpoint(self.run_dir)
        if state is None:
            return None
        self.initial_epoch = int(state["epochs_done"])
        self.history = list(state.get("history", []))
        self.overfitting = list(state.get("overfitting", []))
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.samples = int(state.get("samples", 0))
        self._prior_wall = float(state.get("wall_seconds", 0.0))
        # Replay silently: old warnings are already in self.overfitting.
        self.detector.replay(self.history)
        return state

    def _start_weights(self, model) -> dict[str, Any]:
        """Load the project's stored weights (NAME.weights.h5) when there are any, so an
        imported or previously trained model goes on learning instead of starting afresh."""
        path = self.project.weights_path if self.project is not None else None
        if not (self.config.use_project_weights and isinstance(self.source, Graph) and path):
            return {}
        if not path.is_file():
            return {}

        fresh = load_weights(model, path)
        return {"weights": str(path), "fresh_layers": fresh}

    def _output_units(self) -> int | None:
        """Width of the (first) output, read without building: it decides the "auto" loss."""
        source = self.source
        try:
            if isinstance(source, Graph):
                inference = self._graph_inference()
                inference.update()
                outputs = source.output_nodes()
                shape = inference.info[outputs[0].id].output_shape if outputs else None
            else:
                shape = tuple(source.outputs[0].shape)
        except Exception:  # an unbuildable graph fails later with its own clear message
            return None
        return int(shape[-1]) if shape and shape[-1] is not None else None

    def _graph_inference(self):
        """One shape inference of the graph for the whole run: the "auto" loss reads the output
        width from it and the build reuses its cached results instead of inferring again."""
        if self._inference is None:
            self._inference = ShapeInference(self.source)
        return self._inference

    def _make_model(self, placement):
        keras = _keras()

        source = self.source
        if isinstance(source, Graph):
            with devices.precision_policy(placement.mixed_precision):
                return build_model(source, inference=self._graph_inference())
        if isinstance(source, keras.Model):
            if placement.strategy is not None:
                raise TrainingError(
                    "Training on several devices needs the model built inside the strategy: "
                    "pass the project's graph, not a built model."
                )
            return source
        raise TrainingError("There is no model to train: give a keras.Model or a graph.")

    def _callbacks(self, keras, steps: int):
        cfg = self.config
        out = []
        es = None
        if cfg.early_stopping.enabled:
            es = keras.callbacks.EarlyStopping(
                monitor=cfg.early_stopping.monitor,
                patience=cfg.early_stopping.patience,
                restore_best_weights=cfg.early_stopping.restore_best_weights,
                mode=cfg.early_stopping.mode,
            )
            out.append(es)
        if cfg.schedule.kind == "plateau":
            out.append(
                keras.callbacks.ReduceLROnPlateau(
                    monitor="val_loss" if present(self.data.x_val, self.data.y_val) else "loss",
                    factor=cfg.schedule.factor,
                    patience=cfg.schedule.patience,
                    min_lr=cfg.schedule.min_learning_rate,
                )
            )
        if cfg.tensorboard and self.run_dir is not None:
            try:
                import tensorboard  # noqa: F401 - Keras needs it to write summaries
            except ImportError:
                raise TrainingError(
                    "training.tensorboard is on but the tensorboard package is not installed: "
                    "install it (pip install tensorboard) or turn TensorBoard logs off."
                ) from None
            out.append(keras.callbacks.TensorBoard(log_dir=str(self.run_dir / "tensorboard")))
        # Last, so its epoch logs include what the others add (learning_rate).
        from deepgui.core.training.callbacks import EngineCallback  # imports Keras

        out.append(EngineCallback(self, steps))
        return es, out

    def _class_weight(self) -> dict[int, float] | None:
        setting = self.config.class_weight
        if setting == "none":
            return None
        how = '"balanced"' if setting == "balanced" else "per class"
        if self.data.multi_output:
            raise TrainingError(
                f"training.class_weight {how} weighs the classes of one target, but the "
                'data has several: set it to "none" and weigh the outputs with '
                "training.loss_weights instead."
            )
        if self.data.task not in ("multiclass", "binary"):
            raise TrainingError(
                f"training.class_weight {how} needs class labels, but the data is "
                f'a {self.data.task} task: set it to "none".'
            )
        if setting == "balanced":
            return balanced_class_weight(self.data.y_train)
        return class_weight_by_index(setting, self.data.task, self.data.class_names)

    # ------------------------------------------------------------------ epoch bookkeeping
    def _learning_rate(self) -> float | None:
        """The optimizer's learning rate now (a schedule's included), or None."""
        try:
            return float(keras().ops.convert_to_numpy(self.model.optimizer.learning_rate))
        except Exception:  # noqa: BLE001 - a missing read-out must never stop training
            return None

    def _epoch_done(self, epoch: int, logs: dict[str, float], train_seconds: float) -> None:
        logs = {k: float(v) for k, v in logs.items()}
        if "learning_rate" not in logs and "lr" not in logs:
            # Keras logs the rate only with some callbacks; the epoch's event and its history
            # row carry it always, so every listener draws it live (a worker process's too:
            # its parent has no optimizer to read) and a reopened or resumed run draws it.
            rate = self._learning_rate()
            if rate is not None:
                logs["learning_rate"] = rate
        row = {"epoch": epoch, **logs}
        self.history.append(row)
        self.samples += self.data.num_train
        self.train_seconds += train_seconds
        report = self.detector.update(epoch, logs)
        if report is not None:
            self.overfitting.append(report.to_dict())
        # Every flag so far, revisited with this epoch (a new best withdraws the earlier ones):
        # the checkpoint's state and metrics.json say what the banner says.
        self.overfitting = revise(self.overfitting, self.history)
        if report is not None:
            report.params = self.model.count_params()
            if self.project is not None:
                report.remedies = suggest_remedies(self.project, self.data.num_train, report.params)
            self.listener.overfitting_detected(report)
        if self.run_dir is not None:
            saved = rundir.save_checkpoint(
                self.run_dir,
                self.model,
                {
                    "epochs_done": epoch,
                    "history": self.history,
                    "overfitting": self.overfitting,
                    "train_seconds": self.train_seconds,
                    "samples": self.samples,
                    "wall_seconds": self._wall(),
                    "device": self.device,
                },
                weights_only=isinstance(self.source, Graph),
            )
            if saved is None:  # the weights went NaN or infinite with a finite loss
                self._nan = (epoch, 0, math.nan)
                self.model.stop_training = True
        self.listener.epoch_ended(epoch, logs)

    def _wall(self) -> float:
        return self._prior_wall + time.perf_counter() - self.started_at - self.paused_seconds

    def _metrics(self, reason: str, message: str) -> dict[str, Any]:
        rows = self.history
        final = {k: v for k, v in rows[-1].items() if k != "epoch"} if rows else {}
        key = "val_loss" if any("val_loss" in r for r in rows) else "loss"
        scored = [r for r in rows if isinstance(r.get(key), float) and math.isfinite(r[key])]
        best_row = min(scored, key=lambda r: r[key]) if scored else None
        best = (
            {
                "epoch": best_row["epoch"],
                "monitor": key,
                "metrics": {k: v for k, v in best_row.items() if k != "epoch"},
            }  # fmt: skip
            if best_row
            else {}
        )
        cfg = self.config
        out = {
            "epochs_run": len(rows),
            "final": final,
            "best": best,
            "overfitting": revise(self.overfitting, rows),
            "wall_seconds": round(self._wall(), 3),
            "samples_per_second": round(self.samples / self.train_seconds, 1)
            if self.train_seconds > 0
            else 0.0,
            "device": self.device,
            "engine": self.engine_used,
            "stopped_by": reason,
            "epochs_planned": cfg.epochs,
            "batch_size": cfg.batch_size,
            "optimizer": cfg.optimizer,
            "learning_rate": cfg.learning_rate,
            "loss": self._loss_setting(),
            "seed": cfg.seed,
            "data": self.data.description,
            "params": self.model.count_params() if self.model is not None else None,
            "task": self.data.task,
            "classes": list(self.data.class_names),
        }
        if self.data.multi_output:
            out["outputs"] = self.outputs_info()
        ft = self.config.fine_tuning
        if ft.enabled:
            out["fine_tuning"] = {
                "from_epoch": ft.frozen_epochs + 1,
                "learning_rate": ft.learning_rate,
                "unfrozen_layers": self.unfrozen_layers,
            }
        if self.initial_epoch:
            out["resumed_from_epoch"] = self.initial_epoch
        if message:
            out["message"] = message
        # On several ranks the test pass would be one more collective that every rank must run
        # alike; the chief's launcher tests the saved model instead (WorkerEngine).
        if (
            reason != "error"
            and self.model is not None
            and self.feed.evaluates
            and present(self.data.x_test, self.data.y_test)
        ):
            out.update(test_scores(self.model, self.data, cfg.batch_size))
        return out

    def _loss_setting(self) -> Any:
        """The loss as compiled (per output for several), for metrics.json; a run that failed
        before compiling records what the settings would have given, as far as known."""
        if self.loss_used is not None:
            return self.loss_used
        if not self.data.multi_output:
            try:
                return self._one_output_settings()[0]
            except DeepGuiError:
                pass
        return getattr(self.config, "loss", "auto")

    def outputs_info(self) -> list[dict[str, Any]]:
        """Each target as metrics.json and the signature list it: {"name", "task", "classes"},
        in the order of the model's outputs (the order its predictions come in)."""
        by_name = {o.name: o for o in self.data.outputs}
        order = [n for n in self.output_order if n in by_name] or list(by_name)
        return [by_name[n].to_dict() for n in order]

    # ------------------------------------------------------------------ run directory
    def _write_project_copy(self) -> None:
        if self.project is None:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        data = self.project.to_dict()
        data["training"] = {**self.project.training, **self.config.to_dict()}
        if self.dataset_spec is not None:
            data["dataset"] = self.dataset_spec
        text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False)
        atomic_write_text(self.run_dir / run_layout.PROJECT, text + "\n")

    def _write_run(self, reason: str, metrics: dict[str, Any]) -> None:
        run_dir = self.run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        if self.model is not None:
            network = self._usable_network(reason, metrics)
            if network is not None:
                self._save_model(network, run_dir)
                # Not for a run the user stopped: it ends at once (the app shows its last
                # batches when it ends), keeping its scores; nor where the feed does not (one
                # rank of several would evaluate its slice alone: feeds.Feed.evaluates).
                if reason in ("completed", "early_stopping") and self.feed.evaluates:
                    self._evaluate(network, metrics)
        rundir.write_history(run_dir, self.history)
        rundir.write_json(run_dir / run_layout.METRICS, metrics)

    def _evaluate(self, network, metrics: dict[str, Any]) -> None:
        """The saved model on the held-out split, kept in metrics.json (``evaluation``: scores,
        confusion matrix, a few predictions) so a reopened run shows it without its model or
        data. A failure here costs the run nothing but that."""
        try:
            self.evaluation = evaluate(network, self.data, self.config.batch_size)
            metrics["evaluation"] = stored(self.evaluation)
        except Exception:  # noqa: BLE001 - the run stands without its evaluation
            self.evaluation = None

    def _usable_network(self, reason: str, metrics: dict[str, Any]):
        """The model to save: the trained one when its weights are finite, else the last
        checkpoint (whose weights always are); None when there is none, with the reason added
        to the run's message. NaN weights are never saved as a usable model."""
        network = self.model
        if reason != "nan_loss" and rundir.all_finite(network.get_weights()):
            return network
        state = rundir.read_checkpoint(self.run_dir)
        if state is None:
            note = (
                "No epoch finished with usable weights, so this run keeps no model (model.keras)."
            )
            metrics["message"] = f"{metrics.get('message', '')} {note}".strip()
            metrics["model_saved"] = False
            if reason != "nan_loss":
                metrics["stopped_by"] = "nan_loss"
            (self.run_dir / run_layout.MODEL).unlink(missing_ok=True)
            return None
        if state["model_path"].endswith(".keras"):
            network = keras().saving.load_model(state["model_path"], safe_mode=True)
        else:
            rundir.restore_weights(network, Path(state["model_path"]))
        epoch = int(state["epochs_done"])
        note = f"The saved model is the one from epoch {epoch}, the last with usable weights."
        metrics["message"] = f"{metrics.get('message', '')} {note}".strip()
        metrics["model_epoch"] = epoch
        return network

    def _save_model(self, network, run_dir: Path) -> None:
        """``model.keras``: the network behind its preprocessing, so that it takes the data as
        the user has it; with its signature and a few raw rows for the exports' checks. Each
        file is written whole, then renamed: a full disk leaves no temporary file behind."""
        pre = self.data.preprocessing
        model = pre.wrap(network, name=f"{network.name}_with_preprocessing") if pre else network
        rundir.save_keras_model(model, run_dir / run_layout.MODEL)
        sig = signature.Signature(self.data.task, list(self.data.class_names), pre,
                                  outputs=self.outputs_info() if self.data.multi_output else [])  # fmt: skip
        signature.write(sig, run_dir / signature.RUN_FILE)
        # The first rows of the split the evaluation predicts on (test, else validation, else
        # training; evaluation._split's order): a reopened run shows its sample predictions
        # with these pictures.
        d = self.data
        for raw, labels in ((d.raw_test, d.y_test), (d.raw_val, d.y_val), (d.raw_train, d.y_train)):
            if raw is not None and present(raw, labels):
                break
        if raw is not None:
            try:
                signature.write_samples(run_dir, raw, labels)
            except OSError as exc:
                (run_dir / f".{signature.SAMPLES_FILE}.tmp").unlink(missing_ok=True)
                raise fileio.write_error(run_dir / signature.SAMPLES_FILE, exc) from None


def test_scores(model, data: LoadedData, batch_size: int) -> dict[str, Any]:
    """{"test": the model's scores on the test split}, or {"test_error": why not}."""
    try:
        test = model.evaluate(data.x_test, data.y_test, batch_size=batch_size, verbose=0,
                              return_dict=True)  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - a failed test pass must not lose the run
        return {"test_error": describe_error(exc)}
    return {"test": {k: float(v) for k, v in test.items()}}


def present(x, y) -> bool:
    """A split is there when it has samples (loaders may give empty arrays for a 0 fraction)."""
    return x is not None and y is not None and rows(y) > 0


def _backend_engine() -> str:
    """The engine name of this process's Keras backend (without importing Keras)."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    return backend if backend in ("jax", "torch") else "tensorflow"


def _adapt_leading_normalization(model, x_train) -> None:
    """A Normalization layer right after the model's one Input, with no mean and variance of its
    own, learns them from the training data (the data reaches it raw: nothing scales twice)."""
    if len(model.inputs) != 1 or isinstance(x_train, dict):
        return
    first = model.inputs[0]
    for layer in model.layers:
        if type(layer).__name__ != "Normalization" or layer.input_mean is not None:
            continue
        try:
            fed_by_input = layer.input is first
        except (AttributeError, ValueError):  # a layer used more than once has no one input
            continue
        if fed_by_input:
            layer.adapt(x_train)


def check_data(data: LoadedData, model, loss: Any) -> None:
    """Data against model before training; DatasetError names both sides and the fix."""
    problems = check_against_model(data, model, loss)
    if problems:
        raise DatasetError(problems[0])
