"""Second looks at one located symbol: a printed card bent around a hand, read by flattening the bend.

zxing-cpp samples a located QR symbol on one perspective grid. A card curled in a hand is a cylinder: its rows
bow (the arc seen from a little above or below) and its columns crowd towards the edges, so modules far from the
finder patterns fall between grid points and the error correction fails ("located, not read"). Here the symbol's
quad, as zxing-cpp located it, is resampled on a curved grid that undoes a bow of the rows (either way) and the
column crowding of a cylinder, for the bend running across the code or along it, and each view is decoded again.

Measured on the entrance set's bent cards (benchmarks/bench_decode.py): a row bow of 5 % of the half-side, with
the columns of a 0.3 rad wrap, reads most of the cards that were located but not read; the views cost a few
tenths of a millisecond each, since only the symbol's neighbourhood is resampled, and they run only for symbols
that were located and not read (never on an empty doorway)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Quad = tuple[tuple[float, float], ...]  # top-left, top-right, bottom-right, bottom-left of a located symbol

MARGIN = 0.25  # quiet zone kept around the symbol in a view, as a fraction of its side
MIN_VIEW_PX = 30
MAX_VIEW_PX = 360  # a bigger symbol is seen smaller: 4 px per module of a version-10 code, and views stay cheap
WRAP_RAD = 0.3  # half the arc the symbol's side wraps (its columns crowd towards the edges by cos 0.3 = 0.96)
# (row bow as a fraction of the half-side, bend across the code's x axis (0) or its y axis (1)), best first
UNBEND_VIEWS: tuple[tuple[float, int], ...] = ((0.05, 0), (-0.05, 0), (0.05, 1), (-0.05, 1))


def unbent_views(
    gray: np.ndarray, quads: Sequence[Quad], views: Sequence[tuple[float, int]] = UNBEND_VIEWS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each distinct quad and each view: (the resampled view, its map: view pixel -> (x, y) in `gray`)."""
    out = []
    for quad in distinct(quads):
        corners = np.array(quad, np.float32)
        side = max(float(np.linalg.norm(corners[1] - corners[0])), float(np.linalg.norm(corners[3] - corners[0])))
        size = int(min(side * (1 + 2 * MARGIN), MAX_VIEW_PX))
        if size < MIN_VIEW_PX:
            continue
        square = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32)
        homography = cv2.getPerspectiveTransform(square, corners)
        for bow, axis in views:
            grid = _bent_grid(size, bow, axis)
            mapped = cv2.perspectiveTransform(grid, homography).reshape(size, size, 2)
            view = cv2.remap(gray, mapped[..., 0], mapped[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            out.append((view, mapped))
    return out


def to_frame(points: Sequence[tuple[float, float]], mapped: np.ndarray) -> tuple[tuple[float, float], ...]:
    """Corners read in a view, back in the frame's pixels (the view's own map, at the nearest view pixel)."""
    size = mapped.shape[0]
    back = []
    for x, y in points:
        col, row = min(max(round(x), 0), size - 1), min(max(round(y), 0), size - 1)
        back.append((float(mapped[row, col, 0]), float(mapped[row, col, 1])))
    return tuple(back)


def distinct(quads: Sequence[Quad]) -> list[Quad]:
    """The largest quad of each symbol: zxing-cpp reports several candidates (sub-quads) for one symbol."""
    kept: list[Quad] = []
    for quad in sorted(quads, key=_area, reverse=True):
        centre = np.mean(np.array(quad, np.float32), axis=0)
        if not any(_inside(centre, other) for other in kept):
            kept.append(quad)
    return kept


def _area(quad: Quad) -> float:
    return abs(float(cv2.contourArea(np.array(quad, np.float32))))


def _inside(point: np.ndarray, quad: Quad) -> bool:
    contour = np.array(quad, np.float32).reshape(-1, 1, 2)
    return bool(cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) >= 0)


def _bent_grid(size: int, bow: float, axis: int) -> np.ndarray:
    """Where each view pixel lies in the symbol's square [-1, 1]² (as zxing-cpp's quad spans it), flattened
    for cv2.perspectiveTransform: the cylinder's columns (sin) and the bow of its rows (1 - cos). Built from 1-D
    profiles by broadcasting (a 400 px view in ~0.3 ms), so nothing is cached between frames."""
    t = np.linspace(-1 - 2 * MARGIN, 1 + 2 * MARGIN, size, dtype=np.float32)
    inside = np.clip(t, -1.0, 1.0)
    curved = np.sin(inside * WRAP_RAD) / np.sin(WRAP_RAD) + (t - inside)  # along the bend
    lift = bow * (1 - np.cos(t * WRAP_RAD)) / (1 - np.cos(WRAP_RAD))  # how far that column's rows are bowed
    grid = np.empty((size, size, 2), np.float32)  # [row, column, (x, y)]
    if axis == 0:  # the bend runs along the code's x axis: columns crowd, rows bow
        grid[..., 0] = curved[None, :]
        grid[..., 1] = t[:, None] + lift[None, :]
    else:
        grid[..., 0] = t[None, :] + lift[:, None]
        grid[..., 1] = curved[:, None]
    return grid.reshape(-1, 1, 2)
