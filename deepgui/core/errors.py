"""Specific errors of the core. Each carries one sentence a person can act on; the UI and the
CLI only present them."""


class DeepGuiError(Exception):
    """Base class: the message is meant for the user as it is. When it is about one setting,
    the sentence names it in the words of the project and the app, and `setting` gives its key
    (epochs, batch_size, out, data, target, missing, engine, workers, coordinator, force...) so
    that a front end can point at its own control for it: the command line names its flag."""

    setting: str | None = None

    def __init__(self, *args: object, setting: str | None = None) -> None:
        super().__init__(*args)
        if setting is not None:
            self.setting = setting


class GraphError(DeepGuiError):
    """A structural problem: a cycle, a duplicate edge, too many inputs, an unknown layer."""


class CycleError(GraphError):
    """A connection would make the graph cyclic (or a loaded graph has a cycle)."""


class DuplicateEdgeError(GraphError):
    """The same connection exists already."""


class PortError(GraphError):
    """A layer would get more inputs than it takes, or an input port is taken."""


class UnknownNodeError(GraphError):
    """An id names no layer of the graph."""


class BuildError(DeepGuiError):
    """The graph cannot be turned into a Keras model."""


class ProjectFormatError(DeepGuiError):
    """A project file is missing, unreadable or malformed."""


class ModelImportError(DeepGuiError):
    """A Keras model file cannot be read or turned into a graph."""


class DatasetError(DeepGuiError):
    """Data cannot be loaded, or does not fit the model."""


class TrainingError(DeepGuiError):
    """Training could not start or failed."""


class ExportError(DeepGuiError):
    """An export failed or its self-check found a difference."""
