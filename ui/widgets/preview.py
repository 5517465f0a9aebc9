"""The live camera view: the newest preview image, scaled to fit, with detected codes outlined."""

from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPolygonF, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.runtime.camera import PreviewFrame
from ui.runtime.pipeline_thread import FrameCodes
from ui.runtime.qt_compat import emit

OUTLINE_HOLD_S = 0.5  # keep an outline this long after the code was last seen (decoding lags the preview)


class PreviewView(QWidget):
    resized = Signal(int, int)  # new width and height: the camera thread makes previews that size

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self._frame: PreviewFrame | None = None
        self._codes: FrameCodes | None = None
        self.frames_shown = 0
        self.message = ""  # shown instead of the picture (camera lost, ...)

    def show_frame(self, frame: PreviewFrame) -> None:
        self._frame = frame
        self.frames_shown += 1
        self.update()

    def show_codes(self, codes: FrameCodes) -> None:
        if codes.codes or (self._codes and time.monotonic() - self._codes.read_at > OUTLINE_HOLD_S):
            self._codes = codes
            self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        emit(self.resized, self.width(), self.height())
        super().resizeEvent(event)

    def set_message(self, text: str) -> None:
        self.message = text
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#111418"))
        if self._frame is not None and not self.message:
            target = self._target_rect(self._frame.image)
            painter.drawImage(target, self._frame.image)
            self._draw_codes(painter, target)
        if self.message:
            painter.setPen(QColor("#f2f2f2"))
            font = painter.font()
            font.setPointSizeF(max(12.0, self.height() / 18))
            painter.setFont(font)
            painter.drawText(
                self.rect().adjusted(20, 20, -20, -20),
                int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                self.message,
            )
        painter.end()

    def _target_rect(self, image: QImage) -> QRectF:
        scale = min(self.width() / image.width(), self.height() / image.height())
        w, h = image.width() * scale, image.height() * scale
        # Whole pixels: a preview made to this widget's size is then painted 1:1, a plain copy.
        return QRectF(round((self.width() - w) / 2), round((self.height() - h) / 2), w, h)

    def _draw_codes(self, painter: QPainter, target: QRectF) -> None:
        if self._codes is None or self._frame is None or not self._codes.codes:
            return
        if time.monotonic() - self._codes.read_at > OUTLINE_HOLD_S:
            return
        factor = self._frame.scale * target.width() / self._frame.image.width()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#35e06b"), max(3.0, self.width() / 200)))
        for code in self._codes.codes:
            polygon = QPolygonF([QPointF(target.x() + x * factor, target.y() + y * factor) for x, y in code.points])
            painter.drawPolygon(polygon)
