"""Accept / warn / reject sounds through QSoundEffect. No sound device or server: silently nothing."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QUrl

log = logging.getLogger(__name__)
SOUNDS_DIR = Path(__file__).resolve().parent.parent / "assets" / "sounds"
NAMES = ("accept", "warn", "reject")


class SoundPlayer(QObject):
    """Plays the named sound; never raises (a kiosk without speakers still works)."""

    def __init__(self, enabled: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self.played: list[str] = []  # what was asked for, in order (the status bar and tests read it)
        self._effects: dict[str, object] = {}
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
        self.played.append(name)
        effect = self._effects.get(name)
        if effect is None or not self.enabled:
            return
        try:
            effect.play()  # type: ignore[attr-defined]
        except RuntimeError as error:
            log.warning("could not play %s: %s", name, error)
