"""NumPy images -> QPixmaps for thumbnails (grayscale or RGB, any value range)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_pixmap(image: np.ndarray, size: int = 64) -> QPixmap:
    """One sample (H, W), (H, W, 1) or (H, W, 3) scaled to `size` pixels, values stretched."""
    a = np.asarray(image, dtype=np.float32)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    a = np.nan_to_num((a - lo) / (hi - lo) if hi > lo else np.zeros_like(a))
    a = np.ascontiguousarray((a * 255).astype(np.uint8))
    if a.ndim == 2:
        h, w = a.shape
        img = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        a = np.ascontiguousarray(a[..., :3])
        h, w = a.shape[:2]
        img = QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    # copy(): the QImage borrows the array's memory, which goes away when this returns.
    return QPixmap.fromImage(img.copy()).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )
