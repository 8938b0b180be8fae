"""Light and dark looks that follow the system, and the colours the canvas draws with."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# One colour per palette category, shared by the palette icons and the node headers.
CATEGORY_COLORS = {
    "Input": "#2e9d5b",
    "Core": "#4f7cff",
    "Convolution": "#8a5cf6",
    "Pooling": "#b05cc9",
    "Recurrent": "#e0558a",
    "Attention": "#e57a3a",
    "Normalization": "#1ea5b5",
    "Regularization": "#7a8599",
    "Reshaping": "#c59a1c",
    "Merging": "#d9534f",
    "Preprocessing": "#4a9c8c",
    "Augmentation": "#6d8f2e",
    "Backbones": "#0f6e8c",
    "Operations": "#5c6b7a",
}
OTHER_COLOR = "#8790a3"


def category_color(category: str | None) -> QColor:
    return QColor(CATEGORY_COLORS.get(category or "", OTHER_COLOR))


@dataclass(frozen=True)
class CanvasColors:
    background: QColor
    grid: QColor
    node: QColor
    node_border: QColor
    text: QColor
    muted: QColor
    selection: QColor
    edge: QColor
    error: QColor
    warning: QColor
    ok: QColor


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def canvas_colors() -> CanvasColors:
    if is_dark():
        return CanvasColors(
            background=QColor("#1e2128"), grid=QColor("#2a2e37"), node=QColor("#2c313b"),
            node_border=QColor("#464d5c"), text=QColor("#e8eaf0"), muted=QColor("#a4acbd"),
            selection=QColor("#5aa0ff"), edge=QColor("#8b93a5"), error=QColor("#ff5c5c"),
            warning=QColor("#ffb02e"), ok=QColor("#4cc38a"),
        )  # fmt: skip
    return CanvasColors(
        background=QColor("#f4f5f8"), grid=QColor("#e3e6ec"), node=QColor("#ffffff"),
        node_border=QColor("#c5cad5"), text=QColor("#1d2129"), muted=QColor("#5d6576"),
        selection=QColor("#2f6fed"), edge=QColor("#7c8496"), error=QColor("#d32f2f"),
        warning=QColor("#d97a00"), ok=QColor("#1f8f55"),
    )  # fmt: skip


# Text that says something went right or wrong, per look: each reads at WCAG AA (a contrast
# ratio of at least 4.5) on its look's window and field backgrounds. No one green or red can do
# that on both a light and a dark background.
STATUS_COLORS = {
    False: {"ok": "#1e7b46", "error": "#c62828"},  # on Fusion's light #efefef and white
    True: {"ok": "#4cc38a", "error": "#ff6b6b"},  # on the dark #262a32 and #1e2128
}


def status_color(ok: bool, palette: QPalette | None = None) -> str:
    """The green (ok) or red (not ok) of text in the current look."""
    return STATUS_COLORS[is_dark(palette)]["ok" if ok else "error"]


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG's contrast ratio of two colours, from 1 (the same) to 21 (black on white)."""

    def luminance(c: QColor) -> float:
        def linear(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * linear(c.redF()) + 0.7152 * linear(c.greenF()) + 0.0722 * linear(c.blueF())

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _dark_palette() -> QPalette:
    p = QPalette()
    roles = QPalette.ColorRole
    base = {
        roles.Window: "#262a32", roles.WindowText: "#e8eaf0", roles.Base: "#1e2128",
        roles.AlternateBase: "#2a2e37", roles.ToolTipBase: "#30353f", roles.ToolTipText: "#e8eaf0",
        roles.PlaceholderText: "#8a91a0", roles.Text: "#e8eaf0", roles.Button: "#2f343e",
        roles.ButtonText: "#e8eaf0", roles.BrightText: "#ff6b6b", roles.Link: "#6aa8ff",
        roles.Highlight: "#3d7be0", roles.HighlightedText: "#ffffff", roles.Mid: "#3a404c",
        roles.Dark: "#1a1d23", roles.Light: "#3b414d", roles.Midlight: "#343a45",
        roles.Shadow: "#101215",
    }  # fmt: skip
    for role, colour in base.items():
        p.setColor(role, QColor(colour))
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7b8190"))
    return p


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return bool(scheme and scheme() == Qt.ColorScheme.Dark)


def apply_theme(app: QApplication, dark: bool | None = None) -> None:
    """Fusion with a light or dark palette (the system's choice unless `dark` is given)."""
    app.setStyle("Fusion")
    dark = system_prefers_dark() if dark is None else dark
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())
