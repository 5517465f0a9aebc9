"""Payloads no format recognises: rejected with a hint by default, or kept as an opaque id when policy says so.

An accepted opaque payload is identified by its digest, never by its bytes: an unknown code may well carry
personal data (a name, a phone number) that the kiosk has no business storing.
"""

from __future__ import annotations

from kiosk.credentials.base import Credential, ParseResult, Rejection, payload_digest

KIND = "unknown"
MIN_OPAQUE_BYTES = 4  # shorter codes are too easy to collide or to make by accident

# What people show by mistake, so the guard can tell them what to show instead.
_HINTS: tuple[tuple[bytes, str], ...] = (
    (b"http://", "a web link"),
    (b"https://", "a web link"),
    (b"000201", "a payment (VietQR) code"),
    (b"wifi:", "a Wi-Fi code"),
    (b"begin:vcard", "a contact card"),
    (b"mecard:", "a contact card"),
)


def describe_unknown(data: bytes) -> str:
    """A short hint of what an unrecognised code seems to be, or "" when nothing is known."""
    head = data[:16].lstrip().lower()
    for prefix, hint in _HINTS:
        if head.startswith(prefix):
            return hint
    return ""


def parse_unknown(data: bytes, accept_opaque: bool = False) -> ParseResult:
    """The last resort: a Rejection ("unknown_format"), or an opaque Credential when `accept_opaque`."""
    if not data.strip():
        return Rejection(kind=KIND, code="unknown_format", reason="Empty QR code: nothing to read")
    hint = describe_unknown(data)
    if accept_opaque and not hint and len(data.strip()) >= MIN_OPAQUE_BYTES:
        return Credential(
            kind=KIND,
            # Stripped: a USB scanner's trailing newline must not make the same card a different person.
            id_number="opaque:" + payload_digest(data.strip()),
            fields={"payload_length": len(data), "verified": False},
            warnings=("unverified",),
        )
    detail = f" ({hint})" if hint else ""
    return Rejection(
        kind=KIND,
        code="unknown_format",
        reason=f"Unrecognised QR code{detail}: not a citizen ID, PC-Covid or check-in code",
    )
