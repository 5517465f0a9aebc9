"""The QR on the chip-based citizen ID card (CCCD, 2021 onwards). See docs/formats.md.

`<12-digit ID>|<old 9-digit ID or empty>|<full name>|<dob ddmmyyyy>|<sex Nam/Nữ>|<address>|<issue date>[|...]`

Strict about what is certain (the ID is 12 digits, the date of birth is a real date in the past), tolerant
about what is not (field count 6 to 8+, the meaning of fields past the seventh). The ID number encodes
province, century, sex and birth year; disagreement with the printed fields is shown to the guard as a
warning ("id_mismatch"), not a rejection: it is a typo or a fake, and a person should decide.
"""

from __future__ import annotations

import re
from datetime import date

from kiosk.credentials.base import Credential, ParseContext, ParseResult, Rejection
from kiosk.credentials.provinces import province_name
from kiosk.credentials.text import InvalidUtf8, UndecodableText, clean_field, decode_bytes, fold, split_fields

KIND = "cccd"
MIN_FIELDS = 6
MAX_NAME_CHARS = 100
MAX_ADDRESS_CHARS = 300
MAX_OLD_ID_CHARS = 20
EARLIEST_BIRTH_YEAR = 1900  # the ID's century digit starts at the 1900s; earlier dates are typos

_ID_BYTES = re.compile(rb"[0-9]{12}")
_ID_TEXT = re.compile(r"[0-9]{12}")
_DATE8_BYTES = re.compile(rb"[0-9]{8}")
_DATE8_TEXT = re.compile(r"[0-9]{8}")
# PC-Covid's third field is a (possibly masked) YYYY-MM-DD date: such a payload is never ours.
_ISO_DATE_BYTES = re.compile(rb"[0-9*]{4}-[0-9*]{2}-[0-9*]{2}")

_SEX_WORDS = {"nam": "M", "nu": "F", "male": "M", "female": "F", "m": "M", "f": "F"}


class CccdFormat:
    """Citizen ID card QR: sniffed by shape, parsed and cross-checked."""

    kind = KIND

    def sniff(self, data: bytes) -> bool:
        """Looks like a CCCD payload: at least 3 of 4 shape signals, and not PC-Covid's date-third shape."""
        parts = [p.strip() for p in split_fields(data.strip(), limit=8)]
        if len(parts) < 4 or not parts[0] or len(parts[0]) > 64:
            return False
        if _ISO_DATE_BYTES.fullmatch(parts[2]):
            return False
        score = sum(
            (
                _ID_BYTES.fullmatch(parts[0]) is not None,
                parts[1] == b"" or parts[1].isdigit(),
                _DATE8_BYTES.fullmatch(parts[3]) is not None,
                len(parts) > 4 and parse_sex(parts[4].decode("utf-8", "replace")) is not None,
            )
        )
        return score >= 3

    def parse(self, data: bytes, context: ParseContext) -> ParseResult:
        return parse_cccd(data, context)


FORMAT = CccdFormat()


def _reject(reason: str, id_number: str = "", full_name: str = "") -> Rejection:
    return Rejection(kind=KIND, code="malformed", reason=reason, id_number=id_number, full_name=full_name)


def parse_ddmmyyyy(text: str) -> date | None:
    """A ddmmyyyy date, or None when the text is not exactly 8 digits forming a real date."""
    text = text.strip()
    if not _DATE8_TEXT.fullmatch(text):
        return None
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError:
        return None


def parse_sex(text: str) -> str | None:
    """'M', 'F' or None: accepts Nam / Nữ in any case, with or without diacritics (and Male / Female)."""
    return _SEX_WORDS.get(fold(text))


def parse_cccd(data: bytes, context: ParseContext) -> ParseResult:
    """Parse a citizen ID QR; never raises."""
    try:
        text = decode_bytes(data).text
    except InvalidUtf8:
        return _reject("Citizen ID QR is not valid UTF-8: a damaged or truncated character (rescan the card)")
    except UndecodableText:
        return _reject("Citizen ID QR is not readable text")
    parts = text.strip().split("|", 32)
    if len(parts) < MIN_FIELDS:
        return _reject(f"Citizen ID QR has too few fields ({len(parts)}; at least {MIN_FIELDS} expected)")
    id_number = parts[0].strip()
    if not _ID_TEXT.fullmatch(id_number):
        return _reject(_id_problem(id_number))
    name = clean_field(parts[2], MAX_NAME_CHARS)
    if not name.text:
        return _reject("Citizen ID QR has no name", id_number)
    if name.truncated:
        return _reject("Name on the citizen ID QR is too long", id_number)
    dob = parse_ddmmyyyy(parts[3])
    if dob is None:
        return _reject("Date of birth on the citizen ID QR is not a valid date (ddmmyyyy)", id_number, name.text)
    if dob > context.now.date():
        return _reject("Date of birth on the citizen ID QR is in the future", id_number, name.text)
    if dob.year < EARLIEST_BIRTH_YEAR:
        return _reject("Date of birth on the citizen ID QR is not plausible", id_number, name.text)
    return _build(parts, id_number, name.text, name.had_unsafe, dob, context)


def _id_problem(id_number: str) -> str:
    if not id_number:
        return "Citizen ID QR has no ID number"
    if not id_number.isascii() or not id_number.isdigit():
        return "Citizen ID number must contain digits only"
    return f"Citizen ID number must have 12 digits (this one has {len(id_number)})"


def _build(
    parts: list[str], id_number: str, name: str, name_unsafe: bool, dob: date, context: ParseContext
) -> Credential:
    warnings: list[str] = []
    fields: dict[str, object] = {"province_code": id_number[:3]}
    sex_text = parts[4].strip()
    sex = parse_sex(sex_text)
    if sex is None and sex_text:
        warnings.append("sex_unreadable")
    _add_text_fields(parts, fields, warnings, name_unsafe)
    _add_dates(parts, fields, warnings, dob, context)
    province = province_name(id_number[:3])
    if province is None:
        warnings.append("unknown_province")
    else:
        fields["province"] = province
    mismatches = check_id_consistency(id_number, dob, sex)
    if mismatches:
        warnings.append("id_mismatch")
        fields["mismatches"] = [code for code, _ in mismatches]
        fields["warnings_text"] = [explanation for _, explanation in mismatches]
    if len(parts) > 8:
        fields["extra_field_count"] = len(parts) - 8
    return Credential(
        kind=KIND,
        id_number=id_number,
        full_name=name,
        date_of_birth=dob,
        sex=sex,
        fields=fields,
        warnings=tuple(warnings),
    )


def _add_text_fields(parts: list[str], fields: dict[str, object], warnings: list[str], name_unsafe: bool) -> None:
    old_id = clean_field(parts[1], MAX_OLD_ID_CHARS)
    address = clean_field(parts[5], MAX_ADDRESS_CHARS)
    fields["old_id"] = old_id.text
    fields["address"] = address.text
    if name_unsafe or old_id.had_unsafe or address.had_unsafe:
        # Bidi overrides or control characters in a printed field: cleaned, and the guard is told.
        warnings.append("unsafe_text")
    if address.truncated:
        warnings.append("address_truncated")


def _add_dates(
    parts: list[str], fields: dict[str, object], warnings: list[str], dob: date, context: ParseContext
) -> None:
    today = context.now.date()
    if len(parts) > 6 and parts[6].strip():
        issued = parse_ddmmyyyy(parts[6])
        if issued is None or issued < dob or issued > today:
            warnings.append("issue_date_invalid")
        else:
            fields["issue_date"] = issued.isoformat()
    if len(parts) > 7:
        # Only some payloads carry an eighth field (an expiry date); when it is not a date we leave it alone.
        expiry = parse_ddmmyyyy(parts[7])
        if expiry is not None:
            fields["expiry_date"] = expiry.isoformat()
            if expiry < today:
                warnings.append("card_expired")


def check_id_consistency(id_number: str, dob: date, sex: str | None) -> list[tuple[str, str]]:
    """What the 12-digit ID says that the date of birth or the sex contradicts: [(code, explanation)].

    Digit 4 is century and sex (1900s: male 0, female 1; 2000s: 2/3; 2100s: 4/5; ...), digits 5-6 the last two
    digits of the birth year.
    """
    problems: list[tuple[str, str]] = []
    gender_digit = int(id_number[3])
    id_century = 1900 + (gender_digit // 2) * 100
    id_sex = "F" if gender_digit % 2 else "M"
    if dob.year // 100 * 100 != id_century:
        problems.append(
            ("century", f"ID number says born in the {id_century}s; date of birth says {dob.year // 100 * 100}s")
        )
    if id_number[4:6] != f"{dob.year % 100:02d}":
        problems.append(("birth_year", f"ID number says birth year ..{id_number[4:6]}; date of birth says {dob.year}"))
    if sex is not None and sex != id_sex:
        problems.append(("sex", f"ID number says {_sex_word(id_sex)}; card says {_sex_word(sex)}"))
    return problems


def _sex_word(sex: str) -> str:
    return "female" if sex == "F" else "male"
