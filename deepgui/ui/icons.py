"""Icons drawn from the SVGs in resources/icons (sharp at any scale) in the palette's text
colour, and one generated badge per layer category."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from deepgui.core.paths import resources_dir
from deepgui.ui.theme import category_color, is_dark

_SIZES = (16, 20, 24, 32, 48, 64)


# Icon ink per look: normal, and disabled. Qt's own disabled version of a light icon on a dark
# toolbar looked as bright as an enabled one; these are drawn faint against either background.
_INK = {False: ("#3a4150", "#b8bdc8"), True: ("#dfe3ea", "#5f6675")}


def _render(svgs: dict[QIcon.Mode, bytes]) -> QIcon:
    icon = QIcon()
    for mode, svg in svgs.items():
        renderer = QSvgRenderer(QByteArray(svg))
        for size in _SIZES:
            pixmap = QPixmap(size, size)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter)
            painter.end()
            icon.addPixmap(pixmap, mode)
    return icon


@cache
def _icon(name: str, dark: bool) -> QIcon:
    path = resources_dir() / "icons" / f"{name}.svg"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return QIcon()  # a missing icon leaves the text, never an error
    normal, disabled = _INK[dark]
    return _render({QIcon.Mode.Normal: text.replace("@FG", normal).encode(),
                    QIcon.Mode.Disabled: text.replace("@FG", disabled).encode()})  # fmt: skip


def icon(name: str) -> QIcon:
    dark = is_dark() if QApplication.instance() else False
    return _icon(name, dark)


_ABBREVIATIONS = {
    "Input": "In", "Core": "Co", "Convolution": "Cv", "Pooling": "Pl", "Recurrent": "Rn",
    "Attention": "At", "Normalization": "No", "Regularization": "Rg", "Reshaping": "Rs",
    "Merging": "Mg", "Preprocessing": "Pp", "Augmentation": "Au",
}  # fmt: skip


@cache
def category_icon(category: str) -> QIcon:
    """A rounded badge in the category's colour with a two-letter mark."""
    icon = QIcon()
    colour = category_color(category)
    for size in _SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        rect = QRectF(0.5, 0.5, size - 1, size - 1)
        painter.drawRoundedRect(rect, size * 0.22, size * 0.22)
        font = QFont()
        font.setPixelSize(max(6, int(size * 0.46)))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(
            rect, Qt.AlignmentFlag.AlignCenter, _ABBREVIATIONS.get(category, category[:2])
        )
        painter.end()
        icon.addPixmap(pixmap)
    return icon
