"""The sizes deepgui takes, and the sentence that refuses a bigger one before any work is done.

Below these limits loading, checking and shape inference cost time in proportion to the size
(benchmarks/bench_large_graph.py and bench_csv_read.py measure it); above them a file is far
beyond any real model or table, and is taken for a mistake or an attack rather than worked on
for hours. Each front end raises its own error with `refusal`'s sentence."""

from __future__ import annotations

# Layers in a project. The largest Keras Applications models have about a thousand layers;
# a hundred times that leaves room for generated and imported graphs, and deepgui loads and
# infers the shapes of a project this size in a few seconds.
MAX_NODES = 100_000

# Connections in a project. Most layers take one input and a merge a few: four per layer
# allowed covers the densest real graphs (DenseNet's concatenations) with room to spare.
MAX_EDGES = 4 * MAX_NODES

# Columns in a CSV file, each one a named model input. Wide tables (gene expression, sensor
# arrays) reach tens of thousands of columns; ten times that is no table a model is trained
# on, and its header alone would take minutes to turn into inputs.
MAX_COLUMNS = 100_000

# Epochs of one run. Long schedules on small data run tens of thousands of epochs; a count
# beyond this (a typo, or 1e12) is a run that never ends rather than one anyone waits for.
MAX_EPOCHS = 100_000


def refusal(what: str, count: int, limit: int) -> str | None:
    """The end of a sentence refusing `count` `what` (a plural noun, "layers") over `limit`,
    for the caller to begin with the file's name; None when the count is within the limit."""
    if count <= limit:
        return None
    return f"has {count:,} {what}, more than deepgui takes (at most {limit:,})."


def epochs_refusal(epochs: int) -> str | None:
    """Why `epochs` is too many for one run, in words the caller prefixes with the setting's
    name; None when it is not."""
    if epochs <= MAX_EPOCHS:
        return None
    shown = f"{epochs:,}" if epochs < 10**15 else f"{epochs:.3g}"  # 1e+30, not 31 digits
    return f"must be at most {MAX_EPOCHS:,}, not {shown}: a run that long would never end."
