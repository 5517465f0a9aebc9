"""What the kiosk may show of a person on a screen others can see, and how to make any text safe to show.

A check-in screen faces a queue: it shows enough for the visitor to recognise themselves ("Nguyễn V. A.",
"••••••••1234") and no more. All helpers accept any string, including empty and hostile ones.
"""

from __future__ import annotations

import unicodedata

from kiosk.credentials.text import clean_field

MASK = "•"
SHOWN_ID_DIGITS = 4
MIN_ID_LENGTH_TO_SHOW_TAIL = 8  # shorter ids would reveal too large a share of themselves
MAX_DISPLAY_CHARS = 200
ELLIPSIS = "…"


def sanitize_for_display(text: str, max_len: int = MAX_DISPLAY_CHARS) -> str:
    """NFC text without control, bidi or invisible characters, one line, at most `max_len` characters."""
    if not text:
        return ""
    cleaned = clean_field(text, max_len)
    if cleaned.truncated:
        return cleaned.text[: max(max_len - 1, 0)].rstrip() + ELLIPSIS
    return cleaned.text


def first_grapheme(word: str) -> str:
    """The first user-visible letter of an NFC word, with any combining marks that belong to it ("Ánh" -> "Á")."""
    if not word:
        return ""
    end = 1
    while end < len(word) and unicodedata.combining(word[end]):
        end += 1
    return word[:end]


def mask_name(name: str) -> str:
    """'Nguyễn Văn An' -> 'Nguyễn V. A.': the family name, then initials. A single word becomes its initial."""
    words = sanitize_for_display(name).split()
    if not words:
        return ""
    if len(words) == 1:
        return first_grapheme(words[0]) + "."
    return " ".join([words[0], *(first_grapheme(w) + "." for w in words[1:])])


def mask_id(id_number: str) -> str:
    """'038095001234' -> '••••••••1234': at most the last four characters shown; short ids fully masked."""
    visible = sanitize_for_display(id_number).replace(" ", "")
    if len(visible) < MIN_ID_LENGTH_TO_SHOW_TAIL:
        return MASK * len(visible)
    return MASK * (len(visible) - SHOWN_ID_DIGITS) + visible[-SHOWN_ID_DIGITS:]
