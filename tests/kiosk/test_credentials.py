"""Credential formats without signatures (CCCD, PC-Covid, opaque), the registry and byte decoding."""

from __future__ import annotations

import logging
import time
import types
import unicodedata
from datetime import UTC, date, datetime

import numpy as np
import pytest
import qrcode
import zxingcpp

from kiosk.credentials.base import Credential, ParseContext, ParseResult, Rejection, payload_digest
from kiosk.credentials.cccd import FORMAT as CCCD
from kiosk.credentials.cccd import check_id_consistency, parse_sex
from kiosk.credentials.pccovid import FORMAT as PCCOVID
from kiosk.credentials.provinces import PROVINCES
from kiosk.credentials.registry import default_formats, formats_from_module, parse_payload
from kiosk.credentials.text import (
    MAX_PAYLOAD_BYTES,
    InvalidUtf8,
    UndecodableText,
    clean_field,
    decode_bytes,
    has_unsafe_chars,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CTX = ParseContext(now=NOW)

# Consistent: 038 Thanh Hóa, digit 4 = 1 (1900s, female), 95 = 1995.
HANH = "038195001234|173456789|Lê Thị Hạnh|12031995|Nữ|12 Lê Lợi, P. Điện Biên, TP. Thanh Hóa, Thanh Hóa|20042021"
# Consistent: 079 Hồ Chí Minh, digit 4 = 2 (2000s, male), 03 = 2003; no old ID.
KHOA = "079203004567||Trần Đăng Khoa|05092003|Nam|45 Nguyễn Huệ, Q.1, TP. Hồ Chí Minh|15062022"


def parse(text: str | bytes, **kwargs: object) -> ParseResult:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_payload(data, CTX, **kwargs)  # type: ignore[arg-type]


def expect_credential(result: ParseResult) -> Credential:
    assert isinstance(result, Credential), result
    return result


def expect_rejection(result: ParseResult, code: str) -> Rejection:
    assert isinstance(result, Rejection), result
    assert result.code == code, result
    assert result.reason.strip()
    return result


def qr_roundtrip(payload: bytes) -> bytes:
    """Encode with `qrcode` (byte mode), render, read back with zxing-cpp: the bytes a camera would give us."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
    code.add_data(payload)
    code.make(fit=True)
    image = np.array(code.make_image().get_image().convert("L"))
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(found) == 1
    return bytes(found[0].bytes)


def to_cp1258(text: str) -> bytes:
    """Windows-1258 bytes as a legacy Vietnamese issuer writes them: base letters plus separate tone marks."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in unicodedata.normalize("NFC", text):
        decomposed = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
        out.append(base + "".join(c for c in decomposed if c in tones))
    return "".join(out).encode("cp1258")


# --- CCCD: good payloads ---------------------------------------------------------------------------------


def test_cccd_seven_fields_parsed_exactly() -> None:
    cred = expect_credential(parse(HANH))
    assert cred.kind == "cccd"
    assert cred.id_number == "038195001234"
    assert cred.full_name == "Lê Thị Hạnh"
    assert cred.date_of_birth == date(1995, 3, 12)
    assert cred.sex == "F"
    assert cred.fields["old_id"] == "173456789"
    assert cred.fields["address"] == "12 Lê Lợi, P. Điện Biên, TP. Thanh Hóa, Thanh Hóa"
    assert cred.fields["issue_date"] == "2021-04-20"
    assert cred.fields["province"] == "Thanh Hóa"
    assert cred.warnings == ()


def test_cccd_empty_old_id_and_male() -> None:
    cred = expect_credential(parse(KHOA))
    assert (cred.full_name, cred.sex, cred.fields["old_id"]) == ("Trần Đăng Khoa", "M", "")
    assert cred.date_of_birth == date(2003, 9, 5)
    assert cred.warnings == ()


def test_cccd_end_to_end_through_a_real_qr_image() -> None:
    data = qr_roundtrip(HANH.encode("utf-8"))
    assert data == HANH.encode("utf-8")
    cred = expect_credential(parse_payload(data, CTX))
    assert cred.full_name == "Lê Thị Hạnh"
    assert cred.fields["address"].startswith("12 Lê Lợi")


def test_pccovid_end_to_end_through_a_real_qr_image() -> None:
    payload = b"001090012345|NGUYEN VAN AN|1990-07-21|0|Q0123456789|<1<<<"
    cred = expect_credential(parse_payload(qr_roundtrip(payload), CTX))
    assert (cred.kind, cred.id_number, cred.full_name) == ("pccovid", "001090012345", "NGUYEN VAN AN")


def test_cccd_six_fields_without_issue_date() -> None:
    cred = expect_credential(parse("|".join(KHOA.split("|")[:6])))
    assert "issue_date" not in cred.fields
    assert cred.fields["address"] == "45 Nguyễn Huệ, Q.1, TP. Hồ Chí Minh"


def test_cccd_eight_fields_expiry() -> None:
    cred = expect_credential(parse(KHOA + "|05092028"))
    assert cred.fields["expiry_date"] == "2028-09-05"
    assert "card_expired" not in cred.warnings


def test_cccd_eight_fields_expired_card_is_a_warning() -> None:
    cred = expect_credential(parse(KHOA + "|05092025"))
    assert "card_expired" in cred.warnings


def test_cccd_nine_fields_tolerated() -> None:
    cred = expect_credential(parse(KHOA + "|05092028|something new"))
    assert cred.fields["extra_field_count"] == 1
    assert cred.full_name == "Trần Đăng Khoa"


def test_cccd_eighth_field_not_a_date_is_left_alone() -> None:
    cred = expect_credential(parse(KHOA + "|Công an"))
    assert "expiry_date" not in cred.fields
    assert cred.warnings == ()


@pytest.mark.parametrize("word", ["Nam", "nam", "NAM", "Nữ", "NỮ", "nữ", "Nu", "NU", " Nữ "])
def test_sex_words(word: str) -> None:
    assert parse_sex(word) == ("M" if "a" in word.lower() else "F")


def test_decomposed_name_comes_out_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", HANH)
    cred = expect_credential(parse(decomposed))
    assert cred.full_name == "Lê Thị Hạnh"


def test_utf8_bom_and_trailing_newline() -> None:
    cred = expect_credential(parse(b"\xef\xbb\xbf" + HANH.encode() + b"\r\n"))
    assert cred.id_number == "038195001234"
    assert cred.fields["issue_date"] == "2021-04-20"


def test_cp1258_payload_decoded() -> None:
    data = to_cp1258(HANH)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    cred = expect_credential(parse(data))
    assert cred.full_name == "Lê Thị Hạnh"
    assert cred.fields["address"] == "12 Lê Lợi, P. Điện Biên, TP. Thanh Hóa, Thanh Hóa"


# --- CCCD: cross-checks ----------------------------------------------------------------------------------


def test_sex_mismatch_flagged_not_rejected() -> None:
    # docs/formats.md's synthetic example: digit 4 = 0 (male) but the card says Nữ.
    cred = expect_credential(
        parse("038095001234|173456789|Lê Thị Hạnh|12031995|Nữ|12 Lê Lợi, P. Điện Biên, TP. Thanh Hóa|20042021")
    )
    assert "id_mismatch" in cred.warnings
    assert cred.fields["mismatches"] == ["sex"]
    assert cred.fields["warnings_text"] and all(cred.fields["warnings_text"])


def test_birth_year_mismatch_flagged() -> None:
    cred = expect_credential(parse(KHOA.replace("05092003", "05092004")))
    assert "id_mismatch" in cred.warnings
    assert cred.fields["mismatches"] == ["birth_year"]


def test_century_mismatch_flagged() -> None:
    # Digit 4 = 0 says 1900s; the date of birth says 2003 (and digits 5-6 still say 03).
    cred = expect_credential(parse(KHOA.replace("079203004567", "079003004567")))
    assert cred.fields["mismatches"] == ["century"]


def test_all_three_mismatches() -> None:
    problems = check_id_consistency("001095001234", date(2004, 1, 1), "F")
    assert [code for code, _ in problems] == ["century", "birth_year", "sex"]


@pytest.mark.parametrize(
    ("digit", "year", "sex"),
    [("0", 1950, "M"), ("1", 1950, "F"), ("2", 2010, "M"), ("3", 2010, "F"), ("4", 2150, "M"), ("5", 2150, "F")],
)
def test_century_digit_table(digit: str, year: int, sex: str) -> None:
    id_number = f"001{digit}{year % 100:02d}000001"
    assert check_id_consistency(id_number, date(year, 6, 1), sex) == []
    other = "F" if sex == "M" else "M"
    assert [c for c, _ in check_id_consistency(id_number, date(year, 6, 1), other)] == ["sex"]


def test_unknown_province_is_a_warning() -> None:
    cred = expect_credential(parse(KHOA.replace("079203", "003203")))
    assert "unknown_province" in cred.warnings
    assert "province" not in cred.fields


def test_province_table_is_the_official_63() -> None:
    assert len(PROVINCES) == 63
    assert PROVINCES["001"] == "Hà Nội" and PROVINCES["079"] == "Hồ Chí Minh" and PROVINCES["096"] == "Cà Mau"
    assert all(len(code) == 3 and code.isdigit() and "001" <= code <= "096" for code in PROVINCES)
    assert "003" not in PROVINCES and "097" not in PROVINCES


def test_unreadable_sex_is_a_warning() -> None:
    cred = expect_credential(parse(KHOA.replace("|Nam|", "|X|")))
    assert cred.sex is None and "sex_unreadable" in cred.warnings


def test_empty_sex_checks_only_year_and_century() -> None:
    cred = expect_credential(parse(KHOA.replace("|Nam|", "||")))
    assert cred.sex is None and cred.warnings == ()


def test_bad_issue_date_is_a_warning() -> None:
    cred = expect_credential(parse(KHOA.replace("15062022", "31022022")))
    assert "issue_date_invalid" in cred.warnings and "issue_date" not in cred.fields


# --- CCCD: rejections ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (KHOA.replace("079203004567", "07920300456"), "12 digits"),
        (KHOA.replace("079203004567", "0792030045678"), "12 digits"),
        (KHOA.replace("079203004567", "07920300456A"), "digits only"),
        (KHOA.replace("079203004567", "０７９２０３００４５６７"), "digits only"),  # full-width digits
        (KHOA.replace("05092003", "32092003"), "not a valid date"),
        (KHOA.replace("05092003", "29022003"), "not a valid date"),
        (KHOA.replace("05092003", "0509203"), "not a valid date"),
        (KHOA.replace("05092003", "05092099"), "in the future"),
        (KHOA.replace("05092003", "05091899"), "not plausible"),
        (KHOA.replace("05092003", "05090001"), "not plausible"),
        (KHOA.replace("Trần Đăng Khoa", ""), "no name"),
        (KHOA.replace("Trần Đăng Khoa", "A" * 101), "too long"),
        ("|".join(KHOA.split("|")[:5]), "too few fields"),
    ],
)
def test_cccd_rejections(payload: str, words: str) -> None:
    rejection = expect_rejection(parse(payload), "malformed")
    assert rejection.kind == "cccd"
    assert words in rejection.reason


def test_cccd_rejection_reasons_carry_no_personal_data() -> None:
    rejection = expect_rejection(parse(KHOA.replace("05092003", "32092003")), "malformed")
    assert "32092003" not in rejection.reason and "Khoa" not in rejection.reason
    assert rejection.id_number == "079203004567"  # for the guard, in its own field


def test_leap_day_is_a_valid_birth_date() -> None:
    cred = expect_credential(parse("079300004567||Lê Văn Tư|29022000|Nam|addr|01012021"))
    assert cred.date_of_birth == date(2000, 2, 29)
    assert cred.fields["mismatches"] == ["sex"]  # digit 4 = 3: female


# --- sanitising names and addresses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "evil", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\x00", "\x1b[2J", "\u200b"]
)
def test_control_and_bidi_characters_are_removed_and_flagged(evil: str) -> None:
    cred = expect_credential(parse(KHOA.replace("Trần Đăng", f"Trần{evil} Đăng")))
    assert cred.full_name in ("Trần Đăng Khoa", "Trần [2J Đăng Khoa")  # a control character becomes a space
    assert not has_unsafe_chars(cred.full_name)
    assert "unsafe_text" in cred.warnings


def test_bidi_in_address_flagged() -> None:
    cred = expect_credential(parse(KHOA.replace("45 Nguyễn", "45 \u202eNguyễn")))
    assert "\u202e" not in cred.fields["address"]
    assert "unsafe_text" in cred.warnings


def test_long_address_truncated_with_warning() -> None:
    cred = expect_credential(parse(KHOA.replace("45 Nguyễn Huệ", "Đ" * 400)))
    assert len(cred.fields["address"]) == 300
    assert "address_truncated" in cred.warnings


def test_clean_field_collapses_whitespace_and_newlines() -> None:
    cleaned = clean_field("  Lê\tThị\r\nHạnh  ", 50)
    assert (cleaned.text, cleaned.had_unsafe, cleaned.truncated) == ("Lê Thị Hạnh", False, False)


# --- byte decoding ---------------------------------------------------------------------------------------


def test_valid_utf8_never_reinterpreted() -> None:
    text = "Nguyễn Thị Ánh Tuyết ƯƠ đ"
    assert decode_bytes(text.encode()).text == text
    assert decode_bytes(text.encode()).encoding == "utf-8"


def test_cp1258_chosen_for_vietnamese_legacy_bytes() -> None:
    decoded = decode_bytes(to_cp1258("Phạm Thị Ngọc Ánh"))
    assert (decoded.text, decoded.encoding) == ("Phạm Thị Ngọc Ánh", "cp1258")


def test_latin1_fallback_when_not_vietnamese() -> None:
    decoded = decode_bytes("José Müller".encode("latin-1"))
    assert (decoded.text, decoded.encoding) == ("José Müller", "latin-1")


def test_binary_is_not_text() -> None:
    with pytest.raises(UndecodableText):
        decode_bytes(b"\x00\x01\x02\xff\xfe\x80\x81")


def test_binary_cccd_shaped_payload_rejected_as_malformed() -> None:
    result = parse(b"079203004567||\x81\x00\xff|05092003|Nam|addr|15062022")
    rejection = expect_rejection(result, "malformed")
    assert rejection.kind == "cccd" and "readable text" in rejection.reason


# --- PC-Covid --------------------------------------------------------------------------------------------


def test_pccovid_full() -> None:
    cred = expect_credential(
        parse("079203004567|TRAN DANG KHOA|2003-09-05|0|Q9988776655|<1<HS4010123456789<0909123456<MEUCIQ")
    )
    assert (cred.kind, cred.id_number, cred.full_name) == ("pccovid", "079203004567", "TRAN DANG KHOA")
    assert cred.date_of_birth == date(2003, 9, 5)
    assert cred.fields["verified"] is False
    assert cred.fields["on_behalf"] is False
    assert cred.fields["qid"] == "Q9988776655"
    assert cred.fields["sex_code"] == "1"
    assert cred.fields["signature_present"] is True
    assert "unverified" in cred.warnings
    # The kiosk keeps neither the health-insurance number nor the phone number.
    assert "0909123456" not in repr(cred.fields) and "HS4010123456789" not in repr(cred.fields)


def test_pccovid_masked_document_and_dob() -> None:
    cred = expect_credential(parse("0792*****567|TRAN DANG KHOA|****-09-05|1|Q9988776655|"))
    assert cred.date_of_birth is None
    assert cred.fields["date_of_birth_text"] == "****-09-05"
    assert cred.fields["document_number"] == "0792*****567"
    assert cred.id_number == "qid:Q9988776655"
    assert cred.fields["on_behalf"] is True


def test_pccovid_masked_document_without_qid() -> None:
    cred = expect_credential(parse("0792*****567|TRAN DANG KHOA|2003-09-05|0|"))
    assert cred.id_number == "0792*****567" and "id_masked" in cred.warnings


def test_pccovid_five_fields_and_year_only() -> None:
    cred = expect_credential(parse("B1234567|NGUYEN THI MAI|1950|0|Q1"))
    assert cred.kind == "pccovid" and cred.date_of_birth is None
    assert cred.fields["date_of_birth_text"] == "1950"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("079203004567|TRAN DANG KHOA|2003-02-30|0|Q1|", "not a valid date"),
        ("079203004567|TRAN DANG KHOA|2099-02-03|0|Q1|", "in the future"),
        ("079203004567|TRAN DANG KHOA|1850-02-03|0|Q1|", "not plausible"),
        ("079203004567||2003-02-03|0|Q1|", "name is missing"),
        ("07920 3004567|TRAN DANG KHOA|2003-02-03|0|Q1|", "document number"),
    ],
)
def test_pccovid_rejections(payload: str, words: str) -> None:
    rejection = expect_rejection(parse(payload), "malformed")
    assert rejection.kind == "pccovid" and words in rejection.reason


def test_sniffs_do_not_overlap() -> None:
    cccd_payloads = [HANH, KHOA, KHOA + "|05092028", "|".join(KHOA.split("|")[:6])]
    pccovid_payloads = ["079203004567|TRAN DANG KHOA|2003-09-05|0|Q1|<1<<<", "0792*****567|A B|****-**-**|1|Q"]
    for payload in cccd_payloads:
        assert CCCD.sniff(payload.encode()) and not PCCOVID.sniff(payload.encode())
    for payload in pccovid_payloads:
        assert PCCOVID.sniff(payload.encode()) and not CCCD.sniff(payload.encode())


# --- unknown and opaque ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "hint"),
    [
        (b"https://tokhaiyte.vn/abc", "web link"),
        (b"00020101021238570010A000000727", "VietQR"),
        (b"WIFI:S:cafe;T:WPA;P:secret;;", "Wi-Fi"),
        (b"hello world", ""),
        (b"", "Empty"),
    ],
)
def test_unknown_rejected_with_hint(payload: bytes, hint: str) -> None:
    rejection = expect_rejection(parse(payload), "unknown_format")
    assert rejection.kind == "unknown" and hint in rejection.reason


def test_opaque_accepted_by_policy_is_identified_by_digest_only() -> None:
    payload = b"MEMBER-CARD 0909123456 Nguyen Van An"
    cred = expect_credential(parse(payload, accept_opaque=True))
    assert cred.kind == "unknown"
    assert cred.id_number == "opaque:" + payload_digest(payload)
    assert "0909123456" not in repr(cred) and "Nguyen" not in repr(cred)
    # The same card read by a USB scanner (trailing newline) is the same person.
    assert expect_credential(parse(payload + b"\r\n", accept_opaque=True)).id_number == cred.id_number


def test_opaque_policy_still_rejects_empty_and_payment_codes() -> None:
    expect_rejection(parse(b"   ", accept_opaque=True), "unknown_format")
    expect_rejection(parse(b"000201010212", accept_opaque=True), "unknown_format")


# --- registry --------------------------------------------------------------------------------------------


def test_huge_payload_rejected_quickly_before_any_parsing() -> None:
    payload = ("079203004567||" + "Đ" * 60_000 + "|05092003|Nam|addr|15062022").encode()
    started = time.perf_counter()
    rejection = expect_rejection(parse(payload), "too_large")
    assert time.perf_counter() - started < 0.01
    assert "payload too large" in rejection.reason


def test_size_limit_boundary() -> None:
    expect_rejection(parse(b"x" * MAX_PAYLOAD_BYTES), "unknown_format")
    expect_rejection(parse(b"x" * (MAX_PAYLOAD_BYTES + 1)), "too_large")
    expect_rejection(parse(b"x" * 100, max_bytes=99), "too_large")


def test_text_input_from_keyboard_scanner_accepted() -> None:
    assert expect_credential(parse_payload(KHOA, CTX)).full_name == "Trần Đăng Khoa"  # type: ignore[arg-type]
    assert expect_credential(parse_payload(bytearray(KHOA.encode()), CTX)).kind == "cccd"


def test_non_bytes_is_a_caller_bug() -> None:
    with pytest.raises(TypeError):
        parse_payload(5, CTX)  # type: ignore[arg-type]


def test_default_formats_include_ours_and_any_signed_format_present() -> None:
    kinds = [fmt.kind for fmt in default_formats()]
    assert kinds[-2:] == ["cccd", "pccovid"]
    assert set(kinds) <= {"personal", "dcc", "cccd", "pccovid"}


class _BrokenFormat:
    kind = "broken"

    def sniff(self, data: bytes) -> bool:
        return data.startswith(b"BRK:")

    def parse(self, data: bytes, context: ParseContext) -> ParseResult:
        raise ZeroDivisionError(data.decode())


class _BrokenSniff:
    kind = "badsniff"

    def sniff(self, data: bytes) -> bool:
        raise KeyError("x")

    def parse(self, data: bytes, context: ParseContext) -> ParseResult:
        raise AssertionError("never reached")


def test_parser_exception_becomes_rejection_and_logs_no_payload(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="kiosk.credentials.registry")
    result = parse("BRK:Nguyễn Văn An 079203004567", formats=[_BrokenSniff(), _BrokenFormat(), CCCD])
    rejection = expect_rejection(result, "malformed")
    assert rejection.kind == "broken"
    assert "ZeroDivisionError" in caplog.text and "KeyError" in caplog.text
    assert "079203004567" not in caplog.text and "Nguy" not in caplog.text


def test_sniff_exception_does_not_hide_later_formats() -> None:
    assert expect_credential(parse(KHOA, formats=[_BrokenSniff(), CCCD])).kind == "cccd"


def test_first_matching_format_wins_and_custom_formats_plug_in() -> None:
    class Prefixed:
        kind = "personal"

        def sniff(self, data: bytes) -> bool:
            return data.startswith(b"QC1:")

        def parse(self, data: bytes, context: ParseContext) -> ParseResult:
            return Credential(kind="personal", id_number=data[4:].decode())

    formats = [Prefixed(), *default_formats()]
    assert expect_credential(parse(b"QC1:p-42", formats=formats)).id_number == "p-42"
    assert expect_credential(parse(KHOA, formats=formats)).kind == "cccd"


def test_formats_from_module_conventions() -> None:
    class SignedFormat:
        kind = "signed"

        def sniff(self, data: bytes) -> bool:
            return False

        def parse(self, data: bytes, context: ParseContext) -> ParseResult:
            return Rejection(kind="signed", code="malformed", reason="never")

    by_instance = types.ModuleType("m1")
    by_instance.FORMAT = CCCD  # type: ignore[attr-defined]
    assert formats_from_module(by_instance) == [CCCD]
    by_class = types.ModuleType("m2")
    SignedFormat.__module__ = "m2"
    by_class.SignedFormat = SignedFormat  # type: ignore[attr-defined]
    assert [f.kind for f in formats_from_module(by_class)] == ["signed"]
    assert formats_from_module(types.ModuleType("empty")) == []


def test_masked_pccovid_numbers_without_qid_do_not_merge_two_people():
    from datetime import UTC, datetime

    from kiosk.credentials.base import ParseContext
    from kiosk.credentials.registry import parse_payload

    context = ParseContext(now=datetime(2026, 11, 25, tzinfo=UTC))
    first = parse_payload(b"0380950*****|NGUYEN VAN A|1995-**-**|0||", context)
    second = parse_payload(b"0380950*****|TRAN THI B|1995-**-**|0||", context)
    again = parse_payload(b"0380950*****|NGUYEN VAN A|1995-**-**|0||", context)
    assert first.kind == second.kind == "pccovid"
    assert first.person_key != second.person_key
    assert first.person_key == again.person_key
    assert "*" not in first.person_key and first.id_number == "0380950*****"


def test_a_control_character_between_words_does_not_glue_them() -> None:
    cred = expect_credential(parse(KHOA.replace("Trần Đăng", "Trần\x07Đăng")))
    assert cred.full_name == "Trần Đăng Khoa" and "unsafe_text" in cred.warnings


def test_cccd_name_with_invalid_utf8_is_rejected_with_a_reason() -> None:
    """Issue 11 #9: a truncated UTF-8 character in the name was read as Latin-1 mojibake ("Nguyá»n")."""
    good = "079095001234||Nguyễn Văn An|01011995|Nam|12 Lê Lợi|20042021".encode()
    broken = good.replace("ễ".encode(), "ễ".encode()[:2])  # the last byte of "ễ" lost
    result = parse_payload(broken, CTX)
    assert isinstance(result, Rejection) and result.code == "malformed"
    assert "UTF-8" in result.reason
    assert isinstance(parse_payload(good, CTX), Credential)
    with pytest.raises(InvalidUtf8):
        decode_bytes(b"Nguy\xe1\xbbn")
    # Legacy encodings real issuers used still read.
    assert decode_bytes(to_cp1258("Phạm Thị Ngọc Ánh")).encoding == "cp1258"
    assert decode_bytes("José Müller".encode("latin-1")).encoding == "latin-1"
