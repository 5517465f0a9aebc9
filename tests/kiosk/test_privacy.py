"""What the kiosk shows of a person: masked names and ids, and text made safe for a screen."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.credentials.text import has_unsafe_chars
from kiosk.privacy import MASK, first_grapheme, mask_id, mask_name, sanitize_for_display


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Nguyễn Văn An", "Nguyễn V. A."),
        ("Lê Thị Hạnh", "Lê T. H."),
        ("Trần Ánh", "Trần Á."),
        ("Phạm Thị Ngọc Ánh", "Phạm T. N. Á."),
        ("Đỗ Ưng Ơn", "Đỗ Ư. Ơ."),
        ("NGUYEN VAN AN", "NGUYEN V. A."),
        ("  Lê   Thị\tHạnh ", "Lê T. H."),
        ("An", "A."),
        ("Ánh", "Á."),
        ("", ""),
        ("   ", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_name_decomposed_input_gives_whole_letters() -> None:
    decomposed = unicodedata.normalize("NFD", "Trần Ánh Ợ")
    assert mask_name(decomposed) == "Trần Á. Ợ."


def test_first_grapheme_keeps_combining_marks_that_nfc_cannot_compose() -> None:
    assert first_grapheme("x\u0323\u0301yz") == "x\u0323\u0301"
    assert first_grapheme("") == ""


def test_mask_name_drops_bidi_overrides() -> None:
    masked = mask_name("Nguyễn \u202eVăn An\u202c")
    assert masked == "Nguyễn V. A."


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("038095001234", "••••••••1234"),
        ("B1234567", "••••4567"),
        ("1234567", "•••••••"),
        ("1234", "••••"),
        ("", ""),
        ("0380\u202e95001234", "••••••••1234"),
    ],
)
def test_mask_id(id_number: str, masked: str) -> None:
    assert mask_id(id_number) == masked


def test_sanitize_for_display() -> None:
    assert sanitize_for_display("Lê\x00 Thị\u202e\nHạnh") == "Lê Thị Hạnh"
    assert sanitize_for_display("") == ""
    long = sanitize_for_display("Đ" * 500, max_len=20)
    assert len(long) == 20 and long.endswith("…")


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_sanitize_never_returns_unsafe_or_long_text(text: str) -> None:
    shown = sanitize_for_display(text, max_len=50)
    assert not has_unsafe_chars(shown)
    assert len(shown) <= 50
    assert "\n" not in shown


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_mask_name_never_crashes_or_leaks_more_than_the_family_name(name: str) -> None:
    masked = mask_name(name)
    assert not has_unsafe_chars(masked)
    words = masked.split()
    # Every part but the family name is an initial: one grapheme and a dot.
    for word in words[1:] if len(words) > 1 else words:
        assert word.endswith(".") and len(first_grapheme(word)) == len(word) - 1


@settings(max_examples=300)
@given(st.text(max_size=64))
def test_mask_id_shows_at_most_four_characters(id_number: str) -> None:
    masked = mask_id(id_number)
    assert len(masked.replace(MASK, "")) <= 4
    assert not has_unsafe_chars(masked)
