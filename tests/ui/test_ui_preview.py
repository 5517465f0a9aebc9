"""The live preview is made on the camera thread at the preview area's size and in the screen's 32-bit format, so
the GUI thread paints it 1:1 (issue 9: the station's CPU on a live stream)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from kiosk.sources.base import Frame
from tests.support.media import write_video
from tests.support.station import make_settings, stations
from ui.runtime.camera import to_preview

station_factory = pytest.fixture(stations)


def test_a_preview_fits_the_area_and_keeps_its_colours() -> None:
    image = np.zeros((720, 1280, 3), np.uint8)
    image[:, :640] = (255, 0, 0)  # blue on the left (BGR)
    image[:, 640:] = (0, 0, 255)  # red on the right
    preview = to_preview(Frame(image, 7, 0.5), (600, 500))
    assert (preview.image.width(), preview.image.height()) == (600, 338)  # width-bound, aspect kept
    assert preview.image.format() is QImage.Format.Format_RGB32
    assert preview.scale == pytest.approx(600 / 1280) and preview.index == 7
    assert QColor(preview.image.pixel(100, 169)) == QColor(0, 0, 255)
    assert QColor(preview.image.pixel(500, 169)) == QColor(255, 0, 0)
    tall = to_preview(Frame(image, 8, 0.6), (900, 300))
    assert (tall.image.width(), tall.image.height()) == (533, 300)  # height-bound
    small = to_preview(Frame(image[:100, :100], 9, 0.7), (600, 500))
    assert (small.image.width(), small.image.height()) == (100, 100)  # never enlarged


def test_the_station_preview_is_made_at_the_size_it_is_painted(tmp_path: Path, station_factory: Any) -> None:
    video = write_video(tmp_path / "door.avi", [(None, 3.0)], size=(1280, 720))
    station = station_factory(make_settings(tmp_path), source=str(video))
    view = station.window.preview
    station.qtbot.waitUntil(lambda: view.frames_shown >= 3, timeout=5000)
    image = view._frame.image
    assert image.format() is QImage.Format.Format_RGB32
    fits_width = image.width() == view.width() and image.height() <= view.height()
    fits_height = image.height() == view.height() and image.width() <= view.width()
    assert fits_width or fits_height, f"{image.width()}x{image.height()} in a {view.width()}x{view.height()} area"
    target = view._target_rect(image)
    assert (target.width(), target.height()) == (image.width(), image.height())
    assert target.x() == int(target.x()) and target.y() == int(target.y())  # whole pixels: a plain copy
    painted = view.grab().toImage()
    x, y = int(target.x()) + image.width() // 2, int(target.y()) + image.height() // 2
    assert QColor(painted.pixel(x, y)) == QColor(image.pixel(image.width() // 2, image.height() // 2))
