"""Training: config, devices, the engine and its events, the run directory, the overfitting
detector and its remedies. Importing this package does not import Keras."""

from deepgui.core.training.config import TrainingConfig, parse_training
from deepgui.core.training.engine import REASONS, RunResult, TrainingEngine, TrainingListener
from deepgui.core.training.overfitting import OverfittingDetector, OverfittingReport
from deepgui.core.training.rundir import is_resumable, read_run

__all__ = [
    "REASONS",
    "OverfittingDetector",
    "OverfittingReport",
    "RunResult",
    "TrainingConfig",
    "TrainingEngine",
    "TrainingListener",
    "is_resumable",
    "parse_training",
    "read_run",
]
