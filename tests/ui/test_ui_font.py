"""Vietnamese type done right (issue 10, item 5): the station's font is Noto Sans (Debian fonts-noto-core), it has
a glyph for every character of every Vietnamese translation, and every Vietnamese letter, upper and lower case,
renders differently from every other letter, in regular and in bold (DejaVu Sans Bold draws Ủ like Ú)."""

from __future__ import annotations

import ast
import unicodedata

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont, QFontDatabase, QFontInfo, QImage, QPainter, QRawFont

from tests.support.paths import REPO_ROOT

BASE = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
TONED_VOWELS = "aăâeêioôơuưy"
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # level, huyền, sắc, hỏi, ngã, nặng


def vietnamese_letters() -> list[str]:
    """Every letter of the Vietnamese alphabet with every tone, composed (NFC), lower and upper case: 134 each."""
    lower = {unicodedata.normalize("NFC", v + tone) for v in TONED_VOWELS for tone in TONES} | set(BASE)
    return sorted(lower | {letter.upper() for letter in lower})


def translated_texts() -> list[str]:
    source = (REPO_ROOT / "assets" / "i18n" / "vi_translations.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    texts = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    assert len(texts) > 100  # the file was read, not an empty dict
    return texts


def station_font(bold: bool) -> QFont:
    from ui.app import make_application

    app = make_application()
    font = QFont(app.font())
    font.setBold(bold)
    font.setPixelSize(64)
    return font


def test_the_station_font_is_noto_sans() -> None:
    font = station_font(bold=False)
    assert "Noto Sans" in QFontDatabase.families(), "install fonts-noto-core (scripts/debian-packages.txt)"
    assert QFontInfo(font).family() == "Noto Sans"
    packages = (REPO_ROOT / "scripts" / "debian-packages.txt").read_text(encoding="utf-8").split()
    assert "fonts-noto-core" in packages


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_every_character_of_the_translations_has_a_glyph(bold: bool) -> None:
    raw = QRawFont.fromFont(station_font(bold))
    assert raw.isValid()
    characters = {c for text in translated_texts() for c in unicodedata.normalize("NFC", text) if not c.isspace()}
    assert "Ủ" in characters or "ủ" in characters  # Vietnamese text, not only ASCII
    # By code point: PySide6's str overload of supportsCharacter reads one Latin-1 byte and says "no" to "À".
    missing = sorted(c for c in characters if not raw.supportsCharacter(ord(c)))
    assert not missing, f"no glyph in {raw.familyName()} {raw.styleName()}: {missing}"


def render(letter: str, font: QFont) -> bytes:
    image = QImage(96, 128, QImage.Format.Format_Grayscale8)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(Qt.GlobalColor.black)
    painter.drawText(QPoint(12, 100), letter)
    painter.end()
    return bytes(image.constBits())


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
def test_every_vietnamese_letter_renders_distinctly(bold: bool) -> None:
    font = station_font(bold)
    raw = QRawFont.fromFont(font)
    letters = vietnamese_letters()
    assert len(letters) == 2 * (len(BASE) + len(TONED_VOWELS) * (len(TONES) - 1))
    assert all(raw.supportsCharacter(ord(letter)) for letter in letters)
    seen: dict[bytes, str] = {}
    same = []
    for letter in letters:
        picture = render(letter, font)
        if picture in seen:
            same.append((seen[picture], letter))
        seen.setdefault(picture, letter)
    assert not same, f"drawn identically in {QFontInfo(font).family()} {'bold' if bold else 'regular'}: {same}"


def test_the_check_can_fail_on_identical_letters() -> None:
    """The comparison sees a difference of one mark: Ú and Ủ differ in Noto Sans Bold, and a letter equals itself."""
    font = station_font(bold=True)
    assert render("Ú", font) != render("Ủ", font)
    assert render("Ủ", font) == render("Ủ", font)
