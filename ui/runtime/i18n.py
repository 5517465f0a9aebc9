"""Run-time language switching with Qt's translation system: source strings are English, `vi` is the default.

Widgets translate their texts in `retranslate()`, which they call from `changeEvent(LanguageChange)`; Qt sends
that event to every widget when a translator is installed or removed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QLocale, QObject, QTranslator

log = logging.getLogger(__name__)
I18N_DIR = Path(__file__).resolve().parents[2] / "assets" / "i18n"
LANGUAGES = ("vi", "en")


class LanguageManager(QObject):
    """Holds the one installed translator; `set_language("en")` removes it (English is the source)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.language = "en"
        self._translator: QTranslator | None = None

    def set_language(self, language: str) -> bool:
        """Switch now; False (and English) when the compiled catalogue is missing."""
        app = QCoreApplication.instance()
        if self._translator is not None and app is not None:
            app.removeTranslator(self._translator)
            self._translator = None
        self.language = "en"
        if language == "en":
            _deliver_now()
            return True
        translator = QTranslator(self)
        if not translator.load(str(I18N_DIR / f"qr_checkpoint_{language}.qm")):
            log.warning("no translations for %s: run assets/i18n/build.sh", language)
            return False
        if app is not None:
            app.installTranslator(translator)
        self._translator = translator
        self.language = language
        QLocale.setDefault(QLocale(language))
        _deliver_now()
        return True

    def uninstall(self) -> None:
        """Remove this manager's translator from the application (a stopped station leaves no trace)."""
        app = QCoreApplication.instance()
        if self._translator is not None and app is not None:
            app.removeTranslator(self._translator)
        self._translator = None

    def toggle(self) -> str:
        self.set_language("en" if self.language == "vi" else "vi")
        return self.language


def _deliver_now() -> None:
    """Qt posts LanguageChange to every widget; deliver it now so the switch is complete when we return."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
