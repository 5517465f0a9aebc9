"""Property tests: no input makes `parse_payload` crash or dawdle, and good CCCD payloads always parse."""

from __future__ import annotations

import time
import unicodedata
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.credentials.base import Credential, ParseContext, ParseResult, Rejection
from kiosk.credentials.provinces import PROVINCES
from kiosk.credentials.registry import parse_payload
from kiosk.credentials.text import MAX_PAYLOAD_BYTES, decode_bytes, has_unsafe_chars

CTX = ParseContext(now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
FAST_SECONDS = 0.05  # one parse, generous for a slow CI machine; real ones take microseconds
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
name_word = st.text(alphabet=VIETNAMESE, min_size=1, max_size=8).map(str.capitalize)
names = st.lists(name_word, min_size=1, max_size=5).map(" ".join)
# Fields a hostile or broken code might carry: digits, dates, sex words, Vietnamese, controls, bidi, pipes.
field_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="0123456789*-", max_size=14),
    st.sampled_from(["", "Nam", "Nữ", "NU", "0", "1", "038095001234", "12031995", "1995-03-12", "\u202e", "\x00"]),
    names,
)


def check_result(result: ParseResult) -> None:
    """The contract: a Credential with printable text, or a Rejection that says why."""
    assert isinstance(result, (Credential, Rejection))
    if isinstance(result, Rejection):
        assert result.reason.strip() and result.code.strip() and result.kind.strip()
    else:
        assert result.id_number
        assert not has_unsafe_chars(result.full_name)
        for value in result.fields.values():
            if isinstance(value, str):
                assert not has_unsafe_chars(value)


def timed_parse(data: bytes, **kwargs: object) -> ParseResult:
    started = time.perf_counter()
    result = parse_payload(data, CTX, **kwargs)  # type: ignore[arg-type]
    assert time.perf_counter() - started < FAST_SECONDS
    return result


@PROPERTY
@given(st.binary(max_size=5000), st.booleans())
def test_random_bytes_never_crash(data: bytes, accept_opaque: bool) -> None:
    check_result(timed_parse(data, accept_opaque=accept_opaque))


@PROPERTY
@given(st.text(max_size=2000))
def test_random_text_never_crashes(text: str) -> None:
    check_result(timed_parse(text.encode("utf-8", "surrogatepass")))


@PROPERTY
@given(st.lists(field_text, min_size=0, max_size=12), st.sampled_from(["utf-8", "cp1258-ish", "latin-1"]))
def test_pipe_joined_fields_never_crash(fields: list[str], encoding: str) -> None:
    text = "|".join(fields)
    if encoding == "utf-8":
        data = text.encode("utf-8", "surrogatepass")
    else:
        data = text.encode("cp1258" if encoding == "cp1258-ish" else "latin-1", "replace")
    check_result(timed_parse(data))


@settings(max_examples=60, deadline=None)
@given(st.integers(MAX_PAYLOAD_BYTES + 1, 2_000_000), st.sampled_from([b"0", b"|", b"\xff", "Đ".encode()]))
def test_huge_payloads_refused_fast(size: int, unit: bytes) -> None:
    data = (unit * (size // len(unit) + 1))[:size]
    result = timed_parse(data)
    assert isinstance(result, Rejection) and result.code == "too_large"


@st.composite
def consistent_cccd(draw: st.DrawFn) -> tuple[str, str, date, str]:
    """A CCCD payload whose ID agrees with its date of birth and sex: (payload, name, dob, sex)."""
    dob = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 11, 25)))
    sex = draw(st.sampled_from(["M", "F"]))
    province = draw(st.sampled_from(sorted(PROVINCES)))
    digit = (dob.year // 100 - 19) * 2 + (sex == "F")
    serial = draw(st.integers(0, 999_999))
    id_number = f"{province}{digit}{dob.year % 100:02d}{serial:06d}"
    name = draw(names)
    old_id = draw(st.sampled_from(["", "173456789"]))
    sex_word = draw(st.sampled_from(["Nam", "NAM", "nam"] if sex == "M" else ["Nữ", "NỮ", "Nu"]))
    extra = draw(st.sampled_from([[], ["20042021"], ["20042021", "12032040"], ["20042021", "12032040", "x"]]))
    fields = [id_number, old_id, name, dob.strftime("%d%m%Y"), sex_word, "12 Lê Lợi, Thanh Hóa", *extra]
    return "|".join(fields), name, dob, sex


@PROPERTY
@given(consistent_cccd(), st.booleans())
def test_consistent_cccd_always_parses_without_mismatch(sample: tuple[str, str, date, str], nfd: bool) -> None:
    payload, name, dob, sex = sample
    text = unicodedata.normalize("NFD", payload) if nfd else payload
    result = timed_parse(text.encode("utf-8"))
    assert isinstance(result, Credential), result
    assert (result.kind, result.full_name, result.date_of_birth, result.sex) == ("cccd", name, dob, sex)
    assert "id_mismatch" not in result.warnings and "unknown_province" not in result.warnings


@PROPERTY
@given(consistent_cccd(), st.integers(0, 9))
def test_changed_century_digit_is_flagged(sample: tuple[str, str, date, str], digit: int) -> None:
    payload, _, _, _ = sample
    if payload[3] == str(digit):
        return
    result = timed_parse((payload[:3] + str(digit) + payload[4:]).encode())
    assert isinstance(result, Credential) and "id_mismatch" in result.warnings


@PROPERTY
@given(st.text(max_size=200).filter(lambda t: not t.startswith("\ufeff")))
def test_valid_utf8_always_decodes_to_itself(text: str) -> None:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates are not text
        return
    decoded = decode_bytes(data)
    assert decoded.encoding == "utf-8" and decoded.text == unicodedata.normalize("NFC", text)
