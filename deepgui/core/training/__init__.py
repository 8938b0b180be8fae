"""Training: config, devices, the engine and its events, the run directory, the overfitting
detector and its remedies. Importing this package does not import Keras."""

from deepgui.core.training.config import TrainingConfig, parse_training
from deepgui.core.training.engine import REASONS, RunResult, TrainingEngine, TrainingListener
from deepgui.core.training.overfitting import OverfittingDetector, OverfittingReport
from deepgui.core.training.rundir import default_run_dir, is_resumable, list_runs, read_run

__all__ = [
    "REASONS",
    "OverfittingDetector",
    "OverfittingReport",
    "RunResult",
    "TrainingConfig",
    "TrainingEngine",
    "TrainingListener",
    "default_run_dir",
    "is_resumable",
    "list_runs",
    "parse_training",
    "read_run",
]
