"""The national personal QR of the PC-Covid app (2021). See docs/formats.md: described by secondary sources only.

`<document number>|<FULL NAME, upper case, no diacritics>|<dob YYYY-MM-DD>|<type 0 self / 1 on behalf>|<QID>|<EXT>`

Unverified identity (nothing here is signed in a way we can check): parsed tolerantly, marked
`fields["verified"] = False` and warned "unverified", and venue policy decides. The document number and the
date of birth may be partly masked with `*`. EXT's health-insurance number and phone number are not kept:
the kiosk does not use them.
"""

from __future__ import annotations

import re
from datetime import date

from kiosk.credentials.base import Credential, ParseContext, ParseResult, Rejection, payload_digest
from kiosk.credentials.text import UndecodableText, clean_field, decode_bytes, split_fields

KIND = "pccovid"
MIN_FIELDS = 5
MAX_NAME_CHARS = 100
MAX_DOC_CHARS = 20
MAX_QID_CHARS = 64
EARLIEST_BIRTH_YEAR = 1900

_FULL_DATE_BYTES = re.compile(rb"[0-9*]{4}-[0-9*]{2}-[0-9*]{2}")
_PARTIAL_DATE_BYTES = re.compile(rb"[0-9*]{4}(-[0-9*]{2}(-[0-9*]{2})?)?")
_DATE_TEXT = re.compile(r"[0-9*]{4}(-[0-9*]{2}(-[0-9*]{2})?)?")
_DOC_TEXT = re.compile(r"[0-9A-Za-z*]+")


class PcCovidFormat:
    """PC-Covid personal QR: sniffed by its third field, a (masked) YYYY-MM-DD date."""

    kind = KIND

    def sniff(self, data: bytes) -> bool:
        parts = [p.strip() for p in split_fields(data.strip(), limit=8)]
        if len(parts) < MIN_FIELDS or not parts[0]:
            return False
        if _FULL_DATE_BYTES.fullmatch(parts[2]):
            return True
        # A year-only or empty date of birth, when the identifier-type field confirms the shape.
        return parts[3] in (b"0", b"1") and (parts[2] == b"" or _PARTIAL_DATE_BYTES.fullmatch(parts[2]) is not None)

    def parse(self, data: bytes, context: ParseContext) -> ParseResult:
        return parse_pccovid(data, context)


FORMAT = PcCovidFormat()


def _reject(reason: str, id_number: str = "", full_name: str = "") -> Rejection:
    return Rejection(kind=KIND, code="malformed", reason=reason, id_number=id_number, full_name=full_name)


def parse_pccovid(data: bytes, context: ParseContext) -> ParseResult:
    """Parse a PC-Covid personal QR; never raises."""
    try:
        text = decode_bytes(data).text
    except UndecodableText:
        return _reject("PC-Covid QR is not readable text")
    parts = [p.strip() for p in text.strip().split("|", 16)]
    if len(parts) < MIN_FIELDS:
        return _reject(f"PC-Covid QR has too few fields ({len(parts)}; at least {MIN_FIELDS} expected)")
    doc = parts[0]
    if not doc or len(doc) > MAX_DOC_CHARS or not _DOC_TEXT.fullmatch(doc) or not doc.isascii():
        return _reject("PC-Covid QR document number is missing or not a document number")
    name = clean_field(parts[1], MAX_NAME_CHARS)
    if not name.text or name.truncated:
        return _reject("PC-Covid QR name is missing or too long", _visible_id(doc))
    fields: dict[str, object] = {"verified": False, "document_number": doc}
    warnings: list[str] = ["unverified"]
    if name.had_unsafe:
        warnings.append("unsafe_text")
    dob, problem = _parse_dob(parts[2], fields, context)
    if problem:
        return _reject(problem, _visible_id(doc), name.text)
    _add_type_and_qid(parts, fields, warnings)
    if len(parts) > 5:
        _add_ext(parts[5], fields)
    id_number = _choose_id(doc, str(fields.get("qid", "")), warnings)
    # A masked number with no QID ("0380950*****") is shared by many people: key on the person's own fields.
    key = payload_digest(f"{doc}|{name.text}|{parts[2]}".encode()) if "id_masked" in warnings else ""
    return Credential(
        kind=KIND,
        id_number=id_number,
        key=f"pccovid:{key}" if key else "",
        full_name=name.text,
        date_of_birth=dob,
        fields=fields,
        warnings=tuple(warnings),
    )


def _visible_id(doc: str) -> str:
    return "" if "*" in doc else doc


def _parse_dob(text: str, fields: dict[str, object], context: ParseContext) -> tuple[date | None, str]:
    """(date of birth or None, rejection reason or ""). Masked or year-only dates are kept as text."""
    if not text:
        return None, ""
    if not _DATE_TEXT.fullmatch(text):
        return None, "PC-Covid QR date of birth is not a date (YYYY-MM-DD)"
    if "*" in text or len(text) < 10:
        fields["date_of_birth_text"] = text
        return None, ""
    try:
        dob = date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return None, "PC-Covid QR date of birth is not a valid date"
    if dob > context.now.date():
        return None, "PC-Covid QR date of birth is in the future"
    if dob.year < EARLIEST_BIRTH_YEAR:
        return None, "PC-Covid QR date of birth is not plausible"
    return dob, ""


def _add_type_and_qid(parts: list[str], fields: dict[str, object], warnings: list[str]) -> None:
    if parts[3] in ("0", "1"):
        fields["on_behalf"] = parts[3] == "1"  # 1: a QR made for someone else (a child, an elderly parent)
    else:
        warnings.append("identifier_type_unknown")
    qid = clean_field(parts[4], MAX_QID_CHARS)
    if qid.text:
        fields["qid"] = qid.text


def _add_ext(ext: str, fields: dict[str, object]) -> None:
    """EXT: proxy QID < sex < health insurance < phone < signature. Keep only what the kiosk may use."""
    extras = ext.split("<", 8)
    proxy = clean_field(extras[0], MAX_QID_CHARS).text
    if proxy:
        fields["proxy_qid"] = proxy
    if len(extras) > 1 and extras[1].strip() in ("0", "1", "2"):
        fields["sex_code"] = extras[1].strip()  # meaning of 0/1/2 unconfirmed: not mapped to M/F
    if len(extras) > 4:
        fields["signature_present"] = bool(extras[4].strip())


def _choose_id(doc: str, qid: str, warnings: list[str]) -> str:
    """The person key: the document number when whole (it matches the same person's CCCD), else the QID."""
    if "*" not in doc:
        return doc
    if qid:
        return f"qid:{qid}"
    warnings.append("id_masked")
    return doc
