"""Accept / warn / reject sounds through QSoundEffect. No sound device or server: silently nothing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl, Signal

from ui.runtime.qt_compat import emit

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QSoundEffect

log = logging.getLogger(__name__)
SOUNDS_DIR = Path(__file__).resolve().parents[2] / "assets" / "sounds"
NAMES = ("accept", "warn", "reject")


class SoundPlayer(QObject):
    """Plays the named sound; never raises (a kiosk without speakers still works)."""

    played = Signal(str)  # every sound asked for, played or not (no device, sound off)

    def __init__(self, enabled: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self._effects: dict[str, QSoundEffect] = {}
        if enabled:
            self._load()

    def _load(self) -> None:
        try:
            from PySide6.QtMultimedia import QSoundEffect
        except ImportError as error:  # QtMultimedia or libpulse missing
            log.warning("sound disabled: %s", error)
            return
        for name in NAMES:
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(SOUNDS_DIR / f"{name}.wav")))
            effect.setVolume(0.9)
            self._effects[name] = effect

    def play(self, name: str) -> None:
        emit(self.played, name)
        effect = self._effects.get(name)
        if effect is None or not self.enabled:
            return
        try:
            effect.play()
        except RuntimeError as error:
            log.warning("could not play %s: %s", name, error)
