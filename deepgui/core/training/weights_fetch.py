"""A run's ImageNet weights fetched before it trains. A backbone set to ``imagenet`` whose
file Keras's cache lacks would otherwise be downloaded while the model is built, inside the
engine (a worker process for JAX), with nothing said for a minute or more; planning the run
downloads it first, saying how far it got, and a stopped run stops the download too."""

from __future__ import annotations

from collections.abc import Callable

from deepgui.core import backbones, node_kinds
from deepgui.core.graph import Graph
from deepgui.core.shapes import ShapeInference


def missing_imagenet_weights(graph: Graph) -> list[tuple[str, backbones.WeightsFile]]:
    """(the backbone's class, its file) for each ImageNet weights file the graph's backbones
    need and Keras's cache does not hold, each file once. A backbone that cannot be built as
    set is left to the build, which says why."""
    wanting = [n for n in graph.nodes.values()
               if node_kinds.kind(n) == node_kinds.BACKBONE
               and n.config.get("weights", "imagenet") == "imagenet"]  # fmt: skip
    if not wanting:  # most models: no shape inference for nothing
        return []
    info = ShapeInference(graph).update()
    missing: dict[str, tuple[str, backbones.WeightsFile]] = {}
    for node in wanting:
        shapes = info[node.id].input_shapes if node.id in info else ()
        if not shapes or shapes[0] is None or len(shapes[0]) != 4:
            continue
        # Shape inference has just asked Keras for this file (its warning); asked once.
        wanted = backbones.looked_up_weights_file(node, shapes[0])
        if wanted is None:  # Keras offers none as set: the build says so
            continue
        if not wanted.cached_path.is_file():
            missing.setdefault(str(wanted.cached_path), (node.class_name, wanted))
    return list(missing.values())


def fetch_imagenet_weights(
    graph: Graph, say: Callable[[str], None], should_stop: Callable[[], bool]
) -> None:
    """Download what `missing_imagenet_weights` finds; BackboneError (one sentence) when one
    cannot be."""
    for class_name, wanted in missing_imagenet_weights(graph):
        backbones.download_weights(wanted, class_name, say, should_stop)
