"""The layer palette: the catalogue by category, filtered as you type. Drag a layer onto the
canvas, or double-click it to add it after the selected layer."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deepgui.core import catalogue
from deepgui.ui.editing import LAYER_MIME
from deepgui.ui.icons import category_icon

_CLASS_ROLE = Qt.ItemDataRole.UserRole


class LayerTree(QTreeWidget):
    """A tree whose layer rows drag out as the layer's class name."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.setIndentation(14)

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        class_name = item.data(0, _CLASS_ROLE) if item else None
        if not class_name:
            return
        mime = QMimeData()
        mime.setData(LAYER_MIME, class_name.encode())
        mime.setText(class_name)
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(item.icon(0).pixmap(28, 28))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    layer_activated = Signal(str)  # double-click or Enter on a layer

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree = LayerTree()
        self.tree.itemActivated.connect(self._on_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._categories: dict[str, QTreeWidgetItem] = {}
        self.best: str | None = None  # the layer Enter adds: the best match of the search
        self._build()

    def _build(self) -> None:
        for spec in catalogue.all_layers():
            parent = self._categories.get(spec.category)
            if parent is None:
                parent = QTreeWidgetItem([spec.category])
                parent.setIcon(0, category_icon(spec.category))
                parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = parent.font(0)
                font.setBold(True)
                parent.setFont(0, font)
                self.tree.addTopLevelItem(parent)
                self._categories[spec.category] = parent
            item = QTreeWidgetItem(parent, [spec.class_name])
            item.setData(0, _CLASS_ROLE, spec.class_name)
            item.setIcon(0, category_icon(spec.category))
            item.setToolTip(0, f"<b>{spec.class_name}</b> · {spec.category}<br>{spec.description}")
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
            self._items[spec.class_name] = item
        self.tree.expandAll()

    def filter(self, text: str) -> None:
        """Show only the layers matching what was typed, and mark the best match (the core's
        ranking): the one Enter adds."""
        ranked = [s.class_name for s in catalogue.search(text)]
        shown = set(ranked)
        for name, item in self._items.items():
            item.setHidden(name not in shown)
        for parent in self._categories.values():
            visible = any(not parent.child(i).isHidden() for i in range(parent.childCount()))
            parent.setHidden(not visible)
            parent.setExpanded(True)
        self.best = ranked[0] if ranked and text.strip() else None
        if self.best is not None:
            item = self._items[self.best]
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)
        else:
            self.tree.setCurrentItem(None)

    def visible_layers(self) -> list[str]:
        return [
            name
            for name, item in self._items.items()
            if not item.isHidden() and not item.parent().isHidden()
        ]

    def _on_activated(self, item: QTreeWidgetItem) -> None:
        class_name = item.data(0, _CLASS_ROLE)
        if class_name:
            self.layer_activated.emit(class_name)

    def _activate_first(self) -> None:
        # Enter adds the best match by the core's ranking, not the first row of the tree (the
        # tree is sorted by category: `MaxPooling2D` came after GlobalMaxPooling2D there).
        if self.best is not None:
            self.layer_activated.emit(self.best)
