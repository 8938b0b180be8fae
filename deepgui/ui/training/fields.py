"""What the settings forms share to show one field at a time: a field the project changed (an
undo, a remedy) is shown again in its own widgets, and every other widget keeps what it shows,
a line the user is typing in included."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QLineEdit


def set_text(widget: QLineEdit | QComboBox, text: str) -> None:
    """Show `text` in a line (or an editable choice's line), leaving it alone when it shows
    that already: setting the same text again would move the cursor and drop the selection."""
    if isinstance(widget, QComboBox):
        if widget.currentText() != text:
            widget.setCurrentText(text)
    elif widget.text() != text:
        widget.setText(text)


def shown_after(shown: dict[str, Any], now: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    """A form's record of what it shows, after it showed `keys` again: those fields as the form
    now reads them, and the fields it shows or stops showing with them (the source decides
    which data fields there are; the optimizer, which options). The others stay as recorded,
    so a change the user has not sent yet is still sent."""
    out = dict(shown)
    for key in set(shown) | set(now):
        if key in keys or (key in shown) != (key in now):
            if key in now:
                out[key] = now[key]
            else:
                out.pop(key, None)
    return out
