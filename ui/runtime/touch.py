"""Touch: fingers, not a mouse. Lists and scroll areas scroll with a swipe (QScroller, kinetic), rows are tall
enough to hit, and text is typed on Qt Virtual Keyboard (PySide6-Addons) when the kiosk has no keyboard.

Sizes: 48 px is the smallest comfortable target for a fingertip (about 7 mm on a 7-inch 170 ppi panel); the
style sheet (assets/style.qss) gives every button, field and tab at least that, and scroll bars 24 px.

The on-screen keyboard: `ui.on_screen_keyboard = true` in the config. Qt picks its input method when the
QApplication is made, from QT_IM_MODULE, so `use_on_screen_keyboard` must run before `make_application`.
Its layout follows the system locale (LANG=vi_VN.UTF-8 on a Vietnamese kiosk gives the vi_VN layout).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from PySide6.QtCore import QLibraryInfo
from PySide6.QtWidgets import QAbstractItemView, QAbstractScrollArea, QScroller, QWidget

TOUCH_TARGET_PX = 48
ROW_HEIGHT_PX = 48
VIRTUAL_KEYBOARD = "qtvirtualkeyboard"


def virtual_keyboard_plugin() -> Path | None:
    """The Qt Virtual Keyboard input-context plugin shipped with PySide6-Addons, None when it is missing."""
    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforminputcontexts"
    found = sorted(folder.glob("*qtvirtualkeyboard*"))
    return found[0] if found else None


def use_on_screen_keyboard(enabled: bool, env: MutableMapping[str, str] | None = None) -> str:
    """Choose the input method before the QApplication exists; returns a problem to report, or ""."""
    env = os.environ if env is None else env
    if not enabled:
        return ""
    if virtual_keyboard_plugin() is None:
        return "on-screen keyboard: Qt Virtual Keyboard is not installed (pip install PySide6-Addons)"
    env["QT_IM_MODULE"] = VIRTUAL_KEYBOARD
    return ""


def make_touch_friendly(root: QWidget) -> int:
    """Kinetic swipe scrolling and 48 px rows on every list and scroll area under `root`; returns how many."""
    areas = root.findChildren(QAbstractScrollArea)
    for area in areas:
        enable_kinetic_scrolling(area)
        if isinstance(area, QAbstractItemView):
            area.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
            header = getattr(area, "verticalHeader", None)
            if header is not None:
                header().setMinimumSectionSize(ROW_HEIGHT_PX)
                header().setDefaultSectionSize(ROW_HEIGHT_PX)
    return len(areas)


def enable_kinetic_scrolling(area: QAbstractScrollArea) -> None:
    """A swipe scrolls (with momentum) instead of selecting; a tap still selects."""
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.LeftMouseButtonGesture)


def has_kinetic_scrolling(area: QAbstractScrollArea) -> bool:
    return QScroller.hasScroller(area.viewport())
