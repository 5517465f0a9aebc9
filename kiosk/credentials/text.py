"""Turning QR bytes into text a parser can trust and a screen can show.

QR codes carry bytes, not text (see docs/formats.md "Reading the bytes"): we decode UTF-8 ourselves and fall back
to the legacy encodings Vietnamese issuers have used (Windows-1258, then Latin-1) only when the result looks
like real text. Valid UTF-8 is never re-read as something else, so good input never becomes mojibake; and bytes that are UTF-8
with a damaged character are refused (`InvalidUtf8`) rather than re-read as a legacy encoding.

Sanitising removes what must never reach a screen or a log line raw: control characters, bidirectional
overrides and isolates (which can make "An" display as "nA" or hide text), zero-width characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# The largest payload any code we read can carry: a version-40 QR holds at most 4296 alphanumeric characters
# (base45 signed formats use that mode); every format we parse is far smaller. Anything bigger did not come
# from a QR code (a USB scanner typing a file, an attack) and is refused before any work is done on it.
MAX_PAYLOAD_BYTES = 4296

UTF8_BOM = b"\xef\xbb\xbf"

# Characters whose only job is to change how text around them is displayed (bidi controls) or to be invisible.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE RLE PDF LRO RLO
    "\u2066\u2067\u2068\u2069"  # LRI RLI FSI PDI
    "\u200e\u200f\u061c"  # LRM RLM ALM
)
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")

# Letters that only Vietnamese text in Windows-1258 produces (Latin-1 reads these bytes as other letters).
_CP1258_VIETNAMESE = frozenset("ăâđêôơưĂÂĐÊÔƠƯ\u0300\u0301\u0303\u0309\u0323")
_WHITESPACE_RUN = re.compile(r"\s+")


class UndecodableText(ValueError):
    """The bytes are not text in any encoding we accept."""


class InvalidUtf8(UndecodableText):
    """The bytes were written as UTF-8 (they hold a UTF-8 multi-byte start and its continuation) but are not
    valid UTF-8: a damaged or truncated character. Read as a legacy encoding they would become mojibake."""


# A UTF-8 lead byte followed by a continuation byte: how UTF-8 writes every non-ASCII character. Legacy
# Vietnamese text (Windows-1258) and Latin-1 names put a letter or a tone mark after a letter, never one of the
# symbols 0x80-0xBF stand for there, so this pair in bytes that fail as UTF-8 means broken UTF-8.
_UTF8_PAIR = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")


@dataclass(frozen=True)
class DecodedText:
    text: str  # NFC-normalised
    encoding: str  # "utf-8", "cp1258" or "latin-1"


@dataclass(frozen=True)
class CleanText:
    text: str
    had_unsafe: bool  # control, bidi or invisible characters were removed: flag it to the guard
    truncated: bool


def decode_bytes(data: bytes) -> DecodedText:
    """Decode QR bytes: UTF-8 (BOM stripped) first, then Windows-1258 or Latin-1 only if plausible; NFC."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    try:
        return DecodedText(_nfc(data.decode("utf-8")), "utf-8")
    except UnicodeDecodeError as exc:
        if _UTF8_PAIR.search(data):
            raise InvalidUtf8(f"not valid UTF-8 at byte {exc.start} (a damaged or truncated character)") from None
    text = _try_cp1258(data)
    if text is not None:
        return DecodedText(text, "cp1258")
    text = _try_latin1(data)
    if text is not None:
        return DecodedText(text, "latin-1")
    raise UndecodableText("not readable text (neither UTF-8 nor a known Vietnamese encoding)")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _try_cp1258(data: bytes) -> str | None:
    """Windows-1258 text, if the bytes decode and read as Vietnamese (tone marks sit on letters)."""
    try:
        raw = data.decode("cp1258")
    except UnicodeDecodeError:
        return None
    if _has_c0_or_c1(raw) or not any(ch in _CP1258_VIETNAMESE for ch in raw):
        return None
    for i, ch in enumerate(raw):
        # A combining tone mark must follow a letter; otherwise this is not Vietnamese text.
        if unicodedata.combining(ch) and (i == 0 or not raw[i - 1].isalpha()):
            return None
    return _nfc(raw)


def _try_latin1(data: bytes) -> str | None:
    """Latin-1 text, if it contains no control characters (binary data usually does)."""
    raw = data.decode("latin-1")
    if _has_c0_or_c1(raw):
        return None
    return _nfc(raw)


def _has_c0_or_c1(text: str) -> bool:
    return any((ord(ch) < 0x20 and ch not in "\t\r\n") or 0x7F <= ord(ch) <= 0x9F for ch in text)


def is_unsafe_char(ch: str) -> bool:
    """Control, format (bidi, zero-width), surrogate or private-use characters: never shown raw."""
    if ch in BIDI_CONTROLS or ch in _ZERO_WIDTH:
        return True
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co")


def has_unsafe_chars(text: str) -> bool:
    return any(is_unsafe_char(ch) for ch in text)


def clean_field(text: str, max_len: int) -> CleanText:
    """NFC, drop unsafe characters (control characters, tabs and newlines become spaces; invisible format
    characters such as direction overrides go), collapse spaces, cut to `max_len`."""
    text = _nfc(text)
    kept: list[str] = []
    had_unsafe = False
    for ch in text:
        if ch in "\t\r\n\u2028\u2029":
            kept.append(" ")
        elif is_unsafe_char(ch):
            had_unsafe = True
            if unicodedata.category(ch) == "Cc":  # a control character stood between words: keep them apart
                kept.append(" ")
        else:
            kept.append(ch)
    cleaned = _WHITESPACE_RUN.sub(" ", "".join(kept)).strip()
    truncated = len(cleaned) > max_len
    if truncated:
        cleaned = cleaned[:max_len].rstrip()
    return CleanText(cleaned, had_unsafe, truncated)


def fold(text: str) -> str:
    """Case- and diacritic-insensitive form for matching keywords ("Nữ", "NỮ", "nu" -> "nu")."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()


def split_fields(data: bytes, sep: bytes = b"|", limit: int = 32) -> list[bytes]:
    """Split on `sep` without building more than `limit` + 1 pieces (cheap on hostile input)."""
    return data.split(sep, limit)
