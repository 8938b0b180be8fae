"""Exporters with self-checks: every artefact is loaded back in its own runtime and compared with
the Keras model on sample inputs. Keras/TensorFlow load only when an export runs."""

from deepgui.core.export.model_export import canonical_format, export_model, verify
from deepgui.core.export.plots import export_plots
from deepgui.core.export.project_export import export_project, load_source_model, read_history_csv
from deepgui.core.export.report import ExportReport

MODEL_FORMATS = ("keras", "savedmodel", "tflite", "onnx")
FORMATS = (*MODEL_FORMATS, "python", "csv", "svg")

__all__ = [
    "FORMATS",
    "MODEL_FORMATS",
    "ExportReport",
    "canonical_format",
    "export_model",
    "export_plots",
    "export_project",
    "load_source_model",
    "read_history_csv",
    "verify",
]
