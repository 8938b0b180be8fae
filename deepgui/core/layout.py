"""Automatic layout as one undoable command. The geometry itself (the boxes' size, the layered
layout, making room, a free spot) is in `placement`, below the commands, which insert layers
with it; its names are here too, where the app and the tests look for them."""

from __future__ import annotations

from deepgui.core.commands import MoveNodes
from deepgui.core.graph import Graph
from deepgui.core.placement import (  # noqa: F401 (the app and the tests find them here)
    GAP_X,
    GAP_Y,
    NODE_HEIGHT,
    NODE_WIDTH,
    auto_layout,
    free_spot,
    layers_by_depth,
    make_room,
)


def layout_command(graph: Graph) -> MoveNodes:
    """The auto-layout as one undoable command (push it on the project's undo stack)."""
    command = MoveNodes(auto_layout(graph))
    command.text = "Arrange layers"
    return command
