"""Our signed personal QR: issue, print as a real QR image, read back, verify offline; every way it must fail."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cbor2
import numpy as np
import pytest
import qrcode
import zxingcpp
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kiosk.credentials import personal, trust
from kiosk.credentials.base import Credential, ParseContext, Rejection, TrustMaterial
from kiosk.credentials.base45 import b45decode, b45encode
from kiosk.credentials.personal_sign import MAX_QR_CHARS, issue_personal_qr
from kiosk.credentials.registry import parse_payload
from kiosk.credentials.verdict import verification_rejection

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
LONG_NAME = "Tôn Nữ Hoàng Ngọc Bảo Quỳnh Hương Nguyễn Phước"


@pytest.fixture(scope="module")
def key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def _trust(*pairs: tuple[str, ed25519.Ed25519PrivateKey], revoked: frozenset[str] = frozenset()) -> TrustMaterial:
    return TrustMaterial(personal_keys={kid: k.public_key() for kid, k in pairs}, revoked_personal_ids=revoked)


def _issue(
    key: ed25519.Ed25519PrivateKey,
    kid: str = "k1",
    person: str = "P7F3K9Q2M4X8",
    name: str = "Lê Thị Hạnh",
    days: int = 30,
    symptoms: bool | None = False,
) -> str:
    declared = NOW - timedelta(hours=2) if symptoms is not None else None
    return issue_personal_qr(key, kid, person, name, NOW + timedelta(days=days), declared, symptoms)


def _parse(text: str | bytes, material: TrustMaterial, now: datetime = NOW) -> Credential | Rejection:
    data = text.encode("ascii") if isinstance(text, str) else text
    return personal.FORMAT.parse(data, ParseContext(now=now, trust=material))


def _code(result: Credential | Rejection) -> str | None:
    """The station's refusal code, or None when it would be accepted."""
    if isinstance(result, Rejection):
        return result.code
    rejection = verification_rejection(result)
    return rejection.code if rejection else None


def test_round_trip(key: ed25519.Ed25519PrivateKey) -> None:
    result = _parse(_issue(key), _trust(("k1", key)))
    assert isinstance(result, Credential)
    assert (result.kind, result.id_number, result.full_name) == ("personal", "P7F3K9Q2M4X8", "Lê Thị Hạnh")
    assert result.expires_at == NOW + timedelta(days=30)
    assert result.declaration is not None and result.declaration.symptoms is False
    assert result.declaration.declared_at == NOW - timedelta(hours=2)
    assert result.verification is not None
    assert (result.verification.signature, result.verification.expired, result.verification.revoked) == (
        "valid",
        False,
        False,
    )
    assert _code(result) is None


def test_without_declaration_and_with_symptoms(key: ed25519.Ed25519PrivateKey) -> None:
    plain = _parse(_issue(key, symptoms=None), _trust(("k1", key)))
    assert isinstance(plain, Credential) and plain.declaration is None and _code(plain) is None
    sick = _parse(_issue(key, symptoms=True), _trust(("k1", key)))
    assert isinstance(sick, Credential) and sick.declaration is not None and sick.declaration.symptoms is True


def test_real_qr_image_is_small_and_reads_back(key: ed25519.Ed25519PrivateKey) -> None:
    text = _issue(key, kid="k2026-11", person="P" + "7" * 15, name=LONG_NAME)
    assert len(text) <= MAX_QR_CHARS
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    assert qr.version <= 10
    image = np.array(qr.make_image().convert("L"))
    read = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in read] == [text]
    result = _parse(read[0].bytes, _trust(("k2026-11", key)))
    assert isinstance(result, Credential) and result.full_name == LONG_NAME and _code(result) is None


def test_overlong_name_is_shortened_to_stay_at_version_10(key: ed25519.Ed25519PrivateKey) -> None:
    name = " ".join([LONG_NAME] * 4)
    text = issue_personal_qr(key, "k" * 16, "P" * 40, name, NOW + timedelta(days=1), NOW, False)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    assert qr.version <= 10
    result = _parse(text, _trust(("k" * 16, key)))
    assert isinstance(result, Credential) and name.startswith(result.full_name) and len(result.full_name) > 20


def _flip(text: str, bit: int) -> str:
    raw = bytearray(b45decode(text[4:]))
    raw[bit // 8] ^= 1 << (bit % 8)
    return text[:4] + b45encode(bytes(raw))


def test_every_single_bit_flip_is_rejected(key: ed25519.Ed25519PrivateKey) -> None:
    text = _issue(key)
    material = _trust(("k1", key))
    nbits = len(b45decode(text[4:])) * 8
    codes = {bit: _code(_parse(_flip(text, bit), material)) for bit in range(nbits)}
    accepted = [bit for bit, code in codes.items() if code is None]
    assert accepted == []
    signature_start = (len(b45decode(text[4:])) - 64) * 8
    assert codes[signature_start + 5] == "bad_signature"  # a flip in the signature
    assert set(codes.values()) <= {"bad_signature", "malformed", "unknown_key"}


def test_name_swapped_by_a_forger_fails(key: ed25519.Ed25519PrivateKey) -> None:
    text = _issue(key)
    body, signature = cbor2.loads(b45decode(text[4:]))
    fields = cbor2.loads(body)
    fields[3] = "Kẻ Giả Mạo"
    forged = "QC1:" + b45encode(cbor2.dumps([cbor2.dumps(fields), signature]))
    assert _code(_parse(forged, _trust(("k1", key)))) == "bad_signature"


def test_forged_with_another_key_under_a_known_kid(key: ed25519.Ed25519PrivateKey) -> None:
    attacker = ed25519.Ed25519PrivateKey.generate()
    result = _parse(_issue(attacker, kid="k1"), _trust(("k1", key)))
    assert isinstance(result, Credential) and result.verification is not None
    assert result.verification.signature == "invalid"
    assert _code(result) == "bad_signature"


def test_expired(key: ed25519.Ed25519PrivateKey) -> None:
    text = _issue(key, days=1)
    assert _code(_parse(text, _trust(("k1", key)), now=NOW + timedelta(hours=23))) is None
    late = _parse(text, _trust(("k1", key)), now=NOW + timedelta(days=1, seconds=1))
    assert isinstance(late, Credential) and late.verification is not None and late.verification.expired is True
    assert _code(late) == "expired"


def test_revoked(key: ed25519.Ed25519PrivateKey) -> None:
    result = _parse(_issue(key), _trust(("k1", key), revoked=frozenset({"P7F3K9Q2M4X8"})))
    assert isinstance(result, Credential) and result.verification is not None and result.verification.revoked
    assert _code(result) == "revoked"
    other = _parse(_issue(key, person="P0000000001"), _trust(("k1", key), revoked=frozenset({"P7F3K9Q2M4X8"})))
    assert _code(other) is None


def test_unknown_key(key: ed25519.Ed25519PrivateKey) -> None:
    stranger = ed25519.Ed25519PrivateKey.generate()
    result = _parse(_issue(stranger, kid="k9"), _trust(("k1", key)))
    assert isinstance(result, Credential) and result.verification is not None
    assert result.verification.signature == "unknown_key"
    assert _code(result) == "unknown_key"
    assert _code(_parse(_issue(key), TrustMaterial())) == "unknown_key"


def _keys_file(tmp_path: Path, entries: list[dict[str, str]]) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": entries}))
    return path


def _entry(kid: str, k: ed25519.Ed25519PrivateKey, status: str) -> dict[str, str]:
    raw = k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kid": kid, "alg": "Ed25519", "public_key": base64.b64encode(raw).decode(), "status": status}


def test_key_rotation_through_the_published_files(tmp_path: Path) -> None:
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    old_code, new_code = _issue(old, kid="k1"), _issue(new, kid="k2")
    before = trust.load_personal_keys(_keys_file(tmp_path, [_entry("k1", old, "active")]))
    assert _code(_parse(old_code, before)) is None
    assert _code(_parse(new_code, before)) == "unknown_key"
    # Rotated: k2 signs, k1 still published for verification only -> both codes valid.
    rotated = trust.load_personal_keys(
        _keys_file(tmp_path, [_entry("k1", old, "retired"), _entry("k2", new, "active")])
    )
    assert _code(_parse(old_code, rotated)) is None
    assert _code(_parse(new_code, rotated)) is None
    # k1 withdrawn: no longer published, or revoked as a key -> its codes stop verifying.
    dropped = trust.load_personal_keys(_keys_file(tmp_path, [_entry("k2", new, "active")]))
    assert _code(_parse(old_code, dropped)) == "unknown_key"
    revocations = tmp_path / "revocations.json"
    revocations.write_text(json.dumps({"revocations": [{"kind": "key", "value": "k1", "revoked_at": None}]}))
    merged = trust.merge(rotated, trust.load_revocations(revocations))
    assert _code(_parse(old_code, merged)) == "unknown_key"
    assert _code(_parse(new_code, merged)) is None
    marked = trust.load_personal_keys(_keys_file(tmp_path, [_entry("k1", old, "revoked"), _entry("k2", new, "active")]))
    assert _code(_parse(old_code, marked)) == "unknown_key"


def test_person_revocations_file(tmp_path: Path, key: ed25519.Ed25519PrivateKey) -> None:
    path = tmp_path / "revocations.json"
    path.write_text(json.dumps({"revocations": [{"kind": "person", "value": "P7F3K9Q2M4X8"}, 12, "P55"]}))
    material = trust.merge(_trust(("k1", key)), trust.load_revocations(path))
    assert material.revoked_personal_ids == frozenset({"P7F3K9Q2M4X8", "P55"})
    assert _code(_parse(_issue(key), material)) == "revoked"


def test_ecdsa_p256_keys_work_too(tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    text = issue_personal_qr(ec_key, "e1", "P1", "Trần Văn Bình", NOW + timedelta(days=1))
    spki = ec_key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    entries = [{"kid": "e1", "alg": "ES256", "public_key": base64.b64encode(spki).decode(), "status": "active"}]
    material = trust.load_personal_keys(_keys_file(tmp_path, entries))
    assert _code(_parse(text, material)) is None


def test_bad_key_entries_are_skipped_with_a_warning(
    tmp_path: Path, key: ed25519.Ed25519PrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    entries = [
        {"kid": "bad", "alg": "Ed25519", "public_key": "!!notbase64"},
        {"alg": "Ed25519"},
        _entry("k1", key, "active"),
    ]
    with caplog.at_level(logging.WARNING):
        material = trust.load_personal_keys(_keys_file(tmp_path, entries))
    assert list(material.personal_keys) == ["k1"]
    assert "skipped" in caplog.text


def test_the_registry_routes_qc1_codes_here(key: ed25519.Ed25519PrivateKey) -> None:
    result = parse_payload(_issue(key).encode(), ParseContext(now=NOW, trust=_trust(("k1", key))))
    assert isinstance(result, Credential) and result.kind == "personal"


@pytest.mark.parametrize(
    "text",
    [
        "QC1:",
        "QC1:%%%",
        "QC1:0",
        "QC1:" + b45encode(cbor2.dumps([b"", b""])),
        "QC1:" + b45encode(cbor2.dumps([cbor2.dumps([2, "k", "p", "n", 1, None, None]), bytes(64)])),
    ],
)
def test_malformed_codes_are_rejected_with_a_reason(text: str) -> None:
    result = _parse(text, TrustMaterial())
    assert isinstance(result, Rejection) and result.code == "malformed" and result.reason
