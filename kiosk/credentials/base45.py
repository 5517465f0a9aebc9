"""Base45 (RFC 9285): the encoding that fits binary data into a QR code's alphanumeric mode.

Written here rather than taken from PyPI: the algorithm is thirty lines, the PyPI packages (`base45`, last
release 2022; `b45`) are small single-maintainer projects, and the decoder must be strict in ways we test
(characters outside the alphabet, triplets above 65535, a dangling single character) because a lenient decoder
would accept altered codes.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUES = {c: i for i, c in enumerate(ALPHABET)}


class Base45Error(ValueError):
    """The text is not valid base45."""


def b45encode(data: bytes) -> str:
    """Encode bytes as base45 text (two bytes -> three characters, a last odd byte -> two)."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        c, d = data[-1] % 45, data[-1] // 45
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str | bytes) -> bytes:
    """Decode base45 text; raise Base45Error on anything RFC 9285 does not allow."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError as exc:
            raise Base45Error("non-ASCII character in base45 text") from exc
    if len(text) % 3 == 1:
        raise Base45Error("base45 text has a dangling character")
    try:
        values = [_VALUES[ch] for ch in text]
    except KeyError as exc:
        raise Base45Error(f"character {exc.args[0]!r} is not in the base45 alphabet") from None
    out = bytearray()
    for i in range(0, len(values) - 2, 3):
        n = values[i] + values[i + 1] * 45 + values[i + 2] * 45 * 45
        if n > 0xFFFF:
            raise Base45Error("base45 triplet exceeds 65535")
        out += n.to_bytes(2, "big")
    if len(values) % 3 == 2:
        n = values[-2] + values[-1] * 45
        if n > 0xFF:
            raise Base45Error("base45 final pair exceeds 255")
        out.append(n)
    return bytes(out)
